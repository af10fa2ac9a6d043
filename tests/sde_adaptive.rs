//! Adaptive time stepping against fixed steps of equal accuracy, save times, and
//! recorded components.
//!
//! The test problem has a fast transient and a slow tail: the Stratonovich SDE
//! dx = −λ(t) x dt + σ x ∘ dW with λ(t) = 1 + 50 e^(−10t), whose solution is
//! x(T) = x₀ exp(−Λ(T) + σW_T), Λ(T) = T + 5(1 − e^(−10T)). A second state
//! `dw = dW` driven by the same declared noise carries W_T, so the error of every
//! path is known exactly. The base scheme is stochastic Heun.

use sdelang::pipeline::{compile_source, Compilation, CompileOptions};
use sdelang::runtime::{
    run_sde_with, AdaptiveBase, MemoryRecorder, Method, RunConfig, RunOutput, Save, SdeOptions,
};
use sdelang::source::SourceMap;

const T: f64 = 2.0;
const SIGMA: f64 = 0.5;
const PATHS: usize = 400;

fn compile(text: &str) -> Compilation {
    let mut sources = SourceMap::new();
    let id = sources.add("test.sde", None, text.to_string());
    compile_source(sources, id, None, &CompileOptions::default())
        .unwrap_or_else(|f| panic!("{}", sdelang::render::render(&f.diagnostics, &f.sources, false)))
}

fn model() -> Compilation {
    compile(&format!(
        "model stiff {{\n  state x: real = 1\n  state w: real = 0\n  noise W: real\n  \
         stratonovich dx = -(1 + 50 * exp(-10 * t)) * x dt + {SIGMA} * x dW\n  dw = dW\n}}\n"
    ))
}

fn exact(w: f64) -> f64 {
    (-(T + 5.0 * (1.0 - (-10.0 * T).exp())) + SIGMA * w).exp()
}

fn run(c: &Compilation, method: Method, save: Save) -> RunOutput<MemoryRecorder> {
    let config = RunConfig {
        method,
        chains: PATHS,
        warmup: 0,
        steps: 1,
        thin: 1,
        seed: 3,
        temperature: 1.0,
        t0: 0.0,
        stop_all_on_nonfinite: false,
        init_draws: Vec::new(),
    };
    let options = SdeOptions {
        t_end: Some(T),
        save,
        record: None,
    };
    run_sde_with(&c.compiled, &[1.0, 0.0], &config, &options, |_| {
        Ok(MemoryRecorder::default())
    })
    .unwrap_or_else(|e| panic!("{e}"))
}

/// Mean relative error |x(T) − exact|/exact and mean step attempts per path.
fn error_and_steps(c: &Compilation, method: Method) -> (f64, f64) {
    let out = run(c, method, Save::At(vec![T]));
    let err = out
        .recorders
        .iter()
        .map(|r| {
            let want = exact(r.draws[0][1]);
            (r.draws[0][0] - want).abs() / want
        })
        .sum::<f64>()
        / PATHS as f64;
    let steps = out.reports.iter().map(|r| r.sampling_steps as f64).sum::<f64>() / PATHS as f64;
    (err, steps)
}

#[test]
fn adaptive_needs_fewer_steps_than_fixed_steps_of_equal_accuracy() {
    let c = model();
    // Fixed steps: error against the number of steps, fitted on a log-log line.
    let fixed: Vec<(f64, f64)> = [128usize, 256, 512, 1024, 2048]
        .iter()
        .map(|n| error_and_steps(&c, Method::Heun { dt: T / *n as f64 }))
        .collect();
    for (e, n) in &fixed {
        eprintln!("fixed    steps {n:7.1}  error {e:.3e}");
    }
    // Steps of equal error: log-log interpolation between the bracketing fixed runs.
    let steps_for = |err: f64| -> f64 {
        let pair = fixed.windows(2).find(|w| w[0].0 >= err && err >= w[1].0);
        let [(e0, n0), (e1, n1)] = pair.map_or([fixed[0], fixed[1]], |w| [w[0], w[1]]);
        let q = (err.ln() - e0.ln()) / (e1.ln() - e0.ln());
        (n0.ln() + q * (n1.ln() - n0.ln())).exp()
    };
    let mut last_err = f64::INFINITY;
    for tol in [1e-2, 1e-3, 1e-4] {
        let method = Method::Adaptive {
            scheme: AdaptiveBase::Heun,
            dt: 0.01,
            abstol: 1e-3 * tol,
            reltol: tol,
            dt_min: 1e-8,
            dt_max: 0.5,
        };
        let (err, attempts) = error_and_steps(&c, method);
        let equal = steps_for(err);
        let ratio = equal / attempts;
        eprintln!(
            "adaptive reltol {tol:.0e}  attempts {attempts:7.1}  error {err:.3e}  fixed steps of equal error {equal:7.1}  \
             step ratio {ratio:.2}  evaluation ratio {:.2}",
            ratio / 3.0
        );
        assert!(err < last_err, "error {err} did not shrink with the tolerance");
        // Fewer steps, and fewer evaluations too (an attempt costs three base steps).
        assert!(
            ratio > 3.0,
            "tol {tol}: adaptive {attempts} attempts vs {equal} fixed steps"
        );
        last_err = err;
    }
}

#[test]
fn save_times_are_hit_exactly_and_paths_agree_with_fixed_grid_records() {
    let c = model();
    // Save times off the grid: the path steps onto each of them.
    let times = vec![0.0, 0.013, 0.5, 1.25, T];
    let out = run(&c, Method::Heun { dt: 0.01 }, Save::At(times.clone()));
    for r in &out.recorders {
        assert_eq!(r.times, times);
        assert_eq!(r.draws[0], vec![1.0, 0.0]);
    }
    let every = run(&c, Method::EulerMaruyama { dt: 0.01 }, Save::Every(0.25));
    let want: Vec<f64> = (0..=8).map(|k| k as f64 * 0.25).collect();
    assert_eq!(every.recorders[0].times, want);
    // Adaptive runs hit save times too.
    let method = Method::Adaptive {
        scheme: AdaptiveBase::EulerMaruyama,
        dt: 0.1,
        abstol: 1e-2,
        reltol: 1e-2,
        dt_min: 1e-8,
        dt_max: 1.0,
    };
    let adaptive = run(&c, method, Save::At(times.clone()));
    assert_eq!(adaptive.recorders[0].times, times);
}

#[test]
fn record_subset_and_bitwise_identical_across_thread_counts() {
    let c = model();
    let method = Method::Adaptive {
        scheme: AdaptiveBase::Heun,
        dt: 0.05,
        abstol: 1e-3,
        reltol: 1e-3,
        dt_min: 1e-8,
        dt_max: 1.0,
    };
    let go = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let config = RunConfig {
                method: method.clone(),
                chains: 6,
                warmup: 0,
                steps: 1,
                thin: 1,
                seed: 9,
                temperature: 1.0,
                t0: 0.0,
                stop_all_on_nonfinite: false,
                init_draws: Vec::new(),
            };
            let options = SdeOptions {
                t_end: Some(T),
                save: Save::Every(0.5),
                record: Some(vec![1]),
            };
            let out = run_sde_with(&c.compiled, &[1.0, 0.0], &config, &options, |_| {
                Ok(MemoryRecorder::default())
            })
            .unwrap();
            out.recorders.into_iter().map(|r| r.draws).collect::<Vec<_>>()
        })
    };
    let one = go(1);
    assert!(one.iter().all(|d| d.iter().all(|x| x.len() == 1)));
    assert_eq!(one, go(3));
}
