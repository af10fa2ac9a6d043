//! Hoisting parameter-only subexpressions into precomputed tables.
//!
//! A node that depends on parameters and index variables but not on the state or
//! time has the same value at every step of a run. If its index variables all run
//! over constant ranges it becomes a table in `env`, filled once by the prelude
//! kernel, and every use becomes a load. Products are flattened first so that
//! parameter factors scattered through them are gathered into one table
//! (`(x/s)·(1/s)` becomes `x · T` with `T = 1/s²`), and division by a parameter
//! becomes multiplication by a tabled reciprocal.

use super::{KStmt, Kernel, KernelKind};
use crate::model::{BinaryFn, Index, IndexVar, Over};
use crate::symbolic::{Arena, Node, NodeId, TableId};
use std::collections::HashMap;

/// Largest table, in elements.
const MAX_TABLE: i64 = 1 << 20;

/// One precomputed table.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// Its id (as used by `Node::Table`).
    pub id: TableId,
    /// Offset in `env`.
    pub offset: usize,
    /// Number of elements.
    pub len: usize,
    /// The parameter-only expression it holds.
    pub node: NodeId,
    /// Its index variables with their constant ranges `[lo, hi)`, outermost first.
    pub vars: Vec<(IndexVar, i64, i64)>,
}

struct Hoister<'a> {
    arena: &'a mut Arena,
    ranges: HashMap<IndexVar, (Index, Index)>,
    memo: HashMap<NodeId, NodeId>,
    tables: Vec<Table>,
    by_node: HashMap<NodeId, NodeId>,
    next_offset: usize,
}

/// Rewrites the kernels to read tables; returns the tables and the prelude kernel.
pub fn hoist(arena: &mut Arena, kernels: &mut [Kernel], params_len: usize) -> (Vec<Table>, Kernel) {
    let mut ranges = HashMap::new();
    for k in kernels.iter() {
        collect_loop_ranges(&k.body, &mut ranges);
        let mut roots = Vec::new();
        values(&k.body, &mut roots);
        roots.extend(k.result);
        for id in arena.topo_order(&roots) {
            if let Node::Reduce {
                var, lo, hi, over, ..
            } = arena.node(id)
            {
                if reads_no_ctx(over) {
                    ranges.insert(*var, (lo.clone(), hi.clone()));
                }
            }
        }
    }
    let mut h = Hoister {
        arena,
        ranges,
        memo: HashMap::new(),
        tables: Vec::new(),
        by_node: HashMap::new(),
        next_offset: params_len,
    };
    for k in kernels.iter_mut() {
        h.rewrite_stmts(&mut k.body);
        k.result = k.result.map(|r| h.rewrite(r));
    }
    let prelude = Kernel {
        kind: KernelKind::Prelude,
        out_len: h.next_offset,
        body: h.tables.iter().map(prelude_fill).collect(),
        result: None,
    };
    (h.tables, prelude)
}

fn prelude_fill(t: &Table) -> KStmt {
    let mut index = Index::constant(t.offset as i64);
    let mut stride = 1i64;
    for (v, lo, hi) in t.vars.iter().rev() {
        index.constant -= stride * lo;
        index.terms.push((*v, stride));
        stride *= hi - lo;
    }
    index.terms.sort();
    let mut stmt = KStmt::Store { index, value: t.node };
    for (v, lo, hi) in t.vars.iter().rev() {
        stmt = KStmt::Loop {
            var: *v,
            lo: Index::constant(*lo),
            hi: Index::constant(*hi),
            over: Over::Range,
            body: vec![stmt],
        };
    }
    stmt
}

fn collect_loop_ranges(stmts: &[KStmt], out: &mut HashMap<IndexVar, (Index, Index)>) {
    for s in stmts {
        if let KStmt::Loop {
            var,
            lo,
            hi,
            body,
            over,
        } = s
        {
            if reads_no_ctx(over) {
                out.insert(*var, (lo.clone(), hi.clone()));
            }
            collect_loop_ranges(body, out);
        }
    }
}

/// All value nodes of a statement list.
pub fn values(stmts: &[KStmt], out: &mut Vec<NodeId>) {
    for s in stmts {
        match s {
            KStmt::Store { value, .. } | KStmt::Accumulate { value, .. } => out.push(*value),
            KStmt::Loop { body, .. } => values(body, out),
            KStmt::Zero { .. } => {}
        }
    }
}

/// Whether a loop's range is known before the run: a block's or a list's bounds
/// come from the run-time context, so values varying along it are not tables
/// (the prelude runs once, without a context).
fn reads_no_ctx(over: &Over) -> bool {
    !matches!(over, Over::Block(_) | Over::List { .. })
}

fn is_trivial(node: &Node) -> bool {
    matches!(
        node,
        Node::Const(_)
            | Node::Param(..)
            | Node::State(..)
            | Node::Table(..)
            | Node::Time
            | Node::IndexValue(_)
    )
}

fn is_condition(node: &Node) -> bool {
    matches!(
        node,
        Node::Compare(..) | Node::And(..) | Node::Or(..) | Node::Not(_)
    )
}

impl Hoister<'_> {
    fn rewrite_stmts(&mut self, stmts: &mut [KStmt]) {
        for s in stmts {
            match s {
                KStmt::Store { value, .. } | KStmt::Accumulate { value, .. } => *value = self.rewrite(*value),
                KStmt::Loop { body, .. } => self.rewrite_stmts(body),
                KStmt::Zero { .. } => {}
            }
        }
    }

    fn rewrite(&mut self, id: NodeId) -> NodeId {
        if let Some(r) = self.memo.get(&id) {
            return *r;
        }
        let r = self.rewrite_uncached(id);
        self.memo.insert(id, r);
        r
    }

    fn rewrite_uncached(&mut self, id: NodeId) -> NodeId {
        let node = self.arena.node(id).clone();
        let param_only = self.arena.info(id).param_only();
        if param_only && (is_trivial(&node) || is_condition(&node)) {
            return id;
        }
        if param_only {
            if let Some(t) = self.table(id) {
                return t;
            }
        }
        if matches!(node, Node::Binary(BinaryFn::Mul | BinaryFn::Div, ..)) && !param_only {
            return self.rewrite_product(id);
        }
        self.rebuild(&node)
    }

    /// Re-interns `node` with rewritten children.
    fn rebuild(&mut self, node: &Node) -> NodeId {
        let new = node.map(|c| self.rewrite(c), Index::clone);
        self.arena.intern(new)
    }

    /// Flattens a product, gathers its parameter-only factors into one table.
    fn rewrite_product(&mut self, id: NodeId) -> NodeId {
        let mut factors = Vec::new();
        self.collect_factors(id, 1, &mut factors);
        let mut param_part = self.arena.constant(1.0);
        let mut numer = Vec::new();
        let mut denom = Vec::new();
        for (f, p) in factors {
            if self.arena.info(f).param_only() {
                param_part = if p > 0 {
                    self.arena.mul(param_part, f)
                } else {
                    self.arena.div(param_part, f)
                };
            } else if p > 0 {
                numer.push(f);
            } else {
                denom.push(f);
            }
        }
        let mut acc = self.rewrite(param_part);
        for f in numer {
            let f = self.rewrite(f);
            acc = self.plain_binary(BinaryFn::Mul, acc, f);
        }
        // One division by the product of the denominators.
        let mut below: Option<NodeId> = None;
        for f in denom {
            let f = self.rewrite(f);
            below = Some(match below {
                None => f,
                Some(b) => self.plain_binary(BinaryFn::Mul, b, f),
            });
        }
        match below {
            Some(b) => self.plain_binary(BinaryFn::Div, acc, b),
            None => acc,
        }
    }

    /// A binary node with only the neutral constant 1 removed (no other rewriting,
    /// which would undo the gathering).
    fn plain_binary(&mut self, f: BinaryFn, a: NodeId, b: NodeId) -> NodeId {
        if self.arena.as_const(a) == Some(1.0) && f == BinaryFn::Mul {
            return b;
        }
        self.arena.intern(Node::Binary(f, a, b))
    }

    fn collect_factors(&self, id: NodeId, power: i32, out: &mut Vec<(NodeId, i32)>) {
        match *self.arena.node(id) {
            Node::Binary(BinaryFn::Mul, a, b) => {
                self.collect_factors(a, power, out);
                self.collect_factors(b, power, out);
            }
            Node::Binary(BinaryFn::Div, a, b) => {
                self.collect_factors(a, power, out);
                self.collect_factors(b, -power, out);
            }
            _ => out.push((id, power)),
        }
    }

    /// A table read for a parameter-only node, if its variables have constant ranges
    /// and the table is not too large.
    fn table(&mut self, id: NodeId) -> Option<NodeId> {
        if let Some(t) = self.by_node.get(&id) {
            return Some(*t);
        }
        let reads_ctx = self
            .arena
            .topo_order(&[id])
            .into_iter()
            .any(|n| matches!(self.arena.node(n), Node::Reduce { over, .. } if !reads_no_ctx(over)));
        if reads_ctx {
            return None;
        }
        let free = self.arena.info(id).free.clone();
        let mut vars = Vec::new();
        let mut len: i64 = 1;
        for v in free {
            let (lo, hi) = self.ranges.get(&v)?;
            let (lo, hi) = (lo.as_constant()?, hi.as_constant()?);
            len = len.checked_mul((hi - lo).max(1))?;
            vars.push((v, lo, hi));
        }
        if len > MAX_TABLE {
            return None;
        }
        let mut index = Index::default();
        let mut stride = 1i64;
        for (v, lo, hi) in vars.iter().rev() {
            index.constant -= stride * lo;
            index.terms.push((*v, stride));
            stride *= hi - lo;
        }
        index.terms.sort();
        let tid = TableId(self.tables.len() as u32);
        self.tables.push(Table {
            id: tid,
            offset: self.next_offset,
            len: len as usize,
            node: id,
            vars,
        });
        self.next_offset += len as usize;
        let read = self.arena.intern(Node::Table(tid, index));
        self.by_node.insert(id, read);
        Some(read)
    }
}
