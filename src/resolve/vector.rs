//! Vector desugaring: elements of symbolic vectors and the vector builtins
//! (`sum`, `prod`, `max`, `min`, `mean`, `norm`, `dot`, `logsumexp`), each a loop
//! over a fresh index variable.

use super::cx::Checker;
use super::val::{index_value, Operand, VecExpr};
use crate::model::{BinaryFn, CmpOp, Expr, Index, Over, ReduceOp, UnaryFn};
use std::rc::Rc;

impl<'m> Checker<'m> {
    /// Element `idx` of `v` (the caller has proved `idx` in range).
    pub(super) fn element(&mut self, v: &VecExpr, idx: &Index) -> Rc<Expr> {
        match v {
            VecExpr::State(id, _) => self.mk(Expr::StateElem(*id, idx.clone())),
            VecExpr::Param(id, _) => self.mk(Expr::ParamElem(*id, idx.clone())),
            VecExpr::Literal(items) => self.literal_element(items, idx),
            VecExpr::Fill(e, _) => e.clone(),
            VecExpr::Space { a, b, n, log } => {
                let x = self.space_point(a, b, *n, idx);
                if *log {
                    let ten = self.mk(Expr::Const(10.0));
                    self.mk(Expr::Binary(BinaryFn::Pow, ten, x))
                } else {
                    x
                }
            }
            VecExpr::Map(f, inner) => {
                let x = self.element(inner, idx);
                self.mk(Expr::Unary(*f, x))
            }
            VecExpr::Zip(f, a, b, _) => {
                let x = self.operand_element(a, idx);
                let y = self.operand_element(b, idx);
                self.mk(Expr::Binary(*f, x, y))
            }
            VecExpr::Select(c, a, b) => {
                let x = self.element(a, idx);
                let y = self.element(b, idx);
                self.mk(Expr::Select(c.clone(), x, y))
            }
            VecExpr::Row(m, row) => self.mat_element(m, row, idx),
            VecExpr::KeyRow { param, cols, key } => self.mk(Expr::Lookup {
                param: *param,
                base: idx.clone(),
                keys: vec![(key.clone(), *cols as i64)],
            }),
            VecExpr::Reduce(r) => {
                let body = self.element(&r.body, idx);
                self.mk(Expr::Reduce {
                    op: r.op,
                    var: r.var,
                    lo: r.lo.clone(),
                    hi: r.hi.clone(),
                    over: r.over.clone(),
                    body,
                })
            }
            VecExpr::MatVec(m, v) => {
                let (lo, hi) = (Index::constant(0), Index::constant(v.len() as i64));
                let k = self.fresh_var(&lo, &hi);
                let a = self.mat_element(m, idx, &Index::var(k));
                let b = self.element(v, &Index::var(k));
                let body = self.mk(Expr::Binary(BinaryFn::Mul, a, b));
                self.mk(Expr::Reduce {
                    op: ReduceOp::Sum,
                    var: k,
                    lo,
                    hi,
                    over: Over::Range,
                    body,
                })
            }
        }
    }

    fn operand_element(&mut self, o: &Operand, idx: &Index) -> Rc<Expr> {
        match o {
            Operand::Scalar(e) => e.clone(),
            Operand::Vector(v) => self.element(v, idx),
        }
    }

    /// `[a0, a1, …][idx]`: the item itself for a constant index, else a chain of selects.
    pub(super) fn literal_element(&mut self, items: &[Rc<Expr>], idx: &Index) -> Rc<Expr> {
        if let Some(c) = idx.as_constant() {
            if let Some(item) = usize::try_from(c).ok().and_then(|c| items.get(c)) {
                return item.clone();
            }
        }
        let mut iter = items.iter().enumerate().rev();
        let Some((_, last)) = iter.next() else {
            return self.mk(Expr::Const(f64::NAN));
        };
        let at = self.mk(index_value(idx));
        let mut acc = last.clone();
        for (k, item) in iter {
            let kc = self.mk(Expr::Const(k as f64));
            let is_k = self.mk(Expr::Compare(CmpOp::Eq, at.clone(), kc));
            acc = self.mk(Expr::Select(is_k, item.clone(), acc));
        }
        acc
    }

    /// `a + (b − a)·idx/(n − 1)` (`a` when `n = 1`).
    fn space_point(&mut self, a: &Rc<Expr>, b: &Rc<Expr>, n: usize, idx: &Index) -> Rc<Expr> {
        if n <= 1 {
            return a.clone();
        }
        let width = self.mk(Expr::Binary(BinaryFn::Sub, b.clone(), a.clone()));
        let at = self.mk(index_value(idx));
        let num = self.mk(Expr::Binary(BinaryFn::Mul, width, at));
        let den = self.mk(Expr::Const((n - 1) as f64));
        let step = self.mk(Expr::Binary(BinaryFn::Div, num, den));
        self.mk(Expr::Binary(BinaryFn::Add, a.clone(), step))
    }

    /// `op` over the elements of `v`, as a loop with a fresh variable.
    pub(super) fn reduce_vector(&mut self, op: ReduceOp, v: &VecExpr) -> Rc<Expr> {
        self.reduce_vector_with(op, v, |_, x| x)
    }

    /// `op` over `f(v[k])` for k in `0..len(v)`.
    pub(super) fn reduce_vector_with(
        &mut self,
        op: ReduceOp,
        v: &VecExpr,
        f: impl FnOnce(&mut Self, Rc<Expr>) -> Rc<Expr>,
    ) -> Rc<Expr> {
        let (lo, hi) = (Index::constant(0), Index::constant(v.len() as i64));
        let var = self.fresh_var(&lo, &hi);
        let x = self.element(v, &Index::var(var));
        let body = f(self, x);
        self.mk(Expr::Reduce {
            op,
            var,
            lo,
            hi,
            over: Over::Range,
            body,
        })
    }

    /// `sqrt(Σ v_k²)`.
    pub(super) fn norm(&mut self, v: &VecExpr) -> Rc<Expr> {
        let sum = self.reduce_vector_with(ReduceOp::Sum, v, |cx, x| {
            let two = cx.mk(Expr::Const(2.0));
            cx.mk(Expr::Binary(BinaryFn::Pow, x, two))
        });
        self.mk(Expr::Unary(UnaryFn::Sqrt, sum))
    }

    /// `Σ u_k v_k` (lengths already checked equal).
    pub(super) fn dot(&mut self, u: &Rc<VecExpr>, v: &Rc<VecExpr>) -> Rc<Expr> {
        let prod = VecExpr::Zip(
            BinaryFn::Mul,
            Operand::Vector(u.clone()),
            Operand::Vector(v.clone()),
            u.len(),
        );
        self.reduce_vector(ReduceOp::Sum, &prod)
    }

    /// `Σ v_k / n`.
    pub(super) fn mean(&mut self, v: &VecExpr) -> Rc<Expr> {
        let sum = self.reduce_vector(ReduceOp::Sum, v);
        let n = self.mk(Expr::Const(v.len() as f64));
        self.mk(Expr::Binary(BinaryFn::Div, sum, n))
    }

    /// `m + log(Σ exp(v_k − m))` with `m = NoGrad(max v)`.
    pub(super) fn logsumexp_vector(&mut self, v: &VecExpr) -> Rc<Expr> {
        let max = self.reduce_vector(ReduceOp::Max, v);
        let m = self.mk(Expr::NoGrad(max));
        let mm = m.clone();
        let sum = self.reduce_vector_with(ReduceOp::Sum, v, move |cx, x| {
            let d = cx.mk(Expr::Binary(BinaryFn::Sub, x, mm));
            cx.mk(Expr::Unary(UnaryFn::Exp, d))
        });
        self.logsumexp_tail(m, sum)
    }

    /// `m + log(Σ exp(a_k − m))` over scalar terms, `m = NoGrad(max(a_k))`.
    pub(super) fn logsumexp_scalars(&mut self, items: &[Rc<Expr>]) -> Option<Rc<Expr>> {
        let (first, rest) = items.split_first()?;
        if rest.is_empty() {
            return Some(first.clone());
        }
        let mut max = first.clone();
        for x in rest {
            max = self.mk(Expr::Binary(BinaryFn::Max, max, x.clone()));
        }
        let m = self.mk(Expr::NoGrad(max));
        let mut sum: Option<Rc<Expr>> = None;
        for x in items {
            let d = self.mk(Expr::Binary(BinaryFn::Sub, x.clone(), m.clone()));
            let e = self.mk(Expr::Unary(UnaryFn::Exp, d));
            sum = Some(match sum {
                None => e,
                Some(s) => self.mk(Expr::Binary(BinaryFn::Add, s, e)),
            });
        }
        let sum = sum?;
        Some(self.logsumexp_tail(m, sum))
    }

    /// `m + log(sum)`.
    pub(super) fn logsumexp_tail(&mut self, m: Rc<Expr>, sum: Rc<Expr>) -> Rc<Expr> {
        let l = self.mk(Expr::Unary(UnaryFn::Log, sum));
        self.mk(Expr::Binary(BinaryFn::Add, m, l))
    }
}
