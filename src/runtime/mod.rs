//! Runtime: runs compiled models — integrators, parallel chains, random streams, recorders.
//!
//! Input is a model behind [`GibbsTarget`] (energy models, sampled by [`run_gibbs`]) or
//! [`SdeSystem`] (SDE models, integrated by [`run_sde`]), an initial state and a [`RunConfig`].
//!
//! Vocabulary:
//! - *chain*: one independent run of a scheme (for SDEs, one path), indexed 0-based in code and
//!   1-based in messages and file names. Chains run in parallel, one rayon task each.
//! - *stream*: the random numbers of one chain, keyed by `(seed, chain index)` ([`rng`]), so a
//!   chain's results are bitwise identical whatever the thread count.
//! - *step*: one application of the scheme, counted from 1 over the whole run; the first
//!   `warmup` steps are not recorded, then every `thin`-th step is.
//! - *draw*: a recorded state, streamed to the chain's [`Recorder`] (memory is constant in the
//!   run length); the recorders come back in [`RunOutput`] with one [`ChainReport`] per chain.
//! - *scheme*: an integrator in [`integrators`], one file each, implementing
//!   [`integrators::Sampler`] or [`integrators::SdeScheme`].
//!
//! Every state is checked after every step: a NaN or infinite component stops that chain with
//! [`RunError::NonFinite`] naming the chain, the step, the time, the component and the state;
//! the other chains run on (or stop too, with [`RunConfig::stop_all_on_nonfinite`]).
//! Recorders may ask for a [`ChainState`] checkpoint after any step and hand one back to
//! resume a chain exactly ([`checkpoint`]).

mod chain;
pub mod checkpoint;
pub mod config;
pub mod error;
pub mod integrators;
mod method;
pub mod particles;
pub mod recorder;
pub mod rng;
pub mod sde_run;
pub mod target;

use std::io;

pub use chain::{ChainReport, RunOutput};
pub use checkpoint::{ChainState, Checkpoint, SamplerState};
pub use config::{
    Adaptation, AdaptiveBase, InitDraw, InitLaw, Kinetic, Mass, Method, MethodKind, Minibatch, RunConfig,
    Schedule,
};
pub use error::{NonFiniteWhat, RunError};
pub use integrators::SamplerStats;
pub use recorder::{MemoryRecorder, NullRecorder, Recorder, SAMPLER_STATS};
pub use sde_run::{run_sde_with, Save, SdeOptions};
pub use target::{current_chain, ChainScope, GibbsTarget, NoiseShape, SdeSystem};

use chain::{run_all, GibbsStepper};
use integrators::metric::Metric;
use integrators::Sampler;
use integrators::{
    Aboba, AnnealedLangevin, Baoab, Hmc, Mala, NewtonLangevin, Nuts, Obabo, RandomizedMidpoint, Sghmc, Sgld,
    Ubu, Ula,
};

/// Samples `target`'s Gibbs law exp(−U/T) with `config.chains` chains started at `init`.
///
/// `make_recorder(c)` creates chain `c`'s recorder (0-based `c`), inside that chain's task.
/// Returns the reports and finished recorders in chain order, or the error of the
/// lowest-numbered failing chain (settings are checked first).
pub fn run_gibbs<T, R, F>(
    target: &T,
    init: &[f64],
    config: &RunConfig,
    make_recorder: F,
) -> Result<RunOutput<R>, RunError>
where
    T: GibbsTarget + ?Sized,
    R: Recorder,
    F: Fn(usize) -> io::Result<R> + Sync,
{
    config.validate()?;
    check_dim(target.dim(), init)?;
    check_hessian(target, init, &config.method)?;
    check_minibatch(target, &config.method)?;
    let job = Job {
        target,
        init,
        config,
        make_recorder: &make_recorder,
    };
    job.sample()
}

/// A Gibbs run's inputs, so each scheme is started by one call.
struct Job<'a, T: ?Sized, F> {
    target: &'a T,
    init: &'a [f64],
    config: &'a RunConfig,
    make_recorder: &'a F,
}

impl<T, F> Job<'_, T, F>
where
    T: GibbsTarget + ?Sized,
{
    /// Runs every chain with a copy of `sampler`.
    fn go<R, S>(&self, sampler: S) -> Result<RunOutput<R>, RunError>
    where
        R: Recorder,
        F: Fn(usize) -> io::Result<R> + Sync,
        S: Sampler + Clone + Sync,
    {
        run_all(self.config, self.init, self.make_recorder, || GibbsStepper {
            target: self.target,
            sampler: sampler.clone(),
        })
    }

    /// Builds the configured sampler and runs it.
    fn sample<R>(&self) -> Result<RunOutput<R>, RunError>
    where
        R: Recorder,
        F: Fn(usize) -> io::Result<R> + Sync,
    {
        let dim = self.target.dim();
        let (temp, warmup) = (self.config.temperature, self.config.warmup);
        match &self.config.method {
            Method::Ula { step, mass } => {
                self.go(Ula::with_metric(dim, *step, temp, Metric::new(mass, dim)?))
            }
            Method::Mala { step, mass, adapt } => {
                let metric = Metric::new(mass, dim)?;
                self.go(Mala::with_metric(dim, *step, temp, metric, adapt, warmup))
            }
            Method::NewtonLangevin { step, damping, adapt } => {
                self.go(NewtonLangevin::new(dim, *step, *damping, adapt, warmup, temp))
            }
            Method::Baoab(k) => self.go(Baoab::new(dim, k, temp)),
            Method::Obabo(k) => self.go(Obabo::new(dim, k, temp)),
            Method::Aboba(k) => self.go(Aboba::new(dim, k, temp)),
            Method::Ubu(k) => self.go(Ubu::new(dim, k, temp)),
            Method::RandomizedMidpoint(k) => self.go(RandomizedMidpoint::new(dim, k, temp)),
            Method::Hmc {
                step,
                steps,
                length,
                mass,
                adapt,
            } => {
                let metric = Metric::new(mass, dim)?;
                self.go(Hmc::new(dim, *step, *steps, *length, metric, adapt, warmup, temp))
            }
            Method::Nuts {
                step,
                max_depth,
                mass,
                adapt,
            } => {
                let metric = Metric::new(mass, dim)?;
                self.go(Nuts::new(dim, *step, *max_depth, metric, adapt, warmup, temp))
            }
            Method::AnnealedLangevin {
                step,
                schedule,
                stages,
                steps_per_stage,
            } => self.go(AnnealedLangevin::new(
                dim,
                *step,
                schedule.clone(),
                *stages,
                *steps_per_stage,
                temp,
            )),
            Method::Sgld {
                step,
                decay,
                offset,
                batch,
            } => self.go(Sgld::new(dim, *step, *decay, *offset, *batch, temp)),
            Method::Sghmc { kinetic, batch } => self.go(Sghmc::new(dim, kinetic, *batch, temp)),
            Method::EulerMaruyama { .. }
            | Method::Milstein { .. }
            | Method::Heun { .. }
            | Method::Sra1 { .. }
            | Method::Sriw1 { .. }
            | Method::Adaptive { .. } => Err(RunError::WrongMethodKind {
                method: self.config.method.name(),
                needs: MethodKind::Sde,
            }),
        }
    }
}

/// Fails if `method` needs the Hessian and `target` has none.
fn check_hessian<T: GibbsTarget + ?Sized>(target: &T, init: &[f64], method: &Method) -> Result<(), RunError> {
    let dim = target.dim();
    if !method.needs_hessian() || target.hessian(init, &mut vec![0.0; dim * dim]) {
        return Ok(());
    }
    Err(RunError::invalid(
        "method",
        format!(
            "`{}` needs the energy's Hessian, but the model was compiled without it",
            method.name()
        ),
    ))
}

/// Fails if `method` follows minibatch gradients and `target` has none, or draws more
/// distinct rows than the data has.
fn check_minibatch<T: GibbsTarget + ?Sized>(target: &T, method: &Method) -> Result<(), RunError> {
    let Some(batch) = method.minibatch() else {
        return Ok(());
    };
    let reason = match target.data_rows() {
        None => format!(
            "`{}` needs the minibatch gradient of sums over data rows, but the model was \
             compiled without one",
            method.name()
        ),
        Some(rows) if !batch.replace && batch.size as usize > rows => format!(
            "a batch of {} distinct rows is more than the data's {rows} rows",
            batch.size
        ),
        Some(_) => return Ok(()),
    };
    Err(RunError::invalid("batch", reason))
}

/// Integrates `system` from `init` at time `config.t0` along `config.chains` independent paths.
///
/// Recorders receive the time after each recorded step, t = t0 + step·dt. Otherwise as
/// [`run_gibbs`]; [`run_sde_with`] adds save times, an end time and adaptive stepping.
pub fn run_sde<S, R, F>(
    system: &S,
    init: &[f64],
    config: &RunConfig,
    make_recorder: F,
) -> Result<RunOutput<R>, RunError>
where
    S: SdeSystem + ?Sized,
    R: Recorder,
    F: Fn(usize) -> io::Result<R> + Sync,
{
    run_sde_with(system, init, config, &SdeOptions::default(), make_recorder)
}

fn check_dim(expected: usize, init: &[f64]) -> Result<(), RunError> {
    if init.len() == expected {
        Ok(())
    } else {
        Err(RunError::DimensionMismatch {
            expected,
            found: init.len(),
        })
    }
}
