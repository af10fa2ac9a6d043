//! Workload W2 (../shared/peers/WORKLOADS.md): Bayesian logistic regression on the
//! breast cancer data (n = 569, d = 31, prior N(0, 10² I)), MALA with h = 0.035,
//! 4 chains × 20 000 steps from the posterior mode, statistics over the second half.
//!
//! Runs `examples/logreg.sde` (its data from `examples/data/`, bound through `data`
//! declarations) and, in the same run, its peers: the hand-written Rust baseline (built
//! from its own directory, so with `-C target-cpu=native`), alternating with sdelang over
//! the repetitions, then the JAX, BlackJAX and NumPy peers. Prints gradient evaluations per
//! second (one energy + gradient per MALA step; median over repetitions), the ratio to the
//! baseline, the acceptance rate and the posterior means of b0 (intercept), b1 and b2.
//! Then SGLD with minibatches of 32 rows over as many steps: minibatch gradients per second,
//! against the full gradients per second of the MALA run.
//!
//! `cargo bench --bench w2 [-- --reps N --steps N --python-reps N --no-python]`

#[path = "support/mod.rs"]
mod support;

use sdelang::driver::{resolve, Overrides, Resolved};
use sdelang::pipeline::{compile_file, Compilation, CompileOptions};
use sdelang::runtime::{run_gibbs, Recorder, RunConfig};
use std::io;
use std::path::Path;
use std::time::Instant;
use support::{Runs, Table};

const CHAINS: u64 = 4;
const H: f64 = 0.035;

/// Sums of b0, b1, b2 over the recorded draws.
#[derive(Default)]
struct First3 {
    n: u64,
    sums: [f64; 3],
}

impl Recorder for First3 {
    fn record(&mut self, _step: u64, _t: f64, x: &[f64]) -> io::Result<()> {
        self.n += 1;
        for (s, v) in self.sums.iter_mut().zip(x) {
            *s += v;
        }
        Ok(())
    }
}

/// One timed sdelang run: gradient evaluations per second, acceptance, means of b0..b2.
fn sdelang_run(c: &Compilation, init: &[f64], config: &RunConfig) -> (f64, f64, [f64; 3]) {
    let start = Instant::now();
    let out = match run_gibbs(&c.compiled, init, config, |_| Ok(First3::default())) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("sdelang run failed: {e}");
            std::process::exit(1);
        }
    };
    let secs = start.elapsed().as_secs_f64();
    let n: u64 = out.recorders.iter().map(|r| r.n).sum();
    let mut means = [0.0; 3];
    for r in &out.recorders {
        for (m, s) in means.iter_mut().zip(r.sums) {
            *m += s / n as f64;
        }
    }
    let grads = (config.chains as u64 * (config.warmup + config.steps)) as f64;
    (grads / secs, out.acceptance_rate().unwrap_or(f64::NAN), means)
}

fn main() {
    let reps: u64 = support::arg("--reps", 3);
    let steps: u64 = support::arg("--steps", 20_000);
    let python_reps: u64 = if support::flag("--no-python") {
        0
    } else {
        support::arg("--python-reps", 1)
    };
    support::pin_threads();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/logreg.sde");
    let (c, r, compile_ms) = prepare(&path, &format!("mala(step = {H}, adapt = false)"), steps);
    println!(
        "W2 logreg: n = 569, d = {}, MALA h = {H}, {CHAINS} chains x {steps} steps from the mode \
         (means over the second half), {reps} alternating repetitions of sdelang and the Rust \
         baseline, {python_reps} of the Python peers",
        r.init.len()
    );
    println!(
        "sdelang compiled {} (data files included) in {compile_ms:.1} ms; {}\n",
        path.display(),
        support::conditions()
    );
    let steps_s = steps.to_string();
    let chains_s = CHAINS.to_string();
    let h_s = H.to_string();
    let args = [
        "--steps",
        steps_s.as_str(),
        "--chains",
        chains_s.as_str(),
        "--h",
        h_s.as_str(),
    ];
    let py_args = ["--steps", steps_s.as_str(), "--chains", chains_s.as_str()];
    let (mut ours, mut last) = (Vec::new(), (f64::NAN, [f64::NAN; 3]));
    let [mut base, mut jax, mut blackjax, mut numpy] = [(); 4].map(|_| Runs::default());
    for rep in 0..reps {
        let (rate, acc, means) = sdelang_run(&c, &r.init, &r.config);
        ours.push(rate);
        last = (acc, means);
        if base.wanted() {
            base.push("rust-baseline", support::try_baseline("w2-mala", &args));
        }
        if rep < python_reps {
            if jax.wanted() {
                jax.push("jax", support::try_python_peer("w2_jax.py", &py_args));
            }
            if blackjax.wanted() {
                blackjax.push("blackjax", support::try_python_peer("w2_blackjax.py", &py_args));
            }
            if numpy.wanted() {
                numpy.push("numpy", support::try_python_peer("w2_numpy.py", &py_args));
            }
        }
    }
    let mut table = Table::new(
        "W2 MALA, h = 0.035",
        "grad evals/s",
        "rust-baseline",
        &["acceptance"],
    );
    let note = format!(
        "{}; mean b0, b1, b2 = {}, {}, {}",
        support::runs_note(&ours),
        support::num(last.1[0]),
        support::num(last.1[1]),
        support::num(last.1[2])
    );
    table.row(
        "sdelang",
        support::median(&ours),
        vec![support::num(last.0)],
        &note,
    );
    for (name, runs) in [
        ("rust-baseline", &base),
        ("jax", &jax),
        ("blackjax", &blackjax),
        ("numpy", &numpy),
    ] {
        table.peer_row(name, runs, "grad_evals_per_sec", &["acceptance"]);
    }
    table.print();
    sgld_line(&path, steps, support::median(&ours).unwrap_or(f64::NAN));
    println!("reference (numpyro NUTS): mean b0, b1, b2 = -3.295, 5.299, 0.351 (sd 1.66, 8.07, 1.87)");
}

/// Times SGLD (batch 32 of 569 rows, the same number of steps) and prints its minibatch
/// gradient rate against the full-gradient rate `full` of the MALA runs.
fn sgld_line(path: &Path, steps: u64, full: f64) {
    const BATCH: u64 = 32;
    let (c, r, _) = prepare(path, &format!("sgld(step = 0.005, batch = {BATCH})"), steps);
    let (rate, _, _) = sdelang_run(&c, &r.init, &r.config);
    println!(
        "sdelang SGLD, batch {BATCH} of 569 rows: {} minibatch gradients/s, {:.1}x the full \
         gradients/s of MALA above (569/{BATCH} = {:.1})",
        support::num(rate),
        rate / full,
        569.0 / BATCH as f64
    );
}

/// Compiles `path` for `method` (exiting with the diagnostics on failure) and resolves a
/// run of `CHAINS` chains × `steps` steps, the first half warmup. Returns the compile time
/// in milliseconds too.
fn prepare(path: &Path, method: &str, steps: u64) -> (Compilation, Resolved, f64) {
    let options = CompileOptions {
        method: Some(method.to_string()),
        ..CompileOptions::default()
    };
    let t0 = Instant::now();
    let mut c = match compile_file(path, &options) {
        Ok(c) => c,
        Err(f) => {
            eprintln!("{}", sdelang::render::render(&f.diagnostics, &f.sources, false));
            std::process::exit(1);
        }
    };
    let compile_ms = t0.elapsed().as_secs_f64() * 1e3;
    let o = Overrides {
        method: options.method,
        chains: Some(CHAINS),
        warmup: Some(steps / 2),
        steps: Some(steps - steps / 2),
        seed: Some(support::seed()),
        ..Overrides::default()
    };
    match resolve(&c.model, &o, &mut c.sources) {
        Ok(r) => (c, r, compile_ms),
        Err(d) => {
            eprintln!("{}", sdelang::render::render(&d, &c.sources, false));
            std::process::exit(1);
        }
    }
}
