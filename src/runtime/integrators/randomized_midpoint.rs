//! The randomized midpoint method for underdamped Langevin (Shen & Lee, NeurIPS 2019), for
//! general friction γ and mass m: dx = v dt, dv = −γv dt − ∇U/m dt + √(2γT/m) dW.
//!
//! Each step draws α ~ U(0, 1), sets a = αh, r = h − a, and with the OU coefficients φ, ψ of
//! [`super::ou`] (σ = √(2γT/m), g = ∇U/m):
//! x_α = x + φ(a)v − ψ(a)g(x) + σW₁,
//! x⁺ = x + φ(h)v − hφ(r)g(x_α) + σW₂,
//! v⁺ = e^{−γh}v − h e^{−γr}g(x_α) + σW₃,
//! where W₁, W₂, W₃ are the integrals of one Brownian path against the kernels of the exact
//! solution. Splitting the path at a, with (K_a, E_a) over [0, a] and (K_r, E_r) over [a, h]
//! independent: W₁ = K_a, W₂ = K_a + φ(r)E_a + K_r, W₃ = e^{−γr}E_a + E_r. Two gradients per
//! step (at x_α and at x⁺, kept for the next step).

use super::ou::OuStep;
use super::{check_finite, Sampler};
use crate::runtime::checkpoint::{RestoreError, SamplerState, StateReader};
use crate::runtime::error::NonFiniteWhat;
use crate::runtime::method::Kinetic;
use crate::runtime::rng::{fill_normal, uniform_open01, StreamRng};
use crate::runtime::target::GibbsTarget;

/// Randomized midpoint workspace for one chain.
#[derive(Debug, Clone)]
pub struct RandomizedMidpoint {
    step: f64,
    friction: f64,
    inv_mass: f64,
    sigma: f64,
    full: OuStep,
    velocity: Vec<f64>,
    grad: Vec<f64>,
    mid: Vec<f64>,
    mid_grad: Vec<f64>,
    noise: Vec<f64>,
}

impl RandomizedMidpoint {
    /// The method with parameters `k` at temperature T for a `dim`-dimensional target.
    pub fn new(dim: usize, k: &Kinetic, temperature: f64) -> Self {
        RandomizedMidpoint {
            step: k.step,
            friction: k.friction,
            inv_mass: 1.0 / k.mass,
            sigma: (2.0 * k.friction * temperature / k.mass).sqrt(),
            full: OuStep::new(k.friction, k.step),
            velocity: vec![0.0; dim],
            grad: vec![0.0; dim],
            mid: vec![0.0; dim],
            mid_grad: vec![0.0; dim],
            noise: vec![0.0; 4 * dim],
        }
    }
}

impl Sampler for RandomizedMidpoint {
    fn init<T: GibbsTarget + ?Sized>(&mut self, target: &T, x: &[f64]) -> Result<(), (NonFiniteWhat, f64)> {
        check_finite(x)?;
        self.velocity.fill(0.0);
        target.grad(x, &mut self.grad);
        check_finite(&self.grad)
    }

    #[inline]
    fn step<T: GibbsTarget + ?Sized>(&mut self, target: &T, x: &mut [f64], rng: &mut StreamRng) {
        let h = self.step;
        let a = uniform_open01(rng) * h;
        let r = h - a;
        let (oa, or) = (OuStep::new(self.friction, a), OuStep::new(self.friction, r));
        let (s, im) = (self.sigma, self.inv_mass);
        fill_normal(rng, &mut self.noise);
        let rows = x
            .iter()
            .zip(&self.velocity)
            .zip(&self.grad)
            .zip(self.noise.chunks_exact(4));
        for (m, (((q, v), g), z)) in self.mid.iter_mut().zip(rows) {
            let w1 = z.first().map_or(0.0, |z1| oa.integrals(*z1, 0.0).0);
            *m = q + oa.phi * v - oa.psi * g * im + s * w1;
        }
        target.grad(&self.mid, &mut self.mid_grad);
        let full = self.full;
        let rows = self
            .velocity
            .iter_mut()
            .zip(&self.mid_grad)
            .zip(self.noise.chunks_exact(4));
        for (q, ((v, gm), z)) in x.iter_mut().zip(rows) {
            let [z1, z2, z3, z4] = <[f64; 4]>::try_from(z).unwrap_or([0.0; 4]);
            let (ka, ea) = oa.integrals(z1, z2);
            let (kr, er) = or.integrals(z3, z4);
            let w2 = ka + or.phi * ea + kr;
            let w3 = or.eta * ea + er;
            *q += full.phi * *v - h * or.phi * gm * im + s * w2;
            *v = full.eta * *v - h * or.eta * gm * im + s * w3;
        }
        target.grad(x, &mut self.grad);
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
