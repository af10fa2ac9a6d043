//! α-conventions and thermodynamic consistency, through the compiler and the runtime.
//!
//! Overdamped Langevin dynamics in U(x) = x² + x⁴/4 with the state-dependent
//! diffusion D(x) = 1 − 0.6·e^(−x²), written `dx = langevin(D = …)` in the Itô,
//! Stratonovich and anti-Itô conventions. With the consistent drift the compiler
//! derives −D U′/kT + (1 − α) D′, so the stationary law is exp(−U/kT) in every
//! convention; without it (`consistent = false`) the Itô and Stratonovich forms
//! sample exp(−U/kT)/D and exp(−U/kT)/√D instead (the anti-Itô form needs no
//! correction: it is the isothermal convention).
//!
//! Each run takes the state at t = 8 of 8000 independent paths from x = 0 (the
//! relaxation time is about 1), bins it into 20 bins of equal probability under
//! exp(−U), and computes Pearson's χ² (19 degrees of freedom). Thresholds fixed
//! before the first run: consistent runs must give χ² < 43.8 (p = 0.001); runs
//! without the correction must give χ² > 100 (p < 1e-11 under the Boltzmann law).

use sdelang::pipeline::{compile_source, Compilation, CompileOptions};
use sdelang::runtime::{run_sde_with, MemoryRecorder, Method, RunConfig, Save, SdeOptions};
use sdelang::source::SourceMap;

const PATHS: usize = 8000;
const T_END: f64 = 8.0;
const BINS: usize = 20;
const CHI2_P001_DF19: f64 = 43.82;

fn compile(text: &str) -> Compilation {
    let mut sources = SourceMap::new();
    let id = sources.add("test.sde", None, text.to_string());
    compile_source(sources, id, None, &CompileOptions::default())
        .unwrap_or_else(|f| panic!("{}", sdelang::render::render(&f.diagnostics, &f.sources, false)))
}

fn model(convention: &str, consistent: bool) -> Compilation {
    compile(&format!(
        "model lang {{\n  state x: real\n  energy U = x^2 + x^4 / 4\n  \
         {convention} dx = langevin(D = 1 - 0.6 * exp(-x^2), kT = 1, consistent = {consistent})\n}}\n"
    ))
}

fn u(x: f64) -> f64 {
    x * x + x.powi(4) / 4.0
}

/// Bin edges with equal probability under exp(−U), by the trapezoid rule on [−6, 6].
fn edges() -> Vec<f64> {
    let n = 24_000;
    let (a, b) = (-6.0, 6.0);
    let dx = (b - a) / n as f64;
    let mut cdf = vec![0.0; n + 1];
    for k in 1..=n {
        let (x0, x1) = (a + (k - 1) as f64 * dx, a + k as f64 * dx);
        cdf[k] = cdf[k - 1] + 0.5 * dx * ((-u(x0)).exp() + (-u(x1)).exp());
    }
    let total = cdf[n];
    (1..BINS)
        .map(|q| {
            let target = q as f64 / BINS as f64 * total;
            let k = cdf.iter().position(|c| *c >= target).unwrap_or(n);
            a + k as f64 * dx
        })
        .collect()
}

fn chi_square(samples: &[f64], edges: &[f64]) -> f64 {
    let mut counts = [0usize; BINS];
    for x in samples {
        counts[edges.iter().filter(|e| **e < *x).count()] += 1;
    }
    let expected = samples.len() as f64 / BINS as f64;
    counts
        .iter()
        .map(|c| (*c as f64 - expected).powi(2) / expected)
        .sum()
}

fn final_states(c: &Compilation, method: Method) -> Vec<f64> {
    let config = RunConfig {
        method,
        chains: PATHS,
        warmup: 0,
        steps: 1,
        thin: 1,
        seed: 5,
        temperature: 1.0,
        t0: 0.0,
        stop_all_on_nonfinite: false,
        init_draws: Vec::new(),
    };
    let options = SdeOptions {
        t_end: Some(T_END),
        save: Save::At(vec![T_END]),
        record: None,
    };
    let out = run_sde_with(&c.compiled, &[0.0], &config, &options, |_| {
        Ok(MemoryRecorder::default())
    })
    .unwrap_or_else(|e| panic!("{e}"));
    out.recorders.iter().map(|r| r.draws[0][0]).collect()
}

#[test]
fn consistent_langevin_drift_samples_boltzmann_in_every_convention() {
    let edges = edges();
    let dt = 0.01;
    let cases = [
        ("ito", Method::EulerMaruyama { dt }),
        ("stratonovich", Method::Heun { dt }),
        ("anti_ito", Method::Milstein { dt }),
    ];
    let mut report = Vec::new();
    for (convention, method) in cases {
        let with = chi_square(&final_states(&model(convention, true), method.clone()), &edges);
        let without = chi_square(&final_states(&model(convention, false), method.clone()), &edges);
        eprintln!(
            "{convention:<13} {:<15} χ² consistent {with:8.1}   without {without:8.1}",
            method.name()
        );
        report.push((convention, with, without));
    }
    for (convention, with, without) in report {
        assert!(
            with < CHI2_P001_DF19,
            "{convention}: χ² = {with:.1} with the consistent drift"
        );
        if convention != "anti_ito" {
            assert!(
                without > 100.0,
                "{convention}: χ² = {without:.1} without the correction"
            );
        }
    }
}

#[test]
fn langevin_drift_is_the_same_ito_process_in_every_convention() {
    // −D U′ + D′ at a few points, read back from the compiled Itô drift.
    use sdelang::runtime::SdeSystem;
    for convention in ["ito", "stratonovich", "anti_ito", "alpha(0.3)"] {
        let c = model(convention, true);
        for x in [-1.5, -0.2, 0.0, 0.7, 2.0] {
            let (mut b, mut g) = ([0.0], [0.0]);
            c.compiled.drift_diffusion(&[x], 0.0, &mut b, &mut g);
            let d = 1.0 - 0.6 * (-x * x).exp();
            let dd = 1.2 * x * (-x * x).exp();
            let du = 2.0 * x + x * x * x;
            let want = -d * du + dd;
            assert!(
                (b[0] - want).abs() < 1e-12,
                "{convention} at {x}: {} vs {want}",
                b[0]
            );
            assert!((g[0] - (2.0 * d).sqrt()).abs() < 1e-12);
        }
    }
}
