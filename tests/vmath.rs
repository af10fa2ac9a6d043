//! The inline exponential of compiled code against the platform's libm, over
//! the whole double range: at most 2 ulp apart, and the same at the edges
//! (overflow, underflow, subnormals, infinities, NaN).

use sdelang::pipeline::{compile_source, CompileOptions};
use sdelang::runtime::GibbsTarget;
use sdelang::source::SourceMap;

fn ulps(a: f64, b: f64) -> u64 {
    if a == b || (a.is_nan() && b.is_nan()) {
        return 0;
    }
    if a.is_sign_negative() != b.is_sign_negative() {
        return u64::MAX;
    }
    a.to_bits().abs_diff(b.to_bits())
}

#[test]
fn compiled_exp_agrees_with_libm() {
    let mut sources = SourceMap::new();
    let id = sources.add("exp.sde", None, "model m { state x: real\n energy U = exp(x) }");
    let c = compile_source(sources, id, None, &CompileOptions::default())
        .unwrap_or_else(|f| panic!("{}", sdelang::render::render(&f.diagnostics, &f.sources, false)));
    let target = &c.compiled;
    let mut worst = (0u64, 0.0f64);
    // Deterministic points spread over [-750, 750] (a Weyl sequence), plus edges.
    let mut points: Vec<f64> = (0..200_000)
        .map(|k| ((k as f64 * 0.618_033_988_749_895) % 1.0) * 1500.0 - 750.0)
        .collect();
    points.extend((0..20_000).map(|k| (k as f64 - 10_000.0) * 1e-4));
    points.extend([
        0.0,
        -0.0,
        1e-300,
        -1e-300,
        709.78,
        709.7827128933841,
        709.79,
        -708.39,
        -708.4,
        -720.0,
        -744.0,
        -745.13,
        -745.2,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        f64::MAX,
        f64::MIN,
    ]);
    for x in points {
        let got = target.energy(&[x]);
        let want = x.exp();
        let d = ulps(got, want);
        if d > worst.0 {
            worst = (d, x);
        }
    }
    assert!(worst.0 <= 2, "exp({}) is {} ulp from libm", worst.1, worst.0);
}
