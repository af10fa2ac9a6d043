//! Particle models at run time: a compiled model whose kernels loop over run-time
//! lists (neighbour lists of pair terms, fixed lists of bonds) and evaluate one
//! block of particles at a time.
//!
//! Every call of a blocked kernel runs `blocks` pieces in parallel (rayon), each
//! writing its own buffer, and sums the buffers and the pieces' results in block
//! order ([`BlockRunner`]): the number of blocks is fixed by the run, never by the
//! thread count, so results are bitwise identical whatever `RAYON_NUM_THREADS`
//! is. Block boundaries balance the work of each particle set's rows (its list
//! lengths, or the triangle of an all-pairs term) and move only when a list is
//! rebuilt, which depends on the positions alone.
//!
//! Each chain has its own neighbour lists (they follow that chain's particles):
//! the target finds the calling chain with [`current_chain`] and keeps one
//! [`ChainLists`] per chain.

use super::abi::{CheckedList, CtxShape, KernelCtx};
use super::{KernelKind, NativeModel};
use crate::runtime::particles::{BlockRunner, Boundary, Domain, NeighborError, RandomBatches, VerletList};
use crate::runtime::{current_chain, GibbsTarget, NoiseShape, SdeSystem};
use std::sync::{Arc, Mutex, RwLock};

/// One particle set, as the runtime sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct SetSpec {
    /// Flat offset of its positions in the state.
    pub offset: usize,
    /// Number of particles.
    pub count: usize,
    /// Coordinates per particle.
    pub dim: usize,
    /// Whether an all-pairs term (j > i for every i) runs over it: row i then costs
    /// n − 1 − i pairs, which the blocks balance.
    pub triangular: bool,
}

/// How a run-time list is made.
#[derive(Clone, Debug, PartialEq)]
pub enum ListSpec {
    /// The half neighbour list of set `set` within `cutoff`, with a Verlet skin.
    Neighbors {
        /// The set (index into [`ParticleSpec::sets`]).
        set: usize,
        /// Interaction cutoff.
        cutoff: f64,
        /// Verlet skin.
        skin: f64,
    },
    /// Random batches of `size` particles of set `set`, redrawn whenever the
    /// positions change (a function of the seed, the chain and the positions, so a
    /// resumed run draws the same batches).
    Batches {
        /// The set.
        set: usize,
        /// Particles per batch.
        size: usize,
    },
    /// A list fixed at compile time (bonds).
    Fixed {
        /// Row starts.
        start: Vec<u32>,
        /// Entries.
        idx: Vec<u32>,
        /// Entries are below this.
        bound: usize,
    },
}

/// What a particle model needs at run time besides its kernels.
#[derive(Clone, Debug, PartialEq)]
pub struct ParticleSpec {
    /// The particle sets.
    pub sets: Vec<SetSpec>,
    /// Periodic box lengths (one per dimension), or `None` for open space.
    pub periodic: Option<Vec<f64>>,
    /// The lists, by `ListId`.
    pub lists: Vec<ListSpec>,
    /// Number of blocks each kernel call is split into.
    pub blocks: usize,
    /// The run's seed (random batches).
    pub seed: u64,
}

impl ParticleSpec {
    /// The domain of set `s`.
    fn domain(&self, dim: usize) -> Result<Domain, NeighborError> {
        match &self.periodic {
            Some(l) => Domain::periodic(l),
            None => Domain::new(vec![Boundary::Open; dim]),
        }
    }
}

/// A list as one chain holds it.
enum LiveList {
    /// Rebuilt from the positions when needed; `checked` mirrors the Verlet list.
    Verlet {
        verlet: Box<VerletList>,
        set: usize,
        checked: CheckedList,
    },
    /// Redrawn when the positions change.
    Batches {
        batches: RandomBatches,
        set: usize,
        checked: CheckedList,
        /// The hash of the positions the batches were drawn for.
        drawn_for: Option<u64>,
    },
    /// Never changes.
    Fixed(CheckedList),
}

/// One chain's lists and block boundaries.
pub struct ChainLists {
    lists: Vec<LiveList>,
    /// Per set: `blocks` ranges of rows.
    blocks: Vec<Vec<(u32, u32)>>,
    /// Whether the block boundaries must be recomputed.
    stale: bool,
    /// One block runner per output length.
    runners: Vec<(usize, BlockRunner)>,
    /// Output scratch of the SDE kernels.
    scratch: Vec<f64>,
}

/// A particle model: its kernels, what they need at run time, and every chain's lists.
pub struct ParticleModel {
    model: NativeModel,
    spec: Arc<ParticleSpec>,
    chains: RwLock<Vec<Arc<Mutex<ChainLists>>>>,
}

/// Why a particle model cannot run.
#[derive(Debug, Clone, PartialEq)]
pub enum ParticleError {
    /// A neighbour structure failed (bad positions, a box too small for the cutoff).
    Neighbors(NeighborError),
    /// The model and its run-time description disagree (a bug, or a corrupt binary).
    Mismatch(String),
}

impl std::fmt::Display for ParticleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParticleError::Neighbors(e) => write!(f, "{e}"),
            ParticleError::Mismatch(m) => write!(f, "the particle model is inconsistent: {m}"),
        }
    }
}

impl From<NeighborError> for ParticleError {
    fn from(e: NeighborError) -> Self {
        ParticleError::Neighbors(e)
    }
}

impl ParticleModel {
    /// Wraps a compiled model with its particle description.
    pub fn new(model: NativeModel, spec: ParticleSpec) -> Result<ParticleModel, ParticleError> {
        let shape = model.ctx_shape();
        if shape.lists.len() != spec.lists.len() || shape.groups != spec.sets.len() {
            return Err(ParticleError::Mismatch(format!(
                "{} lists and {} sets described, {} and {} compiled",
                spec.lists.len(),
                spec.sets.len(),
                shape.lists.len(),
                shape.groups
            )));
        }
        if spec.blocks == 0 {
            return Err(ParticleError::Mismatch("no blocks".into()));
        }
        let pm = ParticleModel {
            model,
            spec: Arc::new(spec),
            chains: RwLock::new(Vec::new()),
        };
        // Build one chain's lists now, so a bad description fails before running.
        pm.new_chain()?;
        Ok(pm)
    }

    /// The compiled model.
    pub fn native(&self) -> &NativeModel {
        &self.model
    }

    /// The run-time description.
    pub fn spec(&self) -> &ParticleSpec {
        &self.spec
    }

    fn new_chain(&self) -> Result<ChainLists, ParticleError> {
        let shape = self.model.ctx_shape();
        let mut lists = Vec::with_capacity(self.spec.lists.len());
        for (l, spec) in self.spec.lists.iter().enumerate() {
            let (rows, bound) = shape.lists.get(l).copied().unwrap_or((0, 0));
            lists.push(match spec {
                ListSpec::Neighbors { set, cutoff, skin } => {
                    let dim = self.spec.sets.get(*set).map_or(1, |s| s.dim);
                    let verlet = VerletList::new(self.spec.domain(dim)?, *cutoff, *skin)?;
                    let empty = CheckedList::new(vec![0; rows + 1], Vec::new(), rows, bound)
                        .ok_or_else(|| ParticleError::Mismatch(format!("list {l}")))?;
                    LiveList::Verlet {
                        verlet: Box::new(verlet),
                        set: *set,
                        checked: empty,
                    }
                }
                ListSpec::Batches { set, size } => {
                    let count = self.spec.sets.get(*set).map_or(0, |s| s.count);
                    LiveList::Batches {
                        batches: RandomBatches::new(count, *size)?,
                        set: *set,
                        checked: CheckedList::new(vec![0; rows + 1], Vec::new(), rows, bound)
                            .ok_or_else(|| ParticleError::Mismatch(format!("list {l}")))?,
                        drawn_for: None,
                    }
                }
                ListSpec::Fixed { start, idx, .. } => LiveList::Fixed(
                    CheckedList::new(start.clone(), idx.clone(), rows, bound)
                        .ok_or_else(|| ParticleError::Mismatch(format!("fixed list {l} is out of bounds")))?,
                ),
            });
        }
        Ok(ChainLists {
            lists,
            blocks: vec![Vec::new(); self.spec.sets.len()],
            stale: true,
            runners: Vec::new(),
            scratch: Vec::new(),
        })
    }

    /// The lists of the calling chain (chain 0 outside a run), created on first use.
    fn chain(&self) -> Option<Arc<Mutex<ChainLists>>> {
        let c = current_chain().unwrap_or(0);
        if let Some(found) = self.chains.read().ok()?.get(c) {
            return Some(found.clone());
        }
        let mut all = self.chains.write().ok()?;
        while all.len() <= c {
            all.push(Arc::new(Mutex::new(self.new_chain().ok()?)));
        }
        all.get(c).cloned()
    }

    /// Calls a kernel block by block on `x` (lists brought up to date first) and
    /// writes the summed outputs into `out`; returns the summed result, or `None`
    /// if the kernel cannot run (missing, or the positions are not finite).
    pub fn call(&self, kind: KernelKind, x: &[f64], t: f64, out: &mut [f64]) -> Option<f64> {
        let chain = self.chain()?;
        let mut guard = chain.lock().ok()?;
        let lists = &mut *guard;
        self.update(lists, x).ok()?;
        let len = out.len();
        let runner_at = match lists.runners.iter().position(|(n, _)| *n == len) {
            Some(k) => k,
            None => {
                lists
                    .runners
                    .push((len, BlockRunner::new(self.spec.blocks, len).ok()?));
                lists.runners.len() - 1
            }
        };
        let ChainLists {
            lists: live,
            blocks,
            runners,
            ..
        } = lists;
        let shape: &CtxShape = self.model.ctx_shape();
        let mut base = KernelCtx::whole(shape);
        for (l, list) in live.iter().enumerate() {
            let checked = match list {
                LiveList::Verlet { checked, .. }
                | LiveList::Batches { checked, .. }
                | LiveList::Fixed(checked) => checked,
            };
            if !base.set_list(l, checked) {
                return None;
            }
        }
        let first: Vec<(u32, u32)> = (0..self.spec.blocks)
            .map(|b| blocks.first().and_then(|s| s.get(b)).copied().unwrap_or((0, 0)))
            .collect();
        let (_, runner) = runners.get_mut(runner_at)?;
        let failed = std::sync::atomic::AtomicBool::new(false);
        let model = &self.model;
        let blocks = &*blocks;
        let total = runner
            .run(&first, out, |b, _, _, buf| {
                let mut ctx = base.clone();
                for (g, ranges) in blocks.iter().enumerate() {
                    let (lo, hi) = ranges.get(b).copied().unwrap_or((0, 0));
                    ctx.set_block(g as u32, i64::from(lo), i64::from(hi));
                }
                ctx.set_block(crate::model::Over::UNIT, 0, if b == 0 { 1 } else { 0 });
                match model.call_with(kind, x, t, buf, &ctx) {
                    Some(v) => v,
                    None => {
                        failed.store(true, std::sync::atomic::Ordering::Relaxed);
                        f64::NAN
                    }
                }
            })
            .ok()?;
        (!failed.into_inner()).then_some(total)
    }

    /// Rebuilds the lists that `x` invalidates, and the block boundaries with them.
    fn update(&self, lists: &mut ChainLists, x: &[f64]) -> Result<(), ParticleError> {
        for list in lists.lists.iter_mut() {
            if let LiveList::Batches {
                batches,
                set,
                checked,
                drawn_for,
            } = list
            {
                let s = self
                    .spec
                    .sets
                    .get(*set)
                    .ok_or_else(|| ParticleError::Mismatch("set".into()))?;
                let pos = x
                    .get(s.offset..s.offset + s.count * s.dim)
                    .ok_or_else(|| ParticleError::Mismatch("state too short".into()))?;
                let key = positions_key(self.spec.seed, current_chain().unwrap_or(0), pos);
                if *drawn_for != Some(key) {
                    let mut rng = crate::runtime::rng::stream(key, BATCH_STREAM);
                    batches.redraw(&mut rng);
                    if !checked.refill(|start, idx| batch_rows(batches, s.count, start, idx)) {
                        return Err(ParticleError::Mismatch("a batch list is out of bounds".into()));
                    }
                    *drawn_for = Some(key);
                }
                continue;
            }
            let LiveList::Verlet { verlet, set, checked } = list else {
                continue;
            };
            let s = self
                .spec
                .sets
                .get(*set)
                .ok_or_else(|| ParticleError::Mismatch("set".into()))?;
            let pos = x
                .get(s.offset..s.offset + s.count * s.dim)
                .ok_or_else(|| ParticleError::Mismatch("state too short".into()))?;
            if verlet.update(pos)? {
                let l = verlet.list();
                let ok = checked.refill(|start, idx| {
                    start.clear();
                    start.extend_from_slice(l.start());
                    idx.clear();
                    idx.extend_from_slice(l.idx());
                });
                if !ok {
                    return Err(ParticleError::Mismatch(
                        "a neighbour list is out of bounds".into(),
                    ));
                }
                lists.stale = true;
            }
        }
        if lists.stale {
            lists.blocks = self.balanced_blocks(&lists.lists);
            lists.stale = false;
        }
        Ok(())
    }

    /// For every set, `blocks` contiguous row ranges of about equal work: one unit
    /// per particle plus its list entries (and its pairs in an all-pairs triangle).
    fn balanced_blocks(&self, lists: &[LiveList]) -> Vec<Vec<(u32, u32)>> {
        self.spec
            .sets
            .iter()
            .enumerate()
            .map(|(k, s)| {
                let mut weight = vec![1u64; s.count];
                if s.triangular {
                    for (i, w) in weight.iter_mut().enumerate() {
                        *w += (s.count - 1 - i) as u64;
                    }
                }
                for (l, list) in lists.iter().enumerate() {
                    let checked = match list {
                        LiveList::Verlet { checked, set, .. } | LiveList::Batches { checked, set, .. }
                            if *set == k =>
                        {
                            checked
                        }
                        LiveList::Fixed(checked) if self.fixed_list_of(l) == Some(k) => checked,
                        _ => continue,
                    };
                    for (w, pair) in weight.iter_mut().zip(checked.start().windows(2)) {
                        if let [a, b] = pair {
                            *w += u64::from(b - a);
                        }
                    }
                }
                split_by_weight(&weight, self.spec.blocks)
            })
            .collect()
    }

    /// The set whose rows a fixed list indexes (fixed lists are over the first set
    /// of matching size).
    fn fixed_list_of(&self, l: usize) -> Option<usize> {
        let rows = self.model.ctx_shape().lists.get(l)?.0;
        self.spec.sets.iter().position(|s| s.count == rows)
    }

    /// Wraps periodic positions into the box.
    fn wrap(&self, x: &mut [f64]) {
        let Some(lengths) = &self.spec.periodic else {
            return;
        };
        for s in &self.spec.sets {
            let Some(pos) = x.get_mut(s.offset..s.offset + s.count * s.dim) else {
                continue;
            };
            for p in pos.chunks_mut(s.dim) {
                for (c, l) in p.iter_mut().zip(lengths) {
                    let w = *c - l * (*c / l).floor();
                    *c = if w >= *l || w < 0.0 { 0.0 } else { w };
                }
            }
        }
    }

    /// Calls an SDE kernel writing `len` values and hands them to `split`.
    fn sde_call(&self, kind: KernelKind, x: &[f64], t: f64, len: usize, split: impl FnOnce(&[f64])) -> bool {
        let mut buf = match self
            .chain()
            .and_then(|c| c.lock().ok().map(|mut g| std::mem::take(&mut g.scratch)))
        {
            Some(b) => b,
            None => return false,
        };
        buf.resize(len, 0.0);
        let ok = self.call(kind, x, t, &mut buf).is_some();
        if ok {
            split(&buf);
        }
        if let Some(c) = self.chain() {
            if let Ok(mut g) = c.lock() {
                g.scratch = buf;
            }
        }
        ok
    }
}

fn copy(dst: &mut [f64], src: &[f64]) {
    dst.iter_mut().zip(src).for_each(|(o, v)| *o = *v);
}

/// `n` rows split into `blocks` contiguous ranges whose weights are about equal.
pub fn split_by_weight(weight: &[u64], blocks: usize) -> Vec<(u32, u32)> {
    let total: u64 = weight.iter().sum();
    let mut out = Vec::with_capacity(blocks);
    let mut lo = 0usize;
    let mut acc = 0u64;
    let mut it = weight.iter().enumerate().peekable();
    for b in 0..blocks {
        let target = (total as u128 * (b as u128 + 1) / blocks.max(1) as u128) as u64;
        let mut hi = lo;
        while let Some((i, w)) = it.peek().copied() {
            if acc >= target && b + 1 < blocks {
                break;
            }
            acc += *w;
            hi = i + 1;
            it.next();
        }
        out.push((lo as u32, hi as u32));
        lo = hi;
    }
    out
}

impl crate::driver::Observer for ParticleModel {
    fn observe(&self, x: &[f64], t: f64, out: &mut [f64]) -> bool {
        self.call(KernelKind::Observables, x, t, out).is_some()
    }
}

impl GibbsTarget for ParticleModel {
    fn dim(&self) -> usize {
        self.model.dim()
    }

    fn energy(&self, x: &[f64]) -> f64 {
        self.call(KernelKind::Energy, x, 0.0, &mut []).unwrap_or(f64::NAN)
    }

    fn energy_grad(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        self.call(KernelKind::EnergyGrad, x, 0.0, grad)
            .unwrap_or(f64::NAN)
    }

    fn grad(&self, x: &[f64], grad: &mut [f64]) {
        if self.call(KernelKind::Grad, x, 0.0, grad).is_none() {
            grad.fill(f64::NAN);
        }
    }

    fn canonicalize(&self, x: &mut [f64]) {
        self.wrap(x);
    }
}

impl SdeSystem for ParticleModel {
    fn dim(&self) -> usize {
        self.model.dim()
    }

    fn drift_diffusion(&self, x: &[f64], t: f64, drift: &mut [f64], diffusion: &mut [f64]) {
        let n = self.model.dim();
        let ok = self.sde_call(KernelKind::DriftDiffusion, x, t, 2 * n, |out| {
            let (d, g) = out.split_at(n);
            copy(drift, d);
            copy(diffusion, g);
        });
        if !ok {
            drift.fill(f64::NAN);
        }
    }

    fn drift_diffusion_dg(
        &self,
        x: &[f64],
        t: f64,
        drift: &mut [f64],
        diffusion: &mut [f64],
        dg: &mut [f64],
    ) {
        let n = self.model.dim();
        let ok = self.sde_call(KernelKind::DriftDiffusionDg, x, t, 3 * n, |out| {
            let (d, rest) = out.split_at(n);
            let (g, gp) = rest.split_at(n);
            copy(drift, d);
            copy(diffusion, g);
            copy(dg, gp);
        });
        if !ok {
            drift.fill(f64::NAN);
        }
    }

    fn noise(&self) -> NoiseShape {
        SdeSystem::noise(&self.model)
    }

    fn strat_drift_diffusion(&self, x: &[f64], t: f64, drift: &mut [f64], diffusion: &mut [f64]) {
        let n = self.model.dim();
        let ok = self.sde_call(KernelKind::StratDriftDiffusion, x, t, 2 * n, |out| {
            let (d, g) = out.split_at(n);
            copy(drift, d);
            copy(diffusion, g);
        });
        if !ok {
            drift.fill(f64::NAN);
        }
    }

    fn drift_noise(&self, x: &[f64], t: f64, drift: &mut [f64], g: &mut [f64]) {
        self.matrix_call(KernelKind::DriftNoise, x, t, drift, g);
    }

    fn strat_drift_noise(&self, x: &[f64], t: f64, drift: &mut [f64], g: &mut [f64]) {
        self.matrix_call(KernelKind::StratDriftNoise, x, t, drift, g);
    }

    fn canonicalize(&self, x: &mut [f64]) {
        self.wrap(x);
    }
}

impl ParticleModel {
    /// Drift and the noise matrix (n×m, or n×k blocks) from a blocked kernel; a
    /// model with diagonal noise expands its diagonal.
    fn matrix_call(&self, kind: KernelKind, x: &[f64], t: f64, drift: &mut [f64], g: &mut [f64]) {
        let n = self.model.dim();
        let noise = SdeSystem::noise(&self.model);
        if noise.diagonal {
            let mut diag = vec![0.0; n];
            if kind == KernelKind::StratDriftNoise {
                self.strat_drift_diffusion(x, t, drift, &mut diag);
            } else {
                self.drift_diffusion(x, t, drift, &mut diag);
            }
            g.fill(0.0);
            for (k, v) in diag.iter().enumerate() {
                if let Some(e) = g.get_mut(k * n + k) {
                    *e = *v;
                }
            }
            return;
        }
        let len = n + n * noise.row_len();
        let ok = self.sde_call(kind, x, t, len, |out| {
            let (d, m) = out.split_at(n.min(out.len()));
            copy(drift, d);
            copy(g, m);
        });
        if !ok {
            drift.fill(f64::NAN);
        }
    }
}

impl ParticleSpec {
    /// The run-time description of a checked model's particles, evaluated in
    /// `blocks` blocks.
    pub fn from_model(model: &crate::model::Model, blocks: usize, seed: u64) -> ParticleSpec {
        let offsets = model.state_offsets();
        let sets = model
            .particles
            .iter()
            .enumerate()
            .map(|(k, p)| SetSpec {
                offset: offsets.get(p.state.0 as usize).copied().unwrap_or(0),
                count: p.count,
                dim: p.dim,
                triangular: model
                    .pairs
                    .iter()
                    .any(|t| t.set as usize == k && t.list.is_none()),
            })
            .collect();
        let lists = model
            .lists
            .iter()
            .map(|l| match &l.kind {
                crate::model::ListKind::Neighbors { set, cutoff, skin } => ListSpec::Neighbors {
                    set: *set as usize,
                    cutoff: *cutoff,
                    skin: *skin,
                },
                crate::model::ListKind::RandomBatches { set, size } => ListSpec::Batches {
                    set: *set as usize,
                    size: *size,
                },
                crate::model::ListKind::Fixed { start, idx } => ListSpec::Fixed {
                    start: start.clone(),
                    idx: idx.clone(),
                    bound: l.bound,
                },
            })
            .collect();
        ParticleSpec {
            sets,
            periodic: match &model.domain {
                crate::model::Domain::Periodic(l) => Some(l.clone()),
                crate::model::Domain::Open => None,
            },
            lists,
            blocks: blocks.max(1),
            seed,
        }
    }
}

/// The stream index of batch draws (the key already mixes seed, chain and positions).
const BATCH_STREAM: u64 = 0x0ba7_c4e5;

/// A hash of the run's seed, the chain and the exact positions: the batches are a
/// function of the state, so a resumed chain redraws the batches it had.
fn positions_key(seed: u64, chain: usize, pos: &[f64]) -> u64 {
    let mix = |h: u64| {
        let mut z = h.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let mut h = mix(seed ^ mix(chain as u64));
    for v in pos {
        h = mix(h ^ v.to_bits());
    }
    h
}

/// Half-list rows of random batches: row i holds the members of i's batch above i.
fn batch_rows(batches: &RandomBatches, n: usize, start: &mut Vec<u32>, idx: &mut Vec<u32>) {
    let mut sorted: Vec<Vec<u32>> = batches.iter().map(<[u32]>::to_vec).collect();
    let mut place = vec![(0usize, 0usize); n];
    for (b, members) in sorted.iter_mut().enumerate() {
        members.sort_unstable();
        for (k, m) in members.iter().enumerate() {
            if let Some(p) = place.get_mut(*m as usize) {
                *p = (b, k);
            }
        }
    }
    start.clear();
    idx.clear();
    start.push(0);
    for &(b, k) in &place {
        if let Some(rest) = sorted.get(b).and_then(|m| m.get(k + 1..)) {
            idx.extend_from_slice(rest);
        }
        start.push(idx.len() as u32);
    }
}
