//! Checkpoints: everything a chain needs to continue exactly where it stopped.
//!
//! A [`ChainState`] is taken at a step boundary: the step counter (and, for SDE paths, the
//! time), the state, the random stream's internal state, the scheme's workspace that cannot be
//! recomputed from the state ([`SamplerState`]: momenta, acceptance counters, warmup
//! adaptation, an adaptive SDE step's proposal and its pending Brownian increments), and the
//! recording countdown. A chain restarted from it draws the same random numbers and takes the
//! same steps as the uninterrupted chain, so its outputs are bitwise identical. Recorders
//! decide when to take one ([`super::Recorder::checkpoint_due`]), store it
//! ([`super::Recorder::checkpoint`]) and hand it back on resume
//! ([`super::Recorder::resume_from`]).
//!
//! Every real number is kept as its IEEE bit pattern, so a round trip through text (JSON) is
//! exact whatever the printer does with floats.

use serde::{Deserialize, Serialize};

use super::error::NonFiniteWhat;
use super::rng::StreamRng;

/// The part of a scheme's workspace that is not a function of the state: a sequence of reals
/// (bitwise) and a sequence of counters, written by the scheme's `save` and read back in the
/// same order by its `restore` through a [`StateReader`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SamplerState {
    /// Real-valued workspace (e.g. BAOAB's momenta), stored as IEEE bit patterns so that the
    /// round trip through text is exact.
    pub floats: Vec<u64>,
    /// Counters and flags (e.g. MALA's accepted proposals).
    pub counts: Vec<u64>,
}

impl SamplerState {
    /// A state holding `floats` (bitwise) and `counts`.
    pub fn new(floats: &[f64], counts: Vec<u64>) -> Self {
        SamplerState {
            floats: floats.iter().map(|v| v.to_bits()).collect(),
            counts,
        }
    }

    /// The real-valued workspace.
    pub fn floats(&self) -> impl Iterator<Item = f64> + '_ {
        self.floats.iter().map(|b| f64::from_bits(*b))
    }

    /// Appends one real.
    pub fn put(&mut self, v: f64) {
        self.floats.push(v.to_bits());
    }

    /// Appends reals.
    pub fn put_all(&mut self, v: &[f64]) {
        self.floats.extend(v.iter().map(|x| x.to_bits()));
    }

    /// Appends a counter.
    pub fn count(&mut self, n: u64) {
        self.counts.push(n);
    }

    /// Appends a flag (as a counter, 0 or 1).
    pub fn flag(&mut self, b: bool) {
        self.counts.push(u64::from(b));
    }

    /// Reads the workspace back in the order it was written.
    pub fn reader(&self) -> StateReader<'_> {
        StateReader {
            floats: self.floats.iter(),
            counts: self.counts.iter(),
        }
    }
}

/// A checkpoint's workspace that does not fit the scheme restoring it (another method's, a
/// different state size, or an edited file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mismatch;

/// Reads a [`SamplerState`] in the order it was written; every read fails with [`Mismatch`]
/// past the end.
#[derive(Debug, Clone)]
pub struct StateReader<'a> {
    floats: std::slice::Iter<'a, u64>,
    counts: std::slice::Iter<'a, u64>,
}

impl StateReader<'_> {
    /// The next real.
    pub fn float(&mut self) -> Result<f64, Mismatch> {
        self.floats.next().map(|b| f64::from_bits(*b)).ok_or(Mismatch)
    }

    /// Fills `out` with the next `out.len()` reals.
    pub fn floats_into(&mut self, out: &mut [f64]) -> Result<(), Mismatch> {
        for v in out.iter_mut() {
            *v = self.float()?;
        }
        Ok(())
    }

    /// The next `n` reals.
    pub fn floats(&mut self, n: usize) -> Result<Vec<f64>, Mismatch> {
        (0..n).map(|_| self.float()).collect()
    }

    /// The next counter.
    pub fn count(&mut self) -> Result<u64, Mismatch> {
        self.counts.next().copied().ok_or(Mismatch)
    }

    /// The next flag.
    pub fn flag(&mut self) -> Result<bool, Mismatch> {
        match self.count()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(Mismatch),
        }
    }

    /// Checks that everything was read.
    pub fn finish(mut self) -> Result<(), Mismatch> {
        if self.floats.next().is_none() && self.counts.next().is_none() {
            Ok(())
        } else {
            Err(Mismatch)
        }
    }
}

/// Why a scheme could not continue from a checkpoint.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RestoreError {
    /// The workspace does not fit the scheme.
    Mismatch,
    /// Something is non-finite at the restored state (as [`super::integrators::Sampler::init`]
    /// reports it).
    NonFinite(NonFiniteWhat, f64),
}

impl From<Mismatch> for RestoreError {
    fn from(_: Mismatch) -> Self {
        RestoreError::Mismatch
    }
}

impl From<(NonFiniteWhat, f64)> for RestoreError {
    fn from((what, value): (NonFiniteWhat, f64)) -> Self {
        RestoreError::NonFinite(what, value)
    }
}

/// One chain at a step boundary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChainState {
    /// Chain index (0-based).
    pub chain: usize,
    /// Steps taken so far (warmup included).
    pub step: u64,
    /// The time after `step`, as an IEEE bit pattern (SDE paths; 0 for samplers).
    #[serde(default)]
    pub time: u64,
    /// The state after `step`, as IEEE bit patterns.
    pub x: Vec<u64>,
    /// The random stream, positioned after `step`.
    pub rng: StreamRng,
    /// The scheme's workspace.
    pub sampler: SamplerState,
    /// Draws recorded so far (for SDE paths with save times, also how many save times are
    /// behind).
    pub draws: u64,
    /// Steps left until the next record.
    pub until_record: u64,
    /// Accepted proposals at the end of warmup (Metropolis schemes, once warmup is over).
    pub accepted_in_warmup: Option<u64>,
    /// Taken after the chain's last step: the chain has finished.
    #[serde(default)]
    pub done: bool,
}

impl ChainState {
    /// The state as numbers.
    pub fn state(&self) -> Vec<f64> {
        self.x.iter().map(|b| f64::from_bits(*b)).collect()
    }

    /// The time as a number.
    pub fn t(&self) -> f64 {
        f64::from_bits(self.time)
    }
}

/// What a recorder asks for after a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Checkpoint {
    /// Nothing: keep going.
    No,
    /// Take a checkpoint and keep going.
    Save,
    /// Take a checkpoint and stop the chain ([`super::RunError::Interrupted`]).
    SaveAndStop,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reals_round_trip_bitwise_through_json() {
        let mut s = SamplerState::default();
        let tricky = [0.1 + 0.2, -0.0, f64::MIN_POSITIVE / 3.0, 1e308, f64::NAN];
        s.put_all(&tricky);
        s.count(7);
        s.flag(true);
        let text = serde_json::to_string(&s).unwrap();
        let back: SamplerState = serde_json::from_str(&text).unwrap();
        let mut r = back.reader();
        for v in tricky {
            assert_eq!(r.float().unwrap().to_bits(), v.to_bits());
        }
        assert_eq!(r.count(), Ok(7));
        assert_eq!(r.flag(), Ok(true));
        assert_eq!(r.finish(), Ok(()));
    }

    #[test]
    fn short_or_long_workspaces_are_mismatches() {
        let s = SamplerState::new(&[1.0], vec![]);
        let mut r = s.reader();
        assert_eq!(r.floats(2), Err(Mismatch));
        let r = s.reader();
        assert_eq!(r.finish(), Err(Mismatch));
    }
}
