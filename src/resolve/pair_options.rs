//! The options of `pair` and `bond` terms (`cutoff`, `shift`, `skin`, `batches`,
//! `pairs`) and the checks of their values.

use super::cx::Checker;
use super::params::Const;
use super::scope::with_suggestions;
use crate::diagnostic::Diagnostic;
use crate::source::Span;
use crate::syntax::ast::{self, PairKind};

/// Options of a pair term.
const PAIR_OPTIONS: &[&str] = &["cutoff", "shift", "skin", "batches"];
/// Options of a bond term.
const BOND_OPTIONS: &[&str] = &["pairs"];

/// A pair term's options after checking.
pub(super) struct PairOptions {
    pub(super) cutoff: Option<f64>,
    pub(super) shift: bool,
    pub(super) skin: Option<f64>,
    pub(super) pairs: Option<Vec<(usize, usize)>>,
    /// Random Batch Method: particles per batch.
    pub(super) batches: Option<usize>,
}

impl<'m> Checker<'m> {
    pub(super) fn pair_options(&mut self, p: &'m ast::PairDecl) -> Option<PairOptions> {
        let mut o = PairOptions {
            cutoff: None,
            shift: false,
            skin: None,
            pairs: None,
            batches: None,
        };
        let allowed = match p.kind {
            PairKind::Pair => PAIR_OPTIONS,
            PairKind::Bond => BOND_OPTIONS,
        };
        let mut ok = true;
        for (name, value) in &p.options {
            if !allowed.contains(&name.name.as_str()) {
                let what = if p.kind == PairKind::Pair {
                    "a pair term"
                } else {
                    "a bond term"
                };
                self.report(unknown_option(&name.name, name.span, what, allowed));
                ok = false;
                continue;
            }
            match name.name.as_str() {
                "cutoff" => o.cutoff = self.positive(value, "the cutoff"),
                "skin" => o.skin = self.non_negative(value, "the skin"),
                "batches" => match self.number_const(value) {
                    Some(b) if b.fract() == 0.0 && b >= 2.0 => o.batches = Some(b as usize),
                    Some(_) => {
                        self.report(
                            Diagnostic::error("E0802", "`batches` is a whole number of particles ≥ 2")
                                .with_label(value.span, "here"),
                        );
                        ok = false;
                    }
                    None => ok = false,
                },
                "shift" => match value.kind {
                    ast::ExprKind::Bool(b) => o.shift = b,
                    _ => {
                        self.report(
                            Diagnostic::error("E0802", "`shift` is `true` or `false`")
                                .with_label(value.span, "here"),
                        );
                        ok = false;
                    }
                },
                _ => o.pairs = self.bond_pairs(value),
            }
        }
        if p.kind == PairKind::Bond && o.pairs.is_none() {
            self.report(
                Diagnostic::error("E0802", format!("bond term `{}` needs its pairs", p.name.name))
                    .with_label(p.span, "add `pairs = b` with an integer matrix b of shape [M, 2]"),
            );
            ok = false;
        }
        if o.shift && o.cutoff.is_none() {
            self.report(
                Diagnostic::error("E0802", "`shift` needs a `cutoff`").with_label(p.span, "no cutoff given"),
            );
            ok = false;
        }
        ok.then_some(o)
    }

    pub(super) fn positive(&mut self, e: &'m ast::Expr, what: &str) -> Option<f64> {
        let x = self.number_const(e)?;
        if x > 0.0 {
            return Some(x);
        }
        self.report(
            Diagnostic::error("E0802", format!("{what} must be positive"))
                .with_label(e.span, format!("this is {x}")),
        );
        None
    }

    pub(super) fn non_negative(&mut self, e: &'m ast::Expr, what: &str) -> Option<f64> {
        let x = self.number_const(e)?;
        if x >= 0.0 {
            return Some(x);
        }
        self.report(
            Diagnostic::error("E0802", format!("{what} must be ≥ 0"))
                .with_label(e.span, format!("this is {x}")),
        );
        None
    }

    /// A scalar constant.
    pub(super) fn number_const(&mut self, e: &'m ast::Expr) -> Option<f64> {
        match self.constant(e)? {
            Const::Int(i) => Some(i as f64),
            Const::Real(x) => Some(x),
            other => {
                self.report(
                    Diagnostic::error("E0201", format!("expected a number, found {}", other.shape()))
                        .with_label(e.span, format!("this is {}", other.shape())),
                );
                None
            }
        }
    }

    /// `pairs = b`: an [M, 2] matrix of particle indices.
    fn bond_pairs(&mut self, e: &'m ast::Expr) -> Option<Vec<(usize, usize)>> {
        let n = self.sets.first().map_or(0, |s| s.count);
        let (rows, data) = match self.constant(e)? {
            Const::Matrix(r, 2, v) => (r, v),
            other => {
                self.report(
                    Diagnostic::error("E0802", "`pairs` is an integer matrix of shape [M, 2]")
                        .with_label(e.span, format!("this is {}", other.shape())),
                );
                return None;
            }
        };
        let mut out = Vec::with_capacity(rows);
        for pair in data.chunks(2) {
            let [a, b] = pair else {
                continue;
            };
            let ok = |x: f64| x.fract() == 0.0 && x >= 0.0 && (x as usize) < n;
            if !ok(*a) || !ok(*b) || a == b {
                self.report(
                    Diagnostic::error(
                        "E0802",
                        format!("bond ({a}, {b}) is not a pair of two of the {n} particles"),
                    )
                    .with_label(e.span, "in these pairs"),
                );
                return None;
            }
            out.push((*a as usize, *b as usize));
        }
        Some(out)
    }
}

/// E0802/E0801: an unknown option, with suggestions.
pub(super) fn unknown_option(name: &str, span: Span, what: &str, allowed: &[&str]) -> Diagnostic {
    let code = if what == "a particle set" {
        "E0801"
    } else {
        "E0802"
    };
    with_suggestions(
        Diagnostic::error(code, format!("{what} has no option `{name}`"))
            .with_label(span, "unknown option")
            .with_note(format!("options: {}", allowed.join(", "))),
        name,
        allowed.iter().copied(),
    )
}
