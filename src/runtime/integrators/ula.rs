//! ULA, the unadjusted Langevin algorithm (Roberts & Tweedie 1996):
//! x⁺ = x − h∇U(x) + √(2hT) ξ. Its invariant law is biased by O(h).

use super::{check_finite, half_norm2, Sampler};
use crate::runtime::error::NonFiniteWhat;
use crate::runtime::rng::{fill_normal, StreamRng};
use crate::runtime::target::GibbsTarget;

/// ULA workspace for one chain.
#[derive(Debug, Clone)]
pub struct Ula {
    step: f64,
    temperature: f64,
    noise_scale: f64,
    grad: Vec<f64>,
    noise: Vec<f64>,
}

impl Ula {
    /// ULA with step `step` at temperature `temperature` for a `dim`-dimensional target.
    pub fn new(dim: usize, step: f64, temperature: f64) -> Self {
        Ula {
            step,
            temperature,
            noise_scale: (2.0 * step * temperature).sqrt(),
            grad: vec![0.0; dim],
            noise: vec![0.0; dim],
        }
    }
}

impl Sampler for Ula {
    fn init<T: GibbsTarget + ?Sized>(&mut self, _target: &T, x: &[f64]) -> Result<(), (NonFiniteWhat, f64)> {
        check_finite(x)
    }

    #[inline]
    fn step<T: GibbsTarget + ?Sized>(&mut self, target: &T, x: &mut [f64], rng: &mut StreamRng) {
        target.grad(x, &mut self.grad);
        fill_normal(rng, &mut self.noise);
        let (h, c) = (self.step, self.noise_scale);
        for ((xi, g), z) in x.iter_mut().zip(&self.grad).zip(&self.noise) {
            *xi += c * z - h * g;
        }
    }

    /// ULA is unadjusted HMC with one leapfrog step of size ε = √(2hT) on U/T: acceptance 1;
    /// the energy is U(x)/T plus the kinetic energy ½|ξ|² of the step's noise.
    fn stats<T: GibbsTarget + ?Sized>(&self, target: &T, x: &[f64], out: &mut [f64; 7]) {
        let u = target.energy(x) / self.temperature;
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
}
