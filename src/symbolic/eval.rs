//! An independent reference evaluator of the symbolic system.
//!
//! It walks the arena directly, in plain Rust `f64` arithmetic, so the tests can
//! check the JIT's machine code against it. It is never used on the sampling path.

use super::arena::{Arena, Node, NodeId};
use super::program::Stmt;
use super::simplify::{eval_binary, eval_cmp, eval_unary};
use crate::model::{Index, IndexVar, Over, ReduceOp};
use std::collections::HashMap;

/// Values of everything a node can read.
#[derive(Clone, Debug, Default)]
pub struct EvalEnv<'a> {
    /// Parameter values by `ParamId` (scalars have one element).
    pub params: &'a [Vec<f64>],
    /// Flat offsets of states.
    pub state_offsets: &'a [usize],
    /// The flat state.
    pub state: &'a [f64],
    /// Tables by `TableId` (only after lowering).
    pub tables: &'a [Vec<f64>],
    /// Time.
    pub t: f64,
    /// Run-time lists by `ListId`: (row starts, entries).
    pub lists: &'a [(Vec<u32>, Vec<u32>)],
    /// Run-time blocks: (group, lo, hi); a group not listed is not restricted.
    pub blocks: &'a [(u32, i64, i64)],
}

struct Frame {
    var: Option<IndexVar>,
    value: i64,
    memo: HashMap<NodeId, f64>,
}

/// Evaluates nodes and derivative programs.
pub struct Evaluator<'a> {
    arena: &'a Arena,
    env: EvalEnv<'a>,
    frames: Vec<Frame>,
}

impl<'a> Evaluator<'a> {
    /// An evaluator over `arena` with values `env`.
    pub fn new(arena: &'a Arena, env: EvalEnv<'a>) -> Evaluator<'a> {
        Evaluator {
            arena,
            env,
            frames: vec![Frame {
                var: None,
                value: 0,
                memo: HashMap::new(),
            }],
        }
    }

    fn var_value(&self, v: IndexVar) -> i64 {
        self.frames
            .iter()
            .rev()
            .find(|f| f.var == Some(v))
            .map_or(0, |f| f.value)
    }

    /// The value of an affine index under the current bindings.
    pub fn index(&self, ix: &Index) -> i64 {
        ix.terms
            .iter()
            .fold(ix.constant, |acc, (v, c)| acc + c * self.var_value(*v))
    }

    fn frame_of(&self, id: NodeId) -> usize {
        let free = &self.arena.info(id).free;
        self.frames
            .iter()
            .rposition(|f| f.var.is_some_and(|v| free.contains(&v)))
            .unwrap_or(0)
    }

    /// Evaluates a real node (conditions evaluate to 1 or 0).
    pub fn eval(&mut self, id: NodeId) -> f64 {
        let frame = self.frame_of(id);
        if let Some(v) = self.frames.get(frame).and_then(|f| f.memo.get(&id)) {
            return *v;
        }
        let v = self.compute(id);
        if let Some(f) = self.frames.get_mut(frame) {
            f.memo.insert(id, v);
        }
        v
    }

    fn compute(&mut self, id: NodeId) -> f64 {
        let b = |x: bool| if x { 1.0 } else { 0.0 };
        match self.arena.node(id).clone() {
            Node::Const(bits) => f64::from_bits(bits),
            Node::Arg(_) => f64::NAN,
            Node::Param(p, ix) => {
                let k = self.index(&ix);
                self.env
                    .params
                    .get(p.0 as usize)
                    .and_then(|v| v.get(k as usize))
                    .copied()
                    .unwrap_or(f64::NAN)
            }
            Node::Lookup { param, base, keys } => {
                let mut k = self.index(&base);
                for (key, stride) in keys {
                    k += stride * self.eval(key) as i64;
                }
                self.env
                    .params
                    .get(param.0 as usize)
                    .and_then(|v| usize::try_from(k).ok().and_then(|k| v.get(k)))
                    .copied()
                    .unwrap_or(f64::NAN)
            }
            Node::State(s, ix) => {
                let off = self.env.state_offsets.get(s.0 as usize).copied().unwrap_or(0) as i64;
                let k = off + self.index(&ix);
                self.env.state.get(k as usize).copied().unwrap_or(f64::NAN)
            }
            Node::Table(t, ix) => {
                let k = self.index(&ix);
                self.env
                    .tables
                    .get(t.0 as usize)
                    .and_then(|v| v.get(k as usize))
                    .copied()
                    .unwrap_or(f64::NAN)
            }
            Node::Time => self.env.t,
            Node::IndexValue(ix) => self.index(&ix) as f64,
            Node::Unary(f, a) => {
                let a = self.eval(a);
                eval_unary(f, a)
            }
            Node::Binary(f, a, c) => {
                let (a, c) = (self.eval(a), self.eval(c));
                eval_binary(f, a, c)
            }
            Node::Compare(op, a, c) => {
                let (a, c) = (self.eval(a), self.eval(c));
                b(eval_cmp(op, a, c))
            }
            Node::And(a, c) => b(self.eval(a) != 0.0 && self.eval(c) != 0.0),
            Node::Or(a, c) => b(self.eval(a) != 0.0 || self.eval(c) != 0.0),
            Node::Not(a) => b(self.eval(a) == 0.0),
            Node::Select(c, x, y) => {
                if self.eval(c) != 0.0 {
                    self.eval(x)
                } else {
                    self.eval(y)
                }
            }
            Node::NoGrad(a) => self.eval(a),
            Node::Reduce {
                op,
                var,
                lo,
                hi,
                over,
                body,
            } => {
                let mut acc = match op {
                    ReduceOp::Sum => 0.0,
                    ReduceOp::Prod => 1.0,
                    ReduceOp::Max => f64::NEG_INFINITY,
                    ReduceOp::Min => f64::INFINITY,
                };
                for k in self.values(&lo, &hi, &over) {
                    self.push(var, k);
                    let v = self.eval(body);
                    self.frames.pop();
                    acc = match op {
                        ReduceOp::Sum => acc + v,
                        ReduceOp::Prod => acc * v,
                        ReduceOp::Max => acc.max(v),
                        ReduceOp::Min => acc.min(v),
                    };
                }
                acc
            }
        }
    }

    /// The values a loop visits.
    fn values(&self, lo: &Index, hi: &Index, over: &Over) -> Vec<i64> {
        let (lo, hi) = (self.index(lo), self.index(hi));
        match over {
            Over::Range | Over::Particles(_) => (lo..hi).collect(),
            Over::Block(g) => match self.env.blocks.iter().find(|b| b.0 == *g) {
                Some(&(_, blo, bhi)) => (lo.max(blo)..hi.min(bhi)).collect(),
                None => (lo..hi).collect(),
            },
            Over::List { list, row } => {
                let r = self.index(row) as usize;
                let Some((start, idx)) = self.env.lists.get(list.0 as usize) else {
                    return Vec::new();
                };
                let (s, e) = (start.get(r), start.get(r + 1));
                let (Some(&s), Some(&e)) = (s, e) else {
                    return Vec::new();
                };
                idx.get(s as usize..e as usize)
                    .unwrap_or_default()
                    .iter()
                    .map(|j| i64::from(*j))
                    .filter(|j| (lo..hi).contains(j))
                    .collect()
            }
        }
    }

    fn push(&mut self, var: IndexVar, value: i64) {
        self.frames.push(Frame {
            var: Some(var),
            value,
            memo: HashMap::new(),
        });
    }

    /// Runs a derivative program, adding into `out` (which must be long enough;
    /// out-of-range components are ignored).
    pub fn run(&mut self, stmts: &[Stmt], out: &mut [f64]) {
        for s in stmts {
            match s {
                Stmt::Accumulate { index, value } => {
                    let k = self.index(index);
                    let v = self.eval(*value);
                    if let Some(slot) = out.get_mut(k as usize) {
                        *slot += v;
                    }
                }
                Stmt::Loop {
                    var,
                    lo,
                    hi,
                    over,
                    body,
                } => {
                    for k in self.values(lo, hi, over) {
                        self.push(*var, k);
                        self.run(body, out);
                        self.frames.pop();
                    }
                }
            }
        }
    }
}
