//! The symbolic stage: from the checked [`Model`] to a [`System`] of expressions
//! in a hash-consed arena, with derivatives.
//!
//! Vocabulary:
//! - [`Arena`] holds every node once ([`NodeId`]); constructors simplify as they build.
//! - A *derivative program* ([`Stmt`]) is a list of loops accumulating into an
//!   output array: the gradient of an energy with `sum(i in 0..d, …)` is a loop
//!   over i, never d separate expressions.
//! - The state is flat: state `s` component `k` is `offset(s) + k`.
//!
//! Derived quantities: the energy U, its gradient ∇U (the score is −∇U), the dense
//! Hessian (on request), and for SDEs (see [`sde`]) the Itô and Stratonovich
//! drifts of every α-convention, Langevin drifts, the diffusion g and its noise
//! layout, the diagonal derivative ∂gᵢ/∂xᵢ (for Milstein), and the drift
//! Jacobian (on request).

pub mod arena;
mod args;
pub mod diff;
pub mod directional;
pub mod display;
pub mod eval;
pub mod minibatch;
pub mod program;
pub mod sde;
pub mod simplify;
#[cfg(test)]
mod tests;

pub use arena::{Arena, Node, NodeId, TableId};
pub use program::Stmt;
pub use sde::{NoiseLayout, SdeEquation};

use crate::diagnostic::Diagnostic;
use crate::model::{Expr, Index, IndexVar, Model, Over, SdeComponents, StateId};
use diff::{index_add, index_scale};
use std::collections::HashMap;
use std::rc::Rc;

/// What to derive besides the always-needed quantities.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BuildOptions {
    /// Build the dense Hessian of the energy.
    pub hessian: bool,
    /// Build the dense Jacobian of the (Itô) drift.
    pub jacobian: bool,
    /// Build the minibatch energy and its gradient (stochastic-gradient samplers).
    pub minibatch: Option<minibatch::MinibatchRequest>,
}

/// The symbolic system of one model.
#[derive(Clone, Debug)]
pub struct System {
    /// All expression nodes.
    pub arena: Arena,
    /// Total energy U (sum of the terms), if the model has one.
    pub energy: Option<NodeId>,
    /// Per-term energies, by name.
    pub energy_terms: Vec<(String, NodeId)>,
    /// ∇U as a derivative program over the flat state.
    pub gradient: Vec<Stmt>,
    /// For particle models: U restricted to one block of each particle loop (see
    /// [`crate::model::Over::Block`]), whose values over all blocks sum to U.
    pub blocked_energy: Option<NodeId>,
    /// The gradient of [`System::blocked_energy`].
    pub blocked_gradient: Vec<Stmt>,
    /// For particle models: each energy term restricted to one block.
    pub blocked_terms: Vec<NodeId>,
    /// Per-draw observables, in the model's order of recorded ones: the value of a
    /// scalar observable, the virial W of a pressure.
    pub observables: Vec<NodeId>,
    /// The dense Hessian (row-major, n×n), if requested.
    pub hessian: Option<Vec<Stmt>>,
    /// The gradient of the minibatch energy (see [`minibatch`]), if requested.
    pub batch_gradient: Option<Vec<Stmt>>,
    /// The data rows the minibatch gradient subsamples.
    pub data_batch: Option<minibatch::DataBatch>,
    /// SDE equations (empty for a Gibbs model).
    pub sdes: Vec<SdeEquation>,
    /// How the Wiener processes are laid out.
    pub noise: NoiseLayout,
    /// The dense Jacobian of the Itô drift (row-major, n×n), if requested.
    pub jacobian: Option<Vec<Stmt>>,
    /// Flat offset of each state.
    pub state_offsets: Vec<usize>,
    /// Total number of state components.
    pub state_size: usize,
    /// Next unused index variable id (new loops get fresh ids from here).
    pub next_var: u32,
}

/// Builds the symbolic system of a checked model.
pub fn build(model: &Model, options: BuildOptions) -> Result<System, Vec<Diagnostic>> {
    let mut arena = Arena::new();
    arena.reserve_vars(model.index_vars);
    let mut conv = Converter {
        arena: &mut arena,
        memo: HashMap::new(),
    };
    let energy_terms: Vec<(String, NodeId)> = model
        .energy
        .iter()
        .map(|t| (t.name.clone(), conv.convert(&t.expr)))
        .collect();
    let observables: Vec<NodeId> = model
        .observables
        .iter()
        .filter_map(|o| match &o.kind {
            crate::model::ObservableKind::Value(e) => Some(conv.convert(e)),
            crate::model::ObservableKind::Pressure { virial, .. } => Some(conv.convert(virial)),
            crate::model::ObservableKind::Rdf { .. } => None,
        })
        .collect();
    let mut sde_nodes = Vec::new();
    for sde in &model.sdes {
        let drift = conv.convert(&sde.drift);
        let diffusion = conv.convert(&sde.diffusion);
        let langevin = sde
            .langevin
            .as_ref()
            .map(|l| (conv.convert(&l.diffusion), conv.convert(&l.kt)));
        sde_nodes.push(sde::RawEquation {
            sde,
            drift,
            diffusion,
            langevin,
        });
    }
    let state_offsets = model.state_offsets();
    let state_size = model.state_size();
    let mut system = System {
        arena,
        energy: None,
        energy_terms,
        gradient: Vec::new(),
        blocked_energy: None,
        blocked_gradient: Vec::new(),
        blocked_terms: Vec::new(),
        observables,
        hessian: None,
        batch_gradient: None,
        data_batch: None,
        sdes: Vec::new(),
        noise: NoiseLayout::default(),
        jacobian: None,
        state_offsets,
        state_size,
        next_var: model.index_vars,
    };
    if !model.particles.is_empty() {
        // Kernels of particle models run block by block: every value they compute is
        // a sum over blocks (see `Arena::blocked`).
        let obs = std::mem::take(&mut system.observables);
        system.observables = obs.into_iter().map(|o| system.arena.blocked(o)).collect();
        let terms: Vec<NodeId> = system.energy_terms.iter().map(|(_, n)| *n).collect();
        system.blocked_terms = terms.into_iter().map(|t| system.arena.blocked(t)).collect();
    }
    if !model.energy.is_empty() {
        let terms: Vec<NodeId> = system.energy_terms.iter().map(|(_, n)| *n).collect();
        let u = system.arena.sum_all(terms);
        system.energy = Some(u);
        system.gradient = system.scatter_derivative(u, &[], &Index::constant(0), 0);
        if !model.particles.is_empty() {
            let ub = system.arena.sum_all(system.blocked_terms.clone());
            system.blocked_energy = Some(ub);
            system.blocked_gradient = system.scatter_derivative(ub, &[], &Index::constant(0), 0);
        }
        if let Some(request) = options.minibatch {
            let (ub, batch) =
                minibatch::batch_energy(&mut system.arena, model, u, request).map_err(|d| vec![d])?;
            system.batch_gradient = Some(system.scatter_derivative(ub, &[], &Index::constant(0), 0));
            system.data_batch = Some(batch);
        }
        if options.hessian {
            let grad = system.gradient.clone();
            system.hessian = Some(system.second_derivative(&grad, &mut Vec::new()));
        }
    }
    system.build_sdes(model, sde_nodes);
    if options.jacobian && !system.sdes.is_empty() {
        system.jacobian = Some(system.drift_jacobian());
    }
    Ok(system)
}

impl System {
    /// Offset of state `s` in the flat state (0 for an unknown id).
    pub fn offset(&self, s: StateId) -> usize {
        self.state_offsets.get(s.0 as usize).copied().unwrap_or(0)
    }

    /// Reverse-mode program of `root` in loops `bound`: each leaf `x[ix]` becomes
    /// `out[row·n + offset(x) + ix] += adjoint`, where `row` is `row_index` scaled by
    /// `row_stride` (0 for a gradient, n for a Hessian or Jacobian row).
    fn scatter_derivative(
        &mut self,
        root: NodeId,
        bound: &[IndexVar],
        row: &Index,
        stride: i64,
    ) -> Vec<Stmt> {
        let offsets = self.state_offsets.clone();
        let row_base = index_scale(row, stride);
        let seed = self.arena.constant(1.0);
        let mut emit = |_: &mut Arena, s: StateId, ix: &Index, adj: NodeId| {
            let off = offsets.get(s.0 as usize).copied().unwrap_or(0) as i64;
            let col = index_add(ix, &Index::constant(off));
            Some(Stmt::Accumulate {
                index: index_add(&row_base, &col),
                value: adj,
            })
        };
        self.arena.reverse(root, seed, bound, &mut emit)
    }

    /// Differentiates every accumulation of a gradient program once more.
    fn second_derivative(&mut self, stmts: &[Stmt], bound: &mut Vec<IndexVar>) -> Vec<Stmt> {
        let n = self.state_size as i64;
        let mut out = Vec::new();
        for s in stmts {
            match s {
                Stmt::Accumulate { index, value } => {
                    out.extend(self.scatter_derivative(*value, bound, index, n));
                }
                Stmt::Loop {
                    var,
                    lo,
                    hi,
                    over,
                    body,
                } => {
                    bound.push(*var);
                    let inner = self.second_derivative(body, bound);
                    bound.pop();
                    if !inner.is_empty() {
                        out.push(Stmt::Loop {
                            var: *var,
                            lo: lo.clone(),
                            hi: hi.clone(),
                            over: over.clone(),
                            body: inner,
                        });
                    }
                }
            }
        }
        out
    }

    fn drift_jacobian(&mut self) -> Vec<Stmt> {
        let n = self.state_size as i64;
        let mut out = Vec::new();
        for eq in self.sdes.clone() {
            let row_base = Index::constant(eq.offset as i64);
            match &eq.components {
                SdeComponents::Scalar => {
                    out.extend(self.scatter_derivative(eq.drift_ito, &[], &row_base, n));
                }
                SdeComponents::Each(v) => {
                    let row = index_add(&row_base, &Index::var(*v));
                    let body = self.scatter_derivative(eq.drift_ito, &[*v], &row, n);
                    if !body.is_empty() {
                        out.push(Stmt::Loop {
                            var: *v,
                            lo: Index::constant(0),
                            hi: Index::constant(eq.len as i64),
                            over: Over::Range,
                            body,
                        });
                    }
                }
                SdeComponents::Rows { row: r, col, cols } => {
                    let at = index_add(&row_base, &eq.components.flat());
                    let body = self.scatter_derivative(eq.drift_ito, &[*r, *col], &at, n);
                    if !body.is_empty() {
                        let inner = Stmt::Loop {
                            var: *col,
                            lo: Index::constant(0),
                            hi: Index::constant(*cols as i64),
                            over: Over::Range,
                            body,
                        };
                        out.push(Stmt::Loop {
                            var: *r,
                            lo: Index::constant(0),
                            hi: Index::constant((eq.len / (*cols).max(1)) as i64),
                            over: Over::Range,
                            body: vec![inner],
                        });
                    }
                }
            }
        }
        out
    }
}

/// Converts checked expressions into arena nodes, memoised on `Rc` identity so
/// shared subtrees (inlined lets) are converted once.
struct Converter<'a> {
    arena: &'a mut Arena,
    memo: HashMap<*const Expr, NodeId>,
}

impl Converter<'_> {
    fn convert(&mut self, e: &Rc<Expr>) -> NodeId {
        let key = Rc::as_ptr(e);
        if let Some(id) = self.memo.get(&key) {
            return *id;
        }
        let id = self.convert_expr(e);
        self.memo.insert(key, id);
        id
    }

    fn convert_expr(&mut self, e: &Expr) -> NodeId {
        match e {
            Expr::Const(v) => self.arena.constant(*v),
            Expr::Param(p) => self.arena.intern(Node::Param(*p, Index::constant(0))),
            Expr::ParamElem(p, ix) => self.arena.intern(Node::Param(*p, ix.clone())),
            Expr::Lookup { param, base, keys } => {
                let keys = keys.iter().map(|(k, s)| (self.convert(k), *s)).collect();
                self.arena.intern(Node::Lookup {
                    param: *param,
                    base: base.clone(),
                    keys,
                })
            }
            Expr::State(s) => self.arena.intern(Node::State(*s, Index::constant(0))),
            Expr::StateElem(s, ix) => self.arena.intern(Node::State(*s, ix.clone())),
            Expr::Time => self.arena.intern(Node::Time),
            Expr::IndexValue(ix) => match ix.as_constant() {
                Some(c) => self.arena.constant(c as f64),
                None => self.arena.intern(Node::IndexValue(ix.clone())),
            },
            Expr::Unary(f, a) => {
                let a = self.convert(a);
                self.arena.unary(*f, a)
            }
            Expr::Binary(f, a, b) => {
                let a = self.convert(a);
                let b = self.convert(b);
                self.arena.binary(*f, a, b)
            }
            Expr::Compare(op, a, b) => {
                let a = self.convert(a);
                let b = self.convert(b);
                self.arena.compare(*op, a, b)
            }
            Expr::And(a, b) => {
                let a = self.convert(a);
                let b = self.convert(b);
                self.arena.intern(Node::And(a, b))
            }
            Expr::Or(a, b) => {
                let a = self.convert(a);
                let b = self.convert(b);
                self.arena.intern(Node::Or(a, b))
            }
            Expr::Not(a) => {
                let a = self.convert(a);
                self.arena.intern(Node::Not(a))
            }
            Expr::Select(c, a, b) => {
                let c = self.convert(c);
                let a = self.convert(a);
                let b = self.convert(b);
                self.arena.select(c, a, b)
            }
            Expr::Reduce {
                op,
                var,
                lo,
                hi,
                over,
                body,
            } => {
                let body = self.convert(body);
                self.arena
                    .reduce_over(*op, *var, lo.clone(), hi.clone(), over.clone(), body)
            }
            Expr::NoGrad(a) => {
                let a = self.convert(a);
                if self.arena.info(a).state {
                    self.arena.intern(Node::NoGrad(a))
                } else {
                    a
                }
            }
            Expr::Arg(a) => self.arena.intern(Node::Arg(*a)),
            Expr::Deriv { body, arg } => {
                let body = self.convert(body);
                self.arena.arg_derivative(body, *arg)
            }
            Expr::Subst { body, args } => {
                let body = self.convert(body);
                let values = args.iter().map(|(a, v)| (*a, self.convert(v))).collect();
                self.arena.substitute_args(body, &values)
            }
        }
    }
}
