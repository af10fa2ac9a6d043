//! The one place generated code is called: raw function pointers behind safe,
//! length-checked wrappers.
//!
//! Every kernel has the machine signature
//! `extern "C" fn(env: *const f64, state: *const f64, t: f64, out: *mut f64, ctx: *const u64) -> f64`
//! and reads only `env[..env_len]`, `state[..state_len]` and writes only
//! `out[..out_len]`: the checker proved every index in bounds, and the lowering
//! derives every output index from those proofs.
//!
//! `ctx` carries what is only known while running (see [`CtxShape`]): the block of
//! each loop group a kernel evaluates (kernels of particle models run block by
//! block), and the run-time lists it loops over (neighbour lists, bonds, random
//! batches). A list's entries are indices the kernel uses to read the state and
//! write its output, so lists are validated once, when built ([`CheckedList`]),
//! against the row count and bound the kernel was compiled for; every call checks
//! that each list it passes has that shape. Kernels that read no `ctx` get a null
//! pointer.

use std::sync::Arc;

/// The machine signature of every kernel.
pub type RawKernel = unsafe extern "C" fn(*const f64, *const f64, f64, *mut f64, *const u64) -> f64;

/// Most words a kernel context holds.
pub const MAX_CTX_WORDS: usize = 64;

/// What a model's kernels read through `ctx`: the number of block groups (particle
/// sets) and the shape `(rows, bound)` of each run-time list, in `ListId` order.
///
/// Word layout: group `g` < `groups` has its block `[lo, hi)` at words `2g, 2g + 1`;
/// the unit group (terms outside particle loops, the range `0..1`) at
/// `2·groups, 2·groups + 1`; list `l` has the address of its row starts (`u32`,
/// `rows + 1` of them) at word `2·(groups + 1) + 2l` and of its entries (`u32`,
/// each `< bound`) at the next word.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CtxShape {
    /// Number of block groups besides the unit group.
    pub groups: usize,
    /// `(rows, bound)` of each list.
    pub lists: Vec<(usize, usize)>,
}

impl CtxShape {
    /// Number of words of a context of this shape.
    pub fn words(&self) -> usize {
        2 * (self.groups + 1) + 2 * self.lists.len()
    }

    /// Word offset of block group `g` ([`crate::model::Over::UNIT`] is the unit group).
    pub fn group_word(&self, g: u32) -> usize {
        if g == crate::model::Over::UNIT {
            2 * self.groups
        } else {
            2 * g as usize
        }
    }

    /// Word offset of list `l`.
    pub fn list_word(&self, l: usize) -> usize {
        2 * (self.groups + 1) + 2 * l
    }
}

/// A run-time list in CSR form whose entries have been checked: `start` has
/// `rows + 1` non-decreasing entries ending at `idx.len()`, and every entry of
/// `idx` is below `bound`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckedList {
    start: Vec<u32>,
    idx: Vec<u32>,
    rows: usize,
    bound: usize,
}

impl CheckedList {
    /// Checks a list; `None` if it is malformed or an entry is out of bounds.
    pub fn new(start: Vec<u32>, idx: Vec<u32>, rows: usize, bound: usize) -> Option<CheckedList> {
        let list = CheckedList {
            start,
            idx,
            rows,
            bound,
        };
        list.valid().then_some(list)
    }

    fn valid(&self) -> bool {
        let ends =
            self.start.first() == Some(&0) && self.start.last().map(|e| *e as usize) == Some(self.idx.len());
        ends && self.start.len() == self.rows + 1
            && self.start.windows(2).all(|w| w.first() <= w.get(1))
            && self.idx.iter().all(|j| (*j as usize) < self.bound)
    }

    /// Replaces the contents with what `fill` writes into empty vectors (sized like
    /// the current ones); false, and the list unchanged, if they are not valid.
    pub fn refill(&mut self, fill: impl FnOnce(&mut Vec<u32>, &mut Vec<u32>)) -> bool {
        let mut new = CheckedList {
            start: Vec::with_capacity(self.start.len()),
            idx: Vec::with_capacity(self.idx.len()),
            rows: self.rows,
            bound: self.bound,
        };
        fill(&mut new.start, &mut new.idx);
        if !new.valid() {
            return false;
        }
        *self = new;
        true
    }

    /// Makes the list one row holding `entries`, reusing its buffers; false, and the list
    /// empty, if an entry is not below `bound`.
    pub fn set_single_row(&mut self, entries: &[u32], bound: usize) -> bool {
        self.start.clear();
        self.idx.clear();
        self.rows = 0;
        self.bound = bound;
        if !entries.iter().all(|e| (*e as usize) < bound) {
            return false;
        }
        let Ok(len) = u32::try_from(entries.len()) else {
            return false;
        };
        self.start.extend([0, len]);
        self.idx.extend_from_slice(entries);
        self.rows = 1;
        self.valid()
    }

    /// Row starts.
    pub fn start(&self) -> &[u32] {
        &self.start
    }

    /// Entries.
    pub fn idx(&self) -> &[u32] {
        &self.idx
    }

    /// `(rows, bound)`.
    pub fn shape(&self) -> (usize, usize) {
        (self.rows, self.bound)
    }
}

/// The run-time inputs of one kernel call: blocks and lists, laid out as `shape` says.
#[derive(Clone, Debug)]
pub struct KernelCtx<'a> {
    words: [u64; MAX_CTX_WORDS],
    shape: &'a CtxShape,
    lists: usize,
}

impl<'a> KernelCtx<'a> {
    /// A context in which every block covers everything (the whole range of every
    /// group, and the unit range) and no list is set yet.
    pub fn whole(shape: &'a CtxShape) -> KernelCtx<'a> {
        let mut words = [0u64; MAX_CTX_WORDS];
        for g in 0..=shape.groups {
            if let Some(w) = words.get_mut(2 * g + 1) {
                *w = if g == shape.groups { 1 } else { i64::MAX as u64 };
            }
        }
        KernelCtx {
            words,
            shape,
            lists: 0,
        }
    }

    /// Restricts group `g` to `[lo, hi)`.
    pub fn set_block(&mut self, g: u32, lo: i64, hi: i64) {
        let w = self.shape.group_word(g);
        if let Some([a, b]) = self
            .words
            .get_mut(w..w + 2)
            .and_then(|s| <&mut [u64; 2]>::try_from(s).ok())
        {
            *a = lo as u64;
            *b = hi as u64;
        }
    }

    /// Sets list `l`; false if its shape is not the compiled one.
    pub fn set_list(&mut self, l: usize, list: &'a CheckedList) -> bool {
        if self.shape.lists.get(l) != Some(&list.shape()) {
            return false;
        }
        let w = self.shape.list_word(l);
        match (self.words.get(w), self.words.get(w + 1)) {
            (Some(_), Some(_)) => {}
            _ => return false,
        }
        if let Some(a) = self.words.get_mut(w) {
            *a = list.start.as_ptr() as u64;
        }
        if let Some(b) = self.words.get_mut(w + 1) {
            *b = list.idx.as_ptr() as u64;
        }
        self.lists |= 1 << l;
        true
    }

    fn complete(&self) -> bool {
        let all = if self.shape.lists.len() >= usize::BITS as usize {
            usize::MAX
        } else {
            (1usize << self.shape.lists.len()) - 1
        };
        self.shape.words() <= MAX_CTX_WORDS && self.lists & all == all
    }
}

/// A compiled kernel with the buffer lengths it was compiled for.
#[derive(Clone, Debug)]
pub struct KernelFn {
    ptr: RawKernel,
    env_len: usize,
    state_len: usize,
    out_len: usize,
    /// The context the kernel reads, if it reads one.
    ctx: Option<Arc<CtxShape>>,
}

impl KernelFn {
    /// Wraps a finalized function pointer.
    ///
    /// # Safety
    /// `ptr` must point to finalized code with the [`RawKernel`] signature that
    /// accesses at most `env_len`, `state_len` and `out_len` elements of its three
    /// buffers, that reads a context of shape `ctx` (or none, if `None`), indexing
    /// buffers with list entries only where the list's bound allows, and the code
    /// must outlive every use of the returned value.
    pub unsafe fn new(
        ptr: *const u8,
        env_len: usize,
        state_len: usize,
        out_len: usize,
        ctx: Option<Arc<CtxShape>>,
    ) -> KernelFn {
        // SAFETY: the caller guarantees `ptr` is a function with this signature.
        let ptr = unsafe { std::mem::transmute::<*const u8, RawKernel>(ptr) };
        KernelFn {
            ptr,
            env_len,
            state_len,
            out_len,
            ctx,
        }
    }

    /// Length of the output buffer.
    pub fn out_len(&self) -> usize {
        self.out_len
    }

    /// The context shape the kernel reads, if any.
    pub fn ctx_shape(&self) -> Option<&CtxShape> {
        self.ctx.as_deref()
    }

    /// Calls the kernel. Returns `None` (without calling) if a buffer is shorter
    /// than the kernel needs or the kernel needs a context.
    pub fn call(&self, env: &[f64], state: &[f64], t: f64, out: &mut [f64]) -> Option<f64> {
        if self.ctx.is_some() {
            return None;
        }
        self.call_raw(env, state, t, out, std::ptr::null())
    }

    /// Calls the kernel with a context. Returns `None` (without calling) if a buffer
    /// is too short or the context is not of the kernel's shape or lacks a list.
    pub fn call_with(
        &self,
        env: &[f64],
        state: &[f64],
        t: f64,
        out: &mut [f64],
        ctx: &KernelCtx,
    ) -> Option<f64> {
        match &self.ctx {
            None => self.call(env, state, t, out),
            Some(shape) if **shape == *ctx.shape && ctx.complete() => {
                self.call_raw(env, state, t, out, ctx.words.as_ptr())
            }
            Some(_) => None,
        }
    }

    fn call_raw(&self, env: &[f64], state: &[f64], t: f64, out: &mut [f64], ctx: *const u64) -> Option<f64> {
        if env.len() < self.env_len || state.len() < self.state_len || out.len() < self.out_len {
            return None;
        }
        // SAFETY: lengths checked above; the kernel stays inside them (see module doc),
        // `out` is exclusively borrowed, so it aliases neither `env` nor `state`, and
        // `ctx` is null for kernels that read none or a complete context of the
        // compiled shape whose lists were validated against their bounds.
        Some(unsafe { (self.ptr)(env.as_ptr(), state.as_ptr(), t, out.as_mut_ptr(), ctx) })
    }

    /// Calls a kernel whose output buffer is `env` itself (the prelude, which fills
    /// the table region of `env` from its parameter region).
    pub fn call_in_place(&self, env: &mut [f64], state: &[f64]) -> Option<f64> {
        if self.ctx.is_some() || env.len() < self.env_len.max(self.out_len) || state.len() < self.state_len {
            return None;
        }
        let p = env.as_mut_ptr();
        // SAFETY: lengths checked; the prelude reads the parameter region and writes
        // the disjoint table region through the same exclusive borrow, and reads no context.
        Some(unsafe { (self.ptr)(p as *const f64, state.as_ptr(), 0.0, p, std::ptr::null()) })
    }
}
