//! Integrators: one file per scheme, each implementing [`Sampler`] (Gibbs targets) or
//! [`SdeScheme`] (SDEs in time).
//!
//! A scheme owns its per-chain workspace (gradients, momenta, noise), allocated once in its
//! constructor; `step` never allocates. Schemes are generic over the model so the compiled
//! kernels inline into the loop. Adding a scheme: a new file here, a [`super::Method`] variant,
//! and one match arm in [`super::run_gibbs`] or in `sde_run.rs`.
//!
//! SDE schemes receive the Brownian increments of each step ([`Increments`]) from the driver,
//! which draws them from the chain's stream, or from a test that drives several schemes along
//! one Brownian path; [`Adaptive`] wraps a scheme with error control on a Brownian tree.
//!
//! Shared pieces: [`metric`] (constant mass matrices), [`adapt`] (warmup adaptation of step
//! size and mass), [`kinetic`] (the B/A/O sub-steps of underdamped Langevin), [`ou`] (exact
//! Ornstein–Uhlenbeck increments), [`linalg`] (Cholesky).

mod aboba;
pub(crate) mod adapt;
mod adaptive;
mod annealed_langevin;
mod baoab;
mod euler_maruyama;
mod hamiltonian;
mod heun;
mod hmc;
mod kinetic;
pub(crate) mod linalg;
mod mala;
pub(crate) mod metric;
mod milstein;
mod minibatch;
mod newton_langevin;
pub mod noise;
mod nuts;
mod obabo;
pub(crate) mod ou;
mod randomized_midpoint;
mod sghmc;
mod sgld;
mod sra1;
mod sriw1;
mod ubu;
mod ula;

pub use aboba::Aboba;
pub use adaptive::{Adaptive, AdaptiveStats, Tolerances};
pub use annealed_langevin::AnnealedLangevin;
pub use baoab::Baoab;
pub use euler_maruyama::EulerMaruyama;
pub use heun::Heun;
pub use hmc::Hmc;
pub use mala::Mala;
pub use milstein::Milstein;
pub use newton_langevin::NewtonLangevin;
pub use noise::Increments;
pub use nuts::Nuts;
pub use obabo::Obabo;
pub use randomized_midpoint::RandomizedMidpoint;
pub use sghmc::Sghmc;
pub use sgld::Sgld;
pub use sra1::Sra1;
pub use sriw1::Sriw1;
pub use ubu::Ubu;
pub use ula::Ula;

use super::checkpoint::{RestoreError, SamplerState, StateReader};
use super::error::NonFiniteWhat;
use super::rng::StreamRng;
#[doc(inline)]
pub use super::target::NoiseShape;
use super::target::{GibbsTarget, SdeSystem};

/// A Markov chain step for a Gibbs target exp(−U/T) over a flat state vector.
pub trait Sampler: Send {
    /// Prepares the chain at its initial state `x` (caches gradients the first step needs).
    /// Fails with what is non-finite there, if anything.
    fn init<T: GibbsTarget + ?Sized>(&mut self, target: &T, x: &[f64]) -> Result<(), (NonFiniteWhat, f64)>;

    /// Advances `x` by one step.
    fn step<T: GibbsTarget + ?Sized>(&mut self, target: &T, x: &mut [f64], rng: &mut StreamRng);

    /// Accepted proposals so far (Metropolis schemes), `None` for schemes that accept every move.
    fn accepted(&self) -> Option<u64> {
        None
    }

    /// What the scheme has to report (adapted step size and mass, divergences, tree depths).
    fn stats(&self) -> SamplerStats {
        SamplerStats::default()
    }

    /// The statistics of the step that led to `x`, in [`crate::runtime::SAMPLER_STATS`] order.
    /// Only asked at recorded steps, and only when a recorder wants them. The default suits
    /// an unadjusted scheme at T = 1: lp = −U(x), acceptance 1, the reported step size, one
    /// leapfrog step, energy U(x). Schemes override it with what they know.
    fn draw_stats<T: GibbsTarget + ?Sized>(&self, target: &T, x: &[f64], out: &mut [f64; 7]) {
        let u = target.energy(x);
        let step = self.stats().step_size.unwrap_or(0.0);
        *out = [-u, 1.0, step, 0.0, 1.0, 0.0, u];
    }

    /// Writes the workspace a checkpoint must keep: everything the next steps read that is not
    /// recomputed from the state (momenta, counters, warmup adaptation, the step size and
    /// metric in use), reals bitwise.
    fn save(&self, out: &mut SamplerState);

    /// Continues at `x` from a checkpoint's workspace, read in the order [`Sampler::save`]
    /// wrote it; what is a function of the state (energies, gradients) is recomputed, which
    /// gives the same bits as the uninterrupted chain held.
    fn restore<T: GibbsTarget + ?Sized>(
        &mut self,
        target: &T,
        x: &[f64],
        state: &mut StateReader<'_>,
    ) -> Result<(), RestoreError>;
}

/// Per-chain facts a sampler reports beyond acceptance; `None` where they do not apply.
/// Counts cover the sampling phase (after warmup).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SamplerStats {
    /// The step size used after warmup (adapted, or as given).
    pub step_size: Option<f64>,
    /// diag(M⁻¹) used after warmup (adapted, or as given; `None` for dense or no mass).
    pub inv_mass_diag: Option<Vec<f64>>,
    /// Trajectories whose energy error exceeded 1000 (HMC, NUTS).
    pub divergences: Option<u64>,
    /// Sum of NUTS tree depths (divide by the sampling steps for the mean).
    pub tree_depth_sum: Option<u64>,
    /// Leapfrog steps (gradient evaluations) taken (HMC, NUTS).
    pub leapfrog_steps: Option<u64>,
    /// Mean acceptance statistic after warmup (NUTS: the mean of min(1, e^{H₀−H}) over each
    /// trajectory's new points).
    pub mean_accept_stat: Option<f64>,
    /// The temperature factor of the last step (annealing).
    pub temperature_factor: Option<f64>,
    /// Times the Hessian damping had to grow beyond the given value to reach positive definiteness.
    pub damping_increases: Option<u64>,
}

/// ½|v|², the kinetic energy of unit-mass momenta `v`.
pub(crate) fn half_norm2(v: &[f64]) -> f64 {
    0.5 * v.iter().map(|z| z * z).sum::<f64>()
}

/// A time step for an SDE dX = b dt + G dW, given the Brownian increments.
pub trait SdeScheme: Send {
    /// Whether steps use ΔZ = I₍₁,₀₎ besides ΔW (the order-1.5 schemes).
    fn needs_area(&self) -> bool {
        false
    }

    /// The scheme's strong order of convergence (for step-size control).
    fn strong_order(&self) -> f64;

    /// Advances `x` from time `t` to `t + h` with the increments `inc` over that step.
    fn step_with<S: SdeSystem + ?Sized>(&mut self, sys: &S, x: &mut [f64], t: f64, h: f64, inc: Increments);
}

/// The first non-finite component of `x` and its value, if any.
///
/// The fast path is a branch-free pass (`v · 0` is 0 for finite `v` and NaN otherwise) over
/// eight independent accumulators, cheap enough to run after every step.
#[inline]
pub fn first_non_finite(x: &[f64]) -> Option<(usize, f64)> {
    let mut acc = [0.0f64; 8];
    let chunks = x.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        for (a, v) in acc.iter_mut().zip(c) {
            *a += v * 0.0;
        }
    }
    let mut tail = 0.0;
    for v in rest {
        tail += v * 0.0;
    }
    if acc.iter().sum::<f64>() + tail == 0.0 {
        return None;
    }
    x.iter()
        .enumerate()
        .find(|(_, v)| !v.is_finite())
        .map(|(i, v)| (i, *v))
}

/// `Err((Component(i), x_i))` for the first non-finite component.
pub(crate) fn check_finite(x: &[f64]) -> Result<(), (NonFiniteWhat, f64)> {
    match first_non_finite(x) {
        Some((i, v)) => Err((NonFiniteWhat::Component(i), v)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_first_bad_component() {
        let mut x = vec![1.0; 19];
        assert_eq!(first_non_finite(&x), None);
        x[17] = f64::INFINITY;
        x[18] = f64::NAN;
        assert_eq!(first_non_finite(&x), Some((17, f64::INFINITY)));
        x[3] = f64::NEG_INFINITY;
        assert_eq!(first_non_finite(&x), Some((3, f64::NEG_INFINITY)));
        let r = first_non_finite(&[f64::NAN]);
        assert!(matches!(r, Some((0, v)) if v.is_nan()));
    }
}
