//! `sde repl` driven without a terminal: a golden transcript of a realistic
//! session, error recovery, redefinition, derivatives checked against finite
//! differences, runs, plots, piped input, and the runtime's cancellation hook.
//!
//! `SDELANG_BLESS=1 cargo test --test repl` rewrites the golden transcript.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sdelang-repl-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn sde() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sde"));
    cmd.current_dir(root()).env("NO_COLOR", "1");
    cmd
}

/// Runs `sde repl --script` on `script` with extra arguments.
fn script(name: &str, script: &str, extra: &[&str]) -> Output {
    let path = temp_dir(name).join("script.txt");
    std::fs::write(&path, script).unwrap();
    let mut cmd = sde();
    cmd.arg("repl").arg("--script").arg(&path).args(extra);
    cmd.output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Masks what changes from run to run: wall times and the output directory.
fn normalize(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.starts_with("wall time") {
                "wall time   <time>".to_string()
            } else if l.starts_with("output: ") {
                "output: <dir>".to_string()
            } else {
                l.trim_end().to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

#[test]
fn transcript_matches_golden() {
    let dir = root().join("tests/golden/repl");
    let input = dir.join("session.in");
    let expected_path = dir.join("session.txt");
    let out = sde()
        .arg("repl")
        .arg("--script")
        .arg(&input)
        .arg("--echo")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let got = normalize(&stdout(&out));
    if std::env::var_os("SDELANG_BLESS").is_some() {
        std::fs::write(&expected_path, &got).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
    if got != expected {
        for (k, (g, e)) in got.lines().zip(expected.lines()).enumerate() {
            if g != e {
                panic!(
                    "transcript differs at line {}:\n  got:      {g}\n  expected: {e}\n\
                     (SDELANG_BLESS=1 cargo test --test repl rewrites it)\n\nfull output:\n{got}",
                    k + 1
                );
            }
        }
        panic!("transcript length differs:\n{got}");
    }
}

#[test]
fn errors_do_not_end_the_session() {
    let text = "param a = \nparam b = 2 +* 3\nnosuch(1)\n:nosuch\nmodel m { state x: real energy U = y }\nparam b = 3\nb * 2\n";
    let out = script("errors", text, &[]);
    assert!(out.status.success(), "{out:?}");
    let s = stdout(&out);
    for code in ["E0001", "E0104", "E0101"] {
        assert!(s.contains(&format!("[{code}]")), "{code} missing:\n{s}");
    }
    assert!(s.contains("unknown command `:nosuch`"), "{s}");
    assert!(s.contains("(not defined: the session is unchanged)"), "{s}");
    assert!(s.trim_end().ends_with("6"), "{s}");
    // An unfinished line continues on the next one, and diagnostics point into
    // the input just typed: input 1 is the first two lines.
    assert!(s.contains("<input 1>:2:14"), "{s}");
    assert!(s.contains("<input 4>:1:36"), "{s}");
}

#[test]
fn strict_mode_stops_at_the_first_error() {
    let out = script("strict", "1 +* 2\n40 + 2\n", &["--strict"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(!stdout(&out).contains("42"));
}

#[test]
fn unfinished_input_at_the_end_is_an_error() {
    let out = script("eof", "model m {\n  state x: real\n", &[]);
    assert!(stdout(&out).contains("[E0002]"), "{out:?}");
}

#[test]
fn piped_input_works() {
    let mut child = sde()
        .arg("repl")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"param n = 3\nlet v = linspace(1, n, n)\nsum(v) * 2\ndot(v, v)\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(stdout(&out), "n = 3\nv = [1, 2, 3]\n12\n14\n");
}

/// The `sd` column of `name` in the last summary of `text`.
fn summary_sd(text: &str, name: &str) -> f64 {
    let line = text.lines().rev().find(|l| l.starts_with(name)).unwrap();
    line.split_whitespace().nth(2).unwrap().parse().unwrap()
}

#[test]
fn redefinition_replaces_and_changes_results() {
    let text = "param beta = 1\n2 * beta\nmodel g { state x: real energy U = beta * x^2 / 2 }\n\
                :run mala(step=0.5) 20000 4\nparam beta = 4\n2 * beta\n:run mala(step=0.3) 20000 4\n\
                model g { state x: real energy U = beta * x^4 }\n:type g\n:list\n";
    let out = script("redefine", text, &[]);
    let s = stdout(&out);
    assert!(out.status.success(), "{s}");
    assert!(s.contains("beta = 4  (was 1)"), "{s}");
    assert!(s.contains("\n2\n") && s.contains("\n8\n"), "{s}");
    let runs: Vec<&str> = s.split("method ").collect();
    let (first, second) = (runs[1], runs[2]);
    // Standard deviation 1/sqrt(beta): 1, then 0.5.
    assert!((summary_sd(first, "x") - 1.0).abs() < 0.06, "{first}");
    assert!((summary_sd(second, "x") - 0.5).abs() < 0.03, "{second}");
    assert!(
        s.contains("model g: energy model, state x: real; params beta  (current model)  (redefined)"),
        "{s}"
    );
    assert_eq!(
        s.matches("model g {").count(),
        1,
        "one definition of g is listed:\n{s}"
    );
}

/// Numbers after `label = ` in the output.
fn value_after(text: &str, label: &str) -> f64 {
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with(label))
        .unwrap_or_else(|| panic!("{label}:\n{text}"));
    line.rsplit('=').next().unwrap().trim().parse().unwrap()
}

#[test]
fn derivatives_match_finite_differences() {
    let f = |x: f64, y: f64| x.sin() * y * y + (x * y).exp();
    let (x, y) = (0.3, -0.7);
    let h = 1e-5;
    let out = script(
        "grad",
        "param a = 0.3\n:grad sin(x) * y^2 + exp(x * y) wrt x, y at x = a, y = -0.7\n",
        &[],
    );
    let s = stdout(&out);
    assert!(s.contains("∂/∂x = ") && s.contains("∂/∂y = "), "{s}");
    let gx = (f(x + h, y) - f(x - h, y)) / (2.0 * h);
    let gy = (f(x, y + h) - f(x, y - h)) / (2.0 * h);
    let printed = s.split("at this point:").nth(1).unwrap();
    assert!((value_after(printed, "value") - f(x, y)).abs() < 1e-12, "{s}");
    assert!((value_after(printed, "∂/∂x") - gx).abs() < 1e-7, "{s}");
    assert!((value_after(printed, "∂/∂y") - gy).abs() < 1e-7, "{s}");

    let out = script(
        "hess",
        ":hess sin(x) * y^2 + exp(x * y) wrt x, y at x = 0.3, y = -0.7\n",
        &[],
    );
    let s = stdout(&out);
    let rows: Vec<Vec<f64>> = s
        .split("Hessian (x, y):")
        .nth(1)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split_whitespace().map(|v| v.parse().unwrap()).collect())
        .collect();
    let hxx = (f(x + h, y) - 2.0 * f(x, y) + f(x - h, y)) / (h * h);
    let hxy = (f(x + h, y + h) - f(x + h, y - h) - f(x - h, y + h) + f(x - h, y - h)) / (4.0 * h * h);
    let hyy = (f(x, y + h) - 2.0 * f(x, y) + f(x, y - h)) / (h * h);
    assert!((rows[0][0] - hxx).abs() < 1e-3, "{s}");
    assert!(
        (rows[0][1] - hxy).abs() < 1e-3 && (rows[1][0] - hxy).abs() < 1e-3,
        "{s}"
    );
    assert!((rows[1][1] - hyy).abs() < 1e-3, "{s}");
    assert!(s.contains("∂²/∂x∂y = "), "{s}");
}

#[test]
fn vector_gradients_print_loops() {
    let out = script(
        "vgrad",
        ":grad sum(i in 0..3, v[i]^2) wrt v[3] at v = [1, 2, 3]\n",
        &[],
    );
    let s = stdout(&out);
    assert!(s.contains("for "), "{s}");
    assert!(s.contains("∂/∂v.3 = 6"), "{s}");
}

#[test]
fn runs_and_plots_with_svg() {
    let dir = temp_dir("plot");
    let svg = dir.join("hist.svg");
    let csv_dir = dir.join("out");
    let text = format!(
        ":load examples/double_well.sde\n:set out={}\n:run 2000 2\n:plot x[0] svg={}\n:plot x.2 trace\n",
        csv_dir.display(),
        svg.display()
    );
    let out = script("plot", &text, &[]);
    let s = stdout(&out);
    assert!(out.status.success(), "{s}");
    assert!(s.contains("acceptance") && s.contains("draws       4000"), "{s}");
    assert!(s.contains('█') && s.contains('▁'), "{s}");
    assert!(s.contains("x.2: trace of chain 1, 2000 points"), "{s}");
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.starts_with("<svg") && text.contains("<rect"), "{text}");
    assert!(csv_dir.join("chain_1.csv").exists());
}

#[test]
fn sde_models_trace_and_evaluate() {
    let text = ":load examples/ou.sde\n:type theta\n:set theta=2\n:run 200 20\n:plot x\n";
    let s = stdout(&script("ou", text, &[]));
    assert!(s.contains("theta: param real = 1 (in model ou)"), "{s}");
    assert!(s.contains("theta = 2"), "{s}");
    assert!(s.contains("(state at t = "), "{s}");
    assert!(s.contains("x.3: trace of mean of 20 paths"), "{s}");
}

#[test]
fn help_lists_every_command() {
    let s = stdout(&script("help", ":help\n", &[]));
    for cmd in [
        ":grad", ":hess", ":run", ":plot", ":load", ":reload", ":set", ":type", ":timings", ":quit",
    ] {
        assert!(s.contains(cmd), "{cmd}:\n{s}");
    }
}

/// The hook `:run` uses for Ctrl-C: a recorder whose `poll` fails stops every chain.
#[test]
fn a_recorder_can_stop_a_run() {
    use sdelang::runtime::{run_gibbs, GibbsTarget, Method, Recorder, RunConfig, RunError};
    struct Quadratic;
    impl GibbsTarget for Quadratic {
        fn dim(&self) -> usize {
            1
        }
        fn energy(&self, x: &[f64]) -> f64 {
            x[0] * x[0] / 2.0
        }
        fn energy_grad(&self, x: &[f64], g: &mut [f64]) -> f64 {
            g[0] = x[0];
            self.energy(x)
        }
        fn grad(&self, x: &[f64], g: &mut [f64]) {
            g[0] = x[0];
        }
    }
    struct StopAt(u64);
    impl Recorder for StopAt {
        fn record(&mut self, _: u64, _: f64, _: &[f64]) -> std::io::Result<()> {
            Ok(())
        }
        fn poll(&mut self, step: u64) -> std::io::Result<()> {
            if step >= self.0 {
                Err(std::io::Error::new(
                    std::io::ErrorKind::Interrupted,
                    "interrupted",
                ))
            } else {
                Ok(())
            }
        }
    }
    let mut config = RunConfig::new(Method::ula(0.1), 1_000_000_000);
    config.chains = 2;
    config.warmup = 1_000_000;
    let result = run_gibbs(&Quadratic, &[0.0], &config, |_| Ok(StopAt(50)));
    match result {
        Err(RunError::Io { source, .. }) => assert_eq!(source.kind(), std::io::ErrorKind::Interrupted),
        other => panic!("expected an interruption, got {:?}", other.map(|o| o.reports)),
    }
}

/// `:run` with a method that needs derivatives of its own compiles them: the minibatch
/// gradient of SGLD, the Hessian of Newton–Langevin.
#[test]
fn run_compiles_what_the_method_needs() {
    let out = script(
        "method-needs",
        ":load examples/logreg.sde\n:run sgld(step=0.005, batch=32) 2000 2\n\
         :load examples/double_well.sde\n:run newton_langevin 500 2\n",
        &[],
    );
    let text = stdout(&out);
    assert!(out.status.success(), "{out:?}");
    assert!(text.contains("method      sgld(step=0.005, batch=32"), "{text}");
    assert!(text.contains("method      newton_langevin("), "{text}");
    assert!(!text.contains("compiled without"), "{text}");
}

/// `:data FILE` binds `data` declarations typed in the session, as `--data` does for a file.
#[test]
fn data_files_bind_typed_declarations() {
    let out = script(
        "data",
        ":data examples/data/gauss_mean.csv\ndata n: int, y: real[n]\n\
         model g {\n  state m: real\n  energy U = sum(i in 0..n, (y[i] - m)^2) / 2 + m^2 / 200\n}\n\
         :run sgld(step=0.005, batch=10) 2000 2\n:data\n:data absent.csv\n",
        &[],
    );
    let text = stdout(&out);
    assert!(text.contains("data from examples/data/gauss_mean.csv"), "{text}");
    assert!(text.contains("n = 50"), "{text}");
    assert!(text.contains("method      sgld("), "{text}");
    let all = format!("{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(all.contains("no file `absent.csv`"), "{all}");
}
