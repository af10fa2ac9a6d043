//! Checked values: what an AST expression becomes during checking.
//!
//! Scalars are [`model::Expr`] nodes. A vector of length `n` stays symbolic as a
//! [`VecExpr`], a recipe for "element k ↦ scalar expression"; it is never a
//! model value, only a step towards one (`norm`, `dot`, indexing, SDE components).

use crate::model::{BinaryFn, Expr, Index, ParamId, StateId, UnaryFn};
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
