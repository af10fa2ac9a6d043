//! Output files as other tools read them: CmdStan CSV (our reader, and cmdstanpy/ArviZ where
//! installed), `.npy` (our reader, and numpy where installed), the summary recomputed from
//! files, non-finite reports, and checkpoint/resume giving bitwise-identical files.

use sdelang::output::read::{chain_files, columns, header};
use sdelang::output::{read_npy, summarise, FileFormat};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn sde(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sde"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the sde binary runs")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sdelang-out-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn ok(o: &Output) {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

const DW: &str = "examples/double_well.sde";

fn run_dw(dir: &Path, extra: &[&str]) {
    let d = dir.to_str().unwrap();
    let mut args = vec![
        "run", DW, "-o", d, "--chains", "3", "--steps", "400", "--warmup", "100", "-q",
    ];
    args.extend_from_slice(extra);
    ok(&sde(&args));
}

/// The CmdStan layout, read back with our parser: config block, header, adaptation block,
/// draws, timing; the state columns are bitwise those of the plain CSV of the same run.
#[test]
fn cmdstan_csv_has_the_full_layout_and_the_same_draws() {
    let (a, b) = (temp_dir("cmdstan"), temp_dir("plain"));
    run_dw(&a, &["--format", "cmdstan"]);
    run_dw(&b, &[]);
    let text = std::fs::read_to_string(a.join("chain_2.csv")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "# stan_version_major = 2");
    for needle in [
        "# method = sample (Default)",
        "#     num_samples = 400",
        "#     num_warmup = 100",
        "#     algorithm = hmc",
        "#         engine = static",
        "#         metric = diag_e",
        "# id = 2",
        "#   seed = 1",
    ] {
        assert!(lines.contains(&needle), "missing {needle:?}");
    }
    let h = lines.iter().position(|l| l.starts_with("lp__")).unwrap();
    assert_eq!(
        lines[h],
        "lp__,accept_stat__,stepsize__,treedepth__,n_leapfrog__,divergent__,energy__,x.1,x.2"
    );
    assert_eq!(lines[h + 1], "# Adaptation terminated");
    // the step size in use at the first draw (MALA adapts it during warmup)
    let eps: f64 = lines[h + 2]
        .strip_prefix("# Step size = ")
        .unwrap()
        .parse()
        .unwrap();
    let first: Vec<&str> = lines[h + 5].split(',').collect();
    assert_eq!(first[2].parse::<f64>().unwrap(), eps);
    assert_eq!(lines[h + 3], "# Diagonal elements of inverse mass matrix:");
    assert_eq!(lines[h + 4], "# 1, 1");
    assert!(lines[h + 5 + 400 + 1].starts_with("#  Elapsed Time: "));
    assert!(lines.last().unwrap().starts_with('#'));
    let (format, files) = chain_files(&a).unwrap();
    assert_eq!((format, files.len()), (FileFormat::CmdStan, 3));
    let head = header(&files[1], format).unwrap();
    assert_eq!(head.len(), 9);
    let ours = columns(&files[1], format, &[0, 1, 7, 8]).unwrap();
    let plain = columns(&b.join("chain_2.csv"), FileFormat::Csv, &[0, 1]).unwrap();
    assert_eq!(ours[2], plain[0]);
    assert_eq!(ours[3], plain[1]);
    assert!(
        ours[1].iter().all(|p| (0.0..=1.0).contains(p)),
        "accept_stat in [0, 1]"
    );
    let u = |x: f64, y: f64| 4.0 * ((x * x - 1.0).powi(2) + 0.5 * y * y);
    for ((lp, x), y) in ours[0].iter().zip(&ours[2]).zip(&ours[3]) {
        let want = -u(*x, *y);
        assert!((lp - want).abs() <= 1e-12 * want.abs().max(1.0), "lp__ = -U");
    }
}

/// The first of `candidates` that runs `code` successfully.
fn first_python(candidates: Vec<String>, code: &str) -> Option<String> {
    candidates.into_iter().find(|py| {
        Command::new(py)
            .args(["-c", code])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// Finds a Python that imports `modules`: $SDELANG_PYTHON, the peers' venv
/// (`benches/setup-peers.sh`: $SDE_PEERS_VENV, else target/peers-venv), ../shared/peers/.venv,
/// or python3.
fn python_with(modules: &str) -> Option<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let venv = std::env::var("SDE_PEERS_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join("target/peers-venv"));
    let candidates = std::env::var("SDELANG_PYTHON").ok().into_iter().chain([
        venv.join("bin/python").to_string_lossy().into_owned(),
        root.join("../shared/peers/.venv/bin/python")
            .to_string_lossy()
            .into_owned(),
        "python3".to_string(),
    ]);
    first_python(candidates.collect(), &format!("import {modules}"))
}

/// Finds a Python with cmdstanpy and ArviZ 1.x: $SDELANG_ARVIZ1_PYTHON, or the venv of
/// `tests/python/setup-arviz1.sh` ($SDELANG_ARVIZ1_VENV, else target/arviz1-venv).
fn python_with_arviz1() -> Option<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let venv = std::env::var("SDELANG_ARVIZ1_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join("target/arviz1-venv"));
    let candidates = std::env::var("SDELANG_ARVIZ1_PYTHON")
        .ok()
        .into_iter()
        .chain([venv.join("bin/python").to_string_lossy().into_owned()]);
    let code = "import cmdstanpy, arviz; assert int(arviz.__version__.split('.')[0]) >= 1";
    first_python(candidates.collect(), code)
}

/// Runs tests/python/check_cmdstan.py with `py` on the CmdStan files of three methods and
/// checks that the readers loaded them and that ArviZ's mean, ESS, R-hat and MCSE agree with
/// `sde summary`'s to 1e-6. `tag` keeps the output directories of concurrent callers apart.
/// Returns ArviZ's major version.
fn check_cmdstan_with(py: &str, tag: &str) -> u64 {
    let mut major = None;
    for method in ["mala(step=0.05)", "ula(step=0.01)", "baoab(step=0.1)"] {
        let dir = temp_dir(&format!("{tag}-{}", &method[..4]));
        run_dw(&dir, &["--format", "cmdstan", "--method", method]);
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/check_cmdstan.py");
        let o = Command::new(py)
            .arg(script)
            .args([dir.to_str().unwrap(), "3", "400", "x.1", "x.2"])
            .output()
            .unwrap();
        ok(&o);
        let theirs: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let version = theirs["arviz"].as_str().unwrap();
        let m: u64 = version.split('.').next().unwrap().parse().unwrap();
        let readers: Vec<&str> = theirs["readers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        assert!(readers.contains(&"cmdstanpy.from_csv") && readers.contains(&"arviz.from_cmdstanpy"));
        if m == 0 {
            assert!(
                readers.contains(&"arviz.from_cmdstan"),
                "ArviZ {version}: {readers:?}"
            );
        }
        let table = summarise(&dir, None).unwrap();
        for row in &table.rows {
            let t = &theirs[&row.name];
            let d = &row.diag;
            for (key, ours) in [
                ("mean", d.mean),
                ("ess_bulk", d.ess_bulk),
                ("ess_tail", d.ess_tail),
                ("r_hat", d.rhat),
                ("mcse_mean", d.mcse_mean),
            ] {
                let v = t[key].as_f64().unwrap();
                assert!(
                    (ours - v).abs() <= 1e-6 * v.abs().max(1.0),
                    "ArviZ {version}, {method} {} {key}: {ours} vs {v}",
                    row.name
                );
            }
        }
        major = Some(m);
    }
    major.unwrap()
}

/// cmdstanpy.from_csv, arviz.from_cmdstanpy and arviz.from_cmdstan load the files unchanged
/// and see our values; ArviZ's ESS, R-hat and MCSE agree with `sde summary`'s to 1e-6.
#[test]
fn cmdstanpy_and_arviz_read_cmdstan_csv() {
    let Some(py) = python_with("cmdstanpy, arviz") else {
        eprintln!(
            "skipped: no Python with cmdstanpy and arviz (set SDELANG_PYTHON or run benches/setup-peers.sh)"
        );
        return;
    };
    check_cmdstan_with(&py, "py");
}

/// The same with ArviZ 1.x (DataTree; no from_cmdstan there, so cmdstanpy.from_csv and
/// arviz.from_cmdstanpy), which needs Python >= 3.12.
#[test]
fn arviz1_reads_cmdstan_csv() {
    let Some(py) = python_with_arviz1() else {
        eprintln!(
            "skipped: no Python with cmdstanpy and ArviZ 1.x (set SDELANG_ARVIZ1_PYTHON or run tests/python/setup-arviz1.sh)"
        );
        return;
    };
    assert!(check_cmdstan_with(&py, "arviz1") >= 1);
}

/// `.npy` files hold the same values as the CSV files, with a header numpy accepts.
#[test]
fn npy_files_match_csv_and_load_in_numpy() {
    let (a, b) = (temp_dir("npy"), temp_dir("npy-csv"));
    run_dw(&a, &["--format", "npy"]);
    run_dw(&b, &[]);
    let arr = read_npy(&a.join("chain_3.npy")).unwrap();
    assert_eq!(arr.shape, vec![400, 2]);
    let plain = columns(&b.join("chain_3.csv"), FileFormat::Csv, &[0, 1]).unwrap();
    let x1: Vec<f64> = arr.data.chunks(2).map(|r| r[0]).collect();
    assert_eq!(x1, plain[0]);
    let summary = sde(&["summary", a.to_str().unwrap()]);
    ok(&summary);
    assert!(String::from_utf8_lossy(&summary.stdout).contains("x.2"));
    if let Some(py) = python_with("numpy") {
        let code = format!(
            "import numpy as np; a = np.load({:?}); assert a.shape == (400, 2) and a.dtype == np.float64; print(repr(float(a[7, 1])))",
            a.join("chain_3.npy")
        );
        let o = Command::new(py).args(["-c", &code]).output().unwrap();
        ok(&o);
        let v: f64 = String::from_utf8_lossy(&o.stdout).trim().parse().unwrap();
        assert_eq!(v, plain[1][7]);
    } else {
        eprintln!("numpy.load check skipped: no Python with numpy");
    }
}

/// `sde run` prints the diagnostics table and `sde summary DIR` recomputes the same table.
#[test]
fn summary_table_and_sde_summary_agree() {
    let dir = temp_dir("summary");
    let d = dir.to_str().unwrap();
    let o = sde(&["run", DW, "-o", d, "--chains", "4", "--steps", "2000"]);
    ok(&o);
    let run_out = String::from_utf8_lossy(&o.stdout).into_owned();
    for col in [
        "mean", "sd", "mcse", "5%", "50%", "95%", "ess_bulk", "ess_tail", "r_hat",
    ] {
        assert!(run_out.contains(col), "{col} missing:\n{run_out}");
    }
    let again = sde(&["summary", d]);
    ok(&again);
    let table = |s: &str| {
        s.lines()
            .skip_while(|l| !l.starts_with("name"))
            .take(3)
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(table(&run_out), table(&String::from_utf8_lossy(&again.stdout)));
    assert!(
        !String::from_utf8_lossy(&o.stderr).contains("steps"),
        "no progress bar when stderr is not a terminal"
    );
}

/// A poorly tuned MALA run gets warnings for acceptance, R-hat and ESS on stderr.
#[test]
fn poor_runs_get_clear_warnings() {
    let dir = temp_dir("warn");
    let o = sde(&[
        "run",
        DW,
        "-o",
        dir.to_str().unwrap(),
        "--method",
        "mala(step=2)",
        "--steps",
        "300",
        "--warmup",
        "0",
        "--chains",
        "2",
    ]);
    ok(&o);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("warning: acceptance rate"), "{err}");
    assert!(err.contains("decrease the step size"), "{err}");
    assert!(err.contains("warning: low effective sample size"), "{err}");
}

const BLOWUP: &str = "model blow {\n  state x: real[2]\n  energy U = 0.5 * x[0]^2 + 0.25 * x[1]^4\n}\n\
run {\n  method = ula(step = 0.5)\n  chains = 2, steps = 100, warmup = 0\n  init x = [0, 10]\n}\n";

/// A state that overflows is reported with chain, step and state; the draws before it stay.
#[test]
fn nonfinite_state_is_reported_and_draws_are_kept() {
    let dir = temp_dir("nan");
    std::fs::create_dir_all(&dir).unwrap();
    let model = dir.join("blow.sde");
    std::fs::write(&model, BLOWUP).unwrap();
    let out = dir.join("out");
    let o = sde(&["run", model.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("chain 1: state component 2 is"), "{err}");
    assert!(err.contains("after step") && err.contains("; state ["), "{err}");
    let kept = std::fs::read_to_string(out.join("chain_1.csv.partial")).unwrap();
    assert!(kept.starts_with("x.1,x.2\n"), "{kept}");
    assert!(!out.join("chain_1.csv").exists());
}

fn wait_for(path: &Path, limit: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if path.exists() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    false
}

/// Interrupt a run with SIGINT after its first checkpoint (or kill it outright), resume it,
/// and get files bitwise identical to an uninterrupted run with the same seed.
fn interrupted_run_resumes_bitwise(format: &str, signal: &str) {
    let args = [
        "examples/gauss_1k.sde",
        "-q",
        "--chains",
        "2",
        "--steps",
        "4000",
        "--warmup",
        "1000",
        "--thin",
        "3",
    ];
    interrupt_and_resume(&format!("{format}{signal}"), &args, format, signal);
}

/// Runs `sde run ARGS` uninterrupted and interrupted by `signal` after the first checkpoint,
/// resumes the interrupted run, and compares the chain files. Returns the resumed run's output.
fn interrupt_and_resume(name: &str, run_args: &[&str], format: &str, signal: &str) -> Output {
    let full = temp_dir(&format!("full-{name}"));
    let cut = temp_dir(&format!("cut-{name}"));
    let args = |d: &Path| -> Vec<String> {
        std::iter::once("run")
            .chain(run_args.iter().copied())
            .map(|s| s.to_string())
            .chain([
                "-o".into(),
                d.to_str().unwrap().into(),
                "--format".into(),
                format.into(),
            ])
            .chain(["--checkpoint-every".into(), "500".into()])
            .collect()
    };
    let full_args = args(&full);
    ok(&sde(&full_args.iter().map(String::as_str).collect::<Vec<_>>()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_sde"))
        .args(args(&cut))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert!(wait_for(
        &cut.join("checkpoint/chain_1.json"),
        Duration::from_secs(60)
    ));
    let pid = child.id().to_string();
    let _ = Command::new("kill").args([signal, &pid]).status();
    let status = child.wait().unwrap();
    let ext = if format == "npy" { "npy" } else { "csv" };
    let finished = cut.join(format!("chain_1.{ext}")).exists() && cut.join(format!("chain_2.{ext}")).exists();
    if signal == "-INT" && !finished {
        assert_eq!(status.code(), Some(130), "an interrupted run exits with 130");
    }
    let resumed = sde(&["run", "--resume", cut.to_str().unwrap()]);
    ok(&resumed);
    for chain in 1..=2 {
        let name = format!("chain_{chain}.{ext}");
        let a = std::fs::read(full.join(&name)).unwrap();
        let b = std::fs::read(cut.join(&name)).unwrap();
        if format == "cmdstan" {
            // Elapsed-time comments are wall times; everything else must match.
            let strip = |v: &[u8]| {
                String::from_utf8_lossy(v)
                    .lines()
                    .filter(|l| !l.contains("seconds ("))
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            assert_eq!(strip(&a), strip(&b), "{name}");
        } else {
            assert!(a == b, "{name} differs after resume");
        }
    }
    assert!(
        !cut.join("checkpoint").exists(),
        "checkpoints are removed once the run completes"
    );
    resumed
}

#[test]
fn sigint_then_resume_is_bitwise_identical_csv() {
    interrupted_run_resumes_bitwise("csv", "-INT");
}

#[test]
fn sigterm_then_resume_is_bitwise_identical_cmdstan() {
    interrupted_run_resumes_bitwise("cmdstan", "-TERM");
}

#[test]
fn crash_then_resume_is_bitwise_identical_npy() {
    interrupted_run_resumes_bitwise("npy", "-KILL");
}

/// SDE paths stop at a signal with a checkpoint too, and the resumed run continues them
/// (its summary says from which step) rather than integrating them again.
#[test]
fn sigint_then_resume_continues_sde_paths() {
    let dir = temp_dir("sde-model");
    std::fs::create_dir_all(&dir).unwrap();
    let model = dir.join("wide_ou.sde");
    let text = "model wide {\n  state x: real[400]\n  dx[i] = -x[i] dt + dW[i]\n}\n\
                run {\n  method = heun(dt = 0.001)\n  record = [x[0], x[399]]\n}\n";
    std::fs::write(&model, text).unwrap();
    let args = [
        model.to_str().unwrap(),
        "--chains",
        "2",
        "--steps",
        "60000",
        "--thin",
        "50",
    ];
    let out = interrupt_and_resume("sde", &args, "csv", "-INT");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let resumed = stdout
        .lines()
        .find(|l| l.starts_with("resumed"))
        .unwrap_or_else(|| panic!("{stdout}"));
    // "resumed     chain 1 at step N, chain 2 at step M": the stopped paths continued mid-way
    let steps: Vec<u64> = resumed
        .split("at step ")
        .skip(1)
        .map(|s| s.split(',').next().unwrap().trim().parse().unwrap())
        .collect();
    assert_eq!(steps.len(), 2, "{resumed}");
    assert!(
        steps.iter().all(|s| *s > 0) && steps.iter().any(|s| *s < 60000),
        "{resumed}"
    );
}

/// `sde plot` writes SVG and PNG files of sensible size; the PNGs have a white background and
/// coloured data pixels; without a font the plots are drawn without text.
#[test]
fn plots_are_written_as_svg_and_png() {
    let dir = temp_dir("plot");
    run_dw(&dir, &["--format", "cmdstan"]);
    for font in [None, Some("none")] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sde"));
        cmd.args(["plot", dir.to_str().unwrap()]);
        if let Some(f) = font {
            cmd.env("SDELANG_FONT", f);
        }
        let o = cmd.output().unwrap();
        ok(&o);
        for name in ["trace", "hist", "pair", "energy"] {
            let svg = std::fs::read_to_string(dir.join(format!("plots/{name}.svg"))).unwrap();
            assert!(svg.starts_with("<svg") && svg.len() > 2000, "{name}.svg");
            let png = image::open(dir.join(format!("plots/{name}.png")))
                .unwrap()
                .to_rgb8();
            assert!(png.width() >= 700 && png.height() >= 250, "{name}.png size");
            assert_eq!(png.get_pixel(1, 1).0, [255, 255, 255], "{name}.png background");
            let coloured = png
                .pixels()
                .filter(|p| p.0[0] != p.0[1] || p.0[1] != p.0[2])
                .count();
            assert!(coloured > 500, "{name}.png has {coloured} coloured pixels");
        }
        // no density is known for the two-dimensional double well's marginals
        assert_eq!(exact_pixels(&dir.join("plots/hist.png"), 1), vec![0]);
        if font.is_some() {
            assert!(String::from_utf8_lossy(&o.stderr).contains("no font found"));
        }
    }
}

/// Pixels of `sde plot`'s exact-density colour in each of a PNG's `panels` horizontal bands.
fn exact_pixels(png: &Path, panels: u32) -> Vec<usize> {
    let img = image::open(png).unwrap().to_rgb8();
    let band = img.height() / panels;
    (0..panels)
        .map(|k| {
            (k * band..(k + 1) * band)
                .flat_map(|y| (0..img.width()).map(move |x| (x, y)))
                .filter(|&(x, y)| img.get_pixel(x, y).0 == [214, 39, 40])
                .count()
        })
        .collect()
}

fn plot(dir: &Path) -> Output {
    let o = sde(&["plot", dir.to_str().unwrap()]);
    ok(&o);
    o
}

/// A scalar energy model's histogram gets exp(−U/T)/Z, computed from the model file that
/// `run.json` names (with the run's `--set` and temperature); once the file no longer
/// compiles the histogram is drawn without it and a note says why.
#[test]
fn scalar_energy_histogram_shows_the_gibbs_density() {
    let dir = temp_dir("gibbs-overlay");
    std::fs::create_dir_all(&dir).unwrap();
    let model = dir.join("well.sde");
    let text = "param beta = 2.0\nmodel well {\n  state x: real\n  energy U = beta * (x^2 - 1)^2\n}\n";
    std::fs::write(&model, text).unwrap();
    let out = dir.join("out");
    let (m, o) = (model.to_str().unwrap(), out.to_str().unwrap());
    let args = [
        "run",
        m,
        "-o",
        o,
        "-q",
        "--set",
        "beta=1.5",
        "--temperature",
        "0.8",
    ];
    ok(&sde(&[
        &args[..],
        &["--method", "mala(step = 0.2)", "--steps", "4000"],
    ]
    .concat()));
    let facts = std::fs::read_to_string(out.join("run.json")).unwrap();
    assert!(
        facts.contains("beta=1.5") && facts.contains("well.sde"),
        "{facts}"
    );
    plot(&out);
    let hist = out.join("plots/hist.png");
    let drawn = exact_pixels(&hist, 1)[0];
    assert!(drawn > 300, "{drawn} pixels of the density curve");
    std::fs::write(&model, "model well {\n  state x: real\n").unwrap();
    let o = plot(&out);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("no longer compiles"), "{stderr}");
    assert_eq!(exact_pixels(&hist, 1), vec![0]);
}

/// `exact` items reach `sde plot` through `run.json`: a named law and an unnormalised
/// density, each over its own histogram, for an SDE model (no model file needed at plot time).
#[test]
fn declared_exact_laws_are_drawn_over_sde_histograms() {
    let dir = temp_dir("exact-overlay");
    std::fs::create_dir_all(&dir).unwrap();
    let model = dir.join("ou.sde");
    let text = "param s = 0.5\nmodel ou {\n  state x: real = 0\n  state y: real = 0\n  \
                dx = -x dt + sqrt(2) * s dW\n  dy = -y^3 dt + dW\n  \
                exact x ~ normal(0, s)\n  exact y = exp(-y^4 / 2)\n}\n\
                run {\n  method = euler_maruyama(dt = 0.01)\n  chains = 2, steps = 4000, thin = 4\n}\n";
    std::fs::write(&model, text).unwrap();
    let out = dir.join("out");
    ok(&sde(&[
        "run",
        model.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "-q",
    ]));
    std::fs::remove_file(&model).unwrap();
    let o = plot(&out);
    assert!(!String::from_utf8_lossy(&o.stderr).contains("gone"));
    let drawn = exact_pixels(&out.join("plots/hist.png"), 2);
    assert!(
        drawn.iter().all(|n| *n > 300),
        "{drawn:?} pixels of the density curves"
    );
}

/// A run whose data file changed after it was interrupted cannot be resumed: the chains would
/// continue on other data. The message names the file.
#[test]
fn resume_refuses_a_changed_data_file() {
    let dir = temp_dir("changed-data");
    std::fs::create_dir_all(&dir).unwrap();
    let data = dir.join("y.csv");
    std::fs::write(&data, "y\n0.5\n1.5\n2.5\n").unwrap();
    let model = dir.join("mean.sde");
    let text = "data n: int\ndata y: real[n]\nmodel mean {\n  state m: real\n  \
                energy U = sum(i in 0..n, (y[i] - m)^2) / 2\n}\n\
                run {\n  data = \"y.csv\"\n  method = ula(step = 0.01)\n}\n";
    std::fs::write(&model, text).unwrap();
    let out = dir.join("out");
    let mut child = Command::new(env!("CARGO_BIN_EXE_sde"))
        .args(["run", model.to_str().unwrap(), "-q", "--chains", "1"])
        .args(["--steps", "200000000", "--checkpoint-every", "1000", "-o"])
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert!(wait_for(
        &out.join("checkpoint/chain_1.json"),
        Duration::from_secs(60)
    ));
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    assert_eq!(child.wait().unwrap().code(), Some(130));
    std::fs::write(&data, "y\n0.5\n1.5\n9.5\n").unwrap();
    let resumed = sde(&["run", "--resume", out.to_str().unwrap()]);
    assert_eq!(resumed.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&resumed.stderr);
    assert!(
        stderr.contains("y.csv") && stderr.contains("changed since the run started"),
        "{stderr}"
    );
    // Restoring the data makes the run resumable again.
    std::fs::write(&data, "y\n0.5\n1.5\n2.5\n").unwrap();
    assert!(out.join("checkpoint/args.json").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// `output = "cmdstan"` in the run block picks CmdStan files; `--format` overrides it.
#[test]
fn run_block_output_format_and_its_override() {
    let dir = temp_dir("output-setting");
    std::fs::create_dir_all(&dir).unwrap();
    let model = dir.join("gauss.sde");
    let text = "model g {\n  state x: real\n  energy U = x^2 / 2\n}\n\
                run {\n  method = mala(step = 0.5)\n  output = \"cmdstan\"\n  steps = 50\n}\n";
    std::fs::write(&model, text).unwrap();
    let (a, b) = (dir.join("a"), dir.join("b"));
    ok(&sde(&[
        "run",
        model.to_str().unwrap(),
        "-q",
        "-o",
        a.to_str().unwrap(),
    ]));
    let cmdstan = std::fs::read_to_string(a.join("chain_1.csv")).unwrap();
    assert!(cmdstan.starts_with("# stan_version_major"), "{cmdstan}");
    assert!(cmdstan.contains("\nlp__,accept_stat__,"), "{cmdstan}");
    let args = [
        "run",
        model.to_str().unwrap(),
        "-q",
        "--format",
        "csv",
        "-o",
        b.to_str().unwrap(),
    ];
    ok(&sde(&args));
    let csv = std::fs::read_to_string(b.join("chain_1.csv")).unwrap();
    assert!(csv.starts_with("x\n"), "{csv}");
    let _ = std::fs::remove_dir_all(&dir);
}
