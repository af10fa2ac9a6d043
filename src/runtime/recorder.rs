//! Recorders: where a chain's recorded draws go, one recorder per chain.

use std::io;

use super::checkpoint::{ChainState, Checkpoint};

/// The names of the per-draw sampler statistics handed to [`Recorder::record_stats`], in
/// order (CmdStan's names and order): log density −U/T, Metropolis acceptance probability of
/// the step, step size, tree depth, leapfrog steps, divergence flag, Hamiltonian.
pub const SAMPLER_STATS: [&str; 7] = [
    "lp__",
    "accept_stat__",
    "stepsize__",
    "treedepth__",
    "n_leapfrog__",
    "divergent__",
    "energy__",
];

/// Receives one chain's recorded states, in step order. Created per chain by the run's factory
/// closure and returned to the caller after the run, so memory stays constant in the run length
/// unless a recorder chooses to keep draws.
pub trait Recorder: Send {
    /// Records the state `x` after step `step` (counted from 1 over the whole run, warmup
    /// included) at time `t` (SDE runs; samplers pass 0).
    fn record(&mut self, step: u64, t: f64, x: &[f64]) -> io::Result<()>;

    /// Called once after the chain's last step when it succeeded (flush, close, rename).
    fn finish(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// Called after every step, warmup included, before any record of that step. An error
    /// stops the chain and is reported like a failed record; this is how a front door cancels
    /// a run (the REPL's Ctrl-C). The default does nothing and costs nothing.
    #[inline]
    fn poll(&mut self, _step: u64) -> io::Result<()> {
        Ok(())
    }

    /// Whether this recorder wants [`Recorder::record_stats`] with sampler statistics (which
    /// may cost an energy evaluation per draw). Default: no.
    fn wants_stats(&self) -> bool {
        false
    }

    /// Records a draw with its sampler statistics ([`SAMPLER_STATS`]; empty for SDE runs).
    /// Called instead of [`Recorder::record`] when [`Recorder::wants_stats`] is true.
    fn record_stats(&mut self, step: u64, t: f64, x: &[f64], stats: &[f64]) -> io::Result<()> {
        let _ = stats;
        self.record(step, t, x)
    }

    /// Called after every step (after its record, if any): whether to take a checkpoint now.
    #[inline]
    fn checkpoint_due(&mut self, _step: u64) -> Checkpoint {
        Checkpoint::No
    }

    /// Stores a checkpoint (flush outputs first, so their lengths match the state).
    fn checkpoint(&mut self, _state: &ChainState) -> io::Result<()> {
        Ok(())
    }

    /// Whether to take a checkpoint after the chain's last step (marked
    /// [`ChainState::done`], so a resumed run knows the chain finished). Default: no.
    fn checkpoint_at_end(&self) -> bool {
        false
    }

    /// A state to continue the chain from instead of starting afresh (asked once, before the
    /// first step). Default: none.
    fn resume_from(&mut self) -> Option<ChainState> {
        None
    }
}

/// Discards everything (timing runs).
#[derive(Debug, Clone, Copy, Default)]
pub struct NullRecorder;

impl Recorder for NullRecorder {
    fn record(&mut self, _step: u64, _t: f64, _x: &[f64]) -> io::Result<()> {
        Ok(())
    }
}

/// Both recorders receive every draw (e.g. a CSV file and running statistics).
impl<A: Recorder, B: Recorder> Recorder for (A, B) {
    fn record(&mut self, step: u64, t: f64, x: &[f64]) -> io::Result<()> {
        self.0.record(step, t, x)?;
        self.1.record(step, t, x)
    }

    fn finish(&mut self) -> io::Result<()> {
        self.0.finish()?;
        self.1.finish()
    }

    #[inline]
    fn poll(&mut self, step: u64) -> io::Result<()> {
        self.0.poll(step)?;
        self.1.poll(step)
    }

    fn wants_stats(&self) -> bool {
        self.0.wants_stats() || self.1.wants_stats()
    }

    fn record_stats(&mut self, step: u64, t: f64, x: &[f64], stats: &[f64]) -> io::Result<()> {
        self.0.record_stats(step, t, x, stats)?;
        self.1.record_stats(step, t, x, stats)
    }

    #[inline]
    fn checkpoint_due(&mut self, step: u64) -> Checkpoint {
        self.0.checkpoint_due(step).max(self.1.checkpoint_due(step))
    }

    fn checkpoint(&mut self, state: &ChainState) -> io::Result<()> {
        self.0.checkpoint(state)?;
        self.1.checkpoint(state)
    }

    fn checkpoint_at_end(&self) -> bool {
        self.0.checkpoint_at_end() || self.1.checkpoint_at_end()
    }

    fn resume_from(&mut self) -> Option<ChainState> {
        let a = self.0.resume_from();
        let b = self.1.resume_from();
        a.or(b)
    }
}

impl<R: Recorder + ?Sized> Recorder for Box<R> {
    fn record(&mut self, step: u64, t: f64, x: &[f64]) -> io::Result<()> {
        (**self).record(step, t, x)
    }

    fn finish(&mut self) -> io::Result<()> {
        (**self).finish()
    }

    fn poll(&mut self, step: u64) -> io::Result<()> {
        (**self).poll(step)
    }

    fn wants_stats(&self) -> bool {
        (**self).wants_stats()
    }

    fn record_stats(&mut self, step: u64, t: f64, x: &[f64], stats: &[f64]) -> io::Result<()> {
        (**self).record_stats(step, t, x, stats)
    }

    fn checkpoint_due(&mut self, step: u64) -> Checkpoint {
        (**self).checkpoint_due(step)
    }

    fn checkpoint(&mut self, state: &ChainState) -> io::Result<()> {
        (**self).checkpoint(state)
    }

    fn checkpoint_at_end(&self) -> bool {
        (**self).checkpoint_at_end()
    }

    fn resume_from(&mut self) -> Option<ChainState> {
        (**self).resume_from()
    }
}

/// Keeps every recorded state in memory (tests, small runs): `draws[k]` is the k-th record.
#[derive(Debug, Clone, Default)]
pub struct MemoryRecorder {
    /// The recorded steps.
    pub steps: Vec<u64>,
    /// The recorded times.
    pub times: Vec<f64>,
    /// The recorded states.
    pub draws: Vec<Vec<f64>>,
}

impl Recorder for MemoryRecorder {
    fn record(&mut self, step: u64, t: f64, x: &[f64]) -> io::Result<()> {
        self.steps.push(step);
        self.times.push(t);
        self.draws.push(x.to_vec());
        Ok(())
    }
}
