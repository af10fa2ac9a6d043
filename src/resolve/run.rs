//! The `run` block: settings, initial values and the integration method.
//!
//! Values are constants (they may use parameters). Sampler methods (ula, mala,
//! baoab) fit energy models, SDE methods (euler_maruyama, milstein) fit models
//! with SDEs; anything else is E0403.

use super::cx::Checker;
use super::params::Const;
use super::scope::{duplicate, with_suggestions};
use crate::diagnostic::Diagnostic;
use crate::model::{MethodKind, MethodSpec, RunSettings, State, StateId};
use crate::source::Span;
use crate::syntax::ast::{self, CallArg, ExprKind, RunItem};
use std::collections::HashMap;

/// Every setting a run block accepts.
pub(super) const SETTINGS: &[&str] = &[
    "method",
    "chains",
    "steps",
    "warmup",
    "thin",
    "seed",
    "temperature",
    "dt",
    "t0",
    "t_end",
    "save_at",
    "save_every",
    "record",
];

/// Arguments of SDE schemes with optional adaptive stepping (a tolerance turns it on).
const ADAPTIVE_ARGS: &[&str] = &["dt", "abstol", "reltol", "dt_min", "dt_max"];

const METHODS: &[(&str, MethodKind, &[&str])] = &[
    ("ula", MethodKind::Ula, &["step"]),
    ("mala", MethodKind::Mala, &["step"]),
    ("baoab", MethodKind::Baoab, &["step", "friction", "mass"]),
    ("euler_maruyama", MethodKind::EulerMaruyama, ADAPTIVE_ARGS),
    ("milstein", MethodKind::Milstein, ADAPTIVE_ARGS),
    ("heun", MethodKind::Heun, ADAPTIVE_ARGS),
    ("sra1", MethodKind::Sra1, &["dt"]),
    ("sriw1", MethodKind::Sriw1, &["dt"]),
];

/// The SDE methods, for messages (`euler_maruyama, …`).
pub const SDE_METHODS: &str = "euler_maruyama, milstein, heun, sra1 or sriw1";

/// E0402 for a setting value.
fn bad_value(what: &str, need: &str, span: Span) -> Diagnostic {
    Diagnostic::error("E0402", format!("bad value for `{what}`: {need}")).with_label(span, "this value")
}

impl<'m> Checker<'m> {
    /// Checks the run blocks' items against the model's states.
    pub(super) fn run_settings(
        &mut self,
        items: &[&'m RunItem],
        states: &[State],
        is_gibbs: bool,
    ) -> RunSettings {
        let mut run = RunSettings::default();
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for item in items {
            match item {
                RunItem::Setting { name, value, .. } => {
                    if !SETTINGS.contains(&name.name.as_str()) {
                        let d = with_suggestions(
                            Diagnostic::error("E0401", format!("unknown run setting `{}`", name.name))
                                .with_label(name.span, "not a run setting")
                                .with_note(format!("settings: {}", SETTINGS.join(", "))),
                            &name.name,
                            SETTINGS.iter().copied(),
                        );
                        self.report(d);
                        continue;
                    }
                    if let Some(first) = seen.insert(&name.name, name.span) {
                        self.report(duplicate(&name.name, "run setting", first, name.span));
                        continue;
                    }
                    self.setting(&mut run, name, value, is_gibbs, states);
                }
                RunItem::Init { name, value, .. } => self.run_init(&mut run, states, name, value),
            }
        }
        run
    }

    fn setting(
        &mut self,
        run: &mut RunSettings,
        name: &ast::Ident,
        value: &'m ast::Expr,
        is_gibbs: bool,
        states: &[State],
    ) {
        let n = name.name.as_str();
        match n {
            "method" => {
                if let Some(m) = self.method_spec(value) {
                    if self.method_fits(&m, is_gibbs) {
                        run.method = Some(m);
                    }
                }
            }
            "temperature" | "dt" => {
                let x = self.real_setting(n, value).filter(|x| {
                    let ok = *x > 0.0;
                    if !ok {
                        self.report(bad_value(n, &format!("must be positive, found {x}"), value.span));
                    }
                    ok
                });
                if n == "dt" {
                    run.dt = x;
                } else {
                    run.temperature = x;
                }
            }
            "t0" => run.t0 = self.real_setting(n, value),
            "t_end" | "save_every" | "save_at" | "record" if is_gibbs => {
                self.report(
                    bad_value(n, "it applies to models with SDEs", value.span)
                        .with_note("samplers record every `thin`-th step of every chain"),
                );
            }
            "t_end" => run.t_end = self.real_setting(n, value),
            "save_every" => run.save_every = self.positive_setting(n, value),
            "save_at" => run.save_at = self.times_setting(n, value),
            "record" => run.record = self.record_setting(value, states),
            _ => {
                let min = if matches!(n, "chains" | "steps" | "thin") {
                    1
                } else {
                    0
                };
                let v = self.int_setting(n, value, min);
                match n {
                    "chains" => run.chains = v,
                    "steps" => run.steps = v,
                    "warmup" => run.warmup = v,
                    "thin" => run.thin = v,
                    _ => run.seed = v,
                }
            }
        }
    }

    pub(super) fn real_setting(&mut self, what: &str, e: &'m ast::Expr) -> Option<f64> {
        match self.constant(e)? {
            Const::Int(i) => Some(i as f64),
            Const::Real(x) => Some(x),
            Const::Vector(v) => {
                self.report(bad_value(
                    what,
                    &format!("expected a number, found real[{}]", v.len()),
                    e.span,
                ));
                None
            }
        }
    }

    fn int_setting(&mut self, what: &str, e: &'m ast::Expr, min: i64) -> Option<u64> {
        let need = if min == 0 {
            "a non-negative integer"
        } else {
            "a positive integer"
        };
        match self.constant(e)? {
            Const::Int(i) if i >= min => u64::try_from(i).ok(),
            Const::Int(i) => {
                self.report(bad_value(what, &format!("must be {need}, found {i}"), e.span));
                None
            }
            Const::Real(x) => {
                self.report(bad_value(
                    what,
                    &format!("must be {need}, found the real number {x}"),
                    e.span,
                ));
                None
            }
            Const::Vector(v) => {
                self.report(bad_value(
                    what,
                    &format!("must be {need}, found real[{}]", v.len()),
                    e.span,
                ));
                None
            }
        }
    }

    fn run_init(&mut self, run: &mut RunSettings, states: &[State], name: &ast::Ident, value: &'m ast::Expr) {
        let Some(k) = states.iter().position(|s| s.name == name.name) else {
            let d = with_suggestions(
                Diagnostic::error("E0101", format!("`init` of unknown state `{}`", name.name))
                    .with_label(name.span, "no state with this name"),
                &name.name,
                states.iter().map(|s| s.name.as_str()),
            );
            self.report(d);
            return;
        };
        let id = StateId(k as u32);
        if run.init.iter().any(|(s, _)| *s == id) {
            self.report(
                Diagnostic::error("E0102", format!("`init {}` is given more than once", name.name))
                    .with_label(name.span, "given again here"),
            );
            return;
        }
        let len = states.get(k).and_then(|s| s.len);
        if let Some(v) = self.state_value(&format!("the initial value of `{}`", name.name), len, value) {
            run.init.push((id, v));
        }
    }

    /// Checks a method such as `mala(step = 0.1)` or `baoab`.
    pub(super) fn method_spec(&mut self, e: &'m ast::Expr) -> Option<MethodSpec> {
        let (name, args): (&ast::Ident, &'m [CallArg]) = match &e.kind {
            ExprKind::Call { func, args } => (func, args),
            ExprKind::Name(n) => {
                let (kind, allowed) = self.method_kind(n, e.span)?;
                return Some(self.method_defaults(kind, allowed, Vec::new(), e.span));
            }
            _ => {
                self.report(
                    Diagnostic::error("E0404", "expected an integration method")
                        .with_label(e.span, "not a method")
                        .with_help("write e.g. `method = mala(step = 0.1)`"),
                );
                return None;
            }
        };
        let (kind, allowed) = self.method_kind(&name.name, name.span)?;
        let mut out: Vec<(String, f64)> = Vec::new();
        let mut ok = true;
        for (k, arg) in args.iter().enumerate() {
            let (key, span, value) = match arg {
                CallArg::Positional(v) => match allowed.get(k) {
                    Some(key) => (*key, v.span, v),
                    None => {
                        let d = Diagnostic::error(
                            "E0105",
                            format!("`{}` takes at most {} argument(s)", name.name, allowed.len()),
                        )
                        .with_label(v.span, "extra argument");
                        self.report(d);
                        ok = false;
                        continue;
                    }
                },
                CallArg::Named(n, v) => match allowed.iter().find(|a| **a == n.name) {
                    Some(key) => (*key, n.span, v),
                    None => {
                        let d = with_suggestions(
                            Diagnostic::error(
                                "E0401",
                                format!("`{}` has no argument `{}`", name.name, n.name),
                            )
                            .with_label(n.span, "unknown argument")
                            .with_note(format!(
                                "`{}` takes: {}",
                                name.name,
                                allowed.join(", ")
                            )),
                            &n.name,
                            allowed.iter().copied(),
                        );
                        self.report(d);
                        ok = false;
                        continue;
                    }
                },
                CallArg::Binder { span, .. } => {
                    self.report(bad_value(
                        &name.name,
                        "an index range is not a method argument",
                        *span,
                    ));
                    ok = false;
                    continue;
                }
            };
            if out.iter().any(|(k, _)| k == key) {
                self.report(
                    Diagnostic::error("E0102", format!("argument `{key}` is given more than once"))
                        .with_label(span, "given again here"),
                );
                ok = false;
                continue;
            }
            match self.real_setting(key, value) {
                Some(x) if x > 0.0 => out.push((key.to_string(), x)),
                Some(x) => {
                    self.report(bad_value(
                        key,
                        &format!("must be positive, found {x}"),
                        value.span,
                    ));
                    ok = false;
                }
                None => ok = false,
            }
        }
        ok.then(|| self.method_defaults(kind, allowed, out, e.span))
    }

    fn method_kind(&mut self, name: &str, span: Span) -> Option<(MethodKind, &'static [&'static str])> {
        if let Some((_, kind, allowed)) = METHODS.iter().find(|(n, _, _)| *n == name) {
            return Some((*kind, allowed));
        }
        let d = with_suggestions(
            Diagnostic::error("E0404", format!("unknown method `{name}`"))
                .with_label(span, "not an integration method")
                .with_note(format!(
                    "methods: {}",
                    METHODS.iter().map(|m| m.0).collect::<Vec<_>>().join(", ")
                )),
            name,
            METHODS.iter().map(|m| m.0),
        );
        self.report(d);
        None
    }

    /// Fills baoab's documented defaults (friction = 1, mass = 1).
    fn method_defaults(
        &mut self,
        kind: MethodKind,
        allowed: &[&str],
        mut args: Vec<(String, f64)>,
        span: Span,
    ) -> MethodSpec {
        if kind == MethodKind::Baoab {
            for key in allowed.iter().filter(|k| **k != "step") {
                if !args.iter().any(|(k, _)| k == key) {
                    args.push((key.to_string(), 1.0));
                }
            }
        }
        let adaptive = args.iter().any(|(k, _)| k == "abstol" || k == "reltol");
        if let Some((k, _)) = args.iter().find(|(k, _)| k == "dt_min" || k == "dt_max") {
            if !adaptive {
                self.report(
                    bad_value(k, "it bounds adaptive steps; give `abstol` or `reltol` too", span)
                        .with_help(format!("e.g. `{}(abstol = 1e-3, {k} = …)`", kind.name())),
                );
            }
        }
        MethodSpec { kind, args, span }
    }

    /// E0403 unless samplers meet energy models and SDE methods meet SDE models.
    pub(super) fn method_fits(&mut self, m: &MethodSpec, is_gibbs: bool) -> bool {
        if let Some(d) = method_mismatch(m, is_gibbs) {
            self.report(d);
            return false;
        }
        true
    }
}

/// The E0403 diagnostic when `m` does not fit a model of that kind.
pub(super) fn method_mismatch(m: &MethodSpec, is_gibbs: bool) -> Option<Diagnostic> {
    if m.kind.is_sampler() == is_gibbs {
        return None;
    }
    let (what, fits) = if is_gibbs {
        ("an energy model (no SDEs)", "ula, mala or baoab")
    } else {
        ("a model with SDEs", SDE_METHODS)
    };
    let kind = if m.kind.is_sampler() {
        "a sampler of exp(-U)"
    } else {
        "an SDE integrator"
    };
    Some(
        Diagnostic::error("E0403", format!("method `{}` does not fit {what}", m.kind.name()))
            .with_label(m.span, format!("`{}` is {kind}", m.kind.name()))
            .with_help(format!("use {fits}")),
    )
}
