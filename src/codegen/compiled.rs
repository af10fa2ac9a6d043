//! A JIT-compiled model: native kernels plus the parameter buffer they read,
//! and the code memory that owns the kernels.

use super::{err, CodeMemory, CodegenError, CodegenStats};
use crate::lower::{KernelKind, Lowered};
use crate::native::abi::KernelFn;
use crate::native::NativeModel;
use crate::runtime::{GibbsTarget, NoiseShape, SdeSystem};
use std::collections::HashMap;

/// Native code for one model, ready to run. Cheap to share across threads.
pub struct CompiledModel {
    // The native model (and every clone of it) holds the code memory alive: the
    // kernels are raw pointers into it.
    native: NativeModel,
    stats: CodegenStats,
}

impl CompiledModel {
    pub(crate) fn new(
        code: CodeMemory,
        kernels: HashMap<KernelKind, KernelFn>,
        lowered: &Lowered,
        stats: CodegenStats,
    ) -> Result<CompiledModel, CodegenError> {
        let noise = NoiseShape {
            dim: lowered.layout.noise.dim,
            diagonal: lowered.layout.noise.diagonal,
            additive: lowered.layout.noise.additive,
            block: lowered.layout.noise.block,
        };
        let native = NativeModel::new(kernels, lowered.env_init.clone(), lowered.layout.state_len, noise)
            .ok_or_else(|| err("no prelude, or prelude buffer lengths"))?
            .owning(std::sync::Arc::new(code));
        Ok(CompiledModel { native, stats })
    }

    /// The kernels and parameters, as the runtime calls them.
    pub fn native(&self) -> &NativeModel {
        &self.native
    }

    /// Number of state components.
    pub fn dim(&self) -> usize {
        self.native.dim()
    }

    /// Compile statistics.
    pub fn stats(&self) -> &CodegenStats {
        &self.stats
    }

    /// The parameter/table buffer.
    pub fn env(&self) -> &[f64] {
        self.native.env()
    }

    /// Whether the model has a kernel of this kind.
    pub fn has(&self, kind: KernelKind) -> bool {
        self.native.has(kind)
    }

    /// Calls a kernel: writes its outputs into `out` and returns its scalar result.
    /// `None` if the model lacks the kernel or a buffer is too short.
    pub fn call(&self, kind: KernelKind, state: &[f64], t: f64, out: &mut [f64]) -> Option<f64> {
        self.native.call(kind, state, t, out)
    }

    /// Output length of a kernel.
    pub fn out_len(&self, kind: KernelKind) -> Option<usize> {
        self.native.out_len(kind)
    }
}

impl crate::driver::Observer for CompiledModel {
    fn observe(&self, x: &[f64], t: f64, out: &mut [f64]) -> bool {
        crate::driver::Observer::observe(&self.native, x, t, out)
    }
}

impl GibbsTarget for CompiledModel {
    fn dim(&self) -> usize {
        GibbsTarget::dim(&self.native)
    }

    fn energy(&self, x: &[f64]) -> f64 {
        self.native.energy(x)
    }

    fn energy_grad(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        self.native.energy_grad(x, grad)
    }

    fn grad(&self, x: &[f64], grad: &mut [f64]) {
        self.native.grad(x, grad)
    }

    /// The compiled `Hessian` kernel; false when the model was compiled without it
    /// (see [`crate::pipeline::CompileOptions::method`]).
    fn hessian(&self, x: &[f64], out: &mut [f64]) -> bool {
        self.native.hessian(x, out)
    }

    fn canonicalize(&self, x: &mut [f64]) {
        GibbsTarget::canonicalize(&self.native, x)
    }

    fn data_rows(&self) -> Option<usize> {
        self.native.data_rows()
    }

    fn batch_grad(&self, x: &[f64], rows: &[u32], grad: &mut [f64]) -> bool {
        self.native.batch_grad(x, rows, grad)
    }
}

impl SdeSystem for CompiledModel {
    fn dim(&self) -> usize {
        SdeSystem::dim(&self.native)
    }

    fn drift_diffusion(&self, x: &[f64], t: f64, drift: &mut [f64], diffusion: &mut [f64]) {
        self.native.drift_diffusion(x, t, drift, diffusion)
    }

    fn drift_diffusion_dg(
        &self,
        x: &[f64],
        t: f64,
        drift: &mut [f64],
        diffusion: &mut [f64],
        dg: &mut [f64],
    ) {
        self.native.drift_diffusion_dg(x, t, drift, diffusion, dg)
    }

    fn noise(&self) -> NoiseShape {
        self.native.noise()
    }

    fn strat_drift_diffusion(&self, x: &[f64], t: f64, drift: &mut [f64], diffusion: &mut [f64]) {
        self.native.strat_drift_diffusion(x, t, drift, diffusion)
    }

    fn drift_noise(&self, x: &[f64], t: f64, drift: &mut [f64], g: &mut [f64]) {
        self.native.drift_noise(x, t, drift, g)
    }

    fn strat_drift_noise(&self, x: &[f64], t: f64, drift: &mut [f64], g: &mut [f64]) {
        self.native.strat_drift_noise(x, t, drift, g)
    }
}
