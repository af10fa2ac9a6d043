//! The symbolic → lower → JIT path on hand-built models (independent of the
//! front end): JIT values against the reference evaluator, and gradients against
//! central finite differences.

use sdelang::codegen::compile;
use sdelang::lower::{lower, KernelKind};
use sdelang::model::*;
use sdelang::runtime::GibbsTarget;
use sdelang::source::Span;
use sdelang::symbolic::eval::{EvalEnv, Evaluator};
use sdelang::symbolic::{build, BuildOptions};
use std::rc::Rc;

fn span() -> Span {
    Span::default()
}

fn gauss_model(d: usize) -> Model {
    let s: Vec<f64> = (0..d).map(|i| 10f64.powf(i as f64 / (d - 1) as f64)).collect();
    let i = IndexVar(0);
    let x_i = Rc::new(Expr::StateElem(StateId(0), Index::var(i)));
    let s_i = Rc::new(Expr::ParamElem(ParamId(0), Index::var(i)));
    let ratio = Rc::new(Expr::Binary(BinaryFn::Div, x_i, s_i));
    let sq = Rc::new(Expr::Binary(BinaryFn::Pow, ratio, Rc::new(Expr::Const(2.0))));
    let sum = Rc::new(Expr::Reduce {
        op: ReduceOp::Sum,
        var: i,
        lo: Index::constant(0),
        hi: Index::constant(d as i64),
        over: Over::Range,
        body: sq,
    });
    let u = Rc::new(Expr::Binary(BinaryFn::Mul, Rc::new(Expr::Const(0.5)), sum));
    Model {
        name: "gauss".into(),
        params: vec![Param {
            name: "s".into(),
            value: ParamValue::Vector(s),
            data: false,
            span: span(),
        }],
        states: vec![State {
            name: "x".into(),
            len: Some(d),
            cols: None,
            init: None,
            span: span(),
        }],
        energy: vec![EnergyTerm {
            name: "U".into(),
            expr: u,
            span: span(),
        }],
        sdes: vec![],
        noise: None,
        index_vars: 1,
        run: RunSettings::default(),
        particles: Vec::new(),
        domain: Domain::default(),
        lists: Vec::new(),
        pairs: Vec::new(),
        observables: Vec::new(),
        exact: Vec::new(),
        span: span(),
    }
}

#[test]
fn gauss_gradient_matches_closed_form_and_evaluator() {
    let d = 50;
    let model = gauss_model(d);
    let system = build(
        &model,
        BuildOptions {
            hessian: true,
            jacobian: false,
            ..Default::default()
        },
    )
    .unwrap();
    let lowered = lower(&model, &system);
    let compiled = compile(&lowered, &[]).unwrap();
    let x: Vec<f64> = (0..d).map(|k| (k as f64 * 0.37).sin()).collect();
    let mut g = vec![0.0; d];
    let u = compiled.energy_grad(&x, &mut g);
    let s: Vec<f64> = (0..d).map(|i| 10f64.powf(i as f64 / (d - 1) as f64)).collect();
    let u_exact: f64 = 0.5 * x.iter().zip(&s).map(|(a, b)| (a / b).powi(2)).sum::<f64>();
    assert!(
        (u - u_exact).abs() < 1e-12 * u_exact.abs().max(1.0),
        "{u} vs {u_exact}"
    );
    for k in 0..d {
        let exact = x[k] / (s[k] * s[k]);
        assert!((g[k] - exact).abs() < 1e-14, "grad[{k}] = {} vs {exact}", g[k]);
    }
    // Hessian: diagonal 1/s².
    let mut h = vec![0.0; d * d];
    compiled.call(KernelKind::Hessian, &x, 0.0, &mut h).unwrap();
    for r in 0..d {
        for c in 0..d {
            let exact = if r == c { 1.0 / (s[r] * s[r]) } else { 0.0 };
            assert!((h[r * d + c] - exact).abs() < 1e-14);
        }
    }
    // Reference evaluator on the symbolic system.
    let params = vec![s.clone()];
    let offsets = vec![0usize];
    let mut ev = Evaluator::new(
        &system.arena,
        EvalEnv {
            params: &params,
            state_offsets: &offsets,
            state: &x,
            tables: &[],
            t: 0.0,
            lists: &[],
            blocks: &[],
        },
    );
    let u_ref = ev.eval(system.energy.unwrap());
    assert!((u_ref - u).abs() < 1e-12 * u.abs());
    let mut g_ref = vec![0.0; d];
    ev.run(&system.gradient, &mut g_ref);
    for k in 0..d {
        assert!((g_ref[k] - g[k]).abs() < 1e-13 * g[k].abs().max(1e-300) + 1e-300);
    }
    // The gradient stays one loop, not d statements.
    assert_eq!(sdelang::symbolic::Stmt::count(&system.gradient), 1);
}

/// A clone of a compiled model's native kernels keeps their code alive: calling it after
/// the compiled model is dropped used to read freed JIT memory.
#[test]
fn native_model_clone_outlives_the_compiled_model() {
    let d = 4;
    let model = gauss_model(d);
    let system = build(&model, BuildOptions::default()).unwrap();
    let lowered = lower(&model, &system);
    let native = {
        let compiled = compile(&lowered, &[]).unwrap();
        compiled.native().clone()
    };
    let x = vec![1.0; d];
    let mut g = vec![0.0; d];
    let u = native.energy_grad(&x, &mut g);
    let s: Vec<f64> = (0..d).map(|i| 10f64.powf(i as f64 / (d - 1) as f64)).collect();
    let want: f64 = 0.5 * s.iter().map(|b| (1.0 / b).powi(2)).sum::<f64>();
    assert!((u - want).abs() < 1e-12, "{u} vs {want}");
}
