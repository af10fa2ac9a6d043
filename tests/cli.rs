//! The `sde` command as a user runs it: exit codes, outputs, reproducibility.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn sde(args: &[&str], threads: Option<usize>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sde"));
    cmd.args(args).current_dir(env!("CARGO_MANIFEST_DIR"));
    if let Some(t) = threads {
        cmd.env("RAYON_NUM_THREADS", t.to_string());
    }
    cmd.output().expect("the sde binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sdelang-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn assert_user_error(o: &Output, needle: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "exit code; stderr:\n{err}");
    assert!(err.contains(needle), "stderr lacks {needle:?}:\n{err}");
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "{err}"
    );
}

#[test]
fn run_double_well_prints_summary_and_writes_csv() {
    let dir = temp_dir("dw");
    let o = sde(
        &[
            "run",
            "examples/double_well.sde",
            "--steps",
            "2000",
            "-o",
            dir.to_str().unwrap(),
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("acceptance") && out.contains("x.1") && out.contains("x.2"),
        "{out}"
    );
    let csv = std::fs::read_to_string(dir.join("chain_1.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("x.1,x.2"));
    assert_eq!(lines.count(), 2000);
    assert!(dir.join("chain_8.csv").exists());
    let _ = std::fs::remove_dir_all(dir);
}

fn run_bytes(file: &str, extra: &[&str], threads: usize) -> Vec<Vec<u8>> {
    let dir = temp_dir(&format!("repro-{threads}-{}", file.replace('/', "_")));
    let mut args = vec!["run", file, "-q", "-o", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    let o = sde(&args, Some(threads));
    assert!(o.status.success(), "{}", stderr(&o));
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        // run.json holds wall times; the chain files must be identical
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("chain_"))
        .collect();
    files.sort();
    let bytes = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    let _ = std::fs::remove_dir_all(dir);
    bytes
}

#[test]
fn output_is_bitwise_identical_whatever_the_thread_count() {
    for (file, extra) in [
        ("examples/double_well.sde", &["--steps", "3000"][..]),
        ("examples/gbm.sde", &["--chains", "64"][..]),
        (
            "examples/ou.sde",
            &["--chains", "16", "--method", "milstein(dt=0.01)"][..],
        ),
    ] {
        let one = run_bytes(file, extra, 1);
        let two = run_bytes(file, extra, 2);
        let three = run_bytes(file, extra, 3);
        assert!(one.len() >= 8, "{file}: {} files", one.len());
        assert!(
            one == two && two == three,
            "{file}: outputs differ between thread counts"
        );
    }
}

#[test]
fn overrides_change_the_run() {
    let dir = temp_dir("ovr");
    let o = sde(
        &[
            "run",
            "examples/double_well.sde",
            "--set",
            "beta=1",
            "--method",
            "baoab(step=0.1, friction=2)",
            "--steps",
            "500",
            "--chains",
            "2",
            "--seed",
            "9",
            "--init",
            "x=[1, 0]",
            "-o",
            dir.to_str().unwrap(),
            "--timings",
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("baoab(step=0.1, friction=2"), "{out}");
    assert!(out.contains("compile:") && out.contains("codegen"), "{out}");
    assert!(dir.join("chain_2.csv").exists() && !dir.join("chain_3.csv").exists());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn bad_inputs_exit_with_code_2_and_a_diagnostic() {
    let o = sde(&["run", "no/such/file.sde"], None);
    assert_user_error(&o, "cannot read");
    let o = sde(&["run", "examples/double_well.sde", "--set", "beta=oops"], None);
    assert_user_error(&o, "oops");
    let o = sde(&["run", "examples/double_well.sde", "--set", "gamma=1"], None);
    assert_user_error(&o, "gamma");
    let o = sde(&["run", "examples/gbm.sde", "--method", "mala(step=0.1)"], None);
    assert_user_error(&o, "E0403");
    let o = sde(
        &["run", "examples/double_well.sde", "--method", "mal(step=0.1)"],
        None,
    );
    assert_user_error(&o, "E0404");
    let o = sde(&["run", "examples/double_well.sde", "--init", "y=[1,2]"], None);
    assert_user_error(&o, "not a state");
    let o = sde(&["run", "examples/double_well.sde", "--init", "x=[1,2,3]"], None);
    assert_user_error(&o, "E0202");
    let o = sde(&["run", "examples/double_well.sde", "--steps", "-3"], None);
    assert_eq!(o.status.code(), Some(2));
    let o = sde(&["frobnicate"], None);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn a_diverging_run_is_an_error_not_nan() {
    let dir = temp_dir("div");
    let o = sde(
        &[
            "run",
            "examples/double_well.sde",
            "--method",
            "ula(step=2)",
            "--steps",
            "1000",
            "-o",
            dir.to_str().unwrap(),
        ],
        None,
    );
    assert_user_error(&o, "chain");
    assert!(
        stderr(&o).contains("inf") || stderr(&o).contains("NaN"),
        "{}",
        stderr(&o)
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn check_reports_the_model() {
    let o = sde(&["check", "examples/gauss_1k.sde"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("1000 state components"), "{}", stdout(&o));
}

#[test]
fn derive_evaluates_with_compiled_code() {
    // U = β((x0² − 1)² + x1²/2) at (0.5, 0.1), β = 4: U = 2.27,
    // ∂U/∂x0 = 4β x0 (x0² − 1) = −6, ∂U/∂x1 = β x1 = 0.4.
    let o = sde(
        &[
            "derive",
            "examples/double_well.sde",
            "--at",
            "x=[0.5, 0.1]",
            "--json",
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let field = |name: &str| -> Vec<f64> {
        let key = format!("\"{name}\":");
        let start = out.find(&key).unwrap() + key.len();
        let rest = &out[start..];
        let text = if rest.starts_with('[') {
            &rest[1..rest.find(']').unwrap()]
        } else {
            &rest[..rest.find([',', '}']).unwrap()]
        };
        text.split(',').map(|v| v.trim().parse().unwrap()).collect()
    };
    assert!((field("energy")[0] - 2.27).abs() < 1e-12, "{out}");
    let score = field("score");
    assert!(
        (score[0] - 6.0).abs() < 1e-12 && (score[1] + 0.4).abs() < 1e-12,
        "{out}"
    );
    let h = field("hessian");
    // H = [[β(12x0² − 4), 0], [0, β]] = [[−4, 0], [0, 4]]
    assert_eq!(h.len(), 4);
    assert!(
        (h[0] + 4.0).abs() < 1e-12 && h[1] == 0.0 && h[2] == 0.0 && (h[3] - 4.0).abs() < 1e-12,
        "{out}"
    );
}

#[test]
fn derive_prints_formulas() {
    let o = sde(&["derive", "examples/gbm.sde"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("diffusion") && out.contains("Itô drift"), "{out}");
    let o = sde(&["derive", "examples/double_well.sde"], None);
    let out = stdout(&o);
    assert!(out.contains("score") && out.contains("Hessian"), "{out}");
}

#[test]
fn help_lists_every_command() {
    let o = sde(&["--help"], None);
    assert!(o.status.success());
    for cmd in ["run", "check", "derive"] {
        assert!(stdout(&o).contains(cmd));
    }
    for sub in ["run", "check", "derive"] {
        let o = sde(&[sub, "--help"], None);
        assert!(o.status.success(), "{sub} --help");
    }
    let _ = Path::new(".");
}

#[test]
fn sde_save_times_adaptive_method_and_recorded_columns_from_the_command_line() {
    let dir = temp_dir("sde-save");
    let o = sde(
        &[
            "run",
            "examples/correlated_noise.sde",
            "--method",
            "heun(dt=0.01, reltol=1e-3)",
            "--t-end",
            "2",
            "--save-every",
            "0.5",
            "--chains",
            "3",
            "-o",
            dir.to_str().unwrap(),
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let csv = std::fs::read_to_string(dir.join("chain_3.csv")).unwrap();
    let times: Vec<&str> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap_or(""))
        .collect();
    assert_eq!(times, ["0", "0.5", "1", "1.5", "2"]);
    assert!(csv.starts_with("t,s.1,s.2\n"), "{csv}");
    // Milstein needs diagonal noise: a clear error before the run.
    let o = sde(
        &[
            "run",
            "examples/correlated_noise.sde",
            "--method",
            "milstein",
            "-o",
            dir.to_str().unwrap(),
        ],
        None,
    );
    assert_user_error(&o, "needs diagonal noise");
    // `record` keeps the chosen columns; save_at times are hit exactly.
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("rec.sde");
    std::fs::write(
        &file,
        "model m {\n  state x: real[3] = [1, 2, 3]\n  dx[i] = -x[i] dt + 0.1 dW[i]\n}\n\
         run { method = sriw1(dt = 0.01), save_at = [0.005, 0.5, 1], record = [x[2], x[0]] }\n",
    )
    .unwrap();
    let o = sde(
        &["run", file.to_str().unwrap(), "-o", dir.to_str().unwrap()],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let csv = std::fs::read_to_string(dir.join("chain_1.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 4, "{csv}");
    assert_eq!(rows[0], "t,x.3,x.1");
    assert!(
        rows[1].starts_with("0.005,") && rows[3].starts_with("1,"),
        "{csv}"
    );
}

#[test]
fn regression_newton_langevin_runs_through_sde_run() {
    // `sde run` executes the kernel-backed native model, which once lacked the
    // Hessian that newton_langevin needs (it failed at the first step).
    let dir = temp_dir("newton");
    let o = sde(
        &[
            "run",
            "examples/double_well.sde",
            "--method",
            "newton_langevin(step=0.5)",
            "--steps",
            "500",
            "-o",
            dir.to_str().unwrap(),
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("newton_langevin"), "{}", stdout(&o));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn run_with_data_files_from_the_command_line_and_their_errors() {
    let dir = temp_dir("data");
    std::fs::create_dir_all(&dir).unwrap();
    let model = dir.join("mean.sde");
    std::fs::write(
        &model,
        "data n: int\ndata y: real[n]\nmodel m {\n  state mu: real\n  energy U = 0.5 * sum(i in 0..n, (y[i] - mu)^2)\n}\n",
    )
    .unwrap();
    let good = dir.join("y.csv");
    std::fs::write(&good, "y\n1.0\n2.0\n3.0\n").unwrap();
    let out = dir.join("out");
    let (m, g, o) = (
        model.to_str().unwrap(),
        good.to_str().unwrap(),
        out.to_str().unwrap(),
    );
    let ok = sde(
        &[
            "run", m, "--data", g, "--steps", "200", "--warmup", "100", "-o", o, "-q",
        ],
        None,
    );
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    assert!(out.join("chain_1.csv").is_file());

    let bad = dir.join("bad.csv");
    std::fs::write(&bad, "y\n1.0\nNA\n").unwrap();
    let b = bad.to_str().unwrap();
    assert_user_error(&sde(&["run", m, "--data", b, "-o", o], None), "E0901");
    assert_user_error(&sde(&["check", m], None), "E0902");
    let checked = sde(&["check", m, "--data", g], None);
    assert!(
        stdout(&checked).contains("0 parameters, 2 data"),
        "{}",
        stdout(&checked)
    );
    assert_user_error(
        &sde(&["run", m, "--data", "missing.json", "-o", o], None),
        "E0901",
    );
}
