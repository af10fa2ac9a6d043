//! Calls: builtins, indexed reductions, vector constructors, user functions.
//!
//! User functions are inlined at each call: the body is checked in the scope of
//! its definition with the argument values bound to the parameter names, so the
//! result shares the arguments' nodes (no copying). Call cycles are rejected
//! beforehand (see `fns.rs`); nesting deeper than [`MAX_INLINE_DEPTH`] is an error.

use super::cx::{Checker, Def, MAX_INLINE_DEPTH};
use super::scope::{with_suggestions, Found, BUILTINS};
use super::val::{Val, VecExpr};
use crate::diagnostic::Diagnostic;
use crate::model::{BinaryFn, Expr, Index, ReduceOp, UnaryFn};
use crate::source::Span;
use crate::syntax::ast::{self, CallArg};
use std::rc::Rc;

fn unary_fn(name: &str) -> Option<UnaryFn> {
    Some(match name {
        "exp" => UnaryFn::Exp,
        "log" => UnaryFn::Log,
        "log1p" => UnaryFn::Log1p,
        "expm1" => UnaryFn::Expm1,
        "sqrt" => UnaryFn::Sqrt,
        "cbrt" => UnaryFn::Cbrt,
        "sin" => UnaryFn::Sin,
        "cos" => UnaryFn::Cos,
        "tan" => UnaryFn::Tan,
        "tanh" => UnaryFn::Tanh,
        "abs" => UnaryFn::Abs,
        "sigmoid" => UnaryFn::Sigmoid,
        "softplus" => UnaryFn::Softplus,
        "erf" => UnaryFn::Erf,
        _ => return None,
    })
}

fn reduce_op(name: &str) -> Option<ReduceOp> {
    Some(match name {
        "sum" => ReduceOp::Sum,
        "prod" => ReduceOp::Prod,
        "max" => ReduceOp::Max,
        "min" => ReduceOp::Min,
        _ => return None,
    })
}

/// E0105 with expected and actual counts.
fn arity(name: &str, expected: &str, got: usize, span: Span) -> Diagnostic {
    let s = if got == 1 { "" } else { "s" };
    let were = if got == 1 { "was" } else { "were" };
    Diagnostic::error(
        "E0105",
        format!("`{name}` takes {expected} but {got} argument{s} {were} given"),
    )
    .with_label(span, format!("{got} argument{s} here"))
}

impl<'m> Checker<'m> {
    /// Checks `func(args)`.
    pub(super) fn call(&mut self, func: &'m ast::Ident, args: &'m [CallArg], span: Span) -> Val {
        let name = func.name.as_str();
        match self.lookup(name) {
            Found::Def(Def::Fn(slot)) => self.inline_fn(slot, func, args, span),
            Found::Builtin => self.builtin(func, args, span),
            Found::Local(_) | Found::Def(_) | Found::Time => {
                let kind = match self.lookup(name) {
                    Found::Def(d) => d.kind(),
                    Found::Time => "time",
                    _ => "local value",
                };
                self.report(
                    Diagnostic::error("E0104", format!("`{name}` is a {kind}, not a function"))
                        .with_label(func.span, "called here"),
                );
                Val::Error
            }
            Found::Missing => {
                let mut cands = self.visible_names(|d| matches!(d, Some(Def::Fn(_))));
                cands.extend(BUILTINS);
                let d = with_suggestions(
                    Diagnostic::error("E0104", format!("unknown function `{name}`"))
                        .with_label(func.span, "no function with this name"),
                    name,
                    cands,
                );
                self.report(d);
                Val::Error
            }
        }
    }

    /// The positional arguments, if there are exactly `n` of them and nothing else.
    fn positional(
        &mut self,
        func: &ast::Ident,
        args: &'m [CallArg],
        n: usize,
        span: Span,
    ) -> Option<Vec<&'m ast::Expr>> {
        let exprs = self.only_positional(func, args)?;
        if exprs.len() != n {
            let s = if n == 1 { "" } else { "s" };
            self.report(arity(&func.name, &format!("{n} argument{s}"), exprs.len(), span));
            return None;
        }
        Some(exprs)
    }

    /// All arguments, which must be positional (E0105 for `name = …` or `i in …`).
    pub(super) fn only_positional(
        &mut self,
        func: &ast::Ident,
        args: &'m [CallArg],
    ) -> Option<Vec<&'m ast::Expr>> {
        let mut out = Vec::with_capacity(args.len());
        for a in args {
            match a {
                CallArg::Positional(e) => out.push(e),
                other => {
                    let what = match other {
                        CallArg::Named(..) => "named arguments",
                        _ => "an index range (`i in lo..hi`)",
                    };
                    self.report(
                        Diagnostic::error("E0105", format!("`{}` does not take {what}", func.name))
                            .with_label(other.span(), "not allowed here"),
                    );
                    return None;
                }
            }
        }
        Some(out)
    }

    fn builtin(&mut self, func: &'m ast::Ident, args: &'m [CallArg], span: Span) -> Val {
        let name = func.name.as_str();
        if let [CallArg::Binder { var, lo, hi, .. }, CallArg::Positional(body)] = args {
            if let Some(op) = reduce_op(name) {
                return self.reduction(op, var, (lo, hi), body);
            }
            if name == "logsumexp" {
                return self.logsumexp_binder(var, (lo, hi), body);
            }
        }
        if let Some(f) = unary_fn(name) {
            let Some(a) = self
                .positional(func, args, 1, span)
                .and_then(|v| v.first().copied())
            else {
                return Val::Error;
            };
            let v = self.expr(a);
            return self.apply_unary(f, v, a.span);
        }
        match name {
            "atan2" => {
                let Some(v) = self.positional(func, args, 2, span) else {
                    return Val::Error;
                };
                let (Some(y), Some(x)) = (v.first(), v.get(1)) else {
                    return Val::Error;
                };
                let (vy, vx) = (self.expr(y), self.expr(x));
                self.arith(BinaryFn::Atan2, (vy, y.span), (vx, x.span), span)
            }
            "min" | "max" | "logsumexp" | "sum" | "prod" | "mean" | "norm" => {
                self.aggregate(func, args, span)
            }
            "dot" => self.dot_call(func, args, span),
            _ => self.constructor(func, args, span),
        }
    }

    /// A scalar function, elementwise on vectors.
    fn apply_unary(&mut self, f: UnaryFn, v: Val, span: Span) -> Val {
        match v {
            Val::Vector(v) => Val::Vector(Rc::new(VecExpr::Map(f, v))),
            Val::Error => Val::Error,
            other => match self.real(other, span) {
                Some(e) => Val::Real(self.mk(Expr::Unary(f, e))),
                None => Val::Error,
            },
        }
    }

    /// `min`/`max`/`logsumexp` of scalars or one vector; `sum`/`prod`/`mean`/`norm` of a vector.
    fn aggregate(&mut self, func: &'m ast::Ident, args: &'m [CallArg], span: Span) -> Val {
        let name = func.name.as_str();
        let Some(exprs) = self.only_positional(func, args) else {
            return Val::Error;
        };
        let vals: Vec<(Val, Span)> = exprs.iter().map(|e| (self.expr(e), e.span)).collect();
        if let [(v, vspan)] = vals.as_slice() {
            return match v {
                Val::Vector(vec) => Val::Real(match name {
                    "norm" => self.norm(vec),
                    "mean" => self.mean(vec),
                    "logsumexp" => self.logsumexp_vector(vec),
                    _ => self.reduce_vector(reduce_op(name).unwrap_or(ReduceOp::Sum), vec),
                }),
                Val::Error => Val::Error,
                _ if name == "logsumexp" => Val::Real(
                    self.real(v.clone(), *vspan)
                        .unwrap_or_else(|| Rc::new(Expr::Const(0.0))),
                ),
                other => {
                    self.report(
                        Diagnostic::error(
                            "E0201",
                            format!(
                                "`{name}` of a single value needs a vector, found {}",
                                other.shape()
                            ),
                        )
                        .with_label(*vspan, format!("this is {}", other.shape()))
                        .with_help(format!("write `{name}(i in lo..hi, body)` for an indexed {name}")),
                    );
                    Val::Error
                }
            };
        }
        if vals.is_empty() || !matches!(name, "min" | "max" | "logsumexp") {
            let expected = if matches!(name, "min" | "max" | "logsumexp") {
                "1 vector or at least 2 scalars"
            } else {
                "1 vector argument"
            };
            self.report(arity(name, expected, vals.len(), span));
            return Val::Error;
        }
        let mut scalars = Vec::with_capacity(vals.len());
        for (v, s) in vals {
            scalars.push(self.real(v, s));
        }
        let Some(scalars) = scalars.into_iter().collect::<Option<Vec<_>>>() else {
            return Val::Error;
        };
        if name == "logsumexp" {
            return self.logsumexp_scalars(&scalars).map_or(Val::Error, Val::Real);
        }
        let f = if name == "min" {
            BinaryFn::Min
        } else {
            BinaryFn::Max
        };
        let mut iter = scalars.into_iter();
        let Some(mut acc) = iter.next() else {
            return Val::Error;
        };
        for x in iter {
            acc = self.mk(Expr::Binary(f, acc, x));
        }
        Val::Real(acc)
    }

    fn dot_call(&mut self, func: &'m ast::Ident, args: &'m [CallArg], span: Span) -> Val {
        let Some(v) = self.positional(func, args, 2, span) else {
            return Val::Error;
        };
        let (Some(a), Some(b)) = (v.first(), v.get(1)) else {
            return Val::Error;
        };
        match (self.expr(a), self.expr(b)) {
            (Val::Vector(u), Val::Vector(w)) if u.len() == w.len() => Val::Real(self.dot(&u, &w)),
            (Val::Error, _) | (_, Val::Error) => Val::Error,
            (x, y) => {
                let code = if matches!((&x, &y), (Val::Vector(_), Val::Vector(_))) {
                    "E0202"
                } else {
                    "E0201"
                };
                self.report(super::expr::shape_mismatch(
                    code,
                    "`dot` needs two vectors of the same length",
                    (&x, a.span),
                    (&y, b.span),
                ));
                Val::Error
            }
        }
    }

    /// Binds `var` over `[lo, hi)` to a fresh index variable and checks `body` with it.
    pub(super) fn with_binder<T>(
        &mut self,
        var: &'m ast::Ident,
        (lo, hi): (&'m ast::Expr, &'m ast::Expr),
        f: impl FnOnce(&mut Self, crate::model::IndexVar, Index, Index) -> Option<T>,
    ) -> Option<T> {
        let (vlo, vhi) = (self.expr(lo), self.expr(hi));
        let (lo_i, hi_i) = (self.as_index(vlo, lo.span), self.as_index(vhi, hi.span));
        let (lo_i, hi_i) = (lo_i?, hi_i?);
        let v = self.fresh_var(&lo_i, &hi_i);
        self.locals.push((&var.name, Val::Int(Index::var(v))));
        let out = f(self, v, lo_i, hi_i);
        self.locals.pop();
        out
    }

    /// `op(i in lo..hi, body)`.
    fn reduction(
        &mut self,
        op: ReduceOp,
        var: &'m ast::Ident,
        range: (&'m ast::Expr, &'m ast::Expr),
        body: &'m ast::Expr,
    ) -> Val {
        let r = self.with_binder(var, range, |cx, v, lo, hi| {
            let b = cx.expr(body);
            let b = cx.real(b, body.span)?;
            Some(cx.mk(Expr::Reduce {
                op,
                var: v,
                lo,
                hi,
                body: b,
            }))
        });
        r.map_or(Val::Error, Val::Real)
    }

    /// `logsumexp(i in lo..hi, body)`: the body is checked twice, once per loop.
    fn logsumexp_binder(
        &mut self,
        var: &'m ast::Ident,
        range: (&'m ast::Expr, &'m ast::Expr),
        body: &'m ast::Expr,
    ) -> Val {
        let Val::Real(max) = self.reduction(ReduceOp::Max, var, range, body) else {
            return Val::Error;
        };
        let m = self.mk(Expr::NoGrad(max));
        let mm = m.clone();
        let sum = self.with_binder(var, range, |cx, v, lo, hi| {
            let b = cx.expr(body);
            let b = cx.real(b, body.span)?;
            let d = cx.mk(Expr::Binary(BinaryFn::Sub, b, mm));
            let e = cx.mk(Expr::Unary(UnaryFn::Exp, d));
            Some(cx.mk(Expr::Reduce {
                op: ReduceOp::Sum,
                var: v,
                lo,
                hi,
                body: e,
            }))
        });
        match sum {
            Some(sum) => Val::Real(self.logsumexp_tail(m, sum)),
            None => Val::Error,
        }
    }

    /// Inlines a user function.
    fn inline_fn(&mut self, slot: usize, func: &'m ast::Ident, args: &'m [CallArg], span: Span) -> Val {
        let Some(f) = self.fns.get(slot) else {
            return Val::Error;
        };
        let (decl, scope, recursive) = (f.decl, f.scope, f.recursive);
        let Some(exprs) = self.only_positional(func, args) else {
            return Val::Error;
        };
        if exprs.len() != decl.params.len() {
            let n = decl.params.len();
            let s = if n == 1 { "" } else { "s" };
            let d = arity(&func.name, &format!("{n} argument{s}"), exprs.len(), span).with_label(
                decl.name.span,
                format!("`{}` is defined here with {n} parameter{s}", decl.name.name),
            );
            self.report(d);
            return Val::Error;
        }
        let vals: Vec<Val> = exprs.iter().map(|e| self.expr(e)).collect();
        if recursive {
            return Val::Error;
        }
        if self.inline_depth >= MAX_INLINE_DEPTH {
            self.report(
                Diagnostic::error(
                    "E0208",
                    format!("function calls nested more than {MAX_INLINE_DEPTH} deep"),
                )
                .with_label(span, "this call is too deep"),
            );
            return Val::Error;
        }
        let locals = decl.params.iter().map(|p| p.name.as_str()).zip(vals).collect();
        self.inline_depth += 1;
        let out = self.in_scope(Some(scope), locals, |cx| cx.expr(&decl.body));
        self.inline_depth -= 1;
        out
    }

    /// zeros(n), ones(n), fill(n, v), linspace(a, b, n), logspace(a, b, n).
    fn constructor(&mut self, func: &'m ast::Ident, args: &'m [CallArg], span: Span) -> Val {
        let name = func.name.as_str();
        let n_args = match name {
            "zeros" | "ones" => 1,
            "fill" => 2,
            _ => 3,
        };
        let Some(a) = self.positional(func, args, n_args, span) else {
            return Val::Error;
        };
        let vec = match (name, a.as_slice()) {
            ("zeros" | "ones", [n]) => {
                let c = if name == "ones" { 1.0 } else { 0.0 };
                let n = self.size(n);
                let c = self.mk(Expr::Const(c));
                n.map(|n| VecExpr::Fill(c, n))
            }
            ("fill", [n, v]) => {
                let n = self.size(n);
                let val = self.expr(v);
                let v = self.real(val, v.span);
                n.zip(v).map(|(n, v)| VecExpr::Fill(v, n))
            }
            (_, [a, b, n]) => {
                let (va, vb) = (self.expr(a), self.expr(b));
                let (ea, eb) = (self.real(va, a.span), self.real(vb, b.span));
                let n = self.size(n);
                match (ea, eb, n) {
                    (Some(a), Some(b), Some(n)) => Some(VecExpr::Space {
                        a,
                        b,
                        n,
                        log: name == "logspace",
                    }),
                    _ => None,
                }
            }
            _ => None,
        };
        vec.map_or(Val::Error, |v| Val::Vector(Rc::new(v)))
    }
}
