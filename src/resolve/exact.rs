//! `exact` items: the known marginal law of one state component, drawn over its histogram by
//! `sde plot`. They do not enter the kernels.
//!
//! `exact x[k] ~ family(args)`: the family must exist (E0310, with close names), take as many
//! arguments as given (E0105), each a compile-time constant (E0206) with a valid value (E0312).
//! `exact x[k] = expr`: an unnormalised density in the component, checked like an energy and
//! then required to read no other state or component and not `t` (E0313). The target must be
//! a scalar state or one element of a vector state (E0311, E0203), with one law each (E0102).
//! The parameters a law reads are compile-time values (fixed in a standalone binary, whose
//! embedded law holds them).

use super::cx::{Checker, Mode};
use super::params::Const;
use super::scope::with_suggestions;
use super::val::Val;
use crate::diagnostic::Diagnostic;
use crate::model::exact::{Component, Exact, Family, Formula, FormulaError, Law};
use crate::model::{Param, StateId};
use crate::source::Span;
use crate::syntax::ast::{self, CallArg, ExactLaw, ModelItem};
use std::collections::HashMap;

impl<'m> Checker<'m> {
    /// Checks the model's `exact` items; `params` are the checked parameter values.
    pub(super) fn exact_laws(&mut self, decl: &'m ast::ModelDecl, params: &[Param]) -> Vec<Exact> {
        let mut out = Vec::new();
        let mut seen: HashMap<usize, Span> = HashMap::new();
        for item in &decl.items {
            let ModelItem::Exact(x) = item else {
                continue;
            };
            let Some((component, flat)) = self.exact_target(x) else {
                continue;
            };
            if let Some(first) = seen.get(&flat) {
                let name = self.component_name(component);
                self.report(
                    Diagnostic::error("E0102", format!("two exact laws for `{name}`"))
                        .with_label(x.span, "defined again here")
                        .with_label(*first, "first defined here"),
                );
                continue;
            }
            seen.insert(flat, x.span);
            let law = match &x.law {
                ExactLaw::Family { name, args, span } => self.exact_family(name, args, *span),
                ExactLaw::Density(e) => self.exact_density(e, component, params),
            };
            if let Some(law) = law {
                out.push(Exact {
                    component: flat,
                    law,
                    span: x.span,
                });
            }
        }
        out
    }

    /// The component an `exact` item describes, and its position in the flat state.
    fn exact_target(&mut self, x: &'m ast::ExactDecl) -> Option<(Component, usize)> {
        let name = &x.state.name;
        let Some(k) = self.states.iter().position(|s| s.name.name == *name) else {
            let what = match self.lookup_def(name) {
                Some(d) => format!("`{name}` is a {}, not a state", d.kind()),
                None => format!("no state named `{name}`"),
            };
            let states: Vec<&str> = self.states.iter().map(|s| s.name.name.as_str()).collect();
            let d = Diagnostic::error("E0311", format!("an exact law is for a state component: {what}"))
                .with_label(x.state.span, "not a state");
            self.report(with_suggestions(d, name, states));
            return None;
        };
        let offset: usize = self.states.iter().take(k).map(|s| s.len.unwrap_or(1)).sum();
        let state = StateId(k as u32);
        match (self.states.get(k).and_then(|s| s.len), &x.index) {
            (None, None) => Some((Component { state, index: None }, offset)),
            (None, Some(e)) => {
                self.report(
                    Diagnostic::error(
                        "E0311",
                        format!("`{name}` is a scalar state; it has no components"),
                    )
                    .with_label(e.span, "remove this index"),
                );
                None
            }
            (Some(len), None) => {
                self.report(
                    Diagnostic::error(
                        "E0311",
                        format!("`{name}` is real[{len}]: an exact law is for one component"),
                    )
                    .with_label(x.state.span, "name a component")
                    .with_help(format!("write `exact {name}[0] …`")),
                );
                None
            }
            (Some(len), Some(e)) => {
                let i = self.exact_index(e, name, len)?;
                Some((
                    Component {
                        state,
                        index: Some(i),
                    },
                    offset + i as usize,
                ))
            }
        }
    }

    /// A constant index in `0..len`.
    fn exact_index(&mut self, e: &'m ast::Expr, name: &str, len: usize) -> Option<i64> {
        match self.constant(e)? {
            Const::Int(i) if (0..len as i64).contains(&i) => Some(i),
            Const::Int(i) => {
                self.report(
                    Diagnostic::error("E0203", format!("index {i} is out of range for `{name}`"))
                        .with_label(e.span, format!("`{name}` is real[{len}]: indices run 0..{len}")),
                );
                None
            }
            _ => {
                self.report(
                    Diagnostic::error("E0204", "an index must be an integer")
                        .with_label(e.span, "not an integer"),
                );
                None
            }
        }
    }

    /// `~ family(args)`.
    fn exact_family(&mut self, name: &'m ast::Ident, args: &'m [CallArg], span: Span) -> Option<Law> {
        let Some(family) = Family::from_name(&name.name) else {
            let d = Diagnostic::error("E0310", format!("unknown distribution `{}`", name.name))
                .with_label(name.span, "not a distribution")
                .with_note(format!(
                    "distributions: {}",
                    Family::ALL
                        .map(|f| format!("{}({})", f.name(), f.arg_names().join(", ")))
                        .join(", ")
                ));
            self.report(with_suggestions(d, &name.name, Family::ALL.map(Family::name)));
            return None;
        };
        let wanted = family.arg_names();
        let exprs = self.family_args(family, args, span)?;
        let mut values = Vec::with_capacity(wanted.len());
        for e in exprs {
            match self.constant(e)? {
                Const::Int(i) => values.push(i as f64),
                Const::Real(v) => values.push(v),
                other => {
                    self.report(
                        Diagnostic::error(
                            "E0201",
                            format!("a distribution's argument is a number, found {}", other.shape()),
                        )
                        .with_label(e.span, format!("this is {}", other.shape())),
                    );
                    return None;
                }
            }
        }
        if let Err(why) = family.check(&values) {
            self.report(
                Diagnostic::error("E0312", format!("invalid argument of `{}`: {why}", family.name()))
                    .with_label(span, "in this distribution"),
            );
            return None;
        }
        Some(Law::Family { family, args: values })
    }

    /// The arguments' expressions in positional order (positional first, then by name).
    fn family_args(&mut self, family: Family, args: &'m [CallArg], span: Span) -> Option<Vec<&'m ast::Expr>> {
        let wanted = family.arg_names();
        let signature = format!("{}({})", family.name(), wanted.join(", "));
        let mut slots: Vec<Option<&'m ast::Expr>> = vec![None; wanted.len()];
        for (k, a) in args.iter().enumerate() {
            let (slot, e) = match a {
                CallArg::Positional(e) => (k, e),
                CallArg::Named(n, e) => match wanted.iter().position(|w| *w == n.name) {
                    Some(slot) => (slot, e),
                    None => {
                        let d = Diagnostic::error(
                            "E0105",
                            format!("`{}` has no argument `{}`", family.name(), n.name),
                        )
                        .with_label(n.span, "unknown argument")
                        .with_note(format!("it is `{signature}`"));
                        self.report(with_suggestions(d, &n.name, wanted.iter().copied()));
                        return None;
                    }
                },
                CallArg::Binder { span, .. } | CallArg::Each { span, .. } => {
                    self.report(
                        Diagnostic::error(
                            "E0105",
                            format!("`{}` takes no `i in lo..hi` argument", family.name()),
                        )
                        .with_label(*span, "not an argument of a distribution"),
                    );
                    return None;
                }
            };
            match slots.get_mut(slot) {
                Some(s @ None) => *s = Some(e),
                Some(Some(_)) => {
                    self.report(
                        Diagnostic::error(
                            "E0102",
                            format!("argument `{}` is given twice", wanted.get(slot).unwrap_or(&"?")),
                        )
                        .with_label(e.span, "given again here"),
                    );
                    return None;
                }
                None => break,
            }
        }
        if args.len() != wanted.len() || slots.iter().any(Option::is_none) {
            self.report(arity(family, args.len(), span));
            return None;
        }
        Some(slots.into_iter().flatten().collect())
    }

    /// `= expr`: an unnormalised density of `component` alone.
    fn exact_density(&mut self, e: &'m ast::Expr, component: Component, params: &[Param]) -> Option<Law> {
        let v = self.in_mode(Mode::Model, |cx| cx.expr(e));
        if matches!(v, Val::Error) {
            return None;
        }
        let expr = self.real(v, e.span)?;
        let names: Vec<String> = self.states.iter().map(|s| s.name.name.clone()).collect();
        let name = self.component_name(component);
        match Formula::from_expr(&expr, component, params, &names) {
            Ok((f, read)) => {
                // the law holds these values: a standalone binary must not change them
                self.compile_time.extend(read.iter().map(|p| p.0 as usize));
                Some(Law::Density(f))
            }
            Err(FormulaError::TooLarge) => {
                self.report(
                    Diagnostic::error("E0208", format!("the exact density of `{name}` is too large"))
                        .with_label(e.span, "this unrolls to more than a million operations"),
                );
                None
            }
            Err(why) => {
                let found = match why {
                    FormulaError::OtherState(other) => format!("`{other}`"),
                    _ => "the time `t`".to_string(),
                };
                self.report(
                    Diagnostic::error(
                        "E0313",
                        format!("the exact density of `{name}` must be a function of `{name}` alone"),
                    )
                    .with_label(e.span, format!("this reads {found}"))
                    .with_note("write the marginal density in terms of the component itself and parameters"),
                );
                None
            }
        }
    }

    /// `x` or `x[k]`, as written.
    fn component_name(&self, c: Component) -> String {
        let name = self
            .states
            .get(c.state.0 as usize)
            .map(|s| s.name.name.clone())
            .unwrap_or_default();
        match c.index {
            Some(k) => format!("{name}[{k}]"),
            None => name,
        }
    }
}

/// E0105: `family` given `given` arguments.
fn arity(family: Family, given: usize, span: Span) -> Diagnostic {
    let wanted = family.arg_names().len();
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    Diagnostic::error(
        "E0105",
        format!(
            "`{}` takes {wanted} argument{} but {given} {} given",
            family.name(),
            plural(wanted),
            if given == 1 { "was" } else { "were" }
        ),
    )
    .with_label(span, format!("{given} argument{} here", plural(given)))
    .with_note(format!(
        "it is `{}({})`",
        family.name(),
        family.arg_names().join(", ")
    ))
}
