//! Running statistics: Welford's mean and variance per column, mergeable across chains.

use std::io;

use crate::runtime::Recorder;

/// Count, mean and sum of squared deviations per column, updated one draw at a time
/// (Welford) and merged with Chan et al.'s pairwise formula. Merging chains in chain order
/// gives results independent of the thread count.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunningStats {
    count: u64,
    mean: Vec<f64>,
    m2: Vec<f64>,
}

impl RunningStats {
    /// Empty statistics over `columns` columns.
    pub fn new(columns: usize) -> Self {
        RunningStats {
            count: 0,
            mean: vec![0.0; columns],
            m2: vec![0.0; columns],
        }
    }

    /// Adds one draw (extra or missing values beyond the column count are ignored).
    pub fn push(&mut self, x: &[f64]) {
        self.count += 1;
        let inv_n = 1.0 / self.count as f64;
        for ((m, s), v) in self.mean.iter_mut().zip(self.m2.iter_mut()).zip(x) {
            let d = v - *m;
            *m += d * inv_n;
            *s += d * (v - *m);
        }
    }

    /// Folds `other` into `self` (the same columns).
    pub fn merge(&mut self, other: &RunningStats) {
        if other.count == 0 {
            return;
        }
        if self.count == 0 {
            *self = other.clone();
            return;
        }
        let (na, nb) = (self.count as f64, other.count as f64);
        let n = na + nb;
        for ((m, s), (mb, sb)) in self
            .mean
            .iter_mut()
            .zip(self.m2.iter_mut())
            .zip(other.mean.iter().zip(&other.m2))
        {
            let d = mb - *m;
            *m += d * nb / n;
            *s += sb + d * d * na * nb / n;
        }
        self.count += other.count;
    }

    /// Merges per-chain statistics in the order given (chain order for reproducible results).
    pub fn merge_all<'a>(columns: usize, parts: impl IntoIterator<Item = &'a RunningStats>) -> RunningStats {
        let mut total = RunningStats::new(columns);
        for p in parts {
            total.merge(p);
        }
        total
    }

    /// Number of draws.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Number of columns.
    pub fn columns(&self) -> usize {
        self.mean.len()
    }

    /// Per-column means (0 when empty).
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }

    /// Per-column sample variances (divisor n − 1; NaN with fewer than two draws).
    pub fn variance(&self) -> Vec<f64> {
        let denom = self.count as f64 - 1.0;
        self.m2
            .iter()
            .map(|s| if denom > 0.0 { s / denom } else { f64::NAN })
            .collect()
    }

    /// Per-column sample standard deviations.
    pub fn sd(&self) -> Vec<f64> {
        self.variance().into_iter().map(f64::sqrt).collect()
    }
}

impl Recorder for RunningStats {
    fn record(&mut self, _step: u64, _t: f64, x: &[f64]) -> io::Result<()> {
        self.push(x);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_matches_one_pass() {
        let data: Vec<[f64; 2]> = (0..50)
            .map(|i| [(i as f64).sin() * 3.0 + 1e6, (i * i) as f64])
            .collect();
        let mut all = RunningStats::new(2);
        let mut a = RunningStats::new(2);
        let mut b = RunningStats::new(2);
        for (i, x) in data.iter().enumerate() {
            all.push(x);
            if i < 17 {
                a.push(x)
            } else {
                b.push(x)
            }
        }
        let merged = RunningStats::merge_all(2, [&a, &b]);
        assert_eq!(merged.count(), 50);
        let n = data.len() as f64;
        for c in 0..2 {
            let mean = data.iter().map(|x| x[c]).sum::<f64>() / n;
            let var = data.iter().map(|x| (x[c] - mean).powi(2)).sum::<f64>() / (n - 1.0);
            assert!((merged.mean()[c] - mean).abs() <= 1e-9 * mean.abs().max(1.0));
            assert!((merged.variance()[c] - var).abs() <= 1e-9 * var);
            assert!((all.variance()[c] - var).abs() <= 1e-9 * var);
        }
    }
}
