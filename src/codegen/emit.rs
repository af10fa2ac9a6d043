//! Translating one kernel into Cranelift IR.
//!
//! Values are emitted on demand with a scoped cache: a node computed in a loop
//! body is valid only inside that body, a node computed before a loop is valid
//! in it. Before a loop starts, every node the loop needs that does not depend on
//! its variable is emitted first (loop-invariant code motion), so a mean used in
//! every term of a sum is computed once. Loops are explicit blocks with the index
//! and the reduction accumulators as block parameters. A sum over a constant range
//! of 16 or more values (a dot product over a data row) is split over four
//! accumulators, so its additions form four short dependency chains; its rounding
//! differs from a left-to-right sum in the last bits. Other loops and sums over a
//! long or non-constant range (pair loops, neighbour list rows) whose values need
//! only arithmetic run two iterations at a time in vector lanes, with the same
//! bits (`lanes`).

use crate::lower::{KStmt, Kernel, Layout};
use crate::model::{BinaryFn, Index, IndexVar, Over, ParamId, UnaryFn};
use crate::symbolic::{Arena, Node, NodeId};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    types, BlockArg, FuncRef, InstBuilder, MemFlagsData, StackSlot, StackSlotData, StackSlotKind, Value,
};
use cranelift_frontend::FunctionBuilder;
use std::collections::HashMap;

mod arith;
mod lanes;
mod reduce;

/// Resolves a libm symbol to a function reference inside the current function.
pub trait Callee {
    /// The reference for `name` (declared in the module on first use).
    fn callee(&mut self, b: &mut FunctionBuilder, name: &'static str) -> Option<FuncRef>;
}

/// Emits one kernel's body into a function builder whose entry block is current.
pub struct Emitter<'a, 'b, C: Callee> {
    /// The builder.
    pub b: FunctionBuilder<'b>,
    arena: &'a Arena,
    layout: &'a Layout,
    callee: &'a mut C,
    env: Value,
    state: Value,
    t: Value,
    out: Value,
    ctx: Value,
    vars: Vec<(IndexVar, Value)>,
    scopes: Vec<HashMap<NodeId, Value>>,
    /// Loop-invariant reductions that vary only along inner constant-range loops,
    /// computed before the outer loop into stack buffers.
    buffers: Vec<Buffer>,
    /// Whether loops may run two iterations at a time in vector lanes (see `lanes`).
    lane_loops: bool,
    /// How many loops were emitted in lanes.
    pub lane_loops_emitted: usize,
    /// Set when a needed symbol could not be declared.
    pub failed: Option<String>,
}

/// A reduction tabulated over inner loop variables before an outer loop: the
/// consensus point of a particle drift varies with the coordinate, not the
/// particle, so it is computed k times per call instead of N·k times.
struct Buffer {
    node: NodeId,
    slot: StackSlot,
    /// The tabulated variables with their constant ranges, outermost first.
    vars: Vec<(IndexVar, i64, i64)>,
    /// The scope depth it was filled at; it is valid while that scope lives.
    depth: usize,
}

/// The largest buffer, in values.
const MAX_BUFFER: i64 = 4096;

/// The longest range of a reduction whose variable a buffer may tabulate.
const MAX_REDUCTION_SPAN: i64 = 64;

/// Sums over constant ranges at least this long use [`Emitter::unrolled_sum`].
const UNROLL_MIN: i64 = 16;

fn flags() -> MemFlagsData {
    // Buffers are f64-aligned and every access is in bounds (see codegen/abi.rs).
    MemFlagsData::trusted()
}

impl<'a, 'b, C: Callee> Emitter<'a, 'b, C> {
    /// A new emitter; `params` are the entry block's (env, state, t, out, ctx).
    pub fn new(
        b: FunctionBuilder<'b>,
        arena: &'a Arena,
        layout: &'a Layout,
        callee: &'a mut C,
        params: [Value; 5],
    ) -> Self {
        let [env, state, t, out, ctx] = params;
        Emitter {
            b,
            arena,
            layout,
            callee,
            env,
            state,
            t,
            out,
            ctx,
            vars: Vec::new(),
            scopes: vec![HashMap::new()],
            buffers: Vec::new(),
            lane_loops: true,
            lane_loops_emitted: 0,
            failed: None,
        }
    }

    /// Whether loops may run two iterations at a time (on by default); the results are
    /// the same bits either way.
    pub fn with_lane_loops(mut self, on: bool) -> Self {
        self.lane_loops = on;
        self
    }

    /// Emits the kernel's statements and its return.
    pub fn kernel(&mut self, kernel: &Kernel) {
        let mut roots = Vec::new();
        crate::lower::hoist_values(&kernel.body, &mut roots);
        roots.extend(kernel.result);
        self.fuse_sums(&roots);
        self.stmts(&kernel.body);
        let ret = match kernel.result {
            Some(r) => self.value(r),
            None => self.b.ins().f64const(0.0),
        };
        self.b.ins().return_(&[ret]);
    }

    fn stmts(&mut self, stmts: &[KStmt]) {
        for s in stmts {
            match s {
                KStmt::Store { index, value } => {
                    let v = self.value(*value);
                    let (base, off) = self.address(self.out, 0, index);
                    self.b.ins().store(flags(), v, base, off);
                }
                KStmt::Accumulate { index, value } => {
                    let (base, off) = self.address(self.out, 0, index);
                    let old = self.b.ins().load(types::F64, flags(), base, off);
                    let sum = self.accumulate(old, *value);
                    self.b.ins().store(flags(), sum, base, off);
                }
                KStmt::Zero { start, len } => self.zero(*start, *len),
                KStmt::Loop {
                    var,
                    lo,
                    hi,
                    over,
                    body,
                } => {
                    let mut roots = Vec::new();
                    crate::lower::hoist_values(body, &mut roots);
                    self.hoist_invariants(*var, &roots);
                    self.buffer_invariants(*var, body, &roots);
                    // Accumulations into a component that does not move with the loop
                    // (out[i] += … inside a loop over j) are summed in a register and
                    // added once after the loop; adding (not storing) keeps whatever
                    // other statements added to the same component meanwhile.
                    let (held, rest): (Vec<&KStmt>, Vec<&KStmt>) = body.iter().partition(|s| match s {
                        KStmt::Accumulate { index, .. } => !index.terms.iter().any(|(v, _)| v == var),
                        _ => false,
                    });
                    let zero = self.b.ins().f64const(0.0);
                    let init = vec![zero; held.len()];
                    let range = (lo, hi, over);
                    let sums = match self.lane_loop(*var, range, (&rest, &held), &init) {
                        Some(sums) => sums,
                        None => self.emit_loop(*var, range, &init, |e, accs| e.loop_body(&rest, &held, accs)),
                    };
                    for (s, sum) in held.iter().zip(sums) {
                        if let KStmt::Accumulate { index, .. } = s {
                            let (base, off) = self.address(self.out, 0, index);
                            let old = self.b.ins().load(types::F64, flags(), base, off);
                            let total = self.b.ins().fadd(old, sum);
                            self.b.ins().store(flags(), total, base, off);
                        }
                    }
                }
            }
        }
    }

    /// One iteration of a loop statement's body: the statements that move with the
    /// loop variable, then the held accumulations added to their registers `accs`.
    fn loop_body(&mut self, rest: &[&KStmt], held: &[&KStmt], accs: &[Value]) -> Vec<Value> {
        for s in rest {
            self.stmts(std::slice::from_ref(*s));
        }
        held.iter()
            .zip(accs)
            .map(|(s, acc)| match s {
                KStmt::Accumulate { value, .. } => self.accumulate(*acc, *value),
                _ => *acc,
            })
            .collect()
    }

    /// `acc + value`, as [`Emitter::addend`] says.
    fn accumulate(&mut self, acc: Value, value: NodeId) -> Value {
        let (term, subtract) = self.addend(value);
        let v = self.value(term);
        self.add_or_subtract(acc, v, subtract)
    }

    fn add_or_subtract(&mut self, acc: Value, v: Value, subtract: bool) -> Value {
        if subtract {
            self.b.ins().fsub(acc, v)
        } else {
            self.b.ins().fadd(acc, v)
        }
    }

    /// What accumulating `value` adds (false) or subtracts (true). A value of the form
    /// `−c·x` (c > 0) whose twin `c·x` the arena also holds is subtracted as the twin:
    /// the two ends of a pair force, `+c·x` into one particle and `−c·x` into the
    /// other, then share one product.
    fn addend(&self, value: NodeId) -> (NodeId, bool) {
        match self.positive_twin(value) {
            Some(twin) => (twin, true),
            None => (value, false),
        }
    }

    /// For `−x`, `x`; for `k·x` with a constant k < 0, the node `(−k)·x`, and for
    /// `(k·x)·y` the node `((−k)·x)·y`, if the arena already has it.
    fn positive_twin(&self, id: NodeId) -> Option<NodeId> {
        match *self.arena.node(id) {
            Node::Unary(UnaryFn::Neg, x) => Some(x),
            Node::Binary(BinaryFn::Mul, k, x) => match self.arena.as_const(k) {
                Some(k) if k < 0.0 => {
                    let pos = self.arena.find(&Node::Const((-k).to_bits()))?;
                    self.arena.find(&Node::Binary(BinaryFn::Mul, pos, x))
                }
                Some(_) => None,
                None => {
                    let left = self.positive_twin(k)?;
                    self.arena.find(&Node::Binary(BinaryFn::Mul, left, x))
                }
            },
            _ => None,
        }
    }

    fn zero(&mut self, start: usize, len: usize) {
        let z = self.b.ins().f64const(0.0);
        if len <= 16 {
            for k in start..start + len {
                self.b.ins().store(flags(), z, self.out, (8 * k) as i32);
            }
            return;
        }
        let header = self.b.create_block();
        let body = self.b.create_block();
        let exit = self.b.create_block();
        self.b.append_block_param(header, types::I64);
        let lo = self.b.ins().iconst(types::I64, start as i64);
        let hi = self.b.ins().iconst(types::I64, (start + len) as i64);
        self.b.ins().jump(header, &[BlockArg::Value(lo)]);
        self.b.switch_to_block(header);
        let i = self.b.block_params(header).first().copied().unwrap_or(lo);
        let more = self.b.ins().icmp(IntCC::SignedLessThan, i, hi);
        self.b.ins().brif(more, body, &[], exit, &[]);
        self.b.switch_to_block(body);
        let byte = self.b.ins().ishl_imm_u(i, 3);
        let addr = self.b.ins().iadd(self.out, byte);
        self.b.ins().store(flags(), z, addr, 0);
        let next = self.b.ins().iadd_imm_s(i, 1);
        self.b.ins().jump(header, &[BlockArg::Value(next)]);
        self.b.switch_to_block(exit);
    }

    /// Emits, in the current scope, every node reachable from `roots` that does not
    /// depend on `var` or on any variable not yet bound.
    fn hoist_invariants(&mut self, var: IndexVar, roots: &[NodeId]) {
        for id in self.arena.topo_order(roots) {
            let info = self.arena.info(id);
            if info.free.contains(&var) || matches!(self.arena.node(id), Node::Const(_)) {
                continue;
            }
            if info.free.iter().all(|v| self.vars.iter().any(|(w, _)| w == v)) {
                self.value(id);
            }
        }
    }

    /// Fills a buffer, before a loop over `var`, for every reduction the loop body
    /// needs that does not depend on `var` but does depend on the variables of
    /// loops, or of reductions, inside the body over constant ranges (the ensemble
    /// covariance C[a, b] in `matvec(C, g)`, summed over b, varies along both).
    fn buffer_invariants(&mut self, var: IndexVar, body: &[KStmt], roots: &[NodeId]) {
        let mut inner = Vec::new();
        constant_loops(body, &mut inner);
        constant_reductions(self.arena, roots, &mut inner);
        inner.retain(|(v, _, _)| *v != var);
        if inner.is_empty() {
            return;
        }
        for id in self.arena.topo_order(roots) {
            let info = self.arena.info(id);
            if !matches!(self.arena.node(id), Node::Reduce { .. })
                || info.free.contains(&var)
                || self.cached(id).is_some()
                || self.buffers.iter().any(|b| b.node == id)
            {
                continue;
            }
            let mut vars = Vec::new();
            let mut ok = true;
            for v in &info.free {
                if self.vars.iter().any(|(w, _)| w == v) {
                    continue;
                }
                match inner.iter().find(|(w, _, _)| w == v) {
                    Some(r) => vars.push(*r),
                    None => ok = false,
                }
            }
            let len = vars.iter().map(|(_, lo, hi)| (hi - lo).max(1)).product::<i64>();
            if !ok || vars.is_empty() || len > MAX_BUFFER {
                continue;
            }
            let slot = self.b.create_sized_stack_slot(StackSlotData::new(
                StackSlotKind::ExplicitSlot,
                (8 * len) as u32,
                3,
            ));
            self.fill_buffer(id, slot, &vars, 0);
            self.buffers.push(Buffer {
                node: id,
                slot,
                vars,
                depth: self.scopes.len(),
            });
        }
    }

    /// Nested loops over `vars[depth..]` storing `node` at its linear position.
    fn fill_buffer(&mut self, node: NodeId, slot: StackSlot, vars: &[(IndexVar, i64, i64)], depth: usize) {
        let Some(&(v, lo, hi)) = vars.get(depth) else {
            let value = self.value(node);
            let addr = self.buffer_address(slot, vars);
            self.b.ins().store(flags(), value, addr, 0);
            return;
        };
        let range = (&Index::constant(lo), &Index::constant(hi), &Over::Range);
        self.emit_loop(v, range, &[], |e, _| {
            e.fill_buffer(node, slot, vars, depth + 1);
            Vec::new()
        });
    }

    /// The address of the current entry of a buffer (its variables all bound).
    fn buffer_address(&mut self, slot: StackSlot, vars: &[(IndexVar, i64, i64)]) -> Value {
        let mut linear = Index::default();
        let mut stride = 1i64;
        for (v, lo, hi) in vars.iter().rev() {
            linear.constant -= stride * lo;
            linear.terms.push((*v, stride));
            stride *= (hi - lo).max(1);
        }
        let at = self.index(&linear);
        let byte = self.b.ins().ishl_imm_u(at, 3);
        let base = self.b.ins().stack_addr(types::I64, slot, 0);
        self.b.ins().iadd(base, byte)
    }

    /// The counter range of a loop and, for a list loop, the address of its
    /// entries: `var` is the counter itself, or the list entry it points at.
    fn loop_bounds(&mut self, lo: &Index, hi: &Index, over: &Over) -> (Value, Value, Option<Value>) {
        let lo_v = self.index(lo);
        let hi_v = self.index(hi);
        match over {
            Over::Range | Over::Particles(_) => (lo_v, hi_v, None),
            Over::Block(g) => {
                // [max(lo, block lo), min(hi, block hi)): a block outside the range is empty.
                let w = self.layout.ctx.group_word(*g) as i32;
                let blo = self.b.ins().load(types::I64, flags(), self.ctx, 8 * w);
                let bhi = self.b.ins().load(types::I64, flags(), self.ctx, 8 * (w + 1));
                let start = self.b.ins().smax(lo_v, blo);
                let end = self.b.ins().smin(hi_v, bhi);
                (start, end, None)
            }
            Over::List { list, row } => {
                let w = self.layout.ctx.list_word(list.0 as usize) as i32;
                let starts = self.b.ins().load(types::I64, flags(), self.ctx, 8 * w);
                let entries = self.b.ins().load(types::I64, flags(), self.ctx, 8 * (w + 1));
                let r = self.index(row);
                let at = self.b.ins().ishl_imm_u(r, 2);
                let at = self.b.ins().iadd(starts, at);
                let s = self.b.ins().uload32(flags(), at, 0);
                let e = self.b.ins().uload32(flags(), at, 4);
                (s, e, Some(entries))
            }
        }
    }

    /// A counted loop `for var in lo..hi` (or over the values `over` selects)
    /// carrying f64 accumulators; `body` maps the accumulators at the top of an
    /// iteration to those at its end. Returns the final accumulators.
    fn emit_loop(
        &mut self,
        var: IndexVar,
        (lo, hi, over): (&Index, &Index, &Over),
        init: &[Value],
        body: impl FnOnce(&mut Self, &[Value]) -> Vec<Value>,
    ) -> Vec<Value> {
        let (lo_v, hi_v, entries) = self.loop_bounds(lo, hi, over);
        self.counted_loop(var, (lo_v, hi_v, entries), init, body)
    }

    /// The loop of [`Emitter::emit_loop`] from emitted bounds: the counter runs over
    /// `lo..hi`, and `var` is the counter or, with `entries`, the list entry it points at.
    fn counted_loop(
        &mut self,
        var: IndexVar,
        (lo_v, hi_v, entries): (Value, Value, Option<Value>),
        init: &[Value],
        body: impl FnOnce(&mut Self, &[Value]) -> Vec<Value>,
    ) -> Vec<Value> {
        let header = self.b.create_block();
        let body_block = self.b.create_block();
        let exit = self.b.create_block();
        self.b.append_block_param(header, types::I64);
        for _ in init {
            self.b.append_block_param(header, types::F64);
            self.b.append_block_param(exit, types::F64);
        }
        let mut args = vec![BlockArg::Value(lo_v)];
        args.extend(init.iter().map(|v| BlockArg::Value(*v)));
        self.b.ins().jump(header, &args);

        self.b.switch_to_block(header);
        let params = self.b.block_params(header).to_vec();
        let i = params.first().copied().unwrap_or(lo_v);
        let accs: Vec<Value> = params.iter().skip(1).copied().collect();
        let more = self.b.ins().icmp(IntCC::SignedLessThan, i, hi_v);
        let exit_args: Vec<BlockArg> = accs.iter().map(|v| BlockArg::Value(*v)).collect();
        self.b.ins().brif(more, body_block, &[], exit, &exit_args);

        self.b.switch_to_block(body_block);
        let value = match entries {
            Some(base) => self.list_entry(base, i, 0),
            None => i,
        };
        self.vars.push((var, value));
        self.scopes.push(HashMap::new());
        let new_accs = body(self, &accs);
        self.scopes.pop();
        let depth = self.scopes.len();
        self.buffers.retain(|buf| buf.depth <= depth);
        self.vars.pop();
        let next = self.b.ins().iadd_imm_s(i, 1);
        let mut back = vec![BlockArg::Value(next)];
        back.extend(new_accs.iter().map(|v| BlockArg::Value(*v)));
        self.b.ins().jump(header, &back);

        self.b.switch_to_block(exit);
        self.b.block_params(exit).to_vec()
    }

    /// Entry `counter + k` of a list's entries (u32, zero-extended).
    fn list_entry(&mut self, entries: Value, counter: Value, k: i32) -> Value {
        let at = self.b.ins().ishl_imm_u(counter, 2);
        let at = self.b.ins().iadd(entries, at);
        self.b.ins().uload32(flags(), at, 4 * k)
    }

    /// A nonzero constant is read from the function's constant pool (one load, which can
    /// stay in a loop) instead of being rebuilt from an integer at every use: Cranelift
    /// rematerialises scalar float constants inside loops, two instructions each.
    fn fconst(&mut self, v: f64) -> Value {
        if v == 0.0 {
            return self.b.ins().f64const(v);
        }
        let pair = self.splat_const(v);
        self.b.ins().extractlane(pair, 0)
    }

    /// `[v, v]` from the constant pool.
    fn splat_const(&mut self, v: f64) -> Value {
        super::vmath::splat_const(&mut self.b, v)
    }

    /// `[x, x]` for the value of node `id`.
    fn splat_node(&mut self, id: NodeId) -> Value {
        match self.arena.as_const(id) {
            Some(v) => self.splat_const(v),
            None => {
                let x = self.value(id);
                self.b.ins().splat(types::F64X2, x)
            }
        }
    }

    /// An affine index as an i64 value.
    fn index(&mut self, ix: &Index) -> Value {
        let mut acc = self.b.ins().iconst(types::I64, ix.constant);
        for (v, c) in &ix.terms {
            let Some(val) = self.vars.iter().rev().find(|(w, _)| w == v).map(|(_, val)| *val) else {
                self.failed = Some(format!("index variable {} is not bound", v.0));
                continue;
            };
            let term = if *c == 1 {
                val
            } else {
                self.b.ins().imul_imm_s(val, *c)
            };
            acc = self.b.ins().iadd(acc, term);
        }
        acc
    }

    /// Base address and byte offset of element `offset + ix` of an f64 buffer.
    fn address(&mut self, base: Value, offset: usize, ix: &Index) -> (Value, i32) {
        let off = (offset as i64 + ix.constant).saturating_mul(8);
        let off32 = i32::try_from(off).ok();
        if ix.terms.is_empty() {
            if let Some(o) = off32 {
                return (base, o);
            }
        }
        let var_part = Index {
            constant: if off32.is_some() {
                0
            } else {
                offset as i64 + ix.constant
            },
            terms: ix.terms.clone(),
        };
        let k = self.index(&var_part);
        let bytes = self.b.ins().ishl_imm_u(k, 3);
        let addr = self.b.ins().iadd(base, bytes);
        (addr, off32.unwrap_or(0))
    }

    fn load(&mut self, base: Value, offset: usize, ix: &Index) -> Value {
        let (addr, off) = self.address(base, offset, ix);
        self.b.ins().load(types::F64, flags(), addr, off)
    }

    fn cached(&self, id: NodeId) -> Option<Value> {
        self.scopes.iter().rev().find_map(|s| s.get(&id).copied())
    }

    /// The value of a node (f64, or i8 for conditions), emitting it if needed.
    pub fn value(&mut self, id: NodeId) -> Value {
        if let Some(v) = self.cached(id) {
            return v;
        }
        let buffered = self
            .buffers
            .iter()
            .find(|b| b.node == id)
            .map(|b| (b.slot, b.vars.clone()));
        let v = match buffered {
            Some((slot, vars)) if vars.iter().all(|(v, _, _)| self.vars.iter().any(|(w, _)| w == v)) => {
                let addr = self.buffer_address(slot, &vars);
                self.b.ins().load(types::F64, flags(), addr, 0)
            }
            _ => self.compute(id),
        };
        if let Some(scope) = self.scopes.last_mut() {
            scope.insert(id, v);
        }
        v
    }

    fn compute(&mut self, id: NodeId) -> Value {
        let node = self.arena.node(id).clone();
        match node {
            Node::Const(bits) => self.fconst(f64::from_bits(bits)),
            Node::Param(p, ix) => {
                let off = self.layout.param_offsets.get(p.0 as usize).copied().unwrap_or(0);
                self.load(self.env, off, &ix)
            }
            Node::State(s, ix) => {
                let off = self.layout.state_offsets.get(s.0 as usize).copied().unwrap_or(0);
                self.load(self.state, off, &ix)
            }
            Node::Lookup { param, base, keys } => {
                let keys: Vec<(Value, i64)> =
                    keys.iter().map(|(k, stride)| (self.value(*k), *stride)).collect();
                self.lookup(param, &base, &keys)
            }
            Node::Table(t, ix) => {
                let off = self.layout.tables.get(t.0 as usize).map_or(0, |t| t.offset);
                self.load(self.env, off, &ix)
            }
            Node::Time => self.t,
            Node::IndexValue(ix) => {
                let i = self.index(&ix);
                self.b.ins().fcvt_from_sint(types::F64, i)
            }
            Node::Unary(f, a) => {
                let a = self.value(a);
                self.unary(f, a)
            }
            Node::Binary(f, a, c) => self.binary(f, a, c),
            Node::Compare(..) | Node::And(..) | Node::Or(..) | Node::Not(_) => {
                // Always `Some` for these nodes.
                let cond = self.condition_of(&node, &mut |e, n| e.value(n));
                cond.unwrap_or(self.t)
            }
            Node::Select(c, a, d) => match *self.arena.node(c) {
                Node::Compare(op, x, y) => self.masked_select(op, (x, y), a, d),
                _ => {
                    let (c, a, d) = (self.value(c), self.value(a), self.value(d));
                    self.b.ins().select(c, a, d)
                }
            },
            Node::NoGrad(a) => self.value(a),
            // Placeholders are substituted before lowering.
            Node::Arg(_) => {
                self.failed = Some("a placeholder argument reached code generation".into());
                self.b.ins().f64const(f64::NAN)
            }
            Node::Reduce {
                op,
                var,
                lo,
                hi,
                over,
                body,
            } => self.reduce(op, var, (&lo, &hi, &over), body),
        }
    }

    /// Element `base + Σ stride·key` of parameter `param`, for the emitted keys.
    fn lookup(&mut self, param: ParamId, base: &Index, keys: &[(Value, i64)]) -> Value {
        let off = self
            .layout
            .param_offsets
            .get(param.0 as usize)
            .copied()
            .unwrap_or(0);
        let mut at = self.index(&Index {
            constant: 0,
            terms: base.terms.clone(),
        });
        for (k, stride) in keys {
            // Keys are integers stored as reals, proved in range by the checker;
            // the saturating conversion cannot trap.
            let k = self.b.ins().fcvt_to_sint_sat(types::I64, *k);
            let k = self.b.ins().imul_imm_s(k, *stride);
            at = self.b.ins().iadd(at, k);
        }
        let bytes = self.b.ins().ishl_imm_u(at, 3);
        let addr = self.b.ins().iadd(self.env, bytes);
        let byte_off = (off as i64 + base.constant).saturating_mul(8);
        let byte_off = i32::try_from(byte_off).unwrap_or(i32::MAX);
        self.b.ins().load(types::F64, flags(), addr, byte_off)
    }
}

/// The variables of the loops in `stmts` (at any depth) over constant ranges.
/// The variables of the reductions reachable from `roots` over short constant
/// ranges (at most [`MAX_REDUCTION_SPAN`] values: coordinates, not data rows).
fn constant_reductions(arena: &Arena, roots: &[NodeId], out: &mut Vec<(IndexVar, i64, i64)>) {
    for id in arena.topo_order(roots) {
        if let Node::Reduce {
            var,
            lo,
            hi,
            over: Over::Range,
            ..
        } = arena.node(id)
        {
            if let (Some(lo), Some(hi)) = (lo.as_constant(), hi.as_constant()) {
                if hi - lo <= MAX_REDUCTION_SPAN && !out.iter().any(|(v, _, _)| v == var) {
                    out.push((*var, lo, hi));
                }
            }
        }
    }
}

fn constant_loops(stmts: &[KStmt], out: &mut Vec<(IndexVar, i64, i64)>) {
    for s in stmts {
        if let KStmt::Loop {
            var,
            lo,
            hi,
            over,
            body,
        } = s
        {
            if let (Over::Range, Some(lo), Some(hi)) = (over, lo.as_constant(), hi.as_constant()) {
                out.push((*var, lo, hi));
            }
            constant_loops(body, out);
        }
    }
}
