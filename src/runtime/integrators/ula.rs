//! ULA, the unadjusted Langevin algorithm (Roberts & Tweedie 1996), preconditioned by a
//! constant mass matrix M: x⁺ = x − hM⁻¹∇U(x) + √(2hT) M^{−1/2} ξ (M = I by default).
//! Its invariant law is biased by O(h).

use super::metric::Metric;
use super::{check_finite, half_norm2, Sampler};
use crate::runtime::checkpoint::{RestoreError, SamplerState, StateReader};
use crate::runtime::error::NonFiniteWhat;
use crate::runtime::rng::{fill_normal, StreamRng};
use crate::runtime::target::GibbsTarget;

/// ULA workspace for one chain.
#[derive(Debug, Clone)]
pub struct Ula {
    step: f64,
    noise_scale: f64,
    metric: Metric,
    /// M = I: the step skips applying the metric (the W1 hot loop is one pass).
    identity: bool,
    grad: Vec<f64>,
    drift: Vec<f64>,
    noise: Vec<f64>,
    kick: Vec<f64>,
}

impl Ula {
    /// ULA with step `step` at temperature `temperature` for a `dim`-dimensional target (M = I).
    pub fn new(dim: usize, step: f64, temperature: f64) -> Self {
        Ula::with_metric(dim, step, temperature, Metric::from_inv_diag(&vec![1.0; dim]))
    }

    pub(crate) fn with_metric(dim: usize, step: f64, temperature: f64, metric: Metric) -> Self {
        Ula {
            step,
            noise_scale: (2.0 * step * temperature).sqrt(),
            identity: metric.is_identity(),
            metric,
            grad: vec![0.0; dim],
            drift: vec![0.0; dim],
            noise: vec![0.0; dim],
            kick: vec![0.0; dim],
        }
    }

    /// One step at step size `h` and noise scale √(2hT) (annealing changes both).
    #[inline]
    pub(crate) fn step_with<T: GibbsTarget + ?Sized>(
        &mut self,
        target: &T,
        x: &mut [f64],
        rng: &mut StreamRng,
        h: f64,
        noise_scale: f64,
    ) {
        target.grad(x, &mut self.grad);
        fill_normal(rng, &mut self.noise);
        if self.identity {
            for ((xi, g), z) in x.iter_mut().zip(&self.grad).zip(&self.noise) {
                *xi += noise_scale * z - h * g;
            }
            return;
        }
        self.metric.inv_mul(&self.grad, &mut self.drift);
        self.metric.inv_sqrt_mul(&self.noise, &mut self.kick);
        for ((xi, d), z) in x.iter_mut().zip(&self.drift).zip(&self.kick) {
            *xi += noise_scale * z - h * d;
        }
    }
}

impl Sampler for Ula {
    fn init<T: GibbsTarget + ?Sized>(&mut self, _target: &T, x: &[f64]) -> Result<(), (NonFiniteWhat, f64)> {
        check_finite(x)
    }

    #[inline]
    fn step<T: GibbsTarget + ?Sized>(&mut self, target: &T, x: &mut [f64], rng: &mut StreamRng) {
        self.step_with(target, x, rng, self.step, self.noise_scale);
    }

    /// ULA is unadjusted HMC with one leapfrog step of size ε = √(2hT) on U/T: acceptance 1;
    /// the energy is U(x)/T plus the kinetic energy ½|ξ|² of the step's noise.
    fn draw_stats<T: GibbsTarget + ?Sized>(&self, target: &T, x: &[f64], out: &mut [f64; 7]) {
        let temperature = self.noise_scale * self.noise_scale / (2.0 * self.step);
        let u = target.energy(x) / temperature;
        *out = [
            -u,
            1.0,
            self.noise_scale,
            0.0,
            1.0,
            0.0,
            u + half_norm2(&self.noise),
        ];
    }

    /// Nothing but the state: the metric is constant.
    fn save(&self, _out: &mut SamplerState) {}

    fn restore<T: GibbsTarget + ?Sized>(
        &mut self,
        target: &T,
        x: &[f64],
        _state: &mut StateReader<'_>,
    ) -> Result<(), RestoreError> {
        Ok(self.init(target, x)?)
    }
}
