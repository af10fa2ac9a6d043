//! The radial distribution function g(r) of particles in a periodic box.
//!
//! Pair distances up to `r_max` are counted in `nbins` equal bins `[r_b, r_{b+1})` over any
//! number of snapshots, and g is the count divided by the ideal-gas expectation: for `N`
//! independent uniform points in a periodic box of volume `V`, each of the `N(N−1)/2` pairs has
//! its minimum-image distance in a shell with probability `shell volume / V` exactly, as long as
//! the shell lies inside the ball of radius `L_min/2` (which is why `r_max ≤ L_min/2` is
//! required). So g = 1 for an ideal gas at any `N`, not only as `N → ∞`.

use rayon::prelude::*;

use super::domain::Domain;
use super::grid::{Search, Strategy};
use super::NeighborError;

/// Particles per parallel histogram task (fixed; counts are exact integers in any order).
const CHUNK: usize = 1024;

/// Accumulates g(r) over snapshots of a periodic box in 1, 2 or 3 dimensions. Each snapshot
/// costs O(N + pairs within r_max) through the cell list.
#[derive(Debug)]
pub struct RadialDistribution {
    domain: Domain,
    r_max: f64,
    counts: Vec<u64>,
    /// Σ over snapshots of `N(N−1)/2 / V`: ideal pairs per unit shell volume.
    pair_density: f64,
    snapshots: u64,
    search: Search,
    partial: Vec<Vec<u64>>,
}

impl RadialDistribution {
    /// A histogram of `nbins` bins on `[0, r_max)` for a box that must be periodic in every
    /// dimension, of dimension 1 to 3, with `0 < r_max ≤ L_min/2`.
    pub fn new(domain: Domain, r_max: f64, nbins: usize) -> Result<Self, NeighborError> {
        if domain.dim() > 3 {
            return Err(NeighborError::TooManyDimensions {
                dim: domain.dim(),
                max: 3,
            });
        }
        if let Some(dim) = (0..domain.dim()).find(|&d| domain.period(d).is_none()) {
            return Err(NeighborError::NotPeriodic { dim });
        }
        if nbins == 0 {
            return Err(NeighborError::ZeroCount { what: "bins" });
        }
        domain.check_radius("r_max", r_max)?;
        Ok(Self {
            domain,
            r_max,
            counts: vec![0; nbins],
            pair_density: 0.0,
            snapshots: 0,
            search: Search::new(),
            partial: Vec::new(),
        })
    }

    /// Adds the pair distances of one snapshot `pos` (particle-major, unwrapped or not).
    pub fn add(&mut self, pos: &[f64]) -> Result<(), NeighborError> {
        let n = self.domain.particles(pos)?;
        let volume = self.domain.volume().unwrap_or(f64::INFINITY);
        let nbins = self.counts.len();
        let scale = nbins as f64 / self.r_max;
        self.search
            .prepare(&self.domain, pos, n, self.r_max, Strategy::Auto);
        let nchunks = n.div_ceil(CHUNK);
        if self.partial.len() < nchunks {
            self.partial.resize_with(nchunks, Vec::new);
        }
        let (search, domain) = (&self.search, &self.domain);
        let partial = self.partial.get_mut(..nchunks).unwrap_or_default();
        partial.par_iter_mut().enumerate().for_each(|(c, hist)| {
            hist.clear();
            hist.resize(nbins, 0);
            for i in c * CHUNK..((c + 1) * CHUNK).min(n) {
                search.visit(domain, pos, i, |_, d2| {
                    let b = (d2.sqrt() * scale).floor() as usize;
                    if let Some(h) = hist.get_mut(b) {
                        *h += 1;
                    }
                });
            }
        });
        for hist in self.partial.iter().take(nchunks) {
            for (total, h) in self.counts.iter_mut().zip(hist) {
                *total += h;
            }
        }
        let nf = n as f64;
        self.pair_density += 0.5 * nf * (nf - 1.0) / volume;
        self.snapshots += 1;
        Ok(())
    }

    /// The number of snapshots added.
    pub fn snapshots(&self) -> u64 {
        self.snapshots
    }

    /// The pair counts per bin, summed over snapshots.
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// The largest distance binned.
    pub fn r_max(&self) -> f64 {
        self.r_max
    }

    /// The bin edges `r_0 = 0, …, r_nbins = r_max`.
    pub fn edges(&self) -> Vec<f64> {
        let nbins = self.counts.len();
        (0..=nbins)
            .map(|b| self.r_max * b as f64 / nbins as f64)
            .collect()
    }

    /// The bin centres.
    pub fn centers(&self) -> Vec<f64> {
        let e = self.edges();
        e.iter()
            .zip(e.iter().skip(1))
            .map(|(a, b)| 0.5 * (a + b))
            .collect()
    }

    /// The expected count per bin for an ideal gas with the same particle numbers in the same
    /// snapshots (the denominator of g).
    pub fn ideal_counts(&self) -> Vec<f64> {
        let k = self.domain.dim() as i32;
        let ball = match k {
            1 => 2.0,
            2 => std::f64::consts::PI,
            _ => 4.0 / 3.0 * std::f64::consts::PI,
        };
        let e = self.edges();
        e.iter()
            .zip(e.iter().skip(1))
            .map(|(a, b)| self.pair_density * ball * (b.powi(k) - a.powi(k)))
            .collect()
    }

    /// g(r) per bin: counts over ideal counts. `None` until a snapshot with at least two
    /// particles has been added (there is nothing to normalise by).
    pub fn g(&self) -> Option<Vec<f64>> {
        if self.pair_density <= 0.0 {
            return None;
        }
        Some(
            self.counts
                .iter()
                .zip(self.ideal_counts())
                .map(|(&c, ideal)| c as f64 / ideal)
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{rng, uniform, unwrap_randomly};
    use super::super::Boundary;
    use super::*;

    /// Checks g = 1 for `snapshots` ideal-gas configurations of `n` points in a periodic box.
    ///
    /// For iid uniform points on a torus the pair indicators "distance in bin b" are pairwise
    /// independent (given one point, the other is uniform whatever the first), so a bin's count
    /// over S snapshots of M = N(N−1)/2 pairs has variance S·M·p(1−p) exactly, with p the
    /// shell volume over V. Every bin must lie within 4.5 standard errors, and so must the
    /// total over all bins.
    fn assert_ideal(seed: u64, lengths: &[f64], n: usize, snapshots: usize, r_max: f64, nbins: usize) {
        let domain = Domain::periodic(lengths).unwrap();
        let mut rdf = RadialDistribution::new(domain.clone(), r_max, nbins).unwrap();
        let mut r = rng(seed);
        let bounds: Vec<_> = lengths.iter().map(|&l| (0.0, l)).collect();
        for _ in 0..snapshots {
            let mut pos = uniform(&mut r, n, &bounds);
            unwrap_randomly(&mut r, &domain, &mut pos, 5);
            rdf.add(&pos).unwrap();
        }
        let m = (n * (n - 1) / 2) as f64;
        let s = snapshots as f64;
        let ideal = rdf.ideal_counts();
        let g = rdf.g().unwrap();
        let (mut total, mut total_ideal) = (0.0, 0.0);
        for (b, (&c, &e)) in rdf.counts().iter().zip(&ideal).enumerate() {
            let p = e / (s * m);
            let sd = (s * m * p * (1.0 - p)).sqrt();
            assert!(sd > 5.0, "bin {b}: too few counts to test ({e})");
            let z = (c as f64 - e) / sd;
            assert!(
                z.abs() < 4.5,
                "{lengths:?} bin {b}: count {c}, ideal {e:.1}, z = {z:.2}, g = {}",
                g[b]
            );
            total += c as f64;
            total_ideal += e;
        }
        // (in 1D with r_max = L/2 every pair is binned: p = 1, no variance, only rounding)
        let p = total_ideal / (s * m);
        let sd = (s * m * p * (1.0 - p)).max(0.0).sqrt();
        let err = (total - total_ideal).abs();
        assert!(
            err < 4.5 * sd + 1e-9 * total_ideal,
            "{lengths:?} total {total}, ideal {total_ideal}, sd {sd}"
        );
    }

    #[test]
    fn ideal_gas_has_g_equal_to_one() {
        assert_ideal(1, &[50.0], 400, 40, 25.0, 50);
        assert_ideal(2, &[12.0, 9.0], 600, 20, 4.5, 30);
        assert_ideal(3, &[10.0, 10.0, 10.0], 500, 20, 5.0, 25);
        // a smaller radius than half the box: several cells per dimension
        assert_ideal(4, &[14.0, 12.0, 10.0], 1500, 10, 2.5, 20);
    }

    #[test]
    fn counts_equal_brute_force_histograms() {
        let domain = Domain::periodic(&[9.0, 7.0, 6.0]).unwrap();
        let mut r = rng(5);
        let (r_max, nbins) = (2.2, 11);
        let mut rdf = RadialDistribution::new(domain.clone(), r_max, nbins).unwrap();
        let mut want = vec![0u64; nbins];
        for _ in 0..3 {
            let mut pos = uniform(&mut r, 700, &[(0.0, 9.0), (0.0, 7.0), (0.0, 6.0)]);
            unwrap_randomly(&mut r, &domain, &mut pos, 100);
            rdf.add(&pos).unwrap();
            for i in 0..700 {
                for j in i + 1..700 {
                    let d2 = domain.dist2(&pos, i, j).unwrap();
                    if d2 <= r_max * r_max {
                        let b = (d2.sqrt() * nbins as f64 / r_max).floor() as usize;
                        if b < nbins {
                            want[b] += 1;
                        }
                    }
                }
            }
        }
        assert_eq!(rdf.counts(), &want[..]);
        assert_eq!(rdf.snapshots(), 3);
        assert_eq!(rdf.edges().len(), nbins + 1);
        assert!((rdf.centers()[0] - 0.1).abs() < 1e-12);
    }

    #[test]
    fn ideal_counts_follow_the_shell_volumes() {
        // 2 particles in a 4 × 4 box: one pair per snapshot, density 1/16 per unit area
        let mut rdf = RadialDistribution::new(Domain::periodic(&[4.0, 4.0]).unwrap(), 2.0, 2).unwrap();
        assert_eq!(rdf.g(), None, "nothing to normalise by yet");
        rdf.add(&[0.0, 0.0, 0.5, 0.0]).unwrap();
        let pi = std::f64::consts::PI;
        let ideal = rdf.ideal_counts();
        assert!((ideal[0] - pi / 16.0).abs() < 1e-15);
        assert!((ideal[1] - 3.0 * pi / 16.0).abs() < 1e-15);
        assert_eq!(rdf.counts(), &[1, 0]);
        assert!((rdf.g().unwrap()[0] - 16.0 / pi).abs() < 1e-12);
    }

    #[test]
    fn unsupported_boxes_are_errors() {
        let open = Domain::new(vec![Boundary::Periodic(4.0), Boundary::Open]).unwrap();
        assert_eq!(
            RadialDistribution::new(open, 1.0, 10).unwrap_err(),
            NeighborError::NotPeriodic { dim: 1 }
        );
        let rect = Domain::periodic(&[10.0, 4.0]).unwrap();
        assert!(matches!(
            RadialDistribution::new(rect.clone(), 2.1, 10),
            Err(NeighborError::RadiusTooLarge { dim: 1, .. })
        ));
        assert!(RadialDistribution::new(rect.clone(), 2.0, 10).is_ok());
        assert!(RadialDistribution::new(rect, 1.0, 0).is_err());
        assert!(matches!(
            RadialDistribution::new(Domain::cube(4, 4.0).unwrap(), 1.0, 10),
            Err(NeighborError::TooManyDimensions { dim: 4, max: 3 })
        ));
    }
}
