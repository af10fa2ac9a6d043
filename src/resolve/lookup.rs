//! Parameter tables indexed by entries of integer tables: species and type tables
//! `eps[type[i], type[j]]`, `q[kind[i]]`.
//!
//! An entry `type[i]` of a one-dimensional integer parameter is an integer that is not
//! affine in the index variables ([`Val::NonAffine`]). Used as an index of a vector or
//! matrix parameter it becomes a *key* of an [`Expr::Lookup`], read at run time; the
//! values of the integer table are known here, so every key is proved in range before
//! anything runs (E0203) and the table is fixed at compile time.

use super::cx::Checker;
use super::val::{Val, VecExpr};
use crate::diagnostic::Diagnostic;
use crate::model::{Expr, Index, ParamId, ParamValue};
use crate::source::Span;
use std::rc::Rc;

/// A key: an entry of an integer table, with the table.
pub(super) struct Key {
    expr: Rc<Expr>,
    table: ParamId,
}

impl<'m> Checker<'m> {
    /// The entries of `id` if it is a one-dimensional integer parameter.
    fn int_table(&mut self, id: ParamId) -> Option<Vec<i64>> {
        match self.param_value(id.0 as usize)? {
            ParamValue::Ints { dims, data } if dims.len() == 1 => Some(data),
            _ => None,
        }
    }

    /// Whether `id` is a one-dimensional integer parameter.
    pub(super) fn is_int_table(&mut self, id: ParamId) -> bool {
        self.int_table(id).is_some()
    }

    /// Whether `e` reads an entry of an integer table anywhere.
    pub(super) fn reads_int_table(&mut self, e: &Rc<Expr>) -> bool {
        let mut stack = vec![e.clone()];
        while let Some(e) = stack.pop() {
            match &*e {
                Expr::ParamElem(p, _) if self.is_int_table(*p) => return true,
                Expr::Unary(_, a) => stack.push(a.clone()),
                Expr::Binary(_, a, b) => stack.extend([a.clone(), b.clone()]),
                _ => {}
            }
        }
        false
    }

    /// The key `v` is, if it is an entry `type[i]` of an integer table.
    pub(super) fn table_key(&mut self, v: &Val) -> Option<Key> {
        let Val::NonAffine(e) = v else {
            return None;
        };
        let Expr::ParamElem(table, _) = &**e else {
            return None;
        };
        self.is_int_table(*table).then(|| Key {
            expr: e.clone(),
            table: *table,
        })
    }

    /// E0203 unless every entry of the key's table lies in `[0, len)`; marks the table as
    /// fixed at compile time.
    fn key_in_range(&mut self, key: &Key, len: usize, (vspan, ispan): (Span, Span)) -> bool {
        self.compile_time.insert(key.table.0 as usize);
        let values = self.int_table(key.table).unwrap_or_default();
        let (lo, hi) = match (values.iter().min(), values.iter().max()) {
            (Some(lo), Some(hi)) => (*lo, *hi),
            _ => return true,
        };
        if lo >= 0 && (hi as i128) < len as i128 {
            return true;
        }
        let bad = if lo < 0 { lo } else { hi };
        self.report(
            Diagnostic::error(
                "E0203",
                format!(
                    "index out of range: the table's entries range over {lo}..={hi}, but the length is {len}"
                ),
            )
            .with_label(ispan, format!("one of these is {bad}"))
            .with_label(
                vspan,
                format!(
                    "this has length {len} (valid indices 0..={})",
                    len.saturating_sub(1)
                ),
            )
            .with_note("every entry of an integer table used as an index must be a valid index"),
        );
        false
    }

    /// `v[key]`: an element of a vector parameter, a row of a matrix parameter, or an
    /// element of such a row.
    pub(super) fn key_index(&mut self, v: Val, key: Key, spans: (Span, Span)) -> Val {
        match v {
            Val::Vector(vec) => match &*vec {
                VecExpr::Param(p, len) => {
                    if !self.key_in_range(&key, *len, spans) {
                        return Val::Error;
                    }
                    Val::Real(self.mk(Expr::Lookup {
                        param: *p,
                        base: Index::constant(0),
                        keys: vec![(key.expr, 1)],
                    }))
                }
                VecExpr::KeyRow {
                    param,
                    cols,
                    key: row,
                } => {
                    if !self.key_in_range(&key, *cols, spans) {
                        return Val::Error;
                    }
                    Val::Real(self.mk(Expr::Lookup {
                        param: *param,
                        base: Index::constant(0),
                        keys: vec![(row.clone(), *cols as i64), (key.expr, 1)],
                    }))
                }
                VecExpr::Row(m, row) => match &**m {
                    super::val::MatExpr::Param(p, _, cols) => {
                        if !self.key_in_range(&key, *cols, spans) {
                            return Val::Error;
                        }
                        Val::Real(self.mk(Expr::Lookup {
                            param: *p,
                            base: super::index::scale(row, *cols as i64).unwrap_or_default(),
                            keys: vec![(key.expr, 1)],
                        }))
                    }
                    _ => self.not_a_table(spans),
                },
                _ => self.not_a_table(spans),
            },
            Val::Matrix(m) => match &*m {
                super::val::MatExpr::Param(p, rows, cols) => {
                    if !self.key_in_range(&key, *rows, spans) {
                        return Val::Error;
                    }
                    Val::Vector(Rc::new(VecExpr::KeyRow {
                        param: *p,
                        cols: *cols,
                        key: key.expr,
                    }))
                }
                _ => self.not_a_table(spans),
            },
            Val::Error => Val::Error,
            _ => self.not_a_table(spans),
        }
    }

    fn not_a_table(&mut self, (vspan, ispan): (Span, Span)) -> Val {
        self.report(
            Diagnostic::error("E0205", "only a parameter table can be indexed by a table entry")
                .with_label(ispan, "an entry of an integer table")
                .with_label(vspan, "this is not a vector or matrix parameter")
                .with_help("index a `param` or `data` vector or matrix, e.g. `eps[type[i], type[j]]`"),
        );
        Val::Error
    }
}
