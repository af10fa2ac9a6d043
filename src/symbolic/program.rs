//! Derivative programs: loops of scatter-accumulations into an output array.
//!
//! Reverse-mode differentiation of an expression with reductions does not give one
//! expression per output component; it gives loops that add contributions into
//! the outputs (`grad[x[i]] += …` for i in 0..d). These statements keep the loop
//! structure of the energy, so the gradient costs a constant times the energy.

use super::arena::NodeId;
use crate::model::{Index, IndexVar, Over};

/// One statement of a derivative program.
#[derive(Clone, Debug, PartialEq)]
pub enum Stmt {
    /// `out[index] += value` (index into the flat output, affine in the enclosing loops).
    Accumulate {
        /// Output component.
        index: Index,
        /// Contribution.
        value: NodeId,
    },
    /// `for var in lo..hi { body }`.
    Loop {
        /// The loop variable.
        var: IndexVar,
        /// Inclusive lower bound.
        lo: Index,
        /// Exclusive upper bound.
        hi: Index,
        /// Which values of the range are visited.
        over: Over,
        /// The statements repeated.
        body: Vec<Stmt>,
    },
}

impl Stmt {
    /// Visits every value node of the statements (not the index expressions).
    pub fn for_each_value(stmts: &[Stmt], f: &mut dyn FnMut(NodeId)) {
        for s in stmts {
            match s {
                Stmt::Accumulate { value, .. } => f(*value),
                Stmt::Loop { body, .. } => Stmt::for_each_value(body, f),
            }
        }
    }

    /// Number of accumulation statements (for reports and tests).
    pub fn count(stmts: &[Stmt]) -> usize {
        stmts
            .iter()
            .map(|s| match s {
                Stmt::Accumulate { .. } => 1,
                Stmt::Loop { body, .. } => Stmt::count(body),
            })
            .sum()
    }
}
