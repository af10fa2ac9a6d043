//! Runtime: integrators, chains, random streams.
pub mod target;
pub use target::{GibbsTarget, SdeSystem};
