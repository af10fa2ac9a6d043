//! Symbolic derivatives against central finite differences, and the JIT's
//! values against the independent reference evaluator, for a table of energies
//! covering every builtin, indexed sums and products, user functions, lets and
//! `if` branches. One line per case.

use sdelang::lower::KernelKind;
use sdelang::model::Model;
use sdelang::pipeline::{compile_source, Compilation, CompileOptions};
use sdelang::runtime::GibbsTarget;
use sdelang::source::SourceMap;
use sdelang::symbolic::eval::{EvalEnv, Evaluator};
use sdelang::symbolic::BuildOptions;

const PRELUDE: &str =
    "param a = 1.3\nparam v: real[3] = [0.5, -1, 2]\nfn sq(z) = z * z\nfn quad(p, q) = p^2 + p * q\n";

fn compile(energy: &str) -> Compilation {
    let text = format!("{PRELUDE}model m {{\n  state x: real[3]\n  energy U = {energy}\n}}\n");
    let mut sources = SourceMap::new();
    let id = sources.add("case.sde", None, text);
    let options = CompileOptions {
        build: BuildOptions {
            hessian: true,
            jacobian: false,
            ..Default::default()
        },
        ..CompileOptions::default()
    };
    match compile_source(sources, id, None, &options) {
        Ok(c) => c,
        Err(f) => panic!("{}", sdelang::render::render(&f.diagnostics, &f.sources, false)),
    }
}

fn params(model: &Model) -> Vec<Vec<f64>> {
    model.params.iter().map(|p| p.value.flat()).collect()
}

/// A deterministic point in [0.55, 1.45]³ (inside every builtin's domain).
fn point(k: usize) -> Vec<f64> {
    (0..3)
        .map(|i| 0.55 + 0.9 * (((k * 7 + i * 13 + 3) as f64 * 0.618_033_988_7).fract()))
        .collect()
}

fn close(a: f64, b: f64, rel: f64, abs: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()) + abs
}

fn check(name: &str, energy: &str) {
    let c = compile(energy);
    let m = &c.compiled;
    let n = 3;
    let p = params(&c.model);
    let offsets = c.model.state_offsets();
    for k in 0..3 {
        let x = point(k);
        let mut g = vec![0.0; n];
        let u = m.energy_grad(&x, &mut g);
        assert!(u.is_finite(), "{name}: U not finite at {x:?}");
        // JIT against the reference evaluator.
        let mut ev = Evaluator::new(
            &c.system.arena,
            EvalEnv {
                params: &p,
                state_offsets: &offsets,
                state: &x,
                tables: &[],
                t: 0.0,
                lists: &[],
                blocks: &[],
            },
        );
        let u_ref = ev.eval(c.system.energy.unwrap());
        assert!(
            close(u, u_ref, 1e-12, 1e-14),
            "{name}: JIT U {u} vs reference {u_ref}"
        );
        let mut g_ref = vec![0.0; n];
        ev.run(&c.system.gradient, &mut g_ref);
        let mut h_ref = vec![0.0; n * n];
        ev.run(c.system.hessian.as_ref().unwrap(), &mut h_ref);
        let mut h = vec![0.0; n * n];
        m.call(KernelKind::Hessian, &x, 0.0, &mut h).unwrap();
        for i in 0..n {
            assert!(
                close(g[i], g_ref[i], 1e-11, 1e-13),
                "{name}: JIT grad[{i}] {} vs reference {}",
                g[i],
                g_ref[i]
            );
            // Gradient against central differences of the energy.
            let e = 1e-5;
            let (mut xp, mut xm) = (x.clone(), x.clone());
            xp[i] += e;
            xm[i] -= e;
            let fd = (m.energy(&xp) - m.energy(&xm)) / (2.0 * e);
            assert!(
                close(g[i], fd, 1e-6, 1e-7),
                "{name}: grad[{i}] {} vs finite difference {fd} at {x:?}",
                g[i]
            );
            // Hessian row i against central differences of the gradient.
            let (mut gp, mut gm) = (vec![0.0; n], vec![0.0; n]);
            m.grad(&xp, &mut gp);
            m.grad(&xm, &mut gm);
            for j in 0..n {
                let fd = (gp[j] - gm[j]) / (2.0 * e);
                let hij = h[i * n + j];
                assert!(
                    close(hij, fd, 1e-5, 1e-6),
                    "{name}: H[{i},{j}] {hij} vs finite difference {fd}"
                );
                assert!(
                    close(hij, h_ref[i * n + j], 1e-11, 1e-12),
                    "{name}: JIT H[{i},{j}] vs reference"
                );
            }
        }
    }
}

macro_rules! cases {
    ($($name:ident: $src:expr;)*) => {
        $(#[test] fn $name() { check(stringify!($name), $src); })*
        /// Number of cases in the table.
        const CASES: usize = [$(stringify!($name)),*].len();
    };
}

cases! {
    powers: "x[0]^2 + x[1]^3 + x[2]^4";
    exp_sin_cos: "exp(x[0]) * sin(x[1]) + cos(x[2])";
    logs: "log(x[0]) + log1p(x[1]) + expm1(x[2])";
    roots: "sqrt(x[0]) + cbrt(x[1]) * x[2]";
    tan_tanh: "tan(x[0]) + tanh(x[1] * x[2])";
    atan2_fn: "atan2(x[0], x[1]) + x[2]";
    abs_fn: "abs(x[0] - 2) * x[1] + abs(x[2])";
    min_max: "min(x[0], 2 * x[1]) + max(x[1], 3 * x[2])";
    sigmoid_softplus: "sigmoid(x[0]) * softplus(x[1] - x[2])";
    erf_fn: "erf(x[0]) + erf(x[1] * x[2])";
    logsumexp_args: "logsumexp(x[0], 2 * x[1], x[2])";
    logsumexp_vec: "logsumexp(x)";
    norm_fn: "norm(x)";
    dot_fn: "dot(x, v) * x[0]";
    weighted_sum: "sum(i in 0..3, v[i] * x[i]^2)";
    product: "prod(i in 0..3, x[i])";
    pair_sum: "sum(i in 0..3, sum(j in 0..3, exp(-(x[i] - x[j])^2)))";
    rosenbrock_chain: "sum(i in 0..2, (x[i + 1] - x[i]^2)^2)";
    loop_invariant_mean: "sum(i in 0..3, (x[i] - mean(x))^2) + mean(x)^2";
    if_then: "if x[0] > 0 then x[1]^2 * x[0] else x[2]";
    if_else: "if x[0] < 0 then x[1] else x[2]^3 * x[1]";
    user_fn: "sq(x[0]) + sq(sq(x[1])) * x[2]";
    user_fn_two_args: "quad(x[0], x[1] * x[2])";
    let_in: "let r = x[0]^2 + x[1]^2 in exp(-r) + r * x[2]";
    param_exponent: "x[0]^a + a^x[1] + x[2]";
    state_exponent: "x[0]^x[1] + x[2]";
    quotients: "1 / (1 + x[0]^2) + x[1] / x[2]";
    softplus_sum: "sum(i in 0..3, log(1 + exp(a * x[i])))";
    vector_max_min: "max(x) * 2 + min(x)";
    mean_cubed: "mean(x)^3";
    index_weights: "sum(i in 0..3, (i + 1) * x[i]^2)";
    prod_shifted: "prod(i in 0..3, 1 + x[i]^2)";
    neg_log_sum_exp: "-log(sum(i in 0..3, exp(-x[i] * v[i])))";
    mixed: "(x[0] - x[1])^2 * tanh(x[2]) + sigmoid(-x[0] * x[2])";
    triangular_loop: "sum(i in 1..3, sum(j in 0..i, x[i] * x[j]))";
    // sums over one range, side by side and nested, run as one loop
    fused_sums: "sum(i in 0..3, x[i]^2) + sum(k in 0..3, sum(j in 0..3, x[k] * x[j] / (1 + x[j]^2))) + sum(m in 0..3, cos(x[m]))";
    // a cutoff test picks without a branch; quotients by powers share one reciprocal
    cutoff_mask: "let s = x[0]^2 + x[1]^2 + 1 in if s < 4 then 1 / s^3 - 2 / s^6 + 0.1 * s else x[2] * s";
    smooth_norm: "sqrt(x[0]^2 + x[1]^2 + x[2]^2 + 1)";
    vector_arith: "sum(i in 0..3, (2 * x + v)[i]^2) + norm(x - v)";
    chol_two: "let L = chol([[x[0]^2 + 1, x[1] / 2], [x[1] / 2, x[2]^2 + 1]]) in L[0, 0] + L[1, 0] * x[2] + L[1, 1]^2";
    chol_three: "let L = chol([[4, x[0], x[1]], [x[0], 5, x[2]], [x[1], x[2], 6]]) in sum(i in 0..3, sum(j in 0..3, L[i, j] * x[j]))";
    matrix_products: "dot(x, matvec(outer(v, x) + transpose(outer(x, v)), x)) + trace(outer(x, x))";
}

/// `chol` of matrices with known integer factors, read back as the drift of
/// `dL = chol(M) dt` over a matrix state.
#[test]
fn chol_of_known_matrices() {
    use sdelang::runtime::SdeSystem;
    let cases: [(&str, &[f64]); 3] = [
        ("[[4, 2], [2, 5]]", &[2.0, 0.0, 1.0, 2.0]),
        (
            "[[4, 12, -16], [12, 37, -43], [-16, -43, 98]]",
            &[2.0, 0.0, 0.0, 6.0, 1.0, 0.0, -8.0, 5.0, 3.0],
        ),
        // only the lower triangle is read
        ("[[9, 100], [3, 2]]", &[3.0, 0.0, 1.0, 1.0]),
    ];
    for (m, want) in cases {
        let k = (want.len() as f64).sqrt() as usize;
        let text = format!("model m {{\n  state L: real[{k}, {k}]\n  dL = chol({m}) dt\n}}\n");
        let mut sources = SourceMap::new();
        let id = sources.add("chol.sde", None, text);
        let c = compile_source(sources, id, None, &CompileOptions::default())
            .unwrap_or_else(|f| panic!("{}", sdelang::render::render(&f.diagnostics, &f.sources, false)));
        let n = want.len();
        let (mut drift, mut g) = (vec![0.0; n], vec![0.0; n]);
        c.compiled.drift_diffusion(&vec![0.0; n], 0.0, &mut drift, &mut g);
        for (got, w) in drift.iter().zip(want) {
            assert!(
                close(*got, *w, 1e-15, 1e-15),
                "chol({m}) = {drift:?}, want {want:?}"
            );
        }
    }
}

// The table must keep at least 30 cases (checked at compile time).
const _: () = assert!(CASES >= 30);
