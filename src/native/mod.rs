//! Native code at run time: a model's compiled kernels behind the runtime's
//! traits. Shared by the JIT (`codegen`, in the `sde` process) and by standalone
//! sampler binaries (`sde build`, where the kernels were linked in ahead of time),
//! so both run a model through exactly the same calls.
//!
//! Vocabulary: a *kernel* is one native function with the machine signature in
//! [`abi`]; its [`KernelKind`] says what it computes and how its output buffer is
//! laid out. `env` is the parameter buffer (parameter values, then the tables the
//! *prelude* kernel computes from them); `state` is the flat state. [`libm`]
//! holds the transcendental functions generated code calls; [`image`] reads the
//! model a standalone binary has linked in.

pub mod abi;
pub mod image;
pub mod libm;
pub mod particles;

use crate::runtime::{GibbsTarget, NoiseShape, SdeSystem};
use abi::KernelFn;
use std::collections::HashMap;
use std::fmt;

/// What a kernel computes (its output layout follows from this).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KernelKind {
    /// Writes parameter tables into `env` (its `out` is `env`).
    Prelude,
    /// Returns U.
    Energy,
    /// Returns U, writes ∇U (n).
    EnergyGrad,
    /// Writes ∇U (n).
    Grad,
    /// Writes the dense Hessian (n×n, row-major).
    Hessian,
    /// Writes the Itô drift (n) then the diffusion (n).
    DriftDiffusion,
    /// Writes drift (n), diffusion (n), ∂gᵢ/∂xᵢ (n).
    DriftDiffusionDg,
    /// Writes the dense drift Jacobian (n×n, row-major).
    Jacobian,
    /// Writes the Stratonovich drift (n) then the diagonal diffusion (n).
    StratDriftDiffusion,
    /// Writes the Itô drift (n) then the diffusion matrix G (n×m, row-major), for
    /// non-diagonal noise.
    DriftNoise,
    /// Writes the Stratonovich drift (n) then G (n×m), for non-diagonal noise.
    StratDriftNoise,
    /// Writes each energy term (one per term).
    EnergyTerms,
    /// Writes each per-draw observable (one per observable).
    Observables,
    /// Writes the minibatch estimate of ∇U (n) over the rows of the context's batch list.
    BatchGrad,
}

impl KernelKind {
    /// Every kind, in a fixed order: a kind's position here is its slot in a
    /// standalone binary's kernel table ([`image`]).
    pub const ALL: [KernelKind; 14] = [
        KernelKind::Prelude,
        KernelKind::Energy,
        KernelKind::EnergyGrad,
        KernelKind::Grad,
        KernelKind::Hessian,
        KernelKind::DriftDiffusion,
        KernelKind::DriftDiffusionDg,
        KernelKind::Jacobian,
        KernelKind::EnergyTerms,
        KernelKind::StratDriftDiffusion,
        KernelKind::DriftNoise,
        KernelKind::StratDriftNoise,
        KernelKind::Observables,
        KernelKind::BatchGrad,
    ];

    /// The kernels a run calls (`sde run` compiles only these, and so does `sde build`).
    pub const RUN: [KernelKind; 10] = [
        KernelKind::Energy,
        KernelKind::EnergyGrad,
        KernelKind::Grad,
        KernelKind::DriftDiffusion,
        KernelKind::DriftDiffusionDg,
        KernelKind::StratDriftDiffusion,
        KernelKind::DriftNoise,
        KernelKind::StratDriftNoise,
        KernelKind::Observables,
        KernelKind::BatchGrad,
    ];

    /// Position in [`KernelKind::ALL`].
    pub fn slot(self) -> usize {
        KernelKind::ALL.iter().position(|k| *k == self).unwrap_or(0)
    }
}

impl fmt::Display for KernelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            KernelKind::Prelude => "prelude",
            KernelKind::Energy => "energy",
            KernelKind::EnergyGrad => "energy_grad",
            KernelKind::Grad => "grad",
            KernelKind::Hessian => "hessian",
            KernelKind::DriftDiffusion => "drift_diffusion",
            KernelKind::DriftDiffusionDg => "drift_diffusion_dg",
            KernelKind::Jacobian => "jacobian",
            KernelKind::StratDriftDiffusion => "strat_drift_diffusion",
            KernelKind::DriftNoise => "drift_noise",
            KernelKind::StratDriftNoise => "strat_drift_noise",
            KernelKind::EnergyTerms => "energy_terms",
            KernelKind::Observables => "observables",
            KernelKind::BatchGrad => "batch_grad",
        };
        f.write_str(name)
    }
}

/// A model's kernels and the parameter buffer they read: everything a run needs.
/// Cheap to share across threads.
#[derive(Clone, Debug)]
pub struct NativeModel {
    kernels: HashMap<KernelKind, KernelFn>,
    env: Vec<f64>,
    state_len: usize,
    noise: NoiseShape,
    ctx: abi::CtxShape,
    /// What owns the kernels' code (JIT memory), kept alive by every clone.
    owner: Option<std::sync::Arc<dyn std::any::Any + Send + Sync>>,
}

impl NativeModel {
    /// Wraps kernels, runs the prelude over `env` (parameter values; the table
    /// region is overwritten) and returns the model, or `None` if there is no
    /// prelude or `env` is shorter than the prelude needs.
    pub fn new(
        kernels: HashMap<KernelKind, KernelFn>,
        env: Vec<f64>,
        state_len: usize,
        noise: NoiseShape,
    ) -> Option<NativeModel> {
        let ctx = kernels
            .values()
            .find_map(|k| k.ctx_shape().cloned())
            .unwrap_or_default();
        let mut m = NativeModel {
            kernels,
            env,
            state_len,
            noise,
            ctx,
            owner: None,
        };
        let prelude = m.kernels.get(&KernelKind::Prelude).cloned()?;
        let dummy = vec![0.0; m.state_len];
        prelude.call_in_place(&mut m.env, &dummy)?;
        Some(m)
    }

    /// The same model, keeping `owner` (the memory its kernels' code lives in) alive for
    /// as long as it or any clone of it exists.
    pub fn owning(mut self, owner: std::sync::Arc<dyn std::any::Any + Send + Sync>) -> NativeModel {
        self.owner = Some(owner);
        self
    }

    /// Number of state components.
    pub fn dim(&self) -> usize {
        self.state_len
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

    /// What the kernels read from their run-time context (nothing for models
    /// without particles).
    pub fn ctx_shape(&self) -> &abi::CtxShape {
        &self.ctx
    }

    /// Calls a kernel with a run-time context (see [`abi::KernelCtx`]).
    pub fn call_with(
        &self,
        kind: KernelKind,
        state: &[f64],
        t: f64,
        out: &mut [f64],
        ctx: &abi::KernelCtx,
    ) -> Option<f64> {
        self.kernels.get(&kind)?.call_with(&self.env, state, t, out, ctx)
    }
}

impl crate::driver::Observer for NativeModel {
    fn observe(&self, x: &[f64], t: f64, out: &mut [f64]) -> bool {
        self.call(KernelKind::Observables, x, t, out).is_some()
    }
}

impl GibbsTarget for NativeModel {
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

    fn hessian(&self, x: &[f64], out: &mut [f64]) -> bool {
        self.call(KernelKind::Hessian, x, 0.0, out).is_some()
    }

    /// The bound of the batch list, the context's last list.
    fn data_rows(&self) -> Option<usize> {
        if !self.has(KernelKind::BatchGrad) {
            return None;
        }
        self.ctx.lists.last().map(|(_, bound)| *bound)
    }

    fn batch_grad(&self, x: &[f64], rows: &[u32], grad: &mut [f64]) -> bool {
        let Some(bound) = self.data_rows() else {
            return false;
        };
        BATCH_LIST.with(|cell| {
            let Ok(mut list) = cell.try_borrow_mut() else {
                return false;
            };
            if !list.set_single_row(rows, bound) {
                return false;
            }
            let mut ctx = abi::KernelCtx::whole(&self.ctx);
            if !ctx.set_list(self.ctx.lists.len().saturating_sub(1), &list) {
                return false;
            }
            self.call_with(KernelKind::BatchGrad, x, 0.0, grad, &ctx)
                .is_some()
        })
    }
}

thread_local! {
    /// Per-thread batch list of [`GibbsTarget::batch_grad`], reused across calls.
    static BATCH_LIST: std::cell::RefCell<abi::CheckedList> = std::cell::RefCell::new(abi::CheckedList::default());
}

thread_local! {
    /// Per-thread output buffer of the SDE kernels: grown once, then reused, so
    /// the step loop never allocates.
    static SDE_OUT: std::cell::RefCell<Vec<f64>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl NativeModel {
    /// Calls an SDE kernel writing `len` values and hands them to `split`;
    /// false if the kernel cannot run.
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

impl SdeSystem for NativeModel {
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

impl NativeModel {
    /// Drift and the noise matrix (n×m, or n×k blocks); diagonal models expand
    /// their diagonal.
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
        let len = n + n * self.noise.row_len();
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
