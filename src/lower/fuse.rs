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
        has_reduce: HashMap::new(),
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
    has_reduce: HashMap<NodeId, bool>,
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

    /// Whether a reduction occurs in `id`.
    fn contains_reduce(&mut self, id: NodeId) -> bool {
        if let Some(&r) = self.has_reduce.get(&id) {
            return r;
        }
        let r = matches!(self.arena.node(id), Node::Reduce { .. })
            || self
                .arena
                .children(id)
                .into_iter()
                .any(|c| self.contains_reduce(c));
        self.has_reduce.insert(id, r);
        r
    }

    /// `id` with the reductions at `depth` and below renamed.
    fn rename(&mut self, id: NodeId, depth: usize) -> NodeId {
        if !self.contains_reduce(id) {
            return id;
        }
        if let Some(&r) = self.memo.get(&(id, depth)) {
            return r;
        }
        let node = self.arena.node(id).clone();
        let new = match node {
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
                let children = self.arena.children(id);
                let renamed: HashMap<NodeId, NodeId> =
                    children.into_iter().map(|c| (c, self.rename(c, depth))).collect();
                self.arena
                    .intern(node.map(|k| renamed.get(&k).copied().unwrap_or(k), Index::clone))
            }
        };
        self.memo.insert((id, depth), new);
        new
    }
}
