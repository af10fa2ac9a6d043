//! Statistical and behavioural tests of the runtime: samplers recover known Gaussian moments,
//! SDE schemes recover GBM moments, Milstein beats Euler–Maruyama pathwise, runs are bitwise
//! reproducible across thread counts, and a NaN stops a chain with a clear error.
//!
//! Tolerances: every moment check is |estimate − truth| < Z · MCSE, with the MCSE computed from
//! the run itself by batch means (each chain cut into 20 batches; independent paths for SDEs).
//! Z = 4 was fixed before running (two-sided 6e-5 per check, so the ~45 checks here have a
//! family-wise false-alarm rate below 0.3%); seeds are fixed, so results are deterministic.

use std::path::{Path, PathBuf};

use sdelang::runtime::integrators::{EulerMaruyama, Milstein};
use sdelang::runtime::rng::{fill_normal, stream};
use sdelang::runtime::{
    run_gibbs, run_sde, GibbsTarget, Kinetic, MemoryRecorder, Method, NonFiniteWhat, RunConfig, RunError,
    SdeSystem,
};

const Z: f64 = 4.0;
const BATCHES: usize = 20;

// ---------- targets ----------

/// U(x) = ½ (x − μ)ᵀ P (x − μ) in two dimensions (P symmetric positive definite).
struct Gauss2 {
    mu: [f64; 2],
    p: [[f64; 2]; 2],
}

impl Gauss2 {
    /// Mean (1, −2), covariance C = [[1, 0.6], [0.6, 2]] (correlation 0.42).
    fn new() -> Self {
        let c = [[1.0, 0.6], [0.6, 2.0]];
        Gauss2 {
            mu: [1.0, -2.0],
            p: inv2(c),
        }
    }
    fn cov(&self) -> [[f64; 2]; 2] {
        inv2(self.p)
    }
}

impl GibbsTarget for Gauss2 {
    fn dim(&self) -> usize {
        2
    }
    fn energy(&self, x: &[f64]) -> f64 {
        let mut g = [0.0; 2];
        self.energy_grad(x, &mut g)
    }
    fn energy_grad(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        let d = [x[0] - self.mu[0], x[1] - self.mu[1]];
        grad[0] = self.p[0][0] * d[0] + self.p[0][1] * d[1];
        grad[1] = self.p[1][0] * d[0] + self.p[1][1] * d[1];
        0.5 * (d[0] * grad[0] + d[1] * grad[1])
    }
}

fn inv2(a: [[f64; 2]; 2]) -> [[f64; 2]; 2] {
    let det = a[0][0] * a[1][1] - a[0][1] * a[1][0];
    [[a[1][1] / det, -a[0][1] / det], [-a[1][0] / det, a[0][0] / det]]
}

fn mat_mul2(a: [[f64; 2]; 2], b: [[f64; 2]; 2]) -> [[f64; 2]; 2] {
    let mut c = [[0.0; 2]; 2];
    for i in 0..2 {
        for j in 0..2 {
            c[i][j] = a[i][0] * b[0][j] + a[i][1] * b[1][j];
        }
    }
    c
}

/// U = Σ c_k x_k^k-th power: `quadratic` gives ½x², `quartic` ¼x⁴ (for blow-ups).
struct Poly {
    quartic: Vec<bool>,
}

impl GibbsTarget for Poly {
    fn dim(&self) -> usize {
        self.quartic.len()
    }
    fn energy(&self, x: &[f64]) -> f64 {
        let mut g = vec![0.0; x.len()];
        self.energy_grad(x, &mut g)
    }
    fn energy_grad(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        let mut u = 0.0;
        for ((xi, g), q) in x.iter().zip(grad.iter_mut()).zip(&self.quartic) {
            if *q {
                u += xi.powi(4) / 4.0;
                *g = xi.powi(3);
            } else {
                u += xi * xi / 2.0;
                *g = *xi;
            }
        }
        u
    }
}

/// Geometric Brownian motion dS = μS dt + σS dW (Itô).
struct Gbm {
    mu: f64,
    sigma: f64,
}

impl SdeSystem for Gbm {
    fn dim(&self) -> usize {
        1
    }
    fn drift_diffusion(&self, x: &[f64], _t: f64, drift: &mut [f64], diffusion: &mut [f64]) {
        drift[0] = self.mu * x[0];
        diffusion[0] = self.sigma * x[0];
    }
    fn drift_diffusion_dg(
        &self,
        x: &[f64],
        t: f64,
        drift: &mut [f64],
        diffusion: &mut [f64],
        dg: &mut [f64],
    ) {
        self.drift_diffusion(x, t, drift, diffusion);
        dg[0] = self.sigma;
    }
}

// ---------- estimators ----------

/// Grand mean of per-chain series and its MCSE by batch means (`BATCHES` equal batches per chain).
fn batch_means(series: &[Vec<f64>]) -> (f64, f64) {
    let mut means = Vec::new();
    for s in series {
        let len = s.len() / BATCHES;
        assert!(len >= 10, "series too short for batch means");
        for b in s.chunks_exact(len).take(BATCHES) {
            means.push(b.iter().sum::<f64>() / len as f64);
        }
    }
    let k = means.len() as f64;
    let grand = means.iter().sum::<f64>() / k;
    let var = means.iter().map(|m| (m - grand) * (m - grand)).sum::<f64>() / (k - 1.0);
    (grand, (var / k).sqrt())
}

fn assert_clt(what: &str, estimate: f64, truth: f64, mcse: f64) {
    let z = (estimate - truth) / mcse;
    assert!(
        z.abs() < Z,
        "{what}: estimate {estimate} vs truth {truth}: {z:.2} MCSE (MCSE {mcse:.3e})"
    );
}

/// Per-chain series of f(draw).
fn series(recs: &[MemoryRecorder], f: impl Fn(&[f64]) -> f64) -> Vec<Vec<f64>> {
    recs.iter()
        .map(|r| r.draws.iter().map(|x| f(x)).collect())
        .collect()
}

/// Checks mean and covariance of a 2-D run against `mean` and `cov` (covariance about the known mean).
fn check_gauss2(label: &str, recs: &[MemoryRecorder], mean: [f64; 2], cov: [[f64; 2]; 2]) {
    for i in 0..2 {
        let (m, se) = batch_means(&series(recs, |x| x[i]));
        assert_clt(&format!("{label} mean[{i}]"), m, mean[i], se);
    }
    for (i, j) in [(0, 0), (1, 1), (0, 1)] {
        let (c, se) = batch_means(&series(recs, |x| (x[i] - mean[i]) * (x[j] - mean[j])));
        assert_clt(&format!("{label} cov[{i}][{j}]"), c, cov[i][j], se);
    }
}

fn gibbs_config(method: Method, chains: usize, warmup: u64, steps: u64, seed: u64) -> RunConfig {
    RunConfig {
        chains,
        warmup,
        seed,
        ..RunConfig::new(method, steps)
    }
}

fn run_memory<T: GibbsTarget>(target: &T, init: &[f64], cfg: &RunConfig) -> Vec<MemoryRecorder> {
    let out = run_gibbs(target, init, cfg, |_| Ok(MemoryRecorder::default())).unwrap();
    assert_eq!(out.reports.len(), cfg.chains);
    for r in &out.reports {
        assert_eq!(r.draws, cfg.steps / cfg.thin);
        assert_eq!(r.steps_done, cfg.warmup + cfg.steps);
    }
    out.recorders
}

// ---------- samplers ----------

/// ULA at h = 0.25 has a visible O(h) bias (6–21% in the variances along the eigenvectors of P), so it is compared with the exact stationary law of
/// the discrete chain: x⁺ = (I − hP)x + hPμ + √(2hT)ξ has mean μ and covariance
/// Σ = T (P − hP²/2)⁻¹ (solve Σ = BΣB + 2hT·I with B = I − hP, which commutes with P).
#[test]
fn ula_correlated_gaussian_matches_discrete_stationary_law() {
    let target = Gauss2::new();
    let h = 0.25;
    let cfg = gibbs_config(Method::ula(h), 16, 1_000, 40_000, 11);
    let recs = run_memory(&target, &[0.0, 0.0], &cfg);
    let p = target.p;
    let p2 = mat_mul2(p, p);
    let m = [
        [p[0][0] - h / 2.0 * p2[0][0], p[0][1] - h / 2.0 * p2[0][1]],
        [p[1][0] - h / 2.0 * p2[1][0], p[1][1] - h / 2.0 * p2[1][1]],
    ];
    let sigma_h = inv2(m);
    check_gauss2("ULA", &recs, target.mu, sigma_h);
    // The bias is real: the continuum variance of x2 is rejected by the same test.
    let (v, se) = batch_means(&series(&recs, |x| (x[1] - target.mu[1]).powi(2)));
    assert!(
        (v - target.cov()[1][1]).abs() > Z * se,
        "ULA bias not detected: {v}"
    );
}

/// MALA is exact: at T = 1.5 the target is N(μ, T·C).
#[test]
fn mala_correlated_gaussian_at_temperature() {
    let target = Gauss2::new();
    let t = 1.5;
    let cfg = RunConfig {
        temperature: t,
        ..gibbs_config(Method::mala(0.4), 16, 1_000, 30_000, 12)
    };
    let out = run_gibbs(&target, &[0.0, 0.0], &cfg, |_| Ok(MemoryRecorder::default())).unwrap();
    let acc = out.acceptance_rate().unwrap();
    assert!((0.3..0.99).contains(&acc), "acceptance {acc}");
    let c = target.cov();
    let tc = [[t * c[0][0], t * c[0][1]], [t * c[1][0], t * c[1][1]]];
    check_gauss2("MALA", &out.recorders, target.mu, tc);
}

/// BAOAB samples a quadratic potential's configurational law exactly (Leimkuhler & Matthews
/// 2013; per eigenmode with M = m·I), so no step-size bias is expected even at h = 0.5, m = 2.
#[test]
fn baoab_correlated_gaussian_is_exact_in_configuration() {
    let target = Gauss2::new();
    let method = Method::Baoab(Kinetic {
        step: 0.5,
        friction: 1.0,
        mass: 2.0,
    });
    let cfg = gibbs_config(method, 16, 1_000, 40_000, 13);
    let recs = run_memory(&target, &[0.0, 0.0], &cfg);
    check_gauss2("BAOAB", &recs, target.mu, target.cov());
}

/// ULA on U = x²/2 (T = 1) has stationary variance 1/(1 − h/2), here 4/3 at h = 0.5.
#[test]
fn ula_quadratic_exact_discrete_variance() {
    let target = Poly { quartic: vec![false] };
    let h = 0.5;
    let cfg = RunConfig {
        thin: 2,
        ..gibbs_config(Method::ula(h), 16, 500, 40_000, 14)
    };
    let recs = run_memory(&target, &[0.0], &cfg);
    let (m, se) = batch_means(&series(&recs, |x| x[0]));
    assert_clt("ULA x²/2 mean", m, 0.0, se);
    let (v, se) = batch_means(&series(&recs, |x| x[0] * x[0]));
    assert_clt("ULA x²/2 variance", v, 1.0 / (1.0 - h / 2.0), se);
}

// ---------- SDEs ----------

const MU: f64 = 0.05;
const SIGMA: f64 = 0.2;

/// Final values S_T of `paths` independent GBM paths (S0 = 1, T = 1, n steps).
fn gbm_finals(method: Method, paths: usize, n: u64, seed: u64) -> Vec<f64> {
    let cfg = RunConfig {
        chains: paths,
        thin: n,
        seed,
        ..RunConfig::new(method, n)
    };
    let out = run_sde(&Gbm { mu: MU, sigma: SIGMA }, &[1.0], &cfg, |_| {
        Ok(MemoryRecorder::default())
    })
    .unwrap();
    out.recorders
        .iter()
        .map(|r| {
            assert_eq!(r.draws.len(), 1);
            assert!((r.times[0] - 1.0).abs() < 1e-12);
            r.draws[0][0]
        })
        .collect()
}

/// Checks the sample mean and variance of i.i.d. finals against exact moments; SEs from the sample
/// (for the variance, √((m4 − s⁴)/N)).
fn check_finals(label: &str, s: &[f64], mean: f64, var: f64) {
    let n = s.len() as f64;
    let m = s.iter().sum::<f64>() / n;
    let v = s.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
    let m4 = s.iter().map(|x| (x - m).powi(4)).sum::<f64>() / n;
    assert_clt(&format!("{label} E[S_T]"), m, mean, (v / n).sqrt());
    assert_clt(&format!("{label} Var[S_T]"), v, var, ((m4 - v * v) / n).sqrt());
}

/// EM's discrete chain: S⁺ = S(1 + μh + σΔW) gives E[S_n] = (1+μh)^n and
/// E[S_n²] = ((1+μh)² + σ²h)^n. The weak bias against e^{μT} is ~nμ²h²/2 ≈ 1e-6 ≪ MCSE (1.5e-3).
#[test]
fn euler_maruyama_gbm_moments() {
    let (n, h) = (1000u64, 1e-3);
    let s = gbm_finals(Method::EulerMaruyama { dt: h }, 20_000, n, 21);
    let a = 1.0 + MU * h;
    let mean = a.powi(n as i32);
    let var = (a * a + SIGMA * SIGMA * h).powi(n as i32) - mean * mean;
    check_finals("EM (discrete)", &s, mean, var);
    let (exact_mean, exact_var) = (MU.exp(), (2.0 * MU).exp() * ((SIGMA * SIGMA).exp() - 1.0));
    assert!((mean - exact_mean).abs() < 1e-5 && (var - exact_var).abs() < 1e-4);
    check_finals("EM (exact GBM)", &s, exact_mean, exact_var);
}

/// Milstein's discrete chain: the factor 1 + μh + σΔW + ½σ²(ΔW² − h) has mean 1 + μh and second
/// moment (1+μh)² + σ²h + σ⁴h²/2 (E[ΔW³] = 0, Var ΔW² = 2h²).
#[test]
fn milstein_gbm_moments() {
    let (n, h) = (1000u64, 1e-3);
    let s = gbm_finals(Method::Milstein { dt: h }, 20_000, n, 22);
    let a = 1.0 + MU * h;
    let mean = a.powi(n as i32);
    let second = a * a + SIGMA * SIGMA * h + SIGMA.powi(4) * h * h / 2.0;
    let var = second.powi(n as i32) - mean * mean;
    check_finals("Milstein (discrete)", &s, mean, var);
    check_finals(
        "Milstein (exact GBM)",
        &s,
        MU.exp(),
        (2.0 * MU).exp() * ((SIGMA * SIGMA).exp() - 1.0),
    );
}

/// Strong errors E|S_N − S(T)| on shared Brownian paths against the exact solution
/// S(T) = exp((μ − σ²/2)T + σW_T), for N = 2^4 … 2^10: Milstein is more accurate than EM at every
/// N, and the fitted strong orders are 0.5 (EM) and 1 (Milstein) within 0.2.
#[test]
fn milstein_strong_error_beats_euler_maruyama() {
    let sys = Gbm { mu: MU, sigma: SIGMA };
    let (paths, finest) = (500, 1usize << 10);
    let levels: Vec<usize> = (4..=10).map(|k| 1usize << k).collect();
    let mut err_em = vec![0.0; levels.len()];
    let mut err_mil = vec![0.0; levels.len()];
    let mut z = vec![0.0; finest];
    for p in 0..paths {
        let mut rng = stream(99, p as u64);
        fill_normal(&mut rng, &mut z);
        let hf = 1.0 / finest as f64;
        let dw_fine: Vec<f64> = z.iter().map(|v| v * hf.sqrt()).collect();
        let w_t: f64 = dw_fine.iter().sum();
        let exact = ((MU - SIGMA * SIGMA / 2.0) + SIGMA * w_t).exp();
        for (l, &n) in levels.iter().enumerate() {
            let h = 1.0 / n as f64;
            let (mut em, mut mil) = (EulerMaruyama::new(1, h), Milstein::new(1, h));
            let (mut xe, mut xm) = ([1.0], [1.0]);
            for (k, block) in dw_fine.chunks_exact(finest / n).enumerate() {
                let dw = [block.iter().sum::<f64>()];
                em.step_with_increments(&sys, &mut xe, k as f64 * h, &dw);
                mil.step_with_increments(&sys, &mut xm, k as f64 * h, &dw);
            }
            err_em[l] += (xe[0] - exact).abs() / paths as f64;
            err_mil[l] += (xm[0] - exact).abs() / paths as f64;
        }
    }
    for l in 0..levels.len() {
        assert!(
            err_mil[l] < err_em[l],
            "N = {}: Milstein {} vs EM {}",
            levels[l],
            err_mil[l],
            err_em[l]
        );
    }
    let order = |errs: &[f64]| {
        let pts: Vec<(f64, f64)> = levels
            .iter()
            .zip(errs)
            .map(|(n, e)| ((1.0 / *n as f64).ln(), e.ln()))
            .collect();
        let k = pts.len() as f64;
        let (mx, my) = (
            pts.iter().map(|p| p.0).sum::<f64>() / k,
            pts.iter().map(|p| p.1).sum::<f64>() / k,
        );
        let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
        let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
        sxy / sxx
    };
    let (oe, om) = (order(&err_em), order(&err_mil));
    assert!((oe - 0.5).abs() < 0.2, "EM strong order {oe} (errors {err_em:?})");
    assert!(
        (om - 1.0).abs() < 0.2,
        "Milstein strong order {om} (errors {err_mil:?})"
    );
}

// ---------- reproducibility and failures ----------

fn tmp_dir(name: &str) -> PathBuf {
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("runtime_stats-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn csv_run_in_pool(threads: usize, dir: &Path, sde: bool) -> Vec<Vec<u8>> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let chains = 5;
    pool.install(|| {
        let make = sdelang::output::csv_factory(dir.to_path_buf(), vec!["x.1".into(), "x.2".into()], sde);
        if sde {
            let cfg = RunConfig {
                chains,
                thin: 7,
                seed: 5,
                t0: 0.25,
                ..RunConfig::new(Method::Milstein { dt: 0.01 }, 700)
            };
            struct Two(Gbm);
            impl SdeSystem for Two {
                fn dim(&self) -> usize {
                    2
                }
                fn drift_diffusion(&self, x: &[f64], t: f64, b: &mut [f64], g: &mut [f64]) {
                    for i in 0..2 {
                        b[i] = self.0.mu * x[i] * (1.0 + t);
                        g[i] = self.0.sigma * x[i];
                    }
                }
                fn drift_diffusion_dg(
                    &self,
                    x: &[f64],
                    t: f64,
                    b: &mut [f64],
                    g: &mut [f64],
                    dg: &mut [f64],
                ) {
                    self.drift_diffusion(x, t, b, g);
                    dg.fill(self.0.sigma);
                }
            }
            run_sde(&Two(Gbm { mu: MU, sigma: SIGMA }), &[1.0, 2.0], &cfg, make).unwrap();
        } else {
            let cfg = RunConfig {
                thin: 3,
                ..gibbs_config(Method::mala(0.5), chains, 100, 3_000, 7)
            };
            run_gibbs(&Gauss2::new(), &[0.0, 0.0], &cfg, make).unwrap();
        }
    });
    (0..chains)
        .map(|c| {
            let path = sdelang::output::csv_path(dir, c);
            assert!(!dir.join(format!("chain_{}.csv.partial", c + 1)).exists());
            std::fs::read(path).unwrap()
        })
        .collect()
}

/// The same run in rayon pools of 1, 2 and 3 threads writes identical CSV bytes (MALA, whose
/// accept/reject makes any stream mix-up visible, and Milstein with its time column).
#[test]
fn csv_output_is_bitwise_identical_across_thread_counts() {
    for sde in [false, true] {
        let runs: Vec<Vec<Vec<u8>>> = [1, 2, 3]
            .iter()
            .map(|&n| csv_run_in_pool(n, &tmp_dir(&format!("pool{n}-{sde}")), sde))
            .collect();
        let header = if sde { "t,x.1,x.2\n" } else { "x.1,x.2\n" };
        assert!(runs[0][0].starts_with(header.as_bytes()));
        let lines = runs[0][0].iter().filter(|b| **b == b'\n').count();
        assert_eq!(lines, 1 + if sde { 100 } else { 1000 });
        assert_ne!(runs[0][0], runs[0][1], "chains must differ");
        assert_eq!(runs[0], runs[1]);
        assert_eq!(runs[0], runs[2]);
    }
}

/// ULA on U = x₁²/2 + x₂⁴/4 from x₂ = 10 with h = 0.5 overflows in a few steps: every chain fails
/// and the lowest-numbered chain's error is reported, naming the step and component 2.
#[test]
fn nan_state_stops_the_chain_with_a_clear_error() {
    let target = Poly {
        quartic: vec![false, true],
    };
    let cfg = gibbs_config(Method::ula(0.5), 4, 3, 100, 1);
    let err = run_gibbs(&target, &[0.0, 10.0], &cfg, |_| Ok(MemoryRecorder::default())).unwrap_err();
    match &err {
        RunError::NonFinite {
            chain: 0,
            step,
            warmup,
            what: NonFiniteWhat::Component(1),
            value,
            ..
        } => {
            assert!(*step >= 1 && *step <= 10, "step {step}");
            assert_eq!(*warmup, *step <= 3);
            assert!(!value.is_finite());
        }
        other => panic!("unexpected error {other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.starts_with("chain 1: state component 2 is "), "{msg}");
    assert!(msg.contains("after step"), "{msg}");
}

/// MALA needs a finite energy at the start; an infinite one is reported at the initial state.
#[test]
fn mala_reports_non_finite_initial_energy() {
    let target = Poly { quartic: vec![true] };
    let cfg = gibbs_config(Method::mala(0.1), 2, 0, 10, 1);
    let err = run_gibbs(&target, &[1e100], &cfg, |_| Ok(MemoryRecorder::default())).unwrap_err();
    assert!(matches!(
        err,
        RunError::NonFinite {
            chain: 0,
            step: 0,
            what: NonFiniteWhat::Energy,
            ..
        }
    ));
    assert_eq!(
        err.to_string(),
        "chain 1: energy is inf at the initial state; state [1e100]"
    );
}

/// Recorded steps and times follow warmup and thin: t = t0 + step·dt, steps warmup + k·thin.
#[test]
fn warmup_and_thin_select_recorded_steps() {
    let cfg = RunConfig {
        warmup: 5,
        thin: 4,
        t0: 2.0,
        ..RunConfig::new(Method::EulerMaruyama { dt: 0.5 }, 10)
    };
    let out = run_sde(&Gbm { mu: MU, sigma: SIGMA }, &[1.0], &cfg, |_| {
        Ok(MemoryRecorder::default())
    })
    .unwrap();
    let rec = &out.recorders[0];
    assert_eq!(rec.steps, vec![9, 13]);
    assert_eq!(rec.times, vec![6.5, 8.5]);
    assert_eq!(out.reports[0].accepted, None);
}

/// Settings are checked before anything runs, and methods must fit the model kind.
#[test]
fn bad_settings_are_rejected() {
    let target = Gauss2::new();
    let make = |_| Ok(MemoryRecorder::default());
    let cfg = RunConfig {
        chains: 0,
        ..RunConfig::new(Method::ula(0.1), 10)
    };
    assert!(matches!(
        run_gibbs(&target, &[0.0, 0.0], &cfg, make),
        Err(RunError::InvalidConfig {
            setting: "chains",
            ..
        })
    ));
    let cfg = RunConfig::new(Method::mala(-1.0), 10);
    assert!(matches!(
        run_gibbs(&target, &[0.0, 0.0], &cfg, make),
        Err(RunError::InvalidConfig { setting: "step", .. })
    ));
    let cfg = RunConfig::new(Method::EulerMaruyama { dt: 0.1 }, 10);
    assert!(matches!(
        run_gibbs(&target, &[0.0, 0.0], &cfg, make),
        Err(RunError::WrongMethodKind { .. })
    ));
    let cfg = RunConfig::new(Method::ula(0.1), 10);
    assert!(matches!(
        run_gibbs(&target, &[0.0], &cfg, make),
        Err(RunError::DimensionMismatch {
            expected: 2,
            found: 1
        })
    ));
}

/// Per-chain running statistics merged in chain order agree with the pooled draws, and the
/// summary table reports the method, chains, draws, acceptance and one row per column.
#[test]
fn running_stats_and_summary_of_a_run() {
    use sdelang::output::{render_summary, state_columns, RunSummary, RunningStats};
    let cfg = gibbs_config(Method::mala(0.5), 3, 50, 400, 3);
    let out = run_gibbs(&Gauss2::new(), &[0.0, 0.0], &cfg, |_| {
        Ok((MemoryRecorder::default(), RunningStats::new(2)))
    })
    .unwrap();
    let merged = RunningStats::merge_all(2, out.recorders.iter().map(|r| &r.1));
    let pooled: Vec<&Vec<f64>> = out.recorders.iter().flat_map(|r| &r.0.draws).collect();
    let n = pooled.len() as f64;
    assert_eq!(merged.count(), 1200);
    for c in 0..2 {
        let mean = pooled.iter().map(|x| x[c]).sum::<f64>() / n;
        let var = pooled.iter().map(|x| (x[c] - mean).powi(2)).sum::<f64>() / (n - 1.0);
        assert!((merged.mean()[c] - mean).abs() < 1e-12 * (1.0 + mean.abs()));
        assert!((merged.variance()[c] - var).abs() < 1e-12 * var);
    }
    let text = render_summary(
        &state_columns("x", Some(2)),
        &merged,
        &RunSummary::new(&cfg, &out),
    );
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "method      mala(step=0.5, mass=1, adapt=false, target_accept=0.574, adapt_mass=false)"
    );
    assert_eq!(lines[1], "chains      3");
    assert_eq!(lines[2], "draws       1200");
    assert!(lines[3].starts_with("acceptance  0."), "{text}");
    assert!(lines[4].starts_with("wall time   "), "{text}");
    assert!(lines[5].starts_with("step size   0.5"), "{text}");
    assert!(
        lines[7].starts_with("name") && lines[8].starts_with("x.1") && lines[9].starts_with("x.2"),
        "{text}"
    );
}
