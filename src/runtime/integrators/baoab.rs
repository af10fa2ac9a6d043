//! BAOAB underdamped Langevin (Leimkuhler & Matthews 2013): B(h/2) A(h/2) O(h) A(h/2) B(h/2)
//! (sub-steps in [`super::kinetic`]). One gradient per step: the force at the end of a step is
//! kept for the next. Weak order 2; configurational averages are exact for harmonic U and
//! superconvergent in the high-friction limit.

use super::kinetic::{Phase, Thermostat};
use super::{check_finite, Sampler};
use crate::runtime::error::NonFiniteWhat;
use crate::runtime::method::Kinetic;
use crate::runtime::rng::StreamRng;
use crate::runtime::target::GibbsTarget;

/// BAOAB workspace for one chain.
#[derive(Debug, Clone)]
pub struct Baoab {
    phase: Phase,
    o: Thermostat,
}

impl Baoab {
    /// BAOAB with parameters `k` at temperature T for a `dim`-dimensional target.
    pub fn new(dim: usize, k: &Kinetic, temperature: f64) -> Self {
        let phase = Phase::new(dim, k, temperature);
        let o = phase.thermostat(k.step);
        Baoab { phase, o }
    }

    /// The current momenta.
    pub fn momentum(&self) -> &[f64] {
        &self.phase.momentum
    }
}

impl Sampler for Baoab {
    fn init<T: GibbsTarget + ?Sized>(&mut self, target: &T, x: &[f64]) -> Result<(), (NonFiniteWhat, f64)> {
        check_finite(x)?;
        self.phase.momentum.fill(0.0);
        target.grad(x, &mut self.phase.grad);
        check_finite(&self.phase.grad)
    }

    #[inline]
    fn step<T: GibbsTarget + ?Sized>(&mut self, target: &T, x: &mut [f64], rng: &mut StreamRng) {
        let hh = 0.5 * self.phase.step;
        self.phase.kick(hh);
        self.phase.drift(x, hh);
        self.phase.thermalize(self.o, rng);
        self.phase.drift(x, hh);
        target.grad(x, &mut self.phase.grad);
        self.phase.kick(hh);
    }
}
