//! Adaptive time stepping for SDEs with error control on a Brownian tree.
//!
//! Each attempted step of length h compares one step of the base scheme with two
//! steps of length h/2, the midpoint of the Brownian path drawn from the bridge
//! N(ΔW/2, h/4). The error estimate is the scaled RMS difference
//! `√(mean(((fine − coarse)/(abstol + reltol·max(|x|, |fine|)))²))`; a step with
//! estimate ≤ 1 is accepted with the fine result (local extrapolation), and the next
//! proposal is h·clamp(0.9·err^(−1/(p+½)), 0.2, 5) for a base scheme of strong order p.
//!
//! A rejected step keeps its Brownian path: its two halves go onto a stack of
//! future intervals (the first half on top), and later attempts either use a whole
//! interval from the stack or split it with the Brownian bridge
//! W(s) ~ N((s/L)·ΔW, s(L − s)/L). So the path never changes once drawn — the idea
//! of rejection sampling with memory (Rackauckas & Nie, Discrete Contin. Dyn. Syst. B
//! 22(7), 2017) with the refinement of a Brownian tree (Gaines & Lyons, SIAM J. Appl.
//! Math. 57(5), 1997). Cost per attempt: three steps of the base scheme.

use super::noise::Increments;
use super::SdeScheme;
use crate::runtime::checkpoint::{Mismatch, SamplerState, StateReader};
use crate::runtime::rng::{fill_normal, StreamRng};
use crate::runtime::target::SdeSystem;

/// Error tolerances and step bounds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tolerances {
    /// Absolute tolerance per component.
    pub abstol: f64,
    /// Relative tolerance per component.
    pub reltol: f64,
    /// Smallest step: a step this short is accepted whatever its error.
    pub dt_min: f64,
    /// Largest step.
    pub dt_max: f64,
}

/// What an adaptive path did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AdaptiveStats {
    /// Accepted steps.
    pub accepted: u64,
    /// Rejected attempts.
    pub rejected: u64,
}

/// A base scheme with error control (see the module header).
#[derive(Debug, Clone)]
pub struct Adaptive<B> {
    base: B,
    tol: Tolerances,
    exponent: f64,
    h: f64,
    m: usize,
    lens: Vec<f64>,
    incs: Vec<f64>,
    dw: Vec<f64>,
    half: Vec<f64>,
    x0: Vec<f64>,
    coarse: Vec<f64>,
    stats: AdaptiveStats,
}

impl<B: SdeScheme> Adaptive<B> {
    /// Error control around `base` for `n` components driven by `m` Wiener processes, with
    /// first proposal `h0`.
    pub fn new(base: B, n: usize, m: usize, h0: f64, tol: Tolerances) -> Self {
        let exponent = 1.0 / (base.strong_order() + 0.5);
        Adaptive {
            base,
            tol,
            exponent,
            h: h0.max(tol.dt_min).min(tol.dt_max),
            m,
            lens: Vec::with_capacity(64),
            incs: Vec::with_capacity(64 * m),
            dw: vec![0.0; m],
            half: vec![0.0; m],
            x0: vec![0.0; n],
            coarse: vec![0.0; n],
            stats: AdaptiveStats::default(),
        }
    }

    /// Steps accepted and rejected so far.
    pub fn stats(&self) -> AdaptiveStats {
        self.stats
    }

    /// The current step proposal.
    pub fn proposal(&self) -> f64 {
        self.h
    }

    /// Writes what the next steps depend on for a checkpoint: the step proposal, the counts,
    /// and the stack of pending intervals with their Brownian increments (the path already
    /// drawn over rejected steps), bitwise.
    pub(crate) fn save(&self, out: &mut SamplerState) {
        out.put(self.h);
        out.count(self.stats.accepted);
        out.count(self.stats.rejected);
        out.count(self.lens.len() as u64);
        out.put_all(&self.lens);
        out.put_all(&self.incs);
    }

    /// Reads what [`Adaptive::save`] wrote.
    pub(crate) fn restore(&mut self, r: &mut StateReader<'_>) -> Result<(), Mismatch> {
        self.h = r.float()?;
        self.stats.accepted = r.count()?;
        self.stats.rejected = r.count()?;
        let pending = usize::try_from(r.count()?).map_err(|_| Mismatch)?;
        self.lens = r.floats(pending)?;
        self.incs = r.floats(pending.checked_mul(self.m).ok_or(Mismatch)?)?;
        Ok(())
    }

    /// Takes one accepted step from `*t`, not beyond `target`, and advances `*t`.
    pub fn step<S: SdeSystem + ?Sized>(
        &mut self,
        sys: &S,
        x: &mut [f64],
        t: &mut f64,
        target: f64,
        rng: &mut StreamRng,
    ) {
        loop {
            let remaining = target - *t;
            if remaining <= 0.0 {
                return;
            }
            // Do not leave a sliver: finish the interval when the proposal nearly reaches it.
            let want = if self.h >= remaining * (1.0 - 1e-6) {
                remaining
            } else {
                self.h
            };
            let h = self.increment(want, rng);
            let err = self.attempt(sys, x, *t, h, rng);
            let at_floor = h <= self.tol.dt_min * (1.0 + 1e-9);
            if err <= 1.0 || at_floor {
                *t = if h >= remaining { target } else { *t + h };
                self.stats.accepted += 1;
                let fac = (0.9 * err.powf(-self.exponent)).clamp(0.2, 5.0);
                let fac = if fac.is_nan() { 5.0 } else { fac };
                self.h = (h * fac).max(self.tol.dt_min).min(self.tol.dt_max);
                return;
            }
            // Rejected: the path over [t, t + h] is kept, as two halves (first on top).
            x.copy_from_slice(&self.x0);
            self.push(0.5 * h, true);
            self.push(0.5 * h, false);
            self.stats.rejected += 1;
            let fac = if err.is_finite() {
                (0.9 * err.powf(-self.exponent)).clamp(0.2, 1.0)
            } else {
                0.2
            };
            self.h = (h * fac).max(self.tol.dt_min).min(self.tol.dt_max);
        }
    }

    /// One attempt of length `h` with the increment in `self.dw`: leaves the fine result in
    /// `x`, the halves of the increment in `half` and `dw`, and returns the error estimate.
    fn attempt<S: SdeSystem + ?Sized>(
        &mut self,
        sys: &S,
        x: &mut [f64],
        t: f64,
        h: f64,
        rng: &mut StreamRng,
    ) -> f64 {
        // Midpoint of the bridge: W(h/2) ~ N(ΔW/2, h/4).
        fill_normal(rng, &mut self.half);
        let s = 0.5 * h.sqrt();
        for (w1, w) in self.half.iter_mut().zip(&self.dw) {
            *w1 = 0.5 * w + s * *w1;
        }
        self.x0.copy_from_slice(x);
        self.coarse.copy_from_slice(x);
        let none: &[f64] = &[];
        self.base.step_with(
            sys,
            &mut self.coarse,
            t,
            h,
            Increments {
                dw: &self.dw,
                dz: none,
            },
        );
        self.base.step_with(
            sys,
            x,
            t,
            0.5 * h,
            Increments {
                dw: &self.half,
                dz: none,
            },
        );
        // The second half's increment, kept in `dw` (the whole increment is no longer needed).
        for (w, w1) in self.dw.iter_mut().zip(&self.half) {
            *w -= w1;
        }
        self.base.step_with(
            sys,
            x,
            t + 0.5 * h,
            0.5 * h,
            Increments {
                dw: &self.dw,
                dz: none,
            },
        );
        self.error(x)
    }

    /// The scaled RMS difference between the fine result `x` and the coarse one.
    fn error(&self, x: &[f64]) -> f64 {
        let n = x.len().max(1) as f64;
        let sum: f64 = x
            .iter()
            .zip(&self.coarse)
            .zip(&self.x0)
            .map(|((f, c), x0)| {
                let scale = self.tol.abstol + self.tol.reltol * f.abs().max(x0.abs());
                let r = (f - c) / scale;
                r * r
            })
            .sum();
        (sum / n).sqrt()
    }

    /// Pushes an interval of length `len` whose increment is `dw` (`second`) or `half`.
    fn push(&mut self, len: f64, second: bool) {
        self.lens.push(len);
        let src = if second { &self.dw } else { &self.half };
        self.incs.extend_from_slice(src);
    }

    /// Puts the increment of the next interval, of length at most `want`, into `dw` and
    /// returns its length: from the stack (split by the bridge if longer), else fresh.
    fn increment(&mut self, want: f64, rng: &mut StreamRng) -> f64 {
        let Some(len) = self.lens.last().copied() else {
            fill_normal(rng, &mut self.dw);
            let s = want.sqrt();
            self.dw.iter_mut().for_each(|w| *w *= s);
            return want;
        };
        let start = self.incs.len().saturating_sub(self.m);
        if want >= len * (1.0 - 1e-9) {
            self.lens.pop();
            for (w, v) in self.dw.iter_mut().zip(self.incs.drain(start..)) {
                *w = v;
            }
            return len;
        }
        // Bridge: W(want) ~ N((want/len)·ΔW, want(len − want)/len); the rest stays on the stack.
        fill_normal(rng, &mut self.dw);
        let q = want / len;
        let s = (want * (len - want) / len).sqrt();
        if let Some(top) = self.incs.get_mut(start..) {
            for (w, total) in self.dw.iter_mut().zip(top.iter_mut()) {
                *w = q * *total + s * *w;
                *total -= *w;
            }
        }
        if let Some(l) = self.lens.last_mut() {
            *l = len - want;
        }
        want
    }
}
