//! Validation of the sampler library on targets compiled from `.sde` source (so the symbolic
//! gradients and Hessians are exercised):
//!
//! - stationary bias orders: ULA's bias on an anisotropic Gaussian is O(h) (fitted log-log
//!   slope within 0.15 of 1), BAOAB's configurational bias on an anharmonic target is O(h²)
//!   (slope within 0.2 of 2), with exact references (closed form, quadrature);
//! - no bias beyond Monte Carlo error for the Metropolis-adjusted samplers (MALA, HMC, NUTS,
//!   Newton–Langevin) and, at small steps, the kinetic schemes, on a tilted double well and a
//!   banana whose moments are computed by quadrature here;
//! - NUTS adaptation reaches its target acceptance; NUTS is bitwise reproducible across thread
//!   counts; every method round-trips through its language spelling.
//!
//! Tolerances: each moment check is |estimate − truth| < 4 · MCSE, with the MCSE from batch
//! means (20 batches per chain), fixed before the first run as in tests/sampling.rs; seeds are
//! fixed, so results are deterministic.

use sdelang::codegen::CompiledModel;
use sdelang::driver::settings::runtime_method;
use sdelang::model::{MethodKind, MethodSpec};
use sdelang::pipeline::{compile_source, parse_method, Compilation, CompileOptions};
use sdelang::runtime::{
    run_gibbs, Adaptation, Kinetic, Mass, MemoryRecorder, Method, RunConfig, RunOutput, Schedule,
};
use sdelang::source::{SourceMap, Span};

const Z: f64 = 4.0;
const BATCHES: usize = 20;

fn compile_with(text: &str, method: Option<&str>) -> Compilation {
    let mut sources = SourceMap::new();
    let id = sources.add("test.sde", None, text.to_string());
    let options = CompileOptions {
        method: method.map(str::to_string),
        ..CompileOptions::default()
    };
    compile_source(sources, id, None, &options)
        .unwrap_or_else(|f| panic!("{}", sdelang::render::render(&f.diagnostics, &f.sources, false)))
}

fn compile(text: &str) -> Compilation {
    compile_with(text, None)
}

fn run(
    c: &CompiledModel,
    method: Method,
    init: &[f64],
    chains: usize,
    warmup: u64,
    steps: u64,
    seed: u64,
) -> RunOutput<MemoryRecorder> {
    let config = RunConfig {
        method,
        chains,
        warmup,
        steps,
        thin: 1,
        seed,
        temperature: 1.0,
        t0: 0.0,
        stop_all_on_nonfinite: false,
        init_draws: Vec::new(),
    };
    run_gibbs(c, init, &config, |_| Ok(MemoryRecorder::default())).unwrap()
}

/// Estimate and batch-means MCSE of E[f(x)] over chains of draws.
fn estimate(chains: &[MemoryRecorder], f: impl Fn(&[f64]) -> f64) -> (f64, f64) {
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
    let z = (est - truth).abs() / mcse;
    eprintln!("{what}: estimate {est:.5} vs {truth:.5} (MCSE {mcse:.2e}, |z| = {z:.2})");
    assert!(
        z < Z,
        "{what}: estimate {est:.5} vs {truth:.5} (MCSE {mcse:.2e}, |z| = {z:.2})"
    );
}

/// Least-squares slope of log y against log x.
fn log_log_slope(xs: &[f64], ys: &[f64]) -> f64 {
    let lx: Vec<f64> = xs.iter().map(|x| x.ln()).collect();
    let ly: Vec<f64> = ys.iter().map(|y| y.ln()).collect();
    let n = lx.len() as f64;
    let (mx, my) = (lx.iter().sum::<f64>() / n, ly.iter().sum::<f64>() / n);
    let sxy: f64 = lx.iter().zip(&ly).map(|(x, y)| (x - mx) * (y - my)).sum();
    let sxx: f64 = lx.iter().map(|x| (x - mx).powi(2)).sum();
    sxy / sxx
}

/// ∫ f(x) w(x) dx / ∫ w(x) dx on [lo, hi] by the composite Simpson rule with n (even) panels.
fn quad1(lo: f64, hi: f64, n: usize, w: impl Fn(f64) -> f64, f: impl Fn(f64) -> f64) -> f64 {
    let h = (hi - lo) / n as f64;
    let (mut num, mut den) = (0.0, 0.0);
    for k in 0..=n {
        let x = lo + k as f64 * h;
        let c = if k == 0 || k == n {
            1.0
        } else if k % 2 == 1 {
            4.0
        } else {
            2.0
        };
        let wx = c * w(x);
        num += wx * f(x);
        den += wx;
    }
    num / den
}

// ---------- bias orders ----------

/// ULA on U = ½ Σ λᵢ xᵢ² with λ = linspace(1, 4, 16): the statistic (1/d) Σ λᵢxᵢ² has exact
/// mean 1 and ULA mean (1/d) Σ 1/(1 − hλᵢ/2), so the bias is h·mean(λ)/4 + O(h²). On the step
/// grid used here the exact slope is 1.05.
#[test]
fn ula_bias_is_first_order_on_an_anisotropic_gaussian() {
    let c = compile(
        "param d = 16\nparam lam: real[d] = linspace(1, 4, d)\n\
         model aniso { state x: real[d]\n energy U = 0.5 * sum(i in 0..d, lam[i] * x[i]^2) }",
    );
    let lam: Vec<f64> = (0..16).map(|i| 1.0 + 3.0 * i as f64 / 15.0).collect();
    let steps = [0.01, 0.02, 0.04, 0.08];
    let mut biases = Vec::new();
    for (k, h) in steps.iter().enumerate() {
        let n = (4.0e6 * 0.01 / h) as u64;
        let out = run(
            &c.compiled,
            Method::ula(*h),
            &[0.0; 16],
            4,
            2_000,
            n,
            100 + k as u64,
        );
        let (est, mcse) = estimate(&out.recorders, |x| {
            x.iter().zip(&lam).map(|(x, l)| l * x * x).sum::<f64>() / 16.0
        });
        let exact = lam.iter().map(|l| 1.0 / (1.0 - h * l / 2.0)).sum::<f64>() / 16.0;
        // the discrete chain's own law is known exactly: the estimate must match it
        assert_moment(&format!("ULA h={h} statistic"), (est, mcse), exact);
        biases.push(est - 1.0);
    }
    let slope = log_log_slope(&steps, &biases);
    eprintln!("ULA bias {biases:?}, slope {slope:.3}");
    assert!((slope - 1.0).abs() < 0.15, "ULA bias slope {slope}");
}

/// BAOAB (friction 1) on 32 independent copies of the pure quartic U(x) = x⁴/4, the most
/// anharmonic polynomial well: the bias of E[x²] is O(h²); the exact E[x²] comes from
/// quadrature. The runs stream batch means (no draws are stored) to afford the ~10⁹
/// component-steps the small biases need.
#[test]
fn baoab_configurational_bias_is_second_order_on_an_anharmonic_target() {
    let c = compile(
        "param d = 32\nmodel quartic { state x: real[d]\n energy U = sum(i in 0..d, 0.25 * x[i]^4) }",
    );
    let exact = quad1(-8.0, 8.0, 8000, |x| (-0.25 * x.powi(4)).exp(), |x| x * x);
    let steps = [0.2, 0.25, 0.3, 0.35];
    let mut biases = Vec::new();
    for (k, h) in steps.iter().enumerate() {
        let method = Method::Baoab(Kinetic {
            step: *h,
            friction: 1.0,
            mass: 1.0,
        });
        let f = |x: &[f64]| x.iter().map(|v| v * v).sum::<f64>() / 32.0;
        let (est, mcse) = streamed(&c.compiled, method, 32, 4, 3_000_000, 200 + k as u64, f);
        eprintln!("BAOAB h={h}: E[x²] {est:.6} ± {mcse:.1e} vs {exact:.6}");
        biases.push((est - exact).abs());
    }
    let slope = log_log_slope(&steps, &biases);
    eprintln!("BAOAB bias {biases:?}, slope {slope:.3}");
    assert!((slope - 2.0).abs() < 0.2, "BAOAB bias slope {slope}");
}

// ---------- no bias beyond Monte Carlo error ----------

/// U = (x² − 1)² + 0.3x: two wells, the left one deeper, barrier ≈ 1.
const DOUBLE_WELL: &str = "model well { state x: real\n energy U = (x^2 - 1)^2 + 0.3 * x }";

/// U = x₀²/2 + 2(x₁ − x₀²)²: x₀ ~ N(0, 1), x₁ | x₀ ~ N(x₀², 1/4).
const BANANA: &str = "model banana { state x: real[2]\n energy U = 0.5 * x[0]^2 + 2 * (x[1] - x[0]^2)^2 }";

fn well_weight(x: f64) -> f64 {
    (-((x * x - 1.0).powi(2) + 0.3 * x)).exp()
}

/// E[f] under the banana by the composite Simpson rule on [−7, 7] × [−6, 56].
fn banana_moment(f: impl Fn(f64, f64) -> f64) -> f64 {
    let (n0, n1) = (560, 2480);
    let (h0, h1) = (14.0 / n0 as f64, 62.0 / n1 as f64);
    let simpson = |k: usize, n: usize| {
        if k == 0 || k == n {
            1.0
        } else if k % 2 == 1 {
            4.0
        } else {
            2.0
        }
    };
    let (mut num, mut den) = (0.0, 0.0);
    for i in 0..=n0 {
        let a = -7.0 + i as f64 * h0;
        for j in 0..=n1 {
            let b = -6.0 + j as f64 * h1;
            let w = simpson(i, n0) * simpson(j, n1) * (-(0.5 * a * a + 2.0 * (b - a * a).powi(2))).exp();
            num += w * f(a, b);
            den += w;
        }
    }
    num / den
}

type Moment = (&'static str, fn(&[f64]) -> f64, f64);

fn well_moments() -> Vec<Moment> {
    let m1 = quad1(-6.0, 6.0, 4000, well_weight, |x| x);
    let m2 = quad1(-6.0, 6.0, 4000, well_weight, |x| x * x);
    vec![("E[x]", |x| x[0], m1), ("E[x²]", |x| x[0] * x[0], m2)]
}

fn banana_moments() -> Vec<Moment> {
    let e00 = banana_moment(|a, _| a * a);
    let e1 = banana_moment(|_, b| b);
    // closed forms as a check of the quadrature: E[x₀²] = 1, E[x₁] = E[x₀²] = 1
    assert!(
        (e00 - 1.0).abs() < 1e-6 && (e1 - 1.0).abs() < 1e-6,
        "quadrature {e00} {e1}"
    );
    vec![
        ("E[x0]", |x| x[0], banana_moment(|a, _| a)),
        ("E[x0²]", |x| x[0] * x[0], e00),
        ("E[x1]", |x| x[1], e1),
    ]
}

fn check(
    what: &str,
    c: &Compilation,
    method: Method,
    init: &[f64],
    steps: u64,
    seed: u64,
    moments: &[Moment],
) {
    let name = method.to_string();
    let out = run(&c.compiled, method, init, 4, 2_000, steps, seed);
    for (m, f, truth) in moments {
        assert_moment(&format!("{what} {name} {m}"), estimate(&out.recorders, f), *truth);
    }
}

fn adapted(target_accept: f64, mass: bool) -> Adaptation {
    Adaptation {
        step: true,
        mass,
        target_accept,
    }
}

fn exact_methods() -> Vec<(Method, u64)> {
    vec![
        (
            Method::Mala {
                step: 0.1,
                mass: Mass::UNIT,
                adapt: adapted(0.574, false),
            },
            100_000,
        ),
        (
            Method::Hmc {
                step: 0.1,
                steps: 8,
                length: None,
                mass: Mass::UNIT,
                adapt: adapted(0.8, true),
            },
            20_000,
        ),
        (
            Method::Nuts {
                step: 0.1,
                max_depth: 10,
                mass: Mass::UNIT,
                adapt: adapted(0.8, true),
            },
            20_000,
        ),
        (
            Method::NewtonLangevin {
                step: 0.5,
                damping: 0.5,
                adapt: adapted(0.574, false),
            },
            50_000,
        ),
    ]
}

#[test]
fn metropolis_samplers_are_unbiased_on_a_double_well() {
    let c = compile_with(DOUBLE_WELL, Some("newton_langevin"));
    let moments = well_moments();
    for (k, (method, steps)) in exact_methods().into_iter().enumerate() {
        check("double well", &c, method, &[0.5], steps, 300 + k as u64, &moments);
    }
}

#[test]
fn metropolis_samplers_are_unbiased_on_a_banana() {
    let c = compile_with(BANANA, Some("newton_langevin"));
    let moments = banana_moments();
    for (k, (method, steps)) in exact_methods().into_iter().enumerate() {
        check(
            "banana",
            &c,
            method,
            &[0.0, 0.0],
            2 * steps,
            400 + k as u64,
            &moments,
        );
    }
}

fn kinetic_methods(step: f64) -> Vec<Method> {
    let k = Kinetic {
        step,
        friction: 1.0,
        mass: 1.0,
    };
    vec![
        Method::Baoab(k),
        Method::Obabo(k),
        Method::Aboba(k),
        Method::Ubu(k),
        Method::RandomizedMidpoint(k),
    ]
}

/// Unadjusted kinetic schemes have an O(h²) bias; at these steps it is below the Monte Carlo
/// error of the runs.
#[test]
fn kinetic_schemes_show_no_bias_at_small_steps() {
    let c = compile(DOUBLE_WELL);
    let moments = well_moments();
    for (k, method) in kinetic_methods(0.05).into_iter().enumerate() {
        check(
            "double well",
            &c,
            method,
            &[0.5],
            400_000,
            500 + k as u64,
            &moments,
        );
    }
    let c = compile(BANANA);
    let moments = banana_moments();
    for (k, method) in kinetic_methods(0.03).into_iter().enumerate() {
        check(
            "banana",
            &c,
            method,
            &[0.0, 0.0],
            600_000,
            600 + k as u64,
            &moments,
        );
    }
}

// ---------- adaptation, preconditioning, annealing ----------

#[test]
fn nuts_adaptation_reaches_its_target_acceptance() {
    let c = compile(BANANA);
    let method = Method::Nuts {
        step: 1.0,
        max_depth: 10,
        mass: Mass::UNIT,
        adapt: adapted(0.8, true),
    };
    let out = run(&c.compiled, method, &[0.0, 0.0], 4, 1_000, 2_000, 7);
    for r in &out.reports {
        let s = &r.stats;
        let accept = s.mean_accept_stat.unwrap();
        eprintln!(
            "chain {}: step {:?}, accept {accept:.3}, inv mass {:?}",
            r.chain, s.step_size, s.inv_mass_diag
        );
        // dual averaging's averaged step ε̄ runs slightly more conservative than its target
        assert!(accept > 0.7 && accept < 0.95, "acceptance {accept}");
        assert!(s.step_size.unwrap() < 1.0, "the step shrank from 1");
        // the adapted diag(M⁻¹) estimates the marginal variances: Var x0 = 1, Var x1 = 2.25
        let m = s.inv_mass_diag.as_ref().unwrap();
        assert!(m[1] > m[0], "inverse mass {m:?}");
        assert!(s.tree_depth_sum.unwrap() > 0 && s.leapfrog_steps.unwrap() > 0);
    }
}

#[test]
fn nuts_is_bitwise_reproducible_across_thread_counts() {
    let c = compile(BANANA);
    let method = || Method::Nuts {
        step: 0.2,
        max_depth: 8,
        mass: Mass::UNIT,
        adapt: adapted(0.8, true),
    };
    let runs: Vec<Vec<Vec<Vec<f64>>>> = [1, 2]
        .iter()
        .map(|&threads| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let model = &c.compiled;
            let out = pool.install(|| run(model, method(), &[0.0, 0.0], 3, 300, 300, 9));
            out.recorders.into_iter().map(|r| r.draws).collect()
        })
        .collect();
    let bits =
        |r: &Vec<Vec<Vec<f64>>>| -> Vec<u64> { r.iter().flatten().flatten().map(|v| v.to_bits()).collect() };
    assert_eq!(bits(&runs[0]), bits(&runs[1]));
}

/// Preconditioned ULA on a correlated Gaussian with M = P (the precision): every direction
/// becomes an AR(1) chain with factor 1 − h, so the stationary covariance is C/(1 − h/2)
/// exactly. Preconditioned MALA with the dense mass and with an adapted diagonal is exact.
#[test]
fn preconditioned_langevin_with_dense_and_adapted_mass() {
    let c = compile(
        "model g { state x: real[2]\n energy U = 0.5 * (2 * x[0]^2 - 4 * x[0] * x[1] + 4 * x[1]^2) }",
    );
    let p = vec![2.0, -2.0, -2.0, 4.0];
    let cov = [[1.0, 0.5], [0.5, 0.5]];
    let h = 0.2;
    let ula = Method::Ula {
        step: h,
        mass: Mass::Dense(p.clone()),
    };
    let scale = 1.0 / (1.0 - h / 2.0);
    let moments = |s: f64| -> Vec<Moment> {
        vec![
            ("var x0", |x| x[0] * x[0], s * cov[0][0]),
            ("var x1", |x| x[1] * x[1], s * cov[1][1]),
            ("cov", |x| x[0] * x[1], s * cov[0][1]),
        ]
    };
    let cases = [
        (ula, scale),
        (
            Method::Mala {
                step: 0.5,
                mass: Mass::Dense(p),
                adapt: adapted(0.574, false),
            },
            1.0,
        ),
        (
            Method::Mala {
                step: 0.1,
                mass: Mass::UNIT,
                adapt: adapted(0.574, true),
            },
            1.0,
        ),
    ];
    for (k, (method, s)) in cases.into_iter().enumerate() {
        let name = method.to_string();
        let out = run(&c.compiled, method, &[0.0, 0.0], 4, 2_000, 40_000, 700 + k as u64);
        for (m, f, truth) in moments(s) {
            assert_moment(&format!("{name} {m}"), estimate(&out.recorders, f), truth);
        }
    }
}

/// Annealing from τ = 4 to 1 over four stages: in the first stage ULA samples
/// N(0, 4/(1 − 4h/2)) (step 4h at temperature 4), after the last it samples N(0, 1/(1 − h/2)).
#[test]
fn annealed_langevin_follows_its_schedule() {
    let c = compile("model g { state x: real\n energy U = 0.5 * x^2 }");
    let h = 0.05;
    let method = Method::AnnealedLangevin {
        step: h,
        schedule: Schedule::Geometric { from: 4.0, to: 1.0 },
        stages: 4,
        steps_per_stage: 2_000,
    };
    let out = run(&c.compiled, method, &[0.0], 64, 0, 48_000, 800);
    let window = |lo: usize, hi: usize| -> (f64, f64) {
        let per_chain: Vec<f64> = out
            .recorders
            .iter()
            .map(|r| r.draws[lo..hi].iter().map(|x| x[0] * x[0]).sum::<f64>() / (hi - lo) as f64)
            .collect();
        let n = per_chain.len() as f64;
        let m = per_chain.iter().sum::<f64>() / n;
        let v = per_chain.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
        (m, (v / n).sqrt())
    };
    assert_moment(
        "annealed stage 0 E[x²]",
        window(500, 2_000),
        4.0 / (1.0 - 2.0 * h),
    );
    assert_moment(
        "annealed final E[x²]",
        window(8_000, 48_000),
        1.0 / (1.0 - h / 2.0),
    );
    assert_eq!(out.reports[0].stats.temperature_factor, Some(1.0));
}

// ---------- spellings ----------

/// Every sampler's default runtime method prints in the language's spelling, and that spelling
/// parses back to the same method.
#[test]
fn every_method_round_trips_through_its_spelling() {
    let mut sources = SourceMap::new();
    let id = sources.add("x", None, String::new());
    for kind in MethodKind::all().iter().filter(|k| k.is_sampler()) {
        let spec = MethodSpec::with_defaults(*kind, Span::new(id, 0, 0));
        let method = runtime_method(&spec, None, 2);
        let text = method.to_string();
        let back = parse_method(&mut sources, &text).unwrap_or_else(|d| panic!("{text}: {d:?}"));
        assert_eq!(runtime_method(&back, None, 2), method, "{text}");
        assert!(text.starts_with(kind.name()), "{text}");
    }
}

#[test]
fn newton_langevin_needs_the_hessian() {
    let c = compile(DOUBLE_WELL);
    let config = RunConfig::new(
        Method::NewtonLangevin {
            step: 0.5,
            damping: 0.0,
            adapt: Adaptation::fixed(0.574),
        },
        10,
    );
    let err = run_gibbs(&c.compiled, &[0.0], &config, |_| Ok(MemoryRecorder::default())).unwrap_err();
    assert!(err.to_string().contains("Hessian"), "{err}");
    // with the method known at compile time the Hessian is built and compiled
    let c = compile_with(
        "model well { state x: real\n energy U = (x^2 - 1)^2\n }\nrun { method = newton_langevin }",
        None,
    );
    let out = run_gibbs(&c.compiled, &[0.0], &config, |_| Ok(MemoryRecorder::default())).unwrap();
    assert_eq!(out.reports[0].draws, 10);
}

/// Streams E[f] batch means without storing draws (for the long bias runs).
struct BatchMeans {
    f: fn(&[f64]) -> f64,
    per_batch: u64,
    count: u64,
    sum: f64,
    means: Vec<f64>,
}

impl sdelang::runtime::Recorder for BatchMeans {
    fn record(&mut self, _step: u64, _t: f64, x: &[f64]) -> std::io::Result<()> {
        self.sum += (self.f)(x);
        self.count += 1;
        if self.count == self.per_batch {
            self.means.push(self.sum / self.per_batch as f64);
            self.sum = 0.0;
            self.count = 0;
        }
        Ok(())
    }
}

/// E[f] and its batch-means MCSE from a streamed run.
fn streamed(
    c: &CompiledModel,
    method: Method,
    dim: usize,
    chains: usize,
    steps: u64,
    seed: u64,
    f: fn(&[f64]) -> f64,
) -> (f64, f64) {
    let config = RunConfig {
        method,
        chains,
        warmup: 2_000,
        steps,
        thin: 1,
        seed,
        temperature: 1.0,
        t0: 0.0,
        stop_all_on_nonfinite: false,
        init_draws: Vec::new(),
    };
    let make = |_| {
        Ok(BatchMeans {
            f,
            per_batch: steps / BATCHES as u64,
            count: 0,
            sum: 0.0,
            means: Vec::new(),
        })
    };
    let out = run_gibbs(c, &vec![0.0; dim], &config, make).unwrap();
    let means: Vec<f64> = out
        .recorders
        .iter()
        .flat_map(|r| r.means.iter().copied())
        .collect();
    let k = means.len() as f64;
    let m = means.iter().sum::<f64>() / k;
    let var = means.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (k - 1.0);
    (m, (var / k).sqrt())
}

// ---------- schedules written as expressions ----------

fn annealed_from_source(schedule: &str) -> Result<Method, String> {
    let text = format!(
        "model g {{ state x: real\n energy U = 0.5 * x^2 }}\n\
         run {{ method = annealed_langevin(step = 0.05, schedule = {schedule}, stages = 4, steps_per_stage = 500) }}\n"
    );
    let mut sources = SourceMap::new();
    let id = sources.add("test.sde", None, text);
    let c = compile_source(sources, id, None, &CompileOptions::default())
        .map_err(|f| sdelang::render::render(&f.diagnostics, &f.sources, false))?;
    let spec = c.model.run.method.clone().ok_or("no method")?;
    Ok(sdelang::driver::settings::runtime_method(&spec, None, 1))
}

#[test]
fn annealing_schedules_can_be_expressions_of_the_stage() {
    // `t` is the fraction of the annealing done, k/(stages − 1): this is geometric(4, 1).
    let table = annealed_from_source("4 * 0.25^t").unwrap();
    let geometric = annealed_from_source("geometric(4, 1)").unwrap();
    let Method::AnnealedLangevin {
        schedule: Schedule::Table(values),
        ..
    } = &table
    else {
        panic!("expected a tabled schedule, got {table}");
    };
    let reference = Schedule::Geometric { from: 4.0, to: 1.0 };
    let expected: Vec<f64> = (0..4).map(|k| reference.factor(k, 4)).collect();
    assert_eq!(values, &expected);
    // Same factors, so the same runs, bit for bit.
    let c = compile("model g { state x: real\n energy U = 0.5 * x^2 }");
    let a = run(&c.compiled, table, &[0.0], 4, 0, 2_000, 5);
    let b = run(&c.compiled, geometric, &[0.0], 4, 0, 2_000, 5);
    assert!(a
        .recorders
        .iter()
        .zip(&b.recorders)
        .all(|(x, y)| x.draws == y.draws));
    // `stage` is the 0-based stage index.
    let Method::AnnealedLangevin {
        schedule: Schedule::Table(values),
        ..
    } = annealed_from_source("1 + 3 * 0.5^stage").unwrap()
    else {
        panic!("expected a tabled schedule");
    };
    assert_eq!(values, vec![4.0, 2.5, 1.75, 1.375]);
    // A factor that is not positive at some stage is an error naming the stage.
    let err = annealed_from_source("2 - stage").unwrap_err();
    assert!(err.contains("E0402") && err.contains("at stage 2"), "{err}");
}
