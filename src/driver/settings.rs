//! Run settings: the model's `run { }` block, overridden by command-line flags,
//! resolved into the runtime's configuration and the initial state.
//!
//! [`resolve`] parses command-line values with the language's parser (in the
//! `sde` tool); standalone binaries parse theirs without it and share the rest:
//! [`configure`] and [`default_state`].

use crate::diagnostic::Diagnostic;
use crate::model::{MethodKind, MethodSpec, Model, RunSettings, ScheduleKind, ScheduleSpec};
use crate::runtime::config::DEFAULT_DT_MIN;
use crate::runtime::{
    Adaptation, AdaptiveBase, Kinetic, Mass, Method, Minibatch, RunConfig, Save, Schedule, SdeOptions,
};
#[cfg(feature = "compiler")]
use crate::source::SourceMap;

/// Command-line overrides of run settings (`None`: keep the model's value).
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    /// `--method`.
    pub method: Option<String>,
    /// `--steps`.
    pub steps: Option<u64>,
    /// `--warmup`.
    pub warmup: Option<u64>,
    /// `--thin`.
    pub thin: Option<u64>,
    /// `--chains`.
    pub chains: Option<u64>,
    /// `--seed`.
    pub seed: Option<u64>,
    /// `--temperature`.
    pub temperature: Option<f64>,
    /// `--dt`.
    pub dt: Option<f64>,
    /// `--t0`.
    pub t0: Option<f64>,
    /// `--init name=value`.
    pub init: Vec<String>,
    /// `--t-end`.
    pub t_end: Option<f64>,
    /// `--save-every`.
    pub save_every: Option<f64>,
    /// `--stop-all-on-nonfinite`.
    pub stop_all_on_nonfinite: bool,
}

/// Default run lengths when neither the model nor the command line sets them.
const DEFAULT_STEPS: u64 = 1000;
const DEFAULT_CHAINS: u64 = 4;
const DEFAULT_SEED: u64 = 1;

fn default_method(model: &Model) -> MethodSpec {
    let kind = if model.is_gibbs() {
        MethodKind::Mala
    } else {
        MethodKind::EulerMaruyama
    };
    MethodSpec::with_defaults(kind, model.span)
}

/// Maps a checked method to the runtime's for a model with `dim` state components, filling
/// argument defaults from the method catalogue ([`crate::model::signature`]); an SDE method
/// without `dt` takes `dt` (the run block's setting), else 0.01.
pub fn runtime_method(spec: &MethodSpec, dt: Option<f64>, dim: usize) -> Method {
    let mut spec = spec.clone();
    spec.fill_defaults();
    // Catalogue defaults are filled, so the fallbacks below only guard hand-built specs; NaN
    // makes such a spec fail the runtime's validation with the argument's name.
    let real = |name: &str| spec.arg(name).unwrap_or(f64::NAN);
    let count = |name: &str| spec.int(name).unwrap_or(0);
    let mass = || {
        spec.vector("mass")
            .map_or(Mass::UNIT, |v| Mass::from_values(v, dim))
    };
    let adapt = |mass_default: bool| Adaptation {
        step: spec.flag("adapt").unwrap_or(true),
        mass: spec.flag("adapt_mass").unwrap_or(mass_default),
        target_accept: real("target_accept"),
    };
    let kinetic = || Kinetic {
        step: real("step"),
        friction: real("friction"),
        mass: real("mass"),
    };
    let minibatch = || Minibatch {
        size: count("batch"),
        replace: spec.flag("replace").unwrap_or(false),
    };
    let sde_dt = spec.arg("dt").or(dt).unwrap_or(0.01);
    // Hamiltonian methods adapt a diagonal mass unless one is given.
    let hamiltonian_adapt = || adapt(spec.value("mass").is_none());
    match spec.kind {
        MethodKind::Ula => Method::Ula {
            step: real("step"),
            mass: mass(),
        },
        MethodKind::Mala => Method::Mala {
            step: real("step"),
            mass: mass(),
            adapt: adapt(false),
        },
        MethodKind::NewtonLangevin => Method::NewtonLangevin {
            step: real("step"),
            damping: real("damping"),
            adapt: adapt(false),
        },
        MethodKind::Baoab => Method::Baoab(kinetic()),
        MethodKind::Obabo => Method::Obabo(kinetic()),
        MethodKind::Aboba => Method::Aboba(kinetic()),
        MethodKind::Ubu => Method::Ubu(kinetic()),
        MethodKind::RandomizedMidpoint => Method::RandomizedMidpoint(kinetic()),
        MethodKind::Hmc => Method::Hmc {
            step: real("step"),
            steps: count("steps"),
            length: spec.arg("length"),
            mass: mass(),
            adapt: hamiltonian_adapt(),
        },
        MethodKind::Nuts => Method::Nuts {
            step: real("step"),
            max_depth: u32::try_from(count("max_depth")).unwrap_or(u32::MAX),
            mass: mass(),
            adapt: hamiltonian_adapt(),
        },
        MethodKind::AnnealedLangevin => Method::AnnealedLangevin {
            step: real("step"),
            schedule: schedule_of(&spec),
            stages: count("stages"),
            steps_per_stage: count("steps_per_stage"),
        },
        MethodKind::Sgld => Method::Sgld {
            step: real("step"),
            decay: real("decay"),
            offset: real("offset"),
            batch: minibatch(),
        },
        MethodKind::Sghmc => Method::Sghmc {
            kinetic: kinetic(),
            batch: minibatch(),
        },
        MethodKind::EulerMaruyama => sde(
            &spec,
            AdaptiveBase::EulerMaruyama,
            sde_dt,
            Method::EulerMaruyama { dt: sde_dt },
        ),
        MethodKind::Milstein => sde(
            &spec,
            AdaptiveBase::Milstein,
            sde_dt,
            Method::Milstein { dt: sde_dt },
        ),
        MethodKind::Heun => sde(&spec, AdaptiveBase::Heun, sde_dt, Method::Heun { dt: sde_dt }),
        MethodKind::Sra1 => Method::Sra1 { dt: sde_dt },
        MethodKind::Sriw1 => Method::Sriw1 { dt: sde_dt },
    }
}

/// `fixed`, or adaptive stepping of `base` when a tolerance is given (a missing
/// tolerance takes the other's value; steps are unbounded unless `dt_min`/`dt_max` say).
fn sde(spec: &MethodSpec, base: AdaptiveBase, dt: f64, fixed: Method) -> Method {
    let (abstol, reltol) = match (spec.arg("abstol"), spec.arg("reltol")) {
        (None, None) => return fixed,
        (Some(a), None) => (a, a),
        (None, Some(r)) => (r, r),
        (Some(a), Some(r)) => (a, r),
    };
    Method::Adaptive {
        scheme: base,
        dt,
        abstol,
        reltol,
        dt_min: spec.arg("dt_min").unwrap_or(DEFAULT_DT_MIN),
        dt_max: spec.arg("dt_max").unwrap_or(f64::INFINITY),
    }
}

/// The runtime schedule of a checked `schedule` argument (a vector is the
/// per-stage table the checker computed from a user expression).
fn schedule_of(spec: &MethodSpec) -> Schedule {
    if let Some(values) = spec.vector("schedule") {
        return Schedule::Table(values);
    }
    match spec.schedule("schedule") {
        Some(ScheduleSpec {
            kind: ScheduleKind::Linear,
            from,
            to,
        }) => Schedule::Linear { from, to },
        Some(ScheduleSpec { from, to, .. }) => Schedule::Geometric { from, to },
        None => Schedule::Geometric {
            from: f64::NAN,
            to: 1.0,
        },
    }
}

/// The resolved run: configuration and initial state.
pub struct Resolved {
    /// Runtime configuration.
    pub config: RunConfig,
    /// Initial flat state.
    pub init: Vec<f64>,
    /// SDE save times, end time and recorded components.
    pub sde: SdeOptions,
}

/// Resolves settings; errors are diagnostics pointing into command-line snippets
/// (added to `sources`) or the model.
#[cfg(feature = "compiler")]
pub fn resolve(model: &Model, o: &Overrides, sources: &mut SourceMap) -> Result<Resolved, Vec<Diagnostic>> {
    let spec = match &o.method {
        Some(text) => crate::pipeline::parse_method(sources, text)?,
        None => model_method(model),
    };
    crate::resolve::check_method_fits(model, &spec).map_err(|d| vec![d])?;
    let config = configure(
        &spec,
        &model.run,
        model.is_gibbs(),
        model.state_size(),
        &model.name,
        o,
    )
    .map_err(|d| vec![d])?;
    let offsets = model.state_offsets();
    let mut init = default_state(model);
    let mut config = config;
    let mut given = Vec::new();
    for text in &o.init {
        let (name, values) = crate::pipeline::parse_init(sources, model, text)?;
        let Some(k) = model.states.iter().position(|s| s.name == name) else {
            continue;
        };
        given.push(k);
        let off = offsets.get(k).copied().unwrap_or(0);
        for (dst, src) in init.iter_mut().skip(off).zip(&values) {
            *dst = *src;
        }
    }
    // A value given on the command line replaces the run block's random draw.
    config.init_draws = model
        .run
        .init_draws
        .iter()
        .filter(|(id, _)| !given.contains(&(id.0 as usize)))
        .filter_map(|(id, law)| {
            let k = id.0 as usize;
            Some(crate::runtime::InitDraw {
                start: offsets.get(k).copied()?,
                len: model.states.get(k)?.size(),
                law: match *law {
                    crate::model::InitLaw::Normal { mean, sd } => {
                        crate::runtime::InitLaw::Normal { mean, sd }
                    }
                    crate::model::InitLaw::Uniform { lo, hi } => crate::runtime::InitLaw::Uniform { lo, hi },
                },
            })
        })
        .collect();
    Ok(Resolved {
        config,
        init,
        sde: sde_options(&model.run, o),
    })
}

/// SDE save times, end time and recorded components: the run block's, with
/// `--save-every` and `--t-end` from the command line.
pub fn sde_options(run: &RunSettings, o: &Overrides) -> SdeOptions {
    let save = match (o.save_every.or(run.save_every), &run.save_at) {
        (Some(d), _) => Save::Every(d),
        (None, Some(times)) => Save::At(times.clone()),
        (None, None) => Save::Steps,
    };
    SdeOptions {
        t_end: o.t_end.or(run.t_end),
        save,
        record: run.record.clone(),
    }
}

/// The method a run uses unless the command line names one: the run block's,
/// else the default for the model's kind.
pub fn model_method(model: &Model) -> MethodSpec {
    model.run.method.clone().unwrap_or_else(|| default_method(model))
}

/// The runtime configuration for method `spec` and the run block `run` of model
/// `name` (an energy model when `gibbs`, with `dim` state components), overridden by the numbers in `o`
/// (`o.method` and `o.init` are not read: the caller has parsed them). E0403 if
/// the method does not fit the model.
pub fn configure(
    spec: &MethodSpec,
    run: &RunSettings,
    gibbs: bool,
    dim: usize,
    name: &str,
    o: &Overrides,
) -> Result<RunConfig, Diagnostic> {
    if spec.kind.is_sampler() != gibbs {
        let what = if gibbs { "an energy model" } else { "an SDE model" };
        let fits = MethodKind::names_of(gibbs);
        return Err(Diagnostic::error(
            "E0403",
            format!("method `{}` does not fit {what} `{name}`", spec.kind.name()),
        )
        .with_label(spec.span, "chosen here")
        .with_help(format!("use {fits}")));
    }
    let method = runtime_method(spec, o.dt.or(run.dt), dim);
    let warmup_default = if gibbs { DEFAULT_STEPS } else { 0 };
    Ok(RunConfig {
        method,
        chains: o.chains.or(run.chains).unwrap_or(DEFAULT_CHAINS) as usize,
        warmup: o.warmup.or(run.warmup).unwrap_or(warmup_default),
        steps: o.steps.or(run.steps).unwrap_or(DEFAULT_STEPS),
        thin: o.thin.or(run.thin).unwrap_or(1),
        seed: o.seed.or(run.seed).unwrap_or(DEFAULT_SEED),
        temperature: o.temperature.or(run.temperature).unwrap_or(1.0),
        t0: o.t0.or(run.t0).unwrap_or(0.0),
        stop_all_on_nonfinite: o.stop_all_on_nonfinite,
        init_draws: Vec::new(),
    })
}

/// The initial state unless the command line sets one: the run block's `init`,
/// else the state's declared value, else zeros.
pub fn default_state(model: &Model) -> Vec<f64> {
    let offsets = model.state_offsets();
    let mut x = vec![0.0; model.state_size()];
    for (k, s) in model.states.iter().enumerate() {
        let from_run = model
            .run
            .init
            .iter()
            .find(|(id, _)| id.0 as usize == k)
            .map(|(_, v)| v);
        if let Some(v) = from_run.or(s.init.as_ref()) {
            let off = offsets.get(k).copied().unwrap_or(0);
            for (dst, src) in x.iter_mut().skip(off).zip(v) {
                *dst = *src;
            }
        }
    }
    x
}
