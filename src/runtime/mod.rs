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
//! [`RunError::NonFinite`] naming the chain, the step and the component.

mod chain;
pub mod config;
pub mod error;
pub mod integrators;
pub mod recorder;
pub mod rng;
pub mod sde_run;
pub mod target;

use std::io;

pub use chain::{ChainReport, RunOutput};
pub use config::{AdaptiveBase, Method, MethodKind, RunConfig};
pub use error::{NonFiniteWhat, RunError};
pub use recorder::{MemoryRecorder, NullRecorder, Recorder};
pub use sde_run::{run_sde_with, Save, SdeOptions};
pub use target::{GibbsTarget, NoiseShape, SdeSystem};

use chain::{run_all, GibbsStepper};
use integrators::{Baoab, Mala, Ula};

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
    let dim = target.dim();
    check_dim(dim, init)?;
    let temp = config.temperature;
    let rec = &make_recorder;
    match config.method {
        Method::Ula { step } => run_all(config, init, rec, || GibbsStepper {
            target,
            sampler: Ula::new(dim, step, temp),
        }),
        Method::Mala { step } => run_all(config, init, rec, || GibbsStepper {
            target,
            sampler: Mala::new(dim, step, temp),
        }),
        Method::Baoab { step, friction, mass } => run_all(config, init, rec, || GibbsStepper {
            target,
            sampler: Baoab::new(dim, step, friction, mass, temp),
        }),
        Method::EulerMaruyama { .. }
        | Method::Milstein { .. }
        | Method::Heun { .. }
        | Method::Sra1 { .. }
        | Method::Sriw1 { .. }
        | Method::Adaptive { .. } => Err(RunError::WrongMethodKind {
            method: config.method.name(),
            needs: MethodKind::Sde,
        }),
    }
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
