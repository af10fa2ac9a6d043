//! UBU underdamped Langevin (Sanz-Serna & Zygalakis, JMLR 22(242), 2021): a full kick between
//! two exact half steps of the Ornstein–Uhlenbeck part ([`super::ou`]), in velocity form
//! dx = v dt, dv = −∇U/m dt − γv dt + √(2γT/m) dW. One gradient per step; weak order 2.
//! Velocities start at 0; positions are the recorded state.

use super::ou::OuStep;
use super::{check_finite, Sampler};
use crate::runtime::checkpoint::{RestoreError, SamplerState, StateReader};
use crate::runtime::error::NonFiniteWhat;
use crate::runtime::method::Kinetic;
use crate::runtime::rng::{fill_normal, StreamRng};
use crate::runtime::target::GibbsTarget;

/// UBU workspace for one chain.
#[derive(Debug, Clone)]
pub struct Ubu {
    step: f64,
    inv_mass: f64,
    sigma: f64,
    half: OuStep,
    velocity: Vec<f64>,
    grad: Vec<f64>,
    noise: Vec<f64>,
}

impl Ubu {
    /// UBU with parameters `k` at temperature T for a `dim`-dimensional target.
    pub fn new(dim: usize, k: &Kinetic, temperature: f64) -> Self {
        Ubu {
            step: k.step,
            inv_mass: 1.0 / k.mass,
            sigma: (2.0 * k.friction * temperature / k.mass).sqrt(),
            half: OuStep::new(k.friction, 0.5 * k.step),
            velocity: vec![0.0; dim],
            grad: vec![0.0; dim],
            noise: vec![0.0; 2 * dim],
        }
    }

    /// U(h/2): the exact OU flow over half a step.
    #[inline]
    fn ou_half(&mut self, x: &mut [f64], rng: &mut StreamRng) {
        fill_normal(rng, &mut self.noise);
        let (u, s) = (self.half, self.sigma);
        for ((q, v), z) in x
            .iter_mut()
            .zip(self.velocity.iter_mut())
            .zip(self.noise.chunks_exact(2))
        {
            let (k, e) = match z {
                [z1, z2] => u.integrals(*z1, *z2),
                _ => (0.0, 0.0),
            };
            *q += u.phi * *v + s * k;
            *v = u.eta * *v + s * e;
        }
    }
}

impl Sampler for Ubu {
    fn init<T: GibbsTarget + ?Sized>(&mut self, _target: &T, x: &[f64]) -> Result<(), (NonFiniteWhat, f64)> {
        self.velocity.fill(0.0);
        check_finite(x)
    }

    #[inline]
    fn step<T: GibbsTarget + ?Sized>(&mut self, target: &T, x: &mut [f64], rng: &mut StreamRng) {
        self.ou_half(x, rng);
        target.grad(x, &mut self.grad);
        let a = self.step * self.inv_mass;
        for (v, g) in self.velocity.iter_mut().zip(&self.grad) {
            *v -= a * g;
        }
        self.ou_half(x, rng);
    }

    /// The velocities (the force is recomputed from the state).
    fn save(&self, out: &mut SamplerState) {
        out.put_all(&self.velocity);
    }

    fn restore<T: GibbsTarget + ?Sized>(
        &mut self,
        target: &T,
        x: &[f64],
        state: &mut StateReader<'_>,
    ) -> Result<(), RestoreError> {
        self.init(target, x)?;
        Ok(state.floats_into(&mut self.velocity)?)
    }
}
