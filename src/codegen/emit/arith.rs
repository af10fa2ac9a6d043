//! Operations on emitted values: unary and binary functions, integer powers, minima
//! and maxima, branch-free selects and calls into libm. The lane loops use the same
//! functions on F64X2 values (see `lanes`), so both compute the same operations.

use super::{Callee, Emitter};
use crate::model::{BinaryFn, CmpOp, UnaryFn};
use crate::symbolic::simplify::small_int;
use crate::symbolic::{Node, NodeId};
use cranelift_codegen::ir::condcodes::FloatCC;
use cranelift_codegen::ir::{types, Endianness, InstBuilder, MemFlagsData, Value};

impl<C: Callee> Emitter<'_, '_, C> {
    /// `if x op y then a else d` without a branch: the comparison of the low lanes of
    /// two vectors gives an all-ones or all-zeros mask that picks the bits of `a` or
    /// `d`. A scalar select is a conditional jump on x86-64, and where the outcome is
    /// random (a pair inside or outside a cutoff) a mispredicted jump costs more than
    /// the whole mask.
    pub(super) fn masked_select(
        &mut self,
        op: CmpOp,
        (x, y): (NodeId, NodeId),
        a: NodeId,
        d: NodeId,
    ) -> Value {
        let [xv, yv, av, dv] = [x, y, a, d].map(|n| self.splat_node(n));
        let mask = self.b.ins().fcmp(float_cc(op), xv, yv);
        let little = MemFlagsData::new().with_endianness(Endianness::Little);
        let mask = self.b.ins().bitcast(types::F64X2, little, mask);
        let picked = self.b.ins().bitselect(mask, av, dv);
        self.b.ins().extractlane(picked, 0)
    }

    /// A condition (`Compare`, `And`, `Or`, `Not`) of operands from `value`: an i8 for
    /// scalars, an all-ones or all-zeros mask per lane for vectors. `None` for any
    /// other node.
    pub(super) fn condition_of(
        &mut self,
        node: &Node,
        value: &mut dyn FnMut(&mut Self, NodeId) -> Value,
    ) -> Option<Value> {
        Some(match *node {
            Node::Compare(op, a, c) => {
                let (a, c) = (value(self, a), value(self, c));
                self.b.ins().fcmp(float_cc(op), a, c)
            }
            Node::And(a, c) => {
                let (a, c) = (value(self, a), value(self, c));
                self.b.ins().band(a, c)
            }
            Node::Or(a, c) => {
                let (a, c) = (value(self, a), value(self, c));
                self.b.ins().bor(a, c)
            }
            Node::Not(a) => {
                let a = value(self, a);
                if self.b.func.dfg.value_type(a).is_vector() {
                    self.b.ins().bnot(a)
                } else {
                    self.b.ins().bxor_imm_u(a, 1)
                }
            }
            _ => return None,
        })
    }

    fn call(&mut self, name: &'static str, args: &[Value]) -> Value {
        match self.callee.callee(&mut self.b, name) {
            Some(f) => {
                let inst = self.b.ins().call(f, args);
                match self.b.inst_results(inst).first() {
                    Some(v) => *v,
                    None => self.b.ins().f64const(f64::NAN),
                }
            }
            None => {
                self.failed = Some(format!("cannot declare {name}"));
                self.b.ins().f64const(f64::NAN)
            }
        }
    }

    pub(super) fn unary(&mut self, f: UnaryFn, a: Value) -> Value {
        match f {
            UnaryFn::Neg => self.b.ins().fneg(a),
            UnaryFn::Sqrt => self.b.ins().sqrt(a),
            UnaryFn::Abs => self.b.ins().fabs(a),
            UnaryFn::Round => self.b.ins().nearest(a),
            UnaryFn::Floor => self.b.ins().floor(a),
            UnaryFn::Exp => super::super::vmath::exp(&mut self.b, a),
            _ => match crate::codegen::libm::unary_symbol(f) {
                Some(name) => self.call(name, &[a]),
                None => a,
            },
        }
    }

    pub(super) fn binary(&mut self, f: BinaryFn, a: NodeId, c: NodeId) -> Value {
        self.binary_of(f, (a, c), &mut |e, n| e.value(n))
    }

    /// `f(a, c)` with the operands' values from `value`: scalars, or the F64X2 lanes of
    /// a lane loop (which only reaches here with the operations it supports).
    pub(super) fn binary_of(
        &mut self,
        f: BinaryFn,
        (a, c): (NodeId, NodeId),
        value: &mut dyn FnMut(&mut Self, NodeId) -> Value,
    ) -> Value {
        // x / bⁿ as x·(1/b)ⁿ: every such quotient over the same b (the r⁻⁸ and r⁻¹⁴ of
        // a Lennard-Jones force) then shares one division, the slowest operation here.
        if f == BinaryFn::Div {
            if let Node::Binary(BinaryFn::Pow, base, e) = *self.arena.node(c) {
                if let Some(n) = self.arena.as_const(e).and_then(small_int).filter(|n| *n > 0) {
                    let x = value(self, a);
                    let b = value(self, base);
                    let inv = self.powi(b, -n);
                    return self.b.ins().fmul(x, inv);
                }
            }
        }
        if f == BinaryFn::Pow {
            if let Some(e) = self.arena.as_const(c) {
                let base = value(self, a);
                if let Some(n) = small_int(e) {
                    return self.powi(base, n);
                }
                if e == 0.5 {
                    return self.b.ins().sqrt(base);
                }
            }
        }
        let (x, y) = (value(self, a), value(self, c));
        match f {
            BinaryFn::Add => self.b.ins().fadd(x, y),
            BinaryFn::Sub => self.b.ins().fsub(x, y),
            BinaryFn::Mul => self.b.ins().fmul(x, y),
            BinaryFn::Div => self.b.ins().fdiv(x, y),
            BinaryFn::Pow | BinaryFn::Atan2 if self.b.func.dfg.value_type(x).is_vector() => {
                self.failed = Some("a call reached a lane loop".into());
                x
            }
            BinaryFn::Pow => self.call("sdelang_pow", &[x, y]),
            BinaryFn::Atan2 => self.call("sdelang_atan2", &[x, y]),
            // Rust's f64::min/max semantics (a NaN operand yields the other one).
            BinaryFn::Min | BinaryFn::Max => {
                let cc = if f == BinaryFn::Min {
                    FloatCC::LessThan
                } else {
                    FloatCC::GreaterThan
                };
                let first = self.b.ins().fcmp(cc, x, y);
                let y_nan = self.b.ins().fcmp(FloatCC::Unordered, y, y);
                let pick_x = self.b.ins().bor(first, y_nan);
                super::super::vmath::select(&mut self.b, pick_x, x, y)
            }
        }
    }

    /// xⁿ by binary exponentiation, in the same order as `simplify::powi`.
    pub(super) fn powi(&mut self, x: Value, n: i32) -> Value {
        let mut result: Option<Value> = None;
        // A negative power is a power of the reciprocal: x⁻⁶ and x⁻³ then share one
        // division (the optimiser merges the identical 1/x).
        let lanes = self.b.func.dfg.value_type(x).is_vector();
        let mut base = if n < 0 {
            let one = if lanes {
                self.splat_const(1.0)
            } else {
                self.b.ins().f64const(1.0)
            };
            self.b.ins().fdiv(one, x)
        } else {
            x
        };
        let mut k = n.unsigned_abs();
        while k > 0 {
            if k & 1 == 1 {
                result = Some(match result {
                    None => base,
                    Some(r) => self.b.ins().fmul(r, base),
                });
            }
            k >>= 1;
            if k > 0 {
                base = self.b.ins().fmul(base, base);
            }
        }
        match result {
            Some(r) => r,
            None if lanes => self.splat_const(1.0),
            None => self.b.ins().f64const(1.0),
        }
    }
}

pub(super) fn float_cc(op: CmpOp) -> FloatCC {
    match op {
        CmpOp::Eq => FloatCC::Equal,
        CmpOp::Ne => FloatCC::NotEqual,
        CmpOp::Lt => FloatCC::LessThan,
        CmpOp::Le => FloatCC::LessThanOrEqual,
        CmpOp::Gt => FloatCC::GreaterThan,
        CmpOp::Ge => FloatCC::GreaterThanOrEqual,
    }
}
