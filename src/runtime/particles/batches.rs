//! Random batches for the Random Batch Method (Jin, Li & Liu, J. Comput. Phys. 400:108877,
//! 2020): at each batch time, draw a random permutation of the particles and cut it into
//! consecutive groups of `p`; each particle then interacts only within its group, with the
//! interaction sum scaled by `1/(|C| − 1)` instead of `1/(N − 1)`.
//!
//! When `p` does not divide `n`, the last `n mod p` particles of the permutation form a smaller
//! final batch, except that a single leftover particle joins the batch before it (making it
//! `p + 1` strong), so every batch has at least two members whenever `n ≥ 2`. With the scaling
//! `1/(|C| − 1)` by each batch's own size the batch force stays an unbiased estimate of the full
//! mean-field force for any batch sizes: particle `i` lands in a batch of size `s` with
//! probability `s/n`, and each other particle is then with it with probability `(s − 1)/(n − 1)`.
//! A batch of one would have no partner and bias the estimate, hence the merge.

use rand::seq::SliceRandom;
use rand::Rng;

use super::NeighborError;

/// A partition of `0..n` into batches: the permutation, cut into consecutive groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RandomBatches {
    perm: Vec<u32>,
    p: usize,
}

/// `0..n` split into random batches of size `p` (see the module notes for the last batch),
/// drawn from `rng`. `p` must be at least 2 and `n` at most `u32::MAX`.
pub fn random_batches<R: Rng + ?Sized>(
    n: usize,
    p: usize,
    rng: &mut R,
) -> Result<RandomBatches, NeighborError> {
    let mut b = RandomBatches::new(n, p)?;
    b.redraw(rng);
    Ok(b)
}

impl RandomBatches {
    /// The batches of the identity permutation (`0..p`, `p..2p`, …); call
    /// [`redraw`](Self::redraw) to randomise.
    pub fn new(n: usize, p: usize) -> Result<Self, NeighborError> {
        if p < 2 {
            return Err(NeighborError::InvalidDistance {
                what: "batch size",
                value: p as f64,
                need: "at least 2",
            });
        }
        let last = u32::try_from(n).map_err(|_| NeighborError::TooManyParticles { n })?;
        Ok(Self {
            perm: (0..last).collect(),
            p,
        })
    }

    /// Draws a new uniformly random permutation (Fisher–Yates on `0..n`, so the result depends
    /// on `rng` alone, not on the previous draw). No allocation.
    pub fn redraw<R: Rng + ?Sized>(&mut self, rng: &mut R) {
        for (i, v) in self.perm.iter_mut().enumerate() {
            *v = i as u32;
        }
        self.perm.shuffle(rng);
    }

    /// The number of particles.
    pub fn n(&self) -> usize {
        self.perm.len()
    }

    /// The nominal batch size `p`.
    pub fn batch_size(&self) -> usize {
        self.p
    }

    /// The permutation; batch `b` is a contiguous piece of it.
    pub fn permutation(&self) -> &[u32] {
        &self.perm
    }

    /// The number of batches: `⌈n/p⌉`, less one when `n mod p = 1` and `n > 1`.
    pub fn len(&self) -> usize {
        let (n, p) = (self.n(), self.p);
        if n > 1 && n % p == 1 {
            n / p
        } else {
            n.div_ceil(p)
        }
    }

    /// Whether there are no batches (`n = 0`).
    pub fn is_empty(&self) -> bool {
        self.perm.is_empty()
    }

    /// The members of batch `b` (`None` if `b ≥ len()`).
    pub fn batch(&self, b: usize) -> Option<&[u32]> {
        let nb = self.len();
        if b >= nb {
            return None;
        }
        let hi = if b + 1 == nb { self.n() } else { (b + 1) * self.p };
        self.perm.get(b * self.p..hi)
    }

    /// The batches in order.
    pub fn iter(&self) -> impl Iterator<Item = &[u32]> + '_ {
        (0..self.len()).filter_map(move |b| self.batch(b))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::rng;
    use super::*;

    /// The batch sizes the module notes promise.
    fn documented_sizes(n: usize, p: usize) -> Vec<usize> {
        let mut sizes = vec![p; n / p];
        match n % p {
            0 => {}
            1 if n > 1 => *sizes.last_mut().unwrap() += 1,
            r => sizes.push(r),
        }
        sizes
    }

    #[test]
    fn batches_partition_the_particles() {
        let mut r = rng(1);
        for (n, p) in [
            (0, 2),
            (1, 2),
            (2, 2),
            (3, 2),
            (10, 3),
            (11, 3),
            (12, 3),
            (100, 7),
            (5, 9),
            (8, 7),
        ] {
            let b = random_batches(n, p, &mut r).unwrap();
            let sizes: Vec<usize> = b.iter().map(|c| c.len()).collect();
            assert_eq!(sizes, documented_sizes(n, p), "n = {n}, p = {p}");
            assert_eq!(b.len(), sizes.len());
            assert!(n < 2 || sizes.iter().all(|&s| s >= 2));
            // consecutive pieces of the permutation, covering every particle once
            let joined: Vec<u32> = b.iter().flatten().copied().collect();
            assert_eq!(joined, b.permutation());
            let mut sorted = joined;
            sorted.sort_unstable();
            assert_eq!(sorted, (0..n as u32).collect::<Vec<_>>());
            assert_eq!(b.batch(b.len()), None);
        }
        assert!(RandomBatches::new(10, 1).is_err());
        assert!(RandomBatches::new(10, 0).is_err());
    }

    #[test]
    fn draws_are_reproducible_and_fresh() {
        let a = random_batches(50, 5, &mut rng(2)).unwrap();
        let b = random_batches(50, 5, &mut rng(2)).unwrap();
        assert_eq!(a, b);
        let mut r = rng(3);
        let mut c = RandomBatches::new(50, 5).unwrap();
        c.redraw(&mut r);
        let first = c.clone();
        c.redraw(&mut r);
        assert_ne!(first, c);
        // a redraw depends on the stream alone, not on the previous permutation
        let mut d = first.clone();
        d.redraw(&mut rng(2));
        assert_eq!(d, a);
    }

    #[test]
    fn two_particles_share_a_batch_with_the_right_probability() {
        // sizes 3, 3, 4 of n = 10: P(0 and 1 together) = Σ s(s−1) / (n(n−1)) = 24/90
        let (n, p, draws) = (10, 3, 40_000);
        let q = 24.0 / 90.0;
        let mut r = rng(4);
        let mut b = RandomBatches::new(n, p).unwrap();
        let mut together = 0;
        let mut first_in_last = 0;
        for _ in 0..draws {
            b.redraw(&mut r);
            if b.iter().any(|c| c.contains(&0) && c.contains(&1)) {
                together += 1;
            }
            if b.batch(2).unwrap().contains(&0) {
                first_in_last += 1;
            }
        }
        let t = draws as f64;
        let z = (together as f64 - q * t) / (t * q * (1.0 - q)).sqrt();
        assert!(z.abs() < 4.5, "together {together}, z = {z:.2}");
        // particle 0 is in the 4-member batch with probability 4/10
        let z = (first_in_last as f64 - 0.4 * t) / (t * 0.4 * 0.6).sqrt();
        assert!(z.abs() < 4.5, "in last {first_in_last}, z = {z:.2}");
    }
}
