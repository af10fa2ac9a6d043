//! SGHMC, stochastic-gradient Hamiltonian Monte Carlo (Chen, Fox & Guestrin 2014, eq. 15)
//! with step h, friction γ and mass m:
//! p⁺ = (1 − hγ)p − h∇Ũ(q) + √(2γhmT) ξ, q⁺ = q + hp⁺/m,
//! where Ũ is the energy whose sums over the R data rows are estimated from B rows scaled
//! by R/B. In the paper's variables η = h²/m, α = hγ; the minibatch noise estimate β̂ is 0.
//! Momenta start from N(0, mT) at the first step.

use super::kinetic::Phase;
use super::minibatch::MinibatchGrad;
use super::{check_finite, Sampler, SamplerStats};
use crate::runtime::checkpoint::{RestoreError, SamplerState, StateReader};
use crate::runtime::error::NonFiniteWhat;
use crate::runtime::method::{Kinetic, Minibatch};
use crate::runtime::rng::{fill_normal, StreamRng};
use crate::runtime::target::GibbsTarget;

/// SGHMC workspace for one chain.
#[derive(Debug, Clone)]
pub struct Sghmc {
    phase: Phase,
    damping: f64,
    noise_scale: f64,
    temperature: f64,
    batches: MinibatchGrad,
    noise: Vec<f64>,
}

impl Sghmc {
    /// SGHMC with step, friction and mass `k` at temperature `temperature`.
    pub fn new(dim: usize, k: &Kinetic, minibatch: Minibatch, temperature: f64) -> Self {
        Sghmc {
            phase: Phase::new(dim, k, temperature),
            damping: 1.0 - k.step * k.friction,
            noise_scale: (2.0 * k.friction * k.step * k.mass * temperature).sqrt(),
            temperature,
            batches: MinibatchGrad::new(minibatch),
            noise: vec![0.0; dim],
        }
    }
}

impl Sampler for Sghmc {
    fn init<T: GibbsTarget + ?Sized>(&mut self, target: &T, x: &[f64]) -> Result<(), (NonFiniteWhat, f64)> {
        self.phase.reset();
        self.batches.start(target);
        check_finite(x)
    }

    #[inline]
    fn step<T: GibbsTarget + ?Sized>(&mut self, target: &T, x: &mut [f64], rng: &mut StreamRng) {
        self.phase.start(rng);
        let h = self.phase.step;
        self.batches.grad(target, x, rng, &mut self.phase.grad);
        fill_normal(rng, &mut self.noise);
        for ((p, g), z) in self
            .phase
            .momentum
            .iter_mut()
            .zip(&self.phase.grad)
            .zip(&self.noise)
        {
            *p = self.damping * *p - h * g + self.noise_scale * z;
        }
        self.phase.drift(x, h);
    }

    fn stats(&self) -> SamplerStats {
        SamplerStats {
            step_size: Some(self.phase.step),
            ..SamplerStats::default()
        }
    }

    /// Unadjusted: acceptance 1; the energy is (U(q) + |p|²/2m)/T with the full data.
    fn draw_stats<T: GibbsTarget + ?Sized>(&self, target: &T, x: &[f64], out: &mut [f64; 7]) {
        self.phase.draw_stats(target, x, self.temperature, out);
    }

    /// The momenta.
    fn save(&self, out: &mut SamplerState) {
        self.phase.save(out);
    }

    fn restore<T: GibbsTarget + ?Sized>(
        &mut self,
        target: &T,
        x: &[f64],
        state: &mut StateReader<'_>,
    ) -> Result<(), RestoreError> {
        self.init(target, x)?;
        Ok(self.phase.restore(state)?)
    }
}
