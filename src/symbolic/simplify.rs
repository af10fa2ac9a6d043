//! Simplifying constructors: every node the symbolic stage builds goes through
//! these, so derivatives come out folded.
//!
//! Rules: constant folding; neutral and absorbing elements; `-(-a) = a`;
//! `exp(log a) = a`, `log(exp a) = a`; integer powers merge (`a·a = a²`,
//! `aᵐ·a = aᵐ⁺¹`, `(aᵐ)ⁿ = aᵐⁿ` for integer n); like terms (`a + a = 2a`,
//! `c₁a + c₂a = (c₁+c₂)a`); constants move to the left of products and sums
//! and commutative operands are ordered, so equal expressions hash alike;
//! division by a constant becomes multiplication by its reciprocal.

use super::arena::{Arena, Node, NodeId};
use crate::model::{BinaryFn, CmpOp, Index, IndexVar, ReduceOp, UnaryFn};

pub use crate::native::libm::{sigmoid, softplus};

/// Evaluates a unary function on a constant (also used by the reference evaluator).
pub fn eval_unary(f: UnaryFn, a: f64) -> f64 {
    match f {
        UnaryFn::Neg => -a,
        UnaryFn::Exp => a.exp(),
        UnaryFn::Log => a.ln(),
        UnaryFn::Log1p => a.ln_1p(),
        UnaryFn::Expm1 => a.exp_m1(),
        UnaryFn::Sqrt => a.sqrt(),
        UnaryFn::Cbrt => a.cbrt(),
        UnaryFn::Sin => a.sin(),
        UnaryFn::Cos => a.cos(),
        UnaryFn::Tan => a.tan(),
        UnaryFn::Tanh => a.tanh(),
        UnaryFn::Abs => a.abs(),
        UnaryFn::Sigmoid => sigmoid(a),
        UnaryFn::Softplus => softplus(a),
        UnaryFn::Erf => libm::erf(a),
    }
}

/// Evaluates a binary function on constants.
pub fn eval_binary(f: BinaryFn, a: f64, b: f64) -> f64 {
    match f {
        BinaryFn::Add => a + b,
        BinaryFn::Sub => a - b,
        BinaryFn::Mul => a * b,
        BinaryFn::Div => a / b,
        BinaryFn::Pow => pow(a, b),
        BinaryFn::Atan2 => a.atan2(b),
        BinaryFn::Min => a.min(b),
        BinaryFn::Max => a.max(b),
    }
}

/// aᵇ with integer exponents computed exactly by repeated multiplication, as the
/// generated code does.
pub fn pow(a: f64, b: f64) -> f64 {
    match small_int(b) {
        Some(n) => powi(a, n),
        None if b == 0.5 => a.sqrt(),
        None => a.powf(b),
    }
}

/// The exponent as a small integer (|n| ≤ 64), if it is one.
pub fn small_int(b: f64) -> Option<i32> {
    (b.fract() == 0.0 && b.abs() <= 64.0).then_some(b as i32)
}

/// aⁿ by binary exponentiation (the same multiplication order as the generated code).
pub fn powi(a: f64, n: i32) -> f64 {
    let mut result = 1.0;
    let mut base = a;
    let mut k = n.unsigned_abs();
    let mut first = true;
    while k > 0 {
        if k & 1 == 1 {
            result = if first { base } else { result * base };
            first = false;
        }
        k >>= 1;
        if k > 0 {
            base *= base;
        }
    }
    if n < 0 {
        1.0 / result
    } else {
        result
    }
}

/// Evaluates a comparison.
pub fn eval_cmp(op: CmpOp, a: f64, b: f64) -> bool {
    match op {
        CmpOp::Eq => a == b,
        CmpOp::Ne => a != b,
        CmpOp::Lt => a < b,
        CmpOp::Le => a <= b,
        CmpOp::Gt => a > b,
        CmpOp::Ge => a >= b,
    }
}

impl Arena {
    /// a + b.
    pub fn add(&mut self, a: NodeId, b: NodeId) -> NodeId {
        match (self.as_const(a), self.as_const(b)) {
            (Some(x), Some(y)) => return self.constant(x + y),
            (Some(0.0), None) => return b,
            (None, Some(0.0)) => return a,
            (None, Some(_)) => return self.add(b, a),
            _ => {}
        }
        if let Node::Unary(UnaryFn::Neg, nb) = *self.node(b) {
            return self.sub(a, nb);
        }
        if let Node::Unary(UnaryFn::Neg, na) = *self.node(a) {
            return self.sub(b, na);
        }
        let (ca, ra) = self.split_coeff(a);
        let (cb, rb) = self.split_coeff(b);
        if ra == rb {
            let c = self.constant(ca + cb);
            return self.mul(c, ra);
        }
        let (a, b) = if self.as_const(a).is_none() && b < a {
            (b, a)
        } else {
            (a, b)
        };
        self.intern(Node::Binary(BinaryFn::Add, a, b))
    }

    /// Sums a list (0 for an empty list).
    pub fn sum_all(&mut self, terms: impl IntoIterator<Item = NodeId>) -> NodeId {
        let mut acc = self.constant(0.0);
        for t in terms {
            acc = self.add(acc, t);
        }
        acc
    }

    /// a − b.
    pub fn sub(&mut self, a: NodeId, b: NodeId) -> NodeId {
        if a == b {
            return self.constant(0.0);
        }
        match (self.as_const(a), self.as_const(b)) {
            (Some(x), Some(y)) => return self.constant(x - y),
            (Some(0.0), None) => return self.neg(b),
            (None, Some(0.0)) => return a,
            _ => {}
        }
        if let Node::Unary(UnaryFn::Neg, nb) = *self.node(b) {
            return self.add(a, nb);
        }
        let (ca, ra) = self.split_coeff(a);
        let (cb, rb) = self.split_coeff(b);
        if ra == rb {
            let c = self.constant(ca - cb);
            return self.mul(c, ra);
        }
        self.intern(Node::Binary(BinaryFn::Sub, a, b))
    }

    /// −a.
    pub fn neg(&mut self, a: NodeId) -> NodeId {
        if let Some(x) = self.as_const(a) {
            return self.constant(-x);
        }
        match *self.node(a) {
            Node::Unary(UnaryFn::Neg, inner) => inner,
            Node::Binary(BinaryFn::Sub, x, y) => self.sub(y, x),
            Node::Binary(BinaryFn::Mul, c, x) if self.as_const(c).is_some() => {
                let k = self.as_const(c).map_or(0.0, |v| -v);
                let kc = self.constant(k);
                self.mul(kc, x)
            }
            _ => self.intern(Node::Unary(UnaryFn::Neg, a)),
        }
    }

    /// Splits `c·r` into `(c, r)`; anything else is `(1, a)`.
    fn split_coeff(&mut self, a: NodeId) -> (f64, NodeId) {
        match *self.node(a) {
            Node::Binary(BinaryFn::Mul, c, r) => match self.as_const(c) {
                Some(k) => (k, r),
                None => (1.0, a),
            },
            Node::Unary(UnaryFn::Neg, r) => (-1.0, r),
            _ => (1.0, a),
        }
    }

    /// Splits `rⁿ` (integer constant n) into `(r, n)`; anything else is `(a, 1)`.
    fn split_power(&self, a: NodeId) -> (NodeId, f64) {
        match *self.node(a) {
            Node::Binary(BinaryFn::Pow, r, e) => match self.as_const(e) {
                Some(n) if n.fract() == 0.0 => (r, n),
                _ => (a, 1.0),
            },
            _ => (a, 1.0),
        }
    }

    /// a · b.
    pub fn mul(&mut self, a: NodeId, b: NodeId) -> NodeId {
        match (self.as_const(a), self.as_const(b)) {
            (Some(x), Some(y)) => return self.constant(x * y),
            (None, Some(_)) => return self.mul(b, a),
            (Some(x), None) => {
                if x == 0.0 {
                    return a;
                }
                if x == 1.0 {
                    return b;
                }
                if x == -1.0 {
                    return self.neg(b);
                }
                match *self.node(b) {
                    // c·(d·r) = (cd)·r
                    Node::Binary(BinaryFn::Mul, d, r) if self.as_const(d).is_some() => {
                        let k = self.constant(x * self.as_const(d).unwrap_or(1.0));
                        return self.mul(k, r);
                    }
                    Node::Unary(UnaryFn::Neg, r) => {
                        let k = self.constant(-x);
                        return self.mul(k, r);
                    }
                    _ => return self.intern(Node::Binary(BinaryFn::Mul, a, b)),
                }
            }
            _ => {}
        }
        // Pull constant factors out: (c·r)·b = c·(r·b).
        let (ca, ra) = self.split_coeff(a);
        let (cb, rb) = self.split_coeff(b);
        if ca != 1.0 || cb != 1.0 {
            let inner = self.mul(ra, rb);
            let k = self.constant(ca * cb);
            return self.mul(k, inner);
        }
        let (ba, ea) = self.split_power(a);
        let (bb, eb) = self.split_power(b);
        if ba == bb {
            let e = self.constant(ea + eb);
            return self.pow(ba, e);
        }
        let (a, b) = if b < a { (b, a) } else { (a, b) };
        self.intern(Node::Binary(BinaryFn::Mul, a, b))
    }

    /// Multiplies a list (1 for an empty list).
    pub fn product_all(&mut self, factors: impl IntoIterator<Item = NodeId>) -> NodeId {
        let mut acc = self.constant(1.0);
        for f in factors {
            acc = self.mul(acc, f);
        }
        acc
    }

    /// a / b.
    pub fn div(&mut self, a: NodeId, b: NodeId) -> NodeId {
        match (self.as_const(a), self.as_const(b)) {
            (Some(x), Some(y)) => return self.constant(x / y),
            (Some(0.0), None) => return a,
            (None, Some(1.0)) => return a,
            (None, Some(y)) if y != 0.0 => {
                let r = self.constant(1.0 / y);
                return self.mul(r, a);
            }
            _ => {}
        }
        if a == b {
            return self.constant(1.0);
        }
        let (ca, ra) = self.split_coeff(a);
        if ca != 1.0 {
            let inner = self.div(ra, b);
            let k = self.constant(ca);
            return self.mul(k, inner);
        }
        self.intern(Node::Binary(BinaryFn::Div, a, b))
    }

    /// aᵇ.
    pub fn pow(&mut self, a: NodeId, b: NodeId) -> NodeId {
        match (self.as_const(a), self.as_const(b)) {
            (Some(x), Some(y)) => return self.constant(pow(x, y)),
            (_, Some(0.0)) => return self.constant(1.0),
            (_, Some(1.0)) => return a,
            _ => {}
        }
        if let (Node::Binary(BinaryFn::Pow, r, e), Some(n)) = (self.node(a).clone(), self.as_const(b)) {
            if let Some(m) = self.as_const(e) {
                if n.fract() == 0.0 {
                    let k = self.constant(m * n);
                    return self.pow(r, k);
                }
            }
        }
        self.intern(Node::Binary(BinaryFn::Pow, a, b))
    }

    /// A unary function, with constant folding and inverse pairs cancelled.
    pub fn unary(&mut self, f: UnaryFn, a: NodeId) -> NodeId {
        if let Some(x) = self.as_const(a) {
            return self.constant(eval_unary(f, x));
        }
        match (f, self.node(a).clone()) {
            (UnaryFn::Neg, _) => self.neg(a),
            (UnaryFn::Exp, Node::Unary(UnaryFn::Log, x)) => x,
            (UnaryFn::Log, Node::Unary(UnaryFn::Exp, x)) => x,
            (UnaryFn::Abs, Node::Unary(UnaryFn::Abs, _)) => a,
            (UnaryFn::Abs, Node::Unary(UnaryFn::Neg, x)) => self.unary(UnaryFn::Abs, x),
            _ => self.intern(Node::Unary(f, a)),
        }
    }

    /// A binary function.
    pub fn binary(&mut self, f: BinaryFn, a: NodeId, b: NodeId) -> NodeId {
        match f {
            BinaryFn::Add => self.add(a, b),
            BinaryFn::Sub => self.sub(a, b),
            BinaryFn::Mul => self.mul(a, b),
            BinaryFn::Div => self.div(a, b),
            BinaryFn::Pow => self.pow(a, b),
            BinaryFn::Atan2 | BinaryFn::Min | BinaryFn::Max => {
                if let (Some(x), Some(y)) = (self.as_const(a), self.as_const(b)) {
                    return self.constant(eval_binary(f, x, y));
                }
                if a == b && f != BinaryFn::Atan2 {
                    return a;
                }
                self.intern(Node::Binary(f, a, b))
            }
        }
    }

    /// A comparison.
    pub fn compare(&mut self, op: CmpOp, a: NodeId, b: NodeId) -> NodeId {
        self.intern(Node::Compare(op, a, b))
    }

    /// `if c then a else b`.
    pub fn select(&mut self, c: NodeId, a: NodeId, b: NodeId) -> NodeId {
        if a == b {
            return a;
        }
        if let Node::Not(inner) = *self.node(c) {
            return self.select(inner, b, a);
        }
        self.intern(Node::Select(c, a, b))
    }

    /// A loop reduction; a sum of zeros is zero, and a body that does not depend
    /// on the variable over constant bounds becomes a product with the count.
    pub fn reduce(&mut self, op: ReduceOp, var: IndexVar, lo: Index, hi: Index, body: NodeId) -> NodeId {
        let invariant = !self.info(body).free.contains(&var);
        if let (Some(l), Some(h)) = (lo.as_constant(), hi.as_constant()) {
            let count = (h - l).max(0);
            if count == 0 {
                let empty = match op {
                    ReduceOp::Sum => 0.0,
                    ReduceOp::Prod => 1.0,
                    ReduceOp::Max => f64::NEG_INFINITY,
                    ReduceOp::Min => f64::INFINITY,
                };
                return self.constant(empty);
            }
            if invariant {
                let n = self.constant(count as f64);
                return match op {
                    ReduceOp::Sum => self.mul(n, body),
                    ReduceOp::Prod => self.pow(body, n),
                    ReduceOp::Max | ReduceOp::Min => body,
                };
            }
        }
        if op == ReduceOp::Sum && self.as_const(body) == Some(0.0) {
            return body;
        }
        self.intern(Node::Reduce {
            op,
            var,
            lo,
            hi,
            body,
        })
    }
}
