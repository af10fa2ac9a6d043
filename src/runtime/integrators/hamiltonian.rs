//! Hamiltonian dynamics for HMC and NUTS: H(q, p) = U(q)/T + ½pᵀM⁻¹p with momenta
//! p ~ N(0, M), the leapfrog integrator, and Stan's initial step-size heuristic.

use super::linalg::dot;
use super::metric::Metric;
use crate::runtime::rng::{fill_normal, StreamRng};
use crate::runtime::target::GibbsTarget;

/// Energy error beyond which a trajectory counts as divergent (Stan's default).
pub(crate) const MAX_ENERGY_ERROR: f64 = 1000.0;

/// A point in phase space with the potential V = U/T and the gradient ∇U at q.
#[derive(Debug, Clone)]
pub(crate) struct Point {
    pub(crate) q: Vec<f64>,
    pub(crate) p: Vec<f64>,
    pub(crate) g: Vec<f64>,
    pub(crate) v: f64,
}

impl Point {
    pub(crate) fn new(dim: usize) -> Self {
        Point {
            q: vec![0.0; dim],
            p: vec![0.0; dim],
            g: vec![0.0; dim],
            v: 0.0,
        }
    }

    /// Copies q, g and V (not p) from `other`.
    #[inline]
    pub(crate) fn copy_position(&mut self, other: &Point) {
        self.q.copy_from_slice(&other.q);
        self.g.copy_from_slice(&other.g);
        self.v = other.v;
    }

    /// Copies everything from `other`.
    #[inline]
    pub(crate) fn copy_from(&mut self, other: &Point) {
        self.copy_position(other);
        self.p.copy_from_slice(&other.p);
    }

    /// Evaluates V and ∇U at q; returns false if V is not finite.
    pub(crate) fn evaluate<T: GibbsTarget + ?Sized>(&mut self, target: &T, inv_temp: f64) -> bool {
        self.v = target.energy_grad(&self.q, &mut self.g) * inv_temp;
        self.v.is_finite()
    }
}

/// The metric, the temperature and scratch space.
#[derive(Debug, Clone)]
pub(crate) struct Hamiltonian {
    pub(crate) metric: Metric,
    pub(crate) inv_temp: f64,
    velocity: Vec<f64>,
    noise: Vec<f64>,
    saved: Point,
}

impl Hamiltonian {
    pub(crate) fn new(metric: Metric, temperature: f64, dim: usize) -> Self {
        Hamiltonian {
            metric,
            inv_temp: 1.0 / temperature,
            velocity: vec![0.0; dim],
            noise: vec![0.0; dim],
            saved: Point::new(dim),
        }
    }

    /// Draws z.p ~ N(0, M).
    #[inline]
    pub(crate) fn sample_momentum(&mut self, z: &mut Point, rng: &mut StreamRng) {
        fill_normal(rng, &mut self.noise);
        self.metric.sqrt_mul(&self.noise, &mut z.p);
    }

    /// H(z) = V + ½pᵀM⁻¹p (NaN becomes +∞).
    #[inline]
    pub(crate) fn energy(&mut self, z: &Point) -> f64 {
        let h = z.v + 0.5 * self.metric.inv_quad(&z.p);
        if h.is_nan() {
            f64::INFINITY
        } else {
            h
        }
    }

    /// out = M⁻¹ z.p (the velocity dH/dp).
    #[inline]
    pub(crate) fn velocity(&self, z: &Point, out: &mut [f64]) {
        self.metric.inv_mul(&z.p, out);
    }

    /// One leapfrog step of size `eps` (negative: backward in time).
    #[inline]
    pub(crate) fn leapfrog<T: GibbsTarget + ?Sized>(&mut self, target: &T, z: &mut Point, eps: f64) {
        let a = 0.5 * eps * self.inv_temp;
        for (p, g) in z.p.iter_mut().zip(&z.g) {
            *p -= a * g;
        }
        self.metric.inv_mul(&z.p, &mut self.velocity);
        for (q, v) in z.q.iter_mut().zip(&self.velocity) {
            *q += eps * v;
        }
        z.v = target.energy_grad(&z.q, &mut z.g) * self.inv_temp;
        for (p, g) in z.p.iter_mut().zip(&z.g) {
            *p -= a * g;
        }
    }

    /// Stan's heuristic: doubles or halves `eps` until the acceptance probability of one
    /// leapfrog step from `z` (with fresh momenta) crosses 0.8. `z` is restored.
    pub(crate) fn initial_step<T: GibbsTarget + ?Sized>(
        &mut self,
        target: &T,
        z: &mut Point,
        mut eps: f64,
        rng: &mut StreamRng,
    ) -> f64 {
        let threshold = 0.8f64.ln();
        self.saved.copy_position(z);
        let mut direction = 0i8;
        for _ in 0..100 {
            z.copy_position(&self.saved);
            self.sample_momentum(z, rng);
            let h0 = self.energy(z);
            self.leapfrog(target, z, eps);
            let delta = h0 - self.energy(z);
            if direction == 0 {
                direction = if delta > threshold { 1 } else { -1 };
            } else {
                // stop once the acceptance has crossed 0.8 (a NaN error counts as crossed)
                let side = delta.partial_cmp(&threshold);
                let crossed = match direction {
                    1 => !matches!(side, Some(std::cmp::Ordering::Greater)),
                    _ => !matches!(side, Some(std::cmp::Ordering::Less)),
                };
                if crossed {
                    break;
                }
            }
            let next = if direction == 1 { 2.0 * eps } else { 0.5 * eps };
            if !(1e-12..=1e7).contains(&next) {
                break;
            }
            eps = next;
        }
        z.copy_position(&self.saved);
        eps
    }
}

/// The generalized no-U-turn criterion: both end velocities point along ρ.
#[inline]
pub(crate) fn no_u_turn(p_sharp_minus: &[f64], p_sharp_plus: &[f64], rho: &[f64]) -> bool {
    dot(p_sharp_plus, rho) > 0.0 && dot(p_sharp_minus, rho) > 0.0
}
