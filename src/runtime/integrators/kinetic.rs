//! The sub-steps of underdamped Langevin dynamics for π(q) ∝ exp(−U(q)/T),
//! dq = p/m dt, dp = −∇U dt − γp dt + √(2γmT) dW, shared by the splitting schemes:
//! B(τ): p ← p − τ∇U(q); A(τ): q ← q + τp/m; O(τ): p ← e^{−γτ}p + √((1 − e^{−2γτ})mT) ξ.
//! Momenta start from the Maxwell–Boltzmann law N(0, mT) at the first step, as
//! molecular dynamics starts its velocities; positions are the recorded state.

use crate::runtime::method::Kinetic;
use crate::runtime::rng::{fill_normal, StreamRng};

/// Momenta, the cached gradient and the constants of one chain.
#[derive(Debug, Clone)]
pub(crate) struct Phase {
    pub(crate) step: f64,
    pub(crate) inv_mass: f64,
    pub(crate) momentum: Vec<f64>,
    pub(crate) grad: Vec<f64>,
    noise: Vec<f64>,
    friction: f64,
    mass_temperature: f64,
    /// Momenta are still to be drawn (the chain has not stepped yet).
    fresh: bool,
}

/// e^{−γτ} and the noise scale √((1 − e^{−2γτ})mT) of O(τ).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Thermostat {
    eta: f64,
    scale: f64,
}

impl Phase {
    pub(crate) fn new(dim: usize, k: &Kinetic, temperature: f64) -> Self {
        Phase {
            step: k.step,
            inv_mass: 1.0 / k.mass,
            momentum: vec![0.0; dim],
            grad: vec![0.0; dim],
            noise: vec![0.0; dim],
            friction: k.friction,
            mass_temperature: k.mass * temperature,
            fresh: true,
        }
    }

    /// Resets the momenta for a chain starting at `init`: they are drawn at its first step.
    pub(crate) fn reset(&mut self) {
        self.momentum.fill(0.0);
        self.fresh = true;
    }

    /// Saves the momenta and whether they are still to be drawn.
    pub(crate) fn save(&self, out: &mut crate::runtime::checkpoint::SamplerState) {
        out.put_all(&self.momentum);
        out.flag(self.fresh);
    }

    /// Restores what [`Phase::save`] saved.
    pub(crate) fn restore(
        &mut self,
        state: &mut crate::runtime::checkpoint::StateReader<'_>,
    ) -> Result<(), crate::runtime::checkpoint::Mismatch> {
        state.floats_into(&mut self.momentum)?;
        self.fresh = state.flag()?;
        Ok(())
    }

    /// Draws the initial momenta p ~ N(0, mT) if the chain has not stepped yet.
    #[inline]
    pub(crate) fn start(&mut self, rng: &mut StreamRng) {
        if self.fresh {
            self.fresh = false;
            fill_normal(rng, &mut self.momentum);
            let sd = self.mass_temperature.sqrt();
            self.momentum.iter_mut().for_each(|p| *p *= sd);
        }
    }

    /// The statistics of an unadjusted kinetic step at the draw `x`: lp = −U(q)/T,
    /// acceptance 1, the step size, one gradient, and the energy (U(q) + |p|²/2m)/T.
    pub(crate) fn draw_stats<T: crate::runtime::target::GibbsTarget + ?Sized>(
        &self,
        target: &T,
        x: &[f64],
        temperature: f64,
        out: &mut [f64; 7],
    ) {
        let u = target.energy(x) / temperature;
        let kinetic = super::half_norm2(&self.momentum) * self.inv_mass / temperature;
        *out = [-u, 1.0, self.step, 0.0, 1.0, 0.0, u + kinetic];
    }

    /// The O(τ) constants.
    pub(crate) fn thermostat(&self, tau: f64) -> Thermostat {
        let eta = (-self.friction * tau).exp();
        // 1 − e^{−2γτ} = −expm1(−2γτ), accurate for small γτ
        let scale = (-(-2.0 * self.friction * tau).exp_m1() * self.mass_temperature).sqrt();
        Thermostat { eta, scale }
    }

    /// B(τ) with the cached gradient.
    #[inline]
    pub(crate) fn kick(&mut self, tau: f64) {
        for (p, g) in self.momentum.iter_mut().zip(&self.grad) {
            *p -= tau * g;
        }
    }

    /// A(τ).
    #[inline]
    pub(crate) fn drift(&self, x: &mut [f64], tau: f64) {
        let a = tau * self.inv_mass;
        for (q, p) in x.iter_mut().zip(&self.momentum) {
            *q += a * p;
        }
    }

    /// O with the constants `o`.
    #[inline]
    pub(crate) fn thermalize(&mut self, o: Thermostat, rng: &mut StreamRng) {
        fill_normal(rng, &mut self.noise);
        for (p, z) in self.momentum.iter_mut().zip(&self.noise) {
            *p = o.eta * *p + o.scale * z;
        }
    }
}
