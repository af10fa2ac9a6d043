//! Run settings: the model's `run { }` block, overridden by command-line flags,
//! resolved into the runtime's configuration and the initial state.

use crate::diagnostic::Diagnostic;
use crate::model::{MethodKind, MethodSpec, Model};
use crate::runtime::{AdaptiveBase, Method, RunConfig, Save, SdeOptions};
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
}

/// Default run lengths when neither the model nor the command line sets them.
const DEFAULT_STEPS: u64 = 1000;
const DEFAULT_CHAINS: u64 = 4;
const DEFAULT_SEED: u64 = 1;

fn default_method(model: &Model) -> MethodSpec {
    let (kind, args) = if model.is_gibbs() {
        (MethodKind::Mala, vec![("step".to_string(), 0.01)])
    } else {
        (MethodKind::EulerMaruyama, vec![])
    };
    MethodSpec {
        kind,
        args,
        span: model.span,
    }
}

/// Maps a checked method to the runtime's, filling argument defaults.
pub fn runtime_method(spec: &MethodSpec, dt: Option<f64>) -> Method {
    let step = |default: f64| spec.arg("step").unwrap_or(default);
    let dt = spec.arg("dt").or(dt).unwrap_or(0.01);
    match spec.kind {
        MethodKind::Ula => Method::Ula { step: step(0.01) },
        MethodKind::Mala => Method::Mala { step: step(0.01) },
        MethodKind::Baoab => Method::Baoab {
            step: step(0.05),
            friction: spec.arg("friction").unwrap_or(1.0),
            mass: spec.arg("mass").unwrap_or(1.0),
        },
        MethodKind::EulerMaruyama => sde(
            spec,
            AdaptiveBase::EulerMaruyama,
            dt,
            Method::EulerMaruyama { dt },
        ),
        MethodKind::Milstein => sde(spec, AdaptiveBase::Milstein, dt, Method::Milstein { dt }),
        MethodKind::Heun => sde(spec, AdaptiveBase::Heun, dt, Method::Heun { dt }),
        MethodKind::Sra1 => Method::Sra1 { dt },
        MethodKind::Sriw1 => Method::Sriw1 { dt },
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
        dt_min: spec
            .arg("dt_min")
            .unwrap_or(crate::runtime::config::DEFAULT_DT_MIN),
        dt_max: spec.arg("dt_max").unwrap_or(f64::INFINITY),
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
pub fn resolve(model: &Model, o: &Overrides, sources: &mut SourceMap) -> Result<Resolved, Vec<Diagnostic>> {
    let run = &model.run;
    let spec = match &o.method {
        Some(text) => crate::pipeline::parse_method(sources, text)?,
        None => run.method.clone().unwrap_or_else(|| default_method(model)),
    };
    if spec.kind.is_sampler() != model.is_gibbs() {
        let (what, fits) = if model.is_gibbs() {
            ("an energy model", "ula, mala or baoab")
        } else {
            ("an SDE model", crate::resolve::SDE_METHODS)
        };
        return Err(vec![Diagnostic::error(
            "E0403",
            format!(
                "method `{}` does not fit {what} `{}`",
                spec.kind.name(),
                model.name
            ),
        )
        .with_label(spec.span, "chosen here")
        .with_help(format!("use {fits}"))]);
    }
    let method = runtime_method(&spec, o.dt.or(run.dt));
    let warmup_default = if model.is_gibbs() { DEFAULT_STEPS } else { 0 };
    let config = RunConfig {
        method,
        chains: o.chains.or(run.chains).unwrap_or(DEFAULT_CHAINS) as usize,
        warmup: o.warmup.or(run.warmup).unwrap_or(warmup_default),
        steps: o.steps.or(run.steps).unwrap_or(DEFAULT_STEPS),
        thin: o.thin.or(run.thin).unwrap_or(1),
        seed: o.seed.or(run.seed).unwrap_or(DEFAULT_SEED),
        temperature: o.temperature.or(run.temperature).unwrap_or(1.0),
        t0: o.t0.or(run.t0).unwrap_or(0.0),
    };
    let init = initial_state(model, &o.init, sources)?;
    let save = match (o.save_every.or(run.save_every), &run.save_at) {
        (Some(d), _) => Save::Every(d),
        (None, Some(times)) => Save::At(times.clone()),
        (None, None) => Save::Steps,
    };
    let sde = SdeOptions {
        t_end: o.t_end.or(run.t_end),
        save,
        record: run.record.clone(),
    };
    Ok(Resolved { config, init, sde })
}

/// Initial state: `--init`, else the run block's `init`, else the state's
/// declared value, else zeros.
fn initial_state(
    model: &Model,
    cli: &[String],
    sources: &mut SourceMap,
) -> Result<Vec<f64>, Vec<Diagnostic>> {
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
    for text in cli {
        let (name, values) = crate::pipeline::parse_init(sources, model, text)?;
        let Some(k) = model.states.iter().position(|s| s.name == name) else {
            continue;
        };
        let off = offsets.get(k).copied().unwrap_or(0);
        for (dst, src) in x.iter_mut().skip(off).zip(&values) {
            *dst = *src;
        }
    }
    Ok(x)
}
