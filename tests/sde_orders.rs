//! Convergence orders of the SDE schemes, through the whole compiler.
//!
//! Strong order: for each path, the Brownian increments (and I₍₁,₀₎ for the
//! order-1.5 schemes) of the finest grid are drawn once; coarser grids sum them
//! (I₍₁,₀₎ over a coarse step [s, s + H] is Σₖ (Zₖ + h·(W(tₖ) − W(s)))), so every step
//! size sees the same Brownian path. The error at T is measured against the exact
//! solution (a function of W_T), or for SRA1 against the same scheme on a grid 32
//! times finer than the finest; errors are averaged over the paths and the order is
//! the least-squares slope of log(error) against log(h) over 5 step sizes. Each
//! measured order must lie within 0.15 of the theory (fixed before the first run).
//!
//! Weak order of Euler–Maruyama: E[X_T] of GBM estimated with the exact solution on
//! the same path as a control variate, so the Monte Carlo error (≈ 1e-3) is far below
//! the bias (≈ 1e-2 at the smallest step).

use sdelang::pipeline::{compile_source, Compilation, CompileOptions};
use sdelang::runtime::integrators::{EulerMaruyama, Heun, Increments, Milstein, SdeScheme, Sra1, Sriw1};
use sdelang::runtime::rng::{fill_normal, stream};
use sdelang::runtime::SdeSystem;
use sdelang::source::SourceMap;

fn compile(text: &str) -> Compilation {
    let mut sources = SourceMap::new();
    let id = sources.add("test.sde", None, text.to_string());
    compile_source(sources, id, None, &CompileOptions::default())
        .unwrap_or_else(|f| panic!("{}", sdelang::render::render(&f.diagnostics, &f.sources, false)))
}

/// The finest-grid increments of one path: `dw[k]` and `dz[k]` hold m values each.
struct Path {
    dw: Vec<Vec<f64>>,
    dz: Vec<Vec<f64>>,
}

fn draw_path(seed: u64, index: u64, steps: usize, m: usize, h: f64) -> Path {
    let mut rng = stream(seed, index);
    let mut dw = Vec::with_capacity(steps);
    let mut dz = Vec::with_capacity(steps);
    for _ in 0..steps {
        let mut w = vec![0.0; m];
        let mut u = vec![0.0; m];
        fill_normal(&mut rng, &mut w);
        fill_normal(&mut rng, &mut u);
        let s = h.sqrt();
        let z: Vec<f64> = w
            .iter()
            .zip(&u)
            .map(|(a, b)| 0.5 * h * s * (a + b / 3f64.sqrt()))
            .collect();
        dw.push(w.iter().map(|a| a * s).collect());
        dz.push(z);
    }
    Path { dw, dz }
}

impl Path {
    /// Increments of the grid whose steps are `factor` fine steps of length `h`.
    fn coarsen(&self, factor: usize, h: f64) -> Path {
        let m = self.dw.first().map_or(0, Vec::len);
        let mut out = Path {
            dw: Vec::new(),
            dz: Vec::new(),
        };
        for (ws, zs) in self.dw.chunks(factor).zip(self.dz.chunks(factor)) {
            let mut w = vec![0.0; m];
            let mut z = vec![0.0; m];
            for (wk, zk) in ws.iter().zip(zs) {
                for j in 0..m {
                    z[j] += zk[j] + h * w[j];
                    w[j] += wk[j];
                }
            }
            out.dw.push(w);
            out.dz.push(z);
        }
        out
    }

    fn w_end(&self) -> Vec<f64> {
        let m = self.dw.first().map_or(0, Vec::len);
        (0..m).map(|j| self.dw.iter().map(|w| w[j]).sum()).collect()
    }
}

fn integrate<S: SdeScheme, Sys: SdeSystem + ?Sized>(
    scheme: &mut S,
    sys: &Sys,
    x0: &[f64],
    path: &Path,
    h: f64,
) -> Vec<f64> {
    let mut x = x0.to_vec();
    for (k, (w, z)) in path.dw.iter().zip(&path.dz).enumerate() {
        scheme.step_with(sys, &mut x, k as f64 * h, h, Increments { dw: w, dz: z });
    }
    x
}

/// Least-squares slope of log(err) against log(h).
fn slope(hs: &[f64], errs: &[f64]) -> f64 {
    let xs: Vec<f64> = hs.iter().map(|h| h.ln()).collect();
    let ys: Vec<f64> = errs.iter().map(|e| e.ln()).collect();
    let n = xs.len() as f64;
    let (mx, my) = (xs.iter().sum::<f64>() / n, ys.iter().sum::<f64>() / n);
    let sxy: f64 = xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    let sxx: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
    sxy / sxx
}

/// How the error at T is measured.
enum Truth<'a> {
    /// The exact solution as a function of W_T.
    Exact(&'a dyn Fn(&[f64]) -> Vec<f64>),
    /// The same scheme on a grid this many times finer than the finest.
    Refined(usize),
}

struct Study<'a> {
    name: &'a str,
    t_end: f64,
    /// log₂ of the coarsest and finest number of steps.
    levels: (u32, u32),
    paths: u64,
    x0: &'a [f64],
    m: usize,
    truth: Truth<'a>,
}

/// Mean strong error at each level and the fitted order.
fn strong_order<S: SdeScheme, Sys: SdeSystem + ?Sized>(
    study: &Study,
    sys: &Sys,
    make: &dyn Fn() -> S,
) -> (Vec<f64>, Vec<f64>, f64) {
    let (lo, hi) = study.levels;
    let refine = match study.truth {
        Truth::Refined(r) => r,
        Truth::Exact(_) => 1,
    };
    let finest = (1usize << hi) * refine;
    let hf = study.t_end / finest as f64;
    let mut errs = vec![0.0; (hi - lo + 1) as usize];
    for p in 0..study.paths {
        let path = draw_path(2024, p, finest, study.m, hf);
        let truth = match &study.truth {
            Truth::Exact(f) => f(&path.w_end()),
            Truth::Refined(_) => integrate(&mut make(), sys, study.x0, &path, hf),
        };
        for (e, level) in errs.iter_mut().zip(lo..=hi) {
            let factor = finest >> level;
            let h = study.t_end / (1usize << level) as f64;
            let coarse = path.coarsen(factor, hf);
            let x = integrate(&mut make(), sys, study.x0, &coarse, h);
            let d: f64 = x
                .iter()
                .zip(&truth)
                .map(|(a, b)| (a - b).powi(2))
                .sum::<f64>()
                .sqrt();
            *e += d / study.paths as f64;
        }
    }
    let hs: Vec<f64> = (lo..=hi).map(|l| study.t_end / (1usize << l) as f64).collect();
    let order = slope(&hs, &errs);
    eprintln!("{:<32} order {order:.3}  errors {}", study.name, sci(&errs));
    (hs, errs, order)
}

fn sci(v: &[f64]) -> String {
    v.iter().map(|e| format!("{e:.2e}")).collect::<Vec<_>>().join(" ")
}

fn assert_order(name: &str, order: f64, theory: f64) {
    assert!(
        (order - theory).abs() < 0.15,
        "{name}: measured strong order {order:.3}, theory {theory}"
    );
}

const MU: f64 = 0.5;
const SIGMA: f64 = 1.0;

fn gbm_with(convention: &str, sigma: f64) -> Compilation {
    compile(&format!(
        "param mu = {MU}, sigma = {sigma}\nmodel gbm {{\n  state s: real = 1\n  {convention} ds = mu * s dt + sigma * s dW\n}}\n"
    ))
}

fn gbm(convention: &str) -> Compilation {
    gbm_with(convention, SIGMA)
}

fn gbm_ito_exact(w: &[f64]) -> Vec<f64> {
    vec![((MU - 0.5 * SIGMA * SIGMA) + SIGMA * w[0]).exp()]
}

/// dX = (β√(1+X²) + ½a²X) dt + a√(1+X²) dW (Itô) ⇒ X_t = sinh(aW_t + βt + asinh X₀),
/// written in the α-convention: the drift loses α·a²X.
const A: f64 = 1.0;
const BETA: f64 = 0.5;
const X0: f64 = 0.3;

fn sinh_model(convention: &str, alpha: f64) -> Compilation {
    let c = 0.5 - alpha;
    compile(&format!(
        "param a = {A}, beta = {BETA}\nmodel s {{\n  state x: real = {X0}\n  {convention} dx = (beta * sqrt(1 + x^2) + {c} * a^2 * x) dt + a * sqrt(1 + x^2) dW\n}}\n"
    ))
}

fn sinh_exact(w: &[f64]) -> Vec<f64> {
    vec![(A * w[0] + BETA + X0.asinh()).sinh()]
}

fn study<'a>(
    name: &'a str,
    levels: (u32, u32),
    paths: u64,
    x0: &'a [f64],
    m: usize,
    truth: Truth<'a>,
) -> Study<'a> {
    Study {
        name,
        t_end: 1.0,
        levels,
        paths,
        x0,
        m,
        truth,
    }
}

#[test]
fn euler_maruyama_strong_order_half() {
    let c = gbm("");
    let s = study("EM, GBM", (4, 8), 400, &[1.0], 1, Truth::Exact(&gbm_ito_exact));
    let (_, _, order) = strong_order(&s, &c.compiled, &|| EulerMaruyama::new(1, 0.0));
    assert_order(s.name, order, 0.5);
    let c = sinh_model("", 0.0);
    let s = study("EM, sinh SDE", (4, 8), 400, &[X0], 1, Truth::Exact(&sinh_exact));
    let (_, _, order) = strong_order(&s, &c.compiled, &|| EulerMaruyama::new(1, 0.0));
    assert_order(s.name, order, 0.5);
}

#[test]
fn milstein_strong_order_one() {
    let c = gbm("ito");
    let s = study(
        "Milstein, GBM",
        (3, 7),
        300,
        &[1.0],
        1,
        Truth::Exact(&gbm_ito_exact),
    );
    let (_, _, order) = strong_order(&s, &c.compiled, &|| Milstein::new(1, 0.0));
    assert_order(s.name, order, 1.0);
    // The sinh SDE written with α = 0.25: the compiler converts it to Itô form.
    let c = sinh_model("alpha(0.25)", 0.25);
    let s = study(
        "Milstein, sinh SDE α=0.25",
        (3, 7),
        300,
        &[X0],
        1,
        Truth::Exact(&sinh_exact),
    );
    let (_, errs, order) = strong_order(&s, &c.compiled, &|| Milstein::new(1, 0.0));
    assert_order(s.name, order, 1.0);
    assert!(errs.last().is_some_and(|e| *e < 0.05), "errors {errs:?}");
}

#[test]
fn heun_strong_order_one_on_stratonovich_form() {
    // Stratonovich GBM: X_T = exp(μT + σW_T).
    let c = gbm("stratonovich");
    let exact = |w: &[f64]| vec![(MU + SIGMA * w[0]).exp()];
    let s = study(
        "Heun, Stratonovich GBM",
        (3, 7),
        300,
        &[1.0],
        1,
        Truth::Exact(&exact),
    );
    let noise = c.compiled.noise();
    let (_, _, order) = strong_order(&s, &c.compiled, &|| Heun::with_noise(1, noise));
    assert_order(s.name, order, 1.0);
    // An Itô equation: Heun integrates its Stratonovich drift, derived symbolically.
    let c = sinh_model("ito", 0.0);
    let s = study(
        "Heun, Itô sinh SDE",
        (3, 7),
        300,
        &[X0],
        1,
        Truth::Exact(&sinh_exact),
    );
    let (_, _, order) = strong_order(&s, &c.compiled, &|| Heun::with_noise(1, noise));
    assert_order(s.name, order, 1.0);
}

#[test]
fn sriw1_strong_order_one_and_a_half() {
    // The order shows from 16 steps on (coarser grids are pre-asymptotic).
    let c = gbm_with("", 0.5);
    let exact = |w: &[f64]| vec![((MU - 0.125) + 0.5 * w[0]).exp()];
    let s = study("SRIW1, GBM σ=0.5", (4, 8), 300, &[1.0], 1, Truth::Exact(&exact));
    let (_, _, order) = strong_order(&s, &c.compiled, &|| Sriw1::new(1));
    assert_order(s.name, order, 1.5);
    let c = sinh_model("stratonovich", 0.5);
    let s = study(
        "SRIW1, Stratonovich sinh SDE",
        (4, 8),
        300,
        &[X0],
        1,
        Truth::Exact(&sinh_exact),
    );
    let (_, _, order) = strong_order(&s, &c.compiled, &|| Sriw1::new(1));
    assert_order(s.name, order, 1.5);
}

#[test]
fn sra1_strong_order_one_and_a_half() {
    // Additive, time-dependent noise and a nonlinear drift, two Wiener processes. (With a
    // gentler drift the error is dominated by the O(h²) deterministic part at these steps.)
    let c = compile(
        "model add {\n  state x: real[2] = [0.5, -0.5]\n  noise W: real[2]\n  \
         dx[i] = (-sin(3 * x[i]) - 0.5 * x[i] + 0.5 * x[1 - i]) dt + (1 + t) * (if i == j then 1 else 0.3) dW[j]\n}\n",
    );
    let noise = c.compiled.noise();
    assert!(noise.additive && !noise.diagonal && noise.dim == 2, "{noise:?}");
    let s = study(
        "SRA1, additive 2-D",
        (4, 8),
        300,
        &[0.5, -0.5],
        2,
        Truth::Refined(32),
    );
    let (_, _, order) = strong_order(&s, &c.compiled, &|| Sra1::with_noise(2, noise));
    assert_order(s.name, order, 1.5);
}

#[test]
fn general_noise_orders_and_conversion() {
    // dXᵢ = μ Xᵢ dt + Xᵢ Σⱼ bᵢⱼ dWⱼ (commutative matrix noise):
    // Xᵢ(T) = Xᵢ(0) exp((μ − ½Σⱼ bᵢⱼ²)T + Σⱼ bᵢⱼ Wⱼ(T)).
    let b = [[0.6, 0.3, 0.0], [0.2, 0.5, 0.4]];
    let src = |conv: &str, drift: &str| {
        format!(
            "param b: real[6] = [0.6, 0.3, 0, 0.2, 0.5, 0.4]\nmodel g {{\n  state x: real[2] = [1, 2]\n  noise W: real[3]\n  \
             {conv} dx[i] = {drift} dt + b[3 * i + j] * x[i] dW[j]\n}}\n"
        )
    };
    let exact = move |w: &[f64]| -> Vec<f64> {
        (0..2)
            .map(|i| {
                let s2: f64 = b[i].iter().map(|v| v * v).sum();
                let bw: f64 = b[i].iter().zip(w).map(|(a, v)| a * v).sum();
                [1.0, 2.0][i] * ((MU - 0.5 * s2) + bw).exp()
            })
            .collect()
    };
    let ito = compile(&src("", &format!("{MU} * x[i]")));
    let noise = ito.compiled.noise();
    assert!(!noise.diagonal && noise.dim == 3);
    let s = study(
        "EM, matrix noise",
        (4, 8),
        300,
        &[1.0, 2.0],
        3,
        Truth::Exact(&exact),
    );
    let (_, _, order) = strong_order(&s, &ito.compiled, &|| EulerMaruyama::with_noise(2, noise, 0.0));
    assert_order(s.name, order, 0.5);
    // The same process written in Stratonovich form: drift μX − ½Σⱼbᵢⱼ²X.
    let strat = compile(&src(
        "stratonovich",
        &format!("{MU} * x[i] - 0.5 * sum(k in 0..3, b[3 * i + k]^2) * x[i]"),
    ));
    let s = study(
        "Heun, Stratonovich matrix noise",
        (3, 7),
        300,
        &[1.0, 2.0],
        3,
        Truth::Exact(&exact),
    );
    let (_, _, order) = strong_order(&s, &strat.compiled, &|| Heun::with_noise(2, noise));
    assert_order(s.name, order, 1.0);
    let s = study(
        "Heun, Itô matrix noise",
        (3, 7),
        300,
        &[1.0, 2.0],
        3,
        Truth::Exact(&exact),
    );
    let (_, _, order) = strong_order(&s, &ito.compiled, &|| Heun::with_noise(2, noise));
    assert_order(s.name, order, 1.0);
}

#[test]
fn shared_scalar_noise() {
    // dxᵢ = μ xᵢ dt + sᵢ xᵢ dW with one W: xᵢ(T) = xᵢ(0) exp((μ − sᵢ²/2)T + sᵢW_T).
    let c = compile(&format!(
        "param s: real[2] = [0.5, 1.0]\nmodel m {{\n  state x: real[2] = [1, 1]\n  dx[i] = {MU} * x[i] dt + s[i] * x[i] dW\n}}\n"
    ));
    let noise = c.compiled.noise();
    assert!(!noise.diagonal && noise.dim == 1);
    let exact = |w: &[f64]| -> Vec<f64> {
        [0.5f64, 1.0]
            .iter()
            .map(|s| ((MU - 0.5 * s * s) + s * w[0]).exp())
            .collect()
    };
    let s = study(
        "Heun, shared scalar noise",
        (3, 7),
        300,
        &[1.0, 1.0],
        1,
        Truth::Exact(&exact),
    );
    let (_, _, order) = strong_order(&s, &c.compiled, &|| Heun::with_noise(2, noise));
    assert_order(s.name, order, 1.0);
}

#[test]
fn euler_maruyama_weak_order_one() {
    // E[X_T] for Itô GBM; the exact solution on the same path is the control variate.
    // σ = 0.2 keeps its Monte Carlo error (∝ σ²) far below the bias (independent of σ).
    const S: f64 = 0.2;
    let c = gbm_with("", S);
    let paths = 20_000u64;
    let (lo, hi) = (2u32, 6u32);
    let finest = 1usize << hi;
    let hf = 1.0 / finest as f64;
    let mut bias = vec![0.0; (hi - lo + 1) as usize];
    let mut sq = vec![0.0; bias.len()];
    for p in 0..paths {
        let path = draw_path(7, p, finest, 1, hf);
        let exact = ((MU - 0.5 * S * S) + S * path.w_end()[0]).exp();
        for (k, level) in (lo..=hi).enumerate() {
            let h = 1.0 / (1usize << level) as f64;
            let x = integrate(
                &mut EulerMaruyama::new(1, h),
                &c.compiled,
                &[1.0],
                &path.coarsen(finest >> level, hf),
                h,
            );
            let d = x[0] - exact;
            bias[k] += d / paths as f64;
            sq[k] += d * d / paths as f64;
        }
    }
    let hs: Vec<f64> = (lo..=hi).map(|l| 1.0 / (1usize << l) as f64).collect();
    for (k, h) in hs.iter().enumerate() {
        // E[X_N] of the EM chain is exactly (1 + μh)^N; E[exact] = e^μ.
        let n = (1.0 / h).round() as i32;
        let theory = (1.0 + MU * h).powi(n) - MU.exp();
        let mcse = ((sq[k] - bias[k] * bias[k]) / paths as f64).sqrt();
        assert!(
            (bias[k] - theory).abs() < 4.0 * mcse,
            "h = {h}: bias {} vs {theory} (mcse {mcse})",
            bias[k]
        );
    }
    let weak: Vec<f64> = bias.iter().map(|b| b.abs()).collect();
    let order = slope(&hs, &weak);
    eprintln!("{:<32} order {order:.3}  biases {}", "EM weak, GBM", sci(&weak));
    assert!((order - 1.0).abs() < 0.15, "EM weak order {order}");
}
