//! The chain driver: runs every chain as one rayon task, streams recorded draws to the chain's
//! recorder, checks every state for NaN/Inf and collects per-chain reports in chain order.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rayon::prelude::*;

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
}

/// Why a chain ended early.
enum Failure {
    Error(RunError),
    /// A lower-numbered chain failed, so this chain's result cannot be the reported one.
    Cancelled,
}

impl From<RunError> for Failure {
    fn from(e: RunError) -> Self {
        Failure::Error(e)
    }
}

/// Runs all chains in parallel (one rayon task each, in the current pool) and returns the
/// reports, or the error of the lowest-numbered failing chain. A chain is only cancelled when a
/// lower-numbered chain has failed, so the reported error does not depend on scheduling.
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
    let first_failed = AtomicUsize::new(usize::MAX);
    let results: Vec<Result<(ChainReport, R), Failure>> = (0..config.chains)
        .into_par_iter()
        .map(|chain| {
            let result = run_chain(config, init, chain, make_recorder, make_stepper(), &first_failed);
            if let Err(Failure::Error(_)) = result {
                first_failed.fetch_min(chain, Ordering::Relaxed);
            }
            result
        })
        .collect();
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

fn run_chain<R, F, St>(
    config: &RunConfig,
    init: &[f64],
    chain: usize,
    make_recorder: &F,
    mut stepper: St,
    first_failed: &AtomicUsize,
) -> Result<(ChainReport, R), Failure>
where
    R: Recorder,
    F: Fn(usize) -> io::Result<R> + Sync,
    St: Stepper,
{
    let start = Instant::now();
    let io_err = |source| RunError::Io { chain, source };
    let non_finite = |step: u64, (what, value): (NonFiniteWhat, f64)| RunError::NonFinite {
        chain,
        step,
        warmup: step > 0 && step <= config.warmup,
        what,
        value,
    };
    let mut recorder = make_recorder(chain).map_err(io_err)?;
    let mut rng = stream(config.seed, chain as u64);
    let mut x = init.to_vec();
    stepper.init(&x).map_err(|e| non_finite(0, e))?;
    let (warmup, thin) = (config.warmup, config.thin.max(1));
    let mut accepted_in_warmup = stepper.accepted();
    let mut draws = 0u64;
    // Steps left until the next record; counts through warmup too (a countdown, not a division).
    let mut until_record = warmup.saturating_add(thin);
    for step in 1..=warmup.saturating_add(config.steps) {
        stepper.advance(&mut x, step, &mut rng);
        if let Some((i, v)) = first_non_finite(&x) {
            return Err(non_finite(step, (NonFiniteWhat::Component(i), v)).into());
        }
        recorder.poll(step).map_err(io_err)?;
        if step == warmup {
            accepted_in_warmup = stepper.accepted();
        }
        until_record -= 1;
        if until_record == 0 {
            until_record = thin;
            recorder.record(step, stepper.time(step), &x).map_err(io_err)?;
            draws += 1;
        }
        if first_failed.load(Ordering::Relaxed) < chain {
            return Err(Failure::Cancelled);
        }
    }
    recorder.finish().map_err(io_err)?;
    let accepted = stepper
        .accepted()
        .map(|a| a.saturating_sub(accepted_in_warmup.unwrap_or(0)));
    let report = ChainReport {
        chain,
        steps_done: warmup.saturating_add(config.steps),
        draws,
        accepted,
        sampling_steps: config.steps,
        wall_time: start.elapsed(),
        stats: stepper.stats(),
    };
    Ok((report, recorder))
}
