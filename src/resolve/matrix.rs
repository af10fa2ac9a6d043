//! Matrices: elements of symbolic matrices, matrix literals, elementwise
//! arithmetic, and the matrix builtins (`matvec`, `outer`, `transpose`, `trace`,
//! `chol`).
//!
//! A matrix is `real[n, k]`, row-major when flattened: element (i, j) of a matrix
//! state or parameter is component `i·k + j`, so every element access stays an
//! affine index. `m[i]` is row i (a vector), `m[i, j]` (or `m[i][j]`) an element.

use super::cx::Checker;
use super::index;
use super::val::{MatExpr, MatOperand, Val, VecExpr};
use crate::diagnostic::Diagnostic;
use crate::model::{BinaryFn, Expr, Index, Over, ReduceOp, UnaryFn};
use crate::source::Span;
use std::rc::Rc;

impl<'m> Checker<'m> {
    /// Element `(i, j)` of `m` (the caller has proved both in range).
    pub(super) fn mat_element(&mut self, m: &MatExpr, i: &Index, j: &Index) -> Rc<Expr> {
        match m {
            MatExpr::State(id, _, cols) => {
                let flat = flat_index(i, *cols, j);
                self.mk(Expr::StateElem(*id, flat))
            }
            MatExpr::Param(id, _, cols) => {
                let flat = flat_index(i, *cols, j);
                self.mk(Expr::ParamElem(*id, flat))
            }
            MatExpr::Rows(rows) => {
                if let Some(row) = i
                    .as_constant()
                    .and_then(|c| usize::try_from(c).ok())
                    .and_then(|c| rows.get(c))
                {
                    let row = row.clone();
                    return self.element(&row, j);
                }
                let items: Vec<Rc<Expr>> = rows.iter().map(|r| self.element(r, j)).collect();
                self.literal_element(&items, i)
            }
            MatExpr::Map(f, inner) => {
                let x = self.mat_element(inner, i, j);
                self.mk(Expr::Unary(*f, x))
            }
            MatExpr::Zip(f, a, b, _, _) => {
                let x = self.mat_operand_element(a, i, j);
                let y = self.mat_operand_element(b, i, j);
                self.mk(Expr::Binary(*f, x, y))
            }
            MatExpr::Outer(u, v) => {
                let x = self.element(u, i);
                let y = self.element(v, j);
                self.mk(Expr::Binary(BinaryFn::Mul, x, y))
            }
            MatExpr::Transpose(inner) => self.mat_element(inner, j, i),
            MatExpr::Reduce(r) => {
                let body = self.mat_element(&r.body, i, j);
                self.mk(Expr::Reduce {
                    op: r.op,
                    var: r.var,
                    lo: r.lo.clone(),
                    hi: r.hi.clone(),
                    over: r.over.clone(),
                    body,
                })
            }
            MatExpr::Select(c, a, b) => {
                let x = self.mat_element(a, i, j);
                let y = self.mat_element(b, i, j);
                self.mk(Expr::Select(c.clone(), x, y))
            }
        }
    }

    fn mat_operand_element(&mut self, o: &MatOperand, i: &Index, j: &Index) -> Rc<Expr> {
        match o {
            MatOperand::Scalar(e) => e.clone(),
            MatOperand::Matrix(m) => self.mat_element(m, i, j),
        }
    }

    /// `[[a, b], [c, d]]`: a literal whose items are vectors of one length.
    pub(super) fn matrix_literal(&mut self, rows: Vec<(Val, Span)>, span: Span) -> Val {
        let mut out = Vec::with_capacity(rows.len());
        let mut len = None;
        for (v, s) in rows {
            match v {
                Val::Vector(r) => {
                    if let Some(n) = len.filter(|n| *n != r.len()) {
                        self.report(
                            Diagnostic::error("E0202", "the rows of a matrix have different lengths")
                                .with_label(s, format!("this row is real[{}]", r.len()))
                                .with_label(span, format!("the first row is real[{n}]")),
                        );
                        return Val::Error;
                    }
                    len = Some(r.len());
                    out.push(r);
                }
                Val::Error => return Val::Error,
                other => {
                    self.report(
                        Diagnostic::error("E0201", "a matrix literal needs vectors as rows")
                            .with_label(s, format!("this is {}", other.shape())),
                    );
                    return Val::Error;
                }
            }
        }
        Val::Matrix(Rc::new(MatExpr::Rows(out)))
    }

    /// `m[i]`: row `i` of a matrix.
    pub(super) fn matrix_row(&mut self, m: Rc<MatExpr>, idx: Index, spans: (Span, Span)) -> Val {
        if !self.check_bounds(&idx, m.rows(), spans.0, spans.1) {
            return Val::Error;
        }
        Val::Vector(Rc::new(VecExpr::Row(m, idx)))
    }

    /// Elementwise `a f b` where at least one side is a matrix (scalars broadcast).
    pub(super) fn mat_zip(&mut self, f: BinaryFn, (a, sa): (Val, Span), (b, sb): (Val, Span)) -> Val {
        let shape = |v: &Val| match v {
            Val::Matrix(m) => Some((m.rows(), m.cols())),
            _ => None,
        };
        let (sha, shb) = (shape(&a), shape(&b));
        if let (Some(x), Some(y)) = (sha, shb) {
            if x != y {
                self.report(super::expr::shape_mismatch(
                    "E0202",
                    "matrix shapes differ",
                    (&a, sa),
                    (&b, sb),
                ));
                return Val::Error;
            }
        }
        if matches!(a, Val::Vector(_)) || matches!(b, Val::Vector(_)) {
            self.report(
                super::expr::shape_mismatch(
                    "E0202",
                    "cannot combine a matrix and a vector elementwise",
                    (&a, sa),
                    (&b, sb),
                )
                .with_help("use `matvec(A, v)` for a matrix-vector product"),
            );
            return Val::Error;
        }
        let (rows, cols) = sha.or(shb).unwrap_or((0, 0));
        let (x, y) = (self.mat_operand(a, sa), self.mat_operand(b, sb));
        match (x, y) {
            (Some(x), Some(y)) => Val::Matrix(Rc::new(MatExpr::Zip(f, x, y, rows, cols))),
            _ => Val::Error,
        }
    }

    fn mat_operand(&mut self, v: Val, span: Span) -> Option<MatOperand> {
        match v {
            Val::Matrix(m) => Some(MatOperand::Matrix(m)),
            other => self.real(other, span).map(MatOperand::Scalar),
        }
    }

    /// `matvec(A, v)`, `outer(u, v)`, `transpose(A)`, `trace(A)`, `chol(A)`.
    pub(super) fn matrix_builtin(&mut self, name: &str, args: Vec<(Val, Span)>, span: Span) -> Val {
        let mut it = args.into_iter();
        match (name, it.next(), it.next(), it.next()) {
            ("matvec", Some((Val::Matrix(a), sa)), Some((Val::Vector(v), sv)), None) => {
                if a.cols() != v.len() {
                    self.report(
                        Diagnostic::error(
                            "E0202",
                            format!(
                                "`matvec` of real[{}, {}] and real[{}]",
                                a.rows(),
                                a.cols(),
                                v.len()
                            ),
                        )
                        .with_label(sa, format!("this has {} columns", a.cols()))
                        .with_label(sv, format!("this has {} elements", v.len())),
                    );
                    return Val::Error;
                }
                Val::Vector(Rc::new(VecExpr::MatVec(a, v)))
            }
            ("outer", Some((Val::Vector(u), _)), Some((Val::Vector(v), _)), None) => {
                Val::Matrix(Rc::new(MatExpr::Outer(u, v)))
            }
            ("transpose", Some((Val::Matrix(a), _)), None, None) => {
                Val::Matrix(Rc::new(MatExpr::Transpose(a)))
            }
            ("trace", Some((Val::Matrix(a), sa)), None, None) => {
                if a.rows() != a.cols() {
                    self.report(
                        Diagnostic::error(
                            "E0202",
                            format!("`trace` of a non-square real[{}, {}]", a.rows(), a.cols()),
                        )
                        .with_label(sa, "not square"),
                    );
                    return Val::Error;
                }
                let (lo, hi) = (Index::constant(0), Index::constant(a.rows() as i64));
                let k = self.fresh_var(&lo, &hi);
                let body = self.mat_element(&a, &Index::var(k), &Index::var(k));
                Val::Real(self.mk(Expr::Reduce {
                    op: ReduceOp::Sum,
                    var: k,
                    lo,
                    hi,
                    over: Over::Range,
                    body,
                }))
            }
            ("chol", Some((Val::Matrix(a), sa)), None, None) => {
                if a.rows() != a.cols() {
                    self.report(
                        Diagnostic::error(
                            "E0202",
                            format!("`chol` of a non-square real[{}, {}]", a.rows(), a.cols()),
                        )
                        .with_label(sa, "not square"),
                    );
                    return Val::Error;
                }
                Val::Matrix(self.cholesky(&a))
            }
            (_, first, second, third) => {
                let all: Vec<(Val, Span)> = [first, second, third].into_iter().flatten().collect();
                if all.iter().any(|(v, _)| matches!(v, Val::Error)) {
                    return Val::Error;
                }
                let expected = match name {
                    "matvec" => "a matrix and a vector",
                    "outer" => "two vectors",
                    "chol" => "one square matrix",
                    _ => "one matrix",
                };
                let found: Vec<String> = all.iter().map(|(v, _)| v.shape()).collect();
                self.report(
                    Diagnostic::error("E0201", format!("`{name}` takes {expected}"))
                        .with_label(span, format!("given: {}", found.join(", "))),
                );
                Val::Error
            }
        }
    }
}

impl Checker<'_> {
    /// The lower Cholesky factor L of a symmetric positive definite k×k matrix M
    /// (L Lᵀ = M), built element by element from M's lower triangle:
    /// L_jj = √(M_jj − Σ_{p<j} L_jp²), L_ij = (M_ij − Σ_{p<j} L_ip L_jp) / L_jj for
    /// i > j, and 0 above the diagonal. Each element is a shared scalar expression,
    /// so an M that does not depend on the particle is computed once per block.
    fn cholesky(&mut self, m: &MatExpr) -> Rc<MatExpr> {
        let k = m.rows();
        let zero = self.mk(Expr::Const(0.0));
        let mut l: Vec<Vec<Rc<Expr>>> = vec![vec![zero; k]; k];
        for j in 0..k {
            for i in j..k {
                let (ic, jc) = (Index::constant(i as i64), Index::constant(j as i64));
                let mut acc = self.mat_element(m, &ic, &jc);
                for p in 0..j {
                    let (Some(a), Some(b)) = (cell(&l, i, p), cell(&l, j, p)) else {
                        continue;
                    };
                    let prod = self.mk(Expr::Binary(BinaryFn::Mul, a, b));
                    acc = self.mk(Expr::Binary(BinaryFn::Sub, acc, prod));
                }
                let value = match (i == j, cell(&l, j, j)) {
                    (true, _) => self.mk(Expr::Unary(UnaryFn::Sqrt, acc)),
                    (false, Some(d)) => self.mk(Expr::Binary(BinaryFn::Div, acc, d)),
                    (false, None) => acc,
                };
                if let Some(slot) = l.get_mut(i).and_then(|r| r.get_mut(j)) {
                    *slot = value;
                }
            }
        }
        let rows = l.into_iter().map(|r| Rc::new(VecExpr::Literal(r))).collect();
        Rc::new(MatExpr::Rows(rows))
    }
}

/// Element (i, j) of a matrix held as rows.
fn cell(l: &[Vec<Rc<Expr>>], i: usize, j: usize) -> Option<Rc<Expr>> {
    l.get(i).and_then(|r| r.get(j)).cloned()
}

/// `i·cols + j`.
fn flat_index(i: &Index, cols: usize, j: &Index) -> Index {
    index::scale(i, cols as i64)
        .and_then(|r| index::add(&r, j))
        .unwrap_or_default()
}
