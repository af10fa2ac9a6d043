//! Simplifying constructors: every node the symbolic stage builds goes through
//! these, so derivatives come out folded.
//!
//! Rules: constant folding; neutral and absorbing elements; `-(-a) = a`;
//! `exp(log a) = a`, `log(exp a) = a`; integer powers merge (`a·a = a²`,
//! `aᵐ·a = aᵐ⁺¹`, `(aᵐ)ⁿ = aᵐⁿ` for integer n); like terms (`a + a = 2a`,
//! `c₁a + c₂a = (c₁+c₂)a`); constants move to the left of products and sums
//! and commutative operands are ordered, so equal expressions hash alike;
//! division by a constant becomes multiplication by its reciprocal. Sums and
//! products of up to 24 operands are normalised as wholes: like terms and equal
//! bases are merged across the chain and operands are put in a canonical order.

use super::arena::{Arena, Node, NodeId};
use crate::model::{BinaryFn, CmpOp, Index, IndexVar, Over, ReduceOp, UnaryFn};

pub use crate::model::math::{eval_binary, eval_cmp, eval_unary, pow, powi, sigmoid, small_int, softplus};

/// Longest sum or product that is normalised (longer ones stay binary, so
/// building a long chain stays linear).
const MAX_FLAT: usize = 24;

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
        if let Some(sum) = self.flat_sum(a, b, 1.0) {
            return sum;
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
        if let Some(diff) = self.flat_sum(a, b, -1.0) {
            return diff;
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
        let mut factors = Vec::new();
        self.collect_factors(a, 1.0, &mut factors);
        self.collect_factors(b, 1.0, &mut factors);
        if factors.len() > MAX_FLAT {
            let (a, b) = if b < a { (b, a) } else { (a, b) };
            return self.intern(Node::Binary(BinaryFn::Mul, a, b));
        }
        self.rebuild_product(factors)
    }

    /// The factors `(base, integer exponent)` of a product or quotient of
    /// non-constant nodes, exponents multiplied by `sign` (±1).
    fn collect_factors(&self, id: NodeId, sign: f64, out: &mut Vec<(NodeId, f64)>) {
        let opaque_const = |n: NodeId| self.as_const(n).is_some();
        match *self.node(id) {
            Node::Binary(BinaryFn::Mul, x, y) if !opaque_const(x) && !opaque_const(y) => {
                self.collect_factors(x, sign, out);
                self.collect_factors(y, sign, out);
            }
            Node::Binary(BinaryFn::Div, x, y)
                if !opaque_const(y) && (!opaque_const(x) || self.as_const(x) == Some(1.0)) =>
            {
                if !opaque_const(x) {
                    self.collect_factors(x, sign, out);
                }
                self.collect_factors(y, -sign, out);
            }
            _ => {
                let (base, e) = self.split_power(id);
                out.push((base, sign * e));
            }
        }
    }

    /// The canonical product: equal bases merged, bases in id order, left-deep,
    /// negative powers gathered into one denominator.
    fn rebuild_product(&mut self, mut factors: Vec<(NodeId, f64)>) -> NodeId {
        factors.sort_by_key(|f| f.0);
        let mut merged: Vec<(NodeId, f64)> = Vec::new();
        for (base, e) in factors {
            match merged.last_mut() {
                Some(last) if last.0 == base => last.1 += e,
                _ => merged.push((base, e)),
            }
        }
        let mut numer: Option<NodeId> = None;
        let mut denom: Option<NodeId> = None;
        for (base, e) in merged {
            if e == 0.0 {
                continue;
            }
            let term = if e.abs() == 1.0 {
                base
            } else {
                let k = self.constant(e.abs());
                self.pow(base, k)
            };
            let side = if e > 0.0 { &mut numer } else { &mut denom };
            *side = Some(match *side {
                None => term,
                Some(prev) => self.intern(Node::Binary(BinaryFn::Mul, prev, term)),
            });
        }
        match (numer, denom) {
            (Some(n), None) => n,
            (n, Some(d)) => {
                let n = n.unwrap_or_else(|| self.constant(1.0));
                self.intern(Node::Binary(BinaryFn::Div, n, d))
            }
            (None, None) => self.constant(1.0),
        }
    }

    /// The terms `(node, coefficient)` of a sum; constants are added to `constant`.
    fn collect_terms(&self, id: NodeId, sign: f64, out: &mut Vec<(NodeId, f64)>, constant: &mut f64) {
        if let Some(c) = self.as_const(id) {
            *constant += sign * c;
            return;
        }
        match *self.node(id) {
            Node::Binary(BinaryFn::Add, x, y) => {
                self.collect_terms(x, sign, out, constant);
                self.collect_terms(y, sign, out, constant);
            }
            Node::Binary(BinaryFn::Sub, x, y) => {
                self.collect_terms(x, sign, out, constant);
                self.collect_terms(y, -sign, out, constant);
            }
            Node::Unary(UnaryFn::Neg, x) => self.collect_terms(x, -sign, out, constant),
            Node::Binary(BinaryFn::Mul, c, r) if self.as_const(c).is_some() => {
                out.push((r, sign * self.as_const(c).unwrap_or(1.0)));
            }
            _ => out.push((id, sign)),
        }
    }

    /// a + s·b as a canonical sum (like terms merged, terms in id order, the
    /// constant last), or `None` when the sum is too long to normalise.
    fn flat_sum(&mut self, a: NodeId, b: NodeId, s: f64) -> Option<NodeId> {
        let mut terms = Vec::new();
        let mut constant = 0.0;
        self.collect_terms(a, 1.0, &mut terms, &mut constant);
        self.collect_terms(b, s, &mut terms, &mut constant);
        if terms.len() > MAX_FLAT {
            return None;
        }
        terms.sort_by_key(|t| t.0);
        let mut merged: Vec<(NodeId, f64)> = Vec::new();
        for (node, c) in terms {
            match merged.last_mut() {
                Some(last) if last.0 == node => last.1 += c,
                _ => merged.push((node, c)),
            }
        }
        let mut acc: Option<NodeId> = None;
        for (node, c) in merged {
            if c == 0.0 {
                continue;
            }
            let k = self.constant(c.abs());
            let magnitude = self.mul(k, node);
            acc = Some(match acc {
                None if c < 0.0 => self.intern(Node::Unary(UnaryFn::Neg, magnitude)),
                None => magnitude,
                Some(prev) if c < 0.0 => self.intern(Node::Binary(BinaryFn::Sub, prev, magnitude)),
                Some(prev) => self.intern(Node::Binary(BinaryFn::Add, prev, magnitude)),
            });
        }
        let k = self.constant(constant.abs());
        Some(match acc {
            None => self.constant(constant),
            Some(sum) if constant == 0.0 => sum,
            Some(sum) if constant < 0.0 => self.intern(Node::Binary(BinaryFn::Sub, sum, k)),
            Some(sum) => self.intern(Node::Binary(BinaryFn::Add, sum, k)),
        })
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
        let (cb, rb) = self.split_coeff(b);
        if cb != 1.0 && cb != 0.0 {
            let inner = self.div(a, rb);
            let k = self.constant(1.0 / cb);
            return self.mul(k, inner);
        }
        if self.as_const(a).is_some() {
            return self.intern(Node::Binary(BinaryFn::Div, a, b));
        }
        let mut factors = Vec::new();
        self.collect_factors(a, 1.0, &mut factors);
        self.collect_factors(b, -1.0, &mut factors);
        if factors.len() > MAX_FLAT {
            return self.intern(Node::Binary(BinaryFn::Div, a, b));
        }
        self.rebuild_product(factors)
    }

    /// aᵇ.
    pub fn pow(&mut self, a: NodeId, b: NodeId) -> NodeId {
        match (self.as_const(a), self.as_const(b)) {
            (Some(x), Some(y)) => return self.constant(pow(x, y)),
            (_, Some(0.0)) => return self.constant(1.0),
            (_, Some(1.0)) => return a,
            _ => {}
        }
        // (√x)ⁿ = x^(n/2) for even n (x ≥ 0 wherever √x is real): a distance raised to
        // an even power never needs the square root of its square.
        if let (Node::Unary(UnaryFn::Sqrt, x), Some(n)) = (self.node(a).clone(), self.as_const(b)) {
            if n.fract() == 0.0 && (n / 2.0).fract() == 0.0 {
                let half = self.constant(n / 2.0);
                return self.pow(x, half);
            }
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

    /// A loop reduction over every value of its range.
    pub fn reduce(&mut self, op: ReduceOp, var: IndexVar, lo: Index, hi: Index, body: NodeId) -> NodeId {
        self.reduce_over(op, var, lo, hi, Over::Range, body)
    }

    /// A loop reduction; a sum of zeros is zero, and a body that does not depend
    /// on the variable over constant bounds becomes a product with the count
    /// (only when every value of the range is visited).
    pub fn reduce_over(
        &mut self,
        op: ReduceOp,
        var: IndexVar,
        lo: Index,
        hi: Index,
        over: Over,
        body: NodeId,
    ) -> NodeId {
        let invariant = !self.info(body).free.contains(&var);
        let whole = matches!(over, Over::Range | Over::Particles(_));
        if let (Some(l), Some(h), true) = (lo.as_constant(), hi.as_constant(), whole) {
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
            over,
            body,
        })
    }
}
