//! Interacting particles: neighbour search, pair lists, deterministic parallel pair sums,
//! radial distribution functions and random batches.
//!
//! Vocabulary:
//! - *positions*: one flat `&[f64]`, particle-major: particle `i`'s coordinate `d` is
//!   `pos[i * k + d]`, for `n` particles in `k` dimensions. Particle indices are `u32`.
//! - *domain* ([`Domain`]): per dimension either open or periodic with a length `L`. Periodic
//!   coordinates may be unwrapped (any real number); distances use the minimum image
//!   `d − L·round(d/L)` (ties to even), so they never depend on how far a particle has drifted.
//! - *cutoff*, *skin*, *list radius*: pairs closer than the cutoff interact; a list is built
//!   with radius `r_list = cutoff + skin` so it stays valid while no particle has moved more
//!   than `skin/2` ([`VerletList`]). Minimum image needs `r_list ≤ L/2` in every periodic
//!   dimension; a larger radius is an error ([`NeighborError::RadiusTooLarge`]).
//! - *half list* ([`PairList`]): every unordered pair once, as `j > i` in the row of `i`, in
//!   compressed rows (CSR): the partners of `i` are `idx[start[i]..start[i+1]]`, ascending.
//! - *pair set* ([`Pairs`]): either a list or "all pairs" (mean-field terms with no cutoff,
//!   nothing stored), so one loop `for i { for j in pairs.neighbors(i) { … } }` serves both;
//!   [`NeighborList`] is its owned, updatable form.
//! - *block*: a contiguous range of rows `lo..hi` ([`Pairs::blocks`]); a fixed number of
//!   blocks, each summed into its own buffer by [`BlockRunner`], makes parallel force sums
//!   reproducible.
//!
//! Determinism: a list's content is a function of the positions, the domain and the radius
//! alone — rows are sorted, and the rows of fixed chunks of particles are built in parallel and
//! concatenated in particle order — so it is the same whatever the thread count or timing.
//! [`BlockRunner`] sums block buffers and block energies in block order, so its results are
//! bitwise identical whatever `RAYON_NUM_THREADS` is, provided the number of blocks is fixed by
//! the caller (never derived from the thread count). Histograms ([`RadialDistribution`]) are
//! integer counts, exact in any order. Random batches are a function of the random stream.
//!
//! Complexity: for `k ≤ 3` a list build bins particles into cells at least `r_list` wide and
//! scans the 3^k cells around each particle: O(n + pairs) time at bounded density, O(n + pairs)
//! memory (the number of cells is capped at about 2n, so sparse or spread-out particles cost no
//! more). For `k > 3`, or fewer than a few dozen particles, the build is a direct O(n²) scan.
//! A Verlet update that does not rebuild costs O(n·k).

mod batches;
mod blocks;
mod domain;
mod grid;
mod pairs;
mod rdf;
mod verlet;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod testutil;

use std::fmt;

pub use batches::{random_batches, RandomBatches};
pub use blocks::BlockRunner;
pub use domain::{Boundary, Domain};
pub use pairs::{ListBuilder, NeighborIter, PairList, Pairs};
pub use rdf::RadialDistribution;
pub use verlet::{NeighborList, VerletList};

/// Why a neighbour structure could not be built or used. Dimensions and particles are stored
/// 0-based; messages print them 1-based.
#[derive(Debug, Clone, PartialEq)]
pub enum NeighborError {
    /// A domain has no dimensions.
    NoDimensions,
    /// A periodic length is not a positive finite number.
    InvalidLength {
        /// The dimension (0-based).
        dim: usize,
        /// The length given.
        length: f64,
    },
    /// The positions' length is not a multiple of the domain's dimension.
    PositionsLength {
        /// The slice length.
        len: usize,
        /// The domain's dimension.
        dim: usize,
    },
    /// A coordinate is NaN or infinite.
    NonFinite {
        /// The particle (0-based).
        particle: usize,
        /// The coordinate (0-based).
        coord: usize,
        /// The value found.
        value: f64,
    },
    /// More particles than `u32` indices can name.
    TooManyParticles {
        /// The number of particles.
        n: usize,
    },
    /// More pairs than `u32` row offsets can hold.
    TooManyPairs {
        /// The number of pairs found.
        pairs: u64,
    },
    /// A distance setting (cutoff, skin, radius) is negative, zero where it must not be, or
    /// not finite.
    InvalidDistance {
        /// The setting's name.
        what: &'static str,
        /// The value given.
        value: f64,
        /// What it must be.
        need: &'static str,
    },
    /// A search radius exceeds half a periodic length, where the minimum image is ambiguous.
    RadiusTooLarge {
        /// What the radius is (`cutoff + skin`, `r_max`).
        what: &'static str,
        /// The radius.
        radius: f64,
        /// The periodic dimension (0-based).
        dim: usize,
        /// Its length.
        length: f64,
    },
    /// A count that must be positive is zero (blocks, bins, batch size …).
    ZeroCount {
        /// What is counted.
        what: &'static str,
    },
    /// A slice or collection has the wrong length.
    LengthMismatch {
        /// What it is.
        what: &'static str,
        /// The length needed.
        expected: usize,
        /// The length given.
        found: usize,
    },
    /// The operation needs a periodic dimension here.
    NotPeriodic {
        /// The open dimension (0-based).
        dim: usize,
    },
    /// The operation supports at most this many dimensions.
    TooManyDimensions {
        /// The domain's dimension.
        dim: usize,
        /// The largest supported.
        max: usize,
    },
}

impl fmt::Display for NeighborError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use NeighborError as E;
        match self {
            E::NoDimensions => write!(f, "a particle domain needs at least one dimension"),
            E::InvalidLength { dim, length } => write!(
                f,
                "periodic length of dimension {} is {length}; it must be positive and finite",
                dim + 1
            ),
            E::PositionsLength { len, dim } => write!(
                f,
                "{len} coordinates do not make whole particles in {dim} dimensions"
            ),
            E::NonFinite {
                particle,
                coord,
                value,
            } => write!(
                f,
                "coordinate {} of particle {} is {value}",
                coord + 1,
                particle + 1
            ),
            E::TooManyParticles { n } => write!(f, "{n} particles exceed the limit of {}", u32::MAX),
            E::TooManyPairs { pairs } => {
                write!(f, "{pairs} neighbour pairs exceed the limit of {}", u32::MAX)
            }
            E::InvalidDistance { what, value, need } => write!(f, "{what} is {value}; it must be {need}"),
            E::RadiusTooLarge {
                what,
                radius,
                dim,
                length,
            } => write!(
                f,
                "{what} = {radius} exceeds half the periodic length {length} of dimension {}, \
                 so the minimum image is ambiguous",
                dim + 1
            ),
            E::ZeroCount { what } => write!(f, "the number of {what} must be at least 1"),
            E::LengthMismatch {
                what,
                expected,
                found,
            } => {
                write!(f, "{what} has length {found}, expected {expected}")
            }
            E::NotPeriodic { dim } => write!(f, "dimension {} must be periodic", dim + 1),
            E::TooManyDimensions { dim, max } => {
                write!(f, "{dim} dimensions given, at most {max} supported")
            }
        }
    }
}

impl std::error::Error for NeighborError {}
