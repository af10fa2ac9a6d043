//! Workload W1 (../shared/peers/WORKLOADS.md): d = 1000 anisotropic Gaussian,
//! 16 chains × 10 000 steps, ULA (h = 0.01) and BAOAB (γ = 1, h = 0.1), x₀ = 0.
//!
//! Runs the compiled `examples/gauss_1k.sde` and, in the same run, its peers: the
//! hand-written Rust baseline (built from its own directory, so with
//! `-C target-cpu=native`), in its scalar-RNG and SIMD-RNG variants, alternating with
//! sdelang over the repetitions, then the JAX and NumPy peers. Prints one table per
//! method: dimension-steps per second (median over repetitions), the ratio to the
//! scalar-RNG baseline, and the pooled second-half moments of x₁ and x_d.
//!
//! `cargo bench --bench w1 [-- --reps N --steps N --python-reps N --no-python]`
//! (Python peers need `benches/setup-peers.sh`; they are ~10× slower, so they run
//! `--python-reps` times, default 1.)

#[path = "support/mod.rs"]
mod support;

use sdelang::pipeline::{compile_file, Compilation, CompileOptions};
use sdelang::runtime::{run_gibbs, Kinetic, Method, Recorder, RunConfig};
use std::io;
use std::path::Path;
use std::time::Instant;
use support::{Runs, Table};

const CHAINS: u64 = 16;

/// Sums of x₁ and x_d over the recorded draws (the peers' statistics).
#[derive(Default)]
struct Moments {
    n: u64,
    s1f: f64,
    s2f: f64,
    s1l: f64,
    s2l: f64,
}

impl Recorder for Moments {
    fn record(&mut self, _step: u64, _t: f64, x: &[f64]) -> io::Result<()> {
        let (f, l) = (
            x.first().copied().unwrap_or(0.0),
            x.last().copied().unwrap_or(0.0),
        );
        self.n += 1;
        self.s1f += f;
        self.s2f += f * f;
        self.s1l += l;
        self.s2l += l * l;
        Ok(())
    }
}

impl Moments {
    fn add(&mut self, o: &Moments) {
        self.n += o.n;
        self.s1f += o.s1f;
        self.s2f += o.s2f;
        self.s1l += o.s1l;
        self.s2l += o.s2l;
    }

    /// Mean and variance of x₁, then of x_d, as the peers' extra columns.
    fn columns(&self) -> Vec<String> {
        let n = self.n as f64;
        let (mf, ml) = (self.s1f / n, self.s1l / n);
        [mf, self.s2f / n - mf * mf, ml, self.s2l / n - ml * ml]
            .into_iter()
            .map(support::num)
            .collect()
    }
}

/// One W1 method and the names its peers give it.
struct Case {
    title: &'static str,
    method: Method,
    /// `ula` or `baoab`: the peers' argument.
    peer: &'static str,
}

/// The bench's settings from its command line.
struct Settings {
    reps: u64,
    steps: u64,
    python_reps: u64,
}

/// One timed sdelang run: dimension-steps per second and the pooled moments.
fn sdelang_run(compiled: &Compilation, d: usize, steps: u64, config: &RunConfig) -> (f64, Moments) {
    let init = vec![0.0; d];
    let start = Instant::now();
    let out = run_gibbs(&compiled.compiled, &init, config, |_| Ok(Moments::default()));
    let secs = start.elapsed().as_secs_f64();
    let out = match out {
        Ok(o) => o,
        Err(e) => {
            eprintln!("sdelang run failed: {e}");
            std::process::exit(1);
        }
    };
    let mut m = Moments::default();
    for r in &out.recorders {
        m.add(r);
    }
    ((d as u64 * CHAINS * steps) as f64 / secs, m)
}

fn run_case(compiled: &Compilation, d: usize, case: Case, s: &Settings) -> Table {
    let config = RunConfig {
        method: case.method,
        chains: CHAINS as usize,
        warmup: s.steps / 2,
        steps: s.steps - s.steps / 2,
        thin: 1,
        seed: support::seed(),
        temperature: 1.0,
        t0: 0.0,
        stop_all_on_nonfinite: false,
        init_draws: Vec::new(),
    };
    let steps = s.steps.to_string();
    let chains = CHAINS.to_string();
    let base_args = ["--steps", steps.as_str(), "--chains", chains.as_str()];
    let simd_args = [base_args.as_slice(), &["--rng", "simd"]].concat();
    let py_args = [&[case.peer], base_args.as_slice()].concat();
    let workload = format!("w1-{}", case.peer);
    let (mut ours, mut moments) = (Vec::new(), Moments::default());
    let [mut base, mut simd, mut jax, mut numpy] = [(); 4].map(|_| Runs::default());
    for rep in 0..s.reps {
        let (rate, m) = sdelang_run(compiled, d, s.steps, &config);
        ours.push(rate);
        moments = m;
        if base.wanted() {
            base.push("rust-baseline", support::try_baseline(&workload, &base_args));
        }
        if simd.wanted() {
            simd.push(
                "rust-baseline-simdrng",
                support::try_baseline(&workload, &simd_args),
            );
        }
        if rep < s.python_reps {
            if jax.wanted() {
                jax.push("jax", support::try_python_peer("w1_jax.py", &py_args));
            }
            if numpy.wanted() {
                numpy.push("numpy", support::try_python_peer("w1_numpy.py", &py_args));
            }
        }
    }
    let keys = ["mean_first", "var_first", "mean_last", "var_last"];
    let mut table = Table::new(
        case.title,
        "dim-steps/s",
        "rust-baseline",
        &["mean x_1", "var x_1", "mean x_d", "var x_d"],
    );
    let note = support::runs_note(&ours);
    table.row("sdelang", support::median(&ours), moments.columns(), &note);
    table.peer_row("rust-baseline", &base, "dim_steps_per_sec", &keys);
    table.peer_row("rust-baseline-simdrng", &simd, "dim_steps_per_sec", &keys);
    table.peer_row("jax", &jax, "dim_steps_per_sec", &keys);
    table.peer_row("numpy", &numpy, "dim_steps_per_sec", &keys);
    table
}

fn main() {
    let settings = Settings {
        reps: support::arg("--reps", 3),
        steps: support::arg("--steps", 10_000),
        python_reps: if support::flag("--no-python") {
            0
        } else {
            support::arg("--python-reps", 1)
        },
    };
    support::pin_threads();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/gauss_1k.sde");
    let t0 = Instant::now();
    let compiled = match compile_file(&path, &CompileOptions::default()) {
        Ok(c) => c,
        Err(f) => {
            eprintln!("{}", sdelang::render::render(&f.diagnostics, &f.sources, false));
            std::process::exit(1);
        }
    };
    let d = compiled.model.state_size();
    println!(
        "W1 gauss-1k: d = {d}, {CHAINS} chains x {} steps (statistics over the second half), \
         {} alternating repetitions of sdelang and the Rust baseline, {} of the Python peers",
        settings.steps, settings.reps, settings.python_reps
    );
    println!(
        "sdelang compiled {} in {:.1} ms; {}",
        path.display(),
        t0.elapsed().as_secs_f64() * 1e3,
        support::conditions()
    );
    println!("exact: mean 0 everywhere, var x_1 = 1, var x_d = 100 (x_d mixes slowly; see RESULTS.md)\n");
    let kinetic = Kinetic {
        step: 0.1,
        friction: 1.0,
        mass: 1.0,
    };
    let cases = [
        Case {
            title: "W1a ULA, h = 0.01",
            method: Method::ula(0.01),
            peer: "ula",
        },
        Case {
            title: "W1b BAOAB, h = 0.1, gamma = 1",
            method: Method::Baoab(kinetic),
            peer: "baoab",
        },
    ];
    for case in cases {
        run_case(&compiled, d, case, &settings).print();
    }
}
