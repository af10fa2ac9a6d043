//! MALA, the Metropolis-adjusted Langevin algorithm, for π ∝ exp(−U/T).
//!
//! Proposal y = x − h∇U(x) + √(2hT) ξ, i.e. q(y|x) = N(x − h∇U(x), 2hT·I); accepted with
//! probability min{1, π(y)q(x|y) / (π(x)q(y|x))}, where
//! log q(y|x) = −|y − x + h∇U(x)|² / (4hT) + const = −|ξ|²/2 + const.

use super::{check_finite, Sampler};
use crate::runtime::checkpoint::SamplerState;
use crate::runtime::error::NonFiniteWhat;
use crate::runtime::rng::{fill_normal, uniform_open01, StreamRng};
use crate::runtime::target::GibbsTarget;

/// MALA workspace for one chain: U and ∇U at the current state are kept between steps.
#[derive(Debug, Clone)]
pub struct Mala {
    step: f64,
    temperature: f64,
    noise_scale: f64,
    energy: f64,
    grad: Vec<f64>,
    proposal: Vec<f64>,
    proposal_grad: Vec<f64>,
    noise: Vec<f64>,
    accepted: u64,
    /// log α of the last step (for its acceptance statistic).
    last_log_alpha: f64,
    /// The HMC Hamiltonian U(x)/T + |ξ|²/2 at the start of the last step.
    last_hamiltonian: f64,
}

impl Mala {
    /// MALA with step `step` at temperature `temperature` for a `dim`-dimensional target.
    pub fn new(dim: usize, step: f64, temperature: f64) -> Self {
        Mala {
            step,
            temperature,
            noise_scale: (2.0 * step * temperature).sqrt(),
            energy: 0.0,
            grad: vec![0.0; dim],
            proposal: vec![0.0; dim],
            proposal_grad: vec![0.0; dim],
            noise: vec![0.0; dim],
            accepted: 0,
            last_log_alpha: 0.0,
            last_hamiltonian: 0.0,
        }
    }

    /// log α = −(U(y) − U(x))/T + log q(x|y) − log q(y|x), given U(y) and ∇U(y) in the workspace.
    fn log_acceptance(&self, x: &[f64], proposal_energy: f64, forward: f64) -> f64 {
        let h = self.step;
        let residuals = x
            .iter()
            .zip(&self.proposal)
            .zip(&self.proposal_grad)
            .map(|((xi, yi), gy)| xi - yi + h * gy);
        let reverse = sum_of_squares(residuals) / (4.0 * h * self.temperature);
        -(proposal_energy - self.energy) / self.temperature - reverse + forward
    }
}

impl Sampler for Mala {
    fn init<T: GibbsTarget + ?Sized>(&mut self, target: &T, x: &[f64]) -> Result<(), (NonFiniteWhat, f64)> {
        check_finite(x)?;
        self.energy = target.energy_grad(x, &mut self.grad);
        if !self.energy.is_finite() {
            return Err((NonFiniteWhat::Energy, self.energy));
        }
        check_finite(&self.grad)
    }

    #[inline]
    fn step<T: GibbsTarget + ?Sized>(&mut self, target: &T, x: &mut [f64], rng: &mut StreamRng) {
        fill_normal(rng, &mut self.noise);
        let (h, c) = (self.step, self.noise_scale);
        for (((y, xi), g), z) in self
            .proposal
            .iter_mut()
            .zip(x.iter())
            .zip(&self.grad)
            .zip(&self.noise)
        {
            *y = xi - h * g + c * z;
        }
        let proposal_energy = target.energy_grad(&self.proposal, &mut self.proposal_grad);
        let forward = 0.5 * sum_of_squares(self.noise.iter().copied());
        let log_alpha = self.log_acceptance(x, proposal_energy, forward);
        self.last_log_alpha = log_alpha;
        self.last_hamiltonian = self.energy / self.temperature + forward;
        // A NaN log α (non-finite energy or gradient at y) compares false: the proposal is rejected.
        if uniform_open01(rng).ln() < log_alpha {
            x.copy_from_slice(&self.proposal);
            std::mem::swap(&mut self.grad, &mut self.proposal_grad);
            self.energy = proposal_energy;
            self.accepted += 1;
        }
    }

    fn accepted(&self) -> Option<u64> {
        Some(self.accepted)
    }

    /// MALA is HMC with one leapfrog step of size ε = √(2hT) on U/T with unit mass: the step
    /// size is ε, the Hamiltonian the one at the start of the step.
    fn stats<T: GibbsTarget + ?Sized>(&self, _target: &T, _x: &[f64], out: &mut [f64; 7]) {
        let accept = if self.last_log_alpha.is_nan() {
            0.0
        } else {
            self.last_log_alpha.exp().min(1.0)
        };
        let lp = -self.energy / self.temperature;
        *out = [lp, accept, self.noise_scale, 0.0, 1.0, 0.0, self.last_hamiltonian];
    }

    fn save(&self) -> SamplerState {
        SamplerState::new(&[], vec![self.accepted])
    }

    fn restore<T: GibbsTarget + ?Sized>(
        &mut self,
        target: &T,
        x: &[f64],
        state: &SamplerState,
    ) -> Result<(), (NonFiniteWhat, f64)> {
        self.init(target, x)?;
        self.accepted = state.counts.first().copied().unwrap_or(0);
        Ok(())
    }
}

/// Σ vᵢ² with four independent accumulators (so the sum is not one long dependency chain).
#[inline]
fn sum_of_squares(values: impl Iterator<Item = f64>) -> f64 {
    let mut acc = [0.0f64; 4];
    for (k, v) in values.enumerate() {
        if let Some(a) = acc.get_mut(k % 4) {
            *a += v * v;
        }
    }
    acc.iter().sum()
}
