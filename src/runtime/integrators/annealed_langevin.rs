//! Annealed Langevin (as in Song & Ermon 2019 for score-based models): ULA steps at temperature
//! T·τ_k over stages k = 0, …, K−1 of `steps_per_stage` steps each, with step size h·τ_k (their
//! α_i = ε σ_i²/σ_L² with τ = σ²/σ_L²). The factors τ_k follow a geometric or linear schedule;
//! after the last stage the chain stays at τ_{K−1} (so with τ_{K−1} = 1 it ends as plain ULA
//! on exp(−U/T)). Steps are counted from the start of the run, warmup included.

use super::ula::Ula;
use super::{check_finite, Sampler, SamplerStats};
use crate::runtime::checkpoint::{RestoreError, SamplerState, StateReader};
use crate::runtime::error::NonFiniteWhat;
use crate::runtime::method::Schedule;
use crate::runtime::rng::StreamRng;
use crate::runtime::target::GibbsTarget;

/// Annealed Langevin workspace for one chain.
#[derive(Debug, Clone)]
pub struct AnnealedLangevin {
    ula: Ula,
    step: f64,
    temperature: f64,
    schedule: Schedule,
    stages: u64,
    steps_per_stage: u64,
    taken: u64,
    factor: f64,
}

impl AnnealedLangevin {
    /// The sampler for a `dim`-dimensional target at base temperature `temperature`.
    pub fn new(
        dim: usize,
        step: f64,
        schedule: Schedule,
        stages: u64,
        steps_per_stage: u64,
        temperature: f64,
    ) -> Self {
        let first_factor = schedule.factor(0, stages);
        AnnealedLangevin {
            ula: Ula::new(dim, step, temperature),
            step,
            temperature,
            schedule,
            stages,
            steps_per_stage,
            taken: 0,
            factor: first_factor,
        }
    }
}

impl Sampler for AnnealedLangevin {
    fn init<T: GibbsTarget + ?Sized>(&mut self, _target: &T, x: &[f64]) -> Result<(), (NonFiniteWhat, f64)> {
        check_finite(x)
    }

    #[inline]
    fn step<T: GibbsTarget + ?Sized>(&mut self, target: &T, x: &mut [f64], rng: &mut StreamRng) {
        let stage = self.taken / self.steps_per_stage.max(1);
        self.factor = self.schedule.factor(stage, self.stages);
        let h = self.step * self.factor;
        let scale = (2.0 * h * self.temperature * self.factor).sqrt();
        self.ula.step_with(target, x, rng, h, scale);
        self.taken += 1;
    }

    fn stats(&self) -> SamplerStats {
        SamplerStats {
            temperature_factor: Some(self.factor),
            ..SamplerStats::default()
        }
    }

    /// The steps taken (which fix the stage) and the last step's temperature factor.
    fn save(&self, out: &mut SamplerState) {
        out.count(self.taken);
        out.put(self.factor);
    }

    fn restore<T: GibbsTarget + ?Sized>(
        &mut self,
        target: &T,
        x: &[f64],
        state: &mut StateReader<'_>,
    ) -> Result<(), RestoreError> {
        self.taken = state.count()?;
        self.factor = state.float()?;
        Ok(self.init(target, x)?)
    }
}
