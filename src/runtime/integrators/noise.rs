//! What every SDE scheme shares: Brownian increments, drift and diffusion in
//! the system's own noise layout (a diagonal g, an n×m matrix G, or the blocks of
//! a block-diagonal G), and G·v.

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
    /// g (n values, diagonal noise), G (n×m, row-major) or the blocks of G (n×k).
    pub g: Vec<f64>,
    layout: Layout,
}

/// How [`Coeffs::g`] holds G.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// n values: G = diag(g).
    Diagonal,
    /// n×m, row-major.
    Dense(usize),
    /// Blocks of k: row i holds its k entries for the processes of its block.
    Blocks(usize),
}

impl Layout {
    /// The layout of G for this noise.
    pub fn of(noise: NoiseShape) -> Layout {
        match (noise.diagonal, noise.block) {
            (true, _) => Layout::Diagonal,
            (false, 0) => Layout::Dense(noise.dim),
            (false, k) => Layout::Blocks(k),
        }
    }
}

impl Coeffs {
    /// Buffers for an `n`-dimensional system with this noise.
    pub fn new(n: usize, noise: NoiseShape) -> Coeffs {
        Coeffs {
            drift: vec![0.0; n],
            g: vec![0.0; n * noise.row_len()],
            layout: Layout::of(noise),
        }
    }

    /// The Itô drift and the diffusion at (x, t).
    #[inline]
    pub fn ito<S: SdeSystem + ?Sized>(&mut self, sys: &S, x: &[f64], t: f64) {
        if self.layout == Layout::Diagonal {
            sys.drift_diffusion(x, t, &mut self.drift, &mut self.g);
        } else {
            sys.drift_noise(x, t, &mut self.drift, &mut self.g);
        }
    }

    /// The Stratonovich drift and the diffusion at (x, t).
    #[inline]
    pub fn strat<S: SdeSystem + ?Sized>(&mut self, sys: &S, x: &[f64], t: f64) {
        if self.layout == Layout::Diagonal {
            sys.strat_drift_diffusion(x, t, &mut self.drift, &mut self.g);
        } else {
            sys.strat_drift_noise(x, t, &mut self.drift, &mut self.g);
        }
    }

    /// out += s · G v.
    #[inline]
    pub fn add_noise(&self, out: &mut [f64], v: &[f64], s: f64) {
        apply(&self.g, self.layout, out, v, s);
    }

    /// out += s · (G − other.G) v.
    #[inline]
    pub fn add_noise_difference(&self, other: &Coeffs, out: &mut [f64], v: &[f64], s: f64) {
        apply(&self.g, self.layout, out, v, s);
        apply(&other.g, other.layout, out, v, -s);
    }
}

/// out += s · G v, for G held as `layout` says.
#[inline]
pub(crate) fn apply(g: &[f64], layout: Layout, out: &mut [f64], v: &[f64], s: f64) {
    match layout {
        Layout::Diagonal => {
            for ((o, gi), vi) in out.iter_mut().zip(g).zip(v) {
                *o += s * gi * vi;
            }
        }
        Layout::Dense(m) if m > 0 => {
            for (o, row) in out.iter_mut().zip(g.chunks_exact(m)) {
                let dot: f64 = row.iter().zip(v).map(|(a, b)| a * b).sum();
                *o += s * dot;
            }
        }
        // Block b: components and processes bk … bk + k − 1 (a last, shorter block
        // when k does not divide n).
        Layout::Blocks(k) if k > 0 => {
            for ((o, gb), vb) in out.chunks_mut(k).zip(g.chunks(k * k)).zip(v.chunks(k)) {
                for (oi, row) in o.iter_mut().zip(gb.chunks_exact(k)) {
                    let dot: f64 = row.iter().zip(vb).map(|(a, b)| a * b).sum();
                    *oi += s * dot;
                }
            }
        }
        Layout::Dense(_) | Layout::Blocks(_) => {}
    }
}
