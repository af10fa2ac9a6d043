//! Shared loop variables for sums over the same range, so the code generator can run
//! them as one loop.
//!
//! Two observables of a particle model (the energy and the virial, say) are each a sum
//! over the particles of a sum over a neighbour list, and each came with variables of
//! its own. Renamed so that every reduction over a given range, at a given nesting
//! depth, binds the same variable, the two bodies become expressions over the same
//! indices: hash-consing then shares what they have in common (the minimum-image
//! displacement, the squared distance, the cutoff test), and the code generator,
//! which fuses reductions of equal variable and range into one loop
//! (`codegen::emit`), computes it once per pair instead of once per sum.
//!
//! The renaming is an α-conversion: values do not change. The depth keeps nested sums
//! over the same range (`Σᵢ Σⱼ` over `0..n` both) on distinct variables; siblings at
//! the same depth never see each other's variable.

use super::{KStmt, Kernel};
use crate::model::{Index, IndexVar, Over, ReduceOp};
use crate::symbolic::{Arena, Node, NodeId};
use std::collections::HashMap;

/// A reduction's range, operation and nesting depth: reductions with the same key bind
/// the same variable.
type RangeKey = (ReduceOp, Index, Index, Over, usize);

/// Renames the variables of every reduction in `kernel`'s values (see the module doc).
pub fn share_reduction_vars(arena: &mut Arena, kernel: &mut Kernel) {
    let mut renamer = Renamer {
        arena,
        vars: HashMap::new(),
        memo: HashMap::new(),
    };
    renamer.stmts(&mut kernel.body);
    if let Some(r) = kernel.result.as_mut() {
        *r = renamer.rename(*r, 0);
    }
}

struct Renamer<'a> {
    arena: &'a mut Arena,
    vars: HashMap<RangeKey, IndexVar>,
    memo: HashMap<(NodeId, usize), NodeId>,
}

impl Renamer<'_> {
    fn stmts(&mut self, stmts: &mut [KStmt]) {
        for s in stmts {
            match s {
                KStmt::Store { value, .. } | KStmt::Accumulate { value, .. } => {
                    *value = self.rename(*value, 0)
                }
                KStmt::Loop { body, .. } => self.stmts(body),
                KStmt::Zero { .. } => {}
            }
        }
    }

    /// `id` with the reductions at `depth` and below renamed. The walk keeps its own
    /// stack, children first, so a deep expression costs no call stack (only the
    /// nesting of reductions recurses), and it does not enter what it renamed before.
    fn rename(&mut self, id: NodeId, depth: usize) -> NodeId {
        let mut stack = vec![(id, false)];
        while let Some((n, expanded)) = stack.pop() {
            if self.memo.contains_key(&(n, depth)) {
                continue;
            }
            if expanded {
                let new = self.rename_node(n, depth);
                self.memo.insert((n, depth), new);
                continue;
            }
            stack.push((n, true));
            // a reduction's body is renamed one level down, by `rename_node`
            if !matches!(self.arena.node(n), Node::Reduce { .. }) {
                for c in self.arena.children(n) {
                    if !self.memo.contains_key(&(c, depth)) {
                        stack.push((c, false));
                    }
                }
            }
        }
        self.memo.get(&(id, depth)).copied().unwrap_or(id)
    }

    /// One node whose children at `depth` are already renamed (in `memo`).
    fn rename_node(&mut self, n: NodeId, depth: usize) -> NodeId {
        match self.arena.node(n).clone() {
            Node::Reduce {
                op,
                var,
                lo,
                hi,
                over,
                body,
            } => {
                let key = (op, lo.clone(), hi.clone(), over.clone(), depth);
                let shared = match self.vars.get(&key) {
                    Some(v) => *v,
                    None => {
                        let v = self.arena.fresh_var();
                        self.vars.insert(key, v);
                        v
                    }
                };
                let body = if shared == var {
                    body
                } else {
                    self.arena.rename_var(body, var, shared)
                };
                let body = self.rename(body, depth + 1);
                self.arena.intern(Node::Reduce {
                    op,
                    var: shared,
                    lo,
                    hi,
                    over,
                    body,
                })
            }
            node => {
                let memo = &self.memo;
                let mut changed = false;
                let mapped = node.map(
                    |k| {
                        let r = memo.get(&(k, depth)).copied().unwrap_or(k);
                        changed |= r != k;
                        r
                    },
                    Index::clone,
                );
                if changed {
                    self.arena.intern(mapped)
                } else {
                    n
                }
            }
        }
    }
}
