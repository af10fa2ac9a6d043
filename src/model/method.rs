//! The method catalogue: every integrator the `run` block may name, with its arguments, their
//! kinds and their defaults. The checker validates against it, the driver maps a checked
//! [`MethodSpec`] to the runtime's method, and the documentation mirrors it.

use crate::source::Span;

/// Integrators the run block may name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MethodKind {
    /// Unadjusted Langevin, optionally preconditioned by a constant mass matrix.
    Ula,
    /// Metropolis-adjusted Langevin, optionally preconditioned by a constant mass matrix.
    Mala,
    /// Metropolis-adjusted Langevin preconditioned by the damped Hessian at the current point.
    NewtonLangevin,
    /// Underdamped Langevin, BAOAB splitting.
    Baoab,
    /// Underdamped Langevin, OBABO splitting.
    Obabo,
    /// Underdamped Langevin, ABOBA splitting.
    Aboba,
    /// Underdamped Langevin, exact Ornstein–Uhlenbeck flow around a kick (UBU).
    Ubu,
    /// Underdamped Langevin, randomized midpoint method.
    RandomizedMidpoint,
    /// Hamiltonian Monte Carlo with a fixed number of leapfrog steps.
    Hmc,
    /// The no-U-turn sampler.
    Nuts,
    /// Langevin under a decreasing temperature schedule.
    AnnealedLangevin,
    /// Stochastic-gradient Langevin dynamics: ULA moves with minibatch gradients.
    Sgld,
    /// Stochastic-gradient Hamiltonian Monte Carlo: underdamped Langevin with minibatch gradients.
    Sghmc,
    /// Euler–Maruyama for general SDEs.
    EulerMaruyama,
    /// Milstein (diagonal noise) for general SDEs.
    Milstein,
    /// Stochastic Heun (predictor–corrector on the Stratonovich form), any noise.
    Heun,
    /// Rößler's SRA1, strong order 1.5 for additive noise.
    Sra1,
    /// Rößler's SRIW1, strong order 1.5 for diagonal noise.
    Sriw1,
}

/// Every method, in documentation order.
pub const ALL_METHODS: &[MethodKind] = &[
    MethodKind::Ula,
    MethodKind::Mala,
    MethodKind::NewtonLangevin,
    MethodKind::Baoab,
    MethodKind::Obabo,
    MethodKind::Aboba,
    MethodKind::Ubu,
    MethodKind::RandomizedMidpoint,
    MethodKind::Hmc,
    MethodKind::Nuts,
    MethodKind::AnnealedLangevin,
    MethodKind::Sgld,
    MethodKind::Sghmc,
    MethodKind::EulerMaruyama,
    MethodKind::Milstein,
    MethodKind::Heun,
    MethodKind::Sra1,
    MethodKind::Sriw1,
];

impl MethodKind {
    /// The name used in `.sde` files and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            MethodKind::Ula => "ula",
            MethodKind::Mala => "mala",
            MethodKind::NewtonLangevin => "newton_langevin",
            MethodKind::Baoab => "baoab",
            MethodKind::Obabo => "obabo",
            MethodKind::Aboba => "aboba",
            MethodKind::Ubu => "ubu",
            MethodKind::RandomizedMidpoint => "randomized_midpoint",
            MethodKind::Hmc => "hmc",
            MethodKind::Nuts => "nuts",
            MethodKind::AnnealedLangevin => "annealed_langevin",
            MethodKind::Sgld => "sgld",
            MethodKind::Sghmc => "sghmc",
            MethodKind::EulerMaruyama => "euler_maruyama",
            MethodKind::Milstein => "milstein",
            MethodKind::Heun => "heun",
            MethodKind::Sra1 => "sra1",
            MethodKind::Sriw1 => "sriw1",
        }
    }

    /// The method called `name`, if any.
    pub fn from_name(name: &str) -> Option<MethodKind> {
        ALL_METHODS.iter().copied().find(|k| k.name() == name)
    }

    /// Every method, in documentation order.
    pub fn all() -> &'static [MethodKind] {
        ALL_METHODS
    }

    /// Whether it samples a Gibbs target (as opposed to integrating an SDE).
    pub fn is_sampler(self) -> bool {
        !matches!(
            self,
            MethodKind::EulerMaruyama
                | MethodKind::Milstein
                | MethodKind::Heun
                | MethodKind::Sra1
                | MethodKind::Sriw1
        )
    }

    /// Whether it needs the energy's Hessian, so the compiler must build and compile it.
    /// The one place that decides which methods need second derivatives.
    pub fn needs_hessian(self) -> bool {
        matches!(self, MethodKind::NewtonLangevin)
    }

    /// Whether it follows minibatch estimates of the gradient, so the compiler must build the
    /// subsampled gradient of the energy's sums over data rows.
    pub fn needs_minibatch(self) -> bool {
        matches!(self, MethodKind::Sgld | MethodKind::Sghmc)
    }

    /// The names of the methods of one family (samplers or SDE schemes), comma-separated.
    pub fn names_of(samplers: bool) -> String {
        let names: Vec<&str> = ALL_METHODS
            .iter()
            .filter(|k| k.is_sampler() == samplers)
            .map(|k| k.name())
            .collect();
        names.join(", ")
    }
}

/// What values an argument accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgKind {
    /// A real number > 0.
    Positive,
    /// A real number ≥ 0.
    NonNegative,
    /// A real number strictly between 0 and 1.
    Fraction,
    /// An integer ≥ 1.
    Count,
    /// `true` or `false`.
    Bool,
    /// A mass matrix: a number > 0 (a multiple of the identity), a vector of n numbers > 0 (a
    /// diagonal), or a vector of n² numbers (a dense symmetric positive definite matrix, by rows).
    Mass,
    /// A temperature schedule: `geometric(from, to)` or `linear(from, to)`.
    Schedule,
}

/// The default of an argument that is not written.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ArgDefault {
    /// No default: absent unless written (the method decides what absence means).
    Absent,
    /// A real number.
    Real(f64),
    /// An integer.
    Int(u64),
    /// A flag.
    Bool(bool),
    /// A schedule.
    Schedule(ScheduleKind, f64, f64),
}

/// One argument of a method.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ArgSig {
    /// Its name.
    pub name: &'static str,
    /// The values it accepts.
    pub kind: ArgKind,
    /// Its default.
    pub default: ArgDefault,
}

const fn arg(name: &'static str, kind: ArgKind, default: ArgDefault) -> ArgSig {
    ArgSig { name, kind, default }
}

use ArgDefault::{Absent, Bool as B, Int, Real};
use ArgKind::{Bool, Count, Fraction, Mass, NonNegative, Positive, Schedule};

const ULA: &[ArgSig] = &[arg("step", Positive, Real(0.01)), arg("mass", Mass, Absent)];
const MALA: &[ArgSig] = &[
    arg("step", Positive, Real(0.01)),
    arg("mass", Mass, Absent),
    arg("adapt", Bool, B(true)),
    arg("target_accept", Fraction, Real(0.574)),
    arg("adapt_mass", Bool, B(false)),
];
const NEWTON: &[ArgSig] = &[
    arg("step", Positive, Real(0.5)),
    arg("damping", NonNegative, Real(0.5)),
    arg("adapt", Bool, B(true)),
    arg("target_accept", Fraction, Real(0.574)),
];
const KINETIC: &[ArgSig] = &[
    arg("step", Positive, Real(0.05)),
    arg("friction", NonNegative, Real(1.0)),
    arg("mass", Positive, Real(1.0)),
];
// `adapt_mass` defaults to true unless `mass` is written (then the given mass is kept).
const HMC: &[ArgSig] = &[
    arg("step", Positive, Real(0.1)),
    arg("steps", Count, Int(10)),
    arg("length", Positive, Absent),
    arg("mass", Mass, Absent),
    arg("adapt", Bool, B(true)),
    arg("target_accept", Fraction, Real(0.8)),
    arg("adapt_mass", Bool, Absent),
];
const NUTS: &[ArgSig] = &[
    arg("step", Positive, Real(0.1)),
    arg("max_depth", Count, Int(10)),
    arg("mass", Mass, Absent),
    arg("adapt", Bool, B(true)),
    arg("target_accept", Fraction, Real(0.8)),
    arg("adapt_mass", Bool, Absent),
];
const ANNEALED: &[ArgSig] = &[
    arg("step", Positive, Real(0.01)),
    arg(
        "schedule",
        Schedule,
        ArgDefault::Schedule(ScheduleKind::Geometric, 10.0, 1.0),
    ),
    arg("stages", Count, Int(10)),
    arg("steps_per_stage", Count, Int(100)),
];
// Step sizes h_t = step·(1 + t/offset)^(−decay) (Welling & Teh 2011, with decay = 0 a
// constant step); `batch` rows per gradient, drawn with or without replacement.
const SGLD: &[ArgSig] = &[
    arg("step", Positive, Real(1e-4)),
    arg("batch", Count, Int(32)),
    arg("replace", Bool, B(false)),
    arg("decay", NonNegative, Real(0.0)),
    arg("offset", Positive, Real(1.0)),
];
const SGHMC: &[ArgSig] = &[
    arg("step", Positive, Real(1e-3)),
    arg("friction", Positive, Real(1.0)),
    arg("mass", Positive, Real(1.0)),
    arg("batch", Count, Int(32)),
    arg("replace", Bool, B(false)),
];
// `dt` falls back to the run block's `dt` setting. A tolerance turns on adaptive
// steps (the other tolerance then takes its value); `dt_min`/`dt_max` bound them.
const SDE: &[ArgSig] = &[
    arg("dt", Positive, Absent),
    arg("abstol", Positive, Absent),
    arg("reltol", Positive, Absent),
    arg("dt_min", Positive, Absent),
    arg("dt_max", Positive, Absent),
];
// The order-1.5 schemes run on fixed steps.
const SDE_FIXED: &[ArgSig] = &[arg("dt", Positive, Absent)];

/// The arguments `kind` accepts, in positional order.
pub fn signature(kind: MethodKind) -> &'static [ArgSig] {
    match kind {
        MethodKind::Ula => ULA,
        MethodKind::Mala => MALA,
        MethodKind::NewtonLangevin => NEWTON,
        MethodKind::Baoab
        | MethodKind::Obabo
        | MethodKind::Aboba
        | MethodKind::Ubu
        | MethodKind::RandomizedMidpoint => KINETIC,
        MethodKind::Hmc => HMC,
        MethodKind::Nuts => NUTS,
        MethodKind::AnnealedLangevin => ANNEALED,
        MethodKind::Sgld => SGLD,
        MethodKind::Sghmc => SGHMC,
        MethodKind::EulerMaruyama | MethodKind::Milstein | MethodKind::Heun => SDE,
        MethodKind::Sra1 | MethodKind::Sriw1 => SDE_FIXED,
    }
}

/// How a schedule interpolates between its end points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScheduleKind {
    /// `geometric(from, to)`: equal ratios between stages.
    Geometric,
    /// `linear(from, to)`: equal differences between stages.
    Linear,
}

impl ScheduleKind {
    /// The name used in `.sde` files.
    pub fn name(self) -> &'static str {
        match self {
            ScheduleKind::Geometric => "geometric",
            ScheduleKind::Linear => "linear",
        }
    }
}

/// A checked temperature schedule, e.g. `geometric(10, 1)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScheduleSpec {
    /// The interpolation.
    pub kind: ScheduleKind,
    /// The first stage's temperature factor (> 0).
    pub from: f64,
    /// The last stage's temperature factor (> 0).
    pub to: f64,
}

/// A checked method argument.
#[derive(Clone, Debug, PartialEq)]
pub enum MethodArg {
    /// A real number.
    Real(f64),
    /// An integer.
    Int(u64),
    /// A flag.
    Bool(bool),
    /// A vector of numbers (mass matrices).
    Vector(Vec<f64>),
    /// A temperature schedule.
    Schedule(ScheduleSpec),
}

impl std::fmt::Display for MethodArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MethodArg::Real(x) => write!(f, "{x}"),
            MethodArg::Int(n) => write!(f, "{n}"),
            MethodArg::Bool(b) => write!(f, "{b}"),
            MethodArg::Vector(v) => {
                let items: Vec<String> = v.iter().map(|x| x.to_string()).collect();
                write!(f, "[{}]", items.join(", "))
            }
            MethodArg::Schedule(s) => write!(f, "{}({}, {})", s.kind.name(), s.from, s.to),
        }
    }
}

impl MethodArg {
    /// A number given for an argument of kind `kind` (as on a standalone binary's
    /// command line), checked as the language's checker checks it.
    pub fn from_number(kind: ArgKind, x: f64) -> Result<MethodArg, String> {
        let ok = match kind {
            ArgKind::Positive | ArgKind::Mass => x > 0.0,
            ArgKind::NonNegative => x >= 0.0,
            ArgKind::Fraction => x > 0.0 && x < 1.0,
            ArgKind::Count => x >= 1.0 && x.fract() == 0.0,
            ArgKind::Bool => x == 0.0 || x == 1.0,
            ArgKind::Schedule => false,
        };
        if !ok {
            return Err(format!("{x} is not {}", kind_phrase(kind)));
        }
        Ok(match kind {
            ArgKind::Count => MethodArg::Int(x as u64),
            ArgKind::Bool => MethodArg::Bool(x == 1.0),
            _ => MethodArg::Real(x),
        })
    }

    /// The default value of `sig`, if it has one.
    pub fn default_of(sig: &ArgSig) -> Option<MethodArg> {
        match sig.default {
            ArgDefault::Absent => None,
            ArgDefault::Real(x) => Some(MethodArg::Real(x)),
            ArgDefault::Int(n) => Some(MethodArg::Int(n)),
            ArgDefault::Bool(b) => Some(MethodArg::Bool(b)),
            ArgDefault::Schedule(kind, from, to) => {
                Some(MethodArg::Schedule(ScheduleSpec { kind, from, to }))
            }
        }
    }
}

fn kind_phrase(kind: ArgKind) -> &'static str {
    match kind {
        ArgKind::Positive => "a number > 0",
        ArgKind::NonNegative => "a number ≥ 0",
        ArgKind::Fraction => "a number strictly between 0 and 1",
        ArgKind::Count => "an integer ≥ 1",
        ArgKind::Bool => "a flag (1 for true, 0 for false)",
        ArgKind::Mass => "a number > 0 (vectors can be given in the model's run block)",
        ArgKind::Schedule => "set on the command line (give the schedule in the model's run block)",
    }
}

/// A method and its arguments, e.g. `mala(step = 0.05)`.
#[derive(Clone, Debug, PartialEq)]
pub struct MethodSpec {
    /// Which integrator.
    pub kind: MethodKind,
    /// Named arguments after validation, defaults filled in (absent optional arguments are left
    /// out).
    pub args: Vec<(String, MethodArg)>,
    /// Where it was written.
    pub span: Span,
}

impl MethodSpec {
    /// `kind` with every argument at its default.
    pub fn with_defaults(kind: MethodKind, span: Span) -> Self {
        let mut spec = MethodSpec {
            kind,
            args: Vec::new(),
            span,
        };
        spec.fill_defaults();
        spec
    }

    /// Adds the default of every argument not given.
    pub fn fill_defaults(&mut self) {
        for sig in signature(self.kind) {
            if self.value(sig.name).is_none() {
                if let Some(v) = MethodArg::default_of(sig) {
                    self.args.push((sig.name.to_string(), v));
                }
            }
        }
    }

    /// The argument `name`, if given (or defaulted).
    pub fn value(&self, name: &str) -> Option<&MethodArg> {
        self.args.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// The numeric value of argument `name` (a real or an integer), if given.
    pub fn arg(&self, name: &str) -> Option<f64> {
        match self.value(name)? {
            MethodArg::Real(x) => Some(*x),
            MethodArg::Int(n) => Some(*n as f64),
            _ => None,
        }
    }

    /// The integer value of argument `name`, if given.
    pub fn int(&self, name: &str) -> Option<u64> {
        match self.value(name)? {
            MethodArg::Int(n) => Some(*n),
            _ => None,
        }
    }

    /// The flag `name`, if given.
    pub fn flag(&self, name: &str) -> Option<bool> {
        match self.value(name)? {
            MethodArg::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The vector value of argument `name` (a scalar counts as one component), if given.
    pub fn vector(&self, name: &str) -> Option<Vec<f64>> {
        match self.value(name)? {
            MethodArg::Vector(v) => Some(v.clone()),
            MethodArg::Real(x) => Some(vec![*x]),
            MethodArg::Int(n) => Some(vec![*n as f64]),
            _ => None,
        }
    }

    /// The schedule `name`, if given.
    pub fn schedule(&self, name: &str) -> Option<ScheduleSpec> {
        match self.value(name)? {
            MethodArg::Schedule(s) => Some(*s),
            _ => None,
        }
    }
}
