//! Rößler's SRA1 for Itô SDEs with additive noise dX = b(X,t) dt + G(t) dW
//! (Rößler, SIAM J. Numer. Anal. 48:922, 2010, table 5.1; as in StochasticDiffEq.jl):
//!
//! k₁ = b(X, t), H = X + ¾ h k₁ + (3/2) G(t+h) ΔZ/h, k₂ = b(H, t + ¾h),
//! X⁺ = X + h(k₁/3 + 2k₂/3) + G(t+h) ΔW + (G(t) − G(t+h)) ΔZ/h,
//!
//! with ΔZ = I₍₁,₀₎. Strong order 1.5, weak order 2 for additive noise (any number
//! of Wiener processes). Three drift and diffusion evaluations per step.

use super::noise::{Coeffs, Increments};
use super::SdeScheme;
use crate::runtime::target::{NoiseShape, SdeSystem};

/// SRA1 workspace for one path.
#[derive(Debug, Clone)]
pub struct Sra1 {
    now: Coeffs,
    end: Coeffs,
    stage: Coeffs,
    h0: Vec<f64>,
    chi: Vec<f64>,
}

impl Sra1 {
    /// SRA1 for a `dim`-dimensional system with the given (additive) noise.
    pub fn with_noise(dim: usize, noise: NoiseShape) -> Self {
        Sra1 {
            now: Coeffs::new(dim, noise),
            end: Coeffs::new(dim, noise),
            stage: Coeffs::new(dim, noise),
            h0: vec![0.0; dim],
            chi: vec![0.0; noise.dim],
        }
    }
}

impl SdeScheme for Sra1 {
    fn needs_area(&self) -> bool {
        true
    }

    fn strong_order(&self) -> f64 {
        1.5
    }

    #[inline]
    fn step_with<S: SdeSystem + ?Sized>(&mut self, sys: &S, x: &mut [f64], t: f64, h: f64, inc: Increments) {
        for (c, z) in self.chi.iter_mut().zip(inc.dz) {
            *c = z / h;
        }
        self.now.ito(sys, x, t);
        self.end.ito(sys, x, t + h);
        for ((s, xi), k1) in self.h0.iter_mut().zip(x.iter()).zip(&self.now.drift) {
            *s = xi + 0.75 * h * k1;
        }
        self.end.add_noise(&mut self.h0, &self.chi, 1.5);
        self.stage.ito(sys, &self.h0, t + 0.75 * h);
        for ((xi, k1), k2) in x.iter_mut().zip(&self.now.drift).zip(&self.stage.drift) {
            *xi += h * (k1 / 3.0 + 2.0 * k2 / 3.0);
        }
        self.end.add_noise(x, inc.dw, 1.0);
        self.now.add_noise_difference(&self.end, x, &self.chi, 1.0);
    }
}
