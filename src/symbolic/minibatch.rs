//! Minibatch energies for the stochastic-gradient samplers.
//!
//! A *data sum* is a sum `sum(i in 0..R, body)` whose body reads a data array by row
//! `i` (a vector of R entries, or row i of an R-row matrix). In the minibatch energy Ũ
//! every data sum that enters U linearly (through sums, differences, negation and
//! scaling by a factor without data sums) becomes (R/B)·Σ over the B rows of a run-time
//! list, so E[∇Ũ] = ∇U when the rows are drawn uniformly. Data sums in other positions
//! (inside a logarithm, say) stay whole: their estimate would be biased.

use super::arena::{Arena, Node, NodeId};
use crate::diagnostic::Diagnostic;
use crate::model::{BinaryFn, Index, ListId, Model, Over, ParamId, ParamValue, ReduceOp, UnaryFn};
use crate::source::Span;
use std::collections::HashMap;

/// What the method asks for: B rows per gradient, with or without replacement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MinibatchRequest {
    /// Rows per gradient B.
    pub size: usize,
    /// Rows may repeat.
    pub replace: bool,
    /// Where the method was written (for diagnostics).
    pub span: Span,
}

/// The data rows a minibatch energy subsamples.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DataBatch {
    /// Number of data rows R.
    pub rows: usize,
    /// Rows per gradient B.
    pub size: usize,
    /// The run-time list holding the batch (one row of B entries below R).
    pub list: ListId,
    /// Number of data sums that were subsampled.
    pub sums: usize,
}

/// Rows of each data array and the stride of a row in its flat storage.
fn data_rows(model: &Model) -> HashMap<ParamId, (usize, i64)> {
    model
        .params
        .iter()
        .enumerate()
        .filter(|(_, p)| p.data)
        .filter_map(|(k, p)| {
            let shape = match &p.value {
                ParamValue::Vector(v) => (v.len(), 1),
                ParamValue::Matrix { rows, cols, .. } => (*rows, *cols as i64),
                ParamValue::Ints { dims, .. } => {
                    let rows = *dims.first()?;
                    (rows, dims.iter().skip(1).product::<usize>() as i64)
                }
                ParamValue::Real(_) | ParamValue::Int(_) => return None,
            };
            Some((ParamId(k as u32), shape))
        })
        .collect()
}

struct Rewrite<'a> {
    data: &'a HashMap<ParamId, (usize, i64)>,
    size: usize,
    list: ListId,
    /// Row counts of the data sums found, in order.
    found: Vec<usize>,
}

impl Rewrite<'_> {
    /// R if `e` is a data sum over R rows.
    fn data_sum(&self, arena: &Arena, e: NodeId) -> Option<usize> {
        let Node::Reduce {
            op: ReduceOp::Sum,
            var,
            lo,
            hi,
            over: Over::Range,
            body,
        } = arena.node(e)
        else {
            return None;
        };
        let rows = usize::try_from(hi.as_constant()?).ok()?;
        if lo.as_constant() != Some(0) {
            return None;
        }
        let reads_row = |id: &NodeId| match arena.node(*id) {
            Node::Param(p, ix) => self.data.get(p).is_some_and(|(r, stride)| {
                *r == rows && ix.terms.iter().any(|(v, c)| v == var && c == stride)
            }),
            _ => false,
        };
        arena.topo_order(&[*body]).iter().any(reads_row).then_some(rows)
    }

    /// Whether `e` contains a data sum anywhere.
    fn has_data_sum(&self, arena: &Arena, e: NodeId) -> bool {
        arena
            .topo_order(&[e])
            .into_iter()
            .any(|id| self.data_sum(arena, id).is_some())
    }

    fn rewrite(&mut self, arena: &mut Arena, e: NodeId) -> NodeId {
        if let Some(rows) = self.data_sum(arena, e) {
            let Node::Reduce {
                var, lo, hi, body, ..
            } = arena.node(e).clone()
            else {
                return e;
            };
            self.found.push(rows);
            let over = Over::List {
                list: self.list,
                row: Index::constant(0),
            };
            let sum = arena.reduce_over(ReduceOp::Sum, var, lo, hi, over, body);
            let scale = arena.constant(rows as f64 / self.size as f64);
            return arena.mul(scale, sum);
        }
        match arena.node(e).clone() {
            Node::Binary(f @ (BinaryFn::Add | BinaryFn::Sub), a, b) => {
                let (a, b) = (self.rewrite(arena, a), self.rewrite(arena, b));
                arena.binary(f, a, b)
            }
            Node::Binary(BinaryFn::Mul, a, b) if !self.has_data_sum(arena, a) => {
                let b = self.rewrite(arena, b);
                arena.mul(a, b)
            }
            Node::Binary(f @ (BinaryFn::Mul | BinaryFn::Div), a, b) if !self.has_data_sum(arena, b) => {
                let a = self.rewrite(arena, a);
                arena.binary(f, a, b)
            }
            Node::Unary(UnaryFn::Neg, a) => {
                let a = self.rewrite(arena, a);
                arena.neg(a)
            }
            _ => e,
        }
    }
}

/// The minibatch energy of `u`, or a diagnostic saying why the model has none.
pub(super) fn batch_energy(
    arena: &mut Arena,
    model: &Model,
    u: NodeId,
    request: MinibatchRequest,
) -> Result<(NodeId, DataBatch), Diagnostic> {
    let fail = |message: String, label: &str| {
        Diagnostic::error("E0906", message).with_label(request.span, label.to_string())
    };
    if !model.particles.is_empty() {
        return Err(fail(
            "stochastic gradients subsample data rows; particle models are not supported".to_string(),
            "this method follows minibatch gradients",
        )
        .with_help("use `ula`, `baoab` or another full-gradient method"));
    }
    let data = data_rows(model);
    let list = ListId(model.lists.len() as u32);
    let mut rw = Rewrite {
        data: &data,
        size: request.size,
        list,
        found: Vec::new(),
    };
    let ub = rw.rewrite(arena, u);
    let nonlinear = rw.found.is_empty() && rw.has_data_sum(arena, u);
    let found = rw.found;
    let mut distinct = found.clone();
    distinct.sort_unstable();
    distinct.dedup();
    let rows = match distinct.as_slice() {
        [] if nonlinear => {
            return Err(fail(
                "the energy's sums over data rows do not enter it linearly".to_string(),
                "this method follows minibatch gradients",
            )
            .with_note(
                "a minibatch estimate of a sum is unbiased, but not of a function of the sum \
                 (a logarithm or a power of it)",
            )
            .with_help("write the energy as the sum over rows plus terms without data sums"))
        }
        [] => {
            return Err(fail(
                "the energy has no sum over data rows to subsample".to_string(),
                "this method follows minibatch gradients",
            )
            .with_help(
                "write the likelihood as `sum(i in 0..n, …)` over the rows of `data` arrays, \
                 added to the rest of the energy",
            ))
        }
        [rows] => *rows,
        _ => {
            let list: Vec<String> = distinct.iter().map(|r| r.to_string()).collect();
            return Err(fail(
                format!(
                    "the energy sums over data sets of different sizes ({} rows)",
                    list.join(", ")
                ),
                "one minibatch is drawn per gradient",
            )
            .with_help("stochastic gradients subsample one set of data rows"));
        }
    };
    if !request.replace && request.size > rows {
        return Err(fail(
            format!(
                "a batch of {} distinct rows is more than the data's {rows} rows",
                request.size
            ),
            "batch too large",
        )
        .with_help(format!("use `batch = {rows}` or less, or `replace = true`")));
    }
    Ok((
        ub,
        DataBatch {
            rows,
            size: request.size,
            list,
            sums: found.len(),
        },
    ))
}
