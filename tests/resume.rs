//! Checkpoints for every sampler and SDE scheme: a run stopped mid-way (mid-warmup and
//! mid-sampling, once or twice, with chains stopping at different steps or finishing first)
//! and resumed writes files byte-identical to an uninterrupted run with the same seed, and the
//! resumed chains really continue: each takes exactly the steps it had left (counted by a
//! recorder's `poll`, which runs once per step) and reports the step it resumed from.
//!
//! The runs go through the driver as `sde run` does (checkpoint files, `.partial` files cut
//! back to their checkpointed length); the stop is asked by an extra recorder at a chosen step,
//! so the tests are deterministic. Models and runs are small so the file runs in well under a
//! second of sampling.

use sdelang::driver::files::read_checkpoint;
use sdelang::driver::{execute_with, resolve, DriverError, Overrides, RunPlan};
use sdelang::output::FileFormat;
use sdelang::pipeline::{compile_source, Compilation, CompileOptions};
use sdelang::runtime::{ChainState, Checkpoint, Recorder, RunError};
use sdelang::source::SourceMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A two-dimensional anharmonic, correlated target (positive definite Hessian everywhere, so
/// Newton–Langevin needs no damping growth).
const ENERGY: &str = "model m {\n  state x: real[2]\n  \
                      energy U = 0.5 * x[0]^2 + x[1]^2 + 0.25 * x[0]^4 + 0.3 * x[0] * x[1]\n}\n";

/// Additive noise (every SDE scheme applies).
const OU: &str = "model ou {\n  state x: real[2] = [1, -1]\n  dx = -x dt + 0.5 dW\n}\n";

/// Diagonal multiplicative noise.
const MULT: &str = "model mult {\n  state x: real[2] = [1, 2]\n  dx = (1 - x) dt + 0.4 * x dW\n}\n";

/// Stops each chain at its own step (`None`: never) and counts the steps it takes.
struct Probe {
    stop_at: Option<u64>,
    steps: Arc<AtomicU64>,
}

impl Recorder for Probe {
    fn record(&mut self, _step: u64, _t: f64, _x: &[f64]) -> io::Result<()> {
        Ok(())
    }

    fn poll(&mut self, _step: u64) -> io::Result<()> {
        self.steps.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn checkpoint_due(&mut self, step: u64) -> Checkpoint {
        if self.stop_at == Some(step) {
            Checkpoint::SaveAndStop
        } else {
            Checkpoint::No
        }
    }
}

fn compile(model: &str, run: &str) -> Compilation {
    let text = format!("{model}run {{\n  {run}\n}}\n");
    let mut sources = SourceMap::new();
    let id = sources.add("resume.sde", None, text);
    compile_source(sources, id, None, &CompileOptions::default())
        .unwrap_or_else(|f| panic!("{}", sdelang::render::render(&f.diagnostics, &f.sources, false)))
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sdelang-resume-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn plan(c: &mut Compilation, dir: &Path, format: FileFormat) -> RunPlan {
    let r = resolve(&c.model, &Overrides::default(), &mut c.sources).unwrap_or_else(|d| panic!("{d:?}"));
    let columns = c.model.state_columns();
    let mut plan = RunPlan::new(r.config, r.init, dir.to_path_buf(), columns, c.model.is_gibbs());
    plan.sde = r.sde;
    plan.model = c.model.name.clone();
    plan.format = format;
    plan.checkpoints = true;
    plan
}

/// Per chain of a finished run: steps done in all, and the step it resumed from.
type Reports = Vec<(u64, Option<u64>)>;

/// One run with per-chain stops; the steps each chain took, and the outcome.
fn run(c: &Compilation, plan: &RunPlan, stops: &[Option<u64>]) -> (Vec<u64>, Result<Reports, DriverError>) {
    let counters: Vec<Arc<AtomicU64>> = (0..plan.config.chains).map(|_| Arc::default()).collect();
    let result = execute_with(c.compiled.native(), plan, |chain| Probe {
        stop_at: stops.get(chain).copied().flatten(),
        steps: Arc::clone(&counters[chain]),
    });
    let taken = counters.iter().map(|c| c.load(Ordering::Relaxed)).collect();
    let reports = result.map(|(done, _)| {
        let r = &done.output.reports;
        r.iter().map(|r| (r.steps_done, r.resumed_from)).collect()
    });
    (taken, reports)
}

/// The output files a run leaves: chain files and `run.json` (CmdStan's elapsed-time comments
/// are wall times and are left out).
fn outputs(dir: &Path, chains: usize, format: FileFormat) -> Vec<(String, String)> {
    let ext = if format == FileFormat::Npy { "npy" } else { "csv" };
    let mut names: Vec<String> = (1..=chains).map(|c| format!("chain_{c}.{ext}")).collect();
    names.push("run.json".to_string());
    names
        .into_iter()
        .map(|name| {
            let bytes = std::fs::read(dir.join(&name)).unwrap_or_else(|e| panic!("{name}: {e}"));
            let text = match format {
                FileFormat::Npy if name.ends_with(".npy") => {
                    bytes.iter().map(|b| format!("{b:02x}")).collect()
                }
                _ => String::from_utf8(bytes)
                    .unwrap()
                    .lines()
                    .filter(|l| !l.contains("seconds ("))
                    .collect::<Vec<_>>()
                    .join("\n"),
            };
            (name, text)
        })
        .collect()
}

/// What the checkpoints of an interrupted run hold.
fn checkpoints(dir: &Path, chains: usize) -> Vec<ChainState> {
    (0..chains)
        .filter_map(|c| read_checkpoint(dir, c).unwrap().map(|ck| ck.state))
        .collect()
}

/// Runs `model` with `run` uninterrupted, then interrupted at each row of `stops` (one step
/// per chain) and resumed, and compares. Returns the checkpoints seen after each interruption.
fn resumes_exactly(name: &str, model: &str, run_block: &str, stops: &[&[Option<u64>]]) -> Vec<ChainState> {
    let mut c = compile(model, run_block);
    let format = if c.model.is_gibbs() {
        FileFormat::CmdStan
    } else {
        FileFormat::Csv
    };
    let (full_dir, cut_dir) = (
        temp_dir(&format!("{name}-full")),
        temp_dir(&format!("{name}-cut")),
    );
    let full = plan(&mut c, &full_dir, format);
    let chains = full.config.chains;
    let (_, reports) = run(&c, &full, &[]);
    let totals: Vec<u64> = reports.unwrap().iter().map(|r| r.0).collect();
    let mut cut = plan(&mut c, &cut_dir, format);
    let mut seen = Vec::new();
    let mut at: Vec<u64> = vec![0; chains];
    for (k, row) in stops.iter().enumerate() {
        let (taken, result) = run(&c, &cut, row);
        assert!(
            matches!(result, Err(DriverError::Run(RunError::Interrupted { .. }))),
            "{name}: interruption {k} did not stop the run"
        );
        for chain in 0..chains {
            let to = row.get(chain).copied().flatten().unwrap_or(totals[chain]);
            let to = to.max(at[chain]);
            assert_eq!(taken[chain], to - at[chain], "{name}: chain {chain} in run {k}");
            at[chain] = to;
        }
        let states = checkpoints(&cut_dir, chains);
        assert_eq!(states.len(), chains, "{name}: every chain has a checkpoint");
        for (s, want) in states.iter().zip(&at) {
            assert_eq!(s.step, *want, "{name}: checkpoint step");
        }
        seen.extend(states);
        cut.resume = true;
    }
    let (taken, reports) = run(&c, &cut, &[]);
    let reports = reports.unwrap_or_else(|e| panic!("{name}: resumed run failed: {e}"));
    for chain in 0..chains {
        assert_eq!(
            taken[chain],
            totals[chain] - at[chain],
            "{name}: chain {chain} after resume"
        );
        assert!(taken[chain] < totals[chain], "{name}: chain {chain} restarted");
        assert_eq!(reports[chain], (totals[chain], Some(at[chain])), "{name}: report");
    }
    let (a, b) = (
        outputs(&full_dir, chains, format),
        outputs(&cut_dir, chains, format),
    );
    for ((name_a, text_a), (_, text_b)) in a.iter().zip(&b) {
        assert!(text_a == text_b, "{name}: {name_a} differs after resume");
    }
    assert!(
        !cut_dir.join("checkpoint").exists(),
        "{name}: checkpoints removed at the end"
    );
    seen
}

const SAMPLING: &str = "chains = 2, warmup = 60, steps = 100, thin = 2, seed = 7\n  init x = [0.5, -0.5]";

fn sampler(name: &str, method: &str, stops: &[&[Option<u64>]]) {
    resumes_exactly(name, ENERGY, &format!("method = {method}\n  {SAMPLING}"), stops);
}

/// Mid-warmup, then mid-sampling (the chains at different steps).
const TWICE: &[&[Option<u64>]] = &[&[Some(25), Some(31)], &[Some(90), Some(117)]];

/// Inside the first mass window, in the terminal buffer after it (windows of a 60-step
/// warmup: steps 10–54), then while sampling.
const ACROSS_WINDOWS: &[&[Option<u64>]] = &[
    &[Some(30), Some(41)],
    &[Some(57), Some(56)],
    &[Some(99), Some(140)],
];

#[test]
fn ula_and_preconditioned_ula() {
    sampler("ula", "ula(step = 0.1)", TWICE);
    sampler("ula-mass", "ula(step = 0.1, mass = [1, 2])", TWICE);
}

#[test]
fn mala_adapting_step_and_mass() {
    sampler("mala", "mala(step = 0.3)", TWICE);
    sampler("mala-mass", "mala(step = 0.3, adapt_mass = true)", ACROSS_WINDOWS);
    sampler("mala-dense", "mala(step = 0.3, mass = [2, 0.3, 0.3, 1])", TWICE);
}

#[test]
fn newton_langevin_adapting() {
    sampler("newton", "newton_langevin(step = 0.5)", TWICE);
}

#[test]
fn kinetic_schemes() {
    for (name, method) in [
        ("baoab", "baoab(step = 0.1)"),
        ("obabo", "obabo(step = 0.1)"),
        ("aboba", "aboba(step = 0.1)"),
        ("ubu", "ubu(step = 0.1)"),
        ("midpoint", "randomized_midpoint(step = 0.1)"),
    ] {
        sampler(name, method, TWICE);
    }
    // chain 1 finishes before chain 2 is stopped: it is not stepped again on resume
    sampler("baoab-finished", "baoab(step = 0.1)", &[&[None, Some(40)]]);
}

#[test]
fn hmc_and_nuts_adapting_step_and_mass() {
    sampler("hmc", "hmc(step = 0.2, steps = 5)", ACROSS_WINDOWS);
    sampler("hmc-length", "hmc(step = 0.2, length = 1, mass = [1, 2])", TWICE);
    sampler("nuts", "nuts(step = 0.3)", ACROSS_WINDOWS);
    sampler("nuts-dense", "nuts(step = 0.3, mass = [2, 0.3, 0.3, 1])", TWICE);
}

#[test]
fn stochastic_gradient_schemes() {
    // Minibatches are drawn from the chain's stream, and SGLD's decaying step follows its
    // step counter: both must continue where they stopped.
    let dir = temp_dir("sg-data");
    std::fs::create_dir_all(&dir).unwrap();
    let csv = dir.join("y.csv");
    let rows: Vec<String> = (0..12).map(|i| format!("{}", 0.3 * i as f64 - 1.4)).collect();
    std::fs::write(&csv, format!("y\n{}\n", rows.join("\n"))).unwrap();
    let model = "data n: int\ndata y: real[n]\nmodel m {\n  state x: real[2]\n  \
                 energy U = sum(i in 0..n, (y[i] - x[0])^2 / 2 + (y[i] * x[1])^2) + dot(x, x) / 2\n}\n";
    for (name, method) in [
        ("sgld", "sgld(step = 0.01, batch = 4, decay = 0.6, offset = 10)"),
        ("sgld-replace", "sgld(step = 0.01, batch = 5, replace = true)"),
        ("sghmc", "sghmc(step = 0.05, friction = 2, batch = 3)"),
    ] {
        let run = format!("data = \"{}\"\n  method = {method}\n  {SAMPLING}", csv.display());
        resumes_exactly(name, model, &run, TWICE);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn annealed_langevin_mid_stage() {
    let method =
        "annealed_langevin(step = 0.02, schedule = geometric(3, 1), stages = 4, steps_per_stage = 30)";
    sampler("annealed", method, TWICE);
}

#[test]
fn fixed_step_sde_schemes_by_steps() {
    let run = |m: &str| format!("method = {m}\n  chains = 2, warmup = 10, steps = 200, thin = 3, seed = 5");
    for (name, model, method) in [
        ("em", OU, "euler_maruyama(dt = 0.01)"),
        ("milstein", MULT, "milstein(dt = 0.01)"),
        ("heun", MULT, "heun(dt = 0.01)"),
        ("sra1", OU, "sra1(dt = 0.01)"),
        ("sriw1", MULT, "sriw1(dt = 0.01)"),
    ] {
        resumes_exactly(
            name,
            model,
            &run(method),
            &[&[Some(7), Some(44)], &[Some(150), None]],
        );
    }
}

#[test]
fn fixed_step_sde_with_save_times() {
    // save times off the grid: steps are shortened onto them, then the grid resumes
    let every = "method = heun(dt = 0.013)\n  chains = 2, t_end = 2, save_every = 0.25, seed = 5";
    resumes_exactly(
        "heun-every",
        MULT,
        every,
        &[&[Some(19), Some(20)], &[Some(100), Some(77)]],
    );
    let at = "method = sriw1(dt = 0.02)\n  chains = 2, save_at = [0, 0.3, 0.31, 1, 1.7], seed = 5";
    resumes_exactly("sriw1-at", MULT, at, &[&[Some(15), Some(16)]]);
}

/// Adaptive steps: the checkpoints must have caught a path with rejected steps and pending
/// Brownian increments on its stack, or the test would not test them.
fn adaptive(name: &str, run_block: &str, stops: &[&[Option<u64>]]) {
    let seen = resumes_exactly(name, MULT, run_block, stops);
    // an adaptive path's workspace: h, then counts [accepted, rejected, pending intervals]
    let pending = seen
        .iter()
        .any(|s| s.sampler.counts.get(2).is_some_and(|n| *n > 0));
    assert!(pending, "{name}: no checkpoint with pending Brownian increments");
}

#[test]
fn adaptive_sde_steps() {
    let steps = "method = milstein(dt = 0.05, abstol = 1e-3)\n  chains = 2, t_end = 2, seed = 3";
    adaptive(
        "adaptive-steps",
        steps,
        &[&[Some(11), Some(12)], &[Some(29), Some(31)]],
    );
    let at = "method = heun(dt = 0.05, reltol = 1e-3, abstol = 1e-4)\n  \
              chains = 2, save_at = [0.1, 0.5, 0.75, 1.5, 2], seed = 3";
    adaptive("adaptive-at", at, &[&[Some(9), Some(10)], &[Some(33), Some(30)]]);
    let every = "method = euler_maruyama(dt = 0.05, abstol = 1e-3)\n  \
                 chains = 2, t_end = 1, save_every = 0.1, seed = 3";
    adaptive("adaptive-every", every, &[&[Some(13), Some(14)]]);
}
