//! Elementary functions emitted inline instead of calling libm.
//!
//! A call into libm costs a spill of every live register and blocks Cranelift
//! from keeping loop state in registers; in pair loops and mean-field sums the
//! exponential dominates the running time. The inline exponential below is
//! straight-line code (no branches, no tables), correctly rounded within 2 ulp
//! over the whole double range, and propagates NaN and infinities like libm.

use cranelift_codegen::ir::condcodes::FloatCC;
use cranelift_codegen::ir::{types, ConstantData, InstBuilder, MemFlagsData, Value};
use cranelift_frontend::FunctionBuilder;

/// log2(e).
const LOG2_E: f64 = std::f64::consts::LOG2_E;
/// ln 2 split into a high part with 32 trailing zero bits (so k·LN2_HI is exact
/// for |k| < 2²⁰) and the rest (Cody & Waite 1980).
const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
/// 1.5·2⁵²: adding it rounds any |t| < 2⁵¹ to an integer.
const ROUND_SHIFT: f64 = 6_755_399_441_055_744.0;
/// Above this exp overflows to +inf; below the lower bound it underflows to 0.
const OVERFLOW: f64 = 709.782_712_893_384;
const UNDERFLOW: f64 = -745.133_219_101_941_1;
/// Taylor coefficients 1/n! for n = 2..=13: on |r| ≤ ln2/2 the remainder is below
/// r¹⁴/14! < 4e-18, far under half an ulp.
const TAYLOR: [f64; 12] = [
    1.0 / 2.0,
    1.0 / 6.0,
    1.0 / 24.0,
    1.0 / 120.0,
    1.0 / 720.0,
    1.0 / 5040.0,
    1.0 / 40320.0,
    1.0 / 362_880.0,
    1.0 / 3_628_800.0,
    1.0 / 39_916_800.0,
    1.0 / 479_001_600.0,
    1.0 / 6_227_020_800.0,
];

/// e^x: x = k·ln2 + r with k = round(x·log2 e) and |r| ≤ ln2/2, e^r by its
/// Taylor polynomial, then scaled by 2^k built from the exponent bits (in two
/// factors, so results in the subnormal range are right too).
pub fn exp(b: &mut FunctionBuilder, x: Value) -> Value {
    let c = pool_const;
    // Clamped so k fits comfortably; fmin/fmax keep NaN.
    let hi = c(b, 710.0);
    let lo = c(b, -746.0);
    let xc = b.ins().fmin(x, hi);
    let xc = b.ins().fmax(xc, lo);
    let log2e = c(b, LOG2_E);
    let t = b.ins().fmul(xc, log2e);
    // Adding 1.5·2⁵² rounds t to an integer (ties to even, like `nearest`) and leaves
    // that integer in the low bits of the sum, so k needs no float-to-integer
    // conversion (whose saturating form is a branchy sequence on x86-64).
    let shift = c(b, ROUND_SHIFT);
    let shifted = b.ins().fadd(t, shift);
    let kf = b.ins().fsub(shifted, shift);
    let ln2_hi = c(b, LN2_HI);
    let ln2_lo = c(b, LN2_LO);
    let a = b.ins().fmul(kf, ln2_hi);
    let r = b.ins().fsub(xc, a);
    let a = b.ins().fmul(kf, ln2_lo);
    let r = b.ins().fsub(r, a);
    // e^r = 1 + r + r²·(1/2 + r·(1/6 + …)) by Horner.
    let (last, rest) = TAYLOR.split_last().unwrap_or((&0.0, &[]));
    let mut p = c(b, *last);
    for coef in rest.iter().rev() {
        let m = b.ins().fmul(p, r);
        let k = c(b, *coef);
        p = b.ins().fadd(m, k);
    }
    let r2 = b.ins().fmul(r, r);
    let p = b.ins().fmul(p, r2);
    let p = b.ins().fadd(p, r);
    let one = c(b, 1.0);
    let p = b.ins().fadd(p, one);
    // 2^k = 2^(k1) · 2^(k − k1), each factor a normal number for |k| ≤ 1100.
    let shifted_bits = b.ins().bitcast(types::I64, MemFlagsData::new(), shifted);
    let k = b.ins().iadd_imm_s(shifted_bits, -(ROUND_SHIFT.to_bits() as i64));
    let k1 = b.ins().sshr_imm_u(k, 1);
    let k2 = b.ins().isub(k, k1);
    let p = scale(b, p, k1);
    let y = scale(b, p, k2);
    // Overflow and underflow as libm rounds them (NaN compares false: kept).
    let inf = c(b, f64::INFINITY);
    let zero = c(b, 0.0);
    let over_at = c(b, OVERFLOW);
    let under_at = c(b, UNDERFLOW);
    let over = b.ins().fcmp(FloatCC::GreaterThan, x, over_at);
    let y = b.ins().select(over, inf, y);
    let under = b.ins().fcmp(FloatCC::LessThan, x, under_at);
    b.ins().select(under, zero, y)
}

/// A constant read from the function's constant pool: Cranelift rebuilds scalar
/// float constants from integers at every use in a loop, two instructions each, and
/// the polynomial has a dozen.
fn pool_const(b: &mut FunctionBuilder, v: f64) -> Value {
    let pair = splat_const(b, v);
    b.ins().extractlane(pair, 0)
}

/// `[v, v]` from the function's constant pool.
pub fn splat_const(b: &mut FunctionBuilder, v: f64) -> Value {
    let mut bytes = v.to_le_bytes().to_vec();
    bytes.extend_from_slice(&v.to_le_bytes());
    let h = b.func.dfg.constants.insert(ConstantData::from(bytes));
    b.ins().vconst(types::F64X2, h)
}

/// p · 2^k for an exponent k with a normal 2^k.
fn scale(b: &mut FunctionBuilder, p: Value, k: Value) -> Value {
    let biased = b.ins().iadd_imm_s(k, 1023);
    let bits = b.ins().ishl_imm_u(biased, 52);
    let two_k = b.ins().bitcast(types::F64, MemFlagsData::new(), bits);
    b.ins().fmul(p, two_k)
}
