//! The no-U-turn sampler (Hoffman & Gelman 2014) in Stan's form (Betancourt 2017): the
//! trajectory doubles in a random direction until the generalized no-U-turn criterion fails
//! (also checked across the two halves of every merged subtree) or `max_depth` is reached;
//! the draw is chosen by multinomial sampling over the trajectory, biased toward the newest
//! subtree. A leapfrog step whose energy error exceeds 1000 ends the iteration as divergent.
//! The acceptance statistic for step-size adaptation is the mean of min(1, e^{H₀−H}) over the
//! new points. Warmup adaptation as in [`super::adapt`].
//!
//! The recursion uses a preallocated scratch level per tree depth, so no iteration allocates.

use super::adapt::{Adjust, Warmup};
use super::hamiltonian::{no_u_turn, Hamiltonian, Point, MAX_ENERGY_ERROR};
use super::metric::Metric;
use super::{check_finite, Sampler, SamplerStats};
use crate::runtime::checkpoint::{RestoreError, SamplerState, StateReader};
use crate::runtime::error::NonFiniteWhat;
use crate::runtime::method::Adaptation;
use crate::runtime::rng::{uniform_open01, StreamRng};
use crate::runtime::target::GibbsTarget;

/// log(eᵃ + eᵇ).
#[inline]
fn log_sum_exp(a: f64, b: f64) -> f64 {
    let m = a.max(b);
    if m == f64::NEG_INFINITY {
        m
    } else {
        m + ((a - m).exp() + (b - m).exp()).ln()
    }
}

/// Σ aᵢ(uᵢ + wᵢ).
#[inline]
fn dot_sum(a: &[f64], u: &[f64], w: &[f64]) -> f64 {
    a.iter().zip(u).zip(w).map(|((a, u), w)| a * (u + w)).sum()
}

/// The criterion for ρ = u + w.
#[inline]
fn no_u_turn_sum(minus: &[f64], plus: &[f64], u: &[f64], w: &[f64]) -> bool {
    dot_sum(plus, u, w) > 0.0 && dot_sum(minus, u, w) > 0.0
}

/// Momenta at the ends of a subtree, their velocities, and the summed momenta ρ.
#[derive(Debug, Clone)]
struct Ends {
    p_beg: Vec<f64>,
    p_end: Vec<f64>,
    sharp_beg: Vec<f64>,
    sharp_end: Vec<f64>,
    rho: Vec<f64>,
}

impl Ends {
    fn new(dim: usize) -> Self {
        Ends {
            p_beg: vec![0.0; dim],
            p_end: vec![0.0; dim],
            sharp_beg: vec![0.0; dim],
            sharp_end: vec![0.0; dim],
            rho: vec![0.0; dim],
        }
    }
}

/// Borrowed views of the five vectors a subtree writes.
struct EndsMut<'a> {
    p_beg: &'a mut [f64],
    p_end: &'a mut [f64],
    sharp_beg: &'a mut [f64],
    sharp_end: &'a mut [f64],
    rho: &'a mut [f64],
}

/// Scratch of one recursion level: the halves' inner ends and the second half's proposal.
#[derive(Debug, Clone)]
struct Level {
    init: Ends,
    fin: Ends,
    propose: Point,
}

/// Counters of one iteration.
#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    n_leapfrog: u64,
    sum_metro_prob: f64,
    divergent: bool,
}

/// What one subtree build borrows.
struct Tree<'a, T: ?Sized> {
    target: &'a T,
    ham: &'a mut Hamiltonian,
    z: &'a mut Point,
    rng: &'a mut StreamRng,
    eps: f64,
    h0: f64,
    counts: &'a mut Counts,
}

impl<T: GibbsTarget + ?Sized> Tree<'_, T> {
    /// Builds a subtree of 2^depth leapfrog steps from `self.z` (scratch `levels[depth − 1]`,
    /// deeper levels for the halves); returns whether it is valid (no divergence, no U-turn).
    fn build(
        &mut self,
        levels: &mut [Level],
        depth: usize,
        propose: &mut Point,
        e: EndsMut<'_>,
        lsw: &mut f64,
    ) -> bool {
        let Some(d) = depth.checked_sub(1) else {
            return self.leaf(propose, e, lsw);
        };
        if d >= levels.len() {
            return false;
        }
        let (below, rest) = levels.split_at_mut(d);
        let Some((
            Level {
                init,
                fin,
                propose: propose_final,
            },
            _,
        )) = rest.split_first_mut()
        else {
            return false;
        };
        let mut lsw_init = f64::NEG_INFINITY;
        init.rho.fill(0.0);
        let first = EndsMut {
            p_beg: &mut *e.p_beg,
            p_end: &mut init.p_end,
            sharp_beg: &mut *e.sharp_beg,
            sharp_end: &mut init.sharp_end,
            rho: &mut init.rho,
        };
        if !self.build(below, d, propose, first, &mut lsw_init) {
            return false;
        }
        let mut lsw_final = f64::NEG_INFINITY;
        fin.rho.fill(0.0);
        let second = EndsMut {
            p_beg: &mut fin.p_beg,
            p_end: &mut *e.p_end,
            sharp_beg: &mut fin.sharp_beg,
            sharp_end: &mut *e.sharp_end,
            rho: &mut fin.rho,
        };
        if !self.build(below, d, propose_final, second, &mut lsw_final) {
            return false;
        }
        let lsw_sub = log_sum_exp(lsw_init, lsw_final);
        *lsw = log_sum_exp(*lsw, lsw_sub);
        if lsw_final > lsw_sub || uniform_open01(self.rng) < (lsw_final - lsw_sub).exp() {
            propose.copy_position(propose_final);
        }
        for (r, (a, b)) in e.rho.iter_mut().zip(init.rho.iter().zip(&fin.rho)) {
            *r += a + b;
        }
        // around the merged subtree, then across its two halves
        no_u_turn_sum(e.sharp_beg, e.sharp_end, &init.rho, &fin.rho)
            && no_u_turn_sum(e.sharp_beg, &fin.sharp_beg, &init.rho, &fin.p_beg)
            && no_u_turn_sum(&init.sharp_end, e.sharp_end, &fin.rho, &init.p_end)
    }

    fn leaf(&mut self, propose: &mut Point, e: EndsMut<'_>, lsw: &mut f64) -> bool {
        self.ham.leapfrog(self.target, self.z, self.eps);
        self.counts.n_leapfrog += 1;
        let h = self.ham.energy(self.z);
        if h - self.h0 > MAX_ENERGY_ERROR {
            self.counts.divergent = true;
        }
        let w = self.h0 - h;
        *lsw = log_sum_exp(*lsw, w);
        self.counts.sum_metro_prob += if w > 0.0 { 1.0 } else { w.exp() };
        propose.copy_position(self.z);
        self.ham.velocity(self.z, e.sharp_beg);
        e.sharp_end.copy_from_slice(e.sharp_beg);
        for (r, p) in e.rho.iter_mut().zip(&self.z.p) {
            *r += p;
        }
        e.p_beg.copy_from_slice(&self.z.p);
        e.p_end.copy_from_slice(&self.z.p);
        !self.counts.divergent
    }
}

impl Ends {
    fn as_mut(&mut self) -> EndsMut<'_> {
        EndsMut {
            p_beg: &mut self.p_beg,
            p_end: &mut self.p_end,
            sharp_beg: &mut self.sharp_beg,
            sharp_end: &mut self.sharp_end,
            rho: &mut self.rho,
        }
    }

    /// All ends at momentum `p` with velocity `sharp`.
    fn reset(&mut self, p: &[f64], sharp: &[f64]) {
        self.p_beg.copy_from_slice(p);
        self.p_end.copy_from_slice(p);
        self.sharp_beg.copy_from_slice(sharp);
        self.sharp_end.copy_from_slice(sharp);
    }
}

/// The trajectory of one iteration: its two ends, the running sample and proposal, the
/// forward and backward parts' end momenta, and the recursion scratch.
#[derive(Debug, Clone)]
struct Trajectory {
    z: Point,
    z_fwd: Point,
    z_bck: Point,
    sample: Point,
    propose: Point,
    fwd: Ends,
    bck: Ends,
    rho: Vec<f64>,
    levels: Vec<Level>,
}

impl Trajectory {
    fn new(dim: usize, max_depth: usize) -> Self {
        let level = Level {
            init: Ends::new(dim),
            fin: Ends::new(dim),
            propose: Point::new(dim),
        };
        Trajectory {
            z: Point::new(dim),
            z_fwd: Point::new(dim),
            z_bck: Point::new(dim),
            sample: Point::new(dim),
            propose: Point::new(dim),
            fwd: Ends::new(dim),
            bck: Ends::new(dim),
            rho: vec![0.0; dim],
            levels: vec![level; max_depth],
        }
    }
}

/// NUTS workspace for one chain.
#[derive(Debug, Clone)]
pub struct Nuts {
    ham: Hamiltonian,
    current: Point,
    traj: Trajectory,
    step: f64,
    max_depth: usize,
    warmup: Warmup,
    iterations: u64,
    accept_stat_sum: f64,
    divergences: u64,
    depth_sum: u64,
    leapfrog_steps: u64,
    /// The last iteration's per-draw statistics (CmdStan's sampler columns).
    last: [f64; 7],
}

/// What one iteration did.
struct Outcome {
    depth: usize,
    counts: Counts,
    /// The Hamiltonian at the start of the trajectory.
    h0: f64,
}

impl Nuts {
    /// NUTS with initial step ε, maximum tree depth, mass metric, adaptation over `warmup`
    /// iterations, at temperature T for a `dim`-dimensional target.
    pub(crate) fn new(
        dim: usize,
        step: f64,
        max_depth: u32,
        metric: Metric,
        adapt: &Adaptation,
        warmup: u64,
        temperature: f64,
    ) -> Self {
        let max_depth = max_depth as usize;
        Nuts {
            ham: Hamiltonian::new(metric, temperature, dim),
            current: Point::new(dim),
            traj: Trajectory::new(dim, max_depth),
            step,
            max_depth,
            warmup: Warmup::new(warmup, dim, step, adapt),
            iterations: 0,
            accept_stat_sum: 0.0,
            divergences: 0,
            depth_sum: 0,
            leapfrog_steps: 0,
            last: [0.0; 7],
        }
    }

    /// One NUTS iteration from the current point; the new point is left in `self.current`.
    fn transition<T: GibbsTarget + ?Sized>(&mut self, target: &T, rng: &mut StreamRng) -> Outcome {
        let (ham, t) = (&mut self.ham, &mut self.traj);
        t.z.copy_position(&self.current);
        ham.sample_momentum(&mut t.z, rng);
        t.z_fwd.copy_from(&t.z);
        t.z_bck.copy_from(&t.z);
        t.sample.copy_position(&t.z);
        ham.velocity(&t.z, &mut t.rho);
        t.fwd.reset(&t.z.p, &t.rho);
        t.bck.reset(&t.z.p, &t.rho);
        t.rho.copy_from_slice(&t.z.p);
        let h0 = ham.energy(&t.z);
        let mut counts = Counts::default();
        let mut lsw = 0.0;
        let mut depth = 0;
        while depth < self.max_depth {
            t.fwd.rho.fill(0.0);
            t.bck.rho.fill(0.0);
            let mut lsw_sub = f64::NEG_INFINITY;
            let forward = uniform_open01(rng) > 0.5;
            let (from, old, new) = if forward {
                (&mut t.z_fwd, &mut t.bck, &mut t.fwd)
            } else {
                (&mut t.z_bck, &mut t.fwd, &mut t.bck)
            };
            // the trajectory so far becomes the old part; its far end faces the new part
            t.z.copy_from(from);
            old.rho.copy_from_slice(&t.rho);
            old.p_beg.copy_from_slice(&new.p_end);
            old.sharp_beg.copy_from_slice(&new.sharp_end);
            let mut tree = Tree {
                target,
                ham: &mut *ham,
                z: &mut t.z,
                rng: &mut *rng,
                eps: if forward { self.step } else { -self.step },
                h0,
                counts: &mut counts,
            };
            let valid = tree.build(&mut t.levels, depth, &mut t.propose, new.as_mut(), &mut lsw_sub);
            from.copy_from(&t.z);
            if !valid {
                break;
            }
            depth += 1;
            if lsw_sub > lsw || uniform_open01(rng) < (lsw_sub - lsw).exp() {
                t.sample.copy_position(&t.propose);
            }
            lsw = log_sum_exp(lsw, lsw_sub);
            for (r, (b, f)) in t.rho.iter_mut().zip(t.bck.rho.iter().zip(&t.fwd.rho)) {
                *r = b + f;
            }
            let (b, f) = (&t.bck, &t.fwd);
            let persist = no_u_turn(&b.sharp_end, &f.sharp_end, &t.rho)
                && no_u_turn_sum(&b.sharp_end, &f.sharp_beg, &b.rho, &f.p_beg)
                && no_u_turn_sum(&b.sharp_beg, &f.sharp_end, &f.rho, &b.p_beg);
            if !persist {
                break;
            }
        }
        self.current.copy_position(&t.sample);
        Outcome { depth, counts, h0 }
    }
}

impl Sampler for Nuts {
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
        let sampling = !self.warmup.in_warmup();
        let out = self.transition(target, rng);
        x.copy_from_slice(&self.current.q);
        let stat = out.counts.sum_metro_prob / out.counts.n_leapfrog.max(1) as f64;
        self.last = [
            -self.current.v,
            stat,
            self.step,
            out.depth as f64,
            out.counts.n_leapfrog as f64,
            f64::from(u8::from(out.counts.divergent)),
            out.h0,
        ];
        if sampling {
            self.iterations += 1;
            self.accept_stat_sum += stat;
            self.depth_sum += out.depth as u64;
            self.leapfrog_steps += out.counts.n_leapfrog;
            self.divergences += u64::from(out.counts.divergent);
        }
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

    /// lp = −U/T at the draw, the iteration's mean Metropolis acceptance probability, step
    /// size, tree depth, leapfrog steps, divergence and the initial Hamiltonian.
    fn draw_stats<T: GibbsTarget + ?Sized>(&self, _target: &T, _x: &[f64], out: &mut [f64; 7]) {
        *out = self.last;
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
            tree_depth_sum: Some(self.depth_sum),
            mean_accept_stat: (self.iterations > 0).then(|| self.accept_stat_sum / self.iterations as f64),
            leapfrog_steps: Some(self.leapfrog_steps),
            ..SamplerStats::default()
        }
    }

    /// The step size and metric in use, the dual averaging and mass windows, and the sampling
    /// counters; the current point's potential and gradient are recomputed (trajectories start
    /// afresh each iteration).
    fn save(&self, out: &mut SamplerState) {
        out.put(self.step);
        self.ham.metric.save(out);
        self.warmup.save(out);
        out.count(self.iterations);
        out.put(self.accept_stat_sum);
        out.count(self.divergences);
        out.count(self.depth_sum);
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
        self.iterations = state.count()?;
        self.accept_stat_sum = state.float()?;
        self.divergences = state.count()?;
        self.depth_sum = state.count()?;
        self.leapfrog_steps = state.count()?;
        Ok(self.init(target, x)?)
    }
}
