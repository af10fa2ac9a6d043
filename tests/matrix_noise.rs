//! Matrix noise per particle, `dp[i] = f dt + G dW[i]` with a k×k matrix G,
//! through the whole compiler: the block-diagonal layout the kernels write, the
//! increments of Euler–Maruyama and Heun (empirical covariance against G Gᵀ h),
//! the dense layout a misaligned model falls back to, the Itô correction of a
//! Stratonovich equation against the hand-derived Σ_b Σ_e G[e, b] ∂G[a, b]/∂x_e,
//! and for an ensemble-dependent G (ALDI's chol(cov)) against finite differences.
//!
//! Statistical thresholds are 4 standard errors of the empirical covariance,
//! se(S_ab) = √((Σ_aa Σ_bb + Σ_ab²)/n) for n Gaussian samples, fixed before the
//! first run.

use sdelang::native::particles::{ParticleModel, ParticleSpec};
use sdelang::pipeline::{compile_source, Compilation, CompileOptions};
use sdelang::runtime::integrators::{EulerMaruyama, Heun, Increments, SdeScheme};
use sdelang::runtime::rng::{fill_normal, stream};
use sdelang::runtime::{
    run_sde_with, AdaptiveBase, MemoryRecorder, Method, RunConfig, Save, SdeOptions, SdeSystem,
};
use sdelang::source::SourceMap;

fn compile(text: &str) -> Compilation {
    let mut sources = SourceMap::new();
    let id = sources.add("test.sde", None, text.to_string());
    compile_source(sources, id, None, &CompileOptions::default())
        .unwrap_or_else(|f| panic!("{}", sdelang::render::render(&f.diagnostics, &f.sources, false)))
}

/// The compiled model as the runtime runs it (blocked kernels over the particles).
fn particles(c: &Compilation, blocks: usize) -> ParticleModel {
    let spec = ParticleSpec::from_model(&c.model, blocks, 1);
    ParticleModel::new(c.compiled.native().clone(), spec).expect("particle model")
}

/// Drift and G as the system lays them out.
fn drift_noise(sys: &ParticleModel, x: &[f64], strat: bool) -> (Vec<f64>, Vec<f64>) {
    let n = x.len();
    let mut drift = vec![0.0; n];
    let mut g = vec![0.0; n * sys.noise().row_len()];
    if strat {
        sys.strat_drift_noise(x, 0.0, &mut drift, &mut g);
    } else {
        sys.drift_noise(x, 0.0, &mut drift, &mut g);
    }
    (drift, g)
}

const G: [[f64; 2]; 2] = [[1.0, 0.0], [0.5, 2.0]];

fn constant_model(prefix: &str) -> String {
    format!(
        "param G: real[2, 2] = [[1, 0], [0.5, 2]]\nmodel m {{\n{prefix}  particles p[3]: real[2]\n  \
         dp[i] = -p[i] dt + G dW[i]\n}}\n"
    )
}

#[test]
fn constant_matrix_noise_is_block_diagonal() {
    let c = compile(&constant_model(""));
    let sys = particles(&c, 2);
    let noise = sys.noise();
    assert!(!noise.diagonal && noise.additive, "{noise:?}");
    assert_eq!((noise.dim, noise.block, noise.row_len()), (6, 2, 2));
    let x = [0.1, -0.2, 0.3, 0.4, -0.5, 0.6];
    let (drift, g) = drift_noise(&sys, &x, false);
    let neg: Vec<f64> = x.iter().map(|v| -v).collect();
    assert_eq!(drift, neg);
    // every particle's block is G, row by row
    let want: Vec<f64> = (0..3).flat_map(|_| G.iter().flatten().copied()).collect();
    assert_eq!(g, want);
    // an additive Stratonovich form is the same
    assert_eq!(drift_noise(&sys, &x, true), (drift, g));
}

/// Empirical covariance of the 6 components of `samples` (rows of 6).
fn covariance(samples: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let n = samples.len() as f64;
    let d = samples[0].len();
    let mean: Vec<f64> = (0..d)
        .map(|a| samples.iter().map(|s| s[a]).sum::<f64>() / n)
        .collect();
    (0..d)
        .map(|a| {
            (0..d)
                .map(|b| {
                    samples
                        .iter()
                        .map(|s| (s[a] - mean[a]) * (s[b] - mean[b]))
                        .sum::<f64>()
                        / (n - 1.0)
                })
                .collect()
        })
        .collect()
}

/// One step of `scheme` from 0 for `n` draws of the increments; the covariance
/// of the step against `scale · G Gᵀ h` per particle and 0 across particles.
fn check_step<S: SdeScheme>(name: &str, sys: &ParticleModel, mut scheme: S, h: f64, scale: f64) {
    let n = 20_000;
    let mut rng = stream(7, 1);
    let mut dw = vec![0.0; 6];
    let samples: Vec<Vec<f64>> = (0..n)
        .map(|_| {
            fill_normal(&mut rng, &mut dw);
            dw.iter_mut().for_each(|w| *w *= h.sqrt());
            let mut x = vec![0.0; 6];
            scheme.step_with(sys, &mut x, 0.0, h, Increments { dw: &dw, dz: &[] });
            x
        })
        .collect();
    let s = covariance(&samples);
    let ggt = |a: usize, b: usize| (0..2).map(|c| G[a][c] * G[b][c]).sum::<f64>();
    for (a, row) in s.iter().enumerate() {
        for (b, got) in row.iter().enumerate() {
            let same = a / 2 == b / 2;
            let want = if same { scale * ggt(a % 2, b % 2) * h } else { 0.0 };
            let var = |k: usize| scale * ggt(k % 2, k % 2) * h;
            let se = ((var(a) * var(b) + want * want) / n as f64).sqrt();
            assert!(
                (got - want).abs() < 4.0 * se,
                "{name}: cov[{a}][{b}] = {got} vs {want} (se {se})"
            );
        }
    }
}

#[test]
fn euler_maruyama_and_heun_increments_have_covariance_g_gt_h() {
    let c = compile(&constant_model(""));
    let sys = particles(&c, 2);
    let noise = sys.noise();
    let h = 0.01;
    check_step("EM", &sys, EulerMaruyama::with_noise(6, noise, h), h, 1.0);
    // Heun from 0 with drift −x: x⁺ = (1 − h/2) G ΔW
    check_step(
        "Heun",
        &sys,
        Heun::with_noise(6, noise),
        h,
        (1.0 - h / 2.0).powi(2),
    );
}

#[test]
fn misaligned_particles_fall_back_to_dense_noise() {
    // A scalar state first puts the particles at offset 1, off the blocks of 2.
    let c = compile(&constant_model("  state s: real\n  ds = -s dt + 0.5 dW\n"));
    let sys = particles(&c, 2);
    let noise = sys.noise();
    assert!(!noise.diagonal && noise.block == 0 && noise.dim == 7, "{noise:?}");
    let x = [0.7, 0.1, -0.2, 0.3, 0.4, -0.5, 0.6];
    let (drift, g) = drift_noise(&sys, &x, false);
    assert_eq!(drift[0], -0.7);
    let mut want = vec![0.0; 49];
    want[0] = 0.5;
    for r in 0..3 {
        for a in 0..2 {
            for b in 0..2 {
                // row 1 + 2r + a, column 1 + 2r + b
                want[(1 + 2 * r + a) * 7 + 1 + 2 * r + b] = G[a][b];
            }
        }
    }
    assert_eq!(g, want);
}

#[test]
fn stratonovich_matrix_noise_gets_its_ito_correction() {
    // G = [[x0, 0.5 x1], [0.3, x0 x1]]: c0 = x0 + 0.5 x0 x1, c1 = 0.5 x1² + x0² x1.
    let c = compile(
        "model m {\n  particles p[2]: real[2]\n  \
         stratonovich dp[i] = 0 dt + [[p[i][0], 0.5 * p[i][1]], [0.3, p[i][0] * p[i][1]]] dW[i]\n}\n",
    );
    let sys = particles(&c, 1);
    assert_eq!(sys.noise().block, 2);
    let x = [0.7, -1.2, 1.5, 0.4];
    let (ito, g) = drift_noise(&sys, &x, false);
    let (strat, g_strat) = drift_noise(&sys, &x, true);
    assert_eq!(g, g_strat);
    for r in 0..2 {
        let (x0, x1) = (x[2 * r], x[2 * r + 1]);
        assert_eq!(&g[4 * r..4 * r + 4], &[x0, 0.5 * x1, 0.3, x0 * x1]);
        let c0 = x0 + 0.5 * x0 * x1;
        let c1 = 0.5 * x1 * x1 + x0 * x0 * x1;
        assert!((ito[2 * r] - 0.5 * c0).abs() < 1e-14, "{ito:?}");
        assert!((ito[2 * r + 1] - 0.5 * c1).abs() < 1e-14, "{ito:?}");
        assert!(
            strat[2 * r].abs() < 1e-14 && strat[2 * r + 1].abs() < 1e-14,
            "{strat:?}"
        );
    }
}

#[test]
fn ensemble_noise_correction_matches_finite_differences() {
    // ALDI's noise √2·chol(cov) couples every particle; the noise-induced drift of
    // particle r is Σ_b Σ_e G[e, b] ∂G[a, b]/∂x[r, e] (its own coordinates only).
    let c = compile(
        "model m {\n  particles x[5]: real[2]\n  \
         stratonovich dx[i] = 0 dt + sqrt(2) * chol(cov(j in x, x[j])) dW[i]\n}\n",
    );
    let sys = particles(&c, 2);
    let x = [0.3, -0.8, 1.1, 0.4, -0.6, 0.9, 0.2, 1.7, -1.3, -0.2];
    let (ito, _) = drift_noise(&sys, &x, false);
    let g_at = |y: &[f64]| drift_noise(&sys, y, false).1;
    let g0 = g_at(&x);
    let e = 1e-6;
    let mut largest: f64 = 0.0;
    for r in 0..5 {
        for a in 0..2 {
            let mut c_ra = 0.0;
            for k in 0..2 {
                // ∂G^r/∂x[r, k] by central differences
                let (mut xp, mut xm) = (x.to_vec(), x.to_vec());
                xp[2 * r + k] += e;
                xm[2 * r + k] -= e;
                let (gp, gm) = (g_at(&xp), g_at(&xm));
                for b in 0..2 {
                    let at = 4 * r + 2 * a + b;
                    let dg = (gp[at] - gm[at]) / (2.0 * e);
                    c_ra += g0[4 * r + 2 * k + b] * dg;
                }
            }
            let got = ito[2 * r + a];
            largest = largest.max(c_ra.abs());
            assert!(
                (got - 0.5 * c_ra).abs() < 1e-7 * (1.0 + c_ra.abs()),
                "particle {r}, coordinate {a}: Itô drift {got} vs ½c = {}",
                0.5 * c_ra
            );
        }
    }
    assert!(largest > 0.01, "the correction is not trivially zero: {largest}");
}

#[test]
fn adaptive_steps_take_matrix_noise() {
    let c = compile(&constant_model(""));
    let sys = particles(&c, 2);
    let config = RunConfig {
        method: Method::Adaptive {
            scheme: AdaptiveBase::EulerMaruyama,
            dt: 0.01,
            abstol: 1e-2,
            reltol: 1e-2,
            dt_min: 1e-6,
            dt_max: 0.1,
        },
        chains: 2,
        seed: 3,
        ..RunConfig::new(Method::EulerMaruyama { dt: 0.01 }, 1)
    };
    let options = SdeOptions {
        t_end: Some(1.0),
        save: Save::At(vec![1.0]),
        record: None,
    };
    let out = run_sde_with(&sys, &[0.0; 6], &config, &options, |_| {
        Ok(MemoryRecorder::default())
    })
    .unwrap_or_else(|e| panic!("{e}"));
    for r in &out.recorders {
        let last = &r.draws[0];
        assert!(last.iter().all(|v| v.is_finite() && *v != 0.0), "{last:?}");
    }
}
