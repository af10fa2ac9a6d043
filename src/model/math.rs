//! Scalar semantics of the language's functions, shared by every stage that
//! computes with numbers: the checker's constant evaluator, the symbolic
//! stage's constant folding and reference evaluator, and (through the same
//! formulas) the generated code.

use super::{BinaryFn, CmpOp, UnaryFn};

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
        UnaryFn::Round => a.round_ties_even(),
        UnaryFn::Floor => a.floor(),
    }
}

/// 1 / (1 + e⁻ᵃ), without overflow for large |a|.
pub fn sigmoid(a: f64) -> f64 {
    if a >= 0.0 {
        1.0 / (1.0 + (-a).exp())
    } else {
        let e = a.exp();
        e / (1.0 + e)
    }
}

/// ln(1 + eᵃ), without overflow for large a.
pub fn softplus(a: f64) -> f64 {
    a.max(0.0) + (-a.abs()).exp().ln_1p()
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
    let mut base = if n < 0 { 1.0 / a } else { a };
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
    result
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
