//! Methods: an integration scheme with its parameters, as the runtime runs it.

use std::fmt;

use super::error::RunError;

/// A constant mass matrix M (Langevin methods precondition by M⁻¹; Hamiltonian methods draw
/// momenta from N(0, M)).
#[derive(Debug, Clone, PartialEq)]
pub enum Mass {
    /// m·I.
    Scalar(f64),
    /// diag(m₁, …, mₙ).
    Diagonal(Vec<f64>),
    /// A dense symmetric positive definite n×n matrix, by rows.
    Dense(Vec<f64>),
}

impl Mass {
    /// The identity.
    pub const UNIT: Mass = Mass::Scalar(1.0);

    /// A scalar, diagonal or dense mass from `n` = 1, d or d² numbers for a d-dimensional
    /// state (the length decides; d = 1 reads a single number as a scalar).
    pub fn from_values(values: Vec<f64>, dim: usize) -> Mass {
        match values.as_slice() {
            [m] => Mass::Scalar(*m),
            _ if values.len() == dim => Mass::Diagonal(values),
            _ => Mass::Dense(values),
        }
    }

    fn validate(&self) -> Result<(), RunError> {
        let bad = |reason: String| Err(RunError::invalid("mass", reason));
        match self {
            Mass::Scalar(m) if !(m.is_finite() && *m > 0.0) => {
                bad(format!("must be a finite number > 0, got {m}"))
            }
            Mass::Diagonal(v) if !v.iter().all(|m| m.is_finite() && *m > 0.0) => {
                bad("diagonal entries must be finite numbers > 0".to_string())
            }
            Mass::Dense(v) if !v.iter().all(|m| m.is_finite()) => bad("entries must be finite".to_string()),
            _ => Ok(()),
        }
    }
}

impl fmt::Display for Mass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mass::Scalar(m) => write!(f, "{m}"),
            Mass::Diagonal(v) | Mass::Dense(v) => {
                let items: Vec<String> = v.iter().map(|x| x.to_string()).collect();
                write!(f, "[{}]", items.join(", "))
            }
        }
    }
}

/// Warmup adaptation of a Metropolis-adjusted method.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Adaptation {
    /// Adapt the step size by dual averaging during warmup.
    pub step: bool,
    /// Adapt a diagonal mass matrix during warmup (Stan's windowed schedule).
    pub mass: bool,
    /// The acceptance rate the step size is tuned to, in (0, 1).
    pub target_accept: f64,
}

impl Adaptation {
    /// No adaptation (a fixed step size and mass).
    pub const fn fixed(target_accept: f64) -> Self {
        Adaptation {
            step: false,
            mass: false,
            target_accept,
        }
    }

    fn validate(&self) -> Result<(), RunError> {
        let a = self.target_accept;
        if a > 0.0 && a < 1.0 {
            Ok(())
        } else {
            Err(RunError::invalid(
                "target_accept",
                format!("must lie strictly between 0 and 1, got {a}"),
            ))
        }
    }
}

/// How annealing interpolates the temperature factor between stages.
#[derive(Debug, Clone, PartialEq)]
pub enum Schedule {
    /// τ_k = from·(to/from)^(k/(K−1)).
    Geometric {
        /// First stage's factor.
        from: f64,
        /// Last stage's factor.
        to: f64,
    },
    /// τ_k = from + (to − from)·k/(K−1).
    Linear {
        /// First stage's factor.
        from: f64,
        /// Last stage's factor.
        to: f64,
    },
    /// τ_k given per stage: a user expression of the stage index (or of the
    /// fraction t = k/(K−1)), evaluated by the compiler for every stage.
    Table(Vec<f64>),
}

impl Schedule {
    /// The factor of stage `k` (0-based) of `stages`; stages past the end keep the last factor.
    pub fn factor(&self, k: u64, stages: u64) -> f64 {
        let s = if stages <= 1 {
            1.0
        } else {
            (k.min(stages - 1)) as f64 / (stages - 1) as f64
        };
        match self {
            Schedule::Geometric { from, to } => from * (to / from).powf(s),
            Schedule::Linear { from, to } => from + (to - from) * s,
            Schedule::Table(values) => {
                let last = values.last().copied().unwrap_or(f64::NAN);
                values.get(k as usize).copied().unwrap_or(last)
            }
        }
    }

    /// Every factor the schedule can take (its end points, or every tabled value).
    fn factors(&self) -> Vec<f64> {
        match self {
            Schedule::Geometric { from, to } | Schedule::Linear { from, to } => vec![*from, *to],
            Schedule::Table(values) => values.clone(),
        }
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Schedule::Geometric { from, to } => write!(f, "geometric({from}, {to})"),
            Schedule::Linear { from, to } => write!(f, "linear({from}, {to})"),
            Schedule::Table(values) => {
                let items: Vec<String> = values.iter().map(|v| v.to_string()).collect();
                write!(f, "[{}]", items.join(", "))
            }
        }
    }
}

/// Underdamped Langevin parameters: dq = p/m dt, dp = −∇U dt − γp dt + √(2γmT) dW.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Kinetic {
    /// Step size h.
    pub step: f64,
    /// Friction γ ≥ 0.
    pub friction: f64,
    /// Mass m > 0, the same for every component.
    pub mass: f64,
}

/// How a stochastic-gradient method draws the data rows of each gradient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Minibatch {
    /// Rows per gradient B.
    pub size: u64,
    /// Draw rows independently (with replacement) instead of B distinct rows.
    pub replace: bool,
}

impl fmt::Display for Minibatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "batch={}, replace={}", self.size, self.replace)
    }
}

/// An integration scheme with its parameters.
#[derive(Debug, Clone, PartialEq)]
pub enum Method {
    /// Unadjusted Langevin: x⁺ = x − hM⁻¹∇U + √(2hT) M^{−1/2} ξ.
    Ula {
        /// Step size h.
        step: f64,
        /// Preconditioning mass M.
        mass: Mass,
    },
    /// Metropolis-adjusted Langevin with the (preconditioned) ULA move as proposal.
    Mala {
        /// Step size h (the initial one when adapted).
        step: f64,
        /// Preconditioning mass M.
        mass: Mass,
        /// Warmup adaptation.
        adapt: Adaptation,
    },
    /// Metropolis-adjusted Langevin preconditioned by G(x) = (∇²U(x) + λI)⁻¹, with λ grown
    /// from `damping` until the matrix is positive definite.
    NewtonLangevin {
        /// Step size h.
        step: f64,
        /// Levenberg–Marquardt damping λ ≥ 0.
        damping: f64,
        /// Warmup step-size adaptation (`mass` is ignored).
        adapt: Adaptation,
    },
    /// BAOAB splitting of underdamped Langevin; positions are recorded.
    Baoab(Kinetic),
    /// OBABO splitting.
    Obabo(Kinetic),
    /// ABOBA splitting.
    Aboba(Kinetic),
    /// UBU: exact Ornstein–Uhlenbeck half steps around a full kick.
    Ubu(Kinetic),
    /// Randomized midpoint method for underdamped Langevin.
    RandomizedMidpoint(Kinetic),
    /// Hamiltonian Monte Carlo: leapfrog trajectories and a Metropolis test.
    Hmc {
        /// Leapfrog step size ε (the initial one when adapted).
        step: f64,
        /// Leapfrog steps per trajectory.
        steps: u64,
        /// Trajectory length; when set, steps = ⌈length/ε⌉ (recomputed as ε adapts).
        length: Option<f64>,
        /// Mass matrix (the initial one when adapted).
        mass: Mass,
        /// Warmup adaptation.
        adapt: Adaptation,
    },
    /// The no-U-turn sampler with multinomial trajectory sampling.
    Nuts {
        /// Leapfrog step size ε (the initial one when adapted).
        step: f64,
        /// Maximum tree depth (at most 2^depth leapfrog steps per iteration).
        max_depth: u32,
        /// Mass matrix (the initial one when adapted).
        mass: Mass,
        /// Warmup adaptation.
        adapt: Adaptation,
    },
    /// Langevin steps at temperature T·τ_k over stages k = 0, …, K−1, with step h·τ_k.
    AnnealedLangevin {
        /// Step size h at factor τ = 1.
        step: f64,
        /// The factors τ_k.
        schedule: Schedule,
        /// Number of stages K.
        stages: u64,
        /// Steps per stage.
        steps_per_stage: u64,
    },
    /// Stochastic-gradient Langevin dynamics (Welling & Teh 2011) in ULA's convention:
    /// x⁺ = x − h_t ∇Ũ(x) + √(2h_t T) ξ with h_t = step·(1 + t/offset)^(−decay) and Ũ the
    /// energy with its sums over data rows estimated from a minibatch.
    Sgld {
        /// Step size h₀.
        step: f64,
        /// Decay exponent γ of the step schedule (0: constant steps).
        decay: f64,
        /// Offset of the step schedule, in steps.
        offset: f64,
        /// The rows of each gradient.
        batch: Minibatch,
    },
    /// Stochastic-gradient Hamiltonian Monte Carlo (Chen, Fox & Guestrin 2014):
    /// p⁺ = (1 − hγ)p − h∇Ũ(q) + √(2γhmT) ξ, q⁺ = q + hp⁺/m.
    Sghmc {
        /// Step, friction and mass.
        kinetic: Kinetic,
        /// The rows of each gradient.
        batch: Minibatch,
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
    /// Plain ULA with step `step`.
    pub fn ula(step: f64) -> Method {
        Method::Ula {
            step,
            mass: Mass::UNIT,
        }
    }

    /// MALA with a fixed step `step` (no adaptation).
    pub fn mala(step: f64) -> Method {
        Method::Mala {
            step,
            mass: Mass::UNIT,
            adapt: Adaptation::fixed(0.574),
        }
    }

    /// The method's name as the language spells it (`mala`, `euler_maruyama`, …).
    pub fn name(&self) -> &'static str {
        match self {
            Method::Ula { .. } => "ula",
            Method::Mala { .. } => "mala",
            Method::NewtonLangevin { .. } => "newton_langevin",
            Method::Baoab(_) => "baoab",
            Method::Obabo(_) => "obabo",
            Method::Aboba(_) => "aboba",
            Method::Ubu(_) => "ubu",
            Method::RandomizedMidpoint(_) => "randomized_midpoint",
            Method::Hmc { .. } => "hmc",
            Method::Nuts { .. } => "nuts",
            Method::AnnealedLangevin { .. } => "annealed_langevin",
            Method::Sgld { .. } => "sgld",
            Method::Sghmc { .. } => "sghmc",
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
            Method::EulerMaruyama { .. }
            | Method::Milstein { .. }
            | Method::Heun { .. }
            | Method::Sra1 { .. }
            | Method::Sriw1 { .. }
            | Method::Adaptive { .. } => MethodKind::Sde,
            _ => MethodKind::Sampler,
        }
    }

    /// Whether the method needs the energy's Hessian ([`super::GibbsTarget::hessian`]).
    pub fn needs_hessian(&self) -> bool {
        matches!(self, Method::NewtonLangevin { .. })
    }

    /// The minibatch of a stochastic-gradient method.
    pub fn minibatch(&self) -> Option<Minibatch> {
        match self {
            Method::Sgld { batch, .. } | Method::Sghmc { batch, .. } => Some(*batch),
            _ => None,
        }
    }

    pub(super) fn validate(&self) -> Result<(), RunError> {
        match self {
            Method::Sgld {
                step,
                decay,
                offset,
                batch,
            } => {
                positive("step", *step)?;
                non_negative("decay", *decay)?;
                positive("offset", *offset)?;
                at_least_one("batch", batch.size)
            }
            Method::Sghmc { kinetic: k, batch } => {
                positive("step", k.step)?;
                positive("mass", k.mass)?;
                positive("friction", k.friction)?;
                if k.step * k.friction >= 1.0 {
                    let reason = format!(
                        "step·friction must be below 1 (the momentum would change sign), got {}",
                        k.step * k.friction
                    );
                    return Err(RunError::invalid("friction", reason));
                }
                at_least_one("batch", batch.size)
            }
            Method::Ula { step, mass } => positive("step", *step).and(mass.validate()),
            Method::Mala { step, mass, adapt } => {
                positive("step", *step)?;
                mass.validate()?;
                adapt.validate()
            }
            Method::NewtonLangevin { step, damping, adapt } => {
                positive("step", *step)?;
                non_negative("damping", *damping)?;
                adapt.validate()
            }
            Method::Baoab(k)
            | Method::Obabo(k)
            | Method::Aboba(k)
            | Method::Ubu(k)
            | Method::RandomizedMidpoint(k) => {
                positive("step", k.step)?;
                positive("mass", k.mass)?;
                non_negative("friction", k.friction)
            }
            Method::Hmc {
                step,
                steps,
                length,
                mass,
                adapt,
            } => {
                positive("step", *step)?;
                at_least_one("steps", *steps)?;
                length.map_or(Ok(()), |l| positive("length", l))?;
                mass.validate()?;
                adapt.validate()
            }
            Method::Nuts {
                step,
                max_depth,
                mass,
                adapt,
            } => {
                positive("step", *step)?;
                if !(1..=30).contains(max_depth) {
                    let reason = format!("must lie between 1 and 30, got {max_depth}");
                    return Err(RunError::invalid("max_depth", reason));
                }
                mass.validate()?;
                adapt.validate()
            }
            Method::AnnealedLangevin {
                step,
                schedule,
                stages,
                steps_per_stage,
            } => {
                positive("step", *step)?;
                if let Schedule::Table(values) = schedule {
                    if values.len() as u64 != *stages {
                        let reason = format!("gives {} factors for {stages} stages", values.len());
                        return Err(RunError::invalid("schedule", reason));
                    }
                }
                for v in schedule.factors() {
                    positive("schedule", v)?;
                }
                at_least_one("stages", *stages)?;
                at_least_one("steps_per_stage", *steps_per_stage)
            }
            Method::EulerMaruyama { dt }
            | Method::Milstein { dt }
            | Method::Heun { dt }
            | Method::Sra1 { dt }
            | Method::Sriw1 { dt } => positive("dt", *dt),
            Method::Adaptive {
                dt,
                abstol,
                reltol,
                dt_min,
                dt_max,
                ..
            } => validate_adaptive(*dt, *abstol, *reltol, *dt_min, *dt_max),
        }
    }
}

fn validate_adaptive(dt: f64, abstol: f64, reltol: f64, dt_min: f64, dt_max: f64) -> Result<(), RunError> {
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

fn positive(setting: &'static str, v: f64) -> Result<(), RunError> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(RunError::invalid(
            setting,
            format!("must be a finite number > 0, got {v}"),
        ))
    }
}

fn non_negative(setting: &'static str, v: f64) -> Result<(), RunError> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(RunError::invalid(
            setting,
            format!("must be a finite number ≥ 0, got {v}"),
        ))
    }
}

fn at_least_one(setting: &'static str, v: u64) -> Result<(), RunError> {
    if v >= 1 {
        Ok(())
    } else {
        Err(RunError::invalid(setting, "must be at least 1".to_string()))
    }
}

fn fmt_adapt(f: &mut fmt::Formatter<'_>, a: &Adaptation, with_mass: bool) -> fmt::Result {
    write!(f, ", adapt={}, target_accept={}", a.step, a.target_accept)?;
    if with_mass {
        write!(f, ", adapt_mass={}", a.mass)?;
    }
    Ok(())
}

impl fmt::Display for Method {
    /// The language's spelling, e.g. `baoab(step=0.1, friction=1, mass=1)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.name();
        match self {
            Method::Ula { step, mass } => write!(f, "ula(step={step}, mass={mass})"),
            Method::Mala { step, mass, adapt } => {
                write!(f, "mala(step={step}, mass={mass}")?;
                fmt_adapt(f, adapt, true)?;
                write!(f, ")")
            }
            Method::NewtonLangevin { step, damping, adapt } => {
                write!(f, "newton_langevin(step={step}, damping={damping}")?;
                fmt_adapt(f, adapt, false)?;
                write!(f, ")")
            }
            Method::Baoab(k)
            | Method::Obabo(k)
            | Method::Aboba(k)
            | Method::Ubu(k)
            | Method::RandomizedMidpoint(k) => {
                write!(
                    f,
                    "{name}(step={}, friction={}, mass={})",
                    k.step, k.friction, k.mass
                )
            }
            Method::Hmc {
                step,
                steps,
                length,
                mass,
                adapt,
            } => {
                write!(f, "hmc(step={step}, ")?;
                match length {
                    Some(l) => write!(f, "length={l}")?,
                    None => write!(f, "steps={steps}")?,
                }
                write!(f, ", mass={mass}")?;
                fmt_adapt(f, adapt, true)?;
                write!(f, ")")
            }
            Method::Nuts {
                step,
                max_depth,
                mass,
                adapt,
            } => {
                write!(f, "nuts(step={step}, max_depth={max_depth}, mass={mass}")?;
                fmt_adapt(f, adapt, true)?;
                write!(f, ")")
            }
            Method::AnnealedLangevin {
                step,
                schedule,
                stages,
                steps_per_stage,
            } => write!(
                f,
                "annealed_langevin(step={step}, schedule={schedule}, stages={stages}, \
                 steps_per_stage={steps_per_stage})"
            ),
            Method::Sgld {
                step,
                decay,
                offset,
                batch,
            } => write!(f, "sgld(step={step}, {batch}, decay={decay}, offset={offset})"),
            Method::Sghmc { kinetic: k, batch } => write!(
                f,
                "sghmc(step={}, friction={}, mass={}, {batch})",
                k.step, k.friction, k.mass
            ),
            Method::EulerMaruyama { dt }
            | Method::Milstein { dt }
            | Method::Heun { dt }
            | Method::Sra1 { dt }
            | Method::Sriw1 { dt } => write!(f, "{name}(dt={dt})"),
            Method::Adaptive {
                dt,
                abstol,
                reltol,
                dt_min,
                dt_max,
                ..
            } => {
                write!(f, "{name}(dt={dt}, abstol={abstol}, reltol={reltol}")?;
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
