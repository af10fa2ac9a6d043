//! SDE kernels: drift and diffusion stores over the flat state.
//!
//! Diagonal noise gives n-vectors (`DriftDiffusion`, `DriftDiffusionDg`,
//! `StratDriftDiffusion`); other noise the matrix G after the drift
//! (`DriftNoise`, `StratDriftNoise`): dense n×m, row i = state component, column
//! j = Wiener process, at `n + i·m + j`; or, for block-diagonal noise with blocks
//! of k, the k entries of row i within its block at `n + i·k + c` (column
//! `i − i mod k + c`), N·k·k numbers instead of (N·k)².

use super::{convert, KStmt, Kernel, KernelKind};
use crate::model::{Index, NoiseKind, Over, SdeComponents};
use crate::symbolic::diff::{index_add, index_scale, index_sub};
use crate::symbolic::{NodeId, SdeEquation, System};

/// The SDE kernels of a system with equations.
pub(super) fn kernels(system: &System) -> Vec<Kernel> {
    let n = system.state_size;
    let mut out = Vec::new();
    if system.noise.diagonal {
        let mut dd = stores(system, &|eq| eq.drift_ito, 0);
        dd.extend(stores(system, &|eq| eq.diffusion, n));
        let mut ddg = dd.clone();
        ddg.extend(stores(system, &|eq| eq.diffusion_dx, 2 * n));
        let mut sdd = stores(system, &|eq| eq.drift_strat, 0);
        sdd.extend(stores(system, &|eq| eq.diffusion, n));
        out.push(kernel(KernelKind::DriftDiffusion, 2 * n, dd));
        out.push(kernel(KernelKind::DriftDiffusionDg, 3 * n, ddg));
        out.push(kernel(KernelKind::StratDriftDiffusion, 2 * n, sdd));
    } else {
        let (g, width) = match system.noise.block {
            0 => (matrix(system), system.noise.dim),
            k => (blocks(system, k), k),
        };
        let mut ito = stores(system, &|eq| eq.drift_ito, 0);
        ito.extend(g.iter().cloned());
        let mut strat = stores(system, &|eq| eq.drift_strat, 0);
        strat.extend(g);
        out.push(kernel(KernelKind::DriftNoise, n + n * width, ito));
        out.push(kernel(KernelKind::StratDriftNoise, n + n * width, strat));
    }
    if let Some(j) = &system.jacobian {
        let mut body = vec![KStmt::Zero { start: 0, len: n * n }];
        body.extend(convert(j));
        out.push(kernel(KernelKind::Jacobian, n * n, body));
    }
    out
}

fn kernel(kind: KernelKind, out_len: usize, body: Vec<KStmt>) -> Kernel {
    Kernel {
        kind,
        out_len,
        body,
        result: None,
    }
}

/// `out[base + offset + i] = pick(eq)` for every equation.
fn stores(system: &System, pick: &dyn Fn(&SdeEquation) -> NodeId, base: usize) -> Vec<KStmt> {
    system
        .sdes
        .iter()
        .map(|eq| {
            let at = Index::constant((base + eq.offset) as i64);
            per_component(eq, |row| KStmt::Store {
                index: index_add(&at, row),
                value: pick(eq),
            })
        })
        .collect()
}

/// The statement `body(row)` for every component `row` of an equation.
fn per_component(eq: &SdeEquation, body: impl FnOnce(&Index) -> KStmt) -> KStmt {
    match &eq.components {
        SdeComponents::Scalar => body(&Index::constant(0)),
        SdeComponents::Each(v) => KStmt::Loop {
            var: *v,
            lo: Index::constant(0),
            hi: Index::constant(eq.len as i64),
            over: Over::Range,
            body: vec![body(&Index::var(*v))],
        },
        SdeComponents::Rows { row, col, cols } => {
            let inner = KStmt::Loop {
                var: *col,
                lo: Index::constant(0),
                hi: Index::constant(*cols as i64),
                over: Over::Range,
                body: vec![body(&eq.components.flat())],
            };
            KStmt::Loop {
                var: *row,
                lo: Index::constant(0),
                hi: Index::constant((eq.len / (*cols).max(1)) as i64),
                over: Over::Range,
                body: vec![inner],
            }
        }
    }
}

/// Zeroes G and stores every equation's entries.
fn matrix(system: &System) -> Vec<KStmt> {
    let n = system.state_size;
    let layout = system.noise;
    let m = layout.dim;
    let mut out = vec![KStmt::Zero { start: n, len: n * m }];
    let declared = Index::constant(layout.declared as i64);
    for eq in system.sdes.iter().filter(|e| e.noise != NoiseKind::None) {
        let g = eq.diffusion;
        out.push(per_component(eq, |row| {
            // out[n + (offset + row)·m + col]
            let at_row = index_add(
                &Index::constant((n + eq.offset * m) as i64),
                &index_scale(row, m as i64),
            );
            let store = |col: &Index| KStmt::Store {
                index: index_add(&at_row, col),
                value: g,
            };
            let own = Index::constant(eq.column as i64);
            match &eq.noise {
                NoiseKind::None | NoiseKind::Own => store(&index_add(&own, row)),
                NoiseKind::Shared => store(&own),
                NoiseKind::Declared => store(&declared),
                NoiseKind::DeclaredDiagonal => store(&index_add(&declared, row)),
                NoiseKind::DeclaredSum(j) => KStmt::Loop {
                    var: *j,
                    lo: Index::constant(0),
                    hi: Index::constant(layout.declared_len as i64),
                    over: Over::Range,
                    body: vec![store(&index_add(&declared, &Index::var(*j)))],
                },
                // particle r's columns start at column + r·k: column + row − col + b
                NoiseKind::RowMatrix(b) => match &eq.components {
                    SdeComponents::Rows { col, cols, .. } => {
                        let first = index_sub(&index_add(&own, row), &Index::var(*col));
                        over_columns(*b, *cols, store(&index_add(&first, &Index::var(*b))))
                    }
                    _ => store(&index_add(&own, row)),
                },
            }
        }));
    }
    out
}

/// Zeroes the blocks of a block-diagonal G (blocks of k) and stores every
/// equation's entries: component i's coefficient of column `i − i mod k + c` at
/// `n + i·k + c`. Only row equations of k columns starting at a multiple of k
/// have this layout (see `crate::symbolic::sde`).
fn blocks(system: &System, k: usize) -> Vec<KStmt> {
    let n = system.state_size;
    let mut out = vec![KStmt::Zero { start: n, len: n * k }];
    for eq in system.sdes.iter() {
        let (b, col) = match (&eq.noise, &eq.components) {
            (NoiseKind::RowMatrix(b), SdeComponents::Rows { col, .. }) => (Some(*b), *col),
            (NoiseKind::Own, SdeComponents::Rows { col, .. }) => (None, *col),
            _ => continue,
        };
        let g = eq.diffusion;
        out.push(per_component(eq, |row| {
            let at_row = index_add(
                &Index::constant((n + eq.offset * k) as i64),
                &index_scale(row, k as i64),
            );
            match b {
                Some(b) => over_columns(
                    b,
                    k,
                    KStmt::Store {
                        index: index_add(&at_row, &Index::var(b)),
                        value: g,
                    },
                ),
                // its own process: the column of its coordinate within the block
                None => KStmt::Store {
                    index: index_add(&at_row, &Index::var(col)),
                    value: g,
                },
            }
        }));
    }
    out
}

/// `body` for `b` in `0..k`.
fn over_columns(b: crate::model::IndexVar, k: usize, body: KStmt) -> KStmt {
    KStmt::Loop {
        var: b,
        lo: Index::constant(0),
        hi: Index::constant(k as i64),
        over: Over::Range,
        body: vec![body],
    }
}
