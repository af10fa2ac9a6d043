//! Particle sets, their domain, run-time lists, pair terms and observables of
//! the checked model.
//!
//! A particle set `p` of `count` particles in R^dim is a state of shape
//! [count, dim] (a vector of `count` components when dim is 1): particle i's
//! coordinate d is flat component `i·dim + d` of the state. Pair terms are
//! ordinary energy terms whose inner loop runs over a run-time [`List`] (a
//! neighbour list built by the runtime, or a fixed list of bonds).

use super::{Expr, ListId, StateId};
use crate::source::Span;
use std::rc::Rc;

/// A set of particles.
#[derive(Clone, Debug, PartialEq)]
pub struct ParticleSet {
    /// Its name (also the name of its position state).
    pub name: String,
    /// The position state.
    pub state: StateId,
    /// Number of particles.
    pub count: usize,
    /// Coordinates per particle.
    pub dim: usize,
    /// Mass of each particle (one value for all, or one per particle).
    pub mass: Vec<f64>,
    /// Where it was declared.
    pub span: Span,
}

impl ParticleSet {
    /// The mass of particle `i`.
    pub fn mass_of(&self, i: usize) -> f64 {
        match self.mass.as_slice() {
            [m] => *m,
            ms => ms.get(i).copied().unwrap_or(1.0),
        }
    }
}

/// The space particles live in.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Domain {
    /// Open space (no boundaries).
    #[default]
    Open,
    /// A periodic rectangular box with these side lengths, one per dimension:
    /// distances are minimum-image, positions are wrapped into [0, L).
    Periodic(Vec<f64>),
}

/// A run-time list of indices, read by loops `for j in list[i]`.
#[derive(Clone, Debug, PartialEq)]
pub struct List {
    /// What the list holds.
    pub kind: ListKind,
    /// Number of rows.
    pub rows: usize,
    /// Every entry is below this.
    pub bound: usize,
}

/// How a list is made.
#[derive(Clone, Debug, PartialEq)]
pub enum ListKind {
    /// The half neighbour list of a particle set: row i holds every j > i closer
    /// than `cutoff + skin` (minimum image), rebuilt when a particle has moved
    /// more than `skin / 2`.
    Neighbors {
        /// The particle set (index into [`super::Model::particles`]).
        set: u32,
        /// The interaction cutoff.
        cutoff: f64,
        /// The Verlet skin.
        skin: f64,
    },
    /// Random batches of a particle set (the Random Batch Method): the particles
    /// are split into random groups of `size` and row i holds the j > i of its
    /// group. The grouping is redrawn whenever the positions change.
    RandomBatches {
        /// The particle set.
        set: u32,
        /// Particles per batch (≥ 2, dividing the set's size).
        size: usize,
    },
    /// A list fixed at compile time (bonds): row starts and entries.
    Fixed {
        /// Row starts (`rows + 1`).
        start: Vec<u32>,
        /// Entries.
        idx: Vec<u32>,
    },
}

/// A `pair` or `bond` term.
#[derive(Clone, Debug, PartialEq)]
pub struct PairTerm {
    /// The term's name (also the name of its energy term).
    pub name: String,
    /// The particle set.
    pub set: u32,
    /// The list its inner loop runs over (`None`: every pair j > i).
    pub list: Option<ListId>,
    /// The cutoff, if any.
    pub cutoff: Option<f64>,
    /// Its virial Σ over pairs of −r·φ′(r) (for the pressure).
    pub virial: Rc<Expr>,
    /// Where it was declared.
    pub span: Span,
}

/// An `observe` declaration.
#[derive(Clone, Debug, PartialEq)]
pub struct Observable {
    /// Its name (its column, or its file).
    pub name: String,
    /// What it measures.
    pub kind: ObservableKind,
    /// Where it was declared.
    pub span: Span,
}

/// What an observable measures.
#[derive(Clone, Debug, PartialEq)]
pub enum ObservableKind {
    /// A scalar expression of the state, recorded with every draw.
    Value(Rc<Expr>),
    /// The pressure of a particle system, P = N·T/V + W/(d·V), recorded with every
    /// draw; `virial` is W, the sum of the pair terms' virials.
    Pressure {
        /// W.
        virial: Rc<Expr>,
        /// The box volume V.
        volume: f64,
        /// The number of particles N.
        count: usize,
        /// The dimension d.
        dim: usize,
    },
    /// The radial distribution function g(r) of a particle set, accumulated
    /// over the recorded draws and written at the end of the run.
    Rdf {
        /// The particle set.
        set: u32,
        /// Largest distance.
        r_max: f64,
        /// Number of histogram bins.
        bins: usize,
    },
}
