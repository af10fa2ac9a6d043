//! Milstein for dX = b(X,t) dt + diag(g(X,t)) dW (Itô, diagonal noise):
//! X⁺ᵢ = Xᵢ + bᵢh + gᵢΔWᵢ + ½ gᵢ ∂ᵢgᵢ (ΔWᵢ² − h), with ∂g/∂x derived symbolically.
//! Strong order 1, weak order 1. One drift, diffusion and ∂g/∂x evaluation per step.

use super::noise::Increments;
use super::SdeScheme;
use crate::runtime::target::SdeSystem;

/// Milstein workspace for one path.
#[derive(Debug, Clone)]
pub struct Milstein {
    dt: f64,
    drift: Vec<f64>,
    diffusion: Vec<f64>,
    dg: Vec<f64>,
}

impl Milstein {
    /// Milstein with time step `dt` for a `dim`-dimensional system.
    pub fn new(dim: usize, dt: f64) -> Self {
        Milstein {
            dt,
            drift: vec![0.0; dim],
            diffusion: vec![0.0; dim],
            dg: vec![0.0; dim],
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

impl SdeScheme for Milstein {
    fn strong_order(&self) -> f64 {
        1.0
    }

    #[inline]
    fn step_with<S: SdeSystem + ?Sized>(&mut self, sys: &S, x: &mut [f64], t: f64, h: f64, inc: Increments) {
        sys.drift_diffusion_dg(x, t, &mut self.drift, &mut self.diffusion, &mut self.dg);
        let terms = self.drift.iter().zip(&self.diffusion).zip(&self.dg);
        for ((xi, w), ((b, g), dgi)) in x.iter_mut().zip(inc.dw).zip(terms) {
            *xi += b * h + g * w + 0.5 * g * dgi * (w * w - h);
        }
    }
}
