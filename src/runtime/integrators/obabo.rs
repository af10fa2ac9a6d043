//! OBABO underdamped Langevin: O(h/2) B(h/2) A(h) B(h/2) O(h/2) (sub-steps in
//! [`super::kinetic`]); velocity Verlet between two half thermostats (Bussi & Parrinello 2007).
//! One gradient per step (the end-of-step force is kept). Weak order 2.

use super::kinetic::{Phase, Thermostat};
use super::{check_finite, Sampler};
use crate::runtime::checkpoint::{RestoreError, SamplerState, StateReader};
use crate::runtime::error::NonFiniteWhat;
use crate::runtime::method::Kinetic;
use crate::runtime::rng::StreamRng;
use crate::runtime::target::GibbsTarget;

/// OBABO workspace for one chain.
#[derive(Debug, Clone)]
pub struct Obabo {
    phase: Phase,
    o_half: Thermostat,
}

impl Obabo {
    /// OBABO with parameters `k` at temperature T for a `dim`-dimensional target.
    pub fn new(dim: usize, k: &Kinetic, temperature: f64) -> Self {
        let phase = Phase::new(dim, k, temperature);
        let o_half = phase.thermostat(0.5 * k.step);
        Obabo { phase, o_half }
    }
}

impl Sampler for Obabo {
    fn init<T: GibbsTarget + ?Sized>(&mut self, target: &T, x: &[f64]) -> Result<(), (NonFiniteWhat, f64)> {
        check_finite(x)?;
        self.phase.reset();
        target.grad(x, &mut self.phase.grad);
        check_finite(&self.phase.grad)
    }

    #[inline]
    fn step<T: GibbsTarget + ?Sized>(&mut self, target: &T, x: &mut [f64], rng: &mut StreamRng) {
        self.phase.start(rng);
        let h = self.phase.step;
        self.phase.thermalize(self.o_half, rng);
        self.phase.kick(0.5 * h);
        self.phase.drift(x, h);
        target.grad(x, &mut self.phase.grad);
        self.phase.kick(0.5 * h);
        self.phase.thermalize(self.o_half, rng);
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
