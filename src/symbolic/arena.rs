//! The hash-consed expression arena.
//!
//! Every distinct node exists once ([`NodeId`]); building a node that already
//! exists returns the old id, so derivatives share structure instead of copying
//! trees, and common subexpressions are found for free. Each node caches facts
//! the later stages need: its free index variables and what it depends on.

use crate::model::{BinaryFn, CmpOp, Index, IndexVar, Over, ParamId, ReduceOp, StateId, UnaryFn};
use std::collections::HashMap;

/// A node of the arena.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u32);

/// A precomputed table of parameter-only values (created by the lowering stage).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TableId(pub u32);

/// One expression node. Real-valued unless it is a condition
/// (`Compare`, `And`, `Or`, `Not`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Node {
    /// A real constant, stored as its bit pattern so nodes can be hashed.
    Const(u64),
    /// Element `index` of a parameter (index 0 for scalars).
    Param(ParamId, Index),
    /// Element `index` of a state (index 0 for scalars).
    State(StateId, Index),
    /// Element `base + Σ stride·key` of a parameter, each key an integer-valued node
    /// (an entry of an integer parameter): species tables `eps[type[i], type[j]]`.
    Lookup {
        /// The parameter read.
        param: ParamId,
        /// The affine part of the flat index.
        base: Index,
        /// The keys with their strides.
        keys: Vec<(NodeId, i64)>,
    },
    /// Element `index` of a precomputed parameter table.
    Table(TableId, Index),
    /// Time.
    Time,
    /// An integer index expression read as a real.
    IndexValue(Index),
    /// f(a).
    Unary(UnaryFn, NodeId),
    /// f(a, b).
    Binary(BinaryFn, NodeId, NodeId),
    /// A comparison (a condition).
    Compare(CmpOp, NodeId, NodeId),
    /// Both conditions.
    And(NodeId, NodeId),
    /// Either condition.
    Or(NodeId, NodeId),
    /// Negated condition.
    Not(NodeId),
    /// `if c then a else b`.
    Select(NodeId, NodeId, NodeId),
    /// A loop reduction of `body` over `var` in `[lo, hi)`.
    Reduce {
        /// Σ, Π, max, min.
        op: ReduceOp,
        /// The bound variable.
        var: IndexVar,
        /// Inclusive lower bound.
        lo: Index,
        /// Exclusive upper bound.
        hi: Index,
        /// Which values of the range are visited.
        over: Over,
        /// The reduced expression.
        body: NodeId,
    },
    /// The inner value, with a zero derivative.
    NoGrad(NodeId),
    /// A placeholder argument, replaced before lowering (see `args.rs`).
    Arg(u32),
}

impl Node {
    /// The same node with every child mapped by `child` and every index (a
    /// reduction's bounds included) by `index`; a reduction keeps its variable.
    pub fn map(
        &self,
        mut child: impl FnMut(NodeId) -> NodeId,
        mut index: impl FnMut(&Index) -> Index,
    ) -> Node {
        match self {
            Node::Param(p, ix) => Node::Param(*p, index(ix)),
            Node::Lookup { param, base, keys } => Node::Lookup {
                param: *param,
                base: index(base),
                keys: keys.iter().map(|(k, s)| (child(*k), *s)).collect(),
            },
            Node::State(s, ix) => Node::State(*s, index(ix)),
            Node::Table(t, ix) => Node::Table(*t, index(ix)),
            Node::IndexValue(ix) => Node::IndexValue(index(ix)),
            Node::Unary(f, a) => Node::Unary(*f, child(*a)),
            Node::Binary(f, a, b) => Node::Binary(*f, child(*a), child(*b)),
            Node::Compare(op, a, b) => Node::Compare(*op, child(*a), child(*b)),
            Node::And(a, b) => Node::And(child(*a), child(*b)),
            Node::Or(a, b) => Node::Or(child(*a), child(*b)),
            Node::Not(a) => Node::Not(child(*a)),
            Node::Select(c, a, b) => Node::Select(child(*c), child(*a), child(*b)),
            Node::NoGrad(a) => Node::NoGrad(child(*a)),
            Node::Reduce {
                op,
                var,
                lo,
                hi,
                over,
                body,
            } => Node::Reduce {
                op: *op,
                var: *var,
                lo: index(lo),
                hi: index(hi),
                over: map_over(over, &mut index),
                body: child(*body),
            },
            leaf @ (Node::Const(_) | Node::Time | Node::Arg(_)) => leaf.clone(),
        }
    }
}

/// `over` with the row index of a list loop mapped by `index`.
pub fn map_over(over: &Over, mut index: impl FnMut(&Index) -> Index) -> Over {
    match over {
        Over::List { list, row } => Over::List {
            list: *list,
            row: index(row),
        },
        other => other.clone(),
    }
}

/// Cached facts about a node.
#[derive(Clone, Debug, Default)]
pub struct NodeInfo {
    /// Free index variables, sorted.
    pub free: Vec<IndexVar>,
    /// Depends on a state component.
    pub state: bool,
    /// Depends on time.
    pub time: bool,
    /// Contains a placeholder argument.
    pub arg: bool,
    /// Number of nodes in the tree below (saturating), for printing decisions.
    pub size: u32,
}

impl NodeInfo {
    /// Whether only parameters, constants and index variables occur below.
    pub fn param_only(&self) -> bool {
        !self.state && !self.time
    }
}

/// The arena: nodes, their facts, and the hash-consing table.
#[derive(Clone, Debug, Default)]
pub struct Arena {
    nodes: Vec<Node>,
    info: Vec<NodeInfo>,
    lookup: HashMap<Node, NodeId>,
    /// One past the largest index variable id seen (for fresh variables).
    next_var: u32,
}

/// Free variables of an index expression.
pub fn index_vars(ix: &Index) -> impl Iterator<Item = IndexVar> + '_ {
    ix.terms.iter().map(|(v, _)| *v)
}

fn union(a: &[IndexVar], b: &[IndexVar]) -> Vec<IndexVar> {
    let mut out: Vec<IndexVar> = a.iter().chain(b).copied().collect();
    out.sort();
    out.dedup();
    out
}

impl Arena {
    /// An empty arena.
    pub fn new() -> Arena {
        Arena::default()
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the arena is empty.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The node behind `id`. Ids come only from this arena, so the lookup cannot fail
    /// for ids it returned; a foreign id yields a zero constant.
    pub fn node(&self, id: NodeId) -> &Node {
        static ZERO: Node = Node::Const(0);
        self.nodes.get(id.0 as usize).unwrap_or(&ZERO)
    }

    /// Facts about `id`.
    pub fn info(&self, id: NodeId) -> &NodeInfo {
        static EMPTY: NodeInfo = NodeInfo {
            free: Vec::new(),
            state: false,
            time: false,
            arg: false,
            size: 1,
        };
        self.info.get(id.0 as usize).unwrap_or(&EMPTY)
    }

    /// The constant value of `id`, if it is a constant.
    pub fn as_const(&self, id: NodeId) -> Option<f64> {
        match self.node(id) {
            Node::Const(bits) => Some(f64::from_bits(*bits)),
            _ => None,
        }
    }

    /// The id of `node` if it is already in the arena (nothing is added).
    pub fn find(&self, node: &Node) -> Option<NodeId> {
        self.lookup.get(node).copied()
    }

    /// Interns a node without simplification and returns its id.
    pub fn intern(&mut self, node: Node) -> NodeId {
        if let Some(id) = self.lookup.get(&node) {
            return *id;
        }
        let info = self.compute_info(&node);
        let bound = match &node {
            Node::Reduce { var, .. } => Some(var.0),
            _ => None,
        };
        for v in info.free.iter().map(|v| v.0).chain(bound) {
            self.next_var = self.next_var.max(v + 1);
        }
        let id = NodeId(self.nodes.len() as u32);
        self.nodes.push(node.clone());
        self.info.push(info);
        self.lookup.insert(node, id);
        id
    }

    /// An index variable used by no node so far.
    pub fn fresh_var(&mut self) -> IndexVar {
        let v = IndexVar(self.next_var);
        self.next_var += 1;
        v
    }

    /// Makes sure fresh variables are numbered from at least `n` (ids the model
    /// allocated but no node mentions yet).
    pub fn reserve_vars(&mut self, n: u32) {
        self.next_var = self.next_var.max(n);
    }

    /// `id` with the free variable `from` renamed to `to` (a fresh variable).
    pub fn rename_var(&mut self, id: NodeId, from: IndexVar, to: IndexVar) -> NodeId {
        self.substitute(id, from, &Index::var(to))
    }

    /// A constant node (−0 is normalised to 0 so that both intern alike).
    pub fn constant(&mut self, v: f64) -> NodeId {
        let v = if v == 0.0 { 0.0 } else { v };
        self.intern(Node::Const(v.to_bits()))
    }

    fn compute_info(&self, node: &Node) -> NodeInfo {
        let leaf = |free: Vec<IndexVar>, state: bool, time: bool| NodeInfo {
            free,
            state,
            time,
            arg: false,
            size: 1,
        };
        let combine = |ids: &[NodeId]| {
            let mut info = NodeInfo {
                size: 1,
                ..NodeInfo::default()
            };
            for id in ids {
                let c = self.info(*id);
                info.free = union(&info.free, &c.free);
                info.state |= c.state;
                info.time |= c.time;
                info.arg |= c.arg;
                info.size = info.size.saturating_add(c.size);
            }
            info
        };
        match node {
            Node::Const(_) => leaf(Vec::new(), false, false),
            Node::Param(_, ix) | Node::Table(_, ix) | Node::IndexValue(ix) => {
                leaf(union(&[], &index_vars(ix).collect::<Vec<_>>()), false, false)
            }
            Node::State(_, ix) => leaf(union(&[], &index_vars(ix).collect::<Vec<_>>()), true, false),
            Node::Time => leaf(Vec::new(), false, true),
            Node::Arg(_) => NodeInfo {
                arg: true,
                ..leaf(Vec::new(), false, false)
            },
            Node::Unary(_, a) | Node::Not(a) | Node::NoGrad(a) => combine(&[*a]),
            Node::Binary(_, a, b) | Node::Compare(_, a, b) | Node::And(a, b) | Node::Or(a, b) => {
                combine(&[*a, *b])
            }
            Node::Select(c, a, b) => combine(&[*c, *a, *b]),
            Node::Lookup { base, keys, .. } => {
                let ids: Vec<NodeId> = keys.iter().map(|(k, _)| *k).collect();
                let mut info = combine(&ids);
                info.free = union(&info.free, &index_vars(base).collect::<Vec<_>>());
                info
            }
            Node::Reduce {
                var,
                lo,
                hi,
                over,
                body,
                ..
            } => {
                let mut info = combine(&[*body]);
                info.free.retain(|v| v != var);
                let row = over.index().into_iter().flat_map(index_vars);
                let bounds: Vec<IndexVar> = index_vars(lo).chain(index_vars(hi)).chain(row).collect();
                info.free = union(&info.free, &bounds);
                info
            }
        }
    }

    /// The direct children of a node (a reduction's body included).
    pub fn children(&self, id: NodeId) -> Vec<NodeId> {
        match self.node(id) {
            Node::Const(_)
            | Node::Param(..)
            | Node::State(..)
            | Node::Table(..)
            | Node::Time
            | Node::Arg(_)
            | Node::IndexValue(_) => Vec::new(),
            Node::Unary(_, a) | Node::Not(a) | Node::NoGrad(a) => vec![*a],
            Node::Binary(_, a, b) | Node::Compare(_, a, b) | Node::And(a, b) | Node::Or(a, b) => {
                vec![*a, *b]
            }
            Node::Select(c, a, b) => vec![*c, *a, *b],
            Node::Lookup { keys, .. } => keys.iter().map(|(k, _)| *k).collect(),
            Node::Reduce { body, .. } => vec![*body],
        }
    }

    /// All nodes reachable from `roots` (bodies included), children before parents.
    /// Iterative, so deep expressions cannot overflow the stack.
    pub fn topo_order(&self, roots: &[NodeId]) -> Vec<NodeId> {
        let mut seen = vec![false; self.nodes.len()];
        let mut order = Vec::new();
        let mut stack: Vec<(NodeId, bool)> = roots.iter().rev().map(|r| (*r, false)).collect();
        while let Some((id, expanded)) = stack.pop() {
            let Some(flag) = seen.get(id.0 as usize).copied() else {
                continue;
            };
            if expanded {
                order.push(id);
                continue;
            }
            if flag {
                continue;
            }
            if let Some(s) = seen.get_mut(id.0 as usize) {
                *s = true;
            }
            stack.push((id, true));
            for c in self.children(id).into_iter().rev() {
                if !seen.get(c.0 as usize).copied().unwrap_or(true) {
                    stack.push((c, false));
                }
            }
        }
        order
    }
}
