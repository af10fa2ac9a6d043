//! Reproducible parallel pair sums: a fixed number of blocks, each summed into its own buffer,
//! buffers and energies added in block order.
//!
//! Floating-point addition is not associative, so a force sum split across threads in an order
//! that depends on scheduling differs in the last bits from run to run. Here each block's sum is
//! one sequential call, and the reduction order is the block order, so the result depends on
//! the blocks (fixed by the caller) and nothing else.

use rayon::prelude::*;

use super::NeighborError;

/// Components per task when the block buffers are reduced (any fixed size gives the same sums:
/// each component is always reduced in block order).
const REDUCE_CHUNK: usize = 4096;

/// Runs a per-block closure over a fixed number of blocks in parallel, each into its own
/// preallocated buffer, then reduces in block order. No allocation per call.
#[derive(Debug, Clone)]
pub struct BlockRunner {
    len: usize,
    buffers: Vec<Vec<f64>>,
    energies: Vec<f64>,
}

impl BlockRunner {
    /// A runner for `nblocks` blocks writing outputs of `len` components (typically `n·k`
    /// force components).
    pub fn new(nblocks: usize, len: usize) -> Result<Self, NeighborError> {
        if nblocks == 0 {
            return Err(NeighborError::ZeroCount { what: "blocks" });
        }
        Ok(Self {
            len,
            buffers: vec![vec![0.0; len]; nblocks],
            energies: vec![0.0; nblocks],
        })
    }

    /// The number of blocks.
    pub fn nblocks(&self) -> usize {
        self.buffers.len()
    }

    /// The output length.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the output length is 0.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Calls `f(b, lo, hi, buffer_b)` for every block `b` with range `blocks[b] = (lo, hi)`, in
    /// parallel, each with its own buffer zeroed beforehand; then sets
    /// `out[c] = buffer_0[c] + buffer_1[c] + …` (left to right, `out` is overwritten) and
    /// returns `e_0 + e_1 + …` (left to right from 0), where `e_b` is what `f` returned for
    /// block `b`. Bitwise the same whatever the thread count, if `f` is deterministic.
    /// Fails if `blocks` does not have [`nblocks`](Self::nblocks) entries or `out` does not
    /// have [`len`](Self::len) components.
    pub fn run<F>(&mut self, blocks: &[(u32, u32)], out: &mut [f64], f: F) -> Result<f64, NeighborError>
    where
        F: Fn(usize, u32, u32, &mut [f64]) -> f64 + Sync,
    {
        if blocks.len() != self.nblocks() {
            return Err(NeighborError::LengthMismatch {
                what: "blocks",
                expected: self.nblocks(),
                found: blocks.len(),
            });
        }
        if out.len() != self.len {
            return Err(NeighborError::LengthMismatch {
                what: "output",
                expected: self.len,
                found: out.len(),
            });
        }
        self.buffers
            .par_iter_mut()
            .zip(self.energies.par_iter_mut())
            .zip(blocks.par_iter())
            .enumerate()
            .for_each(|(b, ((buf, e), &(lo, hi)))| {
                buf.fill(0.0);
                *e = f(b, lo, hi, buf);
            });
        let buffers = &self.buffers;
        out.par_chunks_mut(REDUCE_CHUNK)
            .enumerate()
            .for_each(|(c, chunk)| {
                let range = c * REDUCE_CHUNK..c * REDUCE_CHUNK + chunk.len();
                let mut bufs = buffers.iter().filter_map(|b| b.get(range.clone()));
                if let Some(first) = bufs.next() {
                    chunk.copy_from_slice(first);
                }
                for src in bufs {
                    for (o, s) in chunk.iter_mut().zip(src) {
                        *o += s;
                    }
                }
            });
        Ok(self.energies.iter().fold(0.0, |acc, e| acc + e))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{rng, uniform};
    use super::super::{Domain, PairList, Pairs};
    use super::*;

    /// Checks that `blocks` are `nblocks` contiguous ranges covering `0..n` and that each
    /// block's work (pairs plus rows) is at most `total/nblocks + 1 + max row work`.
    fn assert_balanced(pairs: Pairs<'_>, nblocks: usize) {
        let blocks = pairs.blocks(nblocks);
        let n = pairs.n();
        assert_eq!(blocks.len(), nblocks.max(1));
        assert_eq!(blocks.first().unwrap().0, 0);
        assert_eq!(blocks.last().unwrap().1 as usize, n);
        assert!(blocks.windows(2).all(|w| w[0].1 == w[1].0 && w[0].0 <= w[0].1));
        let row = |i: usize| pairs.neighbors(i).len() as u64 + 1;
        let total: u64 = (0..n).map(row).sum();
        assert_eq!(total, pairs.count() + n as u64);
        let max_row = (0..n).map(row).max().unwrap_or(0);
        let bound = total / nblocks.max(1) as u64 + 1 + max_row;
        for &(lo, hi) in &blocks {
            let work: u64 = (lo as usize..hi as usize).map(row).sum();
            assert!(work <= bound, "block {lo}..{hi}: work {work} > {bound}");
        }
    }

    fn lj_config(seed: u64, n: usize, l: f64) -> (Domain, Vec<f64>) {
        let domain = Domain::cube(3, l).unwrap();
        let pos = uniform(&mut rng(seed), n, &[(0.0, l); 3]);
        (domain, pos)
    }

    #[test]
    fn blocks_cover_the_rows_and_balance_the_work() {
        let (domain, pos) = lj_config(1, 4000, 16.0);
        let list = PairList::build(&domain, &pos, 2.0).unwrap();
        assert!(list.len() > 50_000);
        for nblocks in [0, 1, 2, 7, 16, 64] {
            assert_balanced(Pairs::List(&list), nblocks);
            assert_balanced(Pairs::All { n: 4000 }, nblocks);
        }
        // every block is within a few rows of the mean when rows are short
        let blocks = list.blocks(8);
        let mean = (list.len() + 4000) as f64 / 8.0;
        for &(lo, hi) in &blocks {
            let work = (list.start()[hi as usize] - list.start()[lo as usize]) as f64 + (hi - lo) as f64;
            assert!(
                (work - mean).abs() < 0.01 * mean,
                "block {lo}..{hi}: {work} vs {mean}"
            );
        }
        // more blocks than rows: empty blocks, still a cover
        let small = PairList::build(&domain, &pos[..15], 2.0).unwrap();
        assert_balanced(Pairs::List(&small), 40);
        assert_balanced(Pairs::All { n: 3 }, 10);
        assert_balanced(Pairs::All { n: 0 }, 4);
        assert_eq!(PairList::new().blocks(3), vec![(0, 0); 3]);
    }

    /// Lennard-Jones (ε = σ = 1) forces of block rows `lo..hi` into `f`; returns the energy.
    fn lj_block(
        domain: &Domain,
        pos: &[f64],
        list: &PairList,
        cutoff: f64,
        lo: u32,
        hi: u32,
        f: &mut [f64],
    ) -> f64 {
        let mut e = 0.0;
        for i in lo as usize..hi as usize {
            for &j in list.neighbors(i) {
                let j = j as usize;
                let d: Vec<f64> = (0..3)
                    .map(|c| domain.min_image(pos[j * 3 + c] - pos[i * 3 + c], c))
                    .collect();
                let r2: f64 = d.iter().map(|x| x * x).sum();
                if r2 > cutoff * cutoff {
                    continue;
                }
                let s6 = 1.0 / (r2 * r2 * r2);
                e += 4.0 * (s6 * s6 - s6);
                // force on j along d: 24 (2 s¹² − s⁶) / r²
                let w = 24.0 * (2.0 * s6 * s6 - s6) / r2;
                for c in 0..3 {
                    f[j * 3 + c] += w * d[c];
                    f[i * 3 + c] -= w * d[c];
                }
            }
        }
        e
    }

    #[test]
    fn block_runner_is_bitwise_identical_across_thread_counts() {
        let (n, cutoff) = (3000, 2.5);
        let (domain, pos) = lj_config(2, n, 15.5);
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let list = PairList::build(&domain, &pos, cutoff + 0.3).unwrap();
                let blocks = list.blocks(7);
                let mut runner = BlockRunner::new(7, 3 * n).unwrap();
                let mut out = vec![f64::NAN; 3 * n];
                let mut energies = Vec::new();
                // twice, to check that buffers are reset between calls
                for _ in 0..2 {
                    let e = runner
                        .run(&blocks, &mut out, |_, lo, hi, buf| {
                            lj_block(&domain, &pos, &list, cutoff, lo, hi, buf)
                        })
                        .unwrap();
                    energies.push(e);
                }
                assert_eq!(energies[0].to_bits(), energies[1].to_bits());
                (list, blocks, out, energies[0])
            })
        };
        let (list, blocks, f1, e1) = run(1);
        let (_, _, f4, e4) = run(4);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(e1.to_bits(), e4.to_bits());
        assert_eq!(bits(&f1), bits(&f4));
        // the documented reduction, done by hand: block buffers summed in block order
        let mut want = vec![0.0; 3 * n];
        let mut want_e = 0.0;
        for (b, &(lo, hi)) in blocks.iter().enumerate() {
            let mut buf = vec![0.0; 3 * n];
            want_e += lj_block(&domain, &pos, &list, cutoff, lo, hi, &mut buf);
            for (w, x) in want.iter_mut().zip(&buf) {
                *w = if b == 0 { *x } else { *w + x };
            }
        }
        assert_eq!(e1.to_bits(), want_e.to_bits());
        assert_eq!(bits(&f1), bits(&want));
        // and the forces are right: one pass over all pairs, and Newton's third law
        let mut direct = vec![0.0; 3 * n];
        let e_direct = lj_block(&domain, &pos, &list, cutoff, 0, n as u32, &mut direct);
        assert!((e1 - e_direct).abs() <= 1e-9 * e_direct.abs().max(1.0));
        let scale = direct.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        assert!(f1.iter().zip(&direct).all(|(a, b)| (a - b).abs() <= 1e-9 * scale));
        for c in 0..3 {
            let total: f64 = f1.iter().skip(c).step_by(3).sum();
            assert!(total.abs() <= 1e-8 * scale, "net force {total}");
        }
    }

    #[test]
    fn block_runner_checks_its_inputs() {
        assert!(matches!(
            BlockRunner::new(0, 4),
            Err(NeighborError::ZeroCount { .. })
        ));
        let mut r = BlockRunner::new(2, 4).unwrap();
        let mut out = [0.0; 4];
        let f = |b: usize, _: u32, _: u32, buf: &mut [f64]| {
            buf[b] = 1.0;
            b as f64
        };
        assert!(matches!(
            r.run(&[(0, 1)], &mut out, f),
            Err(NeighborError::LengthMismatch { what: "blocks", .. })
        ));
        assert!(matches!(
            r.run(&[(0, 1), (1, 2)], &mut out[..3], f),
            Err(NeighborError::LengthMismatch { what: "output", .. })
        ));
        assert_eq!(r.run(&[(0, 1), (1, 2)], &mut out, f), Ok(1.0));
        assert_eq!(out, [1.0, 1.0, 0.0, 0.0]);
        let mut empty = BlockRunner::new(3, 0).unwrap();
        assert_eq!(empty.run(&[(0, 0); 3], &mut [], |b, _, _, _| b as f64), Ok(3.0));
    }
}
