//! Lattice constructors for initial particle positions: `fcc(cells, a)` and
//! `lattice(n, k, a)`.

use super::cx::Checker;
use super::val::{Val, VecExpr};
use crate::diagnostic::Diagnostic;
use crate::model::Expr;
use crate::source::Span;
use crate::syntax::ast;
use std::rc::Rc;

impl<'m> Checker<'m> {
    /// `fcc(cells, a)`: the 4·cells³ sites of a face-centred cubic lattice of
    /// `cells` unit cells of side `a` per dimension, offset by a/4 (so none lies on
    /// the box boundary), as a [4·cells³, 3] matrix. `lattice(n, k, a)`: the nᵏ sites
    /// of a simple (hyper)cubic lattice of spacing `a` in k dimensions, offset by a/2.
    pub(super) fn lattice_builtin(&mut self, name: &str, args: &[&'m ast::Expr], span: Span) -> Val {
        let (count, dim, a) = match (name, args) {
            ("fcc", [cells, a]) => (self.size(cells), Some(3), self.number_const(a)),
            ("lattice", [n, k, a]) => (self.size(n), self.size(k), self.number_const(a)),
            _ => {
                let want = if name == "fcc" {
                    "`fcc(cells, a)`"
                } else {
                    "`lattice(n, k, a)`"
                };
                self.report(
                    Diagnostic::error(
                        "E0105",
                        format!("{want} takes {} arguments", if name == "fcc" { 2 } else { 3 }),
                    )
                    .with_label(span, format!("{} given", args.len())),
                );
                return Val::Error;
            }
        };
        let (Some(n), Some(k), Some(a)) = (count, dim, a) else {
            return Val::Error;
        };
        let sites = if name == "fcc" {
            4 * n.pow(3)
        } else {
            n.checked_pow(k as u32).unwrap_or(usize::MAX)
        };
        if sites > 1 << 22 {
            self.report(
                Diagnostic::error("E0204", format!("a lattice of {sites} sites is too large"))
                    .with_label(span, "at most 4194304 sites"),
            );
            return Val::Error;
        }
        let mut rows = Vec::with_capacity(sites);
        let basis: &[[f64; 3]] = &[[0.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.5, 0.0, 0.5], [0.0, 0.5, 0.5]];
        for s in 0..sites {
            let point: Vec<f64> = if name == "fcc" {
                let (cell, b) = (s / 4, s % 4);
                let c = [cell / (n * n), (cell / n) % n, cell % n];
                let off = basis.get(b).copied().unwrap_or_default();
                c.iter()
                    .zip(off)
                    .map(|(ci, o)| (*ci as f64 + o + 0.25) * a)
                    .collect()
            } else {
                let mut rest = s;
                let mut p = vec![0.0; k];
                for d in (0..k).rev() {
                    if let Some(x) = p.get_mut(d) {
                        *x = ((rest % n) as f64 + 0.5) * a;
                    }
                    rest /= n;
                }
                p
            };
            let items = point.into_iter().map(|x| self.mk(Expr::Const(x))).collect();
            rows.push(Rc::new(VecExpr::Literal(items)));
        }
        Val::Matrix(Rc::new(super::val::MatExpr::Rows(rows)))
    }
}
