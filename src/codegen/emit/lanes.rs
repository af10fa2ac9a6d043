//! Loops run two iterations at a time, in the two lanes of 128-bit vectors.
//!
//! A pair loop `for j in lo..hi { out[f(j)] += g(i, j); out[i] += h(i, j) }` spends
//! its time in the arithmetic of g and h: in a mean-field sum, an exponential per
//! pair. Computing j and j + 1 together in an F64X2 halves those instructions.
//! Values that depend on j are computed in lanes; those that do not are scalars,
//! computed before the loop and broadcast once. A loop over a neighbour list row
//! takes two entries of the row at a time (its lanes load their partners' positions
//! one by one).
//!
//! Each lane operation is the IEEE operation the scalar loop performs, and results
//! leave the lanes in iteration order: all of j's statements, then all of j + 1's,
//! and a register summing into out[i] adds j's value, then j + 1's. So the loop
//! computes bit for bit what the scalar loop computes, on any number of threads. An
//! odd last iteration runs as the scalar loop.
//!
//! A loop qualifies when its statements write components that move with j (besides
//! the held sums into out[i]) and every value that depends on j is built from loads,
//! arithmetic, comparisons, selects, square roots, integer powers and the inline
//! exponential. A libm call or an inner reduction keeps the scalar loop: a call spills
//! every vector register, and an inner loop would need lanes of its own.

use super::{flags, Callee, Emitter};
use crate::lower::KStmt;
use crate::model::{BinaryFn, Index, IndexVar, Over, UnaryFn};
use crate::symbolic::simplify::small_int;
use crate::symbolic::{Node, NodeId};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, BlockArg, InstBuilder, MemFlagsData, Value};
use std::collections::HashMap;

/// Loops over constant ranges shorter than this stay scalar (coordinates, not particles).
const MIN_TRIP: i64 = 8;

/// A statement that moves with the loop variable: `out[index] = node` or
/// `out[index] ±= node`.
struct Moving<'k> {
    index: &'k Index,
    node: NodeId,
    store: bool,
    subtract: bool,
}

/// The vector values of the loop: the broadcasts made before it and, inside its body,
/// the lanes of every value that depends on the loop variable.
type Lanes = HashMap<NodeId, Value>;

/// The loop variable in the body of a lane loop: its values in lane 0 and lane 1, and
/// whether they are `j` and `j + 1` (a range) rather than two entries of a neighbour
/// list row (any two distinct particles).
#[derive(Clone, Copy)]
struct LaneVar {
    var: IndexVar,
    at: [Value; 2],
    consecutive: bool,
}

impl<C: Callee> Emitter<'_, '_, C> {
    /// The loop statement `for var in range { rest; held }` (as `Emitter::stmts` splits
    /// it) two iterations at a time, returning the held sums; `None`, with nothing
    /// emitted, when the loop does not qualify.
    pub(super) fn lane_loop(
        &mut self,
        var: IndexVar,
        (lo, hi, over): (&Index, &Index, &Over),
        (rest, held): (&[&KStmt], &[&KStmt]),
        init: &[Value],
    ) -> Option<Vec<Value>> {
        let mut moving = Vec::new();
        for s in rest {
            let (index, value, store) = match s {
                KStmt::Accumulate { index, value } => (index, *value, false),
                KStmt::Store { index, value } => (index, *value, true),
                _ => return None,
            };
            if coefficient(index, var) == 0 {
                return None;
            }
            let (node, subtract) = if store { (value, false) } else { self.addend(value) };
            moving.push(Moving {
                index,
                node,
                store,
                subtract,
            });
        }
        let mut sums = Vec::new();
        let mut sum_order = Vec::new();
        for s in held {
            let KStmt::Accumulate { value, index } = s else {
                return None;
            };
            sums.push(self.addend(*value));
            sum_order.push(index.constant);
        }
        let roots = moving.iter().map(|s| s.node).chain(sums.iter().map(|(n, _)| *n));
        let varying = self.lane_values(var, (lo, hi, over), roots.collect())?;
        Some(self.lanes_core(
            (var, varying),
            (lo, hi, over),
            (&moving, &sums, &sum_order),
            init,
            |e, accs| e.loop_body(rest, held, accs),
        ))
    }

    /// Sums of `bodies` over one range, as `Emitter::reduce` and `Emitter::fuse_sums`
    /// emit them (one accumulator each, in iteration order), two iterations at a time;
    /// `None`, with nothing emitted, when the loop does not qualify.
    pub(super) fn lane_sums(
        &mut self,
        var: IndexVar,
        range: (&Index, &Index, &Over),
        bodies: &[NodeId],
    ) -> Option<Vec<Value>> {
        let varying = self.lane_values(var, range, bodies.to_vec())?;
        let sums: Vec<(NodeId, bool)> = bodies.iter().map(|b| (*b, false)).collect();
        let order: Vec<i64> = (0..bodies.len() as i64).collect();
        let zero = self.b.ins().f64const(0.0);
        let init = vec![zero; bodies.len()];
        Some(
            self.lanes_core((var, varying), range, (&[], &sums, &order), &init, |e, accs| {
                e.add_bodies(bodies, accs)
            }),
        )
    }

    /// The values reachable from `roots` that depend on `var`, children first, when a
    /// loop over `var` in this range qualifies for lanes (the module documentation
    /// says when); `None` otherwise.
    fn lane_values(
        &self,
        var: IndexVar,
        (lo, hi, over): (&Index, &Index, &Over),
        roots: Vec<NodeId>,
    ) -> Option<Vec<NodeId>> {
        // A list row holds each partner once, so its lanes are distinct particles too.
        if !self.lane_loops || matches!(over, Over::Block(_)) {
            return None;
        }
        if let (Some(a), Some(b)) = (lo.as_constant(), hi.as_constant()) {
            if b - a < MIN_TRIP {
                return None;
            }
        }
        let varying: Vec<NodeId> = self
            .arena
            .topo_order(&roots)
            .into_iter()
            .filter(|id| self.varies(*id, var))
            .collect();
        let supported = !varying.is_empty() && varying.iter().all(|id| self.lane_supported(*id));
        supported.then_some(varying)
    }

    /// A loop over `var` whose iterations write the `moving` statements and add into
    /// the `sums` (registers starting at `init`; `sum_order` ranks the components they
    /// go to), two iterations at a time, `varying` (from [`Emitter::lane_values`]) in
    /// lanes; `remainder` is the scalar loop body, for the odd last iteration.
    fn lanes_core(
        &mut self,
        (var, varying): (IndexVar, Vec<NodeId>),
        (lo, hi, over): (&Index, &Index, &Over),
        (moving, sums, sum_order): (&[Moving], &[(NodeId, bool)], &[i64]),
        init: &[Value],
        remainder: impl FnOnce(&mut Self, &[Value]) -> Vec<Value>,
    ) -> Vec<Value> {
        self.lane_loops_emitted += 1;
        // Before the loop: the broadcasts of the invariant values the lanes use.
        let mut lanes = Lanes::new();
        for id in &varying {
            for c in self.arena.children(*id) {
                if !self.varies(c, var) {
                    self.broadcast(&mut lanes, c);
                }
            }
        }
        let writes = moving_groups(moving, var, matches!(over, Over::List { .. }));
        let registers = held_groups(sums, sum_order);
        let (lo_v, hi_v, entries) = self.loop_bounds(lo, hi, over);
        let header = self.b.create_block();
        let body_block = self.b.create_block();
        let exit = self.b.create_block();
        self.b.append_block_param(header, types::I64);
        self.b.append_block_param(exit, types::I64);
        let mut args = vec![BlockArg::Value(lo_v)];
        for g in &registers {
            let (ty, v) = match *g {
                Group::One(k) => (types::F64, init.get(k).copied()),
                Group::Two(a, c) => match (init.get(a), init.get(c)) {
                    (Some(a), Some(c)) => (types::F64X2, Some(self.pack([*a, *c]))),
                    _ => (types::F64X2, None),
                },
            };
            self.b.append_block_param(header, ty);
            self.b.append_block_param(exit, ty);
            args.extend(v.map(BlockArg::Value));
        }
        self.b.ins().jump(header, &args);

        // header(j, sums): two iterations left while j + 1 < hi.
        self.b.switch_to_block(header);
        let params = self.b.block_params(header).to_vec();
        let j = params.first().copied().unwrap_or(lo_v);
        let next = self.b.ins().iadd_imm_s(j, 1);
        let more = self.b.ins().icmp(IntCC::SignedLessThan, next, hi_v);
        let exit_args: Vec<BlockArg> = params.iter().map(|v| BlockArg::Value(*v)).collect();
        self.b.ins().brif(more, body_block, &[], exit, &exit_args);

        self.b.switch_to_block(body_block);
        let lv = match entries {
            Some(base) => LaneVar {
                var,
                at: [self.list_entry(base, j, 0), self.list_entry(base, j, 1)],
                consecutive: false,
            },
            None => LaneVar {
                var,
                at: [j, next],
                consecutive: true,
            },
        };
        self.vars.push((var, lv.at[0]));
        self.scopes.push(HashMap::new());
        for id in &varying {
            let v = self.lane_compute(&mut lanes, lv, *id);
            lanes.insert(*id, v);
        }
        self.lane_writes(&mut lanes, lv, moving, &writes);
        let mut back = vec![BlockArg::Value(self.b.ins().iadd_imm_s(j, 2))];
        let accs = params.iter().skip(1).copied();
        let sums_after = self.lane_add(&mut lanes, var, sums, &registers, accs);
        back.extend(sums_after.into_iter().map(BlockArg::Value));
        self.scopes.pop();
        self.vars.pop();
        self.b.ins().jump(header, &back);

        // exit(j, sums): the last iteration, if any, as the scalar loop.
        self.b.switch_to_block(exit);
        let params = self.b.block_params(exit).to_vec();
        let j = params.first().copied().unwrap_or(lo_v);
        let accs = self.unpack_sums(&registers, params.get(1..).unwrap_or(&[]), sums.len());
        self.counted_loop(var, (j, hi_v, entries), &accs, remainder)
    }

    /// The moving statements of one double iteration: lane 0's, then lane 1's.
    fn lane_writes(&mut self, lanes: &mut Lanes, lv: LaneVar, moving: &[Moving], writes: &[Group]) {
        for lane in 0..2u8 {
            for g in writes {
                let (s, v, ty) = match *g {
                    Group::One(k) => {
                        let Some(s) = moving.get(k) else { continue };
                        (s, self.lane_of(lanes, lv.var, s.node, lane), types::F64)
                    }
                    Group::Two(a, c) => {
                        let (Some(s), Some(t)) = (moving.get(a), moving.get(c)) else {
                            continue;
                        };
                        (s, self.lane_pair(lanes, (s.node, t.node), lane), types::F64X2)
                    }
                };
                let mem = if ty.is_vector() { vector_flags() } else { flags() };
                let (base, off) = self.lane_address_in(self.out, 0, s.index, lv, lane);
                let v = if s.store {
                    v
                } else {
                    let old = self.b.ins().load(ty, mem, base, off);
                    self.add_or_subtract(old, v, s.subtract)
                };
                self.b.ins().store(mem, v, base, off);
            }
        }
    }

    /// The sum registers `accs` after one double iteration: each adds lane 0's value,
    /// then lane 1's.
    fn lane_add(
        &mut self,
        lanes: &mut Lanes,
        var: IndexVar,
        sums: &[(NodeId, bool)],
        registers: &[Group],
        accs: impl Iterator<Item = Value>,
    ) -> Vec<Value> {
        let mut out = Vec::new();
        for (g, mut acc) in registers.iter().zip(accs) {
            for lane in 0..2u8 {
                let (v, subtract) = match *g {
                    Group::One(k) => match sums.get(k) {
                        Some((node, subtract)) => (self.lane_of(lanes, var, *node, lane), *subtract),
                        None => continue,
                    },
                    Group::Two(a, c) => match (sums.get(a), sums.get(c)) {
                        (Some((na, subtract)), Some((nc, _))) => {
                            (self.lane_pair(lanes, (*na, *nc), lane), *subtract)
                        }
                        _ => continue,
                    },
                };
                acc = self.add_or_subtract(acc, v, subtract);
            }
            out.push(acc);
        }
        out
    }

    /// The `n` sums, in their order, from the registers (a pair's lanes split).
    fn unpack_sums(&mut self, registers: &[Group], values: &[Value], n: usize) -> Vec<Value> {
        let zero = self.b.ins().f64const(0.0);
        let mut sums = vec![zero; n];
        for (g, v) in registers.iter().zip(values) {
            let parts = match *g {
                Group::One(k) => vec![(k, *v)],
                Group::Two(a, c) => vec![
                    (a, self.b.ins().extractlane(*v, 0)),
                    (c, self.b.ins().extractlane(*v, 1)),
                ],
            };
            for (k, part) in parts {
                if let Some(slot) = sums.get_mut(k) {
                    *slot = part;
                }
            }
        }
        sums
    }

    fn varies(&self, id: NodeId, var: IndexVar) -> bool {
        self.arena.info(id).free.contains(&var)
    }

    /// Whether a value that depends on the loop variable can be computed in lanes
    /// (as the module documentation lists).
    fn lane_supported(&self, id: NodeId) -> bool {
        match self.arena.node(id) {
            Node::Param(..)
            | Node::State(..)
            | Node::Table(..)
            | Node::Lookup { .. }
            | Node::IndexValue(_) => true,
            Node::Unary(f, _) => matches!(
                f,
                UnaryFn::Neg | UnaryFn::Sqrt | UnaryFn::Abs | UnaryFn::Round | UnaryFn::Floor | UnaryFn::Exp
            ),
            Node::Binary(BinaryFn::Pow, _, e) => self
                .arena
                .as_const(*e)
                .is_some_and(|e| small_int(e).is_some() || e == 0.5),
            Node::Binary(f, ..) => *f != BinaryFn::Atan2,
            Node::Compare(..)
            | Node::And(..)
            | Node::Or(..)
            | Node::Not(_)
            | Node::Select(..)
            | Node::NoGrad(_) => true,
            Node::Const(_) | Node::Time | Node::Arg(_) | Node::Reduce { .. } => false,
        }
    }

    /// `[x, x]` for a value that does not depend on the loop variable: a condition as
    /// the all-ones or all-zeros mask of a vector comparison.
    fn broadcast(&mut self, lanes: &mut Lanes, id: NodeId) -> Value {
        if let Some(v) = lanes.get(&id) {
            return *v;
        }
        let node = self.arena.node(id).clone();
        let v = match self.condition_of(&node, &mut |e, n| e.broadcast(lanes, n)) {
            Some(mask) => mask,
            None => self.splat_node(id),
        };
        lanes.insert(id, v);
        v
    }

    /// The lanes of a child: computed already if it depends on the loop variable,
    /// else its broadcast (made before the loop, or here if it was not needed there).
    fn lane_child(&mut self, lanes: &mut Lanes, id: NodeId) -> Value {
        match lanes.get(&id) {
            Some(v) => *v,
            None => self.broadcast(lanes, id),
        }
    }

    /// The lanes of a value that depends on the loop variable, bound to `j` (lane 0)
    /// and `j + 1` (lane 1); its children are in `lanes`. Mirrors `Emitter::compute`.
    fn lane_compute(&mut self, lanes: &mut Lanes, lv: LaneVar, id: NodeId) -> Value {
        let var = lv.var;
        let node = self.arena.node(id).clone();
        match node {
            Node::Param(p, ix) => {
                let off = self.layout.param_offsets.get(p.0 as usize).copied().unwrap_or(0);
                self.lane_load(self.env, off, &ix, lv)
            }
            Node::State(s, ix) => {
                let off = self.layout.state_offsets.get(s.0 as usize).copied().unwrap_or(0);
                self.lane_load(self.state, off, &ix, lv)
            }
            Node::Table(t, ix) => {
                let off = self.layout.tables.get(t.0 as usize).map_or(0, |t| t.offset);
                self.lane_load(self.env, off, &ix, lv)
            }
            Node::Lookup { param, base, keys } => {
                let mut values = lv.at;
                for (lane, slot) in values.iter_mut().enumerate() {
                    let key_values: Vec<(Value, i64)> = keys
                        .iter()
                        .map(|(k, stride)| (self.lane_of(lanes, var, *k, lane as u8), *stride))
                        .collect();
                    *slot = self.with_lane(lv, lane as u8, |e| e.lookup(param, &base, &key_values));
                }
                self.pack(values)
            }
            Node::IndexValue(ix) => {
                let mut values = lv.at;
                for (lane, slot) in values.iter_mut().enumerate() {
                    *slot = self.with_lane(lv, lane as u8, |e| {
                        let i = e.index(&ix);
                        e.b.ins().fcvt_from_sint(types::F64, i)
                    });
                }
                self.pack(values)
            }
            Node::Unary(f, a) => {
                let a = self.lane_child(lanes, a);
                self.unary(f, a)
            }
            Node::Binary(f, a, c) => self.binary_of(f, (a, c), &mut |e, n| e.lane_child(lanes, n)),
            Node::Compare(..) | Node::And(..) | Node::Or(..) | Node::Not(_) => {
                // Always `Some` for these nodes.
                let mask = self.condition_of(&node, &mut |e, n| e.lane_child(lanes, n));
                mask.unwrap_or(lv.at[0])
            }
            Node::Select(c, a, d) => {
                let (c, a, d) = (
                    self.lane_child(lanes, c),
                    self.lane_child(lanes, a),
                    self.lane_child(lanes, d),
                );
                super::super::vmath::select(&mut self.b, c, a, d)
            }
            Node::NoGrad(a) => self.lane_child(lanes, a),
            Node::Const(_) | Node::Time | Node::Arg(_) | Node::Reduce { .. } => {
                self.failed = Some("a value outside the lane subset reached a lane loop".into());
                self.splat_const(f64::NAN)
            }
        }
    }

    /// Lane `lane` of a statement value: extracted if it depends on the loop variable,
    /// else the scalar itself.
    fn lane_of(&mut self, lanes: &Lanes, var: IndexVar, id: NodeId, lane: u8) -> Value {
        match lanes.get(&id) {
            Some(v) if self.varies(id, var) => self.b.ins().extractlane(*v, lane),
            _ => self.value(id),
        }
    }

    /// `f` with the loop variable bound to `j + lane`.
    fn with_lane<T>(&mut self, lv: LaneVar, lane: u8, f: impl FnOnce(&mut Self) -> T) -> T {
        let at = if lane == 0 { lv.at[0] } else { lv.at[1] };
        self.vars.push((lv.var, at));
        let out = f(self);
        self.vars.pop();
        out
    }

    /// Lane `lane` of two values side by side: `[a(j), b(j)]` or `[a(j+1), b(j+1)]`.
    fn lane_pair(&mut self, lanes: &mut Lanes, (a, b): (NodeId, NodeId), lane: u8) -> Value {
        let (va, vb) = (self.lane_child(lanes, a), self.lane_child(lanes, b));
        if lane == 0 {
            let b0 = self.b.ins().extractlane(vb, 0);
            self.b.ins().insertlane(va, b0, 1)
        } else {
            let a1 = self.b.ins().extractlane(va, 1);
            self.b.ins().insertlane(vb, a1, 0)
        }
    }

    /// `[a, b]`.
    fn pack(&mut self, [a, b]: [Value; 2]) -> Value {
        let v = self.b.ins().scalar_to_vector(types::F64X2, a);
        self.b.ins().insertlane(v, b, 1)
    }

    /// The address of element `ix` (offset by `offset`) in lane `lane`: over a range,
    /// the lane-0 address with the stride of the variable added to the byte offset;
    /// over a list, from the lane's entry.
    fn lane_address_in(
        &mut self,
        base: Value,
        offset: usize,
        ix: &Index,
        lv: LaneVar,
        lane: u8,
    ) -> (Value, i32) {
        let (addr, off) = self.address(base, offset, ix);
        if lane == 0 {
            return (addr, off);
        }
        let step = coefficient(ix, lv.var).saturating_mul(8 * i64::from(lane));
        match i32::try_from(step).ok().and_then(|s| off.checked_add(s)) {
            Some(off) if lv.consecutive => (addr, off),
            _ => self.with_lane(lv, lane, |e| e.address(base, offset, ix)),
        }
    }

    /// Element `ix` of an f64 buffer in both lanes: one vector load when the two are
    /// adjacent, else two loads.
    fn lane_load(&mut self, base: Value, offset: usize, ix: &Index, lv: LaneVar) -> Value {
        if lv.consecutive && coefficient(ix, lv.var) == 1 {
            let (addr, off) = self.address(base, offset, ix);
            return self.b.ins().load(types::F64X2, vector_flags(), addr, off);
        }
        let mut values = lv.at;
        for (lane, slot) in values.iter_mut().enumerate() {
            let (addr, off) = self.lane_address_in(base, offset, ix, lv, lane as u8);
            *slot = self.b.ins().load(types::F64, flags(), addr, off);
        }
        self.pack(values)
    }
}

/// Flags for a 16-byte access to an f64 buffer: only 8-byte alignment is known.
fn vector_flags() -> MemFlagsData {
    MemFlagsData::new().with_notrap()
}

/// How results leave the lanes: one component at a time, or two (the x and y of one
/// particle, or two sums into particle i) as one vector, lane 0 the first of them.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Group {
    One(usize),
    Two(usize, usize),
}

/// Moving statements that write adjacent components, out[c·j + k] and out[c·j + k + 1]
/// with |c| ≥ 2, in pairs (one 16-byte read-modify-write per lane instead of two) when
/// all of them share the variable part of their index and no two write the same
/// component in one double iteration: then the order of their writes cannot matter.
/// Over a list (`listed`) the two lanes are any two distinct particles, so the
/// components written must lie within one particle's c components.
fn moving_groups(moving: &[Moving], var: IndexVar, listed: bool) -> Vec<Group> {
    let singles = (0..moving.len()).map(Group::One).collect();
    let Some(first) = moving.first() else {
        return singles;
    };
    let c = coefficient(first.index, var);
    if c.abs() < 2 || moving.iter().any(|s| s.index.terms != first.index.terms) {
        return singles;
    }
    let mut written: Vec<i64> = moving
        .iter()
        .flat_map(|s| [s.index.constant, s.index.constant + c])
        .collect();
    written.sort_unstable();
    written.dedup();
    let (low, high) = moving.iter().fold((i64::MAX, i64::MIN), |(l, h), s| {
        (l.min(s.index.constant), h.max(s.index.constant))
    });
    if written.len() != 2 * moving.len() || (listed && high - low >= c.abs()) {
        return singles;
    }
    let mut used = vec![false; moving.len()];
    let mut groups = Vec::new();
    for (a, s) in moving.iter().enumerate() {
        if used.get(a).copied().unwrap_or(true) {
            continue;
        }
        let partner = moving.iter().enumerate().find(|(b, t)| {
            *b != a
                && !used.get(*b).copied().unwrap_or(true)
                && t.store == s.store
                && t.subtract == s.subtract
                && (t.index.constant - s.index.constant).abs() == 1
        });
        if let Some(u) = used.get_mut(a) {
            *u = true;
        }
        match partner {
            Some((b, t)) => {
                if let Some(u) = used.get_mut(b) {
                    *u = true;
                }
                groups.push(if s.index.constant < t.index.constant {
                    Group::Two(a, b)
                } else {
                    Group::Two(b, a)
                });
            }
            None => groups.push(Group::One(a)),
        }
    }
    groups
}

/// The held sums in pairs of the same sign, each pair one vector register, lane 0 the
/// sum into the lower component (`order`), as for the moving statements, so that both
/// take the same two values side by side.
fn held_groups(sums: &[(NodeId, bool)], order: &[i64]) -> Vec<Group> {
    let mut groups = Vec::new();
    let mut open: Option<usize> = None;
    for (k, (_, subtract)) in sums.iter().enumerate() {
        match open {
            Some(a) if sums.get(a).is_some_and(|(_, s)| s == subtract) => {
                groups.push(if order.get(a) <= order.get(k) {
                    Group::Two(a, k)
                } else {
                    Group::Two(k, a)
                });
                open = None;
            }
            Some(a) => {
                groups.push(Group::One(a));
                open = Some(k);
            }
            None => open = Some(k),
        }
    }
    groups.extend(open.map(Group::One));
    groups
}

/// The coefficient of `var` in an affine index.
fn coefficient(ix: &Index, var: IndexVar) -> i64 {
    ix.terms.iter().filter(|(v, _)| *v == var).map(|(_, c)| *c).sum()
}
