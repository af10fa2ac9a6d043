//! What every SDE scheme shares: Brownian increments, drift and diffusion in
//! the system's own noise layout (a diagonal g or an n×m matrix G), and G·v.

use crate::runtime::rng::{fill_normal, StreamRng};
use crate::runtime::target::{NoiseShape, SdeSystem};

/// The Brownian increments of one step of length h.
#[derive(Clone, Copy, Debug)]
pub struct Increments<'a> {
    /// ΔW, one value per Wiener process, each ~ N(0, h).
    pub dw: &'a [f64],
    /// ΔZ = ∫ₜ^{t+h} (W_s − W_t) ds = I₍₁,₀₎ per process, jointly Gaussian with ΔW
    /// (mean 0, variance h³/3, covariance h²/2 with ΔW); empty when the scheme
    /// does not use it.
    pub dz: &'a [f64],
}

/// Draws the increments of a step of length `h` into `dw` and, when `dz` is not
/// empty, `dz` (ΔZ = ½h(ΔW + ΔU/√3) with ΔU ~ N(0, h) independent).
pub fn draw_increments(rng: &mut StreamRng, h: f64, dw: &mut [f64], dz: &mut [f64]) {
    let s = h.sqrt();
    fill_normal(rng, dw);
    dw.iter_mut().for_each(|w| *w *= s);
    if !dz.is_empty() {
        fill_normal(rng, dz);
        let k = s / 3f64.sqrt();
        for (z, w) in dz.iter_mut().zip(dw.iter()) {
            *z = 0.5 * h * (w + k * *z);
        }
    }
}

/// Drift and diffusion at one point, in the system's noise layout.
#[derive(Debug, Clone)]
pub(crate) struct Coeffs {
    /// The drift (Itô or Stratonovich, whichever was evaluated last).
    pub drift: Vec<f64>,
    /// g (n values, diagonal noise) or G (n×m, row-major).
    pub g: Vec<f64>,
    diagonal: bool,
    m: usize,
}

impl Coeffs {
    /// Buffers for an `n`-dimensional system with this noise.
    pub fn new(n: usize, noise: NoiseShape) -> Coeffs {
        let glen = if noise.diagonal { n } else { n * noise.dim };
        Coeffs {
            drift: vec![0.0; n],
            g: vec![0.0; glen],
            diagonal: noise.diagonal,
            m: noise.dim,
        }
    }

    /// The Itô drift and the diffusion at (x, t).
    #[inline]
    pub fn ito<S: SdeSystem + ?Sized>(&mut self, sys: &S, x: &[f64], t: f64) {
        if self.diagonal {
            sys.drift_diffusion(x, t, &mut self.drift, &mut self.g);
        } else {
            sys.drift_noise(x, t, &mut self.drift, &mut self.g);
        }
    }

    /// The Stratonovich drift and the diffusion at (x, t).
    #[inline]
    pub fn strat<S: SdeSystem + ?Sized>(&mut self, sys: &S, x: &[f64], t: f64) {
        if self.diagonal {
            sys.strat_drift_diffusion(x, t, &mut self.drift, &mut self.g);
        } else {
            sys.strat_drift_noise(x, t, &mut self.drift, &mut self.g);
        }
    }

    /// out += s · G v.
    #[inline]
    pub fn add_noise(&self, out: &mut [f64], v: &[f64], s: f64) {
        apply(&self.g, self.diagonal, self.m, out, v, s);
    }

    /// out += s · (G − other.G) v.
    #[inline]
    pub fn add_noise_difference(&self, other: &Coeffs, out: &mut [f64], v: &[f64], s: f64) {
        apply(&self.g, self.diagonal, self.m, out, v, s);
        apply(&other.g, other.diagonal, other.m, out, v, -s);
    }
}

/// out += s · G v, for a diagonal `g` (n values) or a row-major n×m `g`.
#[inline]
pub(crate) fn apply(g: &[f64], diagonal: bool, m: usize, out: &mut [f64], v: &[f64], s: f64) {
    if diagonal {
        for ((o, gi), vi) in out.iter_mut().zip(g).zip(v) {
            *o += s * gi * vi;
        }
    } else if m > 0 {
        for (o, row) in out.iter_mut().zip(g.chunks_exact(m)) {
            let dot: f64 = row.iter().zip(v).map(|(a, b)| a * b).sum();
            *o += s * dot;
        }
    }
}
