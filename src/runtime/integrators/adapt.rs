//! Warmup adaptation shared by the Metropolis-adjusted samplers, as Stan does it.
//!
//! - Step size: Nesterov dual averaging of log ε toward a target acceptance statistic
//!   (Hoffman & Gelman 2014, §3.2; γ = 0.05, t₀ = 10, κ = 0.75, μ = log 10ε₀). At the end of
//!   warmup the step size is frozen at the averaged iterate ε̄.
//! - Mass: diag(M⁻¹) is the regularized sample variance of the draws in expanding windows
//!   (Stan's schedule: an initial buffer of 75 iterations, windows of 25, 50, 100, … and a
//!   terminal buffer of 50; scaled to 15% / 75% / 10% when warmup is shorter than 150). After
//!   each window the step-size averaging restarts.

use super::metric::Metric;
use crate::runtime::checkpoint::{Mismatch, SamplerState, StateReader};

/// Dual averaging of log ε.
#[derive(Debug, Clone)]
pub(crate) struct DualAveraging {
    target: f64,
    mu: f64,
    s_bar: f64,
    x_bar: f64,
    counter: f64,
}

impl DualAveraging {
    const GAMMA: f64 = 0.05;
    const T0: f64 = 10.0;
    const KAPPA: f64 = 0.75;

    /// Averaging toward acceptance `target`, started at step size `eps`.
    pub(crate) fn new(target: f64, eps: f64) -> Self {
        let mut d = DualAveraging {
            target,
            mu: 0.0,
            s_bar: 0.0,
            x_bar: 0.0,
            counter: 0.0,
        };
        d.restart(eps);
        d
    }

    /// Restarts the averaging around step size `eps`.
    pub(crate) fn restart(&mut self, eps: f64) {
        self.mu = (10.0 * eps).ln();
        self.s_bar = 0.0;
        self.x_bar = 0.0;
        self.counter = 0.0;
    }

    /// Feeds one iteration's acceptance statistic; returns the next step size.
    pub(crate) fn update(&mut self, accept_stat: f64) -> f64 {
        self.counter += 1.0;
        let a = if accept_stat.is_nan() {
            0.0
        } else {
            accept_stat.min(1.0)
        };
        let eta = 1.0 / (self.counter + Self::T0);
        self.s_bar = (1.0 - eta) * self.s_bar + eta * (self.target - a);
        let x = self.mu - self.s_bar * self.counter.sqrt() / Self::GAMMA;
        let x_eta = self.counter.powf(-Self::KAPPA);
        self.x_bar = (1.0 - x_eta) * self.x_bar + x_eta * x;
        x.exp()
    }

    /// The averaged step size ε̄ (used after warmup).
    pub(crate) fn final_step(&self) -> f64 {
        self.x_bar.exp()
    }

    /// The averaging's running state (the target is a setting).
    fn save(&self, out: &mut SamplerState) {
        out.put_all(&[self.mu, self.s_bar, self.x_bar, self.counter]);
    }

    fn restore(&mut self, r: &mut StateReader<'_>) -> Result<(), Mismatch> {
        self.mu = r.float()?;
        self.s_bar = r.float()?;
        self.x_bar = r.float()?;
        self.counter = r.float()?;
        Ok(())
    }
}

/// Stan's windowed estimation of diag(M⁻¹) during warmup.
#[derive(Debug, Clone)]
pub(crate) struct MassWindows {
    warmup: u64,
    init_buffer: u64,
    term_buffer: u64,
    window_size: u64,
    next_window_end: u64,
    counter: u64,
    n: f64,
    mean: Vec<f64>,
    m2: Vec<f64>,
    /// The latest estimate of diag(M⁻¹).
    pub(crate) estimate: Vec<f64>,
}

impl MassWindows {
    /// Windows over `warmup` iterations for a `dim`-dimensional state; `None` when warmup is
    /// shorter than 20 iterations (too short to estimate anything).
    pub(crate) fn new(warmup: u64, dim: usize) -> Option<Self> {
        if warmup < 20 {
            return None;
        }
        let (mut init_buffer, mut term_buffer, mut base) = (75u64, 50u64, 25u64);
        if init_buffer + base + term_buffer > warmup {
            init_buffer = (0.15 * warmup as f64) as u64;
            term_buffer = (0.1 * warmup as f64) as u64;
            base = warmup - (init_buffer + term_buffer);
        }
        Some(MassWindows {
            warmup,
            init_buffer,
            term_buffer,
            window_size: base,
            next_window_end: init_buffer + base - 1,
            counter: 0,
            n: 0.0,
            mean: vec![0.0; dim],
            m2: vec![0.0; dim],
            estimate: vec![1.0; dim],
        })
    }

    /// Feeds the draw of the next warmup iteration; returns true when a window closed and
    /// [`MassWindows::estimate`] holds a new diag(M⁻¹).
    pub(crate) fn observe(&mut self, x: &[f64]) -> bool {
        let c = self.counter;
        let in_window = c >= self.init_buffer && c < self.warmup - self.term_buffer && c != self.warmup;
        if in_window {
            self.n += 1.0;
            for ((m, s), xi) in self.mean.iter_mut().zip(self.m2.iter_mut()).zip(x) {
                let delta = xi - *m;
                *m += delta / self.n;
                *s += delta * (xi - *m);
            }
        }
        let window_end = c == self.next_window_end && c != self.warmup;
        self.counter += 1;
        if !window_end {
            return false;
        }
        self.compute_next_window(c);
        let n = self.n;
        for (e, s) in self.estimate.iter_mut().zip(&self.m2) {
            let var = if n > 1.0 { s / (n - 1.0) } else { 1.0 };
            *e = (n / (n + 5.0)) * var + 1e-3 * (5.0 / (n + 5.0));
        }
        self.n = 0.0;
        self.mean.fill(0.0);
        self.m2.fill(0.0);
        true
    }

    /// The window schedule's position and the running moments of the open window (the
    /// buffers are functions of the warmup length).
    fn save(&self, out: &mut SamplerState) {
        out.count(self.window_size);
        out.count(self.next_window_end);
        out.count(self.counter);
        out.put(self.n);
        out.put_all(&self.mean);
        out.put_all(&self.m2);
        out.put_all(&self.estimate);
    }

    fn restore(&mut self, r: &mut StateReader<'_>) -> Result<(), Mismatch> {
        self.window_size = r.count()?;
        self.next_window_end = r.count()?;
        self.counter = r.count()?;
        self.n = r.float()?;
        r.floats_into(&mut self.mean)?;
        r.floats_into(&mut self.m2)?;
        r.floats_into(&mut self.estimate)
    }

    fn compute_next_window(&mut self, counter: u64) {
        let last = self.warmup - self.term_buffer - 1;
        if self.next_window_end == last {
            return;
        }
        self.window_size *= 2;
        self.next_window_end = counter + self.window_size;
        if self.next_window_end != last
            && self.next_window_end + 2 * self.window_size >= self.warmup - self.term_buffer
        {
            self.next_window_end = last;
        }
    }
}

/// Step-size and mass adaptation over a known number of warmup iterations.
#[derive(Debug, Clone)]
pub(crate) struct Warmup {
    warmup: u64,
    iteration: u64,
    step: Option<DualAveraging>,
    mass: Option<MassWindows>,
}

/// What the sampler must do after an adaptation update.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Adjust {
    /// Keep going with this step size.
    Step(f64),
    /// The metric changed: refresh what depends on it and, when the step is adapted, re-tune
    /// it (heuristically) from this value and call [`Warmup::restart_step`].
    Metric(Option<f64>),
    /// Nothing changes (sampling phase, or no step adaptation).
    Nothing,
}

impl Warmup {
    /// Adaptation of the step (from `eps`) and/or a diagonal mass over `warmup` iterations.
    pub(crate) fn new(warmup: u64, dim: usize, eps: f64, adapt: &crate::runtime::Adaptation) -> Self {
        Warmup {
            warmup,
            iteration: 0,
            step: adapt.step.then(|| DualAveraging::new(adapt.target_accept, eps)),
            mass: if adapt.mass {
                MassWindows::new(warmup, dim)
            } else {
                None
            },
        }
    }

    /// Whether a diagonal mass is being (or was) estimated.
    pub(crate) fn adapts_mass(&self) -> bool {
        self.mass.is_some()
    }

    /// Whether the iteration about to run is a warmup iteration.
    pub(crate) fn in_warmup(&self) -> bool {
        self.iteration < self.warmup
    }

    /// Whether adaptation is on for the step and this is the first iteration.
    pub(crate) fn wants_initial_step(&self) -> bool {
        self.iteration == 0 && self.step.is_some() && self.warmup > 0
    }

    /// Records one finished iteration with its acceptance statistic and new state; updates
    /// `metric` when a mass window closes.
    pub(crate) fn after_iteration(
        &mut self,
        accept_stat: f64,
        x: &[f64],
        metric: Option<&mut Metric>,
    ) -> Adjust {
        if self.iteration >= self.warmup {
            return Adjust::Nothing;
        }
        self.iteration += 1;
        let mut eps = self.step.as_mut().map(|d| d.update(accept_stat));
        if let (Some(w), Some(metric)) = (self.mass.as_mut(), metric) {
            if w.observe(x) {
                metric.set_inv_diag(&w.estimate);
                return Adjust::Metric(eps);
            }
        }
        if self.iteration == self.warmup {
            eps = self.step.as_ref().map(DualAveraging::final_step);
        }
        eps.map_or(Adjust::Nothing, Adjust::Step)
    }

    /// Writes the adaptation's state for a checkpoint: the iteration count, the step-size
    /// averaging and the mass windows (each preceded by whether it is on).
    pub(crate) fn save(&self, out: &mut SamplerState) {
        out.count(self.iteration);
        out.flag(self.step.is_some());
        if let Some(d) = &self.step {
            d.save(out);
        }
        out.flag(self.mass.is_some());
        if let Some(w) = &self.mass {
            w.save(out);
        }
    }

    /// Reads what [`Warmup::save`] wrote into an adaptation built from the same settings.
    pub(crate) fn restore(&mut self, r: &mut StateReader<'_>) -> Result<(), Mismatch> {
        self.iteration = r.count()?;
        if r.flag()? != self.step.is_some() {
            return Err(Mismatch);
        }
        if let Some(d) = self.step.as_mut() {
            d.restore(r)?;
        }
        if r.flag()? != self.mass.is_some() {
            return Err(Mismatch);
        }
        match self.mass.as_mut() {
            Some(w) => w.restore(r),
            None => Ok(()),
        }
    }

    /// Restarts the step-size averaging around `eps` (after a metric change).
    pub(crate) fn restart_step(&mut self, eps: f64) {
        if let Some(d) = self.step.as_mut() {
            d.restart(eps);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Window ends of Stan's default schedule for 1000 warmup iterations: 75 + 25 + 50 + 100 +
    /// 200 + 500 (the last window is stretched to the terminal buffer at 950).
    #[test]
    fn stan_windows() {
        let mut w = MassWindows::new(1000, 1).unwrap();
        let ends: Vec<u64> = (0..1000).filter(|_| w.observe(&[0.0])).collect();
        assert_eq!(ends, vec![99, 149, 249, 449, 949]);
        let mut w = MassWindows::new(100, 1).unwrap();
        let ends: Vec<u64> = (0..100).filter(|_| w.observe(&[0.0])).collect();
        assert_eq!(ends, vec![89]);
    }

    #[test]
    fn dual_averaging_moves_toward_target() {
        let mut d = DualAveraging::new(0.8, 1.0);
        // always accepting: the step grows
        let e1 = d.update(1.0);
        assert!(e1 > 1.0);
        let mut d = DualAveraging::new(0.8, 1.0);
        let e2 = d.update(0.0);
        assert!(e2 < e1);
    }
}
