//! The lowering stage: from the symbolic [`System`] to kernels over flat buffers.
//!
//! Vocabulary:
//! - A [`Kernel`] is a list of [`KStmt`]s (loops, stores, accumulations into its
//!   output buffer) plus an optional scalar result. Every kernel has the same
//!   machine signature: `fn(env, state, t, out) -> f64`.
//! - The [`Layout`] says where things live: parameters and precomputed tables in
//!   `env`, states in `state`, each kernel's outputs in `out`.
//! - *Tables*: subexpressions that depend only on parameters (say `1/s[i]^2`) are
//!   computed once per run by the `prelude` kernel into `env`, and the kernels read
//!   them instead of recomputing them at every step.

mod fuse;
mod hoist;
mod sde;

pub use hoist::values as hoist_values;

use crate::model::{Index, IndexVar, Model, Over};
use crate::symbolic::{Arena, NodeId, NoiseLayout, Stmt, System};

pub use crate::native::abi::CtxShape;
pub use crate::native::KernelKind;
pub use hoist::Table;

/// A kernel statement.
#[derive(Clone, Debug, PartialEq)]
pub enum KStmt {
    /// `out[index] = value`.
    Store {
        /// Output component.
        index: Index,
        /// Value.
        value: NodeId,
    },
    /// `out[index] += value`.
    Accumulate {
        /// Output component.
        index: Index,
        /// Value.
        value: NodeId,
    },
    /// `out[start..start+len] = 0`.
    Zero {
        /// First component.
        start: usize,
        /// Number of components.
        len: usize,
    },
    /// `for var in lo..hi { body }`.
    Loop {
        /// Loop variable.
        var: IndexVar,
        /// Inclusive lower bound.
        lo: Index,
        /// Exclusive upper bound.
        hi: Index,
        /// Which values of the range are visited.
        over: Over,
        /// Body.
        body: Vec<KStmt>,
    },
}

/// A kernel ready for code generation.
#[derive(Clone, Debug, PartialEq)]
pub struct Kernel {
    /// What it computes.
    pub kind: KernelKind,
    /// Length of its output buffer.
    pub out_len: usize,
    /// Statements.
    pub body: Vec<KStmt>,
    /// Scalar result (0 if none).
    pub result: Option<NodeId>,
}

/// Where parameters, tables and states live.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Layout {
    /// Offset of each parameter in `env`.
    pub param_offsets: Vec<usize>,
    /// Length of each parameter (1 for scalars).
    pub param_lens: Vec<usize>,
    /// Precomputed tables, placed after the parameters.
    pub tables: Vec<Table>,
    /// Length of `env` (parameters + tables).
    pub env_len: usize,
    /// Offset of each state in the flat state.
    pub state_offsets: Vec<usize>,
    /// Length of the flat state.
    pub state_len: usize,
    /// The Wiener processes of an SDE model.
    pub noise: NoiseLayout,
    /// What kernels read from their run-time context (blocks, lists).
    pub ctx: CtxShape,
}

/// The lowered program of a model.
#[derive(Clone, Debug)]
pub struct Lowered {
    /// The arena, extended with table nodes.
    pub arena: Arena,
    /// Buffer layout.
    pub layout: Layout,
    /// Initial `env`: parameter values (tables are filled by the prelude).
    pub env_init: Vec<f64>,
    /// The table-filling kernel.
    pub prelude: Kernel,
    /// The kernels the system supports.
    pub kernels: Vec<Kernel>,
}

impl Kernel {
    /// Whether the kernel reads its run-time context: a loop over a block or a list,
    /// among its statements or inside the values it computes.
    pub fn reads_ctx(&self, arena: &Arena) -> bool {
        fn stmts_read(stmts: &[KStmt]) -> bool {
            stmts.iter().any(|s| match s {
                KStmt::Loop { over, body, .. } => {
                    matches!(over, Over::Block(_) | Over::List { .. }) || stmts_read(body)
                }
                _ => false,
            })
        }
        if stmts_read(&self.body) {
            return true;
        }
        let mut roots = Vec::new();
        hoist::values(&self.body, &mut roots);
        roots.extend(self.result);
        arena.topo_order(&roots).into_iter().any(|id| {
            matches!(
                arena.node(id),
                crate::symbolic::Node::Reduce {
                    over: Over::Block(_) | Over::List { .. },
                    ..
                }
            )
        })
    }
}

impl Lowered {
    /// The kernel of a kind, if the system has it.
    pub fn kernel(&self, kind: KernelKind) -> Option<&Kernel> {
        self.kernels.iter().find(|k| k.kind == kind)
    }
}

fn convert(stmts: &[Stmt]) -> Vec<KStmt> {
    stmts
        .iter()
        .map(|s| match s {
            Stmt::Accumulate { index, value } => KStmt::Accumulate {
                index: index.clone(),
                value: *value,
            },
            Stmt::Loop {
                var,
                lo,
                hi,
                over,
                body,
            } => KStmt::Loop {
                var: *var,
                lo: lo.clone(),
                hi: hi.clone(),
                over: over.clone(),
                body: convert(body),
            },
        })
        .collect()
}

/// A gradient that is one loop writing each component exactly once
/// (`for i in 0..n: out[off + i] += v`) needs neither zeroing nor accumulation.
fn as_stores(stmts: Vec<KStmt>, n: usize) -> Vec<KStmt> {
    if let [KStmt::Loop {
        var,
        lo,
        hi,
        over: Over::Range | Over::Particles(_),
        body,
    }] = stmts.as_slice()
    {
        if let [KStmt::Accumulate { index, value }] = body.as_slice() {
            let covers = lo.as_constant() == Some(0)
                && hi.as_constant() == Some(n as i64)
                && index.constant == 0
                && index.terms == vec![(*var, 1)];
            if covers {
                return vec![KStmt::Loop {
                    var: *var,
                    lo: lo.clone(),
                    hi: hi.clone(),
                    over: Over::Range,
                    body: vec![KStmt::Store {
                        index: index.clone(),
                        value: *value,
                    }],
                }];
            }
        }
    }
    let mut out = vec![KStmt::Zero { start: 0, len: n }];
    out.extend(stmts);
    out
}

/// Lowers a system into kernels.
pub fn lower(model: &Model, system: &System) -> Lowered {
    let n = system.state_size;
    let mut kernels = Vec::new();
    // Particle models evaluate their energy block by block.
    let blocked = system.blocked_energy.map(|u| (u, &system.blocked_gradient));
    if let Some((u, gradient)) = blocked.or(system.energy.map(|u| (u, &system.gradient))) {
        let grad = if blocked.is_some() {
            let mut body = vec![KStmt::Zero { start: 0, len: n }];
            body.extend(convert(gradient));
            body
        } else {
            as_stores(convert(gradient), n)
        };
        kernels.push(Kernel {
            kind: KernelKind::Energy,
            out_len: 0,
            body: Vec::new(),
            result: Some(u),
        });
        kernels.push(Kernel {
            kind: KernelKind::EnergyGrad,
            out_len: n,
            body: grad.clone(),
            result: Some(u),
        });
        kernels.push(Kernel {
            kind: KernelKind::Grad,
            out_len: n,
            body: grad,
            result: None,
        });
        if let Some(h) = &system.hessian {
            let mut body = vec![KStmt::Zero { start: 0, len: n * n }];
            body.extend(convert(h));
            kernels.push(Kernel {
                kind: KernelKind::Hessian,
                out_len: n * n,
                body,
                result: None,
            });
        }
    }
    if let Some(gradient) = &system.batch_gradient {
        kernels.push(Kernel {
            kind: KernelKind::BatchGrad,
            out_len: n,
            body: as_stores(convert(gradient), n),
            result: None,
        });
    }
    if !system.energy_terms.is_empty() {
        let terms: Vec<NodeId> = if system.blocked_terms.is_empty() {
            system.energy_terms.iter().map(|(_, n)| *n).collect()
        } else {
            system.blocked_terms.clone()
        };
        let body = terms
            .iter()
            .enumerate()
            .map(|(k, node)| KStmt::Store {
                index: Index::constant(k as i64),
                value: *node,
            })
            .collect();
        kernels.push(Kernel {
            kind: KernelKind::EnergyTerms,
            out_len: system.energy_terms.len(),
            body,
            result: None,
        });
    }
    if !system.observables.is_empty() {
        let body = system
            .observables
            .iter()
            .enumerate()
            .map(|(k, node)| KStmt::Store {
                index: Index::constant(k as i64),
                value: *node,
            })
            .collect();
        kernels.push(Kernel {
            kind: KernelKind::Observables,
            out_len: system.observables.len(),
            body,
            result: None,
        });
    }
    let mut arena = system.arena.clone();
    if !system.sdes.is_empty() {
        let mut sde_kernels = sde::kernels(system);
        if !model.particles.is_empty() {
            for k in sde_kernels.iter_mut().filter(|k| k.kind != KernelKind::Jacobian) {
                block_sde_kernel(model, &mut arena, k);
            }
        }
        kernels.extend(sde_kernels);
    }
    for k in kernels.iter_mut() {
        fuse::share_reduction_vars(&mut arena, k);
    }
    let (param_offsets, param_lens, env_init) = param_layout(model);
    let params_len = env_init.len();
    let (tables, prelude) = hoist::hoist(&mut arena, &mut kernels, params_len);
    let env_len = tables.last().map_or(params_len, |t| t.offset + t.len);
    let mut env = env_init;
    env.resize(env_len, 0.0);
    Lowered {
        arena,
        layout: Layout {
            param_offsets,
            param_lens,
            tables,
            env_len,
            state_offsets: system.state_offsets.clone(),
            state_len: n,
            noise: system.noise,
            ctx: CtxShape {
                groups: model.particles.len(),
                // The minibatch list of a stochastic-gradient run comes after the model's.
                lists: model
                    .lists
                    .iter()
                    .map(|l| (l.rows, l.bound))
                    .chain(system.data_batch.map(|b| (1, b.rows)))
                    .collect(),
            },
        },
        env_init: env,
        prelude,
        kernels,
    }
}

/// Makes an SDE kernel of a particle model evaluate one block: the loop over the
/// particles of each particle equation runs over its set's block, every other
/// statement runs in the unit block, and the output starts zeroed (each block
/// writes only its own rows; the runtime sums the blocks' outputs).
fn block_sde_kernel(model: &Model, arena: &mut Arena, kernel: &mut Kernel) {
    let particle_vars: Vec<(IndexVar, u32)> = model
        .sdes
        .iter()
        .filter_map(|eq| {
            let set = model.particles.iter().position(|p| p.state == eq.state)? as u32;
            Some((eq.components.bound_var()?, set))
        })
        .collect();
    let body = std::mem::take(&mut kernel.body);
    let mut out = vec![KStmt::Zero {
        start: 0,
        len: kernel.out_len,
    }];
    for stmt in body {
        match stmt {
            KStmt::Loop {
                var,
                lo,
                hi,
                over: Over::Range,
                body,
            } if particle_vars.iter().any(|(v, _)| *v == var) => {
                let set = particle_vars
                    .iter()
                    .find(|(v, _)| *v == var)
                    .map_or(0, |(_, s)| *s);
                out.push(KStmt::Loop {
                    var,
                    lo,
                    hi,
                    over: Over::Block(set),
                    body,
                });
            }
            KStmt::Zero { .. } => {}
            other => {
                out.push(KStmt::Loop {
                    var: arena.fresh_var(),
                    lo: Index::constant(0),
                    hi: Index::constant(1),
                    over: Over::Block(Over::UNIT),
                    body: vec![other],
                });
            }
        }
    }
    kernel.body = out;
}

/// Parameter offsets, lengths and initial values in `env`.
pub fn param_layout(model: &Model) -> (Vec<usize>, Vec<usize>, Vec<f64>) {
    let mut offsets = Vec::new();
    let mut lens = Vec::new();
    let mut env = Vec::new();
    for p in &model.params {
        offsets.push(env.len());
        env.extend(p.value.flat());
        lens.push(env.len() - offsets.last().copied().unwrap_or(0));
    }
    (offsets, lens, env)
}
