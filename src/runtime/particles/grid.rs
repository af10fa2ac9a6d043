//! The pair search behind lists and histograms: a cell list for `k ≤ 3`, a direct scan
//! otherwise.
//!
//! Cells are at least the search radius wide (plus a few ulps of slack, so rounding in the
//! wrap or the cell index can never put two partners two cells apart), so every partner of a
//! particle lies in its own cell or an adjacent one. In a periodic dimension neighbouring cells
//! wrap around; with only two cells the "left" and "right" neighbours are the same cell and with
//! one cell there is none, so the stencil there is {0, +1} or {0}: no cell is scanned twice and
//! no pair is found twice. Open dimensions span the bounding box of the positions.
//! Distances are always the minimum image of the unwrapped coordinates, so the cells only
//! decide which pairs are looked at, never their distance.

use super::domain::{dist2_fixed, wrap_into, Boundary, Domain};

/// Most dimensions binned into cells.
const MAX_CELL_DIM: usize = 3;

/// Below this many particles a direct scan is as fast as binning.
const DIRECT_BELOW: usize = 32;

/// Relative slack added to the cell width, in units of the magnitudes that enter the rounding.
const SLACK: f64 = 64.0 * f64::EPSILON;

/// How pairs are searched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Strategy {
    /// Cells for `k ≤ 3` and at least [`DIRECT_BELOW`] particles, a direct scan otherwise.
    Auto,
    /// Cells for `k ≤ 3` whatever the count (a direct scan for `k > 3`).
    #[cfg_attr(not(test), allow(dead_code))]
    Cells,
    /// A direct scan.
    #[cfg_attr(not(test), allow(dead_code))]
    Direct,
}

/// One dimension of the cell grid.
#[derive(Debug, Clone, Copy)]
struct Axis {
    /// Number of cells, at least 1.
    cells: usize,
    /// Coordinate where cell 0 starts (the bounding-box minimum; 0 when periodic).
    origin: f64,
    /// Extent covered: the periodic length or the bounding-box width.
    length: f64,
    /// `cells / length`, the inverse cell width.
    inv_width: f64,
    /// The periodic length, if periodic.
    period: Option<f64>,
}

impl Axis {
    /// An axis with one cell (also the unused axes when `k < 3`).
    const SINGLE: Axis = Axis {
        cells: 1,
        origin: 0.0,
        length: 0.0,
        inv_width: 0.0,
        period: None,
    };

    /// The axis for boundary `b`, coordinates in `[lo, hi]` with largest magnitude `max_abs`.
    fn new(b: Boundary, lo: f64, hi: f64, max_abs: f64, radius: f64, cap: usize) -> Self {
        let (length, origin, period) = match b {
            Boundary::Periodic(l) => (l, 0.0, Some(l)),
            Boundary::Open => (hi - lo, lo, None),
        };
        let min_width = radius + SLACK * (max_abs + length.abs() + radius);
        let ratio = length / min_width;
        let cells = if ratio >= 2.0 {
            ratio.min(cap as f64) as usize
        } else {
            1
        };
        let mut axis = Axis {
            cells,
            origin,
            length,
            inv_width: 0.0,
            period,
        };
        axis.set_cells(cells);
        axis
    }

    fn set_cells(&mut self, cells: usize) {
        self.cells = cells.max(1);
        self.inv_width = if self.cells > 1 {
            self.cells as f64 / self.length
        } else {
            0.0
        };
    }

    /// The cell of coordinate `x`.
    #[inline]
    fn cell(&self, x: f64) -> usize {
        if self.cells <= 1 {
            return 0;
        }
        let u = match self.period {
            Some(l) => wrap_into(x, l),
            None => x - self.origin,
        };
        let c = (u * self.inv_width).floor();
        if c > 0.0 {
            (c as usize).min(self.cells - 1)
        } else {
            0
        }
    }

    /// The minimum image of a difference along this axis.
    #[inline]
    fn min_image(&self, delta: f64) -> f64 {
        match self.period {
            Some(l) => Boundary::Periodic(l).min_image(delta),
            None => delta,
        }
    }

    /// The distinct cells adjacent to (and including) cell `c`, and how many there are.
    #[inline]
    fn around(&self, c: usize) -> ([usize; 3], usize) {
        let n = self.cells;
        match (self.period, n) {
            (_, 1) => ([0, 0, 0], 1),
            (Some(_), 2) => ([0, 1, 0], 2),
            (Some(_), _) => ([(c + n - 1) % n, c, (c + 1) % n], 3),
            (None, _) if c == 0 => ([0, 1, 0], 2),
            (None, _) if c + 1 >= n => ([c - 1, c, 0], 2),
            (None, _) => ([c - 1, c, c + 1], 3),
        }
    }
}

/// Particles binned into cells, each cell's members ascending.
#[derive(Debug)]
struct CellGrid {
    axes: [Axis; MAX_CELL_DIM],
    /// `members[cell_start[c]..cell_start[c + 1]]` are the particles of cell `c`.
    cell_start: Vec<u32>,
    members: Vec<u32>,
    /// The flat cell index of each particle.
    cell_of: Vec<u32>,
    /// Scratch: the next free slot of each cell while sorting.
    fill: Vec<u32>,
    /// The members' coordinates in cell order, periodic ones wrapped into `[0, L)`, so a
    /// cell's scan reads contiguous memory and a forward scan can shift a whole neighbour
    /// cell by ±L instead of rounding every distance.
    coords: Vec<f64>,
}

impl CellGrid {
    fn new() -> Self {
        Self {
            axes: [Axis::SINGLE; MAX_CELL_DIM],
            cell_start: Vec::new(),
            members: Vec::new(),
            cell_of: Vec::new(),
            fill: Vec::new(),
            coords: Vec::new(),
        }
    }

    /// Bins the `n` particles of `pos` (validated, `k ≤ 3`) into cells at least `radius` wide.
    fn rebuild(&mut self, domain: &Domain, pos: &[f64], n: usize, radius: f64) {
        let k = domain.dim();
        // about two cells per particle at most: O(n) memory whatever the spread
        let cap = n.saturating_mul(2).saturating_add(27).min(u32::MAX as usize / 2);
        self.axes = [Axis::SINGLE; MAX_CELL_DIM];
        for (d, (axis, b)) in self.axes.iter_mut().zip(domain.boundaries()).enumerate() {
            let (mut lo, mut hi, mut max_abs) = (f64::INFINITY, f64::NEG_INFINITY, 0.0f64);
            for x in pos.iter().skip(d).step_by(k) {
                lo = lo.min(*x);
                hi = hi.max(*x);
                max_abs = max_abs.max(x.abs());
            }
            if n == 0 {
                (lo, hi) = (0.0, 0.0);
            }
            *axis = Axis::new(*b, lo, hi, max_abs, radius, cap);
        }
        self.coarsen(cap);
        self.sort(pos, k, n);
    }

    /// Halves the finest axis until there are at most `cap` cells (wider cells stay correct).
    fn coarsen(&mut self, cap: usize) {
        while self.axes.iter().map(|a| a.cells as u128).product::<u128>() > cap as u128 {
            if let Some(a) = self.axes.iter_mut().max_by_key(|a| a.cells) {
                let half = a.cells / 2;
                a.set_cells(half);
            }
        }
    }

    fn ncells(&self) -> usize {
        self.axes.iter().map(|a| a.cells).product()
    }

    /// Counting sort of particles by cell, stable, so each cell's members are ascending.
    fn sort(&mut self, pos: &[f64], k: usize, n: usize) {
        let ncells = self.ncells();
        self.cell_start.clear();
        self.cell_start.resize(ncells + 1, 0);
        self.cell_of.clear();
        for x in pos.chunks_exact(k) {
            let c = self.flat_cell(x);
            self.cell_of.push(c as u32);
            if let Some(s) = self.cell_start.get_mut(c + 1) {
                *s += 1;
            }
        }
        let mut acc = 0;
        for s in self.cell_start.iter_mut() {
            acc += *s;
            *s = acc;
        }
        self.fill.clear();
        self.fill.extend(self.cell_start.iter().take(ncells));
        self.members.clear();
        self.members.resize(n, 0);
        for (i, &c) in self.cell_of.iter().enumerate() {
            if let Some(slot) = self.fill.get_mut(c as usize) {
                if let Some(m) = self.members.get_mut(*slot as usize) {
                    *m = i as u32;
                }
                *slot += 1;
            }
        }
        self.coords.clear();
        let (members, axes) = (&self.members, &self.axes);
        self.coords.extend(members.iter().flat_map(|&m| {
            let x = pos.get(m as usize * k..(m as usize + 1) * k).unwrap_or_default();
            x.iter().zip(axes).map(|(&v, a)| match a.period {
                Some(l) => wrap_into(v, l),
                None => v,
            })
        }));
    }

    #[inline]
    fn flat_cell(&self, x: &[f64]) -> usize {
        let [a0, a1, a2] = &self.axes;
        let c = |a: &Axis, d: usize| x.get(d).map_or(0, |&v| a.cell(v));
        c(a0, 0) + a0.cells * (c(a1, 1) + a1.cells * c(a2, 2))
    }

    /// Calls `f(j, d²)` for every particle `j > i` of the cells around particle `i` with
    /// `d² ≤ r2`.
    #[inline]
    fn visit<F: FnMut(u32, f64)>(&self, domain: &Domain, pos: &[f64], i: usize, r2: f64, f: F) {
        // one copy of the scan per dimension, so the distance is straight-line code
        match domain.dim() {
            1 => self.visit_k::<1, F>(domain, pos, i, r2, f),
            2 => self.visit_k::<2, F>(domain, pos, i, r2, f),
            3 => self.visit_k::<3, F>(domain, pos, i, r2, f),
            _ => {}
        }
    }

    #[inline]
    fn visit_k<const K: usize, F: FnMut(u32, f64)>(
        &self,
        domain: &Domain,
        pos: &[f64],
        i: usize,
        r2: f64,
        mut f: F,
    ) {
        let Ok(bounds) = <&[Boundary; K]>::try_from(domain.boundaries()) else {
            return;
        };
        let (points, _) = pos.as_chunks::<K>();
        let (coords, _) = self.coords.as_chunks::<K>();
        let (Some(xi), Some(&flat)) = (points.get(i), self.cell_of.get(i)) else {
            return;
        };
        let [a0, a1, a2] = &self.axes;
        let flat = flat as usize;
        let (c0, c1, c2) = (
            flat % a0.cells,
            (flat / a0.cells) % a1.cells,
            flat / (a0.cells * a1.cells),
        );
        let ((z, nz), (y, ny), (x, nx)) = (a2.around(c2), a1.around(c1), a0.around(c0));
        for &cz in z.iter().take(nz) {
            for &cy in y.iter().take(ny) {
                for &cx in x.iter().take(nx) {
                    let cell = cx + a0.cells * (cy + a1.cells * cz);
                    let (Some(&lo), Some(&hi)) = (self.cell_start.get(cell), self.cell_start.get(cell + 1))
                    else {
                        continue;
                    };
                    let (lo, hi) = (lo as usize, hi as usize);
                    let members = self.members.get(lo..hi).unwrap_or_default();
                    // members ascend: skip those that are not > i
                    let from = members.partition_point(|&j| j as usize <= i);
                    let members = members.get(from..).unwrap_or_default();
                    let xs = coords.get(lo + from..hi).unwrap_or_default();
                    for (&j, xj) in members.iter().zip(xs) {
                        let d2 = dist2_fixed(bounds, xi, xj);
                        if d2 <= r2 {
                            f(j, d2);
                        }
                    }
                }
            }
        }
    }
}

/// Cells per task of a forward scan ([`Search::forward_pairs`]): fixed, so the split of
/// the work never depends on the thread count.
pub(super) const CELL_CHUNK: usize = 8;

/// The 13 offsets of the forward half of the 3×3×3 stencil: those whose last nonzero
/// component (z, then y, then x) is +1. Of any two cells that are neighbours, exactly one
/// reaches the other through one of them, so each pair of cells is scanned once.
const FORWARD: [[i64; 3]; 13] = [
    [1, 0, 0],
    [-1, 1, 0],
    [0, 1, 0],
    [1, 1, 0],
    [-1, -1, 1],
    [0, -1, 1],
    [1, -1, 1],
    [-1, 0, 1],
    [0, 0, 1],
    [1, 0, 1],
    [-1, 1, 1],
    [0, 1, 1],
    [1, 1, 1],
];

impl CellGrid {
    /// Whether every pair of neighbouring cells is reached by exactly one forward offset:
    /// not with two cells along a periodic axis, where the offsets −1 and +1 reach the same
    /// cell.
    fn forward_scan_applies(&self) -> bool {
        self.axes.iter().all(|a| !(a.period.is_some() && a.cells == 2))
    }

    /// The cell at `offset` from the cell with coordinates `c`, wrapping periodic axes, and
    /// the shift (0 or ±L per axis) that brings its wrapped coordinates next to cell `c`;
    /// `None` past an open edge or along a single-cell axis.
    #[inline]
    fn offset_cell(&self, c: [usize; 3], offset: [i64; 3]) -> Option<(usize, [f64; 3])> {
        let mut flat = 0usize;
        let mut stride = 1usize;
        let mut shift = [0.0; 3];
        for (((a, &x), &o), s) in self.axes.iter().zip(&c).zip(&offset).zip(&mut shift) {
            let n = a.cells as i64;
            let mut y = x as i64 + o;
            if y < 0 || y >= n {
                match a.period {
                    Some(l) if n >= 3 => {
                        *s = if y < 0 { -l } else { l };
                        y = y.rem_euclid(n);
                    }
                    _ => return None,
                }
            }
            flat += y as usize * stride;
            stride *= a.cells;
        }
        Some((flat, shift))
    }

    /// The members and coordinates of cell `c`.
    #[inline]
    fn cell<'g, const K: usize>(&'g self, coords: &'g [[f64; K]], c: usize) -> (&'g [u32], &'g [[f64; K]]) {
        let lo = self.cell_start.get(c).map_or(0, |&v| v as usize);
        let hi = self.cell_start.get(c + 1).map_or(lo, |&v| v as usize);
        (
            self.members.get(lo..hi).unwrap_or_default(),
            coords.get(lo..hi).unwrap_or_default(),
        )
    }

    /// Appends `(min(a, b), max(a, b))` for every pair within `r2` with one particle in each
    /// of the cells `cells` (a cell with itself: each pair of its members once), scanning
    /// each cell against itself and its forward neighbours.
    ///
    /// Coordinates are wrapped, so along a periodic axis of at least four cells the
    /// neighbour cell shifted by the ±L its offset wrapped by holds the minimum images
    /// (two adjacent cells span at most half the box). Axes of one or three cells take
    /// the minimum image of every difference. Candidates are written unconditionally and
    /// kept by advancing the end: whether a pair is within the radius is random, and a
    /// branch on it would be mispredicted often.
    fn forward_k<const K: usize>(&self, r2: f64, cells: std::ops::Range<usize>, out: &mut Vec<(u32, u32)>) {
        let (coords, _) = self.coords.as_chunks::<K>();
        let [a0, a1, _] = &self.axes;
        let mut exact = [true; K];
        for (e, a) in exact.iter_mut().zip(&self.axes) {
            *e = a.period.is_none() || a.cells >= 4;
        }
        for c in cells {
            let at = [c % a0.cells, (c / a0.cells) % a1.cells, c / (a0.cells * a1.cells)];
            let (own, own_x) = self.cell(coords, c);
            for (p, (&a, xa)) in own.iter().zip(own_x).enumerate() {
                let them = own.get(p + 1..).unwrap_or_default();
                let them_x = own_x.get(p + 1..).unwrap_or_default();
                self.keep_close(a, xa, (them, them_x), [0.0; K], exact, r2, out);
            }
            for offset in FORWARD {
                let Some((other, shift)) = self.offset_cell(at, offset) else {
                    continue;
                };
                let mut shift_k = [0.0; K];
                for (s, v) in shift_k.iter_mut().zip(shift) {
                    *s = v;
                }
                let (them, them_x) = self.cell(coords, other);
                for (&a, xa) in own.iter().zip(own_x) {
                    self.keep_close(a, xa, (them, them_x), shift_k, exact, r2, out);
                }
            }
        }
    }

    /// Appends the pairs of `a` (at `xa`) with the members of `them` within `r2`, their
    /// coordinates shifted by `shift` (minimum image along the axes not `exact`).
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn keep_close<const K: usize>(
        &self,
        a: u32,
        xa: &[f64; K],
        (them, them_x): (&[u32], &[[f64; K]]),
        shift: [f64; K],
        exact: [bool; K],
        r2: f64,
        out: &mut Vec<(u32, u32)>,
    ) {
        let base = out.len();
        out.resize(base + them.len(), (0, 0));
        let mut end = base;
        for (&b, xb) in them.iter().zip(them_x) {
            let mut d2 = 0.0;
            for ((((&x, &s), &y), &e), axis) in xb.iter().zip(&shift).zip(xa).zip(&exact).zip(&self.axes) {
                let mut delta = x + s - y;
                if !e {
                    delta = axis.min_image(delta);
                }
                d2 += delta * delta;
            }
            if let Some(slot) = out.get_mut(end) {
                *slot = (a.min(b), a.max(b));
            }
            end += usize::from(d2 <= r2);
        }
        out.truncate(end);
    }
}

/// A prepared pair search over one configuration. Reused across configurations so its buffers
/// are allocated once.
#[derive(Debug)]
pub(super) struct Search {
    r2: f64,
    cells: bool,
    grid: CellGrid,
}

impl Search {
    pub(super) fn new() -> Self {
        Self {
            r2: 0.0,
            cells: false,
            grid: CellGrid::new(),
        }
    }

    /// Prepares to visit the pairs within `radius` of the `n` particles of `pos` (positions
    /// and radius already checked).
    pub(super) fn prepare(&mut self, domain: &Domain, pos: &[f64], n: usize, radius: f64, how: Strategy) {
        self.r2 = radius * radius;
        let low_dim = domain.dim() <= MAX_CELL_DIM;
        self.cells = match how {
            Strategy::Auto => low_dim && n >= DIRECT_BELOW,
            Strategy::Cells => low_dim,
            Strategy::Direct => false,
        };
        if self.cells {
            self.grid.rebuild(domain, pos, n, radius);
        }
    }

    /// Calls `f(j, d²)` for every `j > i` within the radius of particle `i`, in no particular
    /// order (each such `j` exactly once).
    #[inline]
    pub(super) fn visit<F: FnMut(u32, f64)>(&self, domain: &Domain, pos: &[f64], i: usize, mut f: F) {
        if self.cells {
            return self.grid.visit(domain, pos, i, self.r2, f);
        }
        let k = domain.dim();
        let Some(xi) = pos.get(i * k..i * k + k) else {
            return;
        };
        let rest = pos.get((i + 1) * k..).unwrap_or_default();
        for (j, xj) in (i + 1..).zip(rest.chunks_exact(k)) {
            let d2 = domain.dist2_between(xi, xj);
            if d2 <= self.r2 {
                f(j as u32, d2);
            }
        }
    }

    /// The number of cells of a forward scan, if one applies to this configuration (cells
    /// were binned, and no periodic axis has exactly two of them); see
    /// [`forward_pairs`](Self::forward_pairs).
    pub(super) fn forward_cells(&self) -> Option<usize> {
        (self.cells && self.grid.forward_scan_applies()).then(|| self.grid.ncells())
    }

    /// Appends `(i, j)`, `i < j`, for every pair within the radius with one particle in a
    /// cell of `cells`: over all cells, every pair exactly once, in no particular order.
    /// Only when [`forward_cells`](Self::forward_cells) is `Some`.
    pub(super) fn forward_pairs(&self, dim: usize, cells: std::ops::Range<usize>, out: &mut Vec<(u32, u32)>) {
        match dim {
            1 => self.grid.forward_k::<1>(self.r2, cells, out),
            2 => self.grid.forward_k::<2>(self.r2, cells, out),
            3 => self.grid.forward_k::<3>(self.r2, cells, out),
            _ => {}
        }
    }

    /// The number of cells along each binned dimension (empty for a direct scan).
    #[cfg(test)]
    pub(super) fn cells_per_dim(&self) -> Vec<usize> {
        if !self.cells {
            return Vec::new();
        }
        self.grid.axes.iter().map(|a| a.cells).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::FORWARD;

    #[test]
    fn forward_offsets_hold_one_of_each_opposite_pair() {
        let mut seen = 0;
        for z in -1..=1 {
            for y in -1..=1 {
                for x in -1..=1 {
                    if [x, y, z] == [0, 0, 0] {
                        continue;
                    }
                    let here = FORWARD.contains(&[x, y, z]);
                    let opposite = FORWARD.contains(&[-x, -y, -z]);
                    assert!(here != opposite, "{x} {y} {z}");
                    seen += usize::from(here);
                }
            }
        }
        assert_eq!(seen, 13);
    }
}
