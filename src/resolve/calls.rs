//! Calls: builtins, indexed reductions, vector constructors, user functions.
//!
//! User functions are inlined at each call: the body is checked in the scope of
//! its definition with the argument values bound to the parameter names, so the
//! result shares the arguments' nodes (no copying). Call cycles are rejected
//! beforehand (see `fns.rs`); nesting deeper than [`MAX_INLINE_DEPTH`] is an error.

use super::cx::{Checker, Def, MAX_INLINE_DEPTH};
use super::ensemble::Range;
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
        "round" => UnaryFn::Round,
        "floor" => UnaryFn::Floor,
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
        if let Some(v) = self.binder_call(name, args, span) {
            return v;
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
            "matvec" | "outer" | "transpose" | "trace" | "chol" => {
                let Some(exprs) = self.only_positional(func, args) else {
                    return Val::Error;
                };
                let vals = exprs.iter().map(|e| (self.expr(e), e.span)).collect();
                self.matrix_builtin(name, vals, span)
            }
            "grad" => self.grad_call(func, args, span),
            "fcc" | "lattice" => {
                let Some(exprs) = self.only_positional(func, args) else {
                    return Val::Error;
                };
                self.lattice_builtin(name, &exprs, span)
            }
            "len" => {
                let Some(v) = self.positional(func, args, 1, span) else {
                    return Val::Error;
                };
                match v.first().map(|e| self.expr(e)) {
                    Some(Val::Vector(v)) => Val::Int(Index::constant(v.len() as i64)),
                    Some(Val::Matrix(m)) => Val::Int(Index::constant(m.rows() as i64)),
                    Some(Val::Error) | None => Val::Error,
                    Some(other) => {
                        self.report(
                            Diagnostic::error("E0201", format!("`len` of {}", other.shape()))
                                .with_label(span, "needs a vector or a matrix"),
                        );
                        Val::Error
                    }
                }
            }
            "wmean" | "softmax_mean" | "cov" => {
                self.report(
                    Diagnostic::error("E0804", format!("`{name}` needs a binder: `{name}(j in p, …)`"))
                        .with_label(span, "no `j in …` as the first argument"),
                );
                Val::Error
            }
            _ => self.constructor(func, args, span),
        }
    }

    /// A scalar function, elementwise on vectors.
    fn apply_unary(&mut self, f: UnaryFn, v: Val, span: Span) -> Val {
        match v {
            Val::Vector(v) => Val::Vector(Rc::new(VecExpr::Map(f, v))),
            Val::Matrix(m) => Val::Matrix(Rc::new(super::val::MatExpr::Map(f, m))),
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

    /// `logsumexp(i in range, body)`: the body is checked twice, once per loop.
    fn logsumexp_binder(&mut self, var: &'m ast::Ident, range: Range<'m>, body: &'m ast::Expr) -> Val {
        let Val::Real(max) = self.reduction(ReduceOp::Max, var, range, body) else {
            return Val::Error;
        };
        let m = self.mk(Expr::NoGrad(max));
        let mm = m.clone();
        let sum = self.with_range(var, range, |cx, v, lo, hi, over| {
            let b = cx.expr(body);
            let b = cx.real(b, body.span)?;
            let d = cx.mk(Expr::Binary(BinaryFn::Sub, b, mm));
            let e = cx.mk(Expr::Unary(UnaryFn::Exp, d));
            Some(cx.mk(Expr::Reduce {
                op: ReduceOp::Sum,
                var: v,
                lo,
                hi,
                over,
                body: e,
            }))
        });
        match sum {
            Some(sum) => Val::Real(self.logsumexp_tail(m, sum)),
            None => Val::Error,
        }
    }

    /// A call whose first argument binds a variable (`sum(i in 0..n, …)`,
    /// `mean(j in p, …)`, `wmean(j in p, w, x)`), if it is one.
    fn binder_call(&mut self, name: &str, args: &'m [CallArg], span: Span) -> Option<Val> {
        let (first, rest) = args.split_first()?;
        let (var, range) = Self::binder_arg(first)?;
        let pos: Vec<&'m ast::Expr> = rest
            .iter()
            .map(|a| match a {
                CallArg::Positional(e) => Some(e),
                _ => None,
            })
            .collect::<Option<_>>()?;
        Some(match (name, pos.as_slice()) {
            ("mean", [body]) => self.mean_binder(var, range, body, span),
            ("logsumexp", [body]) => self.logsumexp_binder(var, range, body),
            ("cov", [body]) => self.cov_binder(var, range, body, span),
            ("wmean", [w, x]) => self.wmean_binder(var, range, (w, x), span),
            ("softmax_mean", [s, x]) => self.softmax_mean_binder(var, range, (s, x), span),
            (_, [body]) => self.reduction(reduce_op(name)?, var, range, body),
            _ => return None,
        })
    }

    /// Inlines a user function.
    fn inline_fn(&mut self, slot: usize, func: &'m ast::Ident, args: &'m [CallArg], span: Span) -> Val {
        let Some(f) = self.fns.get(slot) else {
            return Val::Error;
        };
        let decl = f.decl;
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
        self.inline_vals(slot, vals, span)
    }

    /// Inlines user function `slot` with checked argument values.
    fn inline_vals(&mut self, slot: usize, vals: Vec<Val>, span: Span) -> Val {
        let Some(f) = self.fns.get(slot) else {
            return Val::Error;
        };
        let (decl, scope, recursive) = (f.decl, f.scope, f.recursive);
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

    /// `grad(f, v)`: the gradient of the user function `f` of one argument at `v`
    /// (a scalar for a scalar argument), derived symbolically: `f` is inlined with
    /// placeholders for the argument's components, differentiated with respect to
    /// each, and `v` substituted.
    fn grad_call(&mut self, func: &'m ast::Ident, args: &'m [CallArg], span: Span) -> Val {
        let Some(v) = self.positional(func, args, 2, span) else {
            return Val::Error;
        };
        let (Some(fe), Some(ve)) = (v.first(), v.get(1)) else {
            return Val::Error;
        };
        let slot = match &fe.kind {
            ast::ExprKind::Name(n) => match self.lookup(n) {
                Found::Def(Def::Fn(slot)) => Some(slot),
                _ => None,
            },
            _ => None,
        };
        let Some(slot) = slot else {
            self.report(
                Diagnostic::error("E0104", "`grad` differentiates a function: `grad(f, x)`")
                    .with_label(fe.span, "not the name of a function defined with `fn`"),
            );
            return Val::Error;
        };
        if self.fns.get(slot).map(|f| f.decl.params.len()) != Some(1) {
            self.report(
                Diagnostic::error("E0105", "`grad` needs a function of one argument")
                    .with_label(fe.span, "this function takes another number of arguments"),
            );
            return Val::Error;
        }
        let point = self.expr(ve);
        let vector = matches!(point, Val::Vector(_));
        let values: Vec<Rc<Expr>> = match &point {
            Val::Vector(vec) => (0..vec.len())
                .map(|k| self.element(vec, &Index::constant(k as i64)))
                .collect(),
            Val::Error => return Val::Error,
            other => match self.real(other.clone(), ve.span) {
                Some(x) => vec![x],
                None => return Val::Error,
            },
        };
        let zs: Vec<u32> = values.iter().map(|_| self.fresh_arg()).collect();
        let holders: Vec<Rc<Expr>> = zs.iter().map(|z| self.mk(Expr::Arg(*z))).collect();
        let arg = match point {
            Val::Vector(_) => Val::Vector(Rc::new(VecExpr::Literal(holders))),
            _ => Val::Real(
                holders
                    .first()
                    .cloned()
                    .unwrap_or_else(|| Rc::new(Expr::Const(0.0))),
            ),
        };
        let body = self.inline_vals(slot, vec![arg], span);
        let Some(body) = self.real(body, span) else {
            return Val::Error;
        };
        let bind: Vec<(u32, Rc<Expr>)> = zs.iter().copied().zip(values).collect();
        let parts: Vec<Rc<Expr>> = zs
            .iter()
            .map(|z| {
                let d = self.mk(Expr::Deriv {
                    body: body.clone(),
                    arg: *z,
                });
                self.mk(Expr::Subst {
                    body: d,
                    args: bind.clone(),
                })
            })
            .collect();
        match (vector, parts.first()) {
            (false, Some(p)) => Val::Real(p.clone()),
            _ => Val::Vector(Rc::new(VecExpr::Literal(parts))),
        }
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
