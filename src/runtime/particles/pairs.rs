//! Half neighbour lists in compressed rows, their parallel deterministic build, and the pair-set
//! view shared by lists and "all pairs".

use std::iter::Copied;
use std::ops::Range;
use std::slice;

use rayon::prelude::*;

use super::domain::Domain;
use super::grid::{Search, Strategy, CELL_CHUNK};
use super::NeighborError;

/// Particles per parallel build task. Fixed, so the work split never depends on the thread
/// count (the result would not either, but fixed chunks also keep the buffers reusable).
const CHUNK: usize = 512;

/// A half neighbour list in compressed rows: the partners of particle `i` are
/// `idx[start[i]..start[i + 1]]`, all `> i` and ascending, so each unordered pair appears once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairList {
    start: Vec<u32>,
    idx: Vec<u32>,
}

impl Default for PairList {
    fn default() -> Self {
        Self::new()
    }
}

impl PairList {
    /// The empty list of zero particles.
    pub fn new() -> Self {
        Self {
            start: vec![0],
            idx: Vec::new(),
        }
    }

    /// The pairs of `pos` within `radius` (inclusive) in `domain`; see [`ListBuilder::build`].
    pub fn build(domain: &Domain, pos: &[f64], radius: f64) -> Result<Self, NeighborError> {
        let mut list = Self::new();
        ListBuilder::new().build(domain, pos, radius, &mut list)?;
        Ok(list)
    }

    /// The number of particles `n` (rows).
    pub fn n(&self) -> usize {
        self.start.len().saturating_sub(1)
    }

    /// The number of pairs.
    pub fn len(&self) -> usize {
        self.idx.len()
    }

    /// Whether there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.idx.is_empty()
    }

    /// Row offsets, length `n + 1`, `start[0] = 0`, `start[n] = len()`.
    pub fn start(&self) -> &[u32] {
        &self.start
    }

    /// Partner indices of all rows, concatenated in row order.
    pub fn idx(&self) -> &[u32] {
        &self.idx
    }

    /// The partners `j > i` of particle `i`, ascending (empty if `i` is out of range).
    pub fn neighbors(&self, i: usize) -> &[u32] {
        match (self.start.get(i), self.start.get(i + 1)) {
            (Some(&a), Some(&b)) => self.idx.get(a as usize..b as usize).unwrap_or_default(),
            _ => &[],
        }
    }

    /// All pairs `(i, j)`, `i < j`, in row order.
    pub fn pairs(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        (0..self.n() as u32).flat_map(move |i| self.neighbors(i as usize).iter().map(move |&j| (i, j)))
    }

    /// Splits the rows into `nblocks` contiguous ranges of about equal work; see
    /// [`Pairs::blocks`].
    pub fn blocks(&self, nblocks: usize) -> Vec<(u32, u32)> {
        Pairs::List(self).blocks(nblocks)
    }
}

/// A set of pairs `j > i` over `n` particles: a stored list, or all of them (mean-field terms
/// with no cutoff, nothing stored). Loop over either with
/// `for i in 0..pairs.n() { for j in pairs.neighbors(i) { … } }`.
#[derive(Debug, Clone, Copy)]
pub enum Pairs<'a> {
    /// Every pair `0 ≤ i < j < n`.
    All {
        /// The number of particles.
        n: u32,
    },
    /// The pairs of a list.
    List(&'a PairList),
}

/// The partners of one particle in a [`Pairs`], ascending.
#[derive(Debug, Clone)]
pub enum NeighborIter<'a> {
    /// `i + 1..n`, for [`Pairs::All`].
    Range(Range<u32>),
    /// A list row.
    Row(Copied<slice::Iter<'a, u32>>),
}

impl Iterator for NeighborIter<'_> {
    type Item = u32;

    #[inline]
    fn next(&mut self) -> Option<u32> {
        match self {
            NeighborIter::Range(r) => r.next(),
            NeighborIter::Row(r) => r.next(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            NeighborIter::Range(r) => r.size_hint(),
            NeighborIter::Row(r) => r.size_hint(),
        }
    }
}

impl ExactSizeIterator for NeighborIter<'_> {}

impl<'a> Pairs<'a> {
    /// The number of particles.
    pub fn n(&self) -> usize {
        match self {
            Pairs::All { n } => *n as usize,
            Pairs::List(l) => l.n(),
        }
    }

    /// The number of pairs.
    pub fn count(&self) -> u64 {
        match self {
            Pairs::All { n } => u64::from(*n) * u64::from(n.saturating_sub(1)) / 2,
            Pairs::List(l) => l.len() as u64,
        }
    }

    /// The partners `j > i` of particle `i`, ascending (none if `i` is out of range).
    #[inline]
    pub fn neighbors(&self, i: usize) -> NeighborIter<'a> {
        match self {
            Pairs::All { n } => {
                let lo = u32::try_from(i.saturating_add(1)).unwrap_or(*n).min(*n);
                NeighborIter::Range(lo..*n)
            }
            Pairs::List(l) => NeighborIter::Row(l.neighbors(i).iter().copied()),
        }
    }

    /// Work of rows `0..i`: their pairs plus one per row (per-particle work, and so that rows
    /// without pairs are still split). Strictly increasing in `i`.
    fn work_before(&self, i: usize) -> u64 {
        match self {
            Pairs::All { n } => {
                let (i, n) = (i as u64, u64::from(*n));
                i * n - i * i.saturating_sub(1) / 2
            }
            Pairs::List(l) => l.start.get(i).map_or(0, |&s| u64::from(s)) + i as u64,
        }
    }

    /// Splits rows `0..n` into `max(nblocks, 1)` contiguous ranges `(lo, hi)`, in order, covering
    /// every row once, with about equal work (pairs plus one per row): each block's work is at
    /// most `total / nblocks + 1 + max_row_work`. Blocks may be empty when there are more
    /// blocks than rows. A function of the pair set and `nblocks` alone.
    pub fn blocks(&self, nblocks: usize) -> Vec<(u32, u32)> {
        let nblocks = nblocks.max(1);
        let n = self.n();
        let total = u128::from(self.work_before(n));
        let mut bounds = Vec::with_capacity(nblocks + 1);
        bounds.push(0u32);
        for m in 1..nblocks {
            let target = (total * m as u128 / nblocks as u128) as u64;
            // first row i with work_before(i) ≥ target
            let (mut lo, mut hi) = (0usize, n);
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                if self.work_before(mid) < target {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            bounds.push(lo as u32);
        }
        bounds.push(n as u32);
        bounds
            .iter()
            .zip(bounds.iter().skip(1))
            .map(|(&lo, &hi)| (lo, hi))
            .collect()
    }
}

/// The rows of one chunk of particles, built by one task.
#[derive(Debug, Default)]
struct ChunkRows {
    counts: Vec<u32>,
    idx: Vec<u32>,
}

/// Builds [`PairList`]s, keeping its cell list and per-chunk buffers between builds so a rebuild
/// of a configuration of the same size allocates nothing new.
#[derive(Debug)]
pub struct ListBuilder {
    search: Search,
    chunks: Vec<ChunkRows>,
    /// The pairs each task of a forward scan found.
    found: Vec<Vec<(u32, u32)>>,
    /// The next free slot of each row while the found pairs are placed.
    cursor: Vec<u32>,
}

impl Default for ListBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl ListBuilder {
    /// A builder with empty buffers.
    pub fn new() -> Self {
        Self {
            search: Search::new(),
            chunks: Vec::new(),
            found: Vec::new(),
            cursor: Vec::new(),
        }
    }

    /// Fills `out` with every pair `i < j` of `pos` whose squared minimum-image distance is at
    /// most `radius²`. `radius` must be positive, finite and at most half of every periodic
    /// length. Fails on positions that are not whole particles or not finite, or more than
    /// `u32::MAX` pairs (`out` is then left empty).
    pub fn build(
        &mut self,
        domain: &Domain,
        pos: &[f64],
        radius: f64,
        out: &mut PairList,
    ) -> Result<(), NeighborError> {
        self.build_with(domain, pos, radius, out, Strategy::Auto)
    }

    pub(super) fn build_with(
        &mut self,
        domain: &Domain,
        pos: &[f64],
        radius: f64,
        out: &mut PairList,
        how: Strategy,
    ) -> Result<(), NeighborError> {
        out.start.clear();
        out.start.push(0);
        out.idx.clear();
        domain.check_radius("list radius", radius)?;
        let n = domain.particles(pos)?;
        self.search.prepare(domain, pos, n, radius, how);
        if let Some(ncells) = self.search.forward_cells() {
            return self.build_forward(domain, n, ncells, out);
        }
        let nchunks = n.div_ceil(CHUNK);
        if self.chunks.len() < nchunks {
            self.chunks.resize_with(nchunks, ChunkRows::default);
        }
        let search = &self.search;
        let chunks = self.chunks.get_mut(..nchunks).unwrap_or_default();
        chunks.par_iter_mut().enumerate().for_each(|(c, rows)| {
            rows.counts.clear();
            rows.idx.clear();
            for i in c * CHUNK..((c + 1) * CHUNK).min(n) {
                let before = rows.idx.len();
                search.visit(domain, pos, i, |j, _| rows.idx.push(j));
                if let Some(row) = rows.idx.get_mut(before..) {
                    row.sort_unstable();
                }
                rows.counts.push((rows.idx.len() - before) as u32);
            }
        });
        let chunks = self.chunks.get(..nchunks).unwrap_or_default();
        let total: u64 = chunks.iter().map(|r| r.idx.len() as u64).sum();
        if total > u64::from(u32::MAX) {
            return Err(NeighborError::TooManyPairs { pairs: total });
        }
        out.start.reserve(n);
        out.idx.reserve(total as usize);
        let mut acc = 0u32;
        for rows in chunks {
            for &c in &rows.counts {
                acc += c;
                out.start.push(acc);
            }
            out.idx.extend_from_slice(&rows.idx);
        }
        Ok(())
    }

    /// The list from a forward scan of the cells: every pair once, found by chunks of
    /// cells in parallel, then placed in its row (the smaller index) by a counting sort and
    /// each row sorted, so the list is the same as the row-by-row scan's. No particle is
    /// looked for in a cell twice and no row needs a search for its first partner `> i`.
    fn build_forward(
        &mut self,
        domain: &Domain,
        n: usize,
        ncells: usize,
        out: &mut PairList,
    ) -> Result<(), NeighborError> {
        let ntasks = ncells.div_ceil(CELL_CHUNK);
        if self.found.len() < ntasks {
            self.found.resize_with(ntasks, Vec::new);
        }
        let search = &self.search;
        let found = self.found.get_mut(..ntasks).unwrap_or_default();
        found.par_iter_mut().enumerate().for_each(|(t, pairs)| {
            pairs.clear();
            let cells = t * CELL_CHUNK..((t + 1) * CELL_CHUNK).min(ncells);
            search.forward_pairs(domain.dim(), cells, pairs);
        });
        let found = self.found.get(..ntasks).unwrap_or_default();
        let total: u64 = found.iter().map(|p| p.len() as u64).sum();
        if total > u64::from(u32::MAX) {
            return Err(NeighborError::TooManyPairs { pairs: total });
        }
        // counting sort by row
        out.start.clear();
        out.start.resize(n + 1, 0);
        for &(i, _) in found.iter().flatten() {
            if let Some(c) = out.start.get_mut(i as usize + 1) {
                *c += 1;
            }
        }
        let mut acc = 0u32;
        for s in out.start.iter_mut() {
            acc += *s;
            *s = acc;
        }
        self.cursor.clear();
        self.cursor
            .extend_from_slice(out.start.get(..n).unwrap_or_default());
        out.idx.clear();
        out.idx.resize(total as usize, 0);
        for &(i, j) in found.iter().flatten() {
            if let Some(at) = self.cursor.get_mut(i as usize) {
                if let Some(slot) = out.idx.get_mut(*at as usize) {
                    *slot = j;
                }
                *at += 1;
            }
        }
        // rows ascending, chunks of rows in parallel
        let mut pieces = Vec::with_capacity(n.div_ceil(CHUNK));
        let mut rest: &mut [u32] = &mut out.idx;
        let start = &out.start;
        for lo in (0..n).step_by(CHUNK) {
            let hi = (lo + CHUNK).min(n);
            let (a, b) = (
                start.get(lo).copied().unwrap_or(0),
                start.get(hi).copied().unwrap_or(0),
            );
            let (head, tail) = std::mem::take(&mut rest).split_at_mut((b - a) as usize);
            pieces.push((lo, hi, head));
            rest = tail;
        }
        pieces.into_par_iter().for_each(|(lo, hi, piece)| {
            let base = start.get(lo).copied().unwrap_or(0);
            for i in lo..hi {
                let (a, b) = (
                    start.get(i).copied().unwrap_or(0),
                    start.get(i + 1).copied().unwrap_or(0),
                );
                if let Some(row) = piece.get_mut((a - base) as usize..(b - base) as usize) {
                    row.sort_unstable();
                }
            }
        });
        Ok(())
    }

    /// The cells per binned dimension used by the last build (empty for a direct scan).
    #[cfg(test)]
    pub(super) fn cells_per_dim(&self) -> Vec<usize> {
        self.search.cells_per_dim()
    }
}
