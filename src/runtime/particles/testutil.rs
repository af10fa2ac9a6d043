//! Test helpers: random configurations and brute-force references.

use std::collections::BTreeSet;

use rand::RngExt;

use super::{Domain, PairList};
use crate::runtime::rng::{stream, StreamRng};

/// A fixed-seed stream for test `index`.
pub(super) fn rng(index: u64) -> StreamRng {
    stream(0x5eed_1157, index)
}

/// `n` points uniform in `[lo_d, hi_d)` per dimension.
pub(super) fn uniform(rng: &mut StreamRng, n: usize, bounds: &[(f64, f64)]) -> Vec<f64> {
    let mut pos = Vec::with_capacity(n * bounds.len());
    for _ in 0..n {
        for &(lo, hi) in bounds {
            pos.push(lo + (hi - lo) * rng.random::<f64>());
        }
    }
    pos
}

/// Shifts every periodic coordinate by a random multiple of its length in `-m..=m`.
pub(super) fn unwrap_randomly(rng: &mut StreamRng, domain: &Domain, pos: &mut [f64], m: i64) {
    let k = domain.dim();
    for (c, x) in pos.iter_mut().enumerate() {
        if let Some(l) = domain.period(c % k) {
            *x += l * rng.random_range(-m..=m) as f64;
        }
    }
}

/// Every pair `i < j` with squared minimum-image distance `≤ r²`, by a double loop.
pub(super) fn brute(domain: &Domain, pos: &[f64], r: f64) -> BTreeSet<(u32, u32)> {
    let n = pos.len() / domain.dim();
    let mut set = BTreeSet::new();
    for i in 0..n {
        for j in i + 1..n {
            if domain.dist2(pos, i, j).unwrap() <= r * r {
                set.insert((i as u32, j as u32));
            }
        }
    }
    set
}

/// Checks the CSR invariants of `list` for `n` particles and returns its pairs as a set
/// (asserting there are no duplicates).
pub(super) fn checked_pairs(list: &PairList, n: usize) -> BTreeSet<(u32, u32)> {
    let start = list.start();
    assert_eq!(start.len(), n + 1, "start has n + 1 entries");
    assert_eq!(start[0], 0);
    assert_eq!(start[n] as usize, list.idx().len());
    for i in 0..n {
        assert!(start[i] <= start[i + 1], "rows are monotone");
        let row = list.neighbors(i);
        assert!(
            row.iter().all(|&j| j as usize > i && (j as usize) < n),
            "row {i}: j > i"
        );
        assert!(row.windows(2).all(|w| w[0] < w[1]), "row {i} ascends strictly");
    }
    let set: BTreeSet<_> = list.pairs().collect();
    assert_eq!(set.len(), list.len(), "no duplicate pairs");
    set
}
