//! Recorders: where a chain's recorded draws go, one recorder per chain.

use std::io;

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
