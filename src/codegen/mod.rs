//! The code generation stage: kernels → Cranelift IR → native code, either in
//! memory (JIT), wrapped in a [`CompiledModel`] that the runtime drives, or as a
//! relocatable object file ([`object`]) for standalone sampler binaries.
//!
//! Vocabulary: a *kernel* (from `lower`) becomes one native function with the
//! signature in [`abi`]; all of a model's kernels live in one module (a JIT
//! module kept alive by the `CompiledModel`, or an object file). Both back ends
//! build every kernel with the same [`build_function`] and the same Cranelift
//! settings apart from position independence, so they run the same instructions.
//! Transcendentals are calls to the wrappers in [`libm`]; `sqrt`, `abs`, `min`,
//! `max` and arithmetic are instructions.

mod compiled;
mod emit;
pub mod object;
mod vmath;

pub use crate::native::{abi, libm};
pub use compiled::CompiledModel;

use crate::lower::{Kernel, KernelKind, Lowered};
use abi::KernelFn;
use cranelift_codegen::ir::{types, AbiParam, FuncRef, Function, UserFuncName};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{default_libcall_names, FuncId, Linkage, Module};
use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, Instant};

/// Why code generation failed. These are internal errors: a checked model always
/// compiles, so the front doors render them as "internal compiler error".
#[derive(Debug, Clone, PartialEq)]
pub struct CodegenError {
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for CodegenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

fn err(message: impl fmt::Display) -> CodegenError {
    CodegenError {
        message: message.to_string(),
    }
}

/// Choices of code generation that change how fast kernels run, never what they compute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodegenOptions {
    /// Run loops that qualify two iterations at a time in vector lanes (`emit::lanes`).
    pub lane_loops: bool,
}

impl Default for CodegenOptions {
    fn default() -> Self {
        CodegenOptions { lane_loops: true }
    }
}

/// Compile-time statistics.
#[derive(Clone, Debug, Default)]
pub struct CodegenStats {
    /// Wall time of IR construction and machine-code generation.
    pub time: Duration,
    /// Number of Cranelift IR instructions emitted, per kernel.
    pub instructions: Vec<(KernelKind, usize)>,
    /// Loops emitted two iterations at a time in vector lanes, over all kernels.
    pub lane_loops: usize,
}

/// The JIT module; kept alive as long as its code may run, freed on drop.
pub(crate) struct CodeMemory(Option<JITModule>);

impl Drop for CodeMemory {
    fn drop(&mut self) {
        if let Some(module) = self.0.take() {
            // SAFETY: the only pointers into this code are the KernelFns of the
            // NativeModels that hold this CodeMemory alive (see `NativeModel::owning`):
            // the last of them is gone when it is dropped.
            unsafe { module.free_memory() };
        }
    }
}

// SAFETY: after `finalize_definitions` the module is never used again except to be
// dropped; the code it owns is immutable and only executed through `KernelFn`.
unsafe impl Send for CodeMemory {}
// SAFETY: as above: no method of the module is called concurrently.
unsafe impl Sync for CodeMemory {}

struct ModuleCallee<'m, M: Module> {
    module: &'m mut M,
    ids: &'m HashMap<&'static str, FuncId>,
    refs: HashMap<&'static str, FuncRef>,
}

impl<M: Module> emit::Callee for ModuleCallee<'_, M> {
    fn callee(&mut self, b: &mut FunctionBuilder, name: &'static str) -> Option<FuncRef> {
        if let Some(r) = self.refs.get(name) {
            return Some(*r);
        }
        let id = self.ids.get(name)?;
        let r = self.module.declare_func_in_func(*id, b.func);
        self.refs.insert(name, r);
        Some(r)
    }
}

/// The shared Cranelift flags; only position independence differs between the
/// JIT (`is_pic = false`, which JITModule requires) and object files
/// (`is_pic = true`: no text relocations in a position-independent executable).
fn flags(pic: bool) -> Result<settings::Flags, CodegenError> {
    let mut flags = settings::builder();
    flags.set("use_colocated_libcalls", "false").map_err(err)?;
    flags
        .set("is_pic", if pic { "true" } else { "false" })
        .map_err(err)?;
    flags.set("opt_level", "speed").map_err(err)?;
    Ok(settings::Flags::new(flags))
}

fn jit_module() -> Result<JITModule, CodegenError> {
    let isa = cranelift_native::builder()
        .map_err(err)?
        .finish(flags(false)?)
        .map_err(err)?;
    let mut builder = JITBuilder::with_isa(isa, default_libcall_names());
    // Every callee is registered explicitly, so no symbol is resolved with dlsym.
    for (name, _, ptr) in libm::symbols() {
        builder.symbol(name, ptr);
    }
    Ok(JITModule::new(builder))
}

/// Compiles the prelude and the requested kernels (all kernels of the lowered
/// program when `only` is empty).
pub fn compile(lowered: &Lowered, only: &[KernelKind]) -> Result<CompiledModel, CodegenError> {
    compile_with(lowered, only, CodegenOptions::default())
}

/// [`compile`] with explicit code generation options.
pub fn compile_with(
    lowered: &Lowered,
    only: &[KernelKind],
    options: CodegenOptions,
) -> Result<CompiledModel, CodegenError> {
    let start = Instant::now();
    let mut module = jit_module()?;
    let mut stats = CodegenStats::default();
    let defined = define_kernels(&mut module, lowered, only, (Linkage::Local, options), &mut stats)?;
    module.finalize_definitions().map_err(err)?;
    let layout = &lowered.layout;
    let shape = std::sync::Arc::new(layout.ctx.clone());
    let mut kernels = HashMap::new();
    for (kind, out_len, id, reads_ctx) in defined {
        let p = module.get_finalized_function(id);
        let ctx = reads_ctx.then(|| shape.clone());
        // SAFETY: `p` is finalized code with the kernel signature built above; it
        // accesses only the buffer lengths given (module doc of `abi`), reads a
        // context of the layout's shape exactly when `reads_ctx`, and the module
        // that owns it is stored in the CompiledModel with the KernelFn.
        let f = unsafe { KernelFn::new(p, layout.env_len, layout.state_len, out_len, ctx) };
        kernels.insert(kind, f);
    }
    stats.time = start.elapsed();
    CompiledModel::new(CodeMemory(Some(module)), kernels, lowered, stats)
}

/// Declares the libm wrappers as imports of `module`.
fn declare_libm<M: Module>(module: &mut M) -> Result<HashMap<&'static str, FuncId>, CodegenError> {
    let mut ids = HashMap::new();
    for (name, arity, _) in libm::symbols() {
        let mut sig = module.make_signature();
        for _ in 0..arity {
            sig.params.push(AbiParam::new(types::F64));
        }
        sig.returns.push(AbiParam::new(types::F64));
        let id = module
            .declare_function(name, Linkage::Import, &sig)
            .map_err(err)?;
        ids.insert(name, id);
    }
    Ok(ids)
}

/// The kernels `only` asks for (all when empty), the prelude first.
fn wanted<'l>(lowered: &'l Lowered, only: &[KernelKind]) -> Vec<&'l Kernel> {
    std::iter::once(&lowered.prelude)
        .chain(
            lowered
                .kernels
                .iter()
                .filter(|k| only.is_empty() || only.contains(&k.kind)),
        )
        .collect()
}

/// Defines the prelude and the wanted kernels in `module`, each with the kernel
/// signature, named `sdelang_kernel_<kind>`; returns (kind, out_len, id, reads ctx).
fn define_kernels<M: Module>(
    module: &mut M,
    lowered: &Lowered,
    only: &[KernelKind],
    (linkage, options): (Linkage, CodegenOptions),
    stats: &mut CodegenStats,
) -> Result<Vec<(KernelKind, usize, FuncId, bool)>, CodegenError> {
    let ids = declare_libm(module)?;
    let mut sig = module.make_signature();
    let ptr = module.target_config().pointer_type();
    for ty in [ptr, ptr, types::F64, ptr, ptr] {
        sig.params.push(AbiParam::new(ty));
    }
    sig.returns.push(AbiParam::new(types::F64));
    let mut ctx = module.make_context();
    let mut fctx = FunctionBuilderContext::new();
    let mut defined = Vec::new();
    for kernel in wanted(lowered, only) {
        let id = module
            .declare_function(&format!("sdelang_kernel_{}", kernel.kind), linkage, &sig)
            .map_err(err)?;
        ctx.func = Function::with_name_signature(UserFuncName::user(0, id.as_u32()), sig.clone());
        let (insts, lane_loops) =
            build_function(&mut ctx.func, &mut fctx, (module, &ids), lowered, kernel, options)?;
        stats.instructions.push((kernel.kind, insts));
        stats.lane_loops += lane_loops;
        module
            .define_function(id, &mut ctx)
            .map_err(|e| err(format!("{}: {e:?}", kernel.kind)))?;
        module.clear_context(&mut ctx);
        defined.push((kernel.kind, kernel.out_len, id, kernel.reads_ctx(&lowered.arena)));
    }
    Ok(defined)
}

/// Builds one kernel's IR into `func`; returns its instruction count and the number of
/// its loops run in lanes.
fn build_function<M: Module>(
    func: &mut Function,
    fctx: &mut FunctionBuilderContext,
    (module, ids): (&mut M, &HashMap<&'static str, FuncId>),
    lowered: &Lowered,
    kernel: &Kernel,
    options: CodegenOptions,
) -> Result<(usize, usize), CodegenError> {
    let frontend = module.target_config();
    let mut callee = ModuleCallee {
        module,
        ids,
        refs: HashMap::new(),
    };
    let mut b = FunctionBuilder::new(func, fctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    let p = b.block_params(entry).to_vec();
    let params = match p.as_slice() {
        [a, s, t, o, c] => [*a, *s, *t, *o, *c],
        _ => return Err(err("kernel signature has the wrong number of parameters")),
    };
    let mut e = emit::Emitter::new(b, &lowered.arena, &lowered.layout, &mut callee, params)
        .with_lane_loops(options.lane_loops);
    e.kernel(kernel);
    if let Some(msg) = e.failed.take() {
        return Err(err(msg));
    }
    let lane_loops = e.lane_loops_emitted;
    e.b.seal_all_blocks();
    e.b.finalize(frontend);
    Ok((func.dfg.num_insts(), lane_loops))
}
