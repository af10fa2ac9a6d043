//! The one place generated code is called: raw function pointers behind safe,
//! length-checked wrappers.
//!
//! Every kernel has the machine signature
//! `extern "C" fn(env: *const f64, state: *const f64, t: f64, out: *mut f64) -> f64`
//! and reads only `env[..env_len]`, `state[..state_len]` and writes only
//! `out[..out_len]`: the checker proved every index in bounds, and the lowering
//! derives every output index from those proofs.

/// The machine signature of every kernel.
pub type RawKernel = unsafe extern "C" fn(*const f64, *const f64, f64, *mut f64) -> f64;

/// A compiled kernel with the buffer lengths it was compiled for.
#[derive(Clone, Copy, Debug)]
pub struct KernelFn {
    ptr: RawKernel,
    env_len: usize,
    state_len: usize,
    out_len: usize,
}

impl KernelFn {
    /// Wraps a finalized function pointer.
    ///
    /// # Safety
    /// `ptr` must point to finalized code with the [`RawKernel`] signature that
    /// accesses at most `env_len`, `state_len` and `out_len` elements of its three
    /// buffers, and the code must outlive every use of the returned value.
    pub unsafe fn new(ptr: *const u8, env_len: usize, state_len: usize, out_len: usize) -> KernelFn {
        // SAFETY: the caller guarantees `ptr` is a function with this signature.
        let ptr = unsafe { std::mem::transmute::<*const u8, RawKernel>(ptr) };
        KernelFn {
            ptr,
            env_len,
            state_len,
            out_len,
        }
    }

    /// Length of the output buffer.
    pub fn out_len(&self) -> usize {
        self.out_len
    }

    /// Calls the kernel. Returns `None` (without calling) if a buffer is shorter
    /// than the kernel needs.
    pub fn call(&self, env: &[f64], state: &[f64], t: f64, out: &mut [f64]) -> Option<f64> {
        if env.len() < self.env_len || state.len() < self.state_len || out.len() < self.out_len {
            return None;
        }
        // SAFETY: lengths checked above; the kernel stays inside them (see module doc),
        // and `out` is exclusively borrowed, so it aliases neither `env` nor `state`.
        Some(unsafe { (self.ptr)(env.as_ptr(), state.as_ptr(), t, out.as_mut_ptr()) })
    }

    /// Calls a kernel whose output buffer is `env` itself (the prelude, which fills
    /// the table region of `env` from its parameter region).
    pub fn call_in_place(&self, env: &mut [f64], state: &[f64]) -> Option<f64> {
        if env.len() < self.env_len.max(self.out_len) || state.len() < self.state_len {
            return None;
        }
        let p = env.as_mut_ptr();
        // SAFETY: lengths checked; the prelude reads the parameter region and writes
        // the disjoint table region through the same exclusive borrow.
        Some(unsafe { (self.ptr)(p as *const f64, state.as_ptr(), 0.0, p) })
    }
}
