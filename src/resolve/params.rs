//! Constants: parameter values (defaults or `--set` overrides), sizes, and the
//! conversion of checked values to numbers.
//!
//! Parameters are computed lazily, in dependency order, in constant mode: names of
//! other parameters are replaced by their values, states and `t` are errors.
//! A cycle between parameter defaults is reported (E0103).

use super::cx::{Checker, Mode, Slot};
use super::eval::{eval, EvalError};
use super::val::{MatExpr, Val, VecExpr};
use crate::diagnostic::Diagnostic;
use crate::model::{Expr, Index, ParamId, ParamValue};
use crate::source::Span;
use crate::syntax::ast::{self, TypeExpr};
use std::rc::Rc;

/// Largest vector length accepted.
pub(super) const MAX_LEN: i64 = 1 << 26;

/// A value known at compile time.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Const {
    Int(i64),
    Real(f64),
    Vector(Vec<f64>),
    /// Rows, columns, elements row by row.
    Matrix(usize, usize, Vec<f64>),
}

impl Const {
    /// The shape as the language writes it.
    pub(super) fn shape(&self) -> String {
        match self {
            Const::Int(_) => "int".into(),
            Const::Real(_) => "real".into(),
            Const::Vector(v) => format!("real[{}]", v.len()),
            Const::Matrix(r, c, _) => format!("real[{r}, {c}]"),
        }
    }
}

impl<'m> Checker<'m> {
    /// A size (`real[n]`, `zeros(n)`): an integer constant ≥ 1 (E0204 otherwise).
    pub(super) fn size(&mut self, e: &'m ast::Expr) -> Option<usize> {
        let v = self.in_mode(Mode::Const, |cx| cx.expr(e));
        let idx = self.as_index(v, e.span)?;
        let Some(n) = idx.as_constant() else {
            self.report(
                Diagnostic::error("E0204", "a size cannot depend on an index variable")
                    .with_label(e.span, "this changes from one iteration to the next"),
            );
            return None;
        };
        if !(1..=MAX_LEN).contains(&n) {
            self.report(
                Diagnostic::error("E0204", format!("invalid size {n}"))
                    .with_label(e.span, format!("this is {n}"))
                    .with_note(format!("sizes must lie between 1 and {MAX_LEN}")),
            );
            return None;
        }
        usize::try_from(n).ok()
    }

    /// Checks `e` in constant mode and computes it.
    pub(super) fn constant(&mut self, e: &'m ast::Expr) -> Option<Const> {
        let v = self.in_mode(Mode::Const, |cx| cx.expr(e));
        self.val_const(v, e.span)
    }

    /// Computes a constant-mode value.
    pub(super) fn val_const(&mut self, v: Val, span: Span) -> Option<Const> {
        match v {
            Val::Int(idx) => match idx.as_constant() {
                Some(c) => Some(Const::Int(c)),
                None => {
                    self.not_constant("an index variable", span);
                    None
                }
            },
            Val::NonAffine(e) | Val::Real(e) => self.number(&e, span).map(Const::Real),
            Val::Vector(vec) => {
                let mut out = Vec::with_capacity(vec.len());
                for k in 0..vec.len() {
                    let x = self.element(&vec, &Index::constant(k as i64));
                    out.push(self.number(&x, span)?);
                }
                Some(Const::Vector(out))
            }
            Val::Matrix(m) => {
                let (rows, cols) = (m.rows(), m.cols());
                let mut out = Vec::with_capacity(rows * cols);
                for i in 0..rows {
                    for j in 0..cols {
                        let x = self.mat_element(&m, &Index::constant(i as i64), &Index::constant(j as i64));
                        out.push(self.number(&x, span)?);
                    }
                }
                Some(Const::Matrix(rows, cols, out))
            }
            Val::Bool(_) => {
                self.report(super::expr::bool_as_real(span));
                None
            }
            Val::Error => None,
        }
    }

    fn number(&mut self, e: &Expr, span: Span) -> Option<f64> {
        match eval(e) {
            Ok(x) if x.is_finite() => Some(x),
            Ok(x) => {
                self.report(
                    Diagnostic::error("E0206", format!("this constant evaluates to {x}"))
                        .with_label(span, "not a finite number"),
                );
                None
            }
            Err(EvalError::NotConstant) => {
                self.not_constant("this expression", span);
                None
            }
            Err(EvalError::TooLong) => {
                self.report(
                    Diagnostic::error("E0208", "this constant takes too long to compute")
                        .with_label(span, "too many reduction steps"),
                );
                None
            }
        }
    }

    /// A use of a parameter: its value in constant mode, a symbol otherwise
    /// (int params are always substituted).
    pub(super) fn param_use(&mut self, slot: usize) -> Val {
        let id = ParamId(slot as u32);
        if self.mode == Mode::Const {
            self.compile_time.insert(slot);
        }
        match (self.param_value(slot), self.mode) {
            (None, _) => Val::Error,
            (Some(ParamValue::Int(i)), _) => Val::Int(Index::constant(i)),
            (Some(ParamValue::Real(x)), Mode::Const) => Val::Real(self.mk(Expr::Const(x))),
            (Some(ParamValue::Real(_)), Mode::Model) => Val::Real(self.mk(Expr::Param(id))),
            (Some(ParamValue::Vector(xs)), Mode::Const) => {
                let items = xs.iter().map(|x| self.mk(Expr::Const(*x))).collect();
                Val::Vector(Rc::new(VecExpr::Literal(items)))
            }
            (Some(ParamValue::Vector(xs)), Mode::Model) => Val::Vector(Rc::new(VecExpr::Param(id, xs.len()))),
            (Some(ParamValue::Matrix { rows, cols, data }), Mode::Const) => {
                let rows = (0..rows)
                    .map(|r| {
                        let items = data
                            .get(r * cols..(r + 1) * cols)
                            .unwrap_or_default()
                            .iter()
                            .map(|x| self.mk(Expr::Const(*x)))
                            .collect();
                        Rc::new(VecExpr::Literal(items))
                    })
                    .collect();
                Val::Matrix(Rc::new(MatExpr::Rows(rows)))
            }
            (Some(ParamValue::Matrix { rows, cols, .. }), Mode::Model) => {
                Val::Matrix(Rc::new(MatExpr::Param(id, rows, cols)))
            }
            (Some(ParamValue::Ints { dims, data }), Mode::Const) => {
                let items: Vec<Rc<Expr>> = data.iter().map(|x| self.mk(Expr::Const(*x as f64))).collect();
                match dims.as_slice() {
                    [_, cols] if *cols > 0 => {
                        let rows = items
                            .chunks(*cols)
                            .map(|c| Rc::new(VecExpr::Literal(c.to_vec())))
                            .collect();
                        Val::Matrix(Rc::new(MatExpr::Rows(rows)))
                    }
                    _ => Val::Vector(Rc::new(VecExpr::Literal(items))),
                }
            }
            (Some(ParamValue::Ints { dims, data }), Mode::Model) => match dims.as_slice() {
                [rows, cols] => Val::Matrix(Rc::new(MatExpr::Param(id, *rows, *cols))),
                _ => Val::Vector(Rc::new(VecExpr::Param(id, data.len()))),
            },
        }
    }

    /// The value of parameter `slot`, computed on first use.
    pub(super) fn param_value(&mut self, slot: usize) -> Option<ParamValue> {
        let p = self.params.get_mut(slot)?;
        let (decl, scope, over) = (p.decl, p.scope, p.over);
        match &p.value {
            Slot::Done(v) => return v.clone(),
            Slot::Busy => {
                self.report(
                    Diagnostic::error(
                        "E0103",
                        format!("parameter `{}` is defined in terms of itself", decl.name.name),
                    )
                    .with_label(decl.name.span, "its value depends on itself"),
                );
                return None;
            }
            Slot::Todo => p.value = Slot::Busy,
        }
        let v = self.in_scope(Some(scope), Vec::new(), |cx| cx.compute_param(decl, over));
        if let Some(p) = self.params.get_mut(slot) {
            p.value = Slot::Done(v.clone());
        }
        v
    }

    fn compute_param(&mut self, decl: &'m ast::ParamDecl, over: Option<&'m ast::Expr>) -> Option<ParamValue> {
        if let Some(spec) = &decl.data {
            return self.compute_data(decl, spec);
        }
        let Some(src) = over.or(decl.default.as_ref()) else {
            self.report(
                Diagnostic::error("E0501", format!("parameter `{}` has no value", decl.name.name))
                    .with_label(decl.name.span, "declared without a default")
                    .with_help(format!(
                        "give it a default (`param {} = …`) or set it: `--set {}=…`",
                        decl.name.name, decl.name.name
                    )),
            );
            return None;
        };
        let value = self.constant(src)?;
        let what = format!("parameter `{}`", decl.name.name);
        let value = match (over, &decl.default) {
            (Some(o), Some(default)) if decl.ty.is_none() => {
                self.like_default(decl, value, default, o.span)?
            }
            _ => value,
        };
        match &decl.ty {
            None => Some(match value {
                Const::Int(i) => ParamValue::Int(i),
                Const::Real(x) => ParamValue::Real(x),
                Const::Vector(v) => ParamValue::Vector(v),
                Const::Matrix(rows, cols, data) => ParamValue::Matrix { rows, cols, data },
            }),
            Some(ty) => self.conform(&what, value, ty, src.span),
        }
    }

    /// An untyped param keeps its default's kind when overridden: an int `--set` of a
    /// real param is promoted; a real or vector `--set` of an int param is E0502.
    fn like_default(
        &mut self,
        decl: &ast::ParamDecl,
        value: Const,
        default: &'m ast::Expr,
        span: Span,
    ) -> Option<Const> {
        let default = self.constant(default);
        match (default, value) {
            (Some(Const::Real(_)), Const::Int(i)) => Some(Const::Real(i as f64)),
            (Some(Const::Int(_)), Const::Real(_) | Const::Vector(_) | Const::Matrix(..)) => {
                self.report(
                    Diagnostic::error("E0502", format!("`{}` is an integer parameter", decl.name.name))
                        .with_label(span, "this value is not an integer")
                        .with_label(decl.name.span, "declared here with an integer default"),
                );
                None
            }
            (_, value) => Some(value),
        }
    }

    /// Fits a constant to a declared type: ints promote, scalars fill vectors.
    pub(super) fn conform(
        &mut self,
        what: &str,
        value: Const,
        ty: &'m TypeExpr,
        span: Span,
    ) -> Option<ParamValue> {
        let found = value.shape();
        let (expected, out) = match (ty, value) {
            (TypeExpr::Int(_), Const::Int(i)) => return Some(ParamValue::Int(i)),
            (TypeExpr::Int(_), _) => ("int".to_string(), None),
            (TypeExpr::Real(_), Const::Int(i)) => return Some(ParamValue::Real(i as f64)),
            (TypeExpr::Real(_), Const::Real(x)) => return Some(ParamValue::Real(x)),
            (TypeExpr::Real(_), _) => ("real".to_string(), None),
            (TypeExpr::Array { int, dims, .. }, value) => {
                let sizes: Vec<usize> = dims.iter().map(|d| self.size(d)).collect::<Option<_>>()?;
                let expected = array_shape(*int, &sizes);
                let data = fill_array(value, &sizes);
                let out = match (data, *int) {
                    (Some(v), false) => Some(match sizes.as_slice() {
                        [rows, cols] => ParamValue::Matrix {
                            rows: *rows,
                            cols: *cols,
                            data: v,
                        },
                        _ => ParamValue::Vector(v),
                    }),
                    (Some(v), true) => {
                        if let Some(bad) = v.iter().find(|x| x.fract() != 0.0 || x.abs() > 9.0e15) {
                            self.report(
                                Diagnostic::error(
                                    "E0204",
                                    format!("{what} is declared {expected} but holds {bad}"),
                                )
                                .with_label(span, "not an integer")
                                .with_label(ty.span(), format!("declared {expected} here")),
                            );
                            return None;
                        }
                        Some(ParamValue::Ints {
                            dims: sizes.clone(),
                            data: v.iter().map(|x| *x as i64).collect(),
                        })
                    }
                    (None, _) => None,
                };
                (expected, out)
            }
        };
        if out.is_none() {
            let code = if expected.contains('[') && found.contains('[') {
                "E0202"
            } else if expected == "int" {
                "E0204"
            } else {
                "E0201"
            };
            self.report(
                Diagnostic::error(
                    code,
                    format!("{what} is declared {expected} but its value is {found}"),
                )
                .with_label(span, format!("this is {found}"))
                .with_label(ty.span(), format!("declared {expected} here")),
            );
        }
        out
    }
}

/// `real[3]`, `int[2, 2]`.
fn array_shape(int: bool, sizes: &[usize]) -> String {
    let d: Vec<String> = sizes.iter().map(|s| s.to_string()).collect();
    format!("{}[{}]", if int { "int" } else { "real" }, d.join(", "))
}

/// The elements of an array of the given sizes: a scalar fills it, a vector or a
/// matrix must have the same shape.
fn fill_array(value: Const, sizes: &[usize]) -> Option<Vec<f64>> {
    let n: usize = sizes.iter().product();
    match (value, sizes) {
        (Const::Int(i), _) => Some(vec![i as f64; n]),
        (Const::Real(x), _) => Some(vec![x; n]),
        (Const::Vector(v), [len]) if v.len() == *len => Some(v),
        (Const::Matrix(r, c, v), [rows, cols]) if r == *rows && c == *cols => Some(v),
        _ => None,
    }
}
