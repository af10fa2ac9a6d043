//! Directional derivatives and index substitution, for the noise-induced drift
//! of SDEs with non-diagonal noise: Σⱼ Σₖ Gₖⱼ ∂Gᵢⱼ/∂xₖ is, for each Wiener
//! column j, the derivative of Gᵢⱼ along column j of G — forward mode with a
//! *tangent* per state leaf x[k] (the entry G[k, j], an expression itself).

use super::arena::{Arena, Node, NodeId};
use super::diff::{index_add, index_scale};
use crate::model::{Index, IndexVar, ReduceOp, StateId};
use std::collections::HashMap;

/// The tangent of a state leaf `x[ix]`: `(arena, state, ix) -> node`.
pub type Tangent<'a> = dyn FnMut(&mut Arena, StateId, &Index) -> NodeId + 'a;

/// `ix` with the variable `from` replaced by the affine index `to`.
pub fn substitute_index(ix: &Index, from: IndexVar, to: &Index) -> Index {
    let Some(c) = ix.terms.iter().find(|(v, _)| *v == from).map(|(_, c)| *c) else {
        return ix.clone();
    };
    let rest = Index {
        constant: ix.constant,
        terms: ix.terms.iter().filter(|(v, _)| *v != from).cloned().collect(),
    };
    index_add(&rest, &index_scale(to, c))
}

impl Arena {
    /// Forward-mode derivative of `e` in the direction given by `tangent` at every
    /// state leaf: Σₖ (∂e/∂xₖ) tangent(xₖ). Leaves inside reductions may have
    /// tangents that depend on the reduction's variable.
    pub fn directional(&mut self, e: NodeId, tangent: &mut Tangent) -> NodeId {
        let zero = self.constant(0.0);
        let mut memo: HashMap<NodeId, NodeId> = HashMap::new();
        for id in self.topo_order(&[e]) {
            let d = if self.info(id).state {
                self.directional_step(id, &memo, tangent)
            } else {
                zero
            };
            memo.insert(id, d);
        }
        memo.get(&e).copied().unwrap_or(zero)
    }

    fn directional_step(
        &mut self,
        id: NodeId,
        memo: &HashMap<NodeId, NodeId>,
        tangent: &mut Tangent,
    ) -> NodeId {
        let zero = self.constant(0.0);
        let d = |n: NodeId| memo.get(&n).copied().unwrap_or(zero);
        match self.node(id).clone() {
            Node::State(s, ix) => tangent(self, s, &ix),
            Node::Reduce {
                op,
                var,
                lo,
                hi,
                over,
                body,
            } => {
                let db = d(body);
                let one = self.constant(1.0);
                let weight = self.reduce_body_adjoint(op, id, body, one);
                let term = self.mul(weight, db);
                self.reduce_over(ReduceOp::Sum, var, lo, hi, over, term)
            }
            node => {
                let parts = self.local_partials(&node, id);
                let terms: Vec<NodeId> = parts
                    .into_iter()
                    .map(|(c, p)| {
                        let dc = d(c);
                        self.mul(p, dc)
                    })
                    .collect();
                self.sum_all(terms)
            }
        }
    }

    /// `id` with the free index variable `from` replaced by `to`. Reductions whose
    /// variable occurs in `to` are renamed first, so `to` is never captured.
    pub fn substitute(&mut self, id: NodeId, from: IndexVar, to: &Index) -> NodeId {
        let avoid: Vec<IndexVar> = to.terms.iter().map(|(v, _)| *v).collect();
        let mut memo: HashMap<NodeId, NodeId> = HashMap::new();
        for n in self.topo_order(&[id]) {
            let new = self.substitute_node(n, from, to, &avoid, &memo);
            memo.insert(n, new);
        }
        memo.get(&id).copied().unwrap_or(id)
    }

    fn substitute_node(
        &mut self,
        n: NodeId,
        from: IndexVar,
        to: &Index,
        avoid: &[IndexVar],
        memo: &HashMap<NodeId, NodeId>,
    ) -> NodeId {
        // Only free occurrences change (a reduction binding `from` shadows it).
        if !self.info(n).free.contains(&from) {
            return n;
        }
        let sub = |ix: &Index| substitute_index(ix, from, to);
        let node = match self.node(n).clone() {
            Node::Reduce {
                op,
                var,
                lo,
                hi,
                over,
                body,
            } if avoid.contains(&var) => {
                let fresh = self.fresh_var();
                let renamed = self.rename_var(body, var, fresh);
                let body = self.substitute(renamed, from, to);
                Node::Reduce {
                    op,
                    var: fresh,
                    lo: sub(&lo),
                    hi: sub(&hi),
                    over: super::arena::map_over(&over, sub),
                    body,
                }
            }
            node => node.map(|k| memo.get(&k).copied().unwrap_or(k), sub),
        };
        self.intern(node)
    }
}
