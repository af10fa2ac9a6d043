//! Reductions: a sum, product, maximum or minimum as one loop, long constant-range sums
//! over four accumulators, and sums over one range fused into one loop.

use super::{Callee, Emitter, UNROLL_MIN};
use crate::model::{Index, IndexVar, Over, ReduceOp};
use crate::symbolic::{Node, NodeId};
use cranelift_codegen::ir::{types, InstBuilder, Value};
use std::collections::HashMap;

impl<C: Callee> Emitter<'_, '_, C> {
    /// Emits every group of two or more sums reachable from `roots` that bind the same
    /// variable over the same range, and that can be computed here (all their free
    /// variables bound), as one loop with an accumulator each; their values are cached
    /// in the current scope. Within one iteration the bodies share what they have in
    /// common (see `lower::fuse`), and their sums inside are fused in turn. Each
    /// accumulator adds the same values in the same order as a loop of its own.
    pub(super) fn fuse_sums(&mut self, roots: &[NodeId]) {
        let mut groups: Vec<(NodeId, Vec<NodeId>)> = Vec::new();
        for id in self.arena.topo_order(roots) {
            let Node::Reduce {
                op: ReduceOp::Sum,
                var,
                lo,
                hi,
                over,
                ..
            } = self.arena.node(id)
            else {
                continue;
            };
            let unrolled = matches!(over, Over::Range)
                && matches!((lo.as_constant(), hi.as_constant()), (Some(a), Some(b)) if b - a >= UNROLL_MIN);
            let bound = self
                .arena
                .info(id)
                .free
                .iter()
                .all(|v| self.vars.iter().any(|(w, _)| w == v));
            if unrolled || !bound || self.cached(id).is_some() {
                continue;
            }
            let same_loop = |other: &Node| {
                matches!(other, Node::Reduce { op: ReduceOp::Sum, var: v, lo: l, hi: h, over: o, .. }
                    if v == var && l == lo && h == hi && o == over)
            };
            match groups
                .iter_mut()
                .find(|(first, _)| same_loop(self.arena.node(*first)))
            {
                Some((_, members)) => members.push(id),
                None => groups.push((id, vec![id])),
            }
        }
        for (first, members) in groups {
            if members.len() < 2 {
                continue;
            }
            let Node::Reduce {
                var, lo, hi, over, ..
            } = self.arena.node(first).clone()
            else {
                continue;
            };
            let bodies: Vec<NodeId> = members
                .iter()
                .filter_map(|m| match self.arena.node(*m) {
                    Node::Reduce { body, .. } => Some(*body),
                    _ => None,
                })
                .collect();
            self.hoist_invariants(var, &bodies);
            let sums = match self.lane_sums(var, (&lo, &hi, &over), &bodies) {
                Some(sums) => sums,
                None => {
                    let zero = self.b.ins().f64const(0.0);
                    let init = vec![zero; bodies.len()];
                    self.emit_loop(var, (&lo, &hi, &over), &init, |e, accs| {
                        e.add_bodies(&bodies, accs)
                    })
                }
            };
            if let Some(scope) = self.scopes.last_mut() {
                for (m, s) in members.iter().zip(sums) {
                    scope.insert(*m, s);
                }
            }
        }
    }

    /// One iteration of sums: each body (its own sums inside fused first) added to its
    /// accumulator.
    pub(super) fn add_bodies(&mut self, bodies: &[NodeId], accs: &[Value]) -> Vec<Value> {
        self.fuse_sums(bodies);
        bodies
            .iter()
            .zip(accs)
            .map(|(body, acc)| {
                let v = self.value(*body);
                self.b.ins().fadd(*acc, v)
            })
            .collect()
    }

    pub(super) fn reduce(
        &mut self,
        op: ReduceOp,
        var: IndexVar,
        range: (&Index, &Index, &Over),
        body: NodeId,
    ) -> Value {
        self.hoist_invariants(var, &[body]);
        if let (ReduceOp::Sum, (lo, hi, Over::Range)) = (op, range) {
            if let (Some(lo), Some(hi)) = (lo.as_constant(), hi.as_constant()) {
                if hi - lo >= UNROLL_MIN {
                    return self.unrolled_sum(var, lo, hi - lo, body);
                }
            }
        }
        if op == ReduceOp::Sum {
            if let Some(sum) = self
                .lane_sums(var, range, &[body])
                .and_then(|s| s.first().copied())
            {
                return sum;
            }
        }
        let init = match op {
            ReduceOp::Sum => 0.0,
            ReduceOp::Prod => 1.0,
            ReduceOp::Max => f64::NEG_INFINITY,
            ReduceOp::Min => f64::INFINITY,
        };
        let init = self.b.ins().f64const(init);
        let out = self.emit_loop(var, range, &[init], |e, accs| {
            let acc = accs.first().copied().unwrap_or(init);
            e.fuse_sums(&[body]);
            let v = e.value(body);
            let next = match op {
                ReduceOp::Sum => e.b.ins().fadd(acc, v),
                ReduceOp::Prod => e.b.ins().fmul(acc, v),
                ReduceOp::Max => e.b.ins().fmax(acc, v),
                ReduceOp::Min => e.b.ins().fmin(acc, v),
            };
            vec![next]
        });
        out.first().copied().unwrap_or(init)
    }

    /// `Σ body` for `var` in `lo..lo + n` with four accumulators, each taking every fourth
    /// value, then the `n mod 4` last values: four independent chains of additions
    /// instead of one, which a long sum (a dot product over a data row) waits on.
    fn unrolled_sum(&mut self, var: IndexVar, lo: i64, n: i64, body: NodeId) -> Value {
        let zero = self.b.ins().f64const(0.0);
        let quads = n / 4;
        let range = (Index::constant(0), Index::constant(quads), Over::Range);
        let accs = self.emit_loop(var, (&range.0, &range.1, &range.2), &[zero; 4], |e, accs| {
            // the loop counter p: the values are lo + 4p + u
            let p = e.vars.last().map_or(zero, |(_, v)| *v);
            let base = e.b.ins().imul_imm_s(p, 4);
            (0..4)
                .map(|u| {
                    let at = e.b.ins().iadd_imm_s(base, lo + u);
                    let v = e.value_at(var, at, body);
                    let acc = accs.get(u as usize).copied().unwrap_or(zero);
                    e.b.ins().fadd(acc, v)
                })
                .collect()
        });
        let acc = |k: usize| accs.get(k).copied().unwrap_or(zero);
        let low = self.b.ins().fadd(acc(0), acc(1));
        let high = self.b.ins().fadd(acc(2), acc(3));
        let mut total = self.b.ins().fadd(low, high);
        for k in 4 * quads..n {
            let at = self.b.ins().iconst(types::I64, lo + k);
            let v = self.value_at(var, at, body);
            total = self.b.ins().fadd(total, v);
        }
        total
    }

    /// The value of `body` with `var` bound to `at`, in a scope of its own (so nothing
    /// computed for this value of `var` is reused for another).
    fn value_at(&mut self, var: IndexVar, at: Value, body: NodeId) -> Value {
        self.vars.push((var, at));
        self.scopes.push(HashMap::new());
        let v = self.value(body);
        self.scopes.pop();
        self.vars.pop();
        v
    }
}
