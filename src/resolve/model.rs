//! Models: states, energy terms, SDE equations and the model-kind rules.
//!
//! A model with SDEs needs exactly one equation per state (energies are then
//! observables); a model without SDEs needs an energy that mentions every state.
//! `dx[i] = f dt + g dW[i]` binds `i` over `0..len(x)`; the vector form
//! `dx = f dt + g dW` is the same with a fresh index variable.

use super::cx::{Checker, Mode, ScopeId};
use super::params::Const;
use super::scope::{duplicate, with_suggestions};
use super::val::Val;
use crate::diagnostic::Diagnostic;
use crate::model::{self, EnergyTerm, Expr, NoiseDecl, Sde};
use crate::source::Span;
use crate::syntax::ast::{self, ModelItem, TypeExpr};
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

impl<'m> Checker<'m> {
    /// Declares a model's items in a new scope under its module's.
    pub(super) fn declare_model(&mut self, decl: &'m ast::ModelDecl, module: ScopeId) -> ScopeId {
        let scope = self.new_scope(Some(module));
        let mut energies: HashMap<&str, Span> = HashMap::new();
        for item in &decl.items {
            match item {
                ModelItem::Param(ps) => self.declare_params(scope, ps),
                ModelItem::Let(l) => self.declare_let(scope, l),
                ModelItem::Fn(f) => self.declare_fn(scope, f),
                ModelItem::State(s) => self.declare_state(scope, s),
                ModelItem::Particles(p) => self.declare_particles(scope, p),
                ModelItem::Energy(ast::EnergyDecl { name, .. })
                | ModelItem::Pair(ast::PairDecl { name, .. }) => {
                    if let Some(first) = energies.insert(&name.name, name.span) {
                        self.report(duplicate(&name.name, "energy term", first, name.span));
                    }
                }
                ModelItem::Sde(_) | ModelItem::Noise(_) | ModelItem::Observe(_) | ModelItem::Exact(_) => {}
            }
        }
        scope
    }

    /// Computes state sizes (in the model scope).
    pub(super) fn size_states(&mut self) {
        for k in 0..self.states.len() {
            let Some((name, ty, particles)) = self.states.get(k).map(|s| (s.name, s.ty, s.particles)) else {
                continue;
            };
            let (len, cols) = match particles {
                Some(p) => self.size_particles(name, ty, p),
                None => self.size_state(name, ty),
            };
            if let Some(s) = self.states.get_mut(k) {
                s.len = len;
                s.cols = cols;
            }
        }
    }

    /// `(len, cols)` of a `state` declaration.
    fn size_state(&mut self, name: &ast::Ident, ty: &'m TypeExpr) -> (Option<usize>, Option<usize>) {
        match ty {
            TypeExpr::Real(_) => (None, None),
            TypeExpr::Array { int: false, dims, .. } => match dims.as_slice() {
                [n] => (Some(self.size(n).unwrap_or(0)), None),
                [n, c] => {
                    let (n, c) = (self.size(n).unwrap_or(0), self.size(c).unwrap_or(0));
                    (Some(n * c), Some(c))
                }
                _ => {
                    self.report(too_many_dims(ty.span()));
                    (Some(0), None)
                }
            },
            TypeExpr::Int(span) | TypeExpr::Array { span, .. } => {
                self.report(
                    Diagnostic::error("E0204", format!("state `{}` is declared int", name.name))
                        .with_label(*span, "states are real numbers")
                        .with_help("declare it `real`, `real[n]` or `real[n, k]`"),
                );
                (Some(0), None)
            }
        }
    }

    /// The checked states, with initial values.
    pub(super) fn build_states(&mut self) -> Vec<model::State> {
        let mut out = Vec::with_capacity(self.states.len());
        for k in 0..self.states.len() {
            let Some((name, init, span, len, cols)) = self
                .states
                .get(k)
                .map(|s| (s.name, s.init, s.span, s.len, s.cols))
            else {
                continue;
            };
            let what = format!("the initial value of `{}`", name.name);
            let init = init.and_then(|e| self.state_value(&what, (len, cols), e));
            out.push(model::State {
                name: name.name.clone(),
                len,
                cols,
                init,
                span,
            });
        }
        out
    }

    /// A constant with a state's shape `(len, cols)`, flattened: scalars fill
    /// vectors and matrices, a vector of a matrix's row length fills every row.
    pub(super) fn state_value(
        &mut self,
        what: &str,
        (len, cols): (Option<usize>, Option<usize>),
        e: &'m ast::Expr,
    ) -> Option<Vec<f64>> {
        let c = self.constant(e)?;
        let shape = match (len, cols) {
            (None, _) => "real".to_string(),
            (Some(n), Some(k)) if k > 0 => format!("real[{}, {k}]", n / k),
            (Some(n), _) => format!("real[{n}]"),
        };
        let (want, got) = match (len, cols, c) {
            (None, _, Const::Int(i)) => return Some(vec![i as f64]),
            (None, _, Const::Real(x)) => return Some(vec![x]),
            (Some(n), _, Const::Int(i)) => return Some(vec![i as f64; n]),
            (Some(n), _, Const::Real(x)) => return Some(vec![x; n]),
            (Some(n), None, Const::Vector(v)) if v.len() == n => return Some(v),
            (Some(n), Some(k), Const::Vector(v)) if v.len() == k && k > 0 => {
                return Some(v.iter().copied().cycle().take(n).collect())
            }
            (Some(n), Some(k), Const::Matrix(r, c, v)) if c == k && r * c == n => return Some(v),
            (_, _, other) => (shape, other.shape()),
        };
        let code = if len.is_some() { "E0202" } else { "E0201" };
        self.report(
            Diagnostic::error(code, format!("{what} must be {want}, found {got}"))
                .with_label(e.span, format!("this is {got}")),
        );
        None
    }

    /// Checks the energy terms (model mode, scalar).
    pub(super) fn energies(&mut self, decl: &'m ast::ModelDecl) -> Vec<EnergyTerm> {
        let mut out = Vec::new();
        for item in &decl.items {
            let ModelItem::Energy(e) = item else {
                continue;
            };
            let v = self.in_mode(Mode::Model, |cx| cx.expr(&e.value));
            if let Val::Vector(ref vec) = v {
                self.report(
                    Diagnostic::error(
                        "E0201",
                        format!(
                            "energy `{}` must be a scalar, found real[{}]",
                            e.name.name,
                            vec.len()
                        ),
                    )
                    .with_label(e.value.span, format!("this is real[{}]", vec.len()))
                    .with_help("reduce it, e.g. `sum(…)` or `norm(…)^2`"),
                );
                continue;
            }
            if let Some(expr) = self.real(v, e.value.span) {
                out.push(EnergyTerm {
                    name: e.name.name.clone(),
                    expr,
                    span: e.span,
                });
            }
        }
        out
    }

    /// Checks the SDE equations (E0301 unknown state, E0303 two equations for one state).
    pub(super) fn sdes(&mut self, decl: &'m ast::ModelDecl, noise: Option<&NoiseDecl>) -> Vec<Sde> {
        let has_energy = decl.items.iter().any(|i| matches!(i, ModelItem::Energy(_)));
        let mut out: Vec<Sde> = Vec::new();
        let mut seen: HashMap<usize, Span> = HashMap::new();
        for item in &decl.items {
            let ModelItem::Sde(eq) = item else {
                continue;
            };
            let Some(k) = self.sde_state(&eq.lhs) else {
                continue;
            };
            if let Some(first) = seen.get(&k) {
                self.report(
                    Diagnostic::error(
                        "E0303",
                        format!("two equations for state `{}`", strip_d(&eq.lhs.name)),
                    )
                    .with_label(eq.lhs.span, "second equation here")
                    .with_label(*first, "first equation here"),
                );
                continue;
            }
            seen.insert(k, eq.lhs.span);
            if let Some(sde) = self.in_mode(Mode::Model, |cx| cx.sde(k, eq, noise, has_energy)) {
                out.push(sde);
            }
        }
        out
    }

    /// The state `X` named by `dX`.
    fn sde_state(&mut self, lhs: &ast::Ident) -> Option<usize> {
        let target = lhs.name.strip_prefix('d').filter(|s| !s.is_empty());
        let found = target.and_then(|t| self.states.iter().position(|s| s.name.name == t));
        if found.is_none() {
            let cands: Vec<String> = self.states.iter().map(|s| format!("d{}", s.name.name)).collect();
            let msg = match target {
                Some(t) => format!(
                    "`{}` is not the differential of a declared state (no state `{t}`)",
                    lhs.name
                ),
                None => format!("`{}` is not the differential `dX` of a state", lhs.name),
            };
            let d = with_suggestions(
                Diagnostic::error("E0301", msg).with_label(lhs.span, "no such state"),
                &lhs.name,
                cands.iter().map(String::as_str),
            );
            self.report(d);
        }
        found
    }

    /// The model-kind rules (E0302).
    pub(super) fn kind_rules(&mut self, decl: &ast::ModelDecl, energy: &[EnergyTerm], sdes: &[Sde]) {
        if self.states.is_empty() {
            self.report(
                Diagnostic::error("E0302", format!("model `{}` has no states", decl.name.name))
                    .with_label(decl.name.span, "declare at least one `state`"),
            );
            return;
        }
        let written = |want: fn(&ModelItem) -> bool| decl.items.iter().filter(|i| want(i)).count();
        let n_sdes = written(|i| matches!(i, ModelItem::Sde(_)));
        let n_energy = written(|i| matches!(i, ModelItem::Energy(_) | ModelItem::Pair(_)));
        if (n_sdes > 0 && sdes.len() < n_sdes) || (n_sdes == 0 && energy.len() < n_energy) {
            return; // some term failed to check: do not guess what it would have used
        }
        let used: HashSet<u32> = if sdes.is_empty() {
            states_in(energy.iter().map(|e| &e.expr))
        } else {
            sdes.iter().map(|s| s.state.0).collect()
        };
        let missing: Vec<(String, Span)> = self
            .states
            .iter()
            .enumerate()
            .filter(|(k, _)| !used.contains(&(*k as u32)))
            .map(|(_, s)| (s.name.name.clone(), s.name.span))
            .collect();
        for (name, span) in missing {
            let d = Diagnostic::error("E0302", format!("state `{name}` has neither energy nor dynamics"))
                .with_label(span, "declared here");
            let d = if sdes.is_empty() {
                d.with_note("a model without SDEs samples exp(-U): every state must appear in an `energy`")
            } else {
                d.with_help(format!("add an equation `d{name} = … dt + … dW`"))
                    .with_note("in a model with SDEs every state needs its own equation")
            };
            self.report(d);
        }
    }
}

/// E0204: an array of more than two dimensions.
fn too_many_dims(span: Span) -> Diagnostic {
    Diagnostic::error("E0204", "arrays have one or two dimensions")
        .with_label(span, "write `real[n]` or `real[n, k]`")
}

/// `x` for `dx`.
fn strip_d(lhs: &str) -> &str {
    lhs.strip_prefix('d').unwrap_or(lhs)
}

/// The states mentioned in some expressions (walking the DAG once per node).
fn states_in<'e>(roots: impl Iterator<Item = &'e Rc<Expr>>) -> HashSet<u32> {
    let mut seen: HashSet<*const Expr> = HashSet::new();
    let mut out = HashSet::new();
    let mut stack: Vec<&Rc<Expr>> = roots.collect();
    while let Some(e) = stack.pop() {
        if !seen.insert(Rc::as_ptr(e)) {
            continue;
        }
        match &**e {
            Expr::State(s) | Expr::StateElem(s, _) => {
                out.insert(s.0);
            }
            Expr::Const(_) | Expr::Param(_) | Expr::ParamElem(..) | Expr::Time | Expr::IndexValue(_) => {}
            Expr::Lookup { keys, .. } => stack.extend(keys.iter().map(|(k, _)| k)),
            Expr::Unary(_, a) | Expr::Not(a) | Expr::NoGrad(a) | Expr::Deriv { body: a, .. } => stack.push(a),
            Expr::Arg(_) => {}
            Expr::Subst { body, args } => {
                stack.push(body);
                stack.extend(args.iter().map(|(_, v)| v));
            }
            Expr::Binary(_, a, b) | Expr::Compare(_, a, b) | Expr::And(a, b) | Expr::Or(a, b) => {
                stack.push(a);
                stack.push(b);
            }
            Expr::Select(c, a, b) => {
                stack.push(c);
                stack.push(a);
                stack.push(b);
            }
            Expr::Reduce { body, .. } => stack.push(body),
        }
    }
    out
}
