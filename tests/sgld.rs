//! Stochastic-gradient samplers on a model whose stationary law is known exactly.
//!
//! y₁…y_R ~ N(θ, 1) with prior θ ~ N(0, 10²): U(θ) = Σᵢ (yᵢ − θ)²/2 + θ²/200, so
//! ∇U = aθ − Σᵢ yᵢ with a = R + 1/100. The minibatch gradient over B rows is
//! aθ − R·ȳ_B: its only randomness is the batch mean ȳ_B, whose variance is
//! v = S²/B with replacement and v = (S²/B)(R − B)/(R − 1) without (S² the
//! population variance of y). Both schemes are then linear recursions driven by
//! Gaussian and batch noise, whose stationary mean is the posterior mean R·ȳ/a
//! (the gradient estimate is unbiased) and whose stationary variance solves a
//! Lyapunov equation:
//! - SGLD, θ⁺ = θ − h∇Ũ + √(2h) ξ: Var θ = (2h + h²R²v) / (ha(2 − ha)).
//! - SGHMC, p⁺ = (1 − hγ)p − h∇Ũ + √(2γh) ξ, θ⁺ = θ + hp⁺: the 2×2 equation
//!   Σ = AΣAᵀ + Q, solved here by iteration.
//!
//! A wrong rescaling of the batch moves the mean; drawing with or without
//! replacement the wrong way moves the variance (the tests check that the two
//! theoretical values are many standard errors apart). Each check is
//! |estimate − theory| < 4·MCSE, with the MCSE from the run's own effective
//! sample size; the factor 4 was fixed before the first run.

use sdelang::driver::{resolve, Overrides};
use sdelang::output::diagnostics::{mcse_mean, mcse_sd};
use sdelang::pipeline::{compile_source, CompileOptions};
use sdelang::runtime::{run_gibbs, MemoryRecorder};
use sdelang::source::SourceMap;
use std::path::PathBuf;

const Z: f64 = 4.0;
const ROWS: usize = 50;
const BATCH: usize = 25;

/// The data: deterministic, mean ≈ 1.5, spread ≈ 1.
fn data() -> Vec<f64> {
    (0..ROWS).map(|i| 1.5 + 1.3 * (1.7 * i as f64).sin()).collect()
}

fn data_file(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sdelang-sgld-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("y.csv");
    let lines: Vec<String> = data().iter().map(|y| y.to_string()).collect();
    std::fs::write(&path, format!("y\n{}\n", lines.join("\n"))).unwrap();
    path
}

/// Draws of θ, per chain, from 4 chains of 100 000 steps after 1 000 of warmup.
fn sample(name: &str, method: &str) -> Vec<Vec<f64>> {
    let path = data_file(name);
    let text = format!(
        "data n: int\ndata y: real[n]\n\
         model gauss_mean {{\n  state theta: real\n  \
         energy U = sum(i in 0..n, (y[i] - theta)^2) / 2 + theta^2 / (2 * 10^2)\n}}\n\
         run {{\n  data = \"{}\"\n  method = {method}\n  \
         chains = 4, warmup = 1000, steps = 100000, seed = 11\n  init theta = 0\n}}\n",
        path.display()
    );
    let mut sources = SourceMap::new();
    let id = sources.add("sgld.sde", None, text);
    let c = compile_source(sources, id, None, &CompileOptions::default())
        .unwrap_or_else(|f| panic!("{}", sdelang::render::render(&f.diagnostics, &f.sources, false)));
    let mut sources = c.sources.clone();
    let r = resolve(&c.model, &Overrides::default(), &mut sources)
        .unwrap_or_else(|d| panic!("{}", sdelang::render::render(&d, &sources, false)));
    let out = run_gibbs(&c.compiled, &r.init, &r.config, |_| Ok(MemoryRecorder::default())).unwrap();
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
    out.recorders
        .iter()
        .map(|rec| rec.draws.iter().map(|x| x[0]).collect())
        .collect()
}

struct Facts {
    /// a = R + 1/100, the posterior precision.
    precision: f64,
    /// The posterior mean R·ȳ/a.
    mean: f64,
    /// The variance of the batch mean ȳ_B.
    batch_var: f64,
}

fn facts(replace: bool) -> Facts {
    let y = data();
    let r = ROWS as f64;
    let b = BATCH as f64;
    let ybar = y.iter().sum::<f64>() / r;
    let s2 = y.iter().map(|v| (v - ybar).powi(2)).sum::<f64>() / r;
    let precision = r + 1.0 / 100.0;
    let fpc = if replace { 1.0 } else { (r - b) / (r - 1.0) };
    Facts {
        precision,
        mean: r * ybar / precision,
        batch_var: s2 / b * fpc,
    }
}

fn sgld_sd(h: f64, replace: bool) -> f64 {
    let f = facts(replace);
    let r = ROWS as f64;
    let ha = h * f.precision;
    ((2.0 * h + h * h * r * r * f.batch_var) / (ha * (2.0 - ha))).sqrt()
}

fn sghmc_sd(h: f64, gamma: f64, replace: bool) -> f64 {
    let f = facts(replace);
    let r = ROWS as f64;
    let a = f.precision;
    // (θ, p)⁺ = A (θ, p) + (h, 1)·w with Var w = h²R²v + 2γh.
    let m = [
        [1.0 - h * h * a, h * (1.0 - h * gamma)],
        [-h * a, 1.0 - h * gamma],
    ];
    let vw = h * h * r * r * f.batch_var + 2.0 * gamma * h;
    let q = [[vw * h * h, vw * h], [vw * h, vw]];
    let mut s = [[0.0; 2]; 2];
    for _ in 0..200_000 {
        let mut next = q;
        for (i, row) in next.iter_mut().enumerate() {
            for (j, e) in row.iter_mut().enumerate() {
                for k in 0..2 {
                    for l in 0..2 {
                        *e += m[i][k] * s[k][l] * m[j][l];
                    }
                }
            }
        }
        s = next;
    }
    s[0][0].sqrt()
}

fn check(what: &str, draws: &[Vec<f64>], mean: f64, sd: f64, other_sd: f64) {
    let all: Vec<f64> = draws.iter().flatten().copied().collect();
    let n = all.len() as f64;
    let m = all.iter().sum::<f64>() / n;
    let s = (all.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let (se_m, se_s) = (mcse_mean(draws), mcse_sd(draws));
    eprintln!(
        "{what}: mean {m:.5} (theory {mean:.5}, mcse {se_m:.1e}), sd {s:.5} (theory {sd:.5}, \
         mcse {se_s:.1e}; the other replacement rule gives {other_sd:.5})"
    );
    assert!(
        (sd - other_sd).abs() > 2.0 * Z * se_s,
        "{what}: the test cannot tell the rules apart"
    );
    assert!((m - mean).abs() < Z * se_m, "{what}: mean {m} vs {mean}");
    assert!((s - sd).abs() < Z * se_s, "{what}: sd {s} vs {sd}");
}

#[test]
fn sgld_without_replacement_has_the_exact_stationary_law() {
    let draws = sample("sgld", "sgld(step = 0.005, batch = 25)");
    let f = facts(false);
    check(
        "sgld",
        &draws,
        f.mean,
        sgld_sd(0.005, false),
        sgld_sd(0.005, true),
    );
}

#[test]
fn sgld_with_replacement_has_the_exact_stationary_law() {
    let draws = sample("sgld-replace", "sgld(step = 0.005, batch = 25, replace = true)");
    let f = facts(true);
    check(
        "sgld, replace",
        &draws,
        f.mean,
        sgld_sd(0.005, true),
        sgld_sd(0.005, false),
    );
}

#[test]
fn sghmc_has_the_exact_stationary_law() {
    let draws = sample("sghmc", "sghmc(step = 0.02, friction = 5, batch = 25)");
    let f = facts(false);
    check(
        "sghmc",
        &draws,
        f.mean,
        sghmc_sd(0.02, 5.0, false),
        sghmc_sd(0.02, 5.0, true),
    );
}
