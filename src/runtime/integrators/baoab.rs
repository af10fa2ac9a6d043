//! BAOAB underdamped Langevin (Leimkuhler & Matthews 2013) for π(q) ∝ exp(−U(q)/T):
//! dq = p/m dt, dp = −∇U dt − γp dt + √(2γmT) dW, split as B(h/2) A(h/2) O(h) A(h/2) B(h/2) with
//! B: p ← p − (h/2)∇U(q), A: q ← q + (h/2)p/m, O: p ← ηp + √((1 − η²)mT) ξ, η = e^{−γh}.
//! One gradient per step: the force at the end of a step is kept for the next. Momenta start
//! at 0; positions are the recorded state.

use super::{check_finite, Sampler};
use crate::runtime::checkpoint::SamplerState;
use crate::runtime::error::NonFiniteWhat;
use crate::runtime::rng::{fill_normal, StreamRng};
use crate::runtime::target::GibbsTarget;

/// BAOAB workspace for one chain: momenta and the last gradient.
#[derive(Debug, Clone)]
pub struct Baoab {
    temperature: f64,
    mass: f64,
    half_step: f64,
    half_step_over_mass: f64,
    eta: f64,
    noise_scale: f64,
    momentum: Vec<f64>,
    grad: Vec<f64>,
    noise: Vec<f64>,
}

impl Baoab {
    /// BAOAB with step `step`, friction γ, mass m at temperature T for a `dim`-dimensional target.
    pub fn new(dim: usize, step: f64, friction: f64, mass: f64, temperature: f64) -> Self {
        let eta = (-friction * step).exp();
        Baoab {
            temperature,
            mass,
            half_step: 0.5 * step,
            half_step_over_mass: 0.5 * step / mass,
            eta,
            noise_scale: ((1.0 - eta * eta) * mass * temperature).sqrt(),
            momentum: vec![0.0; dim],
            grad: vec![0.0; dim],
            noise: vec![0.0; dim],
        }
    }

    /// The current momenta.
    pub fn momentum(&self) -> &[f64] {
        &self.momentum
    }
}

impl Sampler for Baoab {
    fn init<T: GibbsTarget + ?Sized>(&mut self, target: &T, x: &[f64]) -> Result<(), (NonFiniteWhat, f64)> {
        check_finite(x)?;
        self.momentum.iter_mut().for_each(|p| *p = 0.0);
        target.grad(x, &mut self.grad);
        check_finite(&self.grad)
    }

    #[inline]
    fn step<T: GibbsTarget + ?Sized>(&mut self, target: &T, x: &mut [f64], rng: &mut StreamRng) {
        fill_normal(rng, &mut self.noise);
        let (hh, a, eta, c) = (
            self.half_step,
            self.half_step_over_mass,
            self.eta,
            self.noise_scale,
        );
        for (((q, p), g), z) in x
            .iter_mut()
            .zip(self.momentum.iter_mut())
            .zip(&self.grad)
            .zip(&self.noise)
        {
            let mut pi = *p - hh * g; // B
            let mut qi = *q + a * pi; // A
            pi = eta * pi + c * z; // O
            qi += a * pi; // A
            *q = qi;
            *p = pi;
        }
        target.grad(x, &mut self.grad);
        for (p, g) in self.momentum.iter_mut().zip(&self.grad) {
            *p -= hh * g; // B
        }
    }

    /// One position update per step of size h, no Metropolis test: acceptance 1; the energy
    /// is the Hamiltonian (U(q) + |p|²/2m)/T at the draw.
    fn stats<T: GibbsTarget + ?Sized>(&self, target: &T, x: &[f64], out: &mut [f64; 7]) {
        let u = target.energy(x) / self.temperature;
        let kinetic = super::half_norm2(&self.momentum) / (self.mass * self.temperature);
        *out = [-u, 1.0, 2.0 * self.half_step, 0.0, 1.0, 0.0, u + kinetic];
    }

    fn save(&self) -> SamplerState {
        SamplerState::new(&self.momentum, Vec::new())
    }

    fn restore<T: GibbsTarget + ?Sized>(
        &mut self,
        target: &T,
        x: &[f64],
        state: &SamplerState,
    ) -> Result<(), (NonFiniteWhat, f64)> {
        self.init(target, x)?;
        for (p, v) in self.momentum.iter_mut().zip(state.floats()) {
            *p = v;
        }
        Ok(())
    }
}
