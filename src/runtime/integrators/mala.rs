//! MALA, the Metropolis-adjusted Langevin algorithm, for π ∝ exp(−U/T), preconditioned by a
//! constant mass matrix M (M = I by default).
//!
//! Proposal y = x − hM⁻¹∇U(x) + √(2hT) M^{−1/2}ξ, i.e. q(y|x) = N(x − hM⁻¹∇U(x), 2hT·M⁻¹);
//! accepted with probability min{1, π(y)q(x|y) / (π(x)q(y|x))}, where
//! log q(y|x) = −(y − μ(x))ᵀM(y − μ(x))/(4hT) + const = −|ξ|²/2 + const.
//! Warmup may adapt h by dual averaging toward `target_accept` and a diagonal M
//! ([`super::adapt`]).

use super::adapt::{Adjust, Warmup};
use super::metric::Metric;
use super::{check_finite, Sampler, SamplerStats};
use crate::runtime::checkpoint::{RestoreError, SamplerState, StateReader};
use crate::runtime::error::NonFiniteWhat;
use crate::runtime::method::Adaptation;
use crate::runtime::rng::{fill_normal, uniform_open01, StreamRng};
use crate::runtime::target::GibbsTarget;

/// U, ∇U and M⁻¹∇U at one point.
#[derive(Debug, Clone)]
struct Eval {
    energy: f64,
    grad: Vec<f64>,
    drift: Vec<f64>,
}

/// MALA workspace for one chain: the current point's evaluation is kept between steps.
#[derive(Debug, Clone)]
pub struct Mala {
    step: f64,
    temperature: f64,
    metric: Metric,
    warmup: Warmup,
    current: Eval,
    proposed: Eval,
    proposal: Vec<f64>,
    noise: Vec<f64>,
    kick: Vec<f64>,
    residual: Vec<f64>,
    accepted: u64,
    /// log α of the last step (its acceptance statistic).
    last_log_alpha: f64,
    /// The HMC Hamiltonian U(x)/T + |ξ|²/2 at the start of the last step.
    last_hamiltonian: f64,
}

impl Mala {
    /// MALA with a fixed step `step` at temperature `temperature` for a `dim`-dimensional target.
    pub fn new(dim: usize, step: f64, temperature: f64) -> Self {
        let metric = Metric::from_inv_diag(&vec![1.0; dim]);
        Mala::with_metric(dim, step, temperature, metric, &Adaptation::fixed(0.574), 0)
    }

    /// MALA with mass metric `metric` and adaptation over `warmup` iterations.
    pub(crate) fn with_metric(
        dim: usize,
        step: f64,
        temperature: f64,
        metric: Metric,
        adapt: &Adaptation,
        warmup: u64,
    ) -> Self {
        let eval = Eval {
            energy: 0.0,
            grad: vec![0.0; dim],
            drift: vec![0.0; dim],
        };
        Mala {
            step,
            temperature,
            metric,
            warmup: Warmup::new(warmup, dim, step, adapt),
            current: eval.clone(),
            proposed: eval,
            proposal: vec![0.0; dim],
            noise: vec![0.0; dim],
            kick: vec![0.0; dim],
            residual: vec![0.0; dim],
            accepted: 0,
            last_log_alpha: 0.0,
            last_hamiltonian: 0.0,
        }
    }

    /// log α = −(U(y) − U(x))/T + log q(x|y) − log q(y|x), with y's evaluation in `proposed`.
    fn log_acceptance(&mut self, x: &[f64]) -> f64 {
        let h = self.step;
        let forward = 0.5 * self.noise.iter().map(|z| z * z).sum::<f64>();
        for (((r, xi), yi), d) in self
            .residual
            .iter_mut()
            .zip(x)
            .zip(&self.proposal)
            .zip(&self.proposed.drift)
        {
            *r = xi - yi + h * d;
        }
        let reverse = self.metric.quad(&self.residual) / (4.0 * h * self.temperature);
        -(self.proposed.energy - self.current.energy) / self.temperature - reverse + forward
    }
}

impl Sampler for Mala {
    fn init<T: GibbsTarget + ?Sized>(&mut self, target: &T, x: &[f64]) -> Result<(), (NonFiniteWhat, f64)> {
        check_finite(x)?;
        self.current.energy = target.energy_grad(x, &mut self.current.grad);
        if !self.current.energy.is_finite() {
            return Err((NonFiniteWhat::Energy, self.current.energy));
        }
        self.metric.inv_mul(&self.current.grad, &mut self.current.drift);
        check_finite(&self.current.grad)
    }

    #[inline]
    fn step<T: GibbsTarget + ?Sized>(&mut self, target: &T, x: &mut [f64], rng: &mut StreamRng) {
        fill_normal(rng, &mut self.noise);
        self.metric.inv_sqrt_mul(&self.noise, &mut self.kick);
        let (h, c) = (self.step, (2.0 * self.step * self.temperature).sqrt());
        for (((y, xi), d), z) in self
            .proposal
            .iter_mut()
            .zip(x.iter())
            .zip(&self.current.drift)
            .zip(&self.kick)
        {
            *y = xi - h * d + c * z;
        }
        self.proposed.energy = target.energy_grad(&self.proposal, &mut self.proposed.grad);
        self.metric.inv_mul(&self.proposed.grad, &mut self.proposed.drift);
        let log_alpha = self.log_acceptance(x);
        self.last_log_alpha = log_alpha;
        self.last_hamiltonian =
            self.current.energy / self.temperature + 0.5 * self.noise.iter().map(|z| z * z).sum::<f64>();
        // A NaN log α (non-finite energy or gradient at y) compares false: the proposal is rejected.
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
        match self.warmup.after_iteration(stat, x, Some(&mut self.metric)) {
            Adjust::Step(e) => self.step = e,
            Adjust::Metric(e) => {
                if let Some(e) = e {
                    self.step = e;
                    self.warmup.restart_step(e);
                }
                self.metric.inv_mul(&self.current.grad, &mut self.current.drift);
            }
            Adjust::Nothing => {}
        }
    }

    fn accepted(&self) -> Option<u64> {
        Some(self.accepted)
    }

    fn stats(&self) -> SamplerStats {
        SamplerStats {
            step_size: Some(self.step),
            inv_mass_diag: self
                .warmup
                .adapts_mass()
                .then(|| self.metric.inv_diag().map(<[f64]>::to_vec))
                .flatten(),
            ..SamplerStats::default()
        }
    }

    /// MALA is HMC with one leapfrog step of size ε = √(2hT) on U/T: the step size is ε, the
    /// Hamiltonian the one at the start of the step.
    fn draw_stats<T: GibbsTarget + ?Sized>(&self, _target: &T, _x: &[f64], out: &mut [f64; 7]) {
        let accept = if self.last_log_alpha.is_nan() {
            0.0
        } else {
            self.last_log_alpha.exp().min(1.0)
        };
        let lp = -self.current.energy / self.temperature;
        let eps = (2.0 * self.step * self.temperature).sqrt();
        *out = [lp, accept, eps, 0.0, 1.0, 0.0, self.last_hamiltonian];
    }

    /// The step size and metric in use (both adapted during warmup), the adaptation's state
    /// and the acceptance count; the current point's energy, gradient and drift are recomputed.
    fn save(&self, out: &mut SamplerState) {
        out.put(self.step);
        self.metric.save(out);
        self.warmup.save(out);
        out.count(self.accepted);
    }

    fn restore<T: GibbsTarget + ?Sized>(
        &mut self,
        target: &T,
        x: &[f64],
        state: &mut StateReader<'_>,
    ) -> Result<(), RestoreError> {
        self.step = state.float()?;
        self.metric = Metric::restore(state, x.len())?;
        self.warmup.restore(state)?;
        self.accepted = state.count()?;
        Ok(self.init(target, x)?)
    }
}
