//! Checkpoints: everything a chain needs to continue exactly where it stopped.
//!
//! A [`ChainState`] is taken at a step boundary: the step counter, the state, the random
//! stream's internal state, the scheme's workspace that cannot be recomputed from the state
//! (momenta, acceptance counters, adaptation), and the recording countdown. A chain restarted
//! from it draws the same random numbers and takes the same steps as the uninterrupted chain,
//! so its outputs are bitwise identical. Recorders decide when to take one
//! ([`super::Recorder::checkpoint_due`]), store it ([`super::Recorder::checkpoint`]) and hand it
//! back on resume ([`super::Recorder::resume_from`]).

use serde::{Deserialize, Serialize};

use super::rng::StreamRng;

/// The part of a scheme's workspace that is not a function of the state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SamplerState {
    /// Real-valued workspace (e.g. BAOAB's momenta), stored as IEEE bit patterns so that the
    /// round trip through text is exact.
    pub floats: Vec<u64>,
    /// Counters (e.g. MALA's accepted proposals).
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
}

/// One chain at a step boundary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChainState {
    /// Chain index (0-based).
    pub chain: usize,
    /// Steps taken so far (warmup included).
    pub step: u64,
    /// The state after `step`, as IEEE bit patterns.
    pub x: Vec<u64>,
    /// The random stream, positioned after `step`.
    pub rng: StreamRng,
    /// The scheme's workspace.
    pub sampler: SamplerState,
    /// Draws recorded so far.
    pub draws: u64,
    /// Steps left until the next record.
    pub until_record: u64,
    /// Accepted proposals at the end of warmup (Metropolis schemes, once warmup is over).
    pub accepted_in_warmup: Option<u64>,
}

impl ChainState {
    /// The state as numbers.
    pub fn state(&self) -> Vec<f64> {
        self.x.iter().map(|b| f64::from_bits(*b)).collect()
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
