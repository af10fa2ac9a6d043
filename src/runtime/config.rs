//! Run settings: the method with its parameters, chain counts, lengths, seed, temperature.

use std::fmt;

use super::error::RunError;

/// An integration scheme with its parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Method {
    /// Unadjusted Langevin algorithm: x⁺ = x − h∇U + √(2hT) ξ.
    Ula {
        /// Step size h.
        step: f64,
    },
    /// Metropolis-adjusted Langevin: the ULA move as a proposal, accepted with the
    /// Metropolis–Hastings ratio for exp(−U/T).
    Mala {
        /// Step size h.
        step: f64,
    },
    /// BAOAB underdamped Langevin; positions are recorded.
    Baoab {
        /// Step size h.
        step: f64,
        /// Friction γ (≥ 0; 0 gives energy-conserving velocity Verlet).
        friction: f64,
        /// Mass m (> 0), the same for every component.
        mass: f64,
    },
    /// Euler–Maruyama for an Itô SDE with diagonal noise.
    EulerMaruyama {
        /// Time step.
        dt: f64,
    },
    /// Milstein for an Itô SDE with diagonal noise.
    Milstein {
        /// Time step.
        dt: f64,
    },
    /// Stochastic Heun (predictor–corrector on the Stratonovich form), any noise.
    Heun {
        /// Time step.
        dt: f64,
    },
    /// Rößler's SRA1, strong order 1.5 for additive noise.
    Sra1 {
        /// Time step.
        dt: f64,
    },
    /// Rößler's SRIW1, strong order 1.5 for diagonal noise.
    Sriw1 {
        /// Time step.
        dt: f64,
    },
    /// An SDE scheme with adaptive time steps and error control.
    Adaptive {
        /// The scheme whose steps are controlled.
        scheme: AdaptiveBase,
        /// First step proposal.
        dt: f64,
        /// Absolute tolerance.
        abstol: f64,
        /// Relative tolerance.
        reltol: f64,
        /// Smallest step.
        dt_min: f64,
        /// Largest step (may be infinite).
        dt_max: f64,
    },
}

/// The smallest adaptive step unless `dt_min` says otherwise.
pub const DEFAULT_DT_MIN: f64 = 1e-12;

/// The SDE schemes that adaptive stepping can control.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdaptiveBase {
    /// Euler–Maruyama.
    EulerMaruyama,
    /// Milstein (diagonal noise).
    Milstein,
    /// Stochastic Heun.
    Heun,
}

impl AdaptiveBase {
    /// The scheme's name as the language spells it.
    pub fn name(self) -> &'static str {
        match self {
            AdaptiveBase::EulerMaruyama => "euler_maruyama",
            AdaptiveBase::Milstein => "milstein",
            AdaptiveBase::Heun => "heun",
        }
    }
}

/// What a method integrates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MethodKind {
    /// A sampler for a Gibbs target exp(−U/T) ([`super::GibbsTarget`]).
    Sampler,
    /// A scheme for an SDE in time ([`super::SdeSystem`]).
    Sde,
}

impl Method {
    /// The method's name as the language spells it (`mala`, `euler_maruyama`, …).
    pub fn name(&self) -> &'static str {
        match self {
            Method::Ula { .. } => "ula",
            Method::Mala { .. } => "mala",
            Method::Baoab { .. } => "baoab",
            Method::EulerMaruyama { .. } => "euler_maruyama",
            Method::Milstein { .. } => "milstein",
            Method::Heun { .. } => "heun",
            Method::Sra1 { .. } => "sra1",
            Method::Sriw1 { .. } => "sriw1",
            Method::Adaptive { scheme, .. } => scheme.name(),
        }
    }

    /// Whether the method samples a Gibbs target or integrates an SDE.
    pub fn kind(&self) -> MethodKind {
        match self {
            Method::Ula { .. } | Method::Mala { .. } | Method::Baoab { .. } => MethodKind::Sampler,
            Method::EulerMaruyama { .. }
            | Method::Milstein { .. }
            | Method::Heun { .. }
            | Method::Sra1 { .. }
            | Method::Sriw1 { .. }
            | Method::Adaptive { .. } => MethodKind::Sde,
        }
    }

    fn validate(&self) -> Result<(), RunError> {
        let positive = |setting: &'static str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(RunError::invalid(
                    setting,
                    format!("must be a finite number > 0, got {v}"),
                ))
            }
        };
        match *self {
            Method::Ula { step } | Method::Mala { step } => positive("step", step),
            Method::Baoab { step, friction, mass } => {
                positive("step", step)?;
                positive("mass", mass)?;
                if friction.is_finite() && friction >= 0.0 {
                    Ok(())
                } else {
                    Err(RunError::invalid(
                        "friction",
                        format!("must be a finite number ≥ 0, got {friction}"),
                    ))
                }
            }
            Method::EulerMaruyama { dt }
            | Method::Milstein { dt }
            | Method::Heun { dt }
            | Method::Sra1 { dt }
            | Method::Sriw1 { dt } => positive("dt", dt),
            Method::Adaptive {
                dt,
                abstol,
                reltol,
                dt_min,
                dt_max,
                ..
            } => {
                positive("dt", dt)?;
                positive("abstol", abstol)?;
                positive("reltol", reltol)?;
                positive("dt_min", dt_min)?;
                if dt_max.is_nan() || dt_max <= 0.0 {
                    return Err(RunError::invalid("dt_max", format!("must be > 0, got {dt_max}")));
                }
                if dt_min <= dt_max {
                    Ok(())
                } else {
                    Err(RunError::invalid(
                        "dt_min",
                        format!("must not exceed dt_max = {dt_max}, got {dt_min}"),
                    ))
                }
            }
        }
    }
}

impl fmt::Display for Method {
    /// The language's spelling, e.g. `baoab(step=0.1, friction=1, mass=1)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Method::Ula { step } | Method::Mala { step } => write!(f, "{}(step={step})", self.name()),
            Method::Baoab { step, friction, mass } => {
                write!(f, "baoab(step={step}, friction={friction}, mass={mass})")
            }
            Method::EulerMaruyama { dt }
            | Method::Milstein { dt }
            | Method::Heun { dt }
            | Method::Sra1 { dt }
            | Method::Sriw1 { dt } => write!(f, "{}(dt={dt})", self.name()),
            Method::Adaptive {
                dt,
                abstol,
                reltol,
                dt_min,
                dt_max,
                ..
            } => {
                write!(f, "{}(dt={dt}, abstol={abstol}, reltol={reltol}", self.name())?;
                if *dt_min != DEFAULT_DT_MIN {
                    write!(f, ", dt_min={dt_min}")?;
                }
                if dt_max.is_finite() {
                    write!(f, ", dt_max={dt_max}")?;
                }
                f.write_str(")")
            }
        }
    }
}

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
}

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
        }
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
