//! SDE run settings: `t_end`, `save_every`, `save_at = [..]` and `record = [x, y[0]]`.

use super::cx::Checker;
use super::params::Const;
use super::scope::with_suggestions;
use crate::diagnostic::Diagnostic;
use crate::model::State;
use crate::syntax::ast::{self, ExprKind};

impl<'m> Checker<'m> {
    /// A real setting that must be positive.
    pub(super) fn positive_setting(&mut self, what: &str, e: &'m ast::Expr) -> Option<f64> {
        let x = self.real_setting(what, e)?;
        if x > 0.0 {
            return Some(x);
        }
        self.report(
            Diagnostic::error(
                "E0402",
                format!("bad value for `{what}`: must be positive, found {x}"),
            )
            .with_label(e.span, "this value"),
        );
        None
    }

    /// A list of times (a vector, or one number).
    pub(super) fn times_setting(&mut self, what: &str, e: &'m ast::Expr) -> Option<Vec<f64>> {
        let times = match self.constant(e)? {
            Const::Int(i) => vec![i as f64],
            Const::Real(x) => vec![x],
            Const::Vector(v) => v,
            other => {
                self.report(
                    Diagnostic::error(
                        "E0402",
                        format!("bad value for `{what}`: expected times, found {}", other.shape()),
                    )
                    .with_label(e.span, "this value"),
                );
                return None;
            }
        };
        if let Some(bad) = times.iter().find(|t| !t.is_finite()) {
            self.report(
                Diagnostic::error("E0402", format!("bad value for `{what}`: {bad} is not a time"))
                    .with_label(e.span, "this value"),
            );
            return None;
        }
        Some(times)
    }

    /// `record = [x, y[0]]`: flat indices of whole states and single components.
    pub(super) fn record_setting(&mut self, e: &'m ast::Expr, states: &[State]) -> Option<Vec<usize>> {
        let items: Vec<&'m ast::Expr> = match &e.kind {
            ExprKind::Vector(items) => items.iter().collect(),
            _ => vec![e],
        };
        let mut offsets = Vec::with_capacity(states.len());
        let mut off = 0;
        for s in states {
            offsets.push(off);
            off += s.size();
        }
        let mut out = Vec::new();
        let mut ok = true;
        for item in items {
            match self.recorded(item, states, &offsets) {
                Some(ix) => out.extend(ix),
                None => ok = false,
            }
        }
        if out.is_empty() && ok {
            self.report(
                Diagnostic::error("E0402", "bad value for `record`: nothing to record")
                    .with_label(e.span, "name at least one state"),
            );
            return None;
        }
        ok.then_some(out)
    }

    /// One entry of `record`: a state (all components) or `state[k]`.
    fn recorded(&mut self, item: &'m ast::Expr, states: &[State], offsets: &[usize]) -> Option<Vec<usize>> {
        let (name, index) = match &item.kind {
            ExprKind::Name(n) => (n.as_str(), None),
            ExprKind::Index(base, ix) => match &base.kind {
                ExprKind::Name(n) => (n.as_str(), Some(ix.as_ref())),
                _ => return self.not_recordable(item),
            },
            _ => return self.not_recordable(item),
        };
        let Some(k) = states.iter().position(|s| s.name == name) else {
            let d = with_suggestions(
                Diagnostic::error("E0101", format!("`record` of unknown state `{name}`"))
                    .with_label(item.span, "no state with this name"),
                name,
                states.iter().map(|s| s.name.as_str()),
            );
            self.report(d);
            return None;
        };
        let off = offsets.get(k).copied().unwrap_or(0);
        let size = states.get(k).map_or(1, State::size);
        let Some(ix) = index else {
            return Some((off..off + size).collect());
        };
        let at = match self.constant(ix)? {
            Const::Int(i) if (0..size as i64).contains(&i) => i as usize,
            Const::Int(i) => {
                self.report(
                    Diagnostic::error("E0203", format!("index {i} is out of range for `{name}`"))
                        .with_label(ix.span, format!("valid indices are 0..{size}")),
                );
                return None;
            }
            _ => {
                self.report(
                    Diagnostic::error("E0204", "a component index must be an integer")
                        .with_label(ix.span, "not an integer"),
                );
                return None;
            }
        };
        Some(vec![off + at])
    }

    fn not_recordable(&mut self, item: &ast::Expr) -> Option<Vec<usize>> {
        self.report(
            Diagnostic::error("E0402", "bad value for `record`: expected a state or a component")
                .with_label(item.span, "write a state name `x` or a component `x[0]`"),
        );
        None
    }
}
