//! Hamiltonian Monte Carlo (Duane et al. 1987; Neal 2011): momenta p ~ N(0, M), L leapfrog
//! steps of size ε, and a Metropolis test on the energy error. With `length` set, L = ⌈length/ε⌉
//! follows the adapted ε. Warmup adapts ε by dual averaging and a diagonal M (see
//! [`super::adapt`]). A trajectory whose energy error exceeds 1000 counts as divergent.

use super::adapt::{Adjust, Warmup};
use super::hamiltonian::{Hamiltonian, Point, MAX_ENERGY_ERROR};
use super::metric::Metric;
use super::{check_finite, Sampler, SamplerStats};
use crate::runtime::checkpoint::{RestoreError, SamplerState, StateReader};
use crate::runtime::error::NonFiniteWhat;
use crate::runtime::method::Adaptation;
use crate::runtime::rng::{uniform_open01, StreamRng};
use crate::runtime::target::GibbsTarget;

/// HMC workspace for one chain.
#[derive(Debug, Clone)]
pub struct Hmc {
    ham: Hamiltonian,
    current: Point,
    proposal: Point,
    step: f64,
    steps: u64,
    length: Option<f64>,
    warmup: Warmup,
    accepted: u64,
    divergences: u64,
    leapfrog_steps: u64,
}

impl Hmc {
    /// HMC with step ε, `steps` leapfrog steps (or a trajectory `length`), mass metric,
    /// adaptation over `warmup` iterations, at temperature T for a `dim`-dimensional target.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        dim: usize,
        step: f64,
        steps: u64,
        length: Option<f64>,
        metric: Metric,
        adapt: &Adaptation,
        warmup: u64,
        temperature: f64,
    ) -> Self {
        Hmc {
            ham: Hamiltonian::new(metric, temperature, dim),
            current: Point::new(dim),
            proposal: Point::new(dim),
            step,
            steps,
            length,
            warmup: Warmup::new(warmup, dim, step, adapt),
            accepted: 0,
            divergences: 0,
            leapfrog_steps: 0,
        }
    }

    fn trajectory_steps(&self) -> u64 {
        match self.length {
            Some(l) => ((l / self.step).ceil() as u64).clamp(1, 1 << 20),
            None => self.steps,
        }
    }

    /// One trajectory from the current point; returns the acceptance statistic.
    fn transition<T: GibbsTarget + ?Sized>(&mut self, target: &T, rng: &mut StreamRng) -> f64 {
        self.ham.sample_momentum(&mut self.current, rng);
        let h0 = self.ham.energy(&self.current);
        self.proposal.copy_from(&self.current);
        let n = self.trajectory_steps();
        for _ in 0..n {
            self.ham.leapfrog(target, &mut self.proposal, self.step);
        }
        let h1 = self.ham.energy(&self.proposal);
        let sampling = !self.warmup.in_warmup();
        if sampling {
            self.leapfrog_steps += n;
            if h1 - h0 > MAX_ENERGY_ERROR {
                self.divergences += 1;
            }
        }
        let log_alpha = h0 - h1;
        if uniform_open01(rng).ln() < log_alpha {
            std::mem::swap(&mut self.current, &mut self.proposal);
            self.accepted += 1;
        }
        log_alpha.exp().min(1.0)
    }
}

impl Sampler for Hmc {
    fn init<T: GibbsTarget + ?Sized>(&mut self, target: &T, x: &[f64]) -> Result<(), (NonFiniteWhat, f64)> {
        check_finite(x)?;
        self.current.q.copy_from_slice(x);
        if !self.current.evaluate(target, self.ham.inv_temp) {
            return Err((NonFiniteWhat::Energy, self.current.v));
        }
        check_finite(&self.current.g)
    }

    fn step<T: GibbsTarget + ?Sized>(&mut self, target: &T, x: &mut [f64], rng: &mut StreamRng) {
        if self.warmup.wants_initial_step() {
            self.step = self.ham.initial_step(target, &mut self.current, self.step, rng);
            self.warmup.restart_step(self.step);
        }
        let stat = self.transition(target, rng);
        x.copy_from_slice(&self.current.q);
        match self.warmup.after_iteration(stat, x, Some(&mut self.ham.metric)) {
            Adjust::Step(e) => self.step = e,
            Adjust::Metric(Some(e)) => {
                self.step = self.ham.initial_step(target, &mut self.current, e, rng);
                self.warmup.restart_step(self.step);
            }
            Adjust::Metric(None) => {}
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
                .then(|| self.ham.metric.inv_diag().map(<[f64]>::to_vec))
                .flatten(),
            divergences: Some(self.divergences),
            leapfrog_steps: Some(self.leapfrog_steps),
            ..SamplerStats::default()
        }
    }

    /// The step size and metric in use, the adaptation's state and the counters; the current
    /// point's potential and gradient are recomputed (its momenta are drawn afresh each step).
    fn save(&self, out: &mut SamplerState) {
        out.put(self.step);
        self.ham.metric.save(out);
        self.warmup.save(out);
        out.count(self.accepted);
        out.count(self.divergences);
        out.count(self.leapfrog_steps);
    }

    fn restore<T: GibbsTarget + ?Sized>(
        &mut self,
        target: &T,
        x: &[f64],
        state: &mut StateReader<'_>,
    ) -> Result<(), RestoreError> {
        self.step = state.float()?;
        self.ham.metric = Metric::restore(state, x.len())?;
        self.warmup.restore(state)?;
        self.accepted = state.count()?;
        self.divergences = state.count()?;
        self.leapfrog_steps = state.count()?;
        Ok(self.init(target, x)?)
    }
}
