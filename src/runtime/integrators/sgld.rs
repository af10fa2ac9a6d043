//! SGLD, stochastic-gradient Langevin dynamics (Welling & Teh 2011), in ULA's convention:
//! x⁺ = x − h_t ∇Ũ(x) + √(2h_t T) ξ, with Ũ the energy whose sums over the R data rows are
//! estimated from B rows scaled by R/B, and h_t = step·(1 + t/offset)^(−decay). Welling and
//! Teh write the same step with ε_t = 2h_t and ε_t = a(b + t)^(−γ): a = 2·step·offset^γ,
//! b = offset, γ = decay. With decay in (0.5, 1] the chain converges to the posterior; with
//! constant steps its law is biased by O(h) and by the minibatch noise.

use super::minibatch::MinibatchGrad;
use super::{check_finite, Sampler, SamplerStats};
use crate::runtime::checkpoint::{RestoreError, SamplerState, StateReader};
use crate::runtime::error::NonFiniteWhat;
use crate::runtime::method::Minibatch;
use crate::runtime::rng::{fill_normal, StreamRng};
use crate::runtime::target::GibbsTarget;

/// SGLD workspace for one chain.
#[derive(Debug, Clone)]
pub struct Sgld {
    step: f64,
    decay: f64,
    offset: f64,
    temperature: f64,
    /// Steps taken so far (the t of the schedule).
    taken: u64,
    batches: MinibatchGrad,
    grad: Vec<f64>,
    noise: Vec<f64>,
}

impl Sgld {
    /// SGLD with step schedule `step·(1 + t/offset)^(−decay)` at temperature `temperature`.
    pub fn new(
        dim: usize,
        step: f64,
        decay: f64,
        offset: f64,
        minibatch: Minibatch,
        temperature: f64,
    ) -> Self {
        Sgld {
            step,
            decay,
            offset,
            temperature,
            taken: 0,
            batches: MinibatchGrad::new(minibatch),
            grad: vec![0.0; dim],
            noise: vec![0.0; dim],
        }
    }

    /// The step size of step `t` (0-based).
    fn step_at(&self, t: u64) -> f64 {
        if self.decay == 0.0 {
            self.step
        } else {
            self.step * (1.0 + t as f64 / self.offset).powf(-self.decay)
        }
    }
}

impl Sampler for Sgld {
    fn init<T: GibbsTarget + ?Sized>(&mut self, target: &T, x: &[f64]) -> Result<(), (NonFiniteWhat, f64)> {
        self.taken = 0;
        self.batches.start(target);
        check_finite(x)
    }

    #[inline]
    fn step<T: GibbsTarget + ?Sized>(&mut self, target: &T, x: &mut [f64], rng: &mut StreamRng) {
        let h = self.step_at(self.taken);
        self.taken += 1;
        self.batches.grad(target, x, rng, &mut self.grad);
        fill_normal(rng, &mut self.noise);
        let scale = (2.0 * h * self.temperature).sqrt();
        for ((xi, g), z) in x.iter_mut().zip(&self.grad).zip(&self.noise) {
            *xi += scale * z - h * g;
        }
    }

    /// The step size of the last step.
    fn stats(&self) -> SamplerStats {
        SamplerStats {
            step_size: Some(self.step_at(self.taken.saturating_sub(1))),
            ..SamplerStats::default()
        }
    }

    /// Unadjusted: acceptance 1; lp and energy are −U(x)/T and U(x)/T with the full data.
    fn draw_stats<T: GibbsTarget + ?Sized>(&self, target: &T, x: &[f64], out: &mut [f64; 7]) {
        let u = target.energy(x) / self.temperature;
        let h = self.step_at(self.taken.saturating_sub(1));
        *out = [-u, 1.0, h, 0.0, 1.0, 0.0, u];
    }

    /// The step counter (the schedule's t).
    fn save(&self, out: &mut SamplerState) {
        out.count(self.taken);
    }

    fn restore<T: GibbsTarget + ?Sized>(
        &mut self,
        target: &T,
        x: &[f64],
        state: &mut StateReader<'_>,
    ) -> Result<(), RestoreError> {
        self.init(target, x)?;
        self.taken = state.count()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_follow_the_schedule() {
        let batch = Minibatch {
            size: 1,
            replace: true,
        };
        let constant = Sgld::new(1, 0.01, 0.0, 1.0, batch, 1.0);
        assert_eq!(constant.step_at(0), 0.01);
        assert_eq!(constant.step_at(10_000), 0.01);
        // h_t = step·(1 + t/offset)^(−decay): Welling and Teh's a(b + t)^(−γ)/2 with
        // b = offset, γ = decay, a = 2·step·offset^γ.
        let decaying = Sgld::new(1, 0.01, 0.55, 100.0, batch, 1.0);
        assert_eq!(decaying.step_at(0), 0.01);
        let (a, b, g) = (2.0 * 0.01 * 100f64.powf(0.55), 100.0, 0.55);
        for t in [1u64, 99, 100, 12_345] {
            let welling_teh = a * (b + t as f64).powf(-g) / 2.0;
            let ours = decaying.step_at(t);
            assert!(
                (ours - welling_teh).abs() < 1e-15,
                "t = {t}: {ours} vs {welling_teh}"
            );
        }
    }
}
