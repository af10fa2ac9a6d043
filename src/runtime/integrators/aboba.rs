//! ABOBA underdamped Langevin: A(h/2) B(h/2) O(h) B(h/2) A(h/2) (sub-steps in
//! [`super::kinetic`]). One gradient per step, at the half-step position. Weak order 2
//! (Leimkuhler & Matthews 2013).

use super::kinetic::{Phase, Thermostat};
use super::{check_finite, Sampler};
use crate::runtime::checkpoint::{RestoreError, SamplerState, StateReader};
use crate::runtime::error::NonFiniteWhat;
use crate::runtime::method::Kinetic;
use crate::runtime::rng::StreamRng;
use crate::runtime::target::GibbsTarget;

/// ABOBA workspace for one chain.
#[derive(Debug, Clone)]
pub struct Aboba {
    phase: Phase,
    o: Thermostat,
}

impl Aboba {
    /// ABOBA with parameters `k` at temperature T for a `dim`-dimensional target.
    pub fn new(dim: usize, k: &Kinetic, temperature: f64) -> Self {
        let phase = Phase::new(dim, k, temperature);
        let o = phase.thermostat(k.step);
        Aboba { phase, o }
    }
}

impl Sampler for Aboba {
    fn init<T: GibbsTarget + ?Sized>(&mut self, _target: &T, x: &[f64]) -> Result<(), (NonFiniteWhat, f64)> {
        self.phase.reset();
        check_finite(x)
    }

    #[inline]
    fn step<T: GibbsTarget + ?Sized>(&mut self, target: &T, x: &mut [f64], rng: &mut StreamRng) {
        self.phase.start(rng);
        let hh = 0.5 * self.phase.step;
        self.phase.drift(x, hh);
        target.grad(x, &mut self.phase.grad);
        self.phase.kick(hh);
        self.phase.thermalize(self.o, rng);
        self.phase.kick(hh);
        self.phase.drift(x, hh);
    }

    /// The momenta (the force is recomputed from the state).
    fn save(&self, out: &mut SamplerState) {
        self.phase.save(out);
    }

    fn restore<T: GibbsTarget + ?Sized>(
        &mut self,
        target: &T,
        x: &[f64],
        state: &mut StateReader<'_>,
    ) -> Result<(), RestoreError> {
        self.init(target, x)?;
        Ok(self.phase.restore(state)?)
    }
}
