//! Call cycles between user functions (E0103), found before any inlining.
//!
//! Each function body's calls are resolved in the function's own scope (names of
//! its parameters and of inner `let`/binders are values, never callees). A cycle
//! is reported once, naming the whole path, and every function on it is marked so
//! that its calls yield error values instead of unbounded inlining.

use super::cx::{Checker, Def};
use crate::diagnostic::Diagnostic;
use crate::source::Span;
use crate::syntax::ast::{self, CallArg, ExprKind};

/// Collects `(callee name, call span)` of every call in `e`.
fn calls<'a>(e: &'a ast::Expr, out: &mut Vec<(&'a str, Span)>) {
    match &e.kind {
        ExprKind::Int(_) | ExprKind::Real(_) | ExprKind::Bool(_) | ExprKind::Name(_) | ExprKind::Error => {}
        ExprKind::Unary(_, a) => calls(a, out),
        ExprKind::Binary(_, a, b) | ExprKind::Index(a, b) => {
            calls(a, out);
            calls(b, out);
        }
        ExprKind::Call { func, args } => {
            out.push((&func.name, func.span));
            for x in args.iter().flat_map(CallArg::exprs) {
                calls(x, out);
            }
        }
        ExprKind::Vector(items) => items.iter().for_each(|x| calls(x, out)),
        ExprKind::If(c, a, b) => {
            calls(c, out);
            calls(a, out);
            calls(b, out);
        }
        ExprKind::Let { value, body, .. } => {
            calls(value, out);
            calls(body, out);
        }
    }
}

impl<'m> Checker<'m> {
    /// Finds and reports call cycles among all declared functions.
    pub(super) fn check_fn_cycles(&mut self) {
        let edges: Vec<Vec<(usize, Span)>> = (0..self.fns.len()).map(|f| self.callees(f)).collect();
        // 0 = unvisited, 1 = on the stack, 2 = done
        let mut color = vec![0u8; self.fns.len()];
        for start in 0..self.fns.len() {
            let mut stack: Vec<(usize, usize)> = Vec::new();
            if color.get(start) == Some(&0) {
                stack.push((start, 0));
                if let Some(c) = color.get_mut(start) {
                    *c = 1;
                }
            }
            while let Some(&(f, next)) = stack.last() {
                match edges.get(f).and_then(|e| e.get(next)) {
                    None => {
                        stack.pop();
                        if let Some(c) = color.get_mut(f) {
                            *c = 2;
                        }
                    }
                    Some(&(g, call_span)) => {
                        if let Some(top) = stack.last_mut() {
                            top.1 += 1;
                        }
                        match color.get(g) {
                            Some(0) => {
                                if let Some(c) = color.get_mut(g) {
                                    *c = 1;
                                }
                                stack.push((g, 0));
                            }
                            Some(1) => {
                                let path: Vec<usize> =
                                    stack.iter().map(|(h, _)| *h).skip_while(|h| *h != g).collect();
                                self.report_cycle(&path, call_span);
                            }
                            _ => {}
                        }
                    }
                }
            }
        }
    }

    fn callees(&mut self, f: usize) -> Vec<(usize, Span)> {
        let Some(slot) = self.fns.get(f) else {
            return Vec::new();
        };
        let (decl, scope) = (slot.decl, slot.scope);
        let mut found = Vec::new();
        calls(&decl.body, &mut found);
        let saved = self.scope.replace(scope);
        let out = found
            .into_iter()
            .filter(|(name, _)| !decl.params.iter().any(|p| p.name == *name))
            .filter_map(|(name, span)| match self.lookup_def(name) {
                Some(Def::Fn(g)) => Some((g, span)),
                _ => None,
            })
            .collect();
        self.scope = saved;
        out
    }

    fn report_cycle(&mut self, path: &[usize], closing_call: Span) {
        let names: Vec<String> = path
            .iter()
            .filter_map(|f| self.fns.get(*f).map(|s| s.decl.name.name.clone()))
            .collect();
        let (Some(first), Some(first_slot)) = (names.first(), path.first().and_then(|f| self.fns.get(*f)))
        else {
            return;
        };
        let first_span = first_slot.decl.name.span;
        let cycle = format!("{} → {first}", names.join(" → "));
        let msg = if names.len() == 1 {
            format!("function `{first}` calls itself")
        } else {
            format!("functions `{}` call each other", names.join("`, `"))
        };
        let mut d = Diagnostic::error("E0103", msg)
            .with_label(first_span, format!("recursion: {cycle}"))
            .with_label(closing_call, "this call closes the cycle")
            .with_note("functions are inlined at compile time, so they cannot be recursive");
        if names.len() > 1 {
            d = d.with_help("use an indexed reduction (`sum(i in 0..n, …)`) instead of recursion");
        }
        self.report(d);
        for f in path {
            if let Some(s) = self.fns.get_mut(*f) {
                s.recursive = true;
            }
        }
    }
}
