//! Indexed reductions with scalar, vector or matrix bodies, and the ensemble
//! statistics built from them: `sum`, `prod`, `max`, `min`, `mean` over
//! `i in lo..hi` or over the particles of a set (`j in p`), the covariance
//! `cov(j in p, x)`, the weighted mean `wmean(j in p, w, x)` and the
//! softmax-weighted mean `softmax_mean(j in p, s, x)` (weights exp(s − max s)).
//!
//! A binder's variable is fresh for every loop; a statistic that needs an inner
//! statistic of the same ensemble (the mean inside a covariance, the maximum
//! inside softmax weights) checks its body once per loop, so loops never share a
//! variable with a loop nested in them.

use super::cx::Checker;
use super::val::{MatExpr, Operand, Val, VecExpr, VecReduce};
use crate::diagnostic::Diagnostic;
use crate::model::{BinaryFn, Expr, Index, IndexVar, Over, ReduceOp, UnaryFn};
use crate::source::Span;
use crate::syntax::ast::{self, CallArg};
use std::rc::Rc;

/// A binder as written: `i in lo..hi` or `j in p`.
#[derive(Clone, Copy)]
pub(super) enum Range<'m> {
    /// `lo..hi`.
    Bounds(&'m ast::Expr, &'m ast::Expr),
    /// A particle set, or an array (its first dimension).
    Each(&'m ast::Expr),
}

/// A checked binder range.
#[derive(Clone)]
struct Bound {
    lo: Index,
    hi: Index,
    over: Over,
}

impl<'m> Checker<'m> {
    /// The binder of a reduction call, if the first argument is one.
    pub(super) fn binder_arg(arg: &'m CallArg) -> Option<(&'m ast::Ident, Range<'m>)> {
        match arg {
            CallArg::Binder { var, lo, hi, .. } => Some((var, Range::Bounds(lo, hi))),
            CallArg::Each { var, over, .. } => Some((var, Range::Each(over))),
            _ => None,
        }
    }

    fn bound(&mut self, range: Range<'m>) -> Option<Bound> {
        match range {
            Range::Bounds(lo, hi) => {
                let (vlo, vhi) = (self.expr(lo), self.expr(hi));
                let (lo_i, hi_i) = (self.as_index(vlo, lo.span), self.as_index(vhi, hi.span));
                Some(Bound {
                    lo: lo_i?,
                    hi: hi_i?,
                    over: Over::Range,
                })
            }
            Range::Each(e) => {
                if let Some(set) = self.set_of_expr(e) {
                    let n = self.sets.get(set as usize).map_or(0, |s| s.count);
                    return Some(Bound {
                        lo: Index::constant(0),
                        hi: Index::constant(n as i64),
                        over: Over::Particles(set),
                    });
                }
                let n = match self.expr(e) {
                    Val::Vector(v) => v.len(),
                    Val::Matrix(m) => m.rows(),
                    Val::Error => return None,
                    other => {
                        self.report(
                            Diagnostic::error("E0201", format!("cannot range over {}", other.shape()))
                                .with_label(e.span, "not a particle set, vector or matrix")
                                .with_help("write `i in lo..hi` for a range of integers"),
                        );
                        return None;
                    }
                };
                Some(Bound {
                    lo: Index::constant(0),
                    hi: Index::constant(n as i64),
                    over: Over::Range,
                })
            }
        }
    }

    /// Binds `var` over `range` to a fresh index variable and runs `f` with it.
    pub(super) fn with_range<T>(
        &mut self,
        var: &'m ast::Ident,
        range: Range<'m>,
        f: impl FnOnce(&mut Self, IndexVar, Index, Index, Over) -> Option<T>,
    ) -> Option<T> {
        let b = self.bound(range)?;
        let v = self.fresh_var(&b.lo, &b.hi);
        self.locals.push((&var.name, Val::Int(Index::var(v))));
        let out = f(self, v, b.lo, b.hi, b.over);
        self.locals.pop();
        out
    }

    /// `op(var in range, body)` for a scalar, vector or matrix body.
    pub(super) fn reduction(
        &mut self,
        op: ReduceOp,
        var: &'m ast::Ident,
        range: Range<'m>,
        body: &'m ast::Expr,
    ) -> Val {
        self.with_range(var, range, |cx, v, lo, hi, over| {
            let b = cx.expr(body);
            Some(cx.reduce_val(op, (v, lo, hi, over), b, body.span))
        })
        .unwrap_or(Val::Error)
    }

    /// Reduces a checked body over a bound variable.
    fn reduce_val(
        &mut self,
        op: ReduceOp,
        (var, lo, hi, over): (IndexVar, Index, Index, Over),
        b: Val,
        span: Span,
    ) -> Val {
        match b {
            Val::Vector(body) => Val::Vector(Rc::new(VecExpr::Reduce(Rc::new(VecReduce {
                op,
                var,
                lo,
                hi,
                over,
                body,
            })))),
            Val::Matrix(body) => Val::Matrix(Rc::new(MatExpr::Reduce(Rc::new(VecReduce {
                op,
                var,
                lo,
                hi,
                over,
                body,
            })))),
            other => match self.real(other, span) {
                Some(body) => Val::Real(self.mk(Expr::Reduce {
                    op,
                    var,
                    lo,
                    hi,
                    over,
                    body,
                })),
                None => Val::Error,
            },
        }
    }

    /// The number of values a range has (both bounds constant).
    fn count_of(&mut self, range: Range<'m>, span: Span) -> Option<f64> {
        let b = self.bound(range)?;
        match (b.lo.as_constant(), b.hi.as_constant()) {
            (Some(lo), Some(hi)) if hi > lo => Some((hi - lo) as f64),
            _ => {
                self.report(
                    Diagnostic::error("E0804", "a mean needs a non-empty range of constant length")
                        .with_label(span, "the range's length is not a positive constant"),
                );
                None
            }
        }
    }

    /// `mean(var in range, body)`.
    pub(super) fn mean_binder(
        &mut self,
        var: &'m ast::Ident,
        range: Range<'m>,
        body: &'m ast::Expr,
        span: Span,
    ) -> Val {
        let Some(n) = self.count_of(range, span) else {
            return Val::Error;
        };
        let sum = self.reduction(ReduceOp::Sum, var, range, body);
        self.scale(sum, 1.0 / n, span)
    }

    /// `c · v` for a scalar, vector or matrix value.
    fn scale(&mut self, v: Val, c: f64, span: Span) -> Val {
        let k = Val::Real(self.mk(Expr::Const(c)));
        self.arith(BinaryFn::Mul, (k, span), (v, span), span)
    }

    /// `cov(j in range, x)`: (1/N) Σ_j (x_j − m)(x_j − m)ᵀ with m the mean of x.
    pub(super) fn cov_binder(
        &mut self,
        var: &'m ast::Ident,
        range: Range<'m>,
        body: &'m ast::Expr,
        span: Span,
    ) -> Val {
        let mean = self.mean_binder(var, range, body, span);
        let Val::Vector(mean) = mean else {
            return self.needs_vector("cov", mean, body.span);
        };
        let Some(n) = self.count_of(range, span) else {
            return Val::Error;
        };
        let centred_outer = self.with_range(var, range, |cx, v, lo, hi, over| {
            let x = cx.expr(body);
            let Val::Vector(x) = x else {
                return None;
            };
            let c = Rc::new(VecExpr::Zip(
                BinaryFn::Sub,
                Operand::Vector(x),
                Operand::Vector(mean.clone()),
                mean.len(),
            ));
            let outer = Val::Matrix(Rc::new(MatExpr::Outer(c.clone(), c)));
            Some(cx.reduce_val(ReduceOp::Sum, (v, lo, hi, over), outer, body.span))
        });
        match centred_outer {
            Some(sum) => self.scale(sum, 1.0 / n, span),
            None => Val::Error,
        }
    }

    /// `wmean(j in range, w, x)`: Σ w_j x_j / Σ w_j.
    pub(super) fn wmean_binder(
        &mut self,
        var: &'m ast::Ident,
        range: Range<'m>,
        (w, x): (&'m ast::Expr, &'m ast::Expr),
        span: Span,
    ) -> Val {
        self.weighted_mean(var, range, x, span, |cx| {
            let wv = cx.expr(w);
            cx.real(wv, w.span)
        })
    }

    /// `softmax_mean(j in range, s, x)`: the mean of x with weights exp(s_j − max s),
    /// computed without overflow; the shift by the maximum has no derivative (it
    /// cancels exactly).
    pub(super) fn softmax_mean_binder(
        &mut self,
        var: &'m ast::Ident,
        range: Range<'m>,
        (s, x): (&'m ast::Expr, &'m ast::Expr),
        span: Span,
    ) -> Val {
        let max = self.reduction(ReduceOp::Max, var, range, s);
        let Val::Real(max) = max else {
            return Val::Error;
        };
        let m = self.mk(Expr::NoGrad(max));
        self.weighted_mean(var, range, x, span, |cx| {
            let sv = cx.expr(s);
            let score = cx.real(sv, s.span)?;
            let shifted = cx.mk(Expr::Binary(BinaryFn::Sub, score, m.clone()));
            Some(cx.mk(Expr::Unary(UnaryFn::Exp, shifted)))
        })
    }

    /// Σ wⱼ xⱼ / Σ wⱼ over the binder, with the weight wⱼ made by `weight` inside it.
    fn weighted_mean(
        &mut self,
        var: &'m ast::Ident,
        range: Range<'m>,
        x: &'m ast::Expr,
        span: Span,
        weight: impl FnOnce(&mut Self) -> Option<Rc<Expr>>,
    ) -> Val {
        let parts = self.with_range(var, range, |cx, v, lo, hi, over| {
            let weight = weight(cx)?;
            let xv = cx.expr(x);
            let num = cx.arith(
                BinaryFn::Mul,
                (Val::Real(weight.clone()), span),
                (xv, x.span),
                span,
            );
            let num = cx.reduce_val(
                ReduceOp::Sum,
                (v, lo.clone(), hi.clone(), over.clone()),
                num,
                x.span,
            );
            let den = cx.reduce_val(ReduceOp::Sum, (v, lo, hi, over), Val::Real(weight), span);
            Some((num, den))
        });
        match parts {
            Some((num, den)) => self.arith(BinaryFn::Div, (num, span), (den, span), span),
            None => Val::Error,
        }
    }

    fn needs_vector(&mut self, name: &str, v: Val, span: Span) -> Val {
        if !matches!(v, Val::Error) {
            self.report(
                Diagnostic::error(
                    "E0804",
                    format!("`{name}` needs a vector body, found {}", v.shape()),
                )
                .with_label(span, format!("this is {}", v.shape())),
            );
        }
        Val::Error
    }
}
