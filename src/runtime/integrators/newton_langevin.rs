//! Newton–Langevin: MALA preconditioned by the local curvature, the simplified manifold MALA of
//! Girolami & Calderhead (2011) with metric A(x) = ∇²U(x) + λ(x)I.
//!
//! λ(x) starts at `damping` and grows tenfold (from at least 10⁻⁶(1 + max|Hᵢᵢ|)) until A(x) is
//! positive definite (Levenberg–Marquardt damping for non-convex regions); it depends on x
//! alone, so the chain stays reversible. Proposal y = x − hA(x)⁻¹∇U(x) + √(2hT) A(x)^{−1/2}ξ,
//! q(y|x) = N(x − hA(x)⁻¹∇U(x), 2hT·A(x)⁻¹), accepted with the Metropolis–Hastings ratio, so
//! exp(−U/T) is sampled exactly. With h = 1 and no noise the move is a damped Newton step.
//! Cost per step: one gradient, one Hessian and one Cholesky factorization (O(n³)).

use super::adapt::{Adjust, Warmup};
use super::linalg::{cholesky, log_det_from_cholesky, lower_t_norm2, solve_lower, solve_lower_t};
use super::{check_finite, Sampler, SamplerStats};
use crate::runtime::checkpoint::{RestoreError, SamplerState, StateReader};
use crate::runtime::error::NonFiniteWhat;
use crate::runtime::method::Adaptation;
use crate::runtime::rng::{fill_normal, uniform_open01, StreamRng};
use crate::runtime::target::GibbsTarget;

/// U, ∇U, the Cholesky factor of A, A⁻¹∇U and log det A at one point.
#[derive(Debug, Clone)]
struct Local {
    energy: f64,
    grad: Vec<f64>,
    chol: Vec<f64>,
    drift: Vec<f64>,
    log_det: f64,
}

impl Local {
    fn new(dim: usize) -> Self {
        Local {
            energy: 0.0,
            grad: vec![0.0; dim],
            chol: vec![0.0; dim * dim],
            drift: vec![0.0; dim],
            log_det: 0.0,
        }
    }
}

/// Writes the Cholesky factor of `h` + shift·I into `out`; false if it is not positive definite.
fn factor_shifted(h: &[f64], n: usize, shift: f64, out: &mut [f64]) -> bool {
    out.copy_from_slice(h);
    for i in 0..n {
        if let Some(d) = out.get_mut(i * n + i) {
            *d += shift;
        }
    }
    cholesky(out, n)
}

/// Newton–Langevin workspace for one chain.
#[derive(Debug, Clone)]
pub struct NewtonLangevin {
    dim: usize,
    step: f64,
    damping: f64,
    temperature: f64,
    warmup: Warmup,
    current: Local,
    proposed: Local,
    hessian: Vec<f64>,
    proposal: Vec<f64>,
    noise: Vec<f64>,
    residual: Vec<f64>,
    accepted: u64,
    damping_increases: u64,
}

impl NewtonLangevin {
    /// The sampler with step h, damping λ ≥ 0, step adaptation over `warmup` iterations, at
    /// temperature T for a `dim`-dimensional target.
    pub fn new(
        dim: usize,
        step: f64,
        damping: f64,
        adapt: &Adaptation,
        warmup: u64,
        temperature: f64,
    ) -> Self {
        let adapt = Adaptation {
            mass: false,
            ..*adapt
        };
        NewtonLangevin {
            dim,
            step,
            damping,
            temperature,
            warmup: Warmup::new(warmup, dim, step, &adapt),
            current: Local::new(dim),
            proposed: Local::new(dim),
            hessian: vec![0.0; dim * dim],
            proposal: vec![0.0; dim],
            noise: vec![0.0; dim],
            residual: vec![0.0; dim],
            accepted: 0,
            damping_increases: 0,
        }
    }

    /// Fills `local` at `x`; false if U, the Hessian or the factorization is unusable.
    fn evaluate<T: GibbsTarget + ?Sized>(&mut self, target: &T, x: &[f64], proposed: bool) -> bool {
        let local = if proposed {
            &mut self.proposed
        } else {
            &mut self.current
        };
        local.energy = target.energy_grad(x, &mut local.grad);
        if !local.energy.is_finite() || !target.hessian(x, &mut self.hessian) {
            return false;
        }
        let n = self.dim;
        let max_diag = (0..n)
            .filter_map(|i| self.hessian.get(i * n + i))
            .fold(0.0f64, |m, v| m.max(v.abs()));
        let mut lambda = self.damping.max(1e-12 * (1.0 + max_diag));
        for attempt in 0..60 {
            // the first λ in the sequence with ∇²U + λI positive definite …
            if factor_shifted(&self.hessian, n, lambda, &mut local.chol) {
                if attempt > 0 {
                    self.damping_increases += 1;
                }
                // … then A = ∇²U + 2λI, whose eigenvalues are at least λ: no near-singular A
                if !factor_shifted(&self.hessian, n, 2.0 * lambda, &mut local.chol) {
                    return false;
                }
                local.drift.copy_from_slice(&local.grad);
                solve_lower(&local.chol, n, &mut local.drift);
                solve_lower_t(&local.chol, n, &mut local.drift);
                local.log_det = log_det_from_cholesky(&local.chol, n);
                return local.log_det.is_finite();
            }
            lambda = (10.0 * lambda).max(1e-6 * (1.0 + max_diag));
        }
        false
    }

    /// log α for the proposal in `self.proposal` with its evaluation in `self.proposed`.
    fn log_acceptance(&mut self, x: &[f64]) -> f64 {
        let (h, t) = (self.step, self.temperature);
        let forward = 0.5 * self.current.log_det - 0.5 * self.noise.iter().map(|z| z * z).sum::<f64>();
        for (((r, xi), yi), d) in self
            .residual
            .iter_mut()
            .zip(x)
            .zip(&self.proposal)
            .zip(&self.proposed.drift)
        {
            *r = xi - yi + h * d;
        }
        let quad = lower_t_norm2(&self.proposed.chol, self.dim, &self.residual);
        let reverse = 0.5 * self.proposed.log_det - quad / (4.0 * h * t);
        -(self.proposed.energy - self.current.energy) / t + reverse - forward
    }
}

impl Sampler for NewtonLangevin {
    fn init<T: GibbsTarget + ?Sized>(&mut self, target: &T, x: &[f64]) -> Result<(), (NonFiniteWhat, f64)> {
        check_finite(x)?;
        if !self.evaluate(target, x, false) {
            return Err((NonFiniteWhat::Energy, self.current.energy));
        }
        check_finite(&self.current.grad)
    }

    fn step<T: GibbsTarget + ?Sized>(&mut self, target: &T, x: &mut [f64], rng: &mut StreamRng) {
        fill_normal(rng, &mut self.noise);
        // noise L⁻ᵀξ has covariance A⁻¹
        self.residual.copy_from_slice(&self.noise);
        solve_lower_t(&self.current.chol, self.dim, &mut self.residual);
        let (h, c) = (self.step, (2.0 * self.step * self.temperature).sqrt());
        for (((y, xi), d), z) in self
            .proposal
            .iter_mut()
            .zip(x.iter())
            .zip(&self.current.drift)
            .zip(&self.residual)
        {
            *y = xi - h * d + c * z;
        }
        let proposal = std::mem::take(&mut self.proposal);
        let usable = self.evaluate(target, &proposal, true);
        self.proposal = proposal;
        let log_alpha = if usable { self.log_acceptance(x) } else { f64::NAN };
        if uniform_open01(rng).ln() < log_alpha {
            x.copy_from_slice(&self.proposal);
            std::mem::swap(&mut self.current, &mut self.proposed);
            self.accepted += 1;
        }
        let stat = if log_alpha.is_nan() {
            0.0
        } else {
            log_alpha.exp().min(1.0)
        };
        match self.warmup.after_iteration(stat, x, None) {
            Adjust::Step(e) | Adjust::Metric(Some(e)) => self.step = e,
            Adjust::Metric(None) | Adjust::Nothing => {}
        }
    }

    fn accepted(&self) -> Option<u64> {
        Some(self.accepted)
    }

    fn stats(&self) -> SamplerStats {
        SamplerStats {
            step_size: Some(self.step),
            damping_increases: Some(self.damping_increases),
            ..SamplerStats::default()
        }
    }

    /// The step size, its adaptation and the counters; the local metric A(x) and its
    /// factorization are recomputed from the state.
    fn save(&self, out: &mut SamplerState) {
        out.put(self.step);
        self.warmup.save(out);
        out.count(self.accepted);
        out.count(self.damping_increases);
    }

    fn restore<T: GibbsTarget + ?Sized>(
        &mut self,
        target: &T,
        x: &[f64],
        state: &mut StateReader<'_>,
    ) -> Result<(), RestoreError> {
        self.step = state.float()?;
        self.warmup.restore(state)?;
        self.accepted = state.count()?;
        let increases = state.count()?;
        // evaluating A(x) again would count its damping increase a second time
        self.init(target, x)?;
        self.damping_increases = increases;
        Ok(())
    }
}
