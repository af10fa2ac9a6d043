//! Expressions: names, operators, indexing, `if`, `let … in`, vector literals.
//!
//! Each AST expression becomes a [`Val`]. Errors are reported where found and
//! yield [`Val::Error`], which every later step accepts silently, so one pass
//! reports many independent mistakes.

use super::cx::{Checker, Def, Mode};
use super::index;
use super::scope::Found;
use super::val::{index_value, MatExpr, Operand, Val, VecExpr};
use crate::diagnostic::Diagnostic;
use crate::model::{BinaryFn, CmpOp, Expr, Index, UnaryFn};
use crate::source::Span;
use crate::syntax::ast::{self, BinOp, ExprKind, UnOp};
use std::rc::Rc;

impl<'m> Checker<'m> {
    /// Checks one expression.
    pub(super) fn expr(&mut self, e: &'m ast::Expr) -> Val {
        if self.over_budget(e.span) {
            return Val::Error;
        }
        match &e.kind {
            ExprKind::Int(i) => Val::Int(Index::constant(*i)),
            ExprKind::Real(r) => Val::Real(self.mk(Expr::Const(*r))),
            ExprKind::Bool(b) => Val::Bool(self.bool_const(*b)),
            ExprKind::Name(n) => self.name(n, e.span),
            ExprKind::Unary(op, a) => {
                let v = self.expr(a);
                self.unary(*op, v, a.span)
            }
            ExprKind::Binary(op, a, b) => {
                let (va, vb) = (self.expr(a), self.expr(b));
                self.binary(*op, (va, a.span), (vb, b.span), e.span)
            }
            ExprKind::Index(v, i) => self.index_expr(v, i),
            ExprKind::Call { func, args } => self.call(func, args, e.span),
            ExprKind::Vector(items) => self.vector_literal(items, e.span),
            ExprKind::If(c, a, b) => self.if_expr(c, a, b),
            ExprKind::Let { name, value, body } => {
                let v = self.expr(value);
                self.locals.push((&name.name, v));
                let out = self.expr(body);
                self.locals.pop();
                out
            }
            ExprKind::Error => Val::Error,
        }
    }

    /// A constant condition (`true` is `0 == 0`).
    pub(super) fn bool_const(&mut self, b: bool) -> Rc<Expr> {
        let zero = self.mk(Expr::Const(0.0));
        let op = if b { CmpOp::Eq } else { CmpOp::Ne };
        self.mk(Expr::Compare(op, zero.clone(), zero))
    }

    fn name(&mut self, name: &'m str, span: Span) -> Val {
        match self.lookup(name) {
            Found::Local(v) => v,
            Found::Def(d) => self.def_value(d, name, span),
            Found::Time if self.mode == Mode::Const => self.not_constant("the time `t`", span),
            Found::Time => Val::Real(self.mk(Expr::Time)),
            Found::Builtin => {
                self.report(
                    Diagnostic::error("E0101", format!("`{name}` is a builtin function, not a value"))
                        .with_label(span, "used as a value here")
                        .with_help(format!("call it: `{name}(…)`")),
                );
                Val::Error
            }
            // π is a constant of the language unless a model names something `pi`.
            Found::Missing if name == "pi" => Val::Real(self.mk(Expr::Const(std::f64::consts::PI))),
            Found::Missing => self.unknown_name(name, span),
        }
    }

    fn def_value(&mut self, def: Def, name: &str, span: Span) -> Val {
        match def {
            Def::Param(slot) => self.param_use(slot),
            Def::Let(slot) => self.let_value(slot),
            Def::Fn(_) => {
                self.report(
                    Diagnostic::error("E0101", format!("`{name}` is a function, not a value"))
                        .with_label(span, "used as a value here")
                        .with_help(format!("call it: `{name}(…)`")),
                );
                Val::Error
            }
            Def::State(k) => self.state_use(k, name, span),
        }
    }

    fn state_use(&mut self, k: usize, name: &str, span: Span) -> Val {
        if self.mode == Mode::Const {
            return self.not_constant(&format!("the state `{name}`"), span);
        }
        let id = crate::model::StateId(k as u32);
        match self.states.get(k).map(|s| (s.len, s.cols)) {
            Some((None, _)) => Val::Real(self.mk(Expr::State(id))),
            Some((Some(n), Some(c))) if n > 0 && c > 0 => Val::Matrix(Rc::new(MatExpr::State(id, n / c, c))),
            Some((Some(n), None)) if n > 0 => Val::Vector(Rc::new(VecExpr::State(id, n))),
            _ => Val::Error,
        }
    }

    /// E0206: something only known while running used where a constant is needed.
    pub(super) fn not_constant(&mut self, what: &str, span: Span) -> Val {
        self.report(
            Diagnostic::error("E0206", format!("{what} is not a compile-time constant"))
                .with_label(span, "a constant is needed here")
                .with_note(
                    "parameter values, sizes, initial values and run settings are computed before running",
                ),
        );
        Val::Error
    }

    /// The value of a `let`, computed once per mode in its own scope.
    fn let_value(&mut self, slot: usize) -> Val {
        use super::cx::Slot;
        let m = self.mode.slot();
        let Some(l) = self.lets.get_mut(slot) else {
            return Val::Error;
        };
        let (decl, scope) = (l.decl, l.scope);
        match l.value.get_mut(m) {
            Some(Slot::Done(v)) => return v.clone(),
            Some(s @ Slot::Todo) => *s = Slot::Busy,
            _ => {
                self.report(
                    Diagnostic::error(
                        "E0103",
                        format!("`{}` is defined in terms of itself", decl.name.name),
                    )
                    .with_label(decl.name.span, "this definition depends on its own value"),
                );
                return Val::Error;
            }
        }
        let v = self.in_scope(Some(scope), Vec::new(), |cx| cx.expr(&decl.value));
        if let Some(s) = self.lets.get_mut(slot).and_then(|l| l.value.get_mut(m)) {
            *s = Slot::Done(v.clone());
        }
        v
    }

    /// Converts to a real scalar: ints promote; vectors (E0201) and conditions (E0207) are errors.
    pub(super) fn real(&mut self, v: Val, span: Span) -> Option<Rc<Expr>> {
        match v {
            Val::Int(idx) => Some(self.mk(index_value(&idx))),
            Val::NonAffine(e) | Val::Real(e) => Some(e),
            Val::Bool(_) => {
                self.report(bool_as_real(span));
                None
            }
            Val::Vector(_) | Val::Matrix(_) => {
                let shape = v.shape();
                let what = if matches!(v, Val::Vector(_)) {
                    "a vector"
                } else {
                    "a matrix"
                };
                self.report(
                    Diagnostic::error("E0201", format!("expected a scalar, found {what} ({shape})"))
                        .with_label(span, format!("this is {shape}")),
                );
                None
            }
            Val::Error => None,
        }
    }

    /// Converts to a condition (E0207 otherwise).
    pub(super) fn cond(&mut self, v: Val, span: Span) -> Option<Rc<Expr>> {
        match v {
            Val::Bool(c) => Some(c),
            Val::Error => None,
            other => {
                self.report(
                    Diagnostic::error("E0207", format!("expected a condition, found {}", other.shape()))
                        .with_label(span, format!("this is {}, not a condition", other.shape()))
                        .with_help("compare it, e.g. `x > 0`"),
                );
                None
            }
        }
    }

    /// Converts to an affine integer index (E0204 not an integer, E0205 not affine).
    pub(super) fn as_index(&mut self, v: Val, span: Span) -> Option<Index> {
        match v {
            Val::Int(idx) => Some(idx),
            Val::Error => None,
            Val::NonAffine(e) if self.reads_int_table(&e) => {
                self.report(
                    Diagnostic::error("E0205", "an index computed from a table entry")
                        .with_label(span, "arithmetic on an entry of an integer table")
                        .with_note(
                            "an entry itself indexes a parameter table (`w[kind[i]]`); for `w[kind[i] + 1]` \
                             make a table of the shifted values",
                        ),
                );
                None
            }
            Val::NonAffine(_) => {
                self.report(
                    Diagnostic::error("E0205", "index is not affine in the index variables")
                        .with_label(span, "this multiplies index variables together")
                        .with_note("indices must have the form `c0 + c1*i + c2*j` with integer constants"),
                );
                None
            }
            other => {
                self.report(
                    Diagnostic::error("E0204", format!("expected an integer, found {}", other.shape()))
                        .with_label(span, format!("this is {}", other.shape()))
                        .with_note("sizes, ranges and indices must be integers known at compile time"),
                );
                None
            }
        }
    }

    fn unary(&mut self, op: UnOp, v: Val, span: Span) -> Val {
        match (op, v) {
            (_, Val::Error) => Val::Error,
            (UnOp::Not, v) => match self.cond(v, span) {
                Some(c) => Val::Bool(self.mk(Expr::Not(c))),
                None => Val::Error,
            },
            (UnOp::Neg, Val::Int(i)) => match index::scale(&i, -1) {
                Some(i) => Val::Int(i),
                None => self.overflow(span),
            },
            (UnOp::Neg, Val::NonAffine(e)) => Val::NonAffine(self.mk(Expr::Unary(UnaryFn::Neg, e))),
            (UnOp::Neg, Val::Vector(v)) => Val::Vector(Rc::new(VecExpr::Map(UnaryFn::Neg, v))),
            (UnOp::Neg, Val::Matrix(m)) => Val::Matrix(Rc::new(MatExpr::Map(UnaryFn::Neg, m))),
            (UnOp::Neg, v) => match self.real(v, span) {
                Some(e) => Val::Real(self.mk(Expr::Unary(UnaryFn::Neg, e))),
                None => Val::Error,
            },
        }
    }

    /// E0204 for an integer overflow in constant arithmetic.
    pub(super) fn overflow(&mut self, span: Span) -> Val {
        self.report(
            Diagnostic::error("E0204", "integer overflow")
                .with_label(span, "this overflows a 64-bit integer"),
        );
        Val::Error
    }

    fn binary(&mut self, op: BinOp, a: (Val, Span), b: (Val, Span), span: Span) -> Val {
        let f = match op {
            BinOp::Add => BinaryFn::Add,
            BinOp::Sub => BinaryFn::Sub,
            BinOp::Mul => BinaryFn::Mul,
            BinOp::Div => BinaryFn::Div,
            BinOp::Pow => BinaryFn::Pow,
            BinOp::And | BinOp::Or => return self.logic(op == BinOp::And, a, b),
            BinOp::Eq => return self.compare(CmpOp::Eq, a, b),
            BinOp::Ne => return self.compare(CmpOp::Ne, a, b),
            BinOp::Lt => return self.compare(CmpOp::Lt, a, b),
            BinOp::Le => return self.compare(CmpOp::Le, a, b),
            BinOp::Gt => return self.compare(CmpOp::Gt, a, b),
            BinOp::Ge => return self.compare(CmpOp::Ge, a, b),
        };
        self.arith(f, a, b, span)
    }

    fn logic(&mut self, and: bool, (a, sa): (Val, Span), (b, sb): (Val, Span)) -> Val {
        let (ca, cb) = (self.cond(a, sa), self.cond(b, sb));
        match (ca, cb) {
            (Some(x), Some(y)) if and => Val::Bool(self.mk(Expr::And(x, y))),
            (Some(x), Some(y)) => Val::Bool(self.mk(Expr::Or(x, y))),
            _ => Val::Error,
        }
    }

    fn compare(&mut self, op: CmpOp, (a, sa): (Val, Span), (b, sb): (Val, Span)) -> Val {
        let array = |v: &Val| matches!(v, Val::Vector(_) | Val::Matrix(_));
        if array(&a) || array(&b) {
            self.report(shape_mismatch(
                "E0201",
                "comparisons need two scalars",
                (&a, sa),
                (&b, sb),
            ));
            return Val::Error;
        }
        match (self.real(a, sa), self.real(b, sb)) {
            (Some(x), Some(y)) => Val::Bool(self.mk(Expr::Compare(op, x, y))),
            _ => Val::Error,
        }
    }

    /// `a f b` with int folding, scalar promotion and elementwise broadcasting.
    pub(super) fn arith(
        &mut self,
        f: BinaryFn,
        (a, sa): (Val, Span),
        (b, sb): (Val, Span),
        span: Span,
    ) -> Val {
        match (&a, &b) {
            (Val::Error, _) | (_, Val::Error) => return Val::Error,
            (Val::Int(x), Val::Int(y)) => return self.int_arith(f, x, y, span),
            (Val::Matrix(_), _) | (_, Val::Matrix(_)) => return self.mat_zip(f, (a, sa), (b, sb)),
            (Val::Vector(_), _) | (_, Val::Vector(_)) => return self.zip(f, (a, sa), (b, sb)),
            _ => {}
        }
        let non_affine = matches!(
            (&a, &b),
            (Val::Int(_) | Val::NonAffine(_), Val::Int(_) | Val::NonAffine(_))
        ) && matches!(f, BinaryFn::Add | BinaryFn::Sub | BinaryFn::Mul);
        match (self.real(a, sa), self.real(b, sb)) {
            (Some(x), Some(y)) => {
                let e = self.mk(Expr::Binary(f, x, y));
                if non_affine {
                    Val::NonAffine(e)
                } else {
                    Val::Real(e)
                }
            }
            _ => Val::Error,
        }
    }

    fn int_arith(&mut self, f: BinaryFn, x: &Index, y: &Index, span: Span) -> Val {
        let affine = match f {
            BinaryFn::Add => index::add(x, y),
            BinaryFn::Sub => index::sub(x, y),
            BinaryFn::Mul => match (x.as_constant(), y.as_constant()) {
                (Some(c), _) => index::scale(y, c),
                (_, Some(c)) => index::scale(x, c),
                _ => {
                    let (ex, ey) = (self.mk(index_value(x)), self.mk(index_value(y)));
                    return Val::NonAffine(self.mk(Expr::Binary(f, ex, ey)));
                }
            },
            BinaryFn::Pow => match (x.as_constant(), y.as_constant()) {
                (Some(b), Some(e)) if (0..=u32::MAX as i64).contains(&e) => {
                    b.checked_pow(e as u32).map(Index::constant)
                }
                _ => return self.real_of_ints(f, x, y),
            },
            _ => return self.real_of_ints(f, x, y),
        };
        match affine {
            Some(i) => Val::Int(i),
            None => self.overflow(span),
        }
    }

    fn real_of_ints(&mut self, f: BinaryFn, x: &Index, y: &Index) -> Val {
        let (ex, ey) = (self.mk(index_value(x)), self.mk(index_value(y)));
        Val::Real(self.mk(Expr::Binary(f, ex, ey)))
    }

    /// Elementwise `a f b` where at least one side is a vector.
    fn zip(&mut self, f: BinaryFn, (a, sa): (Val, Span), (b, sb): (Val, Span)) -> Val {
        let len_a = vec_len(&a);
        let len_b = vec_len(&b);
        if let (Some(m), Some(n)) = (len_a, len_b) {
            if m != n {
                self.report(
                    Diagnostic::error("E0202", format!("vector lengths differ: real[{m}] and real[{n}]"))
                        .with_label(sa, format!("this is real[{m}]"))
                        .with_label(sb, format!("this is real[{n}]"))
                        .with_note("elementwise operations need vectors of the same length (or a scalar)"),
                );
                return Val::Error;
            }
        }
        let n = len_a.or(len_b).unwrap_or(0);
        if let Some(disp) = self.pair_displacement(f, &a, &b) {
            return Val::Vector(disp);
        }
        match (self.operand(a, sa), self.operand(b, sb)) {
            (Some(x), Some(y)) => Val::Vector(Rc::new(VecExpr::Zip(f, x, y, n))),
            _ => Val::Error,
        }
    }

    fn operand(&mut self, v: Val, span: Span) -> Option<Operand> {
        match v {
            Val::Vector(v) => Some(Operand::Vector(v)),
            other => self.real(other, span).map(Operand::Scalar),
        }
    }

    fn index_expr(&mut self, v: &'m ast::Expr, i: &'m ast::Expr) -> Val {
        let (vv, iv) = (self.expr(v), self.expr(i));
        if let Some(key) = self.table_key(&iv) {
            return self.key_index(vv, key, (v.span, i.span));
        }
        let idx = self.as_index(iv, i.span);
        let vec = match vv {
            Val::Vector(vec) => vec,
            Val::Matrix(m) => {
                return match idx {
                    Some(idx) => self.matrix_row(m, idx, (v.span, i.span)),
                    None => Val::Error,
                };
            }
            Val::Error => return Val::Error,
            other => {
                self.report(
                    Diagnostic::error("E0201", format!("cannot index a scalar ({})", other.shape()))
                        .with_label(v.span, format!("this is {}, not a vector", other.shape())),
                );
                return Val::Error;
            }
        };
        let Some(idx) = idx else {
            return Val::Error;
        };
        if !self.check_bounds(&idx, vec.len(), v.span, i.span) {
            return Val::Error;
        }
        // An entry of an integer table is an integer, usable as a key of other tables.
        if let VecExpr::Param(p, _) = &*vec {
            if self.is_int_table(*p) {
                return Val::NonAffine(self.element(&vec, &idx));
            }
        }
        Val::Real(self.element(&vec, &idx))
    }

    /// E0203 unless every value `idx` can take lies in `[0, len)`.
    pub(super) fn check_bounds(&mut self, idx: &Index, len: usize, vspan: Span, ispan: Span) -> bool {
        let Some((lo, hi)) = self.ranges.interval(idx) else {
            return true; // inside a loop that never runs
        };
        if lo >= 0 && hi < len as i128 {
            return true;
        }
        let what = if lo == hi {
            format!("the index is {lo}")
        } else {
            format!("the index ranges over {lo}..={hi}")
        };
        self.report(
            Diagnostic::error(
                "E0203",
                format!("index out of range: {what}, but the length is {len}"),
            )
            .with_label(ispan, what.clone())
            .with_label(
                vspan,
                format!("this vector has length {len} (valid indices 0..={})", len - 1),
            )
            .with_note("indices start at 0; the compiled code has no run-time bound checks"),
        );
        false
    }

    fn vector_literal(&mut self, items: &'m [ast::Expr], span: Span) -> Val {
        if items.is_empty() {
            self.report(
                Diagnostic::error("E0202", "empty vector literal")
                    .with_label(span, "vectors need at least one element"),
            );
            return Val::Error;
        }
        let vals: Vec<(Val, Span)> = items.iter().map(|item| (self.expr(item), item.span)).collect();
        if vals.iter().any(|(v, _)| matches!(v, Val::Vector(_))) {
            return self.matrix_literal(vals, span);
        }
        let mut out = Vec::with_capacity(items.len());
        for (v, s) in vals {
            out.push(self.real(v, s));
        }
        match out.into_iter().collect::<Option<Vec<_>>>() {
            Some(v) => Val::Vector(Rc::new(VecExpr::Literal(v))),
            None => Val::Error,
        }
    }

    fn if_expr(&mut self, c: &'m ast::Expr, a: &'m ast::Expr, b: &'m ast::Expr) -> Val {
        let cv = self.expr(c);
        let cond = self.cond(cv, c.span);
        let (va, vb) = (self.expr(a), self.expr(b));
        let Some(cond) = cond else {
            return Val::Error;
        };
        match (va, vb) {
            (Val::Error, _) | (_, Val::Error) => Val::Error,
            (Val::Bool(x), Val::Bool(y)) => {
                let l = self.mk(Expr::And(cond.clone(), x));
                let nc = self.mk(Expr::Not(cond));
                let r = self.mk(Expr::And(nc, y));
                Val::Bool(self.mk(Expr::Or(l, r)))
            }
            (Val::Vector(x), Val::Vector(y)) if x.len() == y.len() => {
                Val::Vector(Rc::new(VecExpr::Select(cond, x, y)))
            }
            (Val::Matrix(x), Val::Matrix(y)) if x.rows() == y.rows() && x.cols() == y.cols() => {
                Val::Matrix(Rc::new(MatExpr::Select(cond, x, y)))
            }
            (va @ Val::Matrix(_), vb) | (va, vb @ Val::Matrix(_)) => {
                self.report(shape_mismatch(
                    "E0202",
                    "the branches of `if` have different shapes",
                    (&va, a.span),
                    (&vb, b.span),
                ));
                Val::Error
            }
            (va @ Val::Vector(_), vb) | (va, vb @ Val::Vector(_)) => {
                let msg = "the branches of `if` have different shapes";
                let code = if matches!((&va, &vb), (Val::Vector(_), Val::Vector(_))) {
                    "E0202"
                } else {
                    "E0201"
                };
                self.report(shape_mismatch(code, msg, (&va, a.span), (&vb, b.span)));
                Val::Error
            }
            (va, vb) => match (self.real(va, a.span), self.real(vb, b.span)) {
                (Some(x), Some(y)) => Val::Real(self.mk(Expr::Select(cond, x, y))),
                _ => Val::Error,
            },
        }
    }
}

fn vec_len(v: &Val) -> Option<usize> {
    match v {
        Val::Vector(v) => Some(v.len()),
        _ => None,
    }
}

/// E0207: a condition used as a number.
pub(super) fn bool_as_real(span: Span) -> Diagnostic {
    Diagnostic::error("E0207", "expected a number, found a condition")
        .with_label(span, "this is a condition (bool)")
        .with_help("use `if c then 1 else 0` to turn a condition into a number")
}

/// A shape error (E0201 or E0202) naming both shapes, with a label on each operand.
pub(super) fn shape_mismatch(
    code: &'static str,
    msg: &str,
    (a, sa): (&Val, Span),
    (b, sb): (&Val, Span),
) -> Diagnostic {
    Diagnostic::error(code, format!("{msg}: {} and {}", a.shape(), b.shape()))
        .with_label(sa, format!("this is {}", a.shape()))
        .with_label(sb, format!("this is {}", b.shape()))
}
