//! Statistical tests of compiled `.sde` models: samplers recover the moments
//! of a correlated 2-D Gaussian, SDE solvers the moments of geometric Brownian
//! motion (Itô and Stratonovich). Fixed seeds; every check is
//! |estimate − truth| < 4 · MCSE, with the Monte Carlo standard error estimated
//! from the run itself (batch means within chains, or independent paths). The
//! factor 4 was fixed before the first run: over the ~40 checks here the chance
//! of a false failure is below 0.3%.

use sdelang::pipeline::{compile_source, Compilation, CompileOptions};
use sdelang::runtime::{run_gibbs, run_sde, Kinetic, MemoryRecorder, Method, RunConfig};
use sdelang::source::SourceMap;

const Z: f64 = 4.0;

fn compile(text: &str) -> Compilation {
    let mut sources = SourceMap::new();
    let id = sources.add("test.sde", None, text.to_string());
    compile_source(sources, id, None, &CompileOptions::default())
        .unwrap_or_else(|f| panic!("{}", sdelang::render::render(&f.diagnostics, &f.sources, false)))
}

/// Covariance C = [[1, 0.5], [0.5, 0.5]], precision P = C⁻¹ = [[2, −2], [−2, 4]], mean μ = (1, −0.5).
const GAUSS: &str = "
param mu: real[2] = [1, -0.5]
param p11 = 2, p12 = -2, p22 = 4
model gauss2 {
  state x: real[2]
  let a = x[0] - mu[0]
  let b = x[1] - mu[1]
  energy U = 0.5 * (p11 * a^2 + 2 * p12 * a * b + p22 * b^2)
}
";
const MU: [f64; 2] = [1.0, -0.5];
const P: [[f64; 2]; 2] = [[2.0, -2.0], [-2.0, 4.0]];

/// Estimate and batch-means MCSE of E[f(x)] over chains of draws.
fn estimate(chains: &[MemoryRecorder], f: impl Fn(&[f64]) -> f64) -> (f64, f64) {
    const BATCHES: usize = 20;
    let mut means = Vec::new();
    for c in chains {
        let per = c.draws.len() / BATCHES;
        for b in 0..BATCHES {
            let slice = &c.draws[b * per..(b + 1) * per];
            means.push(slice.iter().map(|x| f(x)).sum::<f64>() / per as f64);
        }
    }
    let k = means.len() as f64;
    let m = means.iter().sum::<f64>() / k;
    let var = means.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (k - 1.0);
    (m, (var / k).sqrt())
}

fn assert_moment(what: &str, (est, mcse): (f64, f64), truth: f64) {
    assert!(
        (est - truth).abs() < Z * mcse,
        "{what}: estimate {est:.5} vs {truth:.5} (MCSE {mcse:.2e}, |z| = {:.2})",
        (est - truth).abs() / mcse
    );
}

/// Inverse of a symmetric 2×2 matrix.
fn inv2(m: [[f64; 2]; 2]) -> [[f64; 2]; 2] {
    let det = m[0][0] * m[1][1] - m[0][1] * m[1][0];
    [[m[1][1] / det, -m[0][1] / det], [-m[1][0] / det, m[0][0] / det]]
}

fn check_gaussian(method: Method, cov: [[f64; 2]; 2]) {
    let c = compile(GAUSS);
    let name = method.name();
    let config = RunConfig {
        method,
        chains: 8,
        warmup: 2_000,
        steps: 40_000,
        thin: 2,
        seed: 11,
        temperature: 1.0,
        t0: 0.0,
        stop_all_on_nonfinite: false,
        init_draws: Vec::new(),
    };
    let out = run_gibbs(&c.compiled, &[0.0, 0.0], &config, |_| {
        Ok(MemoryRecorder::default())
    })
    .unwrap();
    let ch = &out.recorders;
    assert_moment(&format!("{name} mean x0"), estimate(ch, |x| x[0]), MU[0]);
    assert_moment(&format!("{name} mean x1"), estimate(ch, |x| x[1]), MU[1]);
    assert_moment(
        &format!("{name} var x0"),
        estimate(ch, |x| (x[0] - MU[0]).powi(2)),
        cov[0][0],
    );
    assert_moment(
        &format!("{name} var x1"),
        estimate(ch, |x| (x[1] - MU[1]).powi(2)),
        cov[1][1],
    );
    assert_moment(
        &format!("{name} cov"),
        estimate(ch, |x| (x[0] - MU[0]) * (x[1] - MU[1])),
        cov[0][1],
    );
}

#[test]
fn mala_recovers_correlated_gaussian() {
    check_gaussian(Method::mala(0.15), inv2(P));
}

#[test]
fn ula_recovers_its_exact_discrete_stationary_law() {
    // ULA on a Gaussian is a linear AR(1) chain; its stationary covariance is
    // (P − hP²/2)⁻¹, which differs from C by O(h).
    let h = 0.05;
    let p2 = [
        [
            P[0][0] * P[0][0] + P[0][1] * P[1][0],
            P[0][0] * P[0][1] + P[0][1] * P[1][1],
        ],
        [
            P[1][0] * P[0][0] + P[1][1] * P[1][0],
            P[1][0] * P[0][1] + P[1][1] * P[1][1],
        ],
    ];
    let m = [
        [P[0][0] - h * p2[0][0] / 2.0, P[0][1] - h * p2[0][1] / 2.0],
        [P[1][0] - h * p2[1][0] / 2.0, P[1][1] - h * p2[1][1] / 2.0],
    ];
    check_gaussian(Method::ula(h), inv2(m));
}

#[test]
fn baoab_samples_gaussian_configurations_exactly() {
    // For a harmonic potential BAOAB's configurational law is exact at any stable step.
    check_gaussian(
        Method::Baoab(Kinetic {
            step: 0.3,
            friction: 1.0,
            mass: 1.0,
        }),
        inv2(P),
    );
}

/// E[S_T], Var[S_T] over independent paths, with their standard errors.
fn path_moments(paths: &[MemoryRecorder]) -> ((f64, f64), (f64, f64)) {
    let finals: Vec<f64> = paths.iter().map(|p| p.draws.last().unwrap()[0]).collect();
    let n = finals.len() as f64;
    let mean = finals.iter().sum::<f64>() / n;
    let c2: Vec<f64> = finals.iter().map(|s| (s - mean).powi(2)).collect();
    let var = c2.iter().sum::<f64>() / (n - 1.0);
    let m4 = c2.iter().map(|v| v * v).sum::<f64>() / n;
    ((mean, (var / n).sqrt()), (var, ((m4 - var * var) / n).sqrt()))
}

fn gbm(convention: &str, method: Method) -> ((f64, f64), (f64, f64)) {
    let text = format!(
        "param mu = 0.05, sigma = 0.2\nmodel gbm {{\n  state S: real = 1.0\n  {convention} dS = mu * S dt + sigma * S dW\n}}\n"
    );
    let c = compile(&text);
    let config = RunConfig {
        method,
        chains: 20_000,
        warmup: 0,
        steps: 1_000,
        thin: 1_000,
        seed: 5,
        temperature: 1.0,
        t0: 0.0,
        stop_all_on_nonfinite: false,
        init_draws: Vec::new(),
    };
    let out = run_sde(&c.compiled, &[1.0], &config, |_| Ok(MemoryRecorder::default())).unwrap();
    let last = out.recorders.first().unwrap().times.last().copied().unwrap();
    assert!((last - 1.0).abs() < 1e-12, "final time {last}");
    path_moments(&out.recorders)
}

const MU_G: f64 = 0.05;
const SIGMA: f64 = 0.2;

#[test]
fn euler_maruyama_and_milstein_recover_gbm_moments() {
    let mean = MU_G.exp();
    let var = (2.0 * MU_G).exp() * ((SIGMA * SIGMA).exp() - 1.0);
    for method in [Method::EulerMaruyama { dt: 1e-3 }, Method::Milstein { dt: 1e-3 }] {
        let name = method.name();
        let (m, v) = gbm("", method);
        assert_moment(&format!("{name} E[S_T]"), m, mean);
        assert_moment(&format!("{name} Var[S_T]"), v, var);
    }
}

#[test]
fn stratonovich_gbm_gets_the_ito_correction() {
    // S∘dW: S_T = exp(μT + σW_T), so E[S_T] = exp((μ + σ²/2)T) and
    // Var[S_T] = exp(2μT + σ²T)(exp(σ²T) − 1). Without the ½·g·∂g/∂x drift the
    // mean would be exp(μT), 40 standard errors away.
    let s2 = SIGMA * SIGMA;
    let mean = (MU_G + s2 / 2.0).exp();
    let var = (2.0 * MU_G + s2).exp() * (s2.exp() - 1.0);
    let (m, v) = gbm("stratonovich", Method::Milstein { dt: 1e-3 });
    assert_moment("stratonovich E[S_T]", m, mean);
    assert_moment("stratonovich Var[S_T]", v, var);
    assert!((m.0 - MU_G.exp()).abs() > 10.0 * m.1, "the correction is visible");
}
