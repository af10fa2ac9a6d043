//! `observe` declarations: values of expressions and energy terms, the virial
//! pressure and the radial distribution function g(r) of a particle set.

use super::cx::{Checker, Mode};
use super::val::Val;
use crate::diagnostic::Diagnostic;
use crate::model::{BinaryFn, Domain, EnergyTerm, Expr, PairTerm};
use crate::source::Span;
use crate::syntax::ast::{self, ModelItem};

impl<'m> Checker<'m> {
    /// The `observe` declarations: scalar expressions (energy terms may be named
    /// in them), `pressure()` and `rdf(p, r_max = …, bins = …)`.
    pub(super) fn observables(
        &mut self,
        decl: &'m ast::ModelDecl,
        energy: &[EnergyTerm],
        pairs: &[PairTerm],
    ) -> Vec<crate::model::Observable> {
        let mut out: Vec<crate::model::Observable> = Vec::new();
        // Energy and pair terms, by name, for the observables' expressions.
        // A term that failed to check (its error already reported) is known by
        // name all the same, as an error value, so observables naming it add no
        // "unknown name" on top.
        let terms: Vec<(&'m str, Val)> = decl
            .items
            .iter()
            .filter_map(|item| match item {
                ModelItem::Energy(ast::EnergyDecl { name, .. })
                | ModelItem::Pair(ast::PairDecl { name, .. }) => {
                    let value = energy
                        .iter()
                        .find(|t| t.name == name.name)
                        .map_or(Val::Error, |t| Val::Real(t.expr.clone()));
                    Some((name.name.as_str(), value))
                }
                _ => None,
            })
            .collect();
        for item in &decl.items {
            let ModelItem::Observe(o) = item else {
                continue;
            };
            if let Some(first) = out.iter().find(|x| x.name == o.name.name) {
                self.report(super::scope::duplicate(
                    &o.name.name,
                    "observable",
                    first.span,
                    o.name.span,
                ));
                continue;
            }
            let kind = match &o.value.kind {
                ast::ExprKind::Call { func, args } if func.name == "rdf" && self.lookup_is_builtin("rdf") => {
                    self.rdf_observable(args, o.value.span)
                }
                ast::ExprKind::Call { func, args }
                    if func.name == "pressure" && self.lookup_is_builtin("pressure") =>
                {
                    if !args.is_empty() {
                        self.report(
                            Diagnostic::error("E0803", "`pressure()` takes no arguments")
                                .with_label(o.value.span, "remove the arguments"),
                        );
                    }
                    self.pressure_observable(pairs, o.value.span)
                }
                _ => self.value_observable(&o.value, &terms),
            };
            if let Some(kind) = kind {
                out.push(crate::model::Observable {
                    name: o.name.name.clone(),
                    kind,
                    span: o.span,
                });
            }
        }
        out
    }

    /// Whether `name` is not shadowed by a user definition.
    fn lookup_is_builtin(&self, name: &str) -> bool {
        matches!(
            self.lookup(name),
            super::scope::Found::Missing | super::scope::Found::Builtin
        )
    }

    fn value_observable(
        &mut self,
        e: &'m ast::Expr,
        terms: &[(&'m str, Val)],
    ) -> Option<crate::model::ObservableKind> {
        let depth = self.locals.len();
        self.locals.extend(terms.iter().map(|(n, v)| (*n, v.clone())));
        let v = self.in_mode(Mode::Model, |cx| cx.expr(e));
        self.locals.truncate(depth);
        self.real(v, e.span).map(crate::model::ObservableKind::Value)
    }

    fn pressure_observable(
        &mut self,
        pairs: &[PairTerm],
        span: Span,
    ) -> Option<crate::model::ObservableKind> {
        let Domain::Periodic(lengths) = self.domain.clone() else {
            self.report(
                Diagnostic::error("E0803", "the pressure needs a periodic box")
                    .with_label(span, "the particles live in open space"),
            );
            return None;
        };
        let Some(set) = self.sets.first().cloned() else {
            self.report(
                Diagnostic::error("E0803", "the pressure needs particles").with_label(span, "no particles"),
            );
            return None;
        };
        let mut virial = self.mk(Expr::Const(0.0));
        for p in pairs {
            virial = self.mk(Expr::Binary(BinaryFn::Add, virial, p.virial.clone()));
        }
        let count = self.sets.iter().map(|s| s.count).sum();
        Some(crate::model::ObservableKind::Pressure {
            virial,
            volume: lengths.iter().product(),
            count,
            dim: set.dim,
        })
    }

    fn rdf_observable(
        &mut self,
        args: &'m [ast::CallArg],
        span: Span,
    ) -> Option<crate::model::ObservableKind> {
        let usage = |cx: &mut Self| {
            cx.report(
                Diagnostic::error("E0803", "write `rdf(p, r_max = …, bins = …)`").with_label(
                    span,
                    "a particle set, the largest distance and (optionally) the number of bins",
                ),
            );
            None
        };
        let Some((ast::CallArg::Positional(set_e), rest)) = args.split_first() else {
            return usage(self);
        };
        let Some(set) = self.set_of_expr(set_e) else {
            return usage(self);
        };
        let (mut r_max, mut bins) = (None, 100usize);
        for a in rest {
            match a {
                ast::CallArg::Named(n, v) if n.name == "r_max" => r_max = self.positive(v, "`r_max`"),
                ast::CallArg::Named(n, v) if n.name == "bins" => {
                    let b = self.number_const(v)?;
                    if b.fract() != 0.0 || !(1.0..=1e6).contains(&b) {
                        self.report(
                            Diagnostic::error("E0803", "`bins` is an integer between 1 and 1000000")
                                .with_label(v.span, "here"),
                        );
                        return None;
                    }
                    bins = b as usize;
                }
                _ => return usage(self),
            }
        }
        let Some(r_max) = r_max else {
            return usage(self);
        };
        if let Domain::Periodic(l) = &self.domain {
            if let Some(l) = l.iter().find(|l| r_max > 0.5 * **l) {
                self.report(
                    Diagnostic::error("E0803", format!("`r_max` exceeds half the box length ({l})"))
                        .with_label(span, "g(r) is defined up to L/2 in a periodic box"),
                );
                return None;
            }
        }
        Some(crate::model::ObservableKind::Rdf { set, r_max, bins })
    }
}
