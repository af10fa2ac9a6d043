//! Ahead-of-time code generation: a model's kernels as a relocatable object
//! file, for a standalone sampler binary.
//!
//! The object holds:
//! - the prelude and the run kernels, built exactly as the JIT builds them
//!   ([`super::define_kernels`]) and exported as `sdelang_kernel_<kind>`;
//!   transcendentals are imports of the `sdelang_*` wrappers, which the runtime
//!   library exports;
//! - `sdelang_model_desc`, the encoded model description, and `sdelang_model`, a
//!   [`ModelImage`](crate::native::image::ModelImage) pointing to it and to the
//!   kernels (read-only data with relocations);
//! - `main(argc, argv)`, which calls the runtime's
//!   `sdelang_standalone_main(argc, argv, &sdelang_model)`, so the binary needs
//!   no C source of its own.
//!
//! Code is position-independent (executables are PIE by default), and the ISA
//! is the host's architecture with its baseline features, so the binary also
//! runs on older machines of the same architecture. Floating-point results do
//! not depend on ISA features here: the kernels use no fused multiply-add.

use super::{define_kernels, err, flags, CodegenError, CodegenOptions, CodegenStats};
use crate::lower::{KernelKind, Lowered};
use crate::native::image::{IMAGE_BYTES, MAGIC, VERSION};
use cranelift_codegen::ir::{types, AbiParam, Function, InstBuilder, UserFuncName};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_module::{default_libcall_names, DataDescription, DataId, FuncId, Linkage, Module};
use cranelift_object::{ObjectBuilder, ObjectModule};

/// The entry point of the runtime library that `main` calls.
pub const ENTRY: &str = "sdelang_standalone_main";

/// Emits the object file of a standalone binary: the prelude and the kernels
/// `only` asks for (all when empty), the description `desc`, the image and `main`.
pub fn emit_object(lowered: &Lowered, only: &[KernelKind], desc: &[u8]) -> Result<Vec<u8>, CodegenError> {
    let isa = cranelift_native::builder_with_options(false)
        .map_err(err)?
        .finish(flags(true)?)
        .map_err(err)?;
    if isa.pointer_bytes() != 8 {
        return Err(err("standalone binaries need a 64-bit target"));
    }
    let builder = ObjectBuilder::new(isa, "sdelang_model", default_libcall_names()).map_err(err)?;
    let mut module = ObjectModule::new(builder);
    let mut stats = CodegenStats::default();
    let kernels = define_kernels(
        &mut module,
        lowered,
        only,
        (Linkage::Export, CodegenOptions::default()),
        &mut stats,
    )?;
    if kernels.iter().any(|k| k.3) {
        return Err(err(
            "standalone binaries of particle models are not supported yet",
        ));
    }
    let kernels: Vec<(KernelKind, usize, FuncId)> =
        kernels.into_iter().map(|(k, n, id, _)| (k, n, id)).collect();

    let desc_id = module
        .declare_data("sdelang_model_desc", Linkage::Local, false, false)
        .map_err(err)?;
    let mut data = DataDescription::new();
    data.define(desc.to_vec().into_boxed_slice());
    module.define_data(desc_id, &data).map_err(err)?;

    let image_id = define_image(&mut module, desc_id, desc.len(), &kernels)?;
    define_main(&mut module, image_id)?;
    module.finish().emit().map_err(err)
}

/// The image: magic, version, description pointer and length, kernel table.
fn define_image(
    module: &mut ObjectModule,
    desc_id: DataId,
    desc_len: usize,
    kernels: &[(KernelKind, usize, FuncId)],
) -> Result<DataId, CodegenError> {
    let image_id = module
        .declare_data("sdelang_model", Linkage::Export, false, false)
        .map_err(err)?;
    let mut bytes = vec![0u8; IMAGE_BYTES];
    let words = [MAGIC, VERSION, 0, desc_len as u64];
    for (chunk, w) in bytes.chunks_exact_mut(8).zip(words) {
        chunk.copy_from_slice(&w.to_ne_bytes());
    }
    let mut data = DataDescription::new();
    data.define(bytes.into_boxed_slice());
    data.set_align(8);
    // Pointers are relocations filled in by the linker (and the loader, in a PIE).
    let desc_gv = module.declare_data_in_data(desc_id, &mut data);
    data.write_data_addr(16, desc_gv, 0);
    for (kind, _, id) in kernels {
        let f = module.declare_func_in_data(*id, &mut data);
        let offset = u32::try_from(32 + 8 * kind.slot()).map_err(err)?;
        data.write_function_addr(offset, f);
    }
    module.define_data(image_id, &data).map_err(err)?;
    Ok(image_id)
}

/// `int main(int argc, char **argv) { return sdelang_standalone_main(argc, argv, &sdelang_model); }`
fn define_main(module: &mut ObjectModule, image_id: DataId) -> Result<(), CodegenError> {
    let ptr = module.target_config().pointer_type();
    let mut entry_sig = module.make_signature();
    for ty in [types::I32, ptr, ptr] {
        entry_sig.params.push(AbiParam::new(ty));
    }
    entry_sig.returns.push(AbiParam::new(types::I32));
    let entry = module
        .declare_function(ENTRY, Linkage::Import, &entry_sig)
        .map_err(err)?;

    let mut sig = module.make_signature();
    sig.params.push(AbiParam::new(types::I32));
    sig.params.push(AbiParam::new(ptr));
    sig.returns.push(AbiParam::new(types::I32));
    let main_id = module
        .declare_function("main", Linkage::Export, &sig)
        .map_err(err)?;
    let mut ctx = module.make_context();
    ctx.func = Function::with_name_signature(UserFuncName::user(0, main_id.as_u32()), sig);
    let mut fctx = FunctionBuilderContext::new();
    {
        let entry_ref = module.declare_func_in_func(entry, &mut ctx.func);
        let image_gv = module.declare_data_in_func(image_id, &mut ctx.func);
        let mut b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
        let block = b.create_block();
        b.append_block_params_for_function_params(block);
        b.switch_to_block(block);
        let (argc, argv) = match b.block_params(block) {
            [argc, argv] => (*argc, *argv),
            _ => return Err(err("main has the wrong number of parameters")),
        };
        let image = b.ins().symbol_value(ptr, image_gv);
        let call = b.ins().call(entry_ref, &[argc, argv, image]);
        let code = match b.inst_results(call) {
            [code] => *code,
            _ => return Err(err("the entry point returns one value")),
        };
        b.ins().return_(&[code]);
        b.seal_all_blocks();
        b.finalize(module.target_config());
    }
    module.define_function(main_id, &mut ctx).map_err(err)?;
    Ok(())
}
