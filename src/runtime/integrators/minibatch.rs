//! Minibatches of data rows for the stochastic-gradient schemes: B rows of R drawn
//! uniformly, independently (with replacement) or as a uniform B-subset (without), from
//! the chain's stream. The draw is a function of the stream alone, so a chain resumed
//! from a checkpoint draws the same rows.

use crate::runtime::method::Minibatch;
use crate::runtime::rng::StreamRng;
use crate::runtime::target::GibbsTarget;
use rand::RngExt;

/// The minibatch gradient of one chain: its rows, sized for the target's data.
#[derive(Debug, Clone)]
pub(crate) struct MinibatchGrad {
    minibatch: Minibatch,
    rows: Option<RowSampler>,
}

impl MinibatchGrad {
    /// Gradients over `minibatch`; [`MinibatchGrad::start`] sizes the rows for a target.
    pub(crate) fn new(minibatch: Minibatch) -> Self {
        MinibatchGrad {
            minibatch,
            rows: None,
        }
    }

    /// Prepares the row buffers for `target`'s data rows (none if it has no minibatch
    /// gradient, which the run refuses beforehand).
    pub(crate) fn start<T: GibbsTarget + ?Sized>(&mut self, target: &T) {
        self.rows = target
            .data_rows()
            .and_then(|r| RowSampler::new(r, self.minibatch));
    }

    /// Writes the minibatch gradient at `x` over the next rows into `grad` (NaN when the
    /// target cannot, which the chain reports as a blow-up).
    pub(crate) fn grad<T: GibbsTarget + ?Sized>(
        &mut self,
        target: &T,
        x: &[f64],
        rng: &mut StreamRng,
        grad: &mut [f64],
    ) {
        let ok = self
            .rows
            .as_mut()
            .is_some_and(|r| target.batch_grad(x, r.draw(rng), grad));
        if !ok {
            grad.fill(f64::NAN);
        }
    }
}

/// The row buffers of one chain, allocated once.
#[derive(Debug, Clone, Default)]
pub(crate) struct RowSampler {
    rows: u32,
    replace: bool,
    /// The identity permutation of `0..rows`, restored after every draw without replacement.
    perm: Vec<u32>,
    /// The swap partners of the last draw, to undo it.
    swaps: Vec<u32>,
    batch: Vec<u32>,
}

impl RowSampler {
    /// Draws of `batch.size` rows out of `rows`; `None` if `rows` is 0 or does not fit a
    /// `u32`, or a draw without replacement asks for more rows than there are.
    pub(crate) fn new(rows: usize, batch: Minibatch) -> Option<RowSampler> {
        let size = usize::try_from(batch.size).ok()?;
        let rows32 = u32::try_from(rows).ok().filter(|r| *r > 0)?;
        if !batch.replace && size > rows {
            return None;
        }
        Some(RowSampler {
            rows: rows32,
            replace: batch.replace,
            perm: if batch.replace {
                Vec::new()
            } else {
                (0..rows32).collect()
            },
            swaps: vec![0; if batch.replace { 0 } else { size }],
            batch: vec![0; size],
        })
    }

    /// Draws the next minibatch.
    pub(crate) fn draw(&mut self, rng: &mut StreamRng) -> &[u32] {
        if self.replace {
            for r in self.batch.iter_mut() {
                *r = rng.random_range(0..self.rows);
            }
            return &self.batch;
        }
        // A partial Fisher–Yates shuffle gives a uniform B-subset in uniform order; undoing
        // its swaps in reverse order restores the identity, so each draw costs O(B) and
        // depends on nothing but the stream.
        for (k, (slot, partner)) in self.batch.iter_mut().zip(self.swaps.iter_mut()).enumerate() {
            let k32 = k as u32;
            let j = rng.random_range(k32..self.rows);
            self.perm.swap(k, j as usize);
            *partner = j;
            *slot = self.perm.get(k).copied().unwrap_or(0);
        }
        for (k, j) in self.swaps.iter().enumerate().rev() {
            self.perm.swap(k, *j as usize);
        }
        &self.batch
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::rng::stream;

    #[test]
    fn draws_without_replacement_are_distinct_uniform_subsets() {
        let (rows, size) = (10usize, 4u64);
        let mut s = RowSampler::new(rows, Minibatch { size, replace: false }).unwrap();
        let mut rng = stream(3, 0);
        let mut counts = [0u64; 10];
        let draws = 50_000;
        for _ in 0..draws {
            let b = s.draw(&mut rng).to_vec();
            let mut sorted = b.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), 4, "repeated row in {b:?}");
            for r in b {
                counts[r as usize] += 1;
            }
            assert!(s.perm.iter().enumerate().all(|(i, p)| *p as usize == i));
        }
        // Each row is in a batch with probability B/R = 0.4: binomial sd √(n·0.4·0.6).
        let expected = draws as f64 * 0.4;
        let sd = (draws as f64 * 0.4 * 0.6).sqrt();
        for c in counts {
            assert!((c as f64 - expected).abs() < 4.5 * sd, "{counts:?}");
        }
    }

    #[test]
    fn draws_with_replacement_repeat_rows() {
        let mut s = RowSampler::new(
            3,
            Minibatch {
                size: 8,
                replace: true,
            },
        )
        .unwrap();
        let mut rng = stream(5, 1);
        let b = s.draw(&mut rng).to_vec();
        assert_eq!(b.len(), 8);
        assert!(b.iter().all(|r| *r < 3));
        assert!(RowSampler::new(
            3,
            Minibatch {
                size: 8,
                replace: false
            }
        )
        .is_none());
        assert!(RowSampler::new(
            0,
            Minibatch {
                size: 1,
                replace: true
            }
        )
        .is_none());
    }
}
