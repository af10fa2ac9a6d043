//! Run settings: the method with its parameters, chain counts, lengths, seed, temperature.

use super::error::RunError;
pub use super::method::{
    Adaptation, AdaptiveBase, Kinetic, Mass, Method, MethodKind, Minibatch, Schedule, DEFAULT_DT_MIN,
};

/// Everything a run needs besides the model, the initial state and the recorders.
///
/// Steps are counted from 1 over the whole run: steps `1..=warmup` are warmup (not recorded),
/// then `steps` sampling steps, of which every `thin`-th is recorded (post-warmup step `s` is
/// recorded when `s % thin == 0`), so each chain records `steps / thin` draws.
#[derive(Debug, Clone, PartialEq)]
pub struct RunConfig {
    /// The scheme and its parameters.
    pub method: Method,
    /// Number of independent chains (or SDE paths), ≥ 1.
    pub chains: usize,
    /// Unrecorded steps before sampling.
    pub warmup: u64,
    /// Sampling steps after warmup.
    pub steps: u64,
    /// Record every `thin`-th sampling step, ≥ 1.
    pub thin: u64,
    /// Run seed; chain `c` (0-based) uses stream `(seed, c)`.
    pub seed: u64,
    /// Temperature T > 0 of the Gibbs target exp(−U/T) (samplers only).
    pub temperature: f64,
    /// Start time of SDE runs.
    pub t0: f64,
    /// When a chain's state becomes NaN or infinite, stop every chain (true) or only that
    /// one, letting the others finish (false, the default).
    pub stop_all_on_nonfinite: bool,
    /// Initial components drawn at random, per chain, over the given initial state.
    pub init_draws: Vec<InitDraw>,
}

/// Components `start..start + len` of the initial state drawn independently.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InitDraw {
    /// First component.
    pub start: usize,
    /// Number of components.
    pub len: usize,
    /// Their law.
    pub law: InitLaw,
}

/// The law of drawn initial components.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum InitLaw {
    /// Normal(mean, sd²).
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        sd: f64,
    },
    /// Uniform on [lo, hi).
    Uniform {
        /// Lower end.
        lo: f64,
        /// Upper end.
        hi: f64,
    },
}

/// Initial draws use streams far above any chain's own, so they never share one.
const INIT_STREAMS: u64 = 1 << 48;

impl RunConfig {
    /// A configuration with one chain, no warmup, `steps` steps, thin 1, seed 0, T = 1, t0 = 0.
    pub fn new(method: Method, steps: u64) -> Self {
        RunConfig {
            method,
            chains: 1,
            warmup: 0,
            steps,
            thin: 1,
            seed: 0,
            temperature: 1.0,
            t0: 0.0,
            stop_all_on_nonfinite: false,
            init_draws: Vec::new(),
        }
    }

    /// Chain `chain`'s initial state: `init` with the drawn components replaced by
    /// draws from stream (seed, 2⁴⁸ + chain), a function of the seed and the chain
    /// alone, so runs are reproducible whatever the thread count.
    pub fn initial_state(&self, init: &[f64], chain: usize) -> Vec<f64> {
        let mut x = init.to_vec();
        if self.init_draws.is_empty() {
            return x;
        }
        let mut rng = super::rng::stream(self.seed, INIT_STREAMS + chain as u64);
        for d in &self.init_draws {
            for v in x.iter_mut().skip(d.start).take(d.len) {
                *v = match d.law {
                    InitLaw::Normal { mean, sd } => mean + sd * super::rng::normal(&mut rng),
                    InitLaw::Uniform { lo, hi } => lo + (hi - lo) * super::rng::uniform_open01(&mut rng),
                };
            }
        }
        x
    }

    /// Draws each chain records.
    pub fn draws_per_chain(&self) -> u64 {
        self.steps.checked_div(self.thin).unwrap_or(0)
    }

    /// Checks every setting, naming the first bad one.
    pub fn validate(&self) -> Result<(), RunError> {
        self.method.validate()?;
        if self.chains == 0 {
            return Err(RunError::invalid("chains", "must be at least 1".to_string()));
        }
        if self.thin == 0 {
            return Err(RunError::invalid("thin", "must be at least 1".to_string()));
        }
        if !(self.temperature.is_finite() && self.temperature > 0.0) {
            let reason = format!("must be a finite number > 0, got {}", self.temperature);
            return Err(RunError::invalid("temperature", reason));
        }
        if !self.t0.is_finite() {
            return Err(RunError::invalid(
                "t0",
                format!("must be finite, got {}", self.t0),
            ));
        }
        Ok(())
    }
}
