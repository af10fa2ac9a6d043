//! Integration methods: `mala(step = 0.1)`, `nuts(max_depth = 8)`, a bare `baoab`.
//!
//! Arguments are checked against the method catalogue ([`crate::model::signature`]): names
//! (unknown ones get a did-you-mean), kinds and ranges; defaults are filled in. Sampler methods
//! fit energy models and SDE methods fit models with SDEs; anything else is E0403.

use super::cx::Checker;
use super::params::Const;
use super::scope::with_suggestions;
use super::val::Val;
use crate::diagnostic::Diagnostic;
use crate::model::{
    signature, ArgKind, ArgSig, MethodArg, MethodKind, MethodSpec, ScheduleKind, ScheduleSpec,
};
use crate::model::{Expr, Index, NoiseKind, Sde};
use crate::source::Span;
use crate::syntax::ast::{self, CallArg, ExprKind};
use std::rc::Rc;

/// E0402 for a setting or argument value.
pub(super) fn bad_value(what: &str, need: &str, span: Span) -> Diagnostic {
    Diagnostic::error("E0402", format!("bad value for `{what}`: {need}")).with_label(span, "this value")
}

impl<'m> Checker<'m> {
    /// Checks a method such as `mala(step = 0.1)` or `baoab`.
    pub(super) fn method_spec(&mut self, e: &'m ast::Expr) -> Option<MethodSpec> {
        let (name, args): (&ast::Ident, &'m [CallArg]) = match &e.kind {
            ExprKind::Call { func, args } => (func, args),
            ExprKind::Name(n) => {
                let kind = self.method_kind(n, e.span)?;
                return Some(MethodSpec::with_defaults(kind, e.span));
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
        let kind = self.method_kind(&name.name, name.span)?;
        let sigs = signature(kind);
        let mut out: Vec<(String, MethodArg)> = Vec::new();
        let mut ok = true;
        for (k, arg) in args.iter().enumerate() {
            let Some((sig, span, value)) = self.method_arg(&name.name, sigs, k, arg) else {
                ok = false;
                continue;
            };
            if out.iter().any(|(n, _)| n == sig.name) {
                self.report(
                    Diagnostic::error(
                        "E0102",
                        format!("argument `{}` is given more than once", sig.name),
                    )
                    .with_label(span, "given again here"),
                );
                ok = false;
                continue;
            }
            match self.arg_value(sig, value) {
                Some(v) => out.push((sig.name.to_string(), v)),
                None => ok = false,
            }
        }
        ok &= self.step_bounds_need_tolerance(&name.name, args, &out);
        let mut spec = MethodSpec {
            kind,
            args: out,
            span: e.span,
        };
        spec.fill_defaults();
        ok &= self.table_schedule(&mut spec, sigs, args);
        ok.then_some(spec)
    }

    /// Evaluates a `schedule` written as an expression for every stage k =
    /// 0..stages, with `stage` = k and `t` = k/(stages − 1) (the fraction of the
    /// annealing done), into the table the sampler follows.
    fn table_schedule(&mut self, spec: &mut MethodSpec, sigs: &[ArgSig], args: &'m [CallArg]) -> bool {
        if !matches!(spec.value("schedule"), Some(MethodArg::Vector(v)) if v.is_empty()) {
            return true;
        }
        let position = sigs.iter().position(|s| s.name == "schedule");
        let Some(expr) = args.iter().enumerate().find_map(|(k, a)| match a {
            CallArg::Named(n, v) if n.name == "schedule" => Some(v),
            CallArg::Positional(v) if Some(k) == position => Some(v),
            _ => None,
        }) else {
            return false;
        };
        let stages = spec.int("stages").unwrap_or(1).max(1);
        let mut values = Vec::new();
        for k in 0..stages {
            let frac = if stages > 1 {
                k as f64 / (stages - 1) as f64
            } else {
                0.0
            };
            let saved = self.locals.len();
            self.locals.push(("stage", Val::Int(Index::constant(k as i64))));
            self.locals.push(("t", Val::Real(Rc::new(Expr::Const(frac)))));
            let value = self.number_arg("schedule", expr);
            self.locals.truncate(saved);
            match value {
                Some(x) if x > 0.0 && x.is_finite() => values.push(x),
                Some(x) => {
                    let need = format!("the temperature factor must be positive; at stage {k} it is {x}");
                    self.report(bad_value("schedule", &need, expr.span));
                    return false;
                }
                None => return false,
            }
        }
        for (name, v) in spec.args.iter_mut() {
            if name == "schedule" {
                *v = MethodArg::Vector(std::mem::take(&mut values));
            }
        }
        true
    }

    /// `dt_min`/`dt_max` bound adaptive steps, which a tolerance turns on: without
    /// one they would be silently ignored, so that is an error.
    fn step_bounds_need_tolerance(
        &mut self,
        method: &str,
        args: &'m [CallArg],
        given: &[(String, MethodArg)],
    ) -> bool {
        let has = |n: &str| given.iter().any(|(k, _)| k == n);
        if has("abstol") || has("reltol") {
            return true;
        }
        let mut ok = true;
        for arg in args {
            if let CallArg::Named(n, value) = arg {
                if n.name == "dt_min" || n.name == "dt_max" {
                    self.report(
                        bad_value(
                            &n.name,
                            "it bounds adaptive steps; give `abstol` or `reltol` too",
                            value.span,
                        )
                        .with_help(format!("e.g. `{method}(abstol = 1e-3, {} = …)`", n.name)),
                    );
                    ok = false;
                }
            }
        }
        ok
    }

    /// The signature entry argument number `k` refers to, its name's span and its value.
    fn method_arg(
        &mut self,
        method: &str,
        sigs: &'static [ArgSig],
        k: usize,
        arg: &'m CallArg,
    ) -> Option<(&'static ArgSig, Span, &'m ast::Expr)> {
        match arg {
            CallArg::Positional(v) => match sigs.get(k) {
                Some(sig) => Some((sig, v.span, v)),
                None => {
                    let d = Diagnostic::error(
                        "E0105",
                        format!("`{method}` takes at most {} argument(s)", sigs.len()),
                    )
                    .with_label(v.span, "extra argument");
                    self.report(d);
                    None
                }
            },
            CallArg::Named(n, v) => match sigs.iter().find(|s| s.name == n.name) {
                Some(sig) => Some((sig, n.span, v)),
                None => {
                    let names: Vec<&str> = sigs.iter().map(|s| s.name).collect();
                    let d = with_suggestions(
                        Diagnostic::error("E0401", format!("`{method}` has no argument `{}`", n.name))
                            .with_label(n.span, "unknown argument")
                            .with_note(format!("`{method}` takes: {}", names.join(", "))),
                        &n.name,
                        names.iter().copied(),
                    );
                    self.report(d);
                    None
                }
            },
            CallArg::Binder { span, .. } | CallArg::Each { span, .. } => {
                self.report(bad_value(
                    method,
                    "an index range is not a method argument",
                    *span,
                ));
                None
            }
        }
    }

    /// Checks one argument's value against its kind.
    fn arg_value(&mut self, sig: &ArgSig, value: &'m ast::Expr) -> Option<MethodArg> {
        let key = sig.name;
        match sig.kind {
            ArgKind::Bool => match value.kind {
                ExprKind::Bool(b) => Some(MethodArg::Bool(b)),
                _ => {
                    self.report(bad_value(key, "expected `true` or `false`", value.span));
                    None
                }
            },
            ArgKind::Schedule if !is_schedule_call(value) => {
                // A user expression of the stage: tabled per stage once `stages` is known.
                Some(MethodArg::Vector(Vec::new()))
            }
            ArgKind::Schedule => self.schedule(key, value).map(MethodArg::Schedule),
            ArgKind::Count => self.count_arg(key, value).map(MethodArg::Int),
            ArgKind::Mass => self.mass_arg(key, value),
            ArgKind::Positive | ArgKind::NonNegative | ArgKind::Fraction => {
                let x = self.number_arg(key, value)?;
                let (fits, need) = match sig.kind {
                    ArgKind::Positive => (x > 0.0, "must be positive"),
                    ArgKind::NonNegative => (x >= 0.0, "must be ≥ 0"),
                    _ => (x > 0.0 && x < 1.0, "must lie strictly between 0 and 1"),
                };
                if fits {
                    Some(MethodArg::Real(x))
                } else {
                    self.report(bad_value(key, &format!("{need}, found {x}"), value.span));
                    None
                }
            }
        }
    }

    fn number_arg(&mut self, key: &str, value: &'m ast::Expr) -> Option<f64> {
        match self.constant(value)? {
            Const::Int(i) => Some(i as f64),
            Const::Real(x) => Some(x),
            other => {
                let need = format!("expected a number, found {}", other.shape());
                self.report(bad_value(key, &need, value.span));
                None
            }
        }
    }

    fn count_arg(&mut self, key: &str, value: &'m ast::Expr) -> Option<u64> {
        match self.constant(value)? {
            Const::Int(i) if i >= 1 => u64::try_from(i).ok(),
            other => {
                let found = match other {
                    Const::Int(i) => i.to_string(),
                    Const::Real(x) => format!("the real number {x}"),
                    other => other.shape(),
                };
                let need = format!("must be a positive integer, found {found}");
                self.report(bad_value(key, &need, value.span));
                None
            }
        }
    }

    /// A mass matrix: a positive number, or a vector (diagonal entries must be positive; a dense
    /// matrix is checked for positive definiteness when the run starts).
    fn mass_arg(&mut self, key: &str, value: &'m ast::Expr) -> Option<MethodArg> {
        let (arg, ok) = match self.constant(value)? {
            Const::Int(i) => (MethodArg::Real(i as f64), i > 0),
            Const::Real(x) => (MethodArg::Real(x), x > 0.0),
            Const::Vector(v) | Const::Matrix(_, _, v) => {
                let ok = v.iter().all(|x| x.is_finite());
                (MethodArg::Vector(v), ok)
            }
        };
        if !ok {
            let need = "must be a positive number or a vector of finite numbers";
            self.report(bad_value(key, need, value.span));
            return None;
        }
        Some(arg)
    }

    /// `geometric(from, to)` or `linear(from, to)` with positive end points.
    fn schedule(&mut self, key: &str, value: &'m ast::Expr) -> Option<ScheduleSpec> {
        let need = "expected `geometric(from, to)` or `linear(from, to)`";
        let ExprKind::Call { func, args } = &value.kind else {
            self.report(bad_value(key, need, value.span));
            return None;
        };
        let kind = match func.name.as_str() {
            "geometric" => ScheduleKind::Geometric,
            "linear" => ScheduleKind::Linear,
            other => {
                let d = with_suggestions(
                    bad_value(key, need, func.span).with_note(format!("`{other}` is not a schedule")),
                    other,
                    ["geometric", "linear"],
                );
                self.report(d);
                return None;
            }
        };
        let mut ends = Vec::new();
        for a in args {
            let CallArg::Positional(e) = a else {
                self.report(bad_value(
                    key,
                    "schedule end points are positional numbers",
                    value.span,
                ));
                return None;
            };
            match self.number_arg(key, e)? {
                x if x > 0.0 => ends.push(x),
                x => {
                    let need = format!("schedule end points must be positive, found {x}");
                    self.report(bad_value(key, &need, e.span));
                    return None;
                }
            }
        }
        let &[from, to] = ends.as_slice() else {
            self.report(bad_value(key, need, value.span));
            return None;
        };
        Some(ScheduleSpec { kind, from, to })
    }

    fn method_kind(&mut self, name: &str, span: Span) -> Option<MethodKind> {
        if let Some(kind) = MethodKind::from_name(name) {
            return Some(kind);
        }
        let names: Vec<&str> = MethodKind::all().iter().map(|k| k.name()).collect();
        let d = with_suggestions(
            Diagnostic::error("E0404", format!("unknown method `{name}`"))
                .with_label(span, "not an integration method")
                .with_note(format!("methods: {}", names.join(", "))),
            name,
            names.iter().copied(),
        );
        self.report(d);
        None
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
    let what = if is_gibbs {
        "an energy model (no SDEs)"
    } else {
        "a model with SDEs"
    };
    let kind = if m.kind.is_sampler() {
        "a sampler of exp(-U)"
    } else {
        "an SDE integrator"
    };
    Some(
        Diagnostic::error("E0403", format!("method `{}` does not fit {what}", m.kind.name()))
            .with_label(m.span, format!("`{}` is {kind}", m.kind.name()))
            .with_help(format!("use one of {}", MethodKind::names_of(is_gibbs))),
    )
}

/// E0403 when `m` is a scheme for diagonal noise (Milstein, SRIW1, or adaptive steps on
/// Milstein) and some equation's noise is not diagonal: shared or declared noise, or a
/// matrix per particle.
pub(super) fn noise_mismatch(m: &MethodSpec, sdes: &[Sde]) -> Option<Diagnostic> {
    if !matches!(m.kind, MethodKind::Milstein | MethodKind::Sriw1) {
        return None;
    }
    let eq = sdes
        .iter()
        .find(|s| !matches!(s.noise, NoiseKind::None | NoiseKind::Own))?;
    let what = match eq.noise {
        NoiseKind::RowMatrix(_) => "this equation's noise is a matrix per particle",
        _ => "this equation's noise is not diagonal",
    };
    let name = m.kind.name();
    Some(
        Diagnostic::error("E0403", format!("method `{name}` needs diagonal noise"))
            .with_label(m.span, format!("`{name}` takes one Wiener process per component"))
            .with_label(eq.span, what)
            .with_help("euler_maruyama and heun take any noise"),
    )
}

/// E0402 if a `mass` vector's length fits neither a diagonal (n) nor a dense (n²) matrix for a
/// state of `n` components.
pub(super) fn mass_mismatch(m: &MethodSpec, n: usize) -> Option<Diagnostic> {
    let len = match m.value("mass")? {
        MethodArg::Vector(v) => v.len(),
        _ => return None,
    };
    if len == n || Some(len) == n.checked_mul(n) {
        return None;
    }
    let need = format!(
        "a mass vector needs {n} entries (diagonal) or {} (dense, by rows) for this model's {n} state \
         components, found {len}",
        n.saturating_mul(n)
    );
    Some(bad_value("mass", &need, m.span))
}

/// Whether `value` is written `geometric(…)` or `linear(…)`.
fn is_schedule_call(value: &ast::Expr) -> bool {
    matches!(&value.kind, ExprKind::Call { func, .. } if func.name == "geometric" || func.name == "linear")
}
