//! Elementary functions emitted inline instead of calling libm.
//!
//! A call into libm costs a spill of every live register and blocks Cranelift
//! from keeping loop state in registers; in pair loops and mean-field sums the
//! exponential dominates the running time. The inline exponential below is
//! straight-line code (no branches, no tables), within 2 ulp of libm over the
//! whole double range, and propagates NaN and infinities like libm.

use cranelift_codegen::ir::condcodes::FloatCC;
use cranelift_codegen::ir::{types, ConstantData, Endianness, InstBuilder, MemFlagsData, Value};
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
/// factors, so results in the subnormal range are right too). `x` is an F64 or an
/// F64X2; each lane of the vector form runs the same IEEE operations as the scalar
/// form, so both give the same bits. No fused multiply-add: standalone binaries are
/// built for baseline x86-64, which lacks it, and must compute what `sde run` does.
pub fn exp(b: &mut FunctionBuilder, x: Value) -> Value {
    let lanes = b.func.dfg.value_type(x).is_vector();
    let c = |b: &mut FunctionBuilder, v: f64| {
        if lanes {
            splat_const(b, v)
        } else {
            pool_const(b, v)
        }
    };
    // Clamped so k fits comfortably, as `hi < x ? hi : x` and `x < lo ? lo : x`: a
    // NaN fails both tests and is kept, and each is one minsd/minpd (maxsd/maxpd)
    // where `fmin`/`fmax`, exact about NaN operands on both sides, are sequences.
    let hi = c(b, 710.0);
    let lo = c(b, -746.0);
    let above = b.ins().fcmp(FloatCC::LessThan, hi, x);
    let xc = select(b, above, hi, x);
    let below = b.ins().fcmp(FloatCC::LessThan, xc, lo);
    let xc = select(b, below, lo, xc);
    let log2e = c(b, LOG2_E);
    // Adding 1.5·2⁵² rounds x·log2 e to an integer (ties to even, like `nearest`) and
    // leaves that integer in the low bits of the sum, so k needs no float-to-integer
    // conversion (whose saturating form is a branchy sequence on x86-64).
    let shift = c(b, ROUND_SHIFT);
    let shifted = mul_add(b, (xc, log2e), shift);
    let kf = b.ins().fsub(shifted, shift);
    let minus_ln2_hi = c(b, -LN2_HI);
    let minus_ln2_lo = c(b, -LN2_LO);
    let r = mul_add(b, (kf, minus_ln2_hi), xc);
    let r = mul_add(b, (kf, minus_ln2_lo), r);
    // e^r = 1 + r + r²·q(r), q(r) = Σₖ TAYLOR[k]·rᵏ by Estrin's scheme: pairs
    // TAYLOR[2m] + TAYLOR[2m+1]·r, combined with r², r⁴, r⁸. Its dependency chain is
    // about a third of Horner's (12 multiply-add steps in a row), and in a pair loop
    // that chain, not the instruction count, bounds the speed.
    let r2 = b.ins().fmul(r, r);
    let mut terms: Vec<Value> = TAYLOR
        .chunks(2)
        .map(|pair| {
            let lo = c(b, pair.first().copied().unwrap_or(0.0));
            match pair.get(1) {
                Some(hi) => {
                    let hi = c(b, *hi);
                    mul_add(b, (hi, r), lo)
                }
                None => lo,
            }
        })
        .collect();
    let mut power = r2;
    while terms.len() > 1 {
        terms = terms
            .chunks(2)
            .map(|pair| match pair {
                [lo, hi] => mul_add(b, (*hi, power), *lo),
                [only] => *only,
                _ => power,
            })
            .collect();
        if terms.len() > 1 {
            power = b.ins().fmul(power, power);
        }
    }
    let p = terms.first().copied().unwrap_or(r2);
    let p = mul_add(b, (p, r2), r);
    let one = c(b, 1.0);
    let p = b.ins().fadd(p, one);
    // 2^k = 2^(k1) · 2^(k − k1), each factor a normal number for |k| ≤ 1100.
    let shifted_bits = to_bits(b, shifted);
    let k = add_int(b, shifted_bits, -(ROUND_SHIFT.to_bits() as i64));
    let k1 = if lanes {
        let one = b.ins().iconst(types::I32, 1);
        b.ins().sshr(k, one)
    } else {
        b.ins().sshr_imm_u(k, 1)
    };
    let k2 = b.ins().isub(k, k1);
    let p = scale(b, p, k1);
    let y = scale(b, p, k2);
    // Overflow and underflow as libm rounds them (NaN compares false: kept).
    let inf = c(b, f64::INFINITY);
    let zero = c(b, 0.0);
    let over_at = c(b, OVERFLOW);
    let under_at = c(b, UNDERFLOW);
    let over = b.ins().fcmp(FloatCC::GreaterThan, x, over_at);
    let y = select(b, over, inf, y);
    let under = b.ins().fcmp(FloatCC::LessThan, x, under_at);
    select(b, under, zero, y)
}

/// `a·m + c`, rounded twice.
fn mul_add(b: &mut FunctionBuilder, (a, m): (Value, Value), c: Value) -> Value {
    let p = b.ins().fmul(a, m);
    b.ins().fadd(p, c)
}

/// Memory flags for reinterpreting vector lanes (Cranelift asks for an explicit byte
/// order when a bitcast changes the lane type).
fn little() -> MemFlagsData {
    MemFlagsData::new().with_endianness(Endianness::Little)
}

/// The bits of an F64 (as I64) or of each lane of an F64X2 (as I64X2).
fn to_bits(b: &mut FunctionBuilder, x: Value) -> Value {
    if b.func.dfg.value_type(x).is_vector() {
        b.ins().bitcast(types::I64X2, little(), x)
    } else {
        b.ins().bitcast(types::I64, MemFlagsData::new(), x)
    }
}

/// The doubles whose bits an I64 or the lanes of an I64X2 hold.
fn from_bits(b: &mut FunctionBuilder, x: Value) -> Value {
    if b.func.dfg.value_type(x).is_vector() {
        b.ins().bitcast(types::F64X2, little(), x)
    } else {
        b.ins().bitcast(types::F64, MemFlagsData::new(), x)
    }
}

/// `x + v` for an I64 or each lane of an I64X2.
fn add_int(b: &mut FunctionBuilder, x: Value, v: i64) -> Value {
    if b.func.dfg.value_type(x).is_vector() {
        let mut bytes = v.to_le_bytes().to_vec();
        bytes.extend_from_slice(&v.to_le_bytes());
        let h = b.func.dfg.constants.insert(ConstantData::from(bytes));
        let splat = b.ins().vconst(types::I64X2, h);
        b.ins().iadd(x, splat)
    } else {
        b.ins().iadd_imm_s(x, v)
    }
}

/// `if cond then a else d`, for a scalar condition or, lane by lane, for the mask a
/// vector comparison gives.
pub fn select(b: &mut FunctionBuilder, cond: Value, a: Value, d: Value) -> Value {
    if b.func.dfg.value_type(cond).is_vector() {
        let mask = from_bits(b, cond);
        b.ins().bitselect(mask, a, d)
    } else {
        b.ins().select(cond, a, d)
    }
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

/// p · 2^k for an exponent k with a normal 2^k (lane by lane for vectors).
fn scale(b: &mut FunctionBuilder, p: Value, k: Value) -> Value {
    let biased = add_int(b, k, 1023);
    let bits = if b.func.dfg.value_type(k).is_vector() {
        let by = b.ins().iconst(types::I32, 52);
        b.ins().ishl(biased, by)
    } else {
        b.ins().ishl_imm_u(biased, 52)
    };
    let two_k = from_bits(b, bits);
    b.ins().fmul(p, two_k)
}
