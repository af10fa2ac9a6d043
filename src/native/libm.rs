//! Transcendental functions called by generated code.
//!
//! Cranelift has instructions for `sqrt`, `fabs`, `fmin`, `fmax` and arithmetic;
//! everything else is a call. Each callee is an explicit `extern "C"` wrapper
//! around Rust's `f64` methods (which use the platform libm) or the `libm` crate
//! (`erf`), registered with the JIT by name, so no symbol is looked up with dlsym.
//! Accuracy is therefore exactly the platform libm's (≤ 1 ulp for exp/log).
//!
//! The wrappers are exported unmangled: the object files of standalone sampler
//! binaries import them by these names, and the runtime library they link
//! provides these very functions, so the JIT and a standalone binary compute
//! every transcendental with the same code.

use crate::model::UnaryFn;

pub use crate::model::math::{sigmoid, softplus};

macro_rules! wrappers {
    ($($name:ident => |$x:ident| $body:expr;)*) => {
        $(
            /// Called from generated code.
            #[no_mangle]
            pub extern "C" fn $name($x: f64) -> f64 {
                $body
            }
        )*
    };
}

wrappers! {
    sdelang_exp => |x| x.exp();
    sdelang_log => |x| x.ln();
    sdelang_log1p => |x| x.ln_1p();
    sdelang_expm1 => |x| x.exp_m1();
    sdelang_cbrt => |x| x.cbrt();
    sdelang_sin => |x| x.sin();
    sdelang_cos => |x| x.cos();
    sdelang_tan => |x| x.tan();
    sdelang_tanh => |x| x.tanh();
    sdelang_sigmoid => |x| sigmoid(x);
    sdelang_softplus => |x| softplus(x);
    sdelang_erf => |x| libm::erf(x);
}

/// Called from generated code.
#[no_mangle]
pub extern "C" fn sdelang_pow(x: f64, y: f64) -> f64 {
    x.powf(y)
}

/// Called from generated code.
#[no_mangle]
pub extern "C" fn sdelang_atan2(y: f64, x: f64) -> f64 {
    y.atan2(x)
}

/// The symbol name of a unary function that needs a call, if it does.
pub fn unary_symbol(f: UnaryFn) -> Option<&'static str> {
    Some(match f {
        UnaryFn::Exp => "sdelang_exp",
        UnaryFn::Log => "sdelang_log",
        UnaryFn::Log1p => "sdelang_log1p",
        UnaryFn::Expm1 => "sdelang_expm1",
        UnaryFn::Cbrt => "sdelang_cbrt",
        UnaryFn::Sin => "sdelang_sin",
        UnaryFn::Cos => "sdelang_cos",
        UnaryFn::Tan => "sdelang_tan",
        UnaryFn::Tanh => "sdelang_tanh",
        UnaryFn::Sigmoid => "sdelang_sigmoid",
        UnaryFn::Softplus => "sdelang_softplus",
        UnaryFn::Erf => "sdelang_erf",
        UnaryFn::Neg | UnaryFn::Sqrt | UnaryFn::Abs | UnaryFn::Round | UnaryFn::Floor => return None,
    })
}

/// Every symbol generated code may call: (name, arity, address).
pub fn symbols() -> Vec<(&'static str, usize, *const u8)> {
    let unary: [(&str, extern "C" fn(f64) -> f64); 12] = [
        ("sdelang_exp", sdelang_exp),
        ("sdelang_log", sdelang_log),
        ("sdelang_log1p", sdelang_log1p),
        ("sdelang_expm1", sdelang_expm1),
        ("sdelang_cbrt", sdelang_cbrt),
        ("sdelang_sin", sdelang_sin),
        ("sdelang_cos", sdelang_cos),
        ("sdelang_tan", sdelang_tan),
        ("sdelang_tanh", sdelang_tanh),
        ("sdelang_sigmoid", sdelang_sigmoid),
        ("sdelang_softplus", sdelang_softplus),
        ("sdelang_erf", sdelang_erf),
    ];
    let mut out: Vec<(&'static str, usize, *const u8)> =
        unary.iter().map(|(n, f)| (*n, 1, *f as *const u8)).collect();
    out.push(("sdelang_pow", 2, sdelang_pow as *const u8));
    out.push(("sdelang_atan2", 2, sdelang_atan2 as *const u8));
    out
}
