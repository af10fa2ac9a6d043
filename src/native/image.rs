//! The model a standalone sampler binary has linked in.
//!
//! `sde build` emits an object file whose read-only data holds one
//! [`ModelImage`]: a magic number, the format version, the encoded model
//! description (`standalone::desc`) and a table of kernel addresses, one slot per
//! [`KernelKind`] in [`KernelKind::ALL`] order (null where the model has no such
//! kernel). The object's `main` passes the image's address to the runtime's
//! entry point, which reads it here, once, behind checks.

use super::abi::{KernelFn, RawKernel};
use super::KernelKind;
use std::collections::HashMap;

/// `SDEMODEL`, read as a native-endian u64.
pub const MAGIC: u64 = u64::from_ne_bytes(*b"SDEMODEL");

/// Version of the image layout and of the description format; a binary and the
/// runtime it was linked with always agree (they are built together), so a
/// mismatch means a corrupted or foreign image.
pub const VERSION: u64 = 2;

/// Number of kernel slots.
pub const SLOTS: usize = KernelKind::ALL.len();

/// The linked-in image, as laid out by `codegen::object`: every field is one
/// 64-bit word (objects are emitted for 64-bit targets only).
#[repr(C)]
pub struct ModelImage {
    /// [`MAGIC`].
    pub magic: u64,
    /// [`VERSION`].
    pub version: u64,
    /// The encoded description.
    pub desc: *const u8,
    /// Its length in bytes.
    pub desc_len: u64,
    /// Kernel addresses by [`KernelKind::slot`].
    pub kernels: [Option<RawKernel>; SLOTS],
}

/// Byte size of a [`ModelImage`] (the emitter lays out the same words).
pub const IMAGE_BYTES: usize = 8 * (4 + SLOTS);

/// What an image holds, in safe types.
pub struct Linked<'a> {
    /// The encoded description.
    pub desc: &'a [u8],
    /// The kernel addresses present.
    pub kernels: Vec<(KernelKind, RawKernel)>,
}

/// Reads an image.
///
/// # Safety
/// `image` must be null or point to a [`ModelImage`] that lives for `'a`, whose
/// `desc` points to `desc_len` readable bytes, and whose kernel slots hold null
/// or functions with the [`RawKernel`] signature, as `codegen::object` emits
/// them. The magic number and version are checked before anything else is read
/// through a pointer.
pub unsafe fn read<'a>(image: *const ModelImage) -> Result<Linked<'a>, String> {
    // SAFETY: the caller guarantees `image` is null or valid for 'a.
    let Some(img) = (unsafe { image.as_ref() }) else {
        return Err("no model image".into());
    };
    if img.magic != MAGIC || img.version != VERSION {
        return Err("the model image is corrupt or from another version".into());
    }
    let len = usize::try_from(img.desc_len).map_err(|_| "model description too long".to_string())?;
    if img.desc.is_null() {
        return Err("the model image has no description".into());
    }
    // SAFETY: the caller guarantees `desc` points to `desc_len` bytes living for 'a.
    let desc = unsafe { std::slice::from_raw_parts(img.desc, len) };
    let kernels = KernelKind::ALL
        .iter()
        .zip(img.kernels.iter())
        .filter_map(|(kind, f)| f.map(|f| (*kind, f)))
        .collect();
    Ok(Linked { desc, kernels })
}

/// Wraps linked kernels with the buffer lengths of the model description.
///
/// # Safety
/// Each kernel must read at most `env_len` and `state_len` elements of its
/// inputs and write at most the output length given for its kind in `out_lens`
/// (true of the kernels `sde build` emitted together with that description).
pub unsafe fn kernel_fns(
    kernels: &[(KernelKind, RawKernel)],
    out_lens: &[(KernelKind, usize)],
    env_len: usize,
    state_len: usize,
) -> Option<HashMap<KernelKind, KernelFn>> {
    let mut out = HashMap::new();
    for (kind, f) in kernels {
        let out_len = out_lens.iter().find(|(k, _)| k == kind)?.1;
        // SAFETY: the caller guarantees the buffer lengths; the code is part of
        // the executable, so it outlives every use.
        let kf = unsafe { KernelFn::new(*f as *const u8, env_len, state_len, out_len, None) };
        out.insert(*kind, kf);
    }
    Some(out)
}
