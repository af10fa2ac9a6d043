//! Numbers: constant folding of new nodes and the constant evaluator used for
//! parameter values, sizes, initial values and run settings.
//!
//! The evaluator walks a checked [`Expr`] that mentions no param, state or time
//! (the checker substitutes parameter values in constant mode). It is not on the
//! sampling path; a step budget keeps pathological reductions from running forever.

use crate::model::{math, BinaryFn, CmpOp, Expr, Index, IndexVar, Over, ReduceOp, UnaryFn};
use std::rc::Rc;

/// Why a constant could not be computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum EvalError {
    /// The expression mentions a param, state or time.
    NotConstant,
    /// More than the step budget.
    TooLong,
}

/// Maximum evaluation steps for one constant.
const BUDGET: u64 = 20_000_000;

/// Applies a scalar function (the language's semantics, shared with the symbolic stage).
pub(super) fn unary(f: UnaryFn, a: f64) -> f64 {
    math::eval_unary(f, a)
}

/// Applies a two-argument function.
pub(super) fn binary(f: BinaryFn, a: f64, b: f64) -> f64 {
    math::eval_binary(f, a, b)
}

fn compare(op: CmpOp, a: f64, b: f64) -> bool {
    math::eval_cmp(op, a, b)
}

/// Folds a node whose operands are constants; returns it unchanged otherwise.
pub(super) fn fold(e: Expr) -> Expr {
    let folded = match &e {
        Expr::IndexValue(idx) => idx.as_constant().map(|c| c as f64),
        Expr::Unary(f, a) => match **a {
            Expr::Const(a) => Some(unary(*f, a)),
            _ => None,
        },
        Expr::Binary(f, a, b) => match (&**a, &**b) {
            (Expr::Const(a), Expr::Const(b)) => Some(binary(*f, *a, *b)),
            _ => None,
        },
        Expr::NoGrad(a) => match **a {
            Expr::Const(a) => Some(a),
            _ => None,
        },
        Expr::Select(c, a, b) => match eval_cond(c, &mut Vec::new(), &mut 1000) {
            Ok(true) => return (**a).clone(),
            Ok(false) => return (**b).clone(),
            Err(_) => None,
        },
        _ => None,
    };
    match folded {
        Some(v) if v.is_finite() => Expr::Const(v),
        _ => e,
    }
}

fn index(idx: &Index, env: &[(IndexVar, i64)]) -> Result<i64, EvalError> {
    let mut v = idx.constant;
    for (var, c) in &idx.terms {
        let x = env
            .iter()
            .rev()
            .find(|(w, _)| w == var)
            .map(|(_, x)| *x)
            .ok_or(EvalError::NotConstant)?;
        v = v.saturating_add(c.saturating_mul(x));
    }
    Ok(v)
}

fn tick(budget: &mut u64) -> Result<(), EvalError> {
    *budget = budget.checked_sub(1).ok_or(EvalError::TooLong)?;
    Ok(())
}

/// Evaluates a constant real expression.
pub(super) fn eval(e: &Expr) -> Result<f64, EvalError> {
    eval_in(e, &mut Vec::new(), &mut BUDGET.clone())
}

fn eval_in(e: &Expr, env: &mut Vec<(IndexVar, i64)>, budget: &mut u64) -> Result<f64, EvalError> {
    tick(budget)?;
    Ok(match e {
        Expr::Const(c) => *c,
        Expr::Param(_)
        | Expr::ParamElem(..)
        | Expr::Lookup { .. }
        | Expr::State(_)
        | Expr::StateElem(..)
        | Expr::Time => return Err(EvalError::NotConstant),
        Expr::IndexValue(idx) => index(idx, env)? as f64,
        Expr::Unary(f, a) => unary(*f, eval_in(a, env, budget)?),
        Expr::Binary(f, a, b) => binary(*f, eval_in(a, env, budget)?, eval_in(b, env, budget)?),
        Expr::Compare(..) | Expr::And(..) | Expr::Or(..) | Expr::Not(_) => {
            if eval_cond(e, env, budget)? {
                1.0
            } else {
                0.0
            }
        }
        Expr::Select(c, a, b) => {
            if eval_cond(c, env, budget)? {
                eval_in(a, env, budget)?
            } else {
                eval_in(b, env, budget)?
            }
        }
        Expr::NoGrad(a) => eval_in(a, env, budget)?,
        Expr::Arg(_) | Expr::Deriv { .. } | Expr::Subst { .. } => return Err(EvalError::NotConstant),
        Expr::Reduce {
            op,
            var,
            lo,
            hi,
            over: Over::Range | Over::Particles(_),
            body,
        } => reduce(*op, *var, (lo, hi), body, env, budget)?,
        // Run-time lists and blocks are not known now.
        Expr::Reduce { .. } => return Err(EvalError::NotConstant),
    })
}

fn reduce(
    op: ReduceOp,
    var: IndexVar,
    (lo, hi): (&Index, &Index),
    body: &Rc<Expr>,
    env: &mut Vec<(IndexVar, i64)>,
    budget: &mut u64,
) -> Result<f64, EvalError> {
    let (lo, hi) = (index(lo, env)?, index(hi, env)?);
    let mut acc = match op {
        ReduceOp::Sum => 0.0,
        ReduceOp::Prod => 1.0,
        ReduceOp::Max => f64::NEG_INFINITY,
        ReduceOp::Min => f64::INFINITY,
    };
    for k in lo..hi {
        env.push((var, k));
        let v = eval_in(body, env, budget);
        env.pop();
        let v = v?;
        acc = match op {
            ReduceOp::Sum => acc + v,
            ReduceOp::Prod => acc * v,
            ReduceOp::Max => acc.max(v),
            ReduceOp::Min => acc.min(v),
        };
    }
    Ok(acc)
}

/// Evaluates a constant condition.
pub(super) fn eval_cond(
    e: &Expr,
    env: &mut Vec<(IndexVar, i64)>,
    budget: &mut u64,
) -> Result<bool, EvalError> {
    tick(budget)?;
    match e {
        Expr::Compare(op, a, b) => Ok(compare(*op, eval_in(a, env, budget)?, eval_in(b, env, budget)?)),
        Expr::And(a, b) => Ok(eval_cond(a, env, budget)? && eval_cond(b, env, budget)?),
        Expr::Or(a, b) => Ok(eval_cond(a, env, budget)? || eval_cond(b, env, budget)?),
        Expr::Not(a) => Ok(!eval_cond(a, env, budget)?),
        _ => Ok(eval_in(e, env, budget)? != 0.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_matches_known_values() {
        for (x, want) in [
            (0.0, 0.0),
            (0.5, 0.520_499_877_813_046_5),
            (1.0, 0.842_700_792_949_714_9),
            (2.0, 0.995_322_265_018_952_7),
            (3.0, 0.999_977_909_503_001_4),
            (-1.5, -0.966_105_146_475_310_7),
        ] {
            let got = unary(UnaryFn::Erf, x);
            assert!((got - want).abs() < 1e-13, "erf({x}) = {got} want {want}");
        }
    }

    #[test]
    fn reductions_evaluate() {
        let v = IndexVar(0);
        let body = Rc::new(Expr::IndexValue(Index::var(v)));
        let e = Expr::Reduce {
            op: ReduceOp::Sum,
            var: v,
            lo: Index::constant(0),
            hi: Index::constant(5),
            over: Over::Range,
            body,
        };
        assert_eq!(eval(&e), Ok(10.0));
        assert_eq!(eval(&Expr::Time), Err(EvalError::NotConstant));
    }

    #[test]
    fn folding_only_constants() {
        let c = |x| Rc::new(Expr::Const(x));
        assert_eq!(
            fold(Expr::Binary(BinaryFn::Add, c(1.0), c(2.0))),
            Expr::Const(3.0)
        );
        assert_eq!(
            fold(Expr::Unary(UnaryFn::Log, c(-1.0))),
            Expr::Unary(UnaryFn::Log, c(-1.0))
        );
        let t = Rc::new(Expr::Time);
        assert_eq!(
            fold(Expr::Unary(UnaryFn::Exp, t.clone())),
            Expr::Unary(UnaryFn::Exp, t)
        );
    }
}
