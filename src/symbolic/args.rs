//! Placeholder arguments: derivatives with respect to a value that is not a
//! state, and substitution of values for placeholders.
//!
//! The checker writes `grad(f, v)` and the virial of a pair potential by checking
//! a body with placeholder leaves ([`Node::Arg`]) where the argument goes,
//! differentiating with respect to a placeholder ([`Arena::arg_derivative`],
//! forward mode) and substituting the actual values afterwards
//! ([`Arena::substitute_args`]). Placeholders never outlive the conversion of the
//! checked model: every one sits inside a substitution.

use super::arena::{Arena, Node, NodeId};
use crate::model::{BinaryFn, ReduceOp, UnaryFn};
use std::collections::HashMap;

impl Arena {
    /// Forward-mode ∂e/∂a for the placeholder `a`: tangent 1 at `Arg(a)`, 0 at
    /// every other leaf.
    pub fn arg_derivative(&mut self, e: NodeId, a: u32) -> NodeId {
        let zero = self.constant(0.0);
        let mut memo: HashMap<NodeId, NodeId> = HashMap::new();
        for id in self.topo_order(&[e]) {
            let d = if self.info(id).arg {
                self.arg_step(id, a, &memo)
            } else {
                zero
            };
            memo.insert(id, d);
        }
        memo.get(&e).copied().unwrap_or(zero)
    }

    fn arg_step(&mut self, id: NodeId, a: u32, memo: &HashMap<NodeId, NodeId>) -> NodeId {
        let zero = self.constant(0.0);
        let d = |n: NodeId| memo.get(&n).copied().unwrap_or(zero);
        match self.node(id).clone() {
            Node::Arg(b) => self.constant(if a == b { 1.0 } else { 0.0 }),
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

    /// `e` with every placeholder `Arg(a)` in `values` replaced by its value. The
    /// values may mention index variables bound outside `e`; the checker gives
    /// every reduction inside `e` a variable of its own, so none is captured.
    pub fn substitute_args(&mut self, e: NodeId, values: &HashMap<u32, NodeId>) -> NodeId {
        let mut memo: HashMap<NodeId, NodeId> = HashMap::new();
        for id in self.topo_order(&[e]) {
            let new = if !self.info(id).arg {
                id
            } else {
                match self.node(id).clone() {
                    Node::Arg(a) => values.get(&a).copied().unwrap_or(id),
                    node => {
                        let rebuilt = node.map(|c| memo.get(&c).copied().unwrap_or(c), Clone::clone);
                        self.rebuild(rebuilt)
                    }
                }
            };
            memo.insert(id, new);
        }
        memo.get(&e).copied().unwrap_or(e)
    }

    /// Interns a node through the simplifying constructors, so that substituted
    /// constants fold.
    fn rebuild(&mut self, node: Node) -> NodeId {
        match node {
            Node::Unary(f, a) => self.unary(f, a),
            Node::Binary(f, a, b) => self.binary(f, a, b),
            Node::Compare(op, a, b) => self.compare(op, a, b),
            Node::Select(c, a, b) => self.select(c, a, b),
            Node::Reduce {
                op,
                var,
                lo,
                hi,
                over,
                body,
            } => self.reduce_over(op, var, lo, hi, over, body),
            other => self.intern(other),
        }
    }
}

impl Arena {
    /// `e` restricted to one block: sums over the particles of a set (through
    /// sums, differences, negation and scaling by state-free factors) become sums
    /// over the run-time block of that set; whatever is left is counted in the
    /// unit block only. Summed over all blocks, the result is `e` again.
    pub fn blocked(&mut self, e: NodeId) -> NodeId {
        match self.node(e).clone() {
            Node::Reduce {
                op: ReduceOp::Sum,
                var,
                lo,
                hi,
                over: crate::model::Over::Particles(set),
                body,
            } => self.reduce_over(ReduceOp::Sum, var, lo, hi, crate::model::Over::Block(set), body),
            Node::Binary(f @ (BinaryFn::Add | BinaryFn::Sub), a, b) => {
                let (a, b) = (self.blocked(a), self.blocked(b));
                self.binary(f, a, b)
            }
            Node::Binary(BinaryFn::Mul, a, b) if !self.info(a).state && !self.info(a).time => {
                let b = self.blocked(b);
                self.mul(a, b)
            }
            Node::Binary(f @ (BinaryFn::Mul | BinaryFn::Div), a, b)
                if !self.info(b).state && !self.info(b).time =>
            {
                let a = self.blocked(a);
                self.binary(f, a, b)
            }
            Node::Unary(UnaryFn::Neg, a) => {
                let a = self.blocked(a);
                self.neg(a)
            }
            _ if !self.info(e).state => {
                // A constant term (a normalisation): counted once, in the unit block.
                self.unit_block(e)
            }
            _ => self.unit_block(e),
        }
    }

    /// `e` counted in the unit block only: Σ over the unit block's part of `0..1`.
    fn unit_block(&mut self, e: NodeId) -> NodeId {
        let k = self.fresh_var();
        self.reduce_over(
            ReduceOp::Sum,
            k,
            crate::model::Index::constant(0),
            crate::model::Index::constant(1),
            crate::model::Over::Block(crate::model::Over::UNIT),
            e,
        )
    }
}
