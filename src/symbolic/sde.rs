//! SDE equations in symbolic form: the noise layout, Langevin drifts, and the
//! conversions between α-conventions.
//!
//! Every equation is stored with its drift as written, its diffusion, and the
//! *noise-induced drift* cᵢ = Σⱼ Σₖ Gₖⱼ ∂Gᵢⱼ/∂xₖ (for diagonal noise gᵢ ∂gᵢ/∂xᵢ).
//! An equation written in the α-convention has the Itô drift f + α·c and the
//! Stratonovich drift f + (α − ½)·c; integrators read one or the other.
//!
//! Noise layout: with diagonal noise (every noise term is `Own` or absent),
//! Wiener column k drives state component k and there are n columns. With a
//! k×k matrix per particle (`RowMatrix`), when every noisy equation is a row
//! equation of k columns at an offset that is a multiple of k, the noise is
//! *block-diagonal*: n columns in blocks of k, component i driven by the k
//! columns of its block `[i − i mod k, i − i mod k + k)` only. Otherwise the
//! columns are: the declared `noise W` first (m columns), then each `Own` or
//! `RowMatrix` equation's components, then one column per `Shared` equation.
//!
//! Block-diagonal noise couples only a particle's own coordinates, so its
//! noise-induced drift is c_{r,a} = Σ_b Σ_e G[e, b] ∂G[a, b]/∂x[r, e]: the
//! derivative along particle r's own block of G.

use super::arena::NodeId;
use super::System;
use crate::model::{Convention, Index, IndexVar, Model, NoiseKind, Sde, SdeComponents, StateId};

/// How the Wiener processes are laid out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoiseLayout {
    /// Number of independent Wiener processes m.
    pub dim: usize,
    /// Diagonal noise: m = n and column k drives component k only.
    pub diagonal: bool,
    /// No diffusion coefficient depends on the state (additive noise).
    pub additive: bool,
    /// First column of the declared `noise W`.
    pub declared: usize,
    /// Number of columns of the declared `noise W` (0 if none).
    pub declared_len: usize,
    /// Block-diagonal noise with blocks of this size (0: diagonal or dense): m = n,
    /// component i driven by the columns of its block only.
    pub block: usize,
}

/// One SDE equation in symbolic form.
#[derive(Clone, Debug, PartialEq)]
pub struct SdeEquation {
    /// The driven state.
    pub state: StateId,
    /// Its offset in the flat state.
    pub offset: usize,
    /// Scalar, or all components through an index variable.
    pub components: SdeComponents,
    /// The number of components.
    pub len: usize,
    /// The convention the user wrote.
    pub convention: Convention,
    /// How the noise is wired (see the module header).
    pub noise: NoiseKind,
    /// First Wiener column of an `Own` or `Shared` noise term.
    pub column: usize,
    /// The drift as written (for `langevin`, the derived drift).
    pub drift: NodeId,
    /// The diffusion coefficient g (for `DeclaredSum` it depends on the sum's variable).
    pub diffusion: NodeId,
    /// ∂gᵢ/∂xᵢ (diagonal noise; used by Milstein).
    pub diffusion_dx: NodeId,
    /// The noise-induced drift cᵢ = Σⱼ Σₖ Gₖⱼ ∂Gᵢⱼ/∂xₖ.
    pub noise_drift: NodeId,
    /// The drift added to convert to Itô form: α·cᵢ.
    pub correction: NodeId,
    /// The Itô drift: `drift + α·c`.
    pub drift_ito: NodeId,
    /// The Stratonovich drift: `drift + (α − ½)·c`.
    pub drift_strat: NodeId,
}

/// An equation's nodes before the conventions are applied.
pub(super) struct RawEquation<'a> {
    pub sde: &'a Sde,
    pub drift: NodeId,
    pub diffusion: NodeId,
    /// (D, kT) of a `langevin` equation.
    pub langevin: Option<(NodeId, NodeId)>,
}

/// What the tangent of a state leaf needs to know about each equation.
#[derive(Clone)]
struct Wiring {
    state: StateId,
    var: Option<IndexVar>,
    noise: NoiseKind,
    diffusion: NodeId,
}

impl System {
    /// Builds every equation: Langevin drifts, noise layout, conventions.
    pub(super) fn build_sdes(&mut self, model: &Model, raw: Vec<RawEquation>) {
        let mut eqs: Vec<SdeEquation> = raw.iter().map(|r| self.first_pass(model, r)).collect();
        self.noise = layout(&mut eqs, model);
        self.noise.additive = eqs.iter().all(|e| !self.arena.info(e.diffusion).state);
        let wiring: Vec<Wiring> = eqs
            .iter()
            .map(|e| Wiring {
                state: e.state,
                var: each_var(&e.components),
                noise: e.noise.clone(),
                diffusion: e.diffusion,
            })
            .collect();
        for eq in &mut eqs {
            self.conventions(eq, &wiring, model);
        }
        self.sdes = eqs;
    }

    /// Drift (Langevin's derived here), diffusion and ∂g/∂x of one equation.
    fn first_pass(&mut self, model: &Model, r: &RawEquation) -> SdeEquation {
        let state = r.sde.state;
        let target = target(&r.sde.components);
        let a = &mut self.arena;
        // ∂gᵢ/∂xᵢ serves diagonal schemes only, which a noise matrix rules out.
        let diffusion_dx = match r.sde.noise {
            NoiseKind::RowMatrix(_) => a.constant(0.0),
            _ => a.derivative(r.diffusion, state, &target),
        };
        let drift = match (r.langevin, self.energy) {
            (Some((d, kt)), Some(u)) => {
                let du = a.derivative(u, state, &target);
                let force = a.mul(d, du);
                let force = a.div(force, kt);
                let push = a.neg(force);
                let alpha = r.sde.convention.alpha();
                let consistent = r.sde.langevin.as_ref().is_some_and(|l| l.consistent);
                if consistent && alpha != 1.0 {
                    let dd = a.derivative(d, state, &target);
                    let w = a.constant(1.0 - alpha);
                    let spurious = a.mul(w, dd);
                    a.add(push, spurious)
                } else {
                    push
                }
            }
            _ => r.drift,
        };
        let zero = self.arena.constant(0.0);
        SdeEquation {
            state,
            offset: self.offset(state),
            components: r.sde.components.clone(),
            len: model.states.get(state.0 as usize).map_or(1, |s| s.size()),
            convention: r.sde.convention,
            noise: r.sde.noise.clone(),
            column: 0,
            drift,
            diffusion: r.diffusion,
            diffusion_dx,
            noise_drift: zero,
            correction: zero,
            drift_ito: drift,
            drift_strat: drift,
        }
    }

    /// Fills the noise-induced drift and the Itô and Stratonovich drifts.
    fn conventions(&mut self, eq: &mut SdeEquation, wiring: &[Wiring], model: &Model) {
        let m = model.noise.as_ref().map_or(0, |d| d.size()) as i64;
        let row = target(&eq.components);
        let a = &mut self.arena;
        let c = match &eq.noise {
            NoiseKind::None => a.constant(0.0),
            NoiseKind::Own => a.mul(eq.diffusion, eq.diffusion_dx),
            NoiseKind::Shared => {
                let (me, g) = (eq.state, eq.diffusion);
                let var = each_var(&eq.components);
                let mut tangent = |a: &mut super::Arena, s: StateId, ix: &Index| match var {
                    _ if s != me => a.constant(0.0),
                    Some(v) => a.substitute(g, v, ix),
                    None => g,
                };
                a.directional(g, &mut tangent)
            }
            NoiseKind::Declared => {
                let mut tangent =
                    |a: &mut super::Arena, s: StateId, ix: &Index| entry(a, wiring, s, ix, None);
                a.directional(eq.diffusion, &mut tangent)
            }
            NoiseKind::DeclaredDiagonal => {
                let mut tangent =
                    |a: &mut super::Arena, s: StateId, ix: &Index| entry(a, wiring, s, ix, Some(&row));
                a.directional(eq.diffusion, &mut tangent)
            }
            NoiseKind::DeclaredSum(j) => {
                let col = Index::var(*j);
                let mut tangent =
                    |a: &mut super::Arena, s: StateId, ix: &Index| entry(a, wiring, s, ix, Some(&col));
                let body = a.directional(eq.diffusion, &mut tangent);
                a.reduce(
                    crate::model::ReduceOp::Sum,
                    *j,
                    Index::constant(0),
                    Index::constant(m),
                    body,
                )
            }
            NoiseKind::RowMatrix(b) => row_matrix_drift(a, eq, *b),
        };
        let alpha = eq.convention.alpha();
        let wi = a.constant(alpha);
        let ws = a.constant(alpha - 0.5);
        eq.noise_drift = c;
        eq.correction = a.mul(wi, c);
        let to_strat = a.mul(ws, c);
        eq.drift_ito = a.add(eq.drift, eq.correction);
        eq.drift_strat = a.add(eq.drift, to_strat);
    }
}

/// The noise-induced drift of a row equation with a k×k noise matrix G per
/// particle (see the module header): Σ_b of the derivative of G[a, b] along
/// column (r, b) of the block-diagonal matrix, whose entry at a leaf x[ix] is
/// Σ_e δ(ix, r·k + e) G[e, b] for leaves of this state and 0 elsewhere.
fn row_matrix_drift(a: &mut super::Arena, eq: &SdeEquation, b: IndexVar) -> NodeId {
    let SdeComponents::Rows { row, col, cols } = eq.components else {
        return a.constant(0.0);
    };
    let (me, g) = (eq.state, eq.diffusion);
    let rows: Vec<NodeId> = (0..cols as i64)
        .map(|e| a.substitute(g, col, &Index::constant(e)))
        .collect();
    let mut tangent = |a: &mut super::Arena, s: StateId, ix: &Index| {
        if s != me {
            return a.constant(0.0);
        }
        let terms: Vec<NodeId> = rows
            .iter()
            .enumerate()
            .map(|(e, g_e)| {
                let at = Index {
                    constant: e as i64,
                    terms: vec![(row, cols as i64)],
                };
                let delta = super::diff::index_delta(a, ix, &at);
                a.mul(delta, *g_e)
            })
            .collect();
        a.sum_all(terms)
    };
    let body = a.directional(g, &mut tangent);
    a.reduce(
        crate::model::ReduceOp::Sum,
        b,
        Index::constant(0),
        Index::constant(cols as i64),
        body,
    )
}

/// The entry G[(s, ix), col] of the declared noise: `col` is the column within
/// the declared block (`None` for a scalar `noise W`).
fn entry(a: &mut super::Arena, wiring: &[Wiring], s: StateId, ix: &Index, col: Option<&Index>) -> NodeId {
    let Some(w) = wiring.iter().find(|w| w.state == s) else {
        return a.constant(0.0);
    };
    let at_row = match w.var {
        Some(v) => a.substitute(w.diffusion, v, ix),
        None => w.diffusion,
    };
    match (&w.noise, col) {
        (NoiseKind::Declared, None) => at_row,
        (NoiseKind::DeclaredDiagonal, Some(col)) => {
            // Row ix is driven by column ix only.
            let delta = super::diff::index_delta(a, ix, col);
            a.mul(delta, at_row)
        }
        (NoiseKind::DeclaredSum(j), Some(col)) => a.substitute(at_row, *j, col),
        _ => a.constant(0.0),
    }
}

/// Assigns Wiener columns (see the module header).
fn layout(eqs: &mut [SdeEquation], model: &Model) -> NoiseLayout {
    let n = model.state_size();
    let diagonal = eqs
        .iter()
        .all(|e| matches!(e.noise, NoiseKind::None | NoiseKind::Own));
    // Diagonal noise and blocks of k×k per particle both give each component its own column.
    let block = if diagonal { Some(0) } else { block_size(eqs) };
    if let Some(block) = block {
        for e in eqs.iter_mut() {
            e.column = e.offset;
        }
        return NoiseLayout {
            dim: n,
            diagonal,
            additive: false,
            declared: 0,
            declared_len: 0,
            block,
        };
    }
    let declared_len = model.noise.as_ref().map_or(0, |d| d.size());
    let mut next = declared_len;
    for e in eqs.iter_mut() {
        match e.noise {
            NoiseKind::Own | NoiseKind::RowMatrix(_) => {
                e.column = next;
                next += e.len;
            }
            NoiseKind::Shared => {
                e.column = next;
                next += 1;
            }
            _ => {}
        }
    }
    NoiseLayout {
        dim: next,
        diagonal,
        additive: false,
        declared: 0,
        declared_len,
        block: 0,
    }
}

/// The block size k when the noise is block-diagonal: some equation has a k×k
/// matrix per particle, and every equation with noise is a row equation of k
/// columns (a matrix or its own noise per coordinate) whose rows start at a
/// multiple of k in the flat state.
fn block_size(eqs: &[SdeEquation]) -> Option<usize> {
    let k = eqs.iter().find_map(|e| match (&e.noise, &e.components) {
        (NoiseKind::RowMatrix(_), SdeComponents::Rows { cols, .. }) => Some(*cols),
        _ => None,
    })?;
    let fits = |e: &SdeEquation| match (&e.noise, &e.components) {
        (NoiseKind::None, _) => true,
        (NoiseKind::RowMatrix(_) | NoiseKind::Own, SdeComponents::Rows { cols, .. }) => {
            *cols == k && e.offset.is_multiple_of(k)
        }
        _ => false,
    };
    (k > 0 && eqs.iter().all(fits)).then_some(k)
}

/// The component an equation defines: its variable, or 0 for a scalar state.
pub(super) fn target(c: &SdeComponents) -> Index {
    c.flat()
}

/// The variable that names an equation's component, for vector equations (row
/// equations take no shared or declared noise, which is what this serves).
fn each_var(c: &SdeComponents) -> Option<IndexVar> {
    match c {
        SdeComponents::Each(v) => Some(*v),
        SdeComponents::Scalar | SdeComponents::Rows { .. } => None,
    }
}
