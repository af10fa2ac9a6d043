//! The chain driver: runs every chain as one rayon task, streams recorded draws to the chain's
//! recorder, checks every state for NaN/Inf, takes checkpoints when a recorder asks, and
//! collects per-chain reports in chain order.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use super::checkpoint::{ChainState, Checkpoint, RestoreError, SamplerState, StateReader};
use super::config::RunConfig;
use super::error::{NonFiniteWhat, RunError};
use super::integrators::{first_non_finite, Sampler, SamplerStats};
use super::recorder::Recorder;
use super::rng::{stream, StreamRng};
use super::target::GibbsTarget;

/// What one chain did.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainReport {
    /// Chain index (0-based; its output file is `chain_{chain + 1}.csv`).
    pub chain: usize,
    /// Steps taken, warmup included.
    pub steps_done: u64,
    /// Draws recorded.
    pub draws: u64,
    /// Accepted proposals after warmup (Metropolis schemes only).
    pub accepted: Option<u64>,
    /// Sampling steps after warmup (the denominator of the acceptance rate).
    pub sampling_steps: u64,
    /// Wall time of the chain, recorder included.
    pub wall_time: Duration,
    /// The step a resumed chain continued from (`None`: it started afresh); the chain took
    /// `steps_done − resumed_from` steps in this run.
    pub resumed_from: Option<u64>,
    /// What the sampler reports beyond acceptance (adapted step size and mass, divergences,
    /// tree depths); all `None` for SDE schemes.
    pub stats: SamplerStats,
}

/// The result of a run: one report and one recorder per chain, in chain order.
#[derive(Debug)]
pub struct RunOutput<R> {
    /// Per-chain reports.
    pub reports: Vec<ChainReport>,
    /// The chains' recorders, finished, handed back (statistics, in-memory draws).
    pub recorders: Vec<R>,
    /// Wall time of the whole run.
    pub wall_time: Duration,
}

impl<R> RunOutput<R> {
    /// Accepted / proposed over all chains after warmup, for Metropolis schemes.
    pub fn acceptance_rate(&self) -> Option<f64> {
        let mut accepted = 0u64;
        let mut proposed = 0u64;
        for r in &self.reports {
            accepted += r.accepted?;
            proposed += r.sampling_steps;
        }
        (proposed > 0).then(|| accepted as f64 / proposed as f64)
    }

    /// Draws recorded over all chains.
    pub fn total_draws(&self) -> u64 {
        self.reports.iter().map(|r| r.draws).sum()
    }
}

/// One chain's scheme bound to its model: what the driver loop advances.
pub(crate) trait Stepper: Send {
    /// Prepares the scheme at the initial state.
    fn init(&mut self, x: &[f64]) -> Result<(), (NonFiniteWhat, f64)>;
    /// Takes step number `step` (1-based).
    fn advance(&mut self, x: &mut [f64], step: u64, rng: &mut StreamRng);
    /// The time after step `step` (0 for samplers).
    fn time(&self, step: u64) -> f64;
    /// Accepted proposals so far.
    fn accepted(&self) -> Option<u64>;
    /// The scheme's report.
    fn stats(&self) -> SamplerStats {
        SamplerStats::default()
    }
    /// Whether the scheme has sampler statistics.
    fn has_stats(&self) -> bool;
    /// The sampler statistics of the step that led to `x`.
    fn draw_stats(&self, x: &[f64], out: &mut [f64; 7]);
    /// Writes the workspace a checkpoint keeps.
    fn save(&self, out: &mut SamplerState);
    /// Continues at `x` from a checkpoint's workspace.
    fn restore(&mut self, x: &[f64], state: &mut StateReader<'_>) -> Result<(), RestoreError>;
}

/// A sampler and the target it samples.
pub(crate) struct GibbsStepper<'a, T: ?Sized, S> {
    pub target: &'a T,
    pub sampler: S,
}

impl<T: GibbsTarget + ?Sized, S: Sampler> Stepper for GibbsStepper<'_, T, S> {
    fn init(&mut self, x: &[f64]) -> Result<(), (NonFiniteWhat, f64)> {
        self.sampler.init(self.target, x)
    }
    #[inline]
    fn advance(&mut self, x: &mut [f64], _step: u64, rng: &mut StreamRng) {
        self.sampler.step(self.target, x, rng);
        self.target.canonicalize(x);
    }
    fn time(&self, _step: u64) -> f64 {
        0.0
    }
    fn accepted(&self) -> Option<u64> {
        self.sampler.accepted()
    }
    fn stats(&self) -> SamplerStats {
        self.sampler.stats()
    }
    fn has_stats(&self) -> bool {
        true
    }
    fn draw_stats(&self, x: &[f64], out: &mut [f64; 7]) {
        self.sampler.draw_stats(self.target, x, out);
    }
    fn save(&self, out: &mut SamplerState) {
        self.sampler.save(out);
    }
    fn restore(&mut self, x: &[f64], state: &mut StateReader<'_>) -> Result<(), RestoreError> {
        self.sampler.restore(self.target, x, state)
    }
}

/// Why a chain ended early.
pub(crate) enum Failure {
    Error(RunError),
    /// Another chain's failure stopped this one, so its result cannot be the reported one.
    Cancelled,
}

impl From<RunError> for Failure {
    fn from(e: RunError) -> Self {
        Failure::Error(e)
    }
}

/// How chains learn that others failed.
struct Cancel {
    /// The lowest-numbered chain that failed with an error that cancels higher chains.
    first_failed: AtomicUsize,
    /// Set when every chain must stop (a non-finite state with `stop_all_on_nonfinite`).
    all: AtomicBool,
}

impl Cancel {
    fn cancelled(&self, chain: usize) -> bool {
        self.first_failed.load(Ordering::Relaxed) < chain || self.all.load(Ordering::Relaxed)
    }

    /// Records chain `chain`'s failure. A non-finite state stops only that chain unless the
    /// run asks to stop all; an interruption stops only that chain (each chain sees the
    /// request itself and writes its own checkpoint); other errors cancel higher chains.
    fn failed(&self, chain: usize, e: &RunError, config: &RunConfig) {
        match e {
            RunError::NonFinite { .. } => {
                if config.stop_all_on_nonfinite {
                    self.all.store(true, Ordering::Relaxed);
                }
            }
            RunError::Interrupted { .. } => {}
            _ => {
                self.first_failed.fetch_min(chain, Ordering::Relaxed);
            }
        }
    }
}

/// Runs all chains in parallel (one rayon task each, in the current pool) and returns the
/// reports, or the error of the lowest-numbered failing chain. A chain is cancelled only when a
/// lower-numbered chain has failed (or every chain must stop), so the reported error does not
/// depend on scheduling.
pub(crate) fn run_all<R, F, St, M>(
    config: &RunConfig,
    init: &[f64],
    make_recorder: &F,
    make_stepper: M,
) -> Result<RunOutput<R>, RunError>
where
    R: Recorder,
    F: Fn(usize) -> io::Result<R> + Sync,
    St: Stepper,
    M: Fn() -> St + Sync,
{
    let start = Instant::now();
    let cancel = Cancel {
        first_failed: AtomicUsize::new(usize::MAX),
        all: AtomicBool::new(false),
    };
    let results: Vec<Result<(ChainReport, R), Failure>> = (0..config.chains)
        .into_par_iter()
        .map(|chain| {
            let result = run_chain(config, init, chain, make_recorder, make_stepper(), &cancel);
            if let Err(Failure::Error(e)) = &result {
                cancel.failed(chain, e, config);
            }
            result
        })
        .collect();
    collect(results, start)
}

/// The run's output from per-chain results in chain order: the first chain's
/// error in chain order wins (cancelled chains only stopped because of it).
pub(crate) fn collect<R>(
    results: Vec<Result<(ChainReport, R), Failure>>,
    start: Instant,
) -> Result<RunOutput<R>, RunError> {
    let mut reports = Vec::with_capacity(results.len());
    let mut recorders = Vec::with_capacity(results.len());
    for result in results {
        match result {
            Ok((report, recorder)) => {
                reports.push(report);
                recorders.push(recorder);
            }
            Err(Failure::Error(e)) => return Err(e),
            Err(Failure::Cancelled) => {}
        }
    }
    Ok(RunOutput {
        reports,
        recorders,
        wall_time: start.elapsed(),
    })
}

/// Where a chain stands between steps (everything a checkpoint needs besides the state, the
/// stream and the scheme's workspace).
struct Position {
    step: u64,
    draws: u64,
    /// Steps left until the next record; counts through warmup too (a countdown, not a division).
    until_record: u64,
    accepted_in_warmup: Option<u64>,
    /// The checkpoint's step, when the chain was resumed.
    resumed_from: Option<u64>,
}

/// A chain's state, stream and position, fresh or from the recorder's checkpoint.
fn start_chain<R: Recorder, St: Stepper>(
    config: &RunConfig,
    init: &[f64],
    chain: usize,
    recorder: &mut R,
    stepper: &mut St,
) -> Result<(Vec<f64>, StreamRng, Position), RunError> {
    let Some(saved) = recorder.resume_from() else {
        let init = &config.initial_state(init, chain)[..];
        stepper
            .init(init)
            .map_err(|e| non_finite(config, chain, 0, 0.0, e, init))?;
        let pos = Position {
            step: 0,
            draws: 0,
            until_record: config.warmup.saturating_add(config.thin.max(1)),
            accepted_in_warmup: stepper.accepted(),
            resumed_from: None,
        };
        return Ok((init.to_vec(), stream(config.seed, chain as u64), pos));
    };
    let total = config.warmup.saturating_add(config.steps);
    if saved.chain != chain || saved.x.len() != init.len() || saved.step > total {
        let reason = format!(
            "the checkpoint is of chain {} at step {} with {} state components; this run has {} \
             steps and {} components",
            saved.chain + 1,
            saved.step,
            saved.x.len(),
            total,
            init.len()
        );
        return Err(RunError::BadCheckpoint { chain, reason });
    }
    let x = saved.state();
    let mut reader = saved.sampler.reader();
    let restored = stepper
        .restore(&x, &mut reader)
        .and_then(|()| Ok(reader.finish()?));
    match restored {
        Ok(()) => {}
        Err(RestoreError::Mismatch) => return Err(mismatch(chain, config.method.name())),
        Err(RestoreError::NonFinite(what, v)) => {
            let time = stepper.time(saved.step);
            return Err(non_finite(config, chain, saved.step, time, (what, v), &x));
        }
    }
    let pos = Position {
        step: saved.step,
        draws: saved.draws,
        until_record: saved.until_record,
        accepted_in_warmup: saved.accepted_in_warmup,
        resumed_from: Some(saved.step),
    };
    Ok((x, saved.rng, pos))
}

/// The error for a checkpoint whose workspace does not fit `method`.
pub(crate) fn mismatch(chain: usize, method: &str) -> RunError {
    RunError::BadCheckpoint {
        chain,
        reason: format!("its saved workspace does not fit the method `{method}`"),
    }
}

fn non_finite(
    config: &RunConfig,
    chain: usize,
    step: u64,
    time: f64,
    (what, value): (NonFiniteWhat, f64),
    x: &[f64],
) -> RunError {
    RunError::NonFinite {
        chain,
        step,
        warmup: step > 0 && step <= config.warmup,
        what,
        value,
        time,
        state: x.to_vec(),
    }
}

fn run_chain<R, F, St>(
    config: &RunConfig,
    init: &[f64],
    chain: usize,
    make_recorder: &F,
    mut stepper: St,
    cancel: &Cancel,
) -> Result<(ChainReport, R), Failure>
where
    R: Recorder,
    F: Fn(usize) -> io::Result<R> + Sync,
    St: Stepper,
{
    let start = Instant::now();
    let _scope = super::target::ChainScope::enter(chain);
    let io_err = |source| RunError::Io { chain, source };
    let mut recorder = make_recorder(chain).map_err(io_err)?;
    let (mut x, mut rng, mut pos) = start_chain(config, init, chain, &mut recorder, &mut stepper)?;
    let (warmup, thin) = (config.warmup, config.thin.max(1));
    let total = warmup.saturating_add(config.steps);
    let with_stats = recorder.wants_stats() && stepper.has_stats();
    while pos.step < total {
        let step = pos.step + 1;
        stepper.advance(&mut x, step, &mut rng);
        pos.step = step;
        if let Some((i, v)) = first_non_finite(&x) {
            let what = (NonFiniteWhat::Component(i), v);
            return Err(non_finite(config, chain, step, stepper.time(step), what, &x).into());
        }
        recorder.poll(step).map_err(io_err)?;
        if step == warmup {
            pos.accepted_in_warmup = stepper.accepted();
        }
        record_if_due(&mut recorder, &stepper, &mut pos, &x, thin, with_stats).map_err(io_err)?;
        match recorder.checkpoint_due(step) {
            Checkpoint::No => {}
            due => {
                let state = snapshot(chain, &pos, &x, &rng, &stepper, false);
                recorder.checkpoint(&state).map_err(io_err)?;
                if due == Checkpoint::SaveAndStop {
                    return Err(RunError::Interrupted { chain, step }.into());
                }
            }
        }
        if cancel.cancelled(chain) {
            return Err(Failure::Cancelled);
        }
    }
    let report = finish_chain(config, chain, &mut recorder, &stepper, &pos, (&x, &rng), start)?;
    Ok((report, recorder))
}

/// After a chain's last step: its final checkpoint (marking it finished, so a resumed run does
/// not step it again), the recorder's finish, and the report.
fn finish_chain<R: Recorder, St: Stepper>(
    config: &RunConfig,
    chain: usize,
    recorder: &mut R,
    stepper: &St,
    pos: &Position,
    (x, rng): (&[f64], &StreamRng),
    start: Instant,
) -> Result<ChainReport, RunError> {
    let io_err = |source| RunError::Io { chain, source };
    if recorder.checkpoint_at_end() {
        let state = snapshot(chain, pos, x, rng, stepper, true);
        recorder.checkpoint(&state).map_err(io_err)?;
    }
    recorder.finish().map_err(io_err)?;
    let accepted = stepper
        .accepted()
        .map(|a| a.saturating_sub(pos.accepted_in_warmup.unwrap_or(0)));
    Ok(ChainReport {
        chain,
        steps_done: pos.step,
        draws: pos.draws,
        accepted,
        sampling_steps: config.steps,
        wall_time: start.elapsed(),
        resumed_from: pos.resumed_from,
        stats: stepper.stats(),
    })
}

/// Counts step `pos.step` toward the next record and records the draw when it is due.
fn record_if_due<R: Recorder, St: Stepper>(
    recorder: &mut R,
    stepper: &St,
    pos: &mut Position,
    x: &[f64],
    thin: u64,
    with_stats: bool,
) -> io::Result<()> {
    pos.until_record -= 1;
    if pos.until_record != 0 {
        return Ok(());
    }
    pos.until_record = thin;
    pos.draws += 1;
    let (step, t) = (pos.step, stepper.time(pos.step));
    if with_stats {
        let mut stats = [0.0; 7];
        stepper.draw_stats(x, &mut stats);
        recorder.record_stats(step, t, x, &stats)
    } else {
        recorder.record(step, t, x)
    }
}

/// The chain's checkpoint after `pos.step` (`done`: after its last step).
fn snapshot<St: Stepper>(
    chain: usize,
    pos: &Position,
    x: &[f64],
    rng: &StreamRng,
    st: &St,
    done: bool,
) -> ChainState {
    let mut sampler = SamplerState::default();
    st.save(&mut sampler);
    ChainState {
        chain,
        step: pos.step,
        time: 0,
        x: x.iter().map(|v| v.to_bits()).collect(),
        rng: rng.clone(),
        sampler,
        draws: pos.draws,
        until_record: pos.until_record,
        accepted_in_warmup: pos.accepted_in_warmup,
        done,
    }
}
