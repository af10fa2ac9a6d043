//! Euler–Maruyama for the Itô SDE dX = b(X,t) dt + G(X,t) dW (any noise):
//! X⁺ = X + b h + G ΔW. Strong order 0.5 (1 for additive noise), weak order 1.
//! One drift and diffusion evaluation per step.

use super::noise::{Coeffs, Increments};
use super::SdeScheme;
use crate::runtime::target::{NoiseShape, SdeSystem};

/// Euler–Maruyama workspace for one path.
#[derive(Debug, Clone)]
pub struct EulerMaruyama {
    dt: f64,
    c: Coeffs,
}

impl EulerMaruyama {
    /// Euler–Maruyama with time step `dt` for a `dim`-dimensional system with diagonal noise.
    pub fn new(dim: usize, dt: f64) -> Self {
        Self::with_noise(dim, NoiseShape::diagonal(dim), dt)
    }

    /// Euler–Maruyama for a `dim`-dimensional system with the given noise.
    pub fn with_noise(dim: usize, noise: NoiseShape, dt: f64) -> Self {
        EulerMaruyama {
            dt,
            c: Coeffs::new(dim, noise),
        }
    }

    /// One step of length `dt` from `t` with given increments `dw` (each ~ N(0, dt)), for tests
    /// that drive several schemes with the same Brownian path.
    pub fn step_with_increments<S: SdeSystem + ?Sized>(
        &mut self,
        sys: &S,
        x: &mut [f64],
        t: f64,
        dw: &[f64],
    ) {
        let h = self.dt;
        self.step_with(sys, x, t, h, Increments { dw, dz: &[] });
    }
}

impl SdeScheme for EulerMaruyama {
    fn strong_order(&self) -> f64 {
        0.5
    }

    #[inline]
    fn step_with<S: SdeSystem + ?Sized>(&mut self, sys: &S, x: &mut [f64], t: f64, h: f64, inc: Increments) {
        self.c.ito(sys, x, t);
        for (xi, b) in x.iter_mut().zip(&self.c.drift) {
            *xi += b * h;
        }
        self.c.add_noise(x, inc.dw, 1.0);
    }
}
