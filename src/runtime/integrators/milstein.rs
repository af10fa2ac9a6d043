//! Milstein for dX = b(X,t) dt + diag(g(X,t)) dW (Itô, diagonal noise):
//! X⁺ᵢ = Xᵢ + bᵢh + gᵢΔWᵢ + ½ gᵢ ∂ᵢgᵢ (ΔWᵢ² − h). Strong order 1, weak order 1.

use super::SdeScheme;
use crate::runtime::rng::{fill_normal, StreamRng};
use crate::runtime::target::SdeSystem;

/// Milstein workspace for one path.
#[derive(Debug, Clone)]
pub struct Milstein {
    dt: f64,
    sqrt_dt: f64,
    drift: Vec<f64>,
    diffusion: Vec<f64>,
    dg: Vec<f64>,
    noise: Vec<f64>,
}

impl Milstein {
    /// Milstein with time step `dt` for a `dim`-dimensional system.
    pub fn new(dim: usize, dt: f64) -> Self {
        Milstein {
            dt,
            sqrt_dt: dt.sqrt(),
            drift: vec![0.0; dim],
            diffusion: vec![0.0; dim],
            dg: vec![0.0; dim],
            noise: vec![0.0; dim],
        }
    }

    /// One step from `t` with given Brownian increments `dw` (each ~ N(0, dt)), for tests that
    /// drive several schemes with the same Brownian path.
    pub fn step_with_increments<S: SdeSystem + ?Sized>(
        &mut self,
        sys: &S,
        x: &mut [f64],
        t: f64,
        dw: &[f64],
    ) {
        sys.drift_diffusion_dg(x, t, &mut self.drift, &mut self.diffusion, &mut self.dg);
        update(self.dt, x, dw, &self.drift, &self.diffusion, &self.dg);
    }
}

impl SdeScheme for Milstein {
    #[inline]
    fn step<S: SdeSystem + ?Sized>(&mut self, sys: &S, x: &mut [f64], t: f64, rng: &mut StreamRng) {
        fill_normal(rng, &mut self.noise);
        let s = self.sqrt_dt;
        self.noise.iter_mut().for_each(|z| *z *= s);
        sys.drift_diffusion_dg(x, t, &mut self.drift, &mut self.diffusion, &mut self.dg);
        update(self.dt, x, &self.noise, &self.drift, &self.diffusion, &self.dg);
    }
}

#[inline]
fn update(h: f64, x: &mut [f64], dw: &[f64], drift: &[f64], diffusion: &[f64], dg: &[f64]) {
    let terms = drift.iter().zip(diffusion).zip(dg);
    for ((xi, w), ((b, g), dgi)) in x.iter_mut().zip(dw).zip(terms) {
        *xi += b * h + g * w + 0.5 * g * dgi * (w * w - h);
    }
}
