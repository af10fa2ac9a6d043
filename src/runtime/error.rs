//! Runtime errors: bad settings, shape mismatches, non-finite states, failed recorders.

use std::{fmt, io};

use super::config::MethodKind;

/// Why a run stopped. Chain, step and component numbers are stored 0-based for chains and
/// components and 1-based for steps (step 0 is the initial state); messages print chains and
/// components 1-based, as the output files name them (`chain_1.csv`, `x.1`).
#[derive(Debug)]
pub enum RunError {
    /// A run setting is out of range.
    InvalidConfig {
        /// The setting's name (`step`, `chains`, …).
        setting: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The initial state's length differs from the model's dimension.
    DimensionMismatch {
        /// The model's dimension.
        expected: usize,
        /// The initial state's length.
        found: usize,
    },
    /// A sampler was given to `run_sde` or an SDE scheme to `run_gibbs`.
    WrongMethodKind {
        /// The method's name.
        method: &'static str,
        /// What the method needs.
        needs: MethodKind,
    },
    /// A state component (or the energy at the initial state) became NaN or infinite.
    NonFinite {
        /// Chain index (0-based).
        chain: usize,
        /// Step at which it happened (1-based; 0 = initial state).
        step: u64,
        /// Whether that step was a warmup step.
        warmup: bool,
        /// Where it was found.
        what: NonFiniteWhat,
        /// The offending value.
        value: f64,
        /// The time after that step (SDE runs; 0 for samplers).
        time: f64,
        /// The whole state after that step (the initial state at step 0).
        state: Vec<f64>,
    },
    /// The chain was stopped on request (a signal) after writing a checkpoint.
    Interrupted {
        /// Chain index (0-based).
        chain: usize,
        /// The last step taken (1-based).
        step: u64,
    },
    /// A checkpoint does not fit this run.
    BadCheckpoint {
        /// Chain index (0-based).
        chain: usize,
        /// What does not fit.
        reason: String,
    },
    /// A recorder failed (for example, writing a CSV file).
    Io {
        /// Chain index (0-based).
        chain: usize,
        /// The underlying error.
        source: io::Error,
    },
}

/// The quantity found to be non-finite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonFiniteWhat {
    /// State component (0-based).
    Component(usize),
    /// The energy U(x) (MALA evaluates it).
    Energy,
}

impl RunError {
    pub(crate) fn invalid(setting: &'static str, reason: String) -> Self {
        RunError::InvalidConfig { setting, reason }
    }

    /// The chain the error belongs to, if any (0-based).
    pub fn chain(&self) -> Option<usize> {
        match self {
            RunError::NonFinite { chain, .. }
            | RunError::Io { chain, .. }
            | RunError::Interrupted { chain, .. }
            | RunError::BadCheckpoint { chain, .. } => Some(*chain),
            _ => None,
        }
    }
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::InvalidConfig { setting, reason } => write!(f, "run setting `{setting}` {reason}"),
            RunError::DimensionMismatch { expected, found } => {
                write!(
                    f,
                    "initial state has {found} components but the model has {expected}"
                )
            }
            RunError::WrongMethodKind { method, needs } => match needs {
                MethodKind::Sampler => write!(f, "method `{method}` samples an energy model, not an SDE"),
                MethodKind::Sde => write!(f, "method `{method}` integrates an SDE, not an energy model"),
            },
            RunError::NonFinite {
                chain,
                step,
                warmup,
                what,
                value,
                time,
                state,
            } => {
                write!(f, "chain {}: ", chain + 1)?;
                match what {
                    NonFiniteWhat::Component(i) => write!(f, "state component {} is {value}", i + 1)?,
                    NonFiniteWhat::Energy => write!(f, "energy is {value}")?,
                }
                match (step, warmup) {
                    (0, _) => write!(f, " at the initial state")?,
                    (s, true) => write!(f, " after step {s} (warmup)")?,
                    (s, false) => write!(f, " after step {s}")?,
                }
                if *time != 0.0 {
                    write!(f, " at t = {time}")?;
                }
                write_state(f, state)
            }
            RunError::Interrupted { chain, step } => {
                write!(f, "chain {}: stopped after step {step}", chain + 1)
            }
            RunError::BadCheckpoint { chain, reason } => {
                write!(f, "chain {}: cannot resume: {reason}", chain + 1)
            }
            RunError::Io { chain, source } => write!(f, "chain {}: output failed: {source}", chain + 1),
        }
    }
}

/// `; state [a, b, …]`, at most [`STATE_SHOWN`] components.
fn write_state(f: &mut fmt::Formatter<'_>, state: &[f64]) -> fmt::Result {
    if state.is_empty() {
        return Ok(());
    }
    write!(f, "; state [")?;
    for (k, v) in state.iter().take(STATE_SHOWN).enumerate() {
        if k > 0 {
            write!(f, ", ")?;
        }
        if v.is_finite() && v.abs() != 0.0 && !(1e-5..1e16).contains(&v.abs()) {
            write!(f, "{v:e}")?;
        } else {
            write!(f, "{v}")?;
        }
    }
    if state.len() > STATE_SHOWN {
        write!(f, ", … ({} more)", state.len() - STATE_SHOWN)?;
    }
    write!(f, "]")
}

/// How many state components an error message shows.
const STATE_SHOWN: usize = 8;

impl std::error::Error for RunError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RunError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
