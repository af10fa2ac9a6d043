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
            RunError::NonFinite { chain, .. } | RunError::Io { chain, .. } => Some(*chain),
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
            } => {
                write!(f, "chain {}: ", chain + 1)?;
                match what {
                    NonFiniteWhat::Component(i) => write!(f, "state component {} is {value}", i + 1)?,
                    NonFiniteWhat::Energy => write!(f, "energy is {value}")?,
                }
                match (step, warmup) {
                    (0, _) => write!(f, " at the initial state"),
                    (s, true) => write!(f, " after step {s} (warmup)"),
                    (s, false) => write!(f, " after step {s}"),
                }
            }
            RunError::Io { chain, source } => write!(f, "chain {}: output failed: {source}", chain + 1),
        }
    }
}

impl std::error::Error for RunError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RunError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
