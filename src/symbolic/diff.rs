//! Symbolic differentiation.
//!
//! Reverse mode ([`Arena::reverse`]) turns a scalar expression into a derivative
//! program (see `program.rs`): adjoints flow from the root to the leaves, and at a
//! reduction the body's adjoint is propagated *inside a loop over the same range*.
//! Nodes inside a loop body that do not depend on the loop variable (say a mean
//! used in every term) are not differentiated once per iteration: their
//! contributions are summed over the loop and propagated once, outside it — the
//! usual reverse-mode treatment of loop-invariant inputs, which keeps the cost of
//! the gradient a constant times the cost of the expression.
//!
//! Forward mode ([`Arena::derivative`]) gives ∂e/∂xₖ for one component named by an
//! index expression; it is used for the diagonal derivative ∂gᵢ/∂xᵢ of diffusion
//! coefficients (Milstein, Itô–Stratonovich conversion).

use super::arena::{Arena, Node, NodeId};
use super::program::Stmt;
use crate::model::{BinaryFn, CmpOp, Index, IndexVar, ReduceOp, StateId, UnaryFn};
use std::collections::HashMap;

/// Where a leaf's adjoint goes: `(state, index, adjoint)` to a statement.
pub type Emit<'a> = dyn FnMut(&mut Arena, StateId, &Index, NodeId) -> Option<Stmt> + 'a;

/// Adjoint contributions to nodes that live outside the region being differentiated.
type Escapes = Vec<(NodeId, NodeId)>;

impl Arena {
    /// Reverse-mode derivative program of `root` with adjoint `seed`. `bound` lists the
    /// index variables bound by enclosing loops (empty for a closed expression); every
    /// state leaf `x[ix]` reached emits `emit(x, ix, adjoint)`.
    pub fn reverse(&mut self, root: NodeId, seed: NodeId, bound: &[IndexVar], emit: &mut Emit) -> Vec<Stmt> {
        let (stmts, escapes) = self.reverse_region(root, seed, bound, None, emit);
        // With no loop variable of its own the top region keeps every node it reaches,
        // so nothing escapes; guard anyway by differentiating escapes in place.
        let mut out = stmts;
        for (node, adj) in escapes {
            let (more, _) = self.reverse_region(node, adj, bound, None, emit);
            out.extend(more);
        }
        out
    }

    /// Whether `id` lives in the region with enclosing variables `bound` and loop
    /// variable `var` (None for the top region).
    fn lives_in(&self, id: NodeId, bound: &[IndexVar], var: Option<IndexVar>) -> bool {
        let free = &self.info(id).free;
        free.iter().all(|v| bound.contains(v)) && var.is_none_or(|v| free.contains(&v))
    }

    /// Nodes of a region reachable from `root`, children before parents. The search
    /// enters reduction bodies, to find loop-invariant nodes used inside them that
    /// live at this level, but collects only nodes that live here.
    fn region_nodes(&self, root: NodeId, bound: &[IndexVar], var: Option<IndexVar>) -> Vec<NodeId> {
        self.topo_order(&[root])
            .into_iter()
            .filter(|id| self.info(*id).state && self.lives_in(*id, bound, var))
            .collect()
    }

    fn reverse_region(
        &mut self,
        root: NodeId,
        seed: NodeId,
        bound: &[IndexVar],
        var: Option<IndexVar>,
        emit: &mut Emit,
    ) -> (Vec<Stmt>, Escapes) {
        if !self.lives_in(root, bound, var) {
            // A loop body that does not depend on its own variable: all of it escapes.
            return (Vec::new(), vec![(root, seed)]);
        }
        let nodes = self.region_nodes(root, bound, var);
        let mut adj: HashMap<NodeId, NodeId> = HashMap::new();
        adj.insert(root, seed);
        let mut stmts = Vec::new();
        let mut escapes: Escapes = Vec::new();
        // State leaves outside the loop (x[i] inside a loop over j) take their
        // contributions inside it: one loop instead of one more reduction per leaf.
        let mut leaves: Vec<(NodeId, NodeId)> = Vec::new();
        for &id in nodes.iter().rev() {
            let Some(a) = adj.get(&id).copied() else {
                continue;
            };
            if self.as_const(a) == Some(0.0) {
                continue;
            }
            let mut push = |arena: &mut Arena, child: NodeId, contrib: NodeId| {
                if !arena.info(child).state || arena.as_const(contrib) == Some(0.0) {
                    return;
                }
                if arena.lives_in(child, bound, var) {
                    let prev = adj.get(&child).copied();
                    let sum = match prev {
                        Some(p) => arena.add(p, contrib),
                        None => contrib,
                    };
                    adj.insert(child, sum);
                } else if var.is_some() && matches!(arena.node(child), Node::State(..)) {
                    leaves.push((child, contrib));
                } else {
                    escapes.push((child, contrib));
                }
            };
            match self.node(id).clone() {
                Node::State(s, ix) => stmts.extend(emit(self, s, &ix, a)),
                Node::Reduce {
                    op,
                    var: v,
                    lo,
                    hi,
                    over,
                    body,
                } => {
                    // A reduction whose variable is already bound by an enclosing loop
                    // (a Hessian row loop reuses the gradient's variable) is renamed,
                    // so the loop opened for its body does not shadow the outer one.
                    let (v, body) = if bound.contains(&v) {
                        let fresh = self.fresh_var();
                        (fresh, self.rename_var(body, v, fresh))
                    } else {
                        (v, body)
                    };
                    let body_adj = self.reduce_body_adjoint(op, id, body, a);
                    let mut inner_bound = bound.to_vec();
                    inner_bound.push(v);
                    let (body_stmts, body_escapes) =
                        self.reverse_region(body, body_adj, &inner_bound, Some(v), emit);
                    if !body_stmts.is_empty() {
                        stmts.push(Stmt::Loop {
                            var: v,
                            lo: lo.clone(),
                            hi: hi.clone(),
                            over: over.clone(),
                            body: body_stmts,
                        });
                    }
                    // Contributions to loop-invariant nodes are summed over the loop.
                    let mut grouped: Vec<(NodeId, NodeId)> = Vec::new();
                    for (node, c) in body_escapes {
                        match grouped.iter_mut().find(|(n, _)| *n == node) {
                            Some(entry) => entry.1 = self.add(entry.1, c),
                            None => grouped.push((node, c)),
                        }
                    }
                    for (node, c) in grouped {
                        let total =
                            self.reduce_over(ReduceOp::Sum, v, lo.clone(), hi.clone(), over.clone(), c);
                        push(self, node, total);
                    }
                }
                node => {
                    for (child, partial) in self.local_partials(&node, id) {
                        let contrib = self.mul(a, partial);
                        push(self, child, contrib);
                    }
                }
            }
            for (leaf, contrib) in leaves.drain(..) {
                if let Node::State(s, ix) = self.node(leaf).clone() {
                    stmts.extend(emit(self, s, &ix, contrib));
                }
            }
        }
        (stmts, escapes)
    }

    /// The adjoint of a reduction's body given the reduction's adjoint `a`.
    pub(crate) fn reduce_body_adjoint(
        &mut self,
        op: ReduceOp,
        whole: NodeId,
        body: NodeId,
        a: NodeId,
    ) -> NodeId {
        match op {
            ReduceOp::Sum => a,
            // ∂(Π bₖ)/∂bⱼ = Π/bⱼ (the factors must be non-zero where it is evaluated).
            ReduceOp::Prod => {
                let q = self.div(whole, body);
                self.mul(a, q)
            }
            // The extremal terms receive the adjoint.
            ReduceOp::Max | ReduceOp::Min => {
                let hit = self.compare(CmpOp::Eq, body, whole);
                let zero = self.constant(0.0);
                self.select(hit, a, zero)
            }
        }
    }

    /// `(child, ∂node/∂child)` for the real-valued children of an ordinary node.
    pub(crate) fn local_partials(&mut self, node: &Node, id: NodeId) -> Vec<(NodeId, NodeId)> {
        match *node {
            Node::Unary(f, x) => {
                let d = self.unary_derivative(f, x, id);
                vec![(x, d)]
            }
            Node::Binary(f, x, y) => {
                let (dx, dy) = self.binary_partials(f, x, y, id);
                vec![(x, dx), (y, dy)]
            }
            Node::Select(c, x, y) => {
                let one = self.constant(1.0);
                let zero = self.constant(0.0);
                let to_x = self.select(c, one, zero);
                let to_y = self.select(c, zero, one);
                vec![(x, to_x), (y, to_y)]
            }
            _ => Vec::new(),
        }
    }

    /// f′(x), given `fx` = the node f(x) itself (reused where f′ is expressed through f).
    pub fn unary_derivative(&mut self, f: UnaryFn, x: NodeId, fx: NodeId) -> NodeId {
        let one = self.constant(1.0);
        match f {
            UnaryFn::Neg => self.constant(-1.0),
            // Piecewise constant: zero almost everywhere.
            UnaryFn::Round | UnaryFn::Floor => self.constant(0.0),
            UnaryFn::Exp => fx,
            UnaryFn::Log => self.div(one, x),
            UnaryFn::Log1p => {
                let d = self.add(one, x);
                self.div(one, d)
            }
            UnaryFn::Expm1 => self.add(fx, one),
            UnaryFn::Sqrt => {
                let two = self.constant(2.0);
                let d = self.mul(two, fx);
                self.div(one, d)
            }
            UnaryFn::Cbrt => {
                let three = self.constant(3.0);
                let two = self.constant(2.0);
                let sq = self.pow(fx, two);
                let d = self.mul(three, sq);
                self.div(one, d)
            }
            UnaryFn::Sin => self.unary(UnaryFn::Cos, x),
            UnaryFn::Cos => {
                let s = self.unary(UnaryFn::Sin, x);
                self.neg(s)
            }
            UnaryFn::Tan => {
                let two = self.constant(2.0);
                let sq = self.pow(fx, two);
                self.add(one, sq)
            }
            UnaryFn::Tanh => {
                let two = self.constant(2.0);
                let sq = self.pow(fx, two);
                self.sub(one, sq)
            }
            UnaryFn::Abs => {
                // sign(x), with 0 at 0.
                let zero = self.constant(0.0);
                let minus = self.constant(-1.0);
                let pos = self.compare(CmpOp::Gt, x, zero);
                let neg = self.compare(CmpOp::Lt, x, zero);
                let inner = self.select(neg, minus, zero);
                self.select(pos, one, inner)
            }
            UnaryFn::Sigmoid => {
                let rest = self.sub(one, fx);
                self.mul(fx, rest)
            }
            UnaryFn::Softplus => self.unary(UnaryFn::Sigmoid, x),
            UnaryFn::Erf => {
                let k = self.constant(2.0 / std::f64::consts::PI.sqrt());
                let two = self.constant(2.0);
                let sq = self.pow(x, two);
                let nsq = self.neg(sq);
                let e = self.unary(UnaryFn::Exp, nsq);
                self.mul(k, e)
            }
        }
    }

    /// (∂f/∂x, ∂f/∂y) of f(x, y), given `fxy` = the node itself.
    pub fn binary_partials(&mut self, f: BinaryFn, x: NodeId, y: NodeId, fxy: NodeId) -> (NodeId, NodeId) {
        let one = self.constant(1.0);
        let zero = self.constant(0.0);
        match f {
            BinaryFn::Add => (one, one),
            BinaryFn::Sub => (one, self.constant(-1.0)),
            BinaryFn::Mul => (y, x),
            BinaryFn::Div => {
                let dx = self.div(one, y);
                let q = self.div(fxy, y);
                (dx, self.neg(q))
            }
            BinaryFn::Pow => {
                // ∂/∂x xʸ = y·x^(y−1);  ∂/∂y xʸ = xʸ·ln x (only where y is not constant).
                let ym1 = self.sub(y, one);
                let p = self.pow(x, ym1);
                let dx = self.mul(y, p);
                let dy = if self.info(y).state {
                    let l = self.unary(UnaryFn::Log, x);
                    self.mul(fxy, l)
                } else {
                    zero
                };
                (dx, dy)
            }
            BinaryFn::Atan2 => {
                // atan2(y=x, x=y): ∂/∂x = y/(x²+y²), ∂/∂y = −x/(x²+y²).
                let two = self.constant(2.0);
                let x2 = self.pow(x, two);
                let y2 = self.pow(y, two);
                let r2 = self.add(x2, y2);
                let dx = self.div(y, r2);
                let q = self.div(x, r2);
                (dx, self.neg(q))
            }
            BinaryFn::Min | BinaryFn::Max => {
                let op = if f == BinaryFn::Min { CmpOp::Le } else { CmpOp::Ge };
                let first = self.compare(op, x, y);
                (self.select(first, one, zero), self.select(first, zero, one))
            }
        }
    }

    /// Forward-mode ∂e/∂x[target] for state `wrt`, where `target` may contain index
    /// variables bound outside `e`: the directional derivative whose tangent is 1 at
    /// `x[target]` and 0 at every other leaf.
    pub fn derivative(&mut self, e: NodeId, wrt: StateId, target: &Index) -> NodeId {
        self.directional(e, &mut |arena: &mut Arena, s: StateId, ix: &Index| {
            if s == wrt {
                index_delta(arena, ix, target)
            } else {
                arena.constant(0.0)
            }
        })
    }
}

/// 1 where `a == b` as integers, else 0 (decided symbolically when possible).
pub fn index_delta(arena: &mut Arena, a: &Index, b: &Index) -> NodeId {
    match index_sub(a, b).as_constant() {
        Some(0) => arena.constant(1.0),
        Some(_) => arena.constant(0.0),
        None => {
            let va = arena.intern(Node::IndexValue(a.clone()));
            let vb = arena.intern(Node::IndexValue(b.clone()));
            let eq = arena.compare(CmpOp::Eq, va, vb);
            let one = arena.constant(1.0);
            let zero = arena.constant(0.0);
            arena.select(eq, one, zero)
        }
    }
}

/// a − b for affine indices.
pub fn index_sub(a: &Index, b: &Index) -> Index {
    let neg = Index {
        constant: -b.constant,
        terms: b.terms.iter().map(|(v, c)| (*v, -c)).collect(),
    };
    index_add(a, &neg)
}

/// a + b for affine indices.
pub fn index_add(a: &Index, b: &Index) -> Index {
    let mut terms = a.terms.clone();
    for (v, c) in &b.terms {
        match terms.iter_mut().find(|(w, _)| w == v) {
            Some(t) => t.1 += c,
            None => terms.push((*v, *c)),
        }
    }
    terms.retain(|(_, c)| *c != 0);
    terms.sort();
    Index {
        constant: a.constant + b.constant,
        terms,
    }
}

/// k · a for an affine index.
pub fn index_scale(a: &Index, k: i64) -> Index {
    let mut out = Index {
        constant: a.constant * k,
        terms: a.terms.iter().map(|(v, c)| (*v, c * k)).collect(),
    };
    out.terms.retain(|(_, c)| *c != 0);
    out
}
