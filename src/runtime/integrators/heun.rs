//! Stochastic Heun for the Stratonovich SDE dX = b̃(X,t) dt + G(X,t) ∘ dW (any noise;
//! the compiler supplies the Stratonovich drift b̃ of equations written in any convention):
//! X̄ = X + b̃ h + G ΔW; X⁺ = X + ½(b̃(X) + b̃(X̄)) h + ½(G(X) + G(X̄)) ΔW.
//! Strong order 1 for commutative noise (scalar, diagonal, additive), 0.5 in general;
//! weak order 1. Two drift and diffusion evaluations per step.

use super::noise::{Coeffs, Increments};
use super::SdeScheme;
use crate::runtime::target::{NoiseShape, SdeSystem};

/// Stochastic Heun workspace for one path.
#[derive(Debug, Clone)]
pub struct Heun {
    c0: Coeffs,
    c1: Coeffs,
    bar: Vec<f64>,
}

impl Heun {
    /// Heun for a `dim`-dimensional system with the given noise.
    pub fn with_noise(dim: usize, noise: NoiseShape) -> Self {
        Heun {
            c0: Coeffs::new(dim, noise),
            c1: Coeffs::new(dim, noise),
            bar: vec![0.0; dim],
        }
    }
}

impl SdeScheme for Heun {
    fn strong_order(&self) -> f64 {
        1.0
    }

    #[inline]
    fn step_with<S: SdeSystem + ?Sized>(&mut self, sys: &S, x: &mut [f64], t: f64, h: f64, inc: Increments) {
        self.c0.strat(sys, x, t);
        for ((p, xi), b) in self.bar.iter_mut().zip(x.iter()).zip(&self.c0.drift) {
            *p = xi + b * h;
        }
        self.c0.add_noise(&mut self.bar, inc.dw, 1.0);
        self.c1.strat(sys, &self.bar, t + h);
        for ((xi, b0), b1) in x.iter_mut().zip(&self.c0.drift).zip(&self.c1.drift) {
            *xi += 0.5 * (b0 + b1) * h;
        }
        self.c0.add_noise(x, inc.dw, 0.5);
        self.c1.add_noise(x, inc.dw, 0.5);
    }
}
