//! Euler–Maruyama for dX = b(X,t) dt + diag(g(X,t)) dW (Itô): X⁺ = X + b h + g ΔW,
//! ΔW ~ N(0, h·I). Strong order 0.5 (1 for additive noise), weak order 1.

use super::SdeScheme;
use crate::runtime::rng::{fill_normal, StreamRng};
use crate::runtime::target::SdeSystem;

/// Euler–Maruyama workspace for one path.
#[derive(Debug, Clone)]
pub struct EulerMaruyama {
    dt: f64,
    sqrt_dt: f64,
    drift: Vec<f64>,
    diffusion: Vec<f64>,
    noise: Vec<f64>,
}

impl EulerMaruyama {
    /// Euler–Maruyama with time step `dt` for a `dim`-dimensional system.
    pub fn new(dim: usize, dt: f64) -> Self {
        EulerMaruyama {
            dt,
            sqrt_dt: dt.sqrt(),
            drift: vec![0.0; dim],
            diffusion: vec![0.0; dim],
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
        sys.drift_diffusion(x, t, &mut self.drift, &mut self.diffusion);
        let h = self.dt;
        for (((xi, b), g), w) in x.iter_mut().zip(&self.drift).zip(&self.diffusion).zip(dw) {
            *xi += b * h + g * w;
        }
    }
}

impl SdeScheme for EulerMaruyama {
    #[inline]
    fn step<S: SdeSystem + ?Sized>(&mut self, sys: &S, x: &mut [f64], t: f64, rng: &mut StreamRng) {
        fill_normal(rng, &mut self.noise);
        sys.drift_diffusion(x, t, &mut self.drift, &mut self.diffusion);
        let (h, s) = (self.dt, self.sqrt_dt);
        for (((xi, b), g), z) in x
            .iter_mut()
            .zip(&self.drift)
            .zip(&self.diffusion)
            .zip(&self.noise)
        {
            *xi += b * h + g * (s * z);
        }
    }
}
