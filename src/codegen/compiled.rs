//! A compiled model: native kernels plus the parameter buffer they read.

use super::abi::KernelFn;
use super::{err, CodeMemory, CodegenError, CodegenStats};
use crate::lower::{KernelKind, Lowered};
use crate::runtime::{GibbsTarget, NoiseShape, SdeSystem};
use std::collections::HashMap;

/// Native code for one model, ready to run. Cheap to share across threads.
pub struct CompiledModel {
    // Field order matters: kernels (raw pointers into the code) are dropped
    // before the code memory that owns them.
    kernels: HashMap<KernelKind, KernelFn>,
    env: Vec<f64>,
    state_len: usize,
    noise: NoiseShape,
    stats: CodegenStats,
    _code: CodeMemory,
}

impl CompiledModel {
    pub(crate) fn new(
        code: CodeMemory,
        kernels: HashMap<KernelKind, KernelFn>,
        lowered: &Lowered,
        stats: CodegenStats,
    ) -> Result<CompiledModel, CodegenError> {
        let mut m = CompiledModel {
            kernels,
            env: lowered.env_init.clone(),
            state_len: lowered.layout.state_len,
            noise: NoiseShape {
                dim: lowered.layout.noise.dim,
                diagonal: lowered.layout.noise.diagonal,
                additive: lowered.layout.noise.additive,
            },
            stats,
            _code: code,
        };
        m.refresh_tables()?;
        Ok(m)
    }

    /// Recomputes the parameter tables (after parameter values changed).
    fn refresh_tables(&mut self) -> Result<(), CodegenError> {
        let prelude = self
            .kernels
            .get(&KernelKind::Prelude)
            .copied()
            .ok_or_else(|| err("no prelude"))?;
        let dummy = vec![0.0; self.state_len];
        prelude
            .call_in_place(&mut self.env, &dummy)
            .map(|_| ())
            .ok_or_else(|| err("prelude buffer lengths"))
    }

    /// Number of state components.
    pub fn dim(&self) -> usize {
        self.state_len
    }

    /// Compile statistics.
    pub fn stats(&self) -> &CodegenStats {
        &self.stats
    }

    /// The parameter/table buffer.
    pub fn env(&self) -> &[f64] {
        &self.env
    }

    /// Whether the model has a kernel of this kind.
    pub fn has(&self, kind: KernelKind) -> bool {
        self.kernels.contains_key(&kind)
    }

    /// Calls a kernel: writes its outputs into `out` and returns its scalar result.
    /// `None` if the model lacks the kernel or a buffer is too short.
    pub fn call(&self, kind: KernelKind, state: &[f64], t: f64, out: &mut [f64]) -> Option<f64> {
        self.kernels.get(&kind)?.call(&self.env, state, t, out)
    }

    /// Output length of a kernel.
    pub fn out_len(&self, kind: KernelKind) -> Option<usize> {
        self.kernels.get(&kind).map(KernelFn::out_len)
    }
}

impl GibbsTarget for CompiledModel {
    fn dim(&self) -> usize {
        self.state_len
    }

    fn energy(&self, x: &[f64]) -> f64 {
        self.call(KernelKind::Energy, x, 0.0, &mut []).unwrap_or(f64::NAN)
    }

    fn energy_grad(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        self.call(KernelKind::EnergyGrad, x, 0.0, grad)
            .unwrap_or(f64::NAN)
    }

    fn grad(&self, x: &[f64], grad: &mut [f64]) {
        if self.call(KernelKind::Grad, x, 0.0, grad).is_none() {
            grad.fill(f64::NAN);
        }
    }
}

thread_local! {
    /// Per-thread output buffer of the SDE kernels: grown once, then reused, so
    /// the step loop never allocates.
    static SDE_OUT: std::cell::RefCell<Vec<f64>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl CompiledModel {
    /// Calls an SDE kernel writing `len` values and hands them to `split`; false if
    /// the kernel cannot run.
    fn sde_call(&self, kind: KernelKind, x: &[f64], t: f64, len: usize, split: impl FnOnce(&[f64])) -> bool {
        SDE_OUT.with(|cell| {
            let Ok(mut buf) = cell.try_borrow_mut() else {
                return false;
            };
            if buf.len() < len {
                buf.resize(len, 0.0);
            }
            let Some(out) = buf.get_mut(..len) else {
                return false;
            };
            if self.call(kind, x, t, out).is_none() {
                return false;
            }
            split(out);
            true
        })
    }
}

fn copy(dst: &mut [f64], src: &[f64]) {
    dst.iter_mut().zip(src).for_each(|(o, v)| *o = *v);
}

impl SdeSystem for CompiledModel {
    fn dim(&self) -> usize {
        self.state_len
    }

    fn drift_diffusion(&self, x: &[f64], t: f64, drift: &mut [f64], diffusion: &mut [f64]) {
        let n = self.state_len;
        let ok = self.sde_call(KernelKind::DriftDiffusion, x, t, 2 * n, |out| {
            let (d, g) = out.split_at(n);
            copy(drift, d);
            copy(diffusion, g);
        });
        if !ok {
            drift.fill(f64::NAN);
        }
    }

    fn drift_diffusion_dg(
        &self,
        x: &[f64],
        t: f64,
        drift: &mut [f64],
        diffusion: &mut [f64],
        dg: &mut [f64],
    ) {
        let n = self.state_len;
        let ok = self.sde_call(KernelKind::DriftDiffusionDg, x, t, 3 * n, |out| {
            let (d, rest) = out.split_at(n);
            let (g, gp) = rest.split_at(n);
            copy(drift, d);
            copy(diffusion, g);
            copy(dg, gp);
        });
        if !ok {
            drift.fill(f64::NAN);
        }
    }

    fn noise(&self) -> NoiseShape {
        self.noise
    }

    fn strat_drift_diffusion(&self, x: &[f64], t: f64, drift: &mut [f64], diffusion: &mut [f64]) {
        let n = self.state_len;
        let ok = self.sde_call(KernelKind::StratDriftDiffusion, x, t, 2 * n, |out| {
            let (d, g) = out.split_at(n);
            copy(drift, d);
            copy(diffusion, g);
        });
        if !ok {
            drift.fill(f64::NAN);
        }
    }

    fn drift_noise(&self, x: &[f64], t: f64, drift: &mut [f64], g: &mut [f64]) {
        self.matrix_call(KernelKind::DriftNoise, x, t, drift, g, false);
    }

    fn strat_drift_noise(&self, x: &[f64], t: f64, drift: &mut [f64], g: &mut [f64]) {
        self.matrix_call(KernelKind::StratDriftNoise, x, t, drift, g, true);
    }
}

impl CompiledModel {
    /// A drift-and-matrix kernel; with diagonal noise the diagonal kernels, embedded.
    fn matrix_call(
        &self,
        kind: KernelKind,
        x: &[f64],
        t: f64,
        drift: &mut [f64],
        g: &mut [f64],
        strat: bool,
    ) {
        let n = self.state_len;
        if self.noise.diagonal {
            g.fill(0.0);
            let kind = if strat {
                KernelKind::StratDriftDiffusion
            } else {
                KernelKind::DriftDiffusion
            };
            let ok = self.sde_call(kind, x, t, 2 * n, |out| {
                let (d, diag) = out.split_at(n);
                copy(drift, d);
                for (k, v) in diag.iter().enumerate() {
                    if let Some(e) = g.get_mut(k * n + k) {
                        *e = *v;
                    }
                }
            });
            if !ok {
                drift.fill(f64::NAN);
            }
            return;
        }
        let len = n + n * self.noise.dim;
        let ok = self.sde_call(kind, x, t, len, |out| {
            let (d, m) = out.split_at(n);
            copy(drift, d);
            copy(g, m);
        });
        if !ok {
            drift.fill(f64::NAN);
        }
    }
}
