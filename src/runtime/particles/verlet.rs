//! Verlet lists: a pair list built with radius `cutoff + skin`, rebuilt only when some particle
//! has moved more than `skin/2` since the last build.
//!
//! Why that suffices: the minimum-image distance is a metric on the torus, so if neither `i`
//! nor `j` moved more than `skin/2`, their distance changed by at most `skin`; a pair now
//! within `cutoff` was within `cutoff + skin` at the last build, so it is in the list.

use super::domain::Domain;
use super::pairs::{ListBuilder, PairList, Pairs};
use super::NeighborError;

/// A Verlet neighbour list over a fixed domain.
#[derive(Debug)]
pub struct VerletList {
    domain: Domain,
    cutoff: f64,
    skin: f64,
    list: PairList,
    /// The positions at the last build (as given, unwrapped).
    reference: Vec<f64>,
    /// Whether `list` matches `reference` (false before the first build and after a failed one).
    built: bool,
    builds: u64,
    builder: ListBuilder,
}

impl VerletList {
    /// A list for pairs within `cutoff`, built with radius `cutoff + skin`. `cutoff` must be
    /// positive and `skin` non-negative (0: rebuild on every update), both finite, and
    /// `cutoff + skin` at most half of every periodic length. Nothing is built until
    /// [`update`](Self::update).
    pub fn new(domain: Domain, cutoff: f64, skin: f64) -> Result<Self, NeighborError> {
        if !(cutoff.is_finite() && cutoff > 0.0) {
            return Err(NeighborError::InvalidDistance {
                what: "cutoff",
                value: cutoff,
                need: "positive and finite",
            });
        }
        if !(skin.is_finite() && skin >= 0.0) {
            return Err(NeighborError::InvalidDistance {
                what: "skin",
                value: skin,
                need: "non-negative and finite",
            });
        }
        domain.check_radius("cutoff + skin", cutoff + skin)?;
        Ok(Self {
            domain,
            cutoff,
            skin,
            list: PairList::new(),
            reference: Vec::new(),
            built: false,
            builds: 0,
            builder: ListBuilder::new(),
        })
    }

    /// Brings the list up to date with `pos`: rebuilds it if there is none yet, the skin is 0,
    /// the number of particles changed, or some particle moved more than `skin/2` (minimum
    /// image in periodic dimensions) since the last build. Returns whether it rebuilt. After
    /// `Ok`, the list holds every pair within `cutoff` of `pos` (and possibly pairs up to
    /// `cutoff + skin` apart). A failed rebuild (non-finite positions …) leaves no list, so the
    /// next update rebuilds.
    pub fn update(&mut self, pos: &[f64]) -> Result<bool, NeighborError> {
        if !self.needs_rebuild(pos) {
            return Ok(false);
        }
        self.rebuild(pos)?;
        Ok(true)
    }

    /// Whether [`update`](Self::update) would rebuild for `pos`. A NaN displacement counts as a
    /// move, so a non-finite position is always caught by the rebuild.
    pub fn needs_rebuild(&self, pos: &[f64]) -> bool {
        if !self.built || self.skin == 0.0 || pos.len() != self.reference.len() {
            return true;
        }
        let half2 = 0.25 * self.skin * self.skin;
        let k = self.domain.dim();
        !pos.chunks_exact(k)
            .zip(self.reference.chunks_exact(k))
            .all(|(x, x0)| self.domain.dist2_between(x0, x) <= half2)
    }

    /// Rebuilds the list from `pos` now.
    pub fn rebuild(&mut self, pos: &[f64]) -> Result<(), NeighborError> {
        self.built = false;
        self.builder
            .build(&self.domain, pos, self.cutoff + self.skin, &mut self.list)?;
        self.reference.clear();
        self.reference.extend_from_slice(pos);
        self.built = true;
        self.builds += 1;
        Ok(())
    }

    /// The list of the last build (empty before the first).
    pub fn list(&self) -> &PairList {
        &self.list
    }

    /// The list as a pair set.
    pub fn pairs(&self) -> Pairs<'_> {
        Pairs::List(&self.list)
    }

    /// How many times the list has been built.
    pub fn builds(&self) -> u64 {
        self.builds
    }

    /// The interaction cutoff.
    pub fn cutoff(&self) -> f64 {
        self.cutoff
    }

    /// The skin.
    pub fn skin(&self) -> f64 {
        self.skin
    }

    /// The list radius `cutoff + skin`.
    pub fn radius(&self) -> f64 {
        self.cutoff + self.skin
    }

    /// The domain.
    pub fn domain(&self) -> &Domain {
        &self.domain
    }
}

/// The neighbours an interaction loops over: all pairs (mean-field terms, no cutoff, nothing
/// stored) or the pairs within a cutoff (a Verlet list). Update it after each move, then loop
/// over [`pairs`](Self::pairs) the same way for either kind.
#[derive(Debug)]
pub enum NeighborList {
    /// Every pair `j > i` of `n` particles in `dim` dimensions.
    All {
        /// The number of particles.
        n: u32,
        /// The dimension, to check position slices.
        dim: usize,
    },
    /// The pairs within a cutoff (boxed: a list is much larger than the other variant).
    Cutoff(Box<VerletList>),
}

impl NeighborList {
    /// All pairs of `n` particles in `dim` dimensions.
    pub fn all(n: usize, dim: usize) -> Result<Self, NeighborError> {
        if dim == 0 {
            return Err(NeighborError::NoDimensions);
        }
        let n = u32::try_from(n).map_err(|_| NeighborError::TooManyParticles { n })?;
        Ok(NeighborList::All { n, dim })
    }

    /// Pairs within `cutoff` through a Verlet list (see [`VerletList::new`]).
    pub fn cutoff(domain: Domain, cutoff: f64, skin: f64) -> Result<Self, NeighborError> {
        Ok(NeighborList::Cutoff(Box::new(VerletList::new(
            domain, cutoff, skin,
        )?)))
    }

    /// Brings the pair set up to date with `pos`; returns whether a list was rebuilt (never for
    /// all pairs, which only checks that `pos` has `n` particles).
    pub fn update(&mut self, pos: &[f64]) -> Result<bool, NeighborError> {
        match self {
            NeighborList::All { n, dim } => {
                let expected = (*n as usize).saturating_mul(*dim);
                if pos.len() == expected {
                    Ok(false)
                } else {
                    Err(NeighborError::LengthMismatch {
                        what: "positions",
                        expected,
                        found: pos.len(),
                    })
                }
            }
            NeighborList::Cutoff(v) => v.update(pos),
        }
    }

    /// The current pair set.
    pub fn pairs(&self) -> Pairs<'_> {
        match self {
            NeighborList::All { n, .. } => Pairs::All { n: *n },
            NeighborList::Cutoff(v) => v.pairs(),
        }
    }
}
