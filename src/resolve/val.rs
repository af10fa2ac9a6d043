//! Checked values: what an AST expression becomes during checking.
//!
//! Scalars are [`model::Expr`] nodes. A vector of length `n` stays symbolic as a
//! [`VecExpr`], a recipe for "element k ↦ scalar expression", and a matrix as a
//! [`MatExpr`], "element (i, j) ↦ scalar"; they are never model values, only
//! steps towards one (`norm`, `dot`, indexing, SDE components).

use crate::model::{BinaryFn, Expr, Index, Over, ParamId, ReduceOp, StateId, UnaryFn};
use std::rc::Rc;

/// The result of checking one expression.
#[derive(Clone, Debug)]
pub(super) enum Val {
    /// An integer that is affine in index variables (a literal, an int param, `i + 1`).
    Int(Index),
    /// An integer-valued expression that is not affine (`i * j`): usable as a real only.
    NonAffine(Rc<Expr>),
    /// A real scalar.
    Real(Rc<Expr>),
    /// A condition.
    Bool(Rc<Expr>),
    /// A real vector.
    Vector(Rc<VecExpr>),
    /// A real matrix.
    Matrix(Rc<MatExpr>),
    /// Something already reported; absorbs further errors.
    Error,
}

impl Val {
    /// The shape as the user writes it: `int`, `real`, `bool`, `real[3]`.
    pub(super) fn shape(&self) -> String {
        match self {
            Val::Int(_) | Val::NonAffine(_) => "int".into(),
            Val::Real(_) => "real".into(),
            Val::Bool(_) => "bool".into(),
            Val::Vector(v) => format!("real[{}]", v.len()),
            Val::Matrix(m) => format!("real[{}, {}]", m.rows(), m.cols()),
            Val::Error => "?".into(),
        }
    }
}

/// One side of an elementwise operation.
#[derive(Clone, Debug)]
pub(super) enum Operand {
    /// Broadcast to every element.
    Scalar(Rc<Expr>),
    /// Taken element by element.
    Vector(Rc<VecExpr>),
}

/// A symbolic real vector.
#[derive(Clone, Debug)]
pub(super) enum VecExpr {
    /// A vector state of the given length.
    State(StateId, usize),
    /// A vector parameter of the given length.
    Param(ParamId, usize),
    /// `[a, b, c]` (never empty).
    Literal(Vec<Rc<Expr>>),
    /// `fill(n, v)`, `zeros(n)`, `ones(n)`.
    Fill(Rc<Expr>, usize),
    /// `linspace(a, b, n)` or (with `log`) `logspace(a, b, n)`.
    Space {
        /// First exponent / point.
        a: Rc<Expr>,
        /// Last exponent / point.
        b: Rc<Expr>,
        /// Number of points.
        n: usize,
        /// Whether the points are `10^x`.
        log: bool,
    },
    /// `f(v)` elementwise.
    Map(UnaryFn, Rc<VecExpr>),
    /// `a op b` elementwise with broadcasting; the length is stored.
    Zip(BinaryFn, Operand, Operand, usize),
    /// `if c then u else v` with a scalar condition.
    Select(Rc<Expr>, Rc<VecExpr>, Rc<VecExpr>),
    /// Row `i` of a matrix.
    Row(Rc<MatExpr>, Index),
    /// `op(var in lo..hi, body)` elementwise: element k reduces element k of the body.
    Reduce(Rc<VecReduce<VecExpr>>),
    /// `A · v`.
    MatVec(Rc<MatExpr>, Rc<VecExpr>),
    /// Row `key` of a matrix parameter, `key` an entry of an integer table (see `lookup.rs`).
    KeyRow {
        /// The matrix parameter.
        param: ParamId,
        /// Its number of columns.
        cols: usize,
        /// The row: an integer-valued expression.
        key: Rc<Expr>,
    },
}

/// A reduction whose body is a vector or a matrix (reduced elementwise).
#[derive(Clone, Debug)]
pub(super) struct VecReduce<T> {
    /// Σ, Π, max, min.
    pub(super) op: ReduceOp,
    /// The bound variable.
    pub(super) var: crate::model::IndexVar,
    /// Inclusive lower bound.
    pub(super) lo: Index,
    /// Exclusive upper bound.
    pub(super) hi: Index,
    /// Which values of the range are visited.
    pub(super) over: Over,
    /// The reduced vector or matrix.
    pub(super) body: Rc<T>,
}

/// A symbolic real matrix (row-major when flattened).
#[derive(Clone, Debug)]
pub(super) enum MatExpr {
    /// A matrix state (rows, cols): element (i, j) is component `i·cols + j`.
    State(StateId, usize, usize),
    /// A matrix parameter (rows, cols).
    Param(ParamId, usize, usize),
    /// `[[…], […]]`: rows of equal length (never empty).
    Rows(Vec<Rc<VecExpr>>),
    /// `f(m)` elementwise.
    Map(UnaryFn, Rc<MatExpr>),
    /// `a op b` elementwise with scalar broadcasting; the shape is stored.
    Zip(BinaryFn, MatOperand, MatOperand, usize, usize),
    /// `u vᵀ`.
    Outer(Rc<VecExpr>, Rc<VecExpr>),
    /// `mᵀ`.
    Transpose(Rc<MatExpr>),
    /// `op(var in lo..hi, body)` elementwise.
    Reduce(Rc<VecReduce<MatExpr>>),
    /// `if c then a else b` with a scalar condition.
    Select(Rc<Expr>, Rc<MatExpr>, Rc<MatExpr>),
}

/// One side of an elementwise matrix operation.
#[derive(Clone, Debug)]
pub(super) enum MatOperand {
    /// Broadcast to every element.
    Scalar(Rc<Expr>),
    /// Taken element by element.
    Matrix(Rc<MatExpr>),
}

impl MatExpr {
    /// Number of rows.
    pub(super) fn rows(&self) -> usize {
        match self {
            MatExpr::State(_, r, _) | MatExpr::Param(_, r, _) | MatExpr::Zip(_, _, _, r, _) => *r,
            MatExpr::Rows(rows) => rows.len(),
            MatExpr::Map(_, m) => m.rows(),
            MatExpr::Outer(u, _) => u.len(),
            MatExpr::Transpose(m) => m.cols(),
            MatExpr::Reduce(r) => r.body.rows(),
            MatExpr::Select(_, a, _) => a.rows(),
        }
    }

    /// Number of columns.
    pub(super) fn cols(&self) -> usize {
        match self {
            MatExpr::State(_, _, c) | MatExpr::Param(_, _, c) | MatExpr::Zip(_, _, _, _, c) => *c,
            MatExpr::Rows(rows) => rows.first().map_or(0, |r| r.len()),
            MatExpr::Map(_, m) => m.cols(),
            MatExpr::Outer(_, v) => v.len(),
            MatExpr::Transpose(m) => m.rows(),
            MatExpr::Reduce(r) => r.body.cols(),
            MatExpr::Select(_, a, _) => a.cols(),
        }
    }
}

impl VecExpr {
    /// Number of elements.
    pub(super) fn len(&self) -> usize {
        match self {
            VecExpr::State(_, n) | VecExpr::Param(_, n) | VecExpr::Fill(_, n) => *n,
            VecExpr::Literal(items) => items.len(),
            VecExpr::Space { n, .. } => *n,
            VecExpr::Map(_, v) => v.len(),
            VecExpr::Zip(_, _, _, n) => *n,
            VecExpr::Select(_, a, _) => a.len(),
            VecExpr::Row(m, _) => m.cols(),
            VecExpr::Reduce(r) => r.body.len(),
            VecExpr::MatVec(m, _) => m.rows(),
            VecExpr::KeyRow { cols, .. } => *cols,
        }
    }
}

/// An index as a real-valued expression, folding constants.
pub(super) fn index_value(idx: &Index) -> Expr {
    match idx.as_constant() {
        Some(c) => Expr::Const(c as f64),
        None => Expr::IndexValue(idx.clone()),
    }
}
