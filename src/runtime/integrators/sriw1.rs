//! Rößler's SRIW1 for Itô SDEs with diagonal (or scalar) noise
//! dXᵢ = bᵢ(X,t) dt + gᵢ(X,t) dWᵢ (Rößler, SIAM J. Numer. Anal. 48:922, 2010; the
//! tableau of StochasticDiffEq.jl's SRIW1). With the per-component integrals
//! χ₁ = I₍₁,₁₎/√h = (ΔW² − h)/(2√h), χ₂ = I₍₁,₀₎/h, χ₃ = I₍₁,₁,₁₎/h = (ΔW³ − 3hΔW)/(6h):
//!
//! k₁ = h b(X, t), g₁ = g(X, t);
//! H₀ = X + ¾k₁ + (3/2)χ₂g₁;  H₁₁ = X + ¼k₁ + ½√h g₁;  H₁₂ = X + k₁ − √h g₁;
//! g₂ = g(H₁₁, t + h/4), g₃ = g(H₁₂, t + h); H₁₃ = X + ¼k₁ + √h(−5g₁ + 3g₂ + ½g₃);
//! g₄ = g(H₁₃, t + h/4), k₂ = h b(H₀, t + ¾h);
//! X⁺ = X + (k₁ + 2k₂)/3 + ΔW(−g₁ + 4g₂/3 + 2g₃/3) + χ₁(−g₁ + 4g₂/3 − g₃/3)
//!      + χ₂(2g₁ − 4g₂/3 − 2g₃/3) + χ₃(−2g₁ + 5g₂/3 − 2g₃/3 + g₄).
//!
//! Strong order 1.5, weak order 2. Five drift and diffusion evaluations per step.

use super::noise::Increments;
use super::SdeScheme;
use crate::runtime::target::SdeSystem;

/// SRIW1 workspace for one path.
#[derive(Debug, Clone)]
pub struct Sriw1 {
    k1: Vec<f64>,
    k2: Vec<f64>,
    g: [Vec<f64>; 4],
    h0: Vec<f64>,
    h1: Vec<f64>,
    scratch: Vec<f64>,
}

impl Sriw1 {
    /// SRIW1 for a `dim`-dimensional system with diagonal noise.
    pub fn new(dim: usize) -> Self {
        let v = || vec![0.0; dim];
        Sriw1 {
            k1: v(),
            k2: v(),
            g: [v(), v(), v(), v()],
            h0: v(),
            h1: v(),
            scratch: v(),
        }
    }
}

impl SdeScheme for Sriw1 {
    fn needs_area(&self) -> bool {
        true
    }

    fn strong_order(&self) -> f64 {
        1.5
    }

    fn step_with<S: SdeSystem + ?Sized>(&mut self, sys: &S, x: &mut [f64], t: f64, h: f64, inc: Increments) {
        let sq = h.sqrt();
        let [g1, g2, g3, g4] = &mut self.g;
        sys.drift_diffusion(x, t, &mut self.k1, g1);
        self.k1.iter_mut().for_each(|k| *k *= h);
        // H₁₁ and g₂
        for (((s, xi), k), g) in self.h1.iter_mut().zip(x.iter()).zip(&self.k1).zip(g1.iter()) {
            *s = xi + 0.25 * k + 0.5 * sq * g;
        }
        sys.drift_diffusion(&self.h1, t + 0.25 * h, &mut self.scratch, g2);
        // H₁₂ and g₃
        for (((s, xi), k), g) in self.h1.iter_mut().zip(x.iter()).zip(&self.k1).zip(g1.iter()) {
            *s = xi + k - sq * g;
        }
        sys.drift_diffusion(&self.h1, t + h, &mut self.scratch, g3);
        // H₁₃ and g₄
        for (i, s) in self.h1.iter_mut().enumerate() {
            let at = |v: &[f64]| v.get(i).copied().unwrap_or(0.0);
            *s = at(x) + 0.25 * at(&self.k1) + sq * (-5.0 * at(g1) + 3.0 * at(g2) + 0.5 * at(g3));
        }
        sys.drift_diffusion(&self.h1, t + 0.25 * h, &mut self.scratch, g4);
        // H₀ and k₂
        for ((((s, xi), k), g), z) in self
            .h0
            .iter_mut()
            .zip(x.iter())
            .zip(&self.k1)
            .zip(g1.iter())
            .zip(inc.dz)
        {
            *s = xi + 0.75 * k + 1.5 * (z / h) * g;
        }
        sys.drift_diffusion(&self.h0, t + 0.75 * h, &mut self.k2, &mut self.scratch);
        for (i, xi) in x.iter_mut().enumerate() {
            let at = |v: &[f64]| v.get(i).copied().unwrap_or(0.0);
            let (w, z) = (at(inc.dw), at(inc.dz));
            let (a, b, c, d) = (at(g1), at(g2), at(g3), at(g4));
            let chi1 = (w * w - h) / (2.0 * sq);
            let chi2 = z / h;
            let chi3 = (w * w * w - 3.0 * h * w) / (6.0 * h);
            *xi += (at(&self.k1) + 2.0 * h * at(&self.k2)) / 3.0
                + w * (-a + 4.0 * b / 3.0 + 2.0 * c / 3.0)
                + chi1 * (-a + 4.0 * b / 3.0 - c / 3.0)
                + chi2 * (2.0 * a - 4.0 * b / 3.0 - 2.0 * c / 3.0)
                + chi3 * (-2.0 * a + 5.0 * b / 3.0 - 2.0 * c / 3.0 + d);
        }
    }
}
