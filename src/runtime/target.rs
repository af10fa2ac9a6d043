//! What integrators need from a compiled model.
//!
//! The compiler's `CompiledModel` implements these traits with JIT kernels; tests
//! implement them with hand-written Rust. Integrators never know which.

/// A Gibbs target π(x) ∝ exp(−U(x)/T) over a flat state vector.
pub trait GibbsTarget: Sync {
    /// Number of scalar state components.
    fn dim(&self) -> usize;

    /// U(x).
    fn energy(&self, x: &[f64]) -> f64;

    /// Returns U(x) and writes ∇U(x) into `grad` (`grad.len() == dim()`).
    fn energy_grad(&self, x: &[f64], grad: &mut [f64]) -> f64;

    /// Writes ∇U(x) into `grad`; the default computes U too.
    fn grad(&self, x: &[f64], grad: &mut [f64]) {
        self.energy_grad(x, grad);
    }

    /// Writes the Hessian ∇²U(x) into `out` (n×n, row-major) and returns true, or returns
    /// false if the target has no Hessian (the default). Needed by Hessian-preconditioned
    /// samplers only.
    fn hessian(&self, _x: &[f64], _out: &mut [f64]) -> bool {
        false
    }
}

/// An Itô SDE dX = b(X,t) dt + diag(g(X,t)) dW with diagonal noise over a flat
/// state vector. Stratonovich models are converted to this Itô form by the
/// compiler (drift + ½ g ∂g/∂x), so every scheme here reads the equation as Itô.
pub trait SdeSystem: Sync {
    /// Number of scalar state components (and of Wiener processes).
    fn dim(&self) -> usize;

    /// Writes the Itô drift b(x,t) and the diagonal diffusion g(x,t).
    fn drift_diffusion(&self, x: &[f64], t: f64, drift: &mut [f64], diffusion: &mut [f64]);

    /// As [`SdeSystem::drift_diffusion`], plus ∂gᵢ/∂xᵢ into `dg` (for Milstein).
    fn drift_diffusion_dg(&self, x: &[f64], t: f64, drift: &mut [f64], diffusion: &mut [f64], dg: &mut [f64]);
}
