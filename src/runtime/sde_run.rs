//! The SDE driver: paths in parallel (one rayon task each, chain c on stream (seed, c)),
//! each stepping on a fixed grid t₀ + k·dt or adaptively, and recording either after
//! steps (`warmup`, `thin`) or exactly at save times, stepping onto each of them.
//!
//! Paths are checkpointed like sampler chains: after any step the recorder may ask for a
//! [`ChainState`] holding the time, the state, the stream, the grid position (fixed steps) or
//! the step proposal and pending Brownian increments (adaptive steps), the recording countdown,
//! and the draws so far, which is also how many save times are behind. A path resumed from it
//! continues bitwise as the uninterrupted one.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use rayon::prelude::*;

use super::chain::{collect, mismatch, Failure};
use super::checkpoint::{ChainState, Checkpoint, Mismatch, SamplerState, StateReader};
use super::config::{AdaptiveBase, Method, MethodKind, RunConfig};
use super::error::{NonFiniteWhat, RunError};
use super::integrators::noise::draw_increments;
use super::integrators::{
    first_non_finite, Adaptive, EulerMaruyama, Heun, Increments, Milstein, SdeScheme, Sra1, Sriw1, Tolerances,
};
use super::recorder::Recorder;
use super::rng::{stream, StreamRng};
use super::target::{NoiseShape, SdeSystem};
use super::{ChainReport, RunOutput};

/// When an SDE path is recorded.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Save {
    /// After steps: every `thin`-th step after `warmup` (the default).
    #[default]
    Steps,
    /// At t₀, t₀ + Δ, t₀ + 2Δ, … up to the end time.
    Every(f64),
    /// At exactly these times (t₀ ≤ t; sorted when run).
    At(Vec<f64>),
}

/// SDE-only run options besides [`RunConfig`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SdeOptions {
    /// End time; by default t₀ + (warmup + steps)·dt, or the last save time of [`Save::At`].
    pub t_end: Option<f64>,
    /// When to record.
    pub save: Save,
    /// Record only these components of the flat state (all when `None`).
    pub record: Option<Vec<usize>>,
}

impl SdeOptions {
    /// The end time of a run with this configuration.
    pub fn end_time(&self, config: &RunConfig) -> f64 {
        if let Some(t) = self.t_end {
            return t;
        }
        if let Save::At(times) = &self.save {
            if let Some(last) = times.iter().copied().reduce(f64::max) {
                return last;
            }
        }
        let dt = method_dt(&config.method);
        config.t0 + config.warmup.saturating_add(config.steps) as f64 * dt
    }

    fn validate(&self, config: &RunConfig) -> Result<(), RunError> {
        let t_end = self.end_time(config);
        if !(t_end.is_finite() && t_end >= config.t0) {
            return Err(RunError::invalid(
                "t_end",
                format!("must be a finite time ≥ t0, got {t_end}"),
            ));
        }
        match &self.save {
            Save::Steps => Ok(()),
            Save::Every(d) if d.is_finite() && *d > 0.0 => Ok(()),
            Save::Every(d) => Err(RunError::invalid("save_every", format!("must be > 0, got {d}"))),
            Save::At(times) => match times
                .iter()
                .find(|s| !(s.is_finite() && **s >= config.t0 && **s <= t_end))
            {
                None => Ok(()),
                Some(s) => Err(RunError::invalid(
                    "save_at",
                    format!("{s} lies outside the run [{}, {t_end}]", config.t0),
                )),
            },
        }
    }
}

/// The first step (or fixed step) of an SDE method.
fn method_dt(m: &Method) -> f64 {
    match *m {
        Method::EulerMaruyama { dt }
        | Method::Milstein { dt }
        | Method::Heun { dt }
        | Method::Sra1 { dt }
        | Method::Sriw1 { dt }
        | Method::Adaptive { dt, .. } => dt,
        // Samplers are rejected before this is used; their step is as good a guess as any.
        _ => 0.0,
    }
}

/// Integrates `system` along `config.chains` paths with the SDE `options`.
pub fn run_sde_with<S, R, F>(
    system: &S,
    init: &[f64],
    config: &RunConfig,
    options: &SdeOptions,
    make_recorder: F,
) -> Result<RunOutput<R>, RunError>
where
    S: SdeSystem + ?Sized,
    R: Recorder,
    F: Fn(usize) -> io::Result<R> + Sync,
{
    config.validate()?;
    options.validate(config)?;
    let n = system.dim();
    if init.len() != n {
        return Err(RunError::DimensionMismatch {
            expected: n,
            found: init.len(),
        });
    }
    let noise = system.noise();
    let needs = |what: &str| {
        Err(RunError::invalid(
            "method",
            format!(
                "`{}` needs {what} noise, which this model does not have; heun and euler_maruyama take any noise",
                config.method.name()
            ),
        ))
    };
    let job = Job {
        system,
        init,
        config,
        options,
        make_recorder: &make_recorder,
    };
    match config.method {
        Method::EulerMaruyama { dt } => job.fixed(dt, || EulerMaruyama::with_noise(n, noise, dt)),
        Method::Milstein { .. } | Method::Sriw1 { .. } if !noise.diagonal => needs("diagonal"),
        Method::Milstein { dt } => job.fixed(dt, || Milstein::new(n, dt)),
        Method::Heun { dt } => job.fixed(dt, || Heun::with_noise(n, noise)),
        Method::Sra1 { .. } if !noise.additive => needs("additive (state-independent)"),
        Method::Sra1 { dt } => job.fixed(dt, || Sra1::with_noise(n, noise)),
        Method::Sriw1 { dt } => job.fixed(dt, || Sriw1::new(n)),
        Method::Adaptive {
            scheme,
            dt,
            abstol,
            reltol,
            dt_min,
            dt_max,
        } => {
            let tol = Tolerances {
                abstol,
                reltol,
                dt_min,
                dt_max,
            };
            match scheme {
                AdaptiveBase::Milstein if !noise.diagonal => needs("diagonal"),
                _ => job.adaptive_base(scheme, n, noise, dt, tol),
            }
        }
        _ => Err(RunError::WrongMethodKind {
            method: config.method.name(),
            needs: MethodKind::Sampler,
        }),
    }
}

/// One path's way of stepping: one step from `t` not beyond `target`.
trait PathStepper: Send {
    fn step<S: SdeSystem + ?Sized>(
        &mut self,
        sys: &S,
        x: &mut [f64],
        t: &mut f64,
        target: f64,
        rng: &mut StreamRng,
    );
    /// (accepted steps, attempts) for adaptive stepping.
    fn acceptance(&self) -> Option<(u64, u64)>;
    /// Writes what the next steps depend on besides time, state and stream.
    fn save(&self, out: &mut SamplerState);
    /// Reads what [`PathStepper::save`] wrote.
    fn restore(&mut self, r: &mut StateReader<'_>) -> Result<(), Mismatch>;
}

/// A scheme on the grid t₀ + k·dt (a step ends early at a save time, then the grid resumes).
struct Fixed<Sch> {
    scheme: Sch,
    t0: f64,
    dt: f64,
    k: u64,
    dw: Vec<f64>,
    dz: Vec<f64>,
}

impl<Sch: SdeScheme> PathStepper for Fixed<Sch> {
    #[inline]
    fn step<S: SdeSystem + ?Sized>(
        &mut self,
        sys: &S,
        x: &mut [f64],
        t: &mut f64,
        target: f64,
        rng: &mut StreamRng,
    ) {
        let next = self.t0 + (self.k + 1) as f64 * self.dt;
        let eps = 1e-9 * self.dt;
        let end = if next <= target - eps { next } else { target };
        if (next - end).abs() <= eps {
            self.k += 1;
        }
        let h = end - *t;
        draw_increments(rng, h, &mut self.dw, &mut self.dz);
        let inc = Increments {
            dw: &self.dw,
            dz: &self.dz,
        };
        self.scheme.step_with(sys, x, *t, h, inc);
        *t = end;
    }

    fn acceptance(&self) -> Option<(u64, u64)> {
        None
    }

    /// The grid position (the schemes keep nothing between steps).
    fn save(&self, out: &mut SamplerState) {
        out.count(self.k);
    }

    fn restore(&mut self, r: &mut StateReader<'_>) -> Result<(), Mismatch> {
        self.k = r.count()?;
        Ok(())
    }
}

impl<B: SdeScheme> PathStepper for Adaptive<B> {
    #[inline]
    fn step<S: SdeSystem + ?Sized>(
        &mut self,
        sys: &S,
        x: &mut [f64],
        t: &mut f64,
        target: f64,
        rng: &mut StreamRng,
    ) {
        Adaptive::step(self, sys, x, t, target, rng);
    }

    fn acceptance(&self) -> Option<(u64, u64)> {
        let s = self.stats();
        Some((s.accepted, s.accepted + s.rejected))
    }

    fn save(&self, out: &mut SamplerState) {
        Adaptive::save(self, out);
    }

    fn restore(&mut self, r: &mut StateReader<'_>) -> Result<(), Mismatch> {
        Adaptive::restore(self, r)
    }
}

/// Everything a run shares across paths.
struct Job<'a, S: ?Sized, F> {
    system: &'a S,
    init: &'a [f64],
    config: &'a RunConfig,
    options: &'a SdeOptions,
    make_recorder: &'a F,
}

/// Where a path is, what it recorded, and how to stop it.
struct PathState<'a> {
    chain: usize,
    x: Vec<f64>,
    t: f64,
    steps: u64,
    draws: u64,
    /// Steps left until the next record (recording after steps).
    until_record: u64,
    rng: StreamRng,
    /// The checkpoint's step, when the path was resumed.
    resumed_from: Option<u64>,
    first_failed: &'a AtomicUsize,
}

impl<S, R, F> Job<'_, S, F>
where
    S: SdeSystem + ?Sized,
    R: Recorder,
    F: Fn(usize) -> io::Result<R> + Sync,
{
    fn fixed<Sch: SdeScheme, M: Fn() -> Sch + Sync>(
        &self,
        dt: f64,
        make: M,
    ) -> Result<RunOutput<R>, RunError> {
        let m = self.system.noise().dim;
        self.run(|| {
            let scheme = make();
            let dz = if scheme.needs_area() { m } else { 0 };
            Fixed {
                scheme,
                t0: self.config.t0,
                dt,
                k: 0,
                dw: vec![0.0; m],
                dz: vec![0.0; dz],
            }
        })
    }

    fn adaptive_base(
        &self,
        scheme: AdaptiveBase,
        n: usize,
        noise: NoiseShape,
        dt: f64,
        tol: Tolerances,
    ) -> Result<RunOutput<R>, RunError> {
        let m = noise.dim;
        match scheme {
            AdaptiveBase::EulerMaruyama => {
                self.run(|| Adaptive::new(EulerMaruyama::with_noise(n, noise, dt), n, m, dt, tol))
            }
            AdaptiveBase::Milstein => self.run(|| Adaptive::new(Milstein::new(n, dt), n, m, dt, tol)),
            AdaptiveBase::Heun => self.run(|| Adaptive::new(Heun::with_noise(n, noise), n, m, dt, tol)),
        }
    }

    /// Runs every path and collects reports in path order (the error of the
    /// lowest-numbered failing path wins, whatever the scheduling).
    fn run<P: PathStepper, M: Fn() -> P + Sync>(&self, make: M) -> Result<RunOutput<R>, RunError> {
        let start = Instant::now();
        let first_failed = AtomicUsize::new(usize::MAX);
        let results: Vec<Result<(ChainReport, R), Failure>> = (0..self.config.chains)
            .into_par_iter()
            .map(|chain| {
                let result = self.path(chain, make(), &first_failed);
                // an interruption stops only its own path: each path checkpoints itself
                if let Err(Failure::Error(e)) = &result {
                    if !matches!(e, RunError::Interrupted { .. }) {
                        first_failed.fetch_min(chain, Ordering::Relaxed);
                    }
                }
                result
            })
            .collect();
        collect(results, start)
    }

    fn path<P: PathStepper>(
        &self,
        chain: usize,
        mut stepper: P,
        first_failed: &AtomicUsize,
    ) -> Result<(ChainReport, R), Failure> {
        let start = Instant::now();
        let _scope = super::target::ChainScope::enter(chain);
        let io_err = |source| Failure::Error(RunError::Io { chain, source });
        let mut recorder = (self.make_recorder)(chain).map_err(io_err)?;
        let mut p = self.start_path(chain, &mut recorder, &mut stepper, first_failed)?;
        let mut out = Projected {
            inner: &mut recorder,
            pick: self.options.record.as_deref(),
            buf: Vec::with_capacity(self.options.record.as_ref().map_or(0, Vec::len)),
        };
        let t_end = self.options.end_time(self.config);
        // save times already recorded before a checkpoint are behind the path
        let behind = usize::try_from(p.draws).unwrap_or(usize::MAX);
        match &self.options.save {
            Save::Steps => self.by_steps(&mut p, &mut stepper, &mut out, t_end)?,
            Save::Every(d) => {
                let count = ((t_end - self.config.t0) / d * (1.0 + 1e-12)).floor() as u64;
                let times = (0..=count).map(|k| self.config.t0 + k as f64 * d);
                self.at_times(&mut p, &mut stepper, &mut out, times.skip(behind))?
            }
            Save::At(times) => {
                let mut sorted = times.clone();
                sorted.sort_by(f64::total_cmp);
                self.at_times(&mut p, &mut stepper, &mut out, sorted.into_iter().skip(behind))?
            }
        }
        if out.inner.checkpoint_at_end() {
            let state = snapshot(&p, &stepper, true);
            out.inner.checkpoint(&state).map_err(io_err)?;
        }
        out.inner.finish().map_err(io_err)?;
        let (accepted, sampling_steps) = match stepper.acceptance() {
            Some((a, attempts)) => (Some(a), attempts),
            None => (None, p.steps),
        };
        let report = ChainReport {
            chain,
            steps_done: p.steps,
            draws: p.draws,
            accepted,
            sampling_steps,
            wall_time: start.elapsed(),
            resumed_from: p.resumed_from,
            stats: Default::default(),
        };
        Ok((report, recorder))
    }

    /// The path at t₀, or where the recorder's checkpoint left it.
    fn start_path<'f, P: PathStepper>(
        &self,
        chain: usize,
        recorder: &mut R,
        stepper: &mut P,
        first_failed: &'f AtomicUsize,
    ) -> Result<PathState<'f>, Failure> {
        let mut p = PathState {
            chain,
            x: self.config.initial_state(self.init, chain),
            t: self.config.t0,
            steps: 0,
            draws: 0,
            until_record: self.config.warmup.saturating_add(self.config.thin.max(1)),
            rng: stream(self.config.seed, chain as u64),
            resumed_from: None,
            first_failed,
        };
        let Some(saved) = recorder.resume_from() else {
            if let Some((i, v)) = first_non_finite(&p.x) {
                return Err(self.non_finite(&p, i, v));
            }
            return Ok(p);
        };
        if saved.chain != chain || saved.x.len() != self.init.len() {
            let reason = format!(
                "the checkpoint is of path {} with {} state components; this run's path {} has {}",
                saved.chain + 1,
                saved.x.len(),
                chain + 1,
                self.init.len()
            );
            return Err(Failure::Error(RunError::BadCheckpoint { chain, reason }));
        }
        let mut reader = saved.sampler.reader();
        let restored = stepper.restore(&mut reader).and_then(|()| reader.finish());
        if restored.is_err() {
            return Err(Failure::Error(mismatch(chain, self.config.method.name())));
        }
        p.x = saved.state();
        p.t = saved.t();
        p.steps = saved.step;
        p.draws = saved.draws;
        p.until_record = saved.until_record;
        p.rng = saved.rng;
        p.resumed_from = Some(saved.step);
        Ok(p)
    }

    /// One step, checked for non-finite values and cancellation.
    #[inline]
    fn advance<P: PathStepper>(
        &self,
        p: &mut PathState,
        stepper: &mut P,
        target: f64,
    ) -> Result<(), Failure> {
        stepper.step(self.system, &mut p.x, &mut p.t, target, &mut p.rng);
        self.system.canonicalize(&mut p.x);
        p.steps += 1;
        if let Some((i, v)) = first_non_finite(&p.x) {
            return Err(self.non_finite(p, i, v));
        }
        if p.first_failed.load(Ordering::Relaxed) < p.chain {
            return Err(Failure::Cancelled);
        }
        Ok(())
    }

    /// Takes a checkpoint when the recorder asks for one (and stops when it says so).
    fn checkpoint_if_due<P: PathStepper>(
        &self,
        p: &PathState,
        stepper: &P,
        rec: &mut Projected<R>,
    ) -> Result<(), Failure> {
        let due = rec.inner.checkpoint_due(p.steps);
        if due == Checkpoint::No {
            return Ok(());
        }
        let chain = p.chain;
        let state = snapshot(p, stepper, false);
        rec.inner
            .checkpoint(&state)
            .map_err(|source| Failure::Error(RunError::Io { chain, source }))?;
        if due == Checkpoint::SaveAndStop {
            let step = p.steps;
            return Err(Failure::Error(RunError::Interrupted { chain, step }));
        }
        Ok(())
    }

    /// Records every `thin`-th step after `warmup` steps, until `t_end`.
    fn by_steps<P: PathStepper>(
        &self,
        p: &mut PathState,
        stepper: &mut P,
        rec: &mut Projected<R>,
        t_end: f64,
    ) -> Result<(), Failure> {
        let chain = p.chain;
        let io_err = move |source| Failure::Error(RunError::Io { chain, source });
        let thin = self.config.thin.max(1);
        while p.t < t_end {
            self.advance(p, stepper, t_end)?;
            rec.poll(p.steps).map_err(io_err)?;
            p.until_record -= 1;
            if p.until_record == 0 {
                p.until_record = thin;
                rec.record(p.steps, p.t, &p.x).map_err(io_err)?;
                p.draws += 1;
            }
            self.checkpoint_if_due(p, stepper, rec)?;
        }
        Ok(())
    }

    /// Steps onto each save time and records there.
    fn at_times<P: PathStepper>(
        &self,
        p: &mut PathState,
        stepper: &mut P,
        rec: &mut Projected<R>,
        times: impl Iterator<Item = f64>,
    ) -> Result<(), Failure> {
        let chain = p.chain;
        let io_err = move |source| Failure::Error(RunError::Io { chain, source });
        for s in times {
            while p.t < s {
                self.advance(p, stepper, s)?;
                rec.poll(p.steps).map_err(io_err)?;
                // before the record of `s`: a resumed path records it first
                self.checkpoint_if_due(p, stepper, rec)?;
            }
            rec.record(p.steps, s, &p.x).map_err(io_err)?;
            p.draws += 1;
        }
        Ok(())
    }

    fn non_finite(&self, p: &PathState, i: usize, v: f64) -> Failure {
        Failure::Error(RunError::NonFinite {
            chain: p.chain,
            step: p.steps,
            warmup: p.steps > 0 && p.steps <= self.config.warmup,
            what: NonFiniteWhat::Component(i),
            value: v,
            time: p.t,
            state: p.x.clone(),
        })
    }
}

/// The path's checkpoint after its latest step (`done`: after its last).
fn snapshot<P: PathStepper>(p: &PathState, stepper: &P, done: bool) -> ChainState {
    let mut sampler = SamplerState::default();
    stepper.save(&mut sampler);
    ChainState {
        chain: p.chain,
        step: p.steps,
        time: p.t.to_bits(),
        x: p.x.iter().map(|v| v.to_bits()).collect(),
        rng: p.rng.clone(),
        sampler,
        draws: p.draws,
        until_record: p.until_record,
        accepted_in_warmup: None,
        done,
    }
}

/// A recorder that receives only the chosen components.
struct Projected<'r, R> {
    inner: &'r mut R,
    pick: Option<&'r [usize]>,
    buf: Vec<f64>,
}

impl<R: Recorder> Projected<'_, R> {
    fn record(&mut self, step: u64, t: f64, x: &[f64]) -> io::Result<()> {
        let Some(pick) = self.pick else {
            return self.inner.record(step, t, x);
        };
        self.buf.clear();
        self.buf
            .extend(pick.iter().map(|&i| x.get(i).copied().unwrap_or(f64::NAN)));
        self.inner.record(step, t, &self.buf)
    }

    /// Lets the recorder stop the path (a front door's interrupt) and count progress.
    #[inline]
    fn poll(&mut self, step: u64) -> io::Result<()> {
        self.inner.poll(step)
    }
}
