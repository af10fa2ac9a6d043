//! The `run` block: settings, initial values and the integration method.
//!
//! Values are constants (they may use parameters). The method is checked by
//! [`super::method`].

use super::cx::Checker;
use super::method::{bad_value, mass_mismatch};
use super::params::Const;
use super::scope::{duplicate, with_suggestions};
use crate::diagnostic::Diagnostic;
use crate::model::{InitLaw, OutputFormat, RunSettings, State, StateId};
use crate::source::Span;
use crate::syntax::ast::{self, RunItem};
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
    "blocks",
    "output",
];

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
                RunItem::Setting { name, .. } | RunItem::Text { name, .. } => {
                    if !SETTINGS.contains(&name.name.as_str()) {
                        self.report(unknown_setting(name));
                        continue;
                    }
                    if let Some(first) = seen.insert(&name.name, name.span) {
                        self.report(duplicate(&name.name, "run setting", first, name.span));
                        continue;
                    }
                    match item {
                        RunItem::Setting { value, .. } => {
                            self.setting(&mut run, name, value, is_gibbs, states)
                        }
                        RunItem::Text { value, .. } => self.text_setting(&mut run, name, value),
                        _ => {}
                    }
                }
                RunItem::Init { name, value, .. } => self.run_init(&mut run, states, name, value),
                RunItem::InitDraw { name, law, .. } => self.run_init_draw(&mut run, states, name, law),
                // read before checking, by the front door (see `crate::pipeline`)
                RunItem::Data { .. } => {}
            }
        }
        let n = states.iter().map(State::size).sum();
        if let Some(d) = run.method.as_ref().and_then(|m| mass_mismatch(m, n)) {
            self.report(d);
            run.method = None;
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
            "output" => {
                let words: Vec<&str> = OutputFormat::NAMES.iter().map(|(w, _)| *w).collect();
                let formats = words.iter().map(|w| format!("\"{w}\"")).collect::<Vec<_>>();
                self.report(
                    bad_value(n, "it is a format name in quotes", value.span)
                        .with_note(format!("formats: {}", formats.join(", "))),
                );
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
                let min = if matches!(n, "chains" | "steps" | "thin" | "blocks") {
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
                    "blocks" => run.blocks = v,
                    _ => run.seed = v,
                }
            }
        }
    }

    /// `output = "csv" | "cmdstan" | "npy"` (E0402 for another word, or text for another setting).
    fn text_setting(&mut self, run: &mut RunSettings, name: &ast::Ident, (text, span): &(String, Span)) {
        let words: Vec<&str> = OutputFormat::NAMES.iter().map(|(w, _)| *w).collect();
        if name.name != "output" {
            self.report(
                Diagnostic::error(
                    "E0402",
                    format!("`{}` takes a number or an expression", name.name),
                )
                .with_label(*span, "not a text setting"),
            );
            return;
        }
        match OutputFormat::NAMES.iter().find(|(w, _)| w == text) {
            Some((_, f)) => run.output = Some(*f),
            None => {
                let d = with_suggestions(
                    Diagnostic::error("E0402", format!("unknown output format \"{text}\""))
                        .with_label(*span, "not a format")
                        .with_note(format!("formats: {}", words.join(", "))),
                    text,
                    words.iter().copied(),
                );
                self.report(d);
            }
        }
    }

    pub(super) fn real_setting(&mut self, what: &str, e: &'m ast::Expr) -> Option<f64> {
        match self.constant(e)? {
            Const::Int(i) => Some(i as f64),
            Const::Real(x) => Some(x),
            other => {
                self.report(bad_value(
                    what,
                    &format!("expected a number, found {}", other.shape()),
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
            other => {
                self.report(bad_value(
                    what,
                    &format!("must be {need}, found {}", other.shape()),
                    e.span,
                ));
                None
            }
        }
    }

    /// `init x ~ normal(mean, sd)` or `init x ~ uniform(lo, hi)`.
    fn run_init_draw(
        &mut self,
        run: &mut RunSettings,
        states: &[State],
        name: &ast::Ident,
        law: &'m ast::Expr,
    ) {
        let Some(id) = self.init_target(run, states, name) else {
            return;
        };
        let laws = "`normal(mean, sd)` or `uniform(lo, hi)`";
        let ast::ExprKind::Call { func, args } = &law.kind else {
            self.report(bad_value("the initial law", &format!("must be {laws}"), law.span));
            return;
        };
        let values: Vec<Option<f64>> = args
            .iter()
            .map(|a| match a {
                ast::CallArg::Positional(e) => self.number_const(e),
                _ => None,
            })
            .collect();
        if values.len() == 2 && values.iter().any(Option::is_none) {
            return; // the argument's own error is reported
        }
        let pair = match values.as_slice() {
            [Some(a), Some(b)] => Some((*a, *b)),
            _ => None,
        };
        let checked = match (func.name.as_str(), pair) {
            ("normal", Some((mean, sd))) if sd > 0.0 && sd.is_finite() && mean.is_finite() => {
                Ok(InitLaw::Normal { mean, sd })
            }
            ("normal", Some(_)) => Err("`normal(mean, sd)` needs a finite mean and sd > 0"),
            ("uniform", Some((lo, hi))) if lo < hi && lo.is_finite() && hi.is_finite() => {
                Ok(InitLaw::Uniform { lo, hi })
            }
            ("uniform", Some(_)) => Err("`uniform(lo, hi)` needs finite lo < hi"),
            ("normal" | "uniform", None) => Err("the law takes two numbers"),
            _ => Err("must be `normal(mean, sd)` or `uniform(lo, hi)`"),
        };
        match checked {
            Ok(l) => run.init_draws.push((id, l)),
            Err(why) => self.report(bad_value("the initial law", why, law.span)),
        }
    }

    /// The state an `init` names, unless it is unknown or already initialised.
    fn init_target(&mut self, run: &RunSettings, states: &[State], name: &ast::Ident) -> Option<StateId> {
        let Some(k) = states.iter().position(|s| s.name == name.name) else {
            let d = with_suggestions(
                Diagnostic::error("E0101", format!("`init` of unknown state `{}`", name.name))
                    .with_label(name.span, "no state with this name"),
                &name.name,
                states.iter().map(|s| s.name.as_str()),
            );
            self.report(d);
            return None;
        };
        let id = StateId(k as u32);
        if run.init.iter().any(|(s, _)| *s == id) || run.init_draws.iter().any(|(s, _)| *s == id) {
            self.report(
                Diagnostic::error("E0102", format!("`init {}` is given more than once", name.name))
                    .with_label(name.span, "given again here"),
            );
            return None;
        }
        Some(id)
    }

    fn run_init(&mut self, run: &mut RunSettings, states: &[State], name: &ast::Ident, value: &'m ast::Expr) {
        let Some(id) = self.init_target(run, states, name) else {
            return;
        };
        let k = id.0 as usize;
        let shape = states.get(k).map_or((None, None), |s| (s.len, s.cols));
        if let Some(v) = self.state_value(&format!("the initial value of `{}`", name.name), shape, value) {
            run.init.push((id, v));
        }
    }
}

/// E0401: `name` is not a run setting.
fn unknown_setting(name: &ast::Ident) -> Diagnostic {
    with_suggestions(
        Diagnostic::error("E0401", format!("unknown run setting `{}`", name.name))
            .with_label(name.span, "not a run setting")
            .with_note(format!("settings: {}", SETTINGS.join(", "))),
        &name.name,
        SETTINGS.iter().copied(),
    )
}
