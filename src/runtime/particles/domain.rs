//! The space particles live in: per dimension open or periodic, with minimum-image distances.

use super::NeighborError;

/// One dimension of a [`Domain`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Boundary {
    /// Unbounded: a displacement is the plain difference of coordinates.
    Open,
    /// Periodic with length `L`: coordinates are equivalent modulo `L`, displacements are taken
    /// by minimum image.
    Periodic(f64),
}

impl Boundary {
    /// The minimum-image form of a displacement `delta` along this dimension: `delta` itself
    /// when open, `delta − L·round(delta/L)` (ties to even, so the result lies in `[−L/2, L/2]`)
    /// when periodic.
    #[inline]
    pub fn min_image(self, delta: f64) -> f64 {
        match self {
            Boundary::Open => delta,
            // within half a box the rounding gives ±0 and the result is `delta` (with −0 made
            // +0, as the subtraction does): skip the division, the common case in a cell scan
            Boundary::Periodic(l) if delta.abs() <= 0.5 * l => delta + 0.0,
            Boundary::Periodic(l) => delta - l * round_ties_even(delta / l),
        }
    }

    /// `x` moved into `[0, L)` when periodic; `x` itself when open.
    #[inline]
    pub fn wrap(self, x: f64) -> f64 {
        match self {
            Boundary::Open => x,
            Boundary::Periodic(l) => wrap_into(x, l),
        }
    }
}

/// `x.round_ties_even()`, bit for bit, without a library call on targets lacking a rounding
/// instruction (x86-64 before SSE4.1, the default): adding and removing 1.5·2⁵² rounds any
/// `|x| < 2⁵¹` to an integer in the default ties-to-even mode; larger magnitudes are integers
/// or halves already and take the library path.
#[inline(always)]
fn round_ties_even(x: f64) -> f64 {
    const SHIFT: f64 = 6_755_399_441_055_744.0; // 1.5 · 2⁵²
    const LIMIT: f64 = 2_251_799_813_685_248.0; // 2⁵¹
    let a = x.abs();
    if a < LIMIT {
        ((a + SHIFT) - SHIFT).copysign(x)
    } else {
        x.round_ties_even()
    }
}

/// `x` modulo `l`, in `[0, l)` even where rounding would give `l` (a tiny negative `x`).
#[inline]
pub(super) fn wrap_into(x: f64, l: f64) -> f64 {
    let mut w = x - l * (x / l).floor();
    if w < 0.0 {
        w += l;
    }
    if w >= l {
        w -= l;
    }
    if (0.0..l).contains(&w) {
        w + 0.0
    } else {
        0.0
    }
}

/// The space of `k` dimensions, each open or periodic (a rectangular periodic box, open space,
/// or a mix such as a slab periodic in two dimensions).
#[derive(Debug, Clone, PartialEq)]
pub struct Domain {
    dims: Vec<Boundary>,
}

impl Domain {
    /// A domain with these boundaries, one per dimension. Fails on no dimensions or a periodic
    /// length that is not positive and finite.
    pub fn new(dims: Vec<Boundary>) -> Result<Self, NeighborError> {
        if dims.is_empty() {
            return Err(NeighborError::NoDimensions);
        }
        for (dim, b) in dims.iter().enumerate() {
            if let Boundary::Periodic(length) = *b {
                if !(length.is_finite() && length > 0.0) {
                    return Err(NeighborError::InvalidLength { dim, length });
                }
            }
        }
        Ok(Self { dims })
    }

    /// Open space in `k` dimensions.
    pub fn open(k: usize) -> Result<Self, NeighborError> {
        Self::new(vec![Boundary::Open; k])
    }

    /// A periodic rectangular box with these side lengths.
    pub fn periodic(lengths: &[f64]) -> Result<Self, NeighborError> {
        Self::new(lengths.iter().map(|&l| Boundary::Periodic(l)).collect())
    }

    /// A periodic cube of side `l` in `k` dimensions.
    pub fn cube(k: usize, l: f64) -> Result<Self, NeighborError> {
        Self::new(vec![Boundary::Periodic(l); k])
    }

    /// The number of dimensions `k`.
    pub fn dim(&self) -> usize {
        self.dims.len()
    }

    /// The boundaries, one per dimension.
    pub fn boundaries(&self) -> &[Boundary] {
        &self.dims
    }

    /// The periodic length of dimension `dim`, or `None` if it is open (or out of range).
    pub fn period(&self, dim: usize) -> Option<f64> {
        match self.dims.get(dim) {
            Some(Boundary::Periodic(l)) => Some(*l),
            _ => None,
        }
    }

    /// The volume of the box (the product of the periodic lengths), or `None` if any dimension
    /// is open.
    pub fn volume(&self) -> Option<f64> {
        (0..self.dim()).map(|d| self.period(d)).product()
    }

    /// The minimum-image form of displacement `delta` along dimension `dim` (see
    /// [`Boundary::min_image`]); a dimension out of range counts as open.
    #[inline]
    pub fn min_image(&self, delta: f64, dim: usize) -> f64 {
        self.dims.get(dim).map_or(delta, |b| b.min_image(delta))
    }

    /// Wraps every periodic coordinate of `pos` (particle-major) into `[0, L)`; open coordinates
    /// are left alone. Fails if `pos` does not hold whole particles.
    pub fn wrap(&self, pos: &mut [f64]) -> Result<(), NeighborError> {
        self.count(pos.len())?;
        for x in pos.chunks_exact_mut(self.dim()) {
            for (c, b) in x.iter_mut().zip(&self.dims) {
                *c = b.wrap(*c);
            }
        }
        Ok(())
    }

    /// The squared minimum-image distance between points `a` and `b` (each `k` coordinates;
    /// extra coordinates are ignored).
    #[inline]
    pub fn dist2_between(&self, a: &[f64], b: &[f64]) -> f64 {
        a.iter().zip(b).zip(&self.dims).fold(0.0, |acc, ((x, y), bd)| {
            let d = bd.min_image(y - x);
            acc + d * d
        })
    }

    /// The squared minimum-image distance between particles `i` and `j` of `pos`, or `None` if
    /// either index is out of range.
    #[inline]
    pub fn dist2(&self, pos: &[f64], i: usize, j: usize) -> Option<f64> {
        let k = self.dim();
        let a = pos.get(i.checked_mul(k)?..(i + 1).checked_mul(k)?)?;
        let b = pos.get(j.checked_mul(k)?..(j + 1).checked_mul(k)?)?;
        Some(self.dist2_between(a, b))
    }

    /// The number of particles in `pos`, after checking it holds whole particles with finite
    /// coordinates, few enough for `u32` indices.
    pub fn particles(&self, pos: &[f64]) -> Result<usize, NeighborError> {
        let n = self.count(pos.len())?;
        for (particle, x) in pos.chunks_exact(self.dim()).enumerate() {
            if let Some((coord, &value)) = x.iter().enumerate().find(|(_, v)| !v.is_finite()) {
                return Err(NeighborError::NonFinite {
                    particle,
                    coord,
                    value,
                });
            }
        }
        Ok(n)
    }

    /// `len / k` if `len` is a whole number of particles and that number fits in `u32`.
    fn count(&self, len: usize) -> Result<usize, NeighborError> {
        let dim = self.dim();
        if dim == 0 || !len.is_multiple_of(dim) {
            return Err(NeighborError::PositionsLength { len, dim });
        }
        let n = len / dim;
        if n > u32::MAX as usize {
            return Err(NeighborError::TooManyParticles { n });
        }
        Ok(n)
    }

    /// Checks a search radius: positive and finite, and at most half of every periodic length.
    pub(super) fn check_radius(&self, what: &'static str, radius: f64) -> Result<(), NeighborError> {
        if !(radius.is_finite() && radius > 0.0) {
            return Err(NeighborError::InvalidDistance {
                what,
                value: radius,
                need: "positive and finite",
            });
        }
        for (dim, b) in self.dims.iter().enumerate() {
            if let Boundary::Periodic(length) = *b {
                if radius > 0.5 * length {
                    return Err(NeighborError::RadiusTooLarge {
                        what,
                        radius,
                        dim,
                        length,
                    });
                }
            }
        }
        Ok(())
    }
}

/// [`Domain::dist2_between`] for `K` dimensions known at compile time: the same operations in
/// the same order, so the same bits.
#[inline(always)]
pub(super) fn dist2_fixed<const K: usize>(dims: &[Boundary; K], a: &[f64; K], b: &[f64; K]) -> f64 {
    a.iter().zip(b).zip(dims).fold(0.0, |acc, ((x, y), bd)| {
        let d = bd.min_image(y - x);
        acc + d * d
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_image_lies_in_half_box_and_is_periodic() {
        let b = Boundary::Periodic(2.0);
        for &(d, want) in &[
            (0.3, 0.3),
            (1.7, -0.3),
            (-1.7, 0.3),
            (4.3, 0.3),
            (-1e6 + 0.25, 0.25),
            // ties: round half to even, so ±L/2 stay as they are and 3L/2 maps to −L/2
            (1.0, 1.0),
            (-1.0, -1.0),
            (3.0, -1.0),
        ] {
            let got = b.min_image(d);
            assert!((got - want).abs() < 1e-9, "min_image({d}) = {got}, want {want}");
            assert!(got.abs() <= 1.0);
        }
        assert_eq!(Boundary::Open.min_image(5.5), 5.5);
    }

    #[test]
    fn fast_rounding_equals_round_ties_even() {
        let mut special = vec![0.0, -0.0, 0.5, -0.5, 1.5, 2.5, -2.5, 0.49999999999999994, 1e300];
        special.extend([
            f64::INFINITY,
            f64::NEG_INFINITY,
            2f64.powi(51) - 0.5,
            2f64.powi(51) + 0.5,
        ]);
        special.extend([2f64.powi(52) + 1.0, 4503599627370495.5, -4503599627370495.5]);
        let mut r = crate::runtime::rng::stream(7, 0);
        for _ in 0..100_000 {
            let x =
                crate::runtime::rng::normal(&mut r) * 10f64.powi(rand::RngExt::random_range(&mut r, -3..18));
            special.push(x);
            special.push(x.round() + 0.5);
        }
        for x in special {
            assert_eq!(
                round_ties_even(x).to_bits(),
                x.round_ties_even().to_bits(),
                "{x:e}"
            );
        }
        assert!(round_ties_even(f64::NAN).is_nan());
    }

    #[test]
    fn min_image_is_the_formula_bit_for_bit() {
        let mut r = crate::runtime::rng::stream(8, 0);
        for &l in &[1.0, 3.7, 1e-3, 250.0] {
            let b = Boundary::Periodic(l);
            let mut deltas = vec![0.0, -0.0, 0.5 * l, -0.5 * l, 1.5 * l, -2.5 * l, l, -l];
            for _ in 0..20_000 {
                let u = crate::runtime::rng::normal(&mut r);
                deltas.push(u * l);
                deltas.push(u * l * 1e4);
                deltas.push((u.round() + 0.5) * l);
            }
            for d in deltas {
                let want = d - l * (d / l).round_ties_even();
                assert_eq!(b.min_image(d).to_bits(), want.to_bits(), "L = {l}, d = {d:e}");
            }
        }
    }

    #[test]
    fn wrap_lands_in_the_box() {
        let d = Domain::new(vec![Boundary::Periodic(3.0), Boundary::Open]).unwrap();
        let mut pos = vec![-0.5, -7.0, 3.0, 8.0, 7.25, 0.0, -1e-300, 1.0, -3.0, 2.0];
        d.wrap(&mut pos).unwrap();
        assert_eq!(pos, vec![2.5, -7.0, 0.0, 8.0, 1.25, 0.0, 0.0, 1.0, 0.0, 2.0]);
        // a tiny negative coordinate rounds to L itself, which must become 0
        assert_eq!(wrap_into(-1e-17, 3.0), 0.0);
        assert!(d.wrap(&mut [1.0, 2.0, 3.0]).is_err());
    }

    #[test]
    fn distances_use_the_minimum_image() {
        let d = Domain::periodic(&[10.0, 4.0]).unwrap();
        let pos = [0.5, 0.5, 9.5, 3.5, 100.5, -39.5];
        assert!((d.dist2(&pos, 0, 1).unwrap() - 2.0).abs() < 1e-12);
        // particle 2 is particle 0 shifted by (10, −10) box lengths
        assert!(d.dist2(&pos, 0, 2).unwrap() < 1e-20);
        assert_eq!(d.dist2(&pos, 0, 3), None);
        assert_eq!(d.volume(), Some(40.0));
        assert_eq!(Domain::open(2).unwrap().volume(), None);
    }

    #[test]
    fn bad_domains_and_positions_are_errors() {
        assert_eq!(Domain::new(vec![]), Err(NeighborError::NoDimensions));
        assert!(matches!(
            Domain::periodic(&[1.0, 0.0]),
            Err(NeighborError::InvalidLength { dim: 1, .. })
        ));
        assert!(Domain::cube(2, f64::NAN).is_err());
        let d = Domain::cube(2, 5.0).unwrap();
        assert_eq!(
            d.particles(&[1.0, 2.0, 3.0]),
            Err(NeighborError::PositionsLength { len: 3, dim: 2 })
        );
        assert!(matches!(
            d.particles(&[1.0, 2.0, 3.0, f64::INFINITY]),
            Err(NeighborError::NonFinite {
                particle: 1,
                coord: 1,
                ..
            })
        ));
        assert_eq!(d.particles(&[1.0, 2.0, 3.0, 4.0]), Ok(2));
        assert!(d.check_radius("cutoff", 2.5).is_ok());
        assert!(matches!(
            d.check_radius("cutoff", 2.6),
            Err(NeighborError::RadiusTooLarge { dim: 0, .. })
        ));
        assert!(d.check_radius("cutoff", 0.0).is_err());
    }
}
