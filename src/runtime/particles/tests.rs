//! Pair lists and Verlet lists against brute-force pair sets.

use std::collections::BTreeSet;

use super::grid::Strategy;
use super::testutil::{brute, checked_pairs, rng, uniform, unwrap_randomly};
use super::*;

/// Builds with every strategy and checks each against the brute-force set; returns the cells
/// per dimension of the cell build.
fn assert_matches_brute(domain: &Domain, pos: &[f64], r: f64) -> Vec<usize> {
    let n = pos.len() / domain.dim();
    let want = brute(domain, pos, r);
    let mut builder = ListBuilder::new();
    let mut cells = Vec::new();
    for how in [Strategy::Auto, Strategy::Cells, Strategy::Direct] {
        let mut list = PairList::new();
        builder.build_with(domain, pos, r, &mut list, how).unwrap();
        let got = checked_pairs(&list, n);
        if got != want {
            let missing: Vec<_> = want.difference(&got).take(5).collect();
            let extra: Vec<_> = got.difference(&want).take(5).collect();
            panic!("{how:?} in {domain:?}, r = {r}: missing {missing:?}, extra {extra:?}");
        }
        if how == Strategy::Cells {
            cells = builder.cells_per_dim();
        }
    }
    cells
}

/// A random configuration in `domain` (periodic: in the box, then shifted by up to `m` box
/// lengths; open: uniform in `open_bounds`).
fn config(seed: u64, domain: &Domain, n: usize, open_bounds: (f64, f64), m: i64) -> Vec<f64> {
    let mut r = rng(seed);
    let bounds: Vec<_> = (0..domain.dim())
        .map(|d| domain.period(d).map_or(open_bounds, |l| (0.0, l)))
        .collect();
    let mut pos = uniform(&mut r, n, &bounds);
    unwrap_randomly(&mut r, domain, &mut pos, m);
    pos
}

#[test]
fn periodic_lists_match_brute_force_in_1_to_4_dimensions() {
    let cases: &[(&[f64], f64, usize)] = &[
        (&[10.0], 1.3, 300),
        (&[10.0], 5.0, 80),
        (&[10.0], 4.0, 80),
        (&[10.0], 3.3, 80),
        (&[8.0, 8.0], 1.1, 600),
        (&[10.0, 2.6], 1.3, 400),
        (&[6.0, 6.0, 6.0], 1.2, 1500),
        (&[7.0, 4.0, 2.5], 1.2, 700),
        (&[4.0, 4.0, 4.0, 4.0], 1.1, 300),
        (&[5.0, 3.0, 4.0, 2.4], 1.2, 200),
    ];
    for (c, &(lengths, r, n)) in cases.iter().enumerate() {
        let domain = Domain::periodic(lengths).unwrap();
        for m in [0, 1000] {
            let pos = config(c as u64, &domain, n, (0.0, 1.0), m);
            assert_matches_brute(&domain, &pos, r);
        }
    }
}

#[test]
fn one_two_and_three_cells_along_a_dimension() {
    // cells are at least r wide: L = 2r gives one cell, 2.5r and 3r two, 3.5r three
    let domain = Domain::periodic(&[2.0, 2.5, 3.5]).unwrap();
    let pos = config(20, &domain, 60, (0.0, 1.0), 3);
    assert_eq!(assert_matches_brute(&domain, &pos, 1.0), vec![1, 2, 3]);
    let domain = Domain::periodic(&[3.0, 2.0]).unwrap();
    let pos = config(21, &domain, 50, (0.0, 1.0), 3);
    assert_eq!(assert_matches_brute(&domain, &pos, 1.0), vec![2, 1, 1]);
    // one and three cells without a two-cell axis: the forward scan, minimum images
    // along the one- and three-cell axes, shifted cells along the five-cell one
    let domain = Domain::periodic(&[3.5, 2.0, 6.0]).unwrap();
    let pos = config(23, &domain, 120, (0.0, 1.0), 3);
    assert_eq!(assert_matches_brute(&domain, &pos, 1.0), vec![3, 1, 5]);
    // a 2-cell dimension with a 1-cell one, 1D
    let domain = Domain::periodic(&[2.5]).unwrap();
    let pos = config(22, &domain, 40, (0.0, 1.0), 2);
    assert_eq!(assert_matches_brute(&domain, &pos, 1.0), vec![2, 1, 1]);
}

#[test]
fn open_and_mixed_domains_match_brute_force() {
    for (c, k) in [1usize, 2, 3, 4].into_iter().enumerate() {
        let domain = Domain::open(k).unwrap();
        let pos = config(30 + c as u64, &domain, 400, (-6.0, 9.0), 0);
        assert_matches_brute(&domain, &pos, 1.4);
    }
    // periodic x and z, open y
    let domain = Domain::new(vec![
        Boundary::Periodic(6.0),
        Boundary::Open,
        Boundary::Periodic(3.0),
    ])
    .unwrap();
    let pos = config(40, &domain, 500, (-3.0, 4.0), 50);
    assert_matches_brute(&domain, &pos, 1.0);
}

#[test]
fn spread_out_open_particles_cap_the_cell_count() {
    // a dense cluster and a few particles far away: the bounding box is huge, the grid is not
    let domain = Domain::open(3).unwrap();
    let mut pos = config(50, &domain, 300, (0.0, 4.0), 0);
    pos.extend_from_slice(&[1e4, 0.0, 0.0, 1e4 + 0.5, 0.0, 0.0, -2e4, 3e4, 1e4]);
    let cells = assert_matches_brute(&domain, &pos, 0.9);
    assert!(cells.iter().product::<usize>() <= 2 * 303 + 27, "cells {cells:?}");
}

#[test]
fn lattices_on_cell_borders_have_the_exact_pair_counts() {
    // integer lattice in a periodic box of side 4: each site has 6 sites at distance exactly 1,
    // and 29 within distance 2 = L/2: 26 with components in {0, ±1}, plus (2, 0, 0), (0, 2, 0)
    // and (0, 0, 2) (+2 and −2 are the same site)
    let domain = Domain::cube(3, 4.0).unwrap();
    let mut r = rng(60);
    let mut pos = Vec::new();
    for x in 0..4 {
        for y in 0..4 {
            for z in 0..4 {
                pos.extend([x, y, z].map(|c| c as f64));
            }
        }
    }
    // the same sites written as unwrapped images (exact in floating point)
    unwrap_randomly(&mut r, &domain, &mut pos, 100);
    for (radius, per_site) in [(1.0, 6), (2.0, 29)] {
        let list = PairList::build(&domain, &pos, radius).unwrap();
        assert_eq!(list.len(), 64 * per_site / 2, "r = {radius}");
        assert_matches_brute(&domain, &pos, radius);
    }
}

#[test]
fn particles_on_and_next_to_cell_borders() {
    // r = 1 in a 6 × 5 box gives 5 × 4 cells of widths 1.2 and 1.25: put particles on every
    // half-cell mark and one ulp either side of it
    let domain = Domain::periodic(&[6.0, 5.0]).unwrap();
    let mut pos = Vec::new();
    for a in 0..=10 {
        for b in 0..=8 {
            let (x, y) = (0.6 * a as f64, 0.625 * b as f64);
            for (dx, dy) in [(0.0, 0.0), (1.0, -1.0), (-1.0, 1.0)] {
                pos.push(x + dx * f64::EPSILON * x.max(1.0));
                pos.push(y + dy * f64::EPSILON * y.max(1.0));
            }
        }
    }
    let mut wrapped = pos.clone();
    domain.wrap(&mut wrapped).unwrap();
    assert_eq!(assert_matches_brute(&domain, &pos, 1.0), vec![5, 4, 1]);
    assert_matches_brute(&domain, &wrapped, 1.0);
}

#[test]
fn lists_do_not_depend_on_the_thread_count() {
    let domain = Domain::periodic(&[9.0, 8.0, 7.0]).unwrap();
    let pos = config(70, &domain, 3000, (0.0, 1.0), 10);
    let build = |threads| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| PairList::build(&domain, &pos, 1.3).unwrap())
    };
    let one = build(1);
    assert!(one.len() > 10_000);
    assert_eq!(one, build(4));
    assert_eq!(one, build(3));
}

#[test]
fn small_and_degenerate_inputs() {
    let domain = Domain::cube(2, 5.0).unwrap();
    let list = PairList::build(&domain, &[], 1.0).unwrap();
    assert_eq!((list.n(), list.len(), list.start()), (0, 0, &[0u32][..]));
    let list = PairList::build(&domain, &[1.0, 1.0], 1.0).unwrap();
    assert_eq!((list.n(), list.len()), (1, 0));
    // all particles at one point
    let pos = vec![2.0; 2 * 40];
    let list = PairList::build(&domain, &pos, 1.0).unwrap();
    assert_eq!(list.len(), 40 * 39 / 2);
}

#[test]
fn bad_inputs_are_errors() {
    let domain = Domain::cube(2, 5.0).unwrap();
    let mut list = PairList::build(&domain, &[0.0, 0.0, 1.0, 0.0], 2.0).unwrap();
    assert_eq!(list.len(), 1);
    let mut b = ListBuilder::new();
    assert!(matches!(
        b.build(&domain, &[0.0, 0.0], 2.6, &mut list),
        Err(NeighborError::RadiusTooLarge { dim: 0, .. })
    ));
    assert_eq!(list.len(), 0, "a failed build leaves an empty list");
    assert!(matches!(
        b.build(&domain, &[0.0, f64::NAN], 1.0, &mut list),
        Err(NeighborError::NonFinite {
            particle: 0,
            coord: 1,
            ..
        })
    ));
    assert!(matches!(
        b.build(&domain, &[0.0, 1.0, 2.0], 1.0, &mut list),
        Err(NeighborError::PositionsLength { len: 3, dim: 2 })
    ));
    for r in [0.0, -1.0, f64::INFINITY, f64::NAN] {
        assert!(matches!(
            b.build(&domain, &[0.0, 1.0], r, &mut list),
            Err(NeighborError::InvalidDistance { .. })
        ));
    }
    let msg = b
        .build(&domain, &[0.0, 0.0], 2.6, &mut list)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("2.6") && msg.contains("dimension 1"), "{msg}");
}

/// The pairs of `list` whose distance is within `cutoff`.
fn within(domain: &Domain, pos: &[f64], list: &PairList, cutoff: f64) -> BTreeSet<(u32, u32)> {
    list.pairs()
        .filter(|&(i, j)| domain.dist2(pos, i as usize, j as usize).unwrap() <= cutoff * cutoff)
        .collect()
}

#[test]
fn verlet_rebuilds_exactly_past_half_the_skin() {
    let domain = Domain::cube(3, 10.0).unwrap();
    let mut pos = config(80, &domain, 400, (0.0, 1.0), 0);
    let mut v = VerletList::new(domain.clone(), 1.5, 0.4).unwrap();
    assert!(v.update(&pos).unwrap(), "first update builds");
    assert!(!v.update(&pos).unwrap());
    pos[7 * 3] += 0.19;
    assert!(!v.update(&pos).unwrap(), "0.19 < skin/2");
    pos[7 * 3] += 0.02;
    assert!(v.update(&pos).unwrap(), "0.21 > skin/2");
    assert_eq!(v.builds(), 2);
    // across the periodic boundary, as a wrapped or an unwrapped coordinate: a move of 0.1
    pos[0] = 9.95;
    v.rebuild(&pos).unwrap();
    pos[0] = 0.05;
    assert!(!v.update(&pos).unwrap());
    pos[0] = 10.05;
    assert!(!v.update(&pos).unwrap());
    pos[0] = -9.95; // the same point as 0.05, two boxes away from the reference
    assert!(!v.update(&pos).unwrap());
    // the displacement is Euclidean: 0.15 in two coordinates is 0.212 > 0.2
    pos[3 * 5] += 0.15;
    pos[3 * 5 + 1] -= 0.15;
    assert!(v.update(&pos).unwrap());
    assert_eq!(v.builds(), 4);
}

#[test]
fn verlet_list_always_holds_every_pair_within_the_cutoff() {
    let domain = Domain::periodic(&[12.0, 9.0]).unwrap();
    let (cutoff, skin) = (1.0, 0.3);
    let mut r = rng(90);
    let mut pos = config(91, &domain, 500, (0.0, 1.0), 3);
    let mut v = VerletList::new(domain.clone(), cutoff, skin).unwrap();
    let mut reference = pos.clone();
    v.update(&pos).unwrap();
    let steps = 200;
    for _ in 0..steps {
        for x in pos.iter_mut() {
            *x += 0.01 * crate::runtime::rng::normal(&mut r);
        }
        let max_move2 = reference
            .chunks(2)
            .zip(pos.chunks(2))
            .map(|(a, b)| domain.dist2_between(a, b))
            .fold(0.0, f64::max);
        let expect = max_move2 > (skin / 2.0) * (skin / 2.0);
        assert_eq!(v.update(&pos).unwrap(), expect);
        if expect {
            reference.clone_from(&pos);
        }
        let want = brute(&domain, &pos, cutoff);
        assert_eq!(within(&domain, &pos, v.list(), cutoff), want);
    }
    assert!(v.builds() > 5 && v.builds() < steps / 2, "builds {}", v.builds());
}

#[test]
fn zero_skin_rebuilds_every_call() {
    let domain = Domain::open(2).unwrap();
    let pos = config(100, &domain, 200, (0.0, 6.0), 0);
    let mut v = VerletList::new(domain.clone(), 0.8, 0.0).unwrap();
    for call in 1..=3 {
        assert!(v.update(&pos).unwrap());
        assert_eq!(v.builds(), call);
    }
    assert_eq!(
        v.list().pairs().collect::<BTreeSet<_>>(),
        brute(&domain, &pos, 0.8)
    );
}

#[test]
fn verlet_errors_and_recovery() {
    let domain = Domain::cube(2, 4.0).unwrap();
    assert!(matches!(
        VerletList::new(domain.clone(), 1.8, 0.3),
        Err(NeighborError::RadiusTooLarge { .. })
    ));
    assert!(VerletList::new(domain.clone(), 0.0, 0.3).is_err());
    assert!(VerletList::new(domain.clone(), 1.0, -0.1).is_err());
    let mut v = VerletList::new(domain, 1.0, 0.2).unwrap();
    let mut pos = vec![0.5, 0.5, 1.0, 1.0];
    assert!(v.update(&pos).unwrap());
    pos[1] = f64::NAN;
    assert!(matches!(v.update(&pos), Err(NeighborError::NonFinite { .. })));
    pos[1] = 0.5;
    assert!(v.update(&pos).unwrap(), "rebuilds after a failed build");
    assert_eq!(v.list().len(), 1);
    // a changed particle count rebuilds
    pos.extend([3.0, 3.0]);
    assert!(v.update(&pos).unwrap());
    assert_eq!(v.list().n(), 3);
}

#[test]
fn all_pairs_and_cutoff_lists_loop_the_same_way() {
    let domain = Domain::open(3).unwrap();
    let pos = config(110, &domain, 120, (0.0, 3.0), 0);
    let n = 120;
    // a cutoff longer than any distance: the list holds all pairs, in the same order
    let mut lists = [
        NeighborList::all(n, 3).unwrap(),
        NeighborList::cutoff(domain.clone(), 100.0, 0.5).unwrap(),
    ];
    let sums: Vec<f64> = lists
        .iter_mut()
        .map(|l| {
            l.update(&pos).unwrap();
            let p = l.pairs();
            assert_eq!((p.n(), p.count()), (n, (n * (n - 1) / 2) as u64));
            (0..p.n())
                .flat_map(|i| p.neighbors(i).map(move |j| (i, j as usize)))
                .map(|(i, j)| 1.0 / domain.dist2(&pos, i, j).unwrap().sqrt())
                .sum()
        })
        .collect();
    assert_eq!(sums[0].to_bits(), sums[1].to_bits());
    assert!(matches!(
        lists[0].update(&pos[..9]),
        Err(NeighborError::LengthMismatch { .. })
    ));
    let p = lists[0].pairs();
    assert_eq!(p.neighbors(n - 1).count(), 0);
    assert_eq!(p.neighbors(n + 5).count(), 0);
    assert_eq!(p.neighbors(3).len(), n - 4);
}
