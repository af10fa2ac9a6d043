//! BAOAB underdamped Langevin (Leimkuhler & Matthews 2013): B(h/2) A(h/2) O(h) A(h/2) B(h/2)
//! (sub-steps in [`super::kinetic`]). One gradient per step: the force at the end of a step is
//! kept for the next. Weak order 2; configurational averages are exact for harmonic U and
//! superconvergent in the high-friction limit.

use super::kinetic::{Phase, Thermostat};
use super::{check_finite, Sampler};
use crate::runtime::checkpoint::{RestoreError, SamplerState, StateReader};
use crate::runtime::error::NonFiniteWhat;
use crate::runtime::method::Kinetic;
use crate::runtime::rng::StreamRng;
use crate::runtime::target::GibbsTarget;

/// BAOAB workspace for one chain.
#[derive(Debug, Clone)]
pub struct Baoab {
    phase: Phase,
    o: Thermostat,
    temperature: f64,
}

impl Baoab {
    /// BAOAB with parameters `k` at temperature T for a `dim`-dimensional target.
    pub fn new(dim: usize, k: &Kinetic, temperature: f64) -> Self {
        let phase = Phase::new(dim, k, temperature);
        let o = phase.thermostat(k.step);
        Baoab {
            phase,
            o,
            temperature,
        }
    }

    /// The current momenta.
    pub fn momentum(&self) -> &[f64] {
        &self.phase.momentum
    }
}

impl Sampler for Baoab {
    fn init<T: GibbsTarget + ?Sized>(&mut self, target: &T, x: &[f64]) -> Result<(), (NonFiniteWhat, f64)> {
        check_finite(x)?;
        self.phase.reset();
        target.grad(x, &mut self.phase.grad);
        check_finite(&self.phase.grad)
    }

    #[inline]
    fn step<T: GibbsTarget + ?Sized>(&mut self, target: &T, x: &mut [f64], rng: &mut StreamRng) {
        self.phase.start(rng);
        let hh = 0.5 * self.phase.step;
        self.phase.kick(hh);
        self.phase.drift(x, hh);
        self.phase.thermalize(self.o, rng);
        self.phase.drift(x, hh);
        target.grad(x, &mut self.phase.grad);
        self.phase.kick(hh);
    }

    /// One position update per step of size h, no Metropolis test: acceptance 1; the energy
    /// is the Hamiltonian (U(q) + |p|²/2m)/T at the draw.
    fn draw_stats<T: GibbsTarget + ?Sized>(&self, target: &T, x: &[f64], out: &mut [f64; 7]) {
        self.phase.draw_stats(target, x, self.temperature, out);
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
