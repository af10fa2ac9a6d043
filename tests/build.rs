//! `sde build`: standalone sampler binaries, built into a temporary directory,
//! run, and compared byte for byte with `sde run` on the same settings.
//!
//! Every test is skipped, with a message saying so, when the machine has no C
//! compiler driver to link with.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn sde(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sde"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the sde binary runs")
}

fn run(bin: &Path, args: &[&str]) -> Output {
    Command::new(bin)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the sampler binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Whether a C compiler driver exists (as `sde build` looks for one).
fn have_linker(test: &str) -> bool {
    let found = ["cc", "gcc", "clang"].iter().any(|n| {
        std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(n).is_file()))
    });
    if !found {
        eprintln!("skipping {test}: no C compiler (cc, gcc or clang) to link standalone binaries with");
    }
    found
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sdelang-build-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

/// Builds `model` (with build-time `sets`) into `dir`/`name`.
fn build(model: &str, dir: &Path, name: &str, sets: &[&str]) -> PathBuf {
    let bin = dir.join(name);
    let mut args = vec!["build", model, "-o", path(&bin)];
    for s in sets {
        args.extend(["--set", s]);
    }
    let o = sde(&args);
    assert!(o.status.success(), "sde build failed:\n{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains("standalone sampler of model"),
        "{}",
        text(&o.stdout)
    );
    bin
}

/// The summary without the lines that differ between runs (wall time) or name
/// the output directory.
fn stable_summary(o: &Output) -> String {
    text(&o.stdout)
        .lines()
        .filter(|l| !l.starts_with("wall time") && !l.starts_with("output:"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs the binary and `sde run` with the same options into two directories and
/// asserts identical CSV files and summaries.
fn assert_same_as_sde_run(bin: &Path, model: &str, dir: &Path, tag: &str, opts: &[&str]) {
    let (a, b) = (dir.join(format!("{tag}-bin")), dir.join(format!("{tag}-run")));
    let mut bin_args = opts.to_vec();
    bin_args.extend(["-o", path(&a)]);
    let ob = run(bin, &bin_args);
    assert!(ob.status.success(), "binary failed:\n{}", text(&ob.stderr));
    let mut run_args = vec!["run", model];
    run_args.extend(opts);
    run_args.extend(["-o", path(&b)]);
    let or = sde(&run_args);
    assert!(or.status.success(), "sde run failed:\n{}", text(&or.stderr));
    assert_eq!(stable_summary(&ob), stable_summary(&or), "summaries differ");
    let mut names: Vec<_> = std::fs::read_dir(&b)
        .expect("sde run output")
        .map(|e| e.expect("entry").file_name())
        .collect();
    names.sort();
    assert!(!names.is_empty());
    for name in &names {
        let x = std::fs::read(a.join(name)).expect("the binary wrote the same file");
        let y = std::fs::read(b.join(name)).expect("sde run file");
        assert!(x == y, "{tag}: {name:?} differs between the binary and sde run");
    }
    assert_eq!(std::fs::read_dir(&a).expect("binary output").count(), names.len());
}

#[test]
fn double_well_mala_binary_matches_sde_run() {
    if !have_linker("double_well_mala_binary_matches_sde_run") {
        return;
    }
    let dir = temp_dir("dw");
    let model = "examples/double_well.sde";
    let bin = build(model, &dir, "dw", &[]);
    let opts = [
        "--steps", "3000", "--warmup", "500", "--chains", "3", "--seed", "11",
    ];
    assert_same_as_sde_run(&bin, model, &dir, "mala", &opts);
    let opts = [
        "--method",
        "baoab(step=0.1, friction=2)",
        "--steps",
        "1000",
        "--thin",
        "3",
    ];
    assert_same_as_sde_run(&bin, model, &dir, "baoab", &opts);
    let opts = [
        "--set",
        "beta=2.5",
        "--init",
        "x=[1, -1]",
        "--steps",
        "1000",
        "--temperature",
        "0.7",
    ];
    assert_same_as_sde_run(&bin, model, &dir, "set", &opts);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn gbm_sde_binary_matches_sde_run() {
    if !have_linker("gbm_sde_binary_matches_sde_run") {
        return;
    }
    let dir = temp_dir("gbm");
    let model = "examples/gbm.sde";
    let bin = build(model, &dir, "gbm", &[]);
    assert_same_as_sde_run(&bin, model, &dir, "milstein", &["--chains", "40", "--seed", "3"]);
    let opts = [
        "--method",
        "euler_maruyama",
        "--dt",
        "0.002",
        "--chains",
        "20",
        "--set",
        "sigma=0.5",
    ];
    assert_same_as_sde_run(&bin, model, &dir, "em", &opts);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn help_lists_parameters_and_run_defaults() {
    if !have_linker("help_lists_parameters_and_run_defaults") {
        return;
    }
    let dir = temp_dir("help");
    let bin = build("examples/gbm.sde", &dir, "gbm", &["sigma=0.3"]);
    let o = run(&bin, &["--help"]);
    assert!(o.status.success());
    let help = text(&o.stdout);
    for needle in [
        "model `gbm`",
        "--method <METHOD>",
        "--steps <STEPS>",
        "--seed <SEED>",
        "--set <NAME=VALUE>",
        "mu = 0.05",
        "sigma = 0.3",
        "method = milstein(dt=0.001)",
        "chains = 1000",
    ] {
        assert!(help.contains(needle), "help lacks {needle:?}:\n{help}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

const SHAPED: &str = "param n = 2
param a = 1.5
param b = 2 * a
param c = 0.25
param s: real[n] = linspace(1, 2, n)
model shaped {
  state x: real[n]
  energy U = b * sum(i in 0..n, (x[i] / s[i])^2) + c * softplus(x[0])
           + 0.1 * log1p(exp(x[1])) + 0.01 * sin(x[0]) * atan2(x[1], 2)
}
run { method = mala(step = 0.2), chains = 2, steps = 500, seed = 5 }
";

#[test]
fn set_changes_free_params_and_rejects_compiled_ones() {
    if !have_linker("set_changes_free_params_and_rejects_compiled_ones") {
        return;
    }
    let dir = temp_dir("shaped");
    let model = dir.join("shaped.sde");
    std::fs::write(&model, SHAPED).expect("write model");
    let model = path(&model);
    let bin = build(model, &dir, "shaped", &[]);
    // Kernels calling the runtime's libm wrappers, a vector parameter, and
    // parameter tables that the prelude recomputes from `--set` values.
    let opts = ["--set", "c=-0.5", "--set", "b=3", "--set", "s=[0.5, 3]"];
    assert_same_as_sde_run(&bin, model, &dir, "c", &opts);
    // `n` sets a size and `a` another parameter's default: both are compiled in.
    for (set, why) in [("n=3", "integer parameter"), ("a=2", "used at compile time")] {
        let o = run(&bin, &["--set", set]);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains(why) && err.contains("sde build"), "{err}");
    }
    let help = text(&run(&bin, &["--help"]).stdout);
    assert!(help.contains("n = 2  [fixed at build time"), "{help}");
    // Rebuilt with the new size, it matches `sde run --set` again.
    let bin3 = build(model, &dir, "shaped3", &["n=3"]);
    let o = run(&bin3, &["-o", path(&dir.join("n3-bin"))]);
    let r = sde(&["run", model, "--set", "n=3", "-o", path(&dir.join("n3-run"))]);
    assert_eq!(stable_summary(&o), stable_summary(&r));
    for name in ["chain_1.csv", "chain_2.csv"] {
        let x = std::fs::read(dir.join("n3-bin").join(name)).expect("binary csv");
        assert_eq!(x, std::fs::read(dir.join("n3-run").join(name)).expect("run csv"));
    }
    for (args, needle) in [
        (vec!["--set", "zeta=1"], "no parameter named `zeta`"),
        (vec!["--set", "c=[1, 2]"], "not a list"),
        (vec!["--set", "c=exp(1)"], "not a number"),
        (vec!["--set", "s=2"], "give 2 values"),
        (vec!["--method", "milstein"], "does not fit"),
        (vec!["--method", "mala(step=-1)"], "is not a number > 0"),
        (vec!["--init", "x=[1, 2, 3]"], "has 2 components"),
    ] {
        let o = run(&bin, &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(text(&o.stderr).contains(needle), "{args:?}: {}", text(&o.stderr));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A binary records the model file and its exact laws in `run.json` as `sde run` does (for
/// `sde plot`); a parameter an exact law reads is fixed at build time.
#[test]
fn binary_records_exact_laws_like_sde_run() {
    if !have_linker("binary_records_exact_laws_like_sde_run") {
        return;
    }
    let dir = temp_dir("exact");
    let model = dir.join("ou.sde");
    let src = "param k = 1.0\nparam s = 0.5\nmodel ou {\n  state x: real = 0\n  dx = -k * x dt + s dW\n  \
               exact x = exp(-x^2 / s^2)\n}\nrun { method = euler_maruyama(dt = 0.01), chains = 2, steps = 300 }\n";
    std::fs::write(&model, src).expect("write model");
    let model = path(&model);
    let bin = build(model, &dir, "ou", &[]);
    assert_same_as_sde_run(&bin, model, &dir, "exact", &["--set", "k=2"]);
    let facts = std::fs::read_to_string(dir.join("exact-bin").join("run.json")).expect("run.json");
    assert!(
        facts.contains("\"exact\"") && facts.contains("exp(-x^2 / s^2)") && facts.contains("k=2"),
        "{facts}"
    );
    let o = run(&bin, &["--set", "s=1"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("used at compile time"),
        "{}",
        text(&o.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn missing_linker_is_a_clear_error() {
    let dir = temp_dir("nolinker");
    let o = Command::new(env!("CARGO_BIN_EXE_sde"))
        .args(["build", "examples/gbm.sde", "-o", path(&dir.join("gbm"))])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("CC", "/nonexistent/bin/cc")
        .output()
        .expect("sde runs");
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("no C compiler") && err.contains("apt-get install gcc"),
        "{err}"
    );
    assert!(!dir.join("gbm").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// What standalone binaries cannot do yet is refused with E0703 and exit code 2, before
/// anything is linked: particle models, and stochastic-gradient methods (whose minibatch
/// gradient reads a run-time list).
#[test]
fn unsupported_models_are_refused_clearly() {
    let dir = temp_dir("unsupported");
    for (model, what) in [
        ("examples/lj_fluid.sde", "particle models"),
        ("examples/logreg_sgld.sde", "stochastic-gradient methods"),
    ] {
        let out = dir.join("bin");
        let o = sde(&["build", model, "-o", path(&out)]);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{model}: {err}");
        assert!(err.contains("E0703") && err.contains(what), "{model}: {err}");
        assert!(!out.exists(), "{model}: a binary was written");
    }
}
