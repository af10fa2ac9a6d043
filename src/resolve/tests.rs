//! Unit tests of the checker on hand-built syntax trees.

use super::*;
use crate::model::{BinaryFn, Expr, Index, ReduceOp, SdeComponents, UnaryFn};
use crate::source::SourceId;
use crate::syntax::ast::{
    BinOp, CallArg, EnergyDecl, ExprKind, FnDecl, Ident, LetDecl, ModelDecl, ModelItem, NoiseTerm, ParamDecl,
    Program, RunBlock, RunItem, SdeEquation, StateDecl, TypeExpr, UnOp, UseDecl, UseTarget,
};
use std::cell::Cell;
use std::rc::Rc;

thread_local!(static POS: Cell<usize> = const { Cell::new(0) });

/// A fresh span, later than every earlier one.
fn sp() -> Span {
    POS.with(|p| {
        let s = p.get();
        p.set(s + 10);
        Span::new(SourceId(0), s, s + 5)
    })
}
fn id(s: &str) -> Ident {
    Ident {
        name: s.into(),
        span: sp(),
    }
}
fn ex(kind: ExprKind) -> ast::Expr {
    ast::Expr { kind, span: sp() }
}
fn int(i: i64) -> ast::Expr {
    ex(ExprKind::Int(i))
}
fn real(x: f64) -> ast::Expr {
    ex(ExprKind::Real(x))
}
fn n(s: &str) -> ast::Expr {
    ex(ExprKind::Name(s.into()))
}
fn bin(op: BinOp, a: ast::Expr, b: ast::Expr) -> ast::Expr {
    ex(ExprKind::Binary(op, Box::new(a), Box::new(b)))
}
fn neg(a: ast::Expr) -> ast::Expr {
    ex(ExprKind::Unary(UnOp::Neg, Box::new(a)))
}
fn at(v: ast::Expr, i: ast::Expr) -> ast::Expr {
    ex(ExprKind::Index(Box::new(v), Box::new(i)))
}
fn call(f: &str, args: Vec<ast::Expr>) -> ast::Expr {
    let func = id(f);
    ex(ExprKind::Call {
        func,
        args: args.into_iter().map(CallArg::Positional).collect(),
    })
}
fn named(f: &str, args: Vec<(&str, ast::Expr)>) -> ast::Expr {
    let func = id(f);
    ex(ExprKind::Call {
        func,
        args: args.into_iter().map(|(k, v)| CallArg::Named(id(k), v)).collect(),
    })
}
fn red(f: &str, var: &str, lo: ast::Expr, hi: ast::Expr, body: ast::Expr) -> ast::Expr {
    let func = id(f);
    let binder = CallArg::Binder {
        var: id(var),
        lo,
        hi,
        span: sp(),
    };
    ex(ExprKind::Call {
        func,
        args: vec![binder, CallArg::Positional(body)],
    })
}
fn vecl(items: Vec<ast::Expr>) -> ast::Expr {
    ex(ExprKind::Vector(items))
}
fn param(name: &str, ty: Option<TypeExpr>, default: Option<ast::Expr>) -> Vec<ParamDecl> {
    vec![ParamDecl {
        name: id(name),
        ty,
        default,
        data: None,
        span: sp(),
    }]
}
fn p(name: &str, default: ast::Expr) -> Item {
    Item::Param(param(name, None, Some(default)))
}
fn vty(len: ast::Expr) -> TypeExpr {
    TypeExpr::Array {
        int: false,
        dims: vec![len],
        span: sp(),
    }
}
fn state(name: &str, ty: TypeExpr, init: Option<ast::Expr>) -> ModelItem {
    ModelItem::State(StateDecl {
        name: id(name),
        ty,
        init,
        span: sp(),
    })
}
fn energy(name: &str, value: ast::Expr) -> ModelItem {
    ModelItem::Energy(EnergyDecl {
        name: id(name),
        value,
        span: sp(),
    })
}
fn fndecl(name: &str, params: &[&str], body: ast::Expr) -> FnDecl {
    FnDecl {
        name: id(name),
        params: params.iter().map(|s| id(s)).collect(),
        body,
        span: sp(),
    }
}
fn letd(name: &str, value: ast::Expr) -> LetDecl {
    LetDecl {
        name: id(name),
        value,
        span: sp(),
    }
}
fn sde(
    lhs: &str,
    index: Option<&str>,
    drift: Option<ast::Expr>,
    noise: Option<(ast::Expr, Option<&str>)>,
) -> ModelItem {
    let lhs = id(lhs);
    let index = index.map(id);
    let noise = noise.map(|(coeff, i)| NoiseTerm {
        coeff,
        index: i.map(id),
        dw_span: sp(),
        span: sp(),
    });
    ModelItem::Sde(SdeEquation {
        convention: None,
        lhs,
        index,
        drift,
        noise,
        langevin: None,
        span: sp(),
    })
}
fn model(name: &str, items: Vec<ModelItem>) -> Item {
    Item::Model(ModelDecl {
        name: id(name),
        items,
        span: sp(),
    })
}
fn run(items: Vec<(&str, ast::Expr)>) -> Item {
    let items = items
        .into_iter()
        .map(|(k, v)| match k.strip_prefix("init ") {
            Some(s) => RunItem::Init {
                name: id(s),
                value: v,
                span: sp(),
            },
            None => RunItem::Setting {
                name: id(k),
                value: v,
                span: sp(),
            },
        })
        .collect();
    Item::Run(RunBlock { items, span: sp() })
}

fn check_items(items: Vec<Item>, overrides: &[ParamOverride]) -> Result<Model, Vec<Diagnostic>> {
    let program = Program { items };
    let mut sources = SourceMap::new();
    check(CheckInput {
        data: None,
        program: &program,
        sources: &mut sources,
        stdlib_dir: None,
        base_dir: None,
        overrides,
        model_name: None,
    })
}
fn ok(items: Vec<Item>) -> Model {
    match check_items(items, &[]) {
        Ok(m) => m,
        Err(d) => panic!("unexpected errors: {d:#?}"),
    }
}
fn codes(items: Vec<Item>) -> Vec<&'static str> {
    errs(items).iter().map(|d| d.code).collect()
}
fn errs(items: Vec<Item>) -> Vec<Diagnostic> {
    match check_items(items, &[]) {
        Ok(m) => panic!("expected errors, got {m:#?}"),
        Err(d) => d,
    }
}
fn sq(e: ast::Expr) -> ast::Expr {
    bin(BinOp::Pow, e, int(2))
}
/// `model m { state x: real[len]; energy U = <e> }`
fn vec_energy(len: i64, e: ast::Expr) -> Vec<Item> {
    vec![model("m", vec![state("x", vty(int(len)), None), energy("U", e)])]
}

#[test]
fn double_well() {
    let u = bin(BinOp::Mul, n("beta"), sq(bin(BinOp::Sub, sq(n("x")), int(1))));
    let m = ok(vec![
        p("beta", real(4.0)),
        model("dw", vec![state("x", TypeExpr::Real(sp()), None), energy("U", u)]),
    ]);
    assert_eq!(m.name, "dw");
    assert_eq!(m.params[0].value, ParamValue::Real(4.0));
    assert!(m.is_gibbs());
    assert_eq!(m.states[0].len, None);
    let Expr::Binary(BinaryFn::Mul, a, b) = &*m.energy[0].expr else {
        panic!("{:?}", m.energy[0].expr)
    };
    assert_eq!(**a, Expr::Param(crate::model::ParamId(0)));
    let Expr::Binary(BinaryFn::Pow, _, two) = &**b else {
        panic!()
    };
    assert_eq!(**two, Expr::Const(2.0));
}

#[test]
fn gauss_1k_with_logspace() {
    let body = sq(bin(BinOp::Div, at(n("x"), n("i")), at(n("s"), n("i"))));
    let u = bin(BinOp::Mul, real(0.5), red("sum", "i", int(0), n("d"), body));
    let m = ok(vec![
        p("d", int(1000)),
        Item::Param(param(
            "s",
            Some(vty(n("d"))),
            Some(call("logspace", vec![int(0), int(1), n("d")])),
        )),
        model("gauss", vec![state("x", vty(n("d")), None), energy("U", u)]),
    ]);
    assert_eq!(m.params[0].value, ParamValue::Int(1000));
    let ParamValue::Vector(s) = &m.params[1].value else {
        panic!()
    };
    assert_eq!(s.len(), 1000);
    assert!((s[0] - 1.0).abs() < 1e-12 && (s[999] - 10.0).abs() < 1e-12);
    assert_eq!(m.states[0].len, Some(1000));
    assert_eq!(m.index_vars, 1);
    let Expr::Binary(BinaryFn::Mul, _, r) = &*m.energy[0].expr else {
        panic!()
    };
    let Expr::Reduce {
        op: ReduceOp::Sum,
        lo,
        hi,
        ..
    } = &**r
    else {
        panic!("{r:?}")
    };
    assert_eq!((lo, hi), (&Index::constant(0), &Index::constant(1000)));
}

#[test]
fn gbm_and_run_settings() {
    let m = ok(vec![
        model(
            "gbm",
            vec![
                ModelItem::Param(
                    [
                        param("mu", None, Some(real(0.05))),
                        param("sigma", None, Some(real(0.2))),
                    ]
                    .concat(),
                ),
                state("S", TypeExpr::Real(sp()), Some(real(1.0))),
                sde(
                    "dS",
                    None,
                    Some(bin(BinOp::Mul, n("mu"), n("S"))),
                    Some((bin(BinOp::Mul, n("sigma"), n("S")), None)),
                ),
            ],
        ),
        run(vec![
            ("method", named("euler_maruyama", vec![("dt", real(0.01))])),
            ("steps", int(100)),
            ("chains", int(4)),
            ("init S", real(2.0)),
        ]),
    ]);
    assert_eq!(m.sdes.len(), 1);
    assert_eq!(m.sdes[0].components, SdeComponents::Scalar);
    assert_eq!(m.states[0].init, Some(vec![1.0]));
    assert_eq!(m.run.steps, Some(100));
    assert_eq!(m.run.chains, Some(4));
    assert_eq!(m.run.init, vec![(crate::model::StateId(0), vec![2.0])]);
    let method = m.run.method.as_ref().unwrap();
    assert_eq!(method.kind, crate::model::MethodKind::EulerMaruyama);
    assert_eq!(method.arg("dt"), Some(0.01));
}

fn ou(drift_index: ast::Expr, noise_index: Option<&str>) -> Vec<Item> {
    vec![
        p("d", int(3)),
        model(
            "ou",
            vec![
                state("x", vty(n("d")), Some(int(0))),
                sde(
                    "dx",
                    Some("i"),
                    Some(neg(at(n("x"), drift_index))),
                    Some((real(0.5), noise_index)),
                ),
            ],
        ),
    ]
}

#[test]
fn ou_with_components() {
    let m = ok(ou(n("i"), Some("i")));
    let SdeComponents::Each(var) = m.sdes[0].components else {
        panic!()
    };
    assert_eq!(
        *m.sdes[0].drift,
        Expr::Unary(
            UnaryFn::Neg,
            Rc::new(Expr::StateElem(crate::model::StateId(0), Index::var(var)))
        )
    );
    assert_eq!(*m.sdes[0].diffusion, Expr::Const(0.5));
    assert_eq!(m.states[0].init, Some(vec![0.0; 3]));
}

#[test]
fn loop_index_out_of_range() {
    let d = errs(ou(bin(BinOp::Add, n("i"), int(1)), Some("i")));
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].code, "E0203");
    assert!(d[0].message.contains("1..=3"), "{}", d[0].message);
}

#[test]
fn noise_index_mismatch() {
    assert_eq!(codes(ou(n("i"), Some("j"))), ["E0304"]);
    // `dx[i] = … dW`: one Wiener process shared by every component.
    let m = ok(ou(n("i"), None));
    assert_eq!(m.sdes[0].noise, crate::model::NoiseKind::Shared);
}

#[test]
fn vector_sde_form_and_overrides() {
    let items = || {
        vec![
            p("d", int(3)),
            model(
                "ou",
                vec![
                    state("x", vty(n("d")), None),
                    sde("dx", None, Some(neg(n("x"))), Some((real(1.0), None))),
                ],
            ),
        ]
    };
    let m = ok(items());
    assert!(matches!(m.sdes[0].components, SdeComponents::Each(_)));
    let over = [ParamOverride {
        name: "d".into(),
        value: int(7),
        span: sp(),
    }];
    let m = check_items(items(), &over).unwrap();
    assert_eq!(m.states[0].len, Some(7));
    let bad = [ParamOverride {
        name: "dd".into(),
        value: int(7),
        span: sp(),
    }];
    let d = check_items(items(), &bad).unwrap_err();
    assert_eq!(d[0].code, "E0502");
    assert_eq!(d[0].help.as_deref(), Some("did you mean `d`?"));
}

#[test]
fn norm_desugars_to_sqrt_of_sum() {
    let m = ok(vec_energy(4, call("norm", vec![n("x")])));
    let Expr::Unary(UnaryFn::Sqrt, s) = &*m.energy[0].expr else {
        panic!()
    };
    let Expr::Reduce {
        op: ReduceOp::Sum,
        var,
        body,
        ..
    } = &**s
    else {
        panic!()
    };
    let want = Expr::Binary(
        BinaryFn::Pow,
        Rc::new(Expr::StateElem(crate::model::StateId(0), Index::var(*var))),
        Rc::new(Expr::Const(2.0)),
    );
    assert_eq!(**body, want);
}

#[test]
fn logsumexp_uses_nograd_max() {
    let m = ok(vec_energy(3, call("logsumexp", vec![n("x")])));
    let Expr::Binary(BinaryFn::Add, mx, _) = &*m.energy[0].expr else {
        panic!()
    };
    let Expr::NoGrad(r) = &**mx else { panic!() };
    assert!(matches!(
        **r,
        Expr::Reduce {
            op: ReduceOp::Max,
            ..
        }
    ));
    assert_eq!(m.index_vars, 2);
}

#[test]
fn builtins_and_vectors() {
    // dot, mean, max of scalars, elementwise with broadcast, literal indexing, fns, lets
    let e = bin(
        BinOp::Add,
        call("dot", vec![n("x"), bin(BinOp::Mul, int(2), n("x"))]),
        bin(
            BinOp::Add,
            call(
                "max",
                vec![real(1.0), at(n("x"), int(0)), call("mean", vec![n("x")])],
            ),
            call("f", vec![at(vecl(vec![int(1), int(2), int(3)]), int(2))]),
        ),
    );
    let m = ok(vec![
        Item::Fn(fndecl("f", &["a"], call("softplus", vec![n("a")]))),
        model("m", vec![state("x", vty(int(3)), None), energy("U", e)]),
    ]);
    assert_eq!(m.index_vars, 2);
    let Expr::Binary(BinaryFn::Add, _, rest) = &*m.energy[0].expr else {
        panic!()
    };
    let Expr::Binary(BinaryFn::Add, mx, f) = &**rest else {
        panic!()
    };
    assert!(matches!(**mx, Expr::Binary(BinaryFn::Max, _, _)));
    // softplus(3) is folded at compile time
    assert!(matches!(**f, Expr::Const(v) if (v - 3.048_587_351_573_742).abs() < 1e-12));
}

#[test]
fn lets_are_shared_not_copied() {
    let m = ok(vec![model(
        "m",
        vec![
            state("x", TypeExpr::Real(sp()), None),
            ModelItem::Let(letd("a", call("exp", vec![n("x")]))),
            energy("U", bin(BinOp::Add, n("a"), n("a"))),
        ],
    )]);
    let Expr::Binary(_, a, b) = &*m.energy[0].expr else {
        panic!()
    };
    assert!(Rc::ptr_eq(a, b));
}

#[test]
fn params_evaluate_in_dependency_order() {
    let m = ok(vec![
        p("b", bin(BinOp::Mul, n("a"), int(2))),
        p("a", red("sum", "i", int(0), int(4), n("i"))),
        p("c", call("linspace", vec![int(0), int(1), int(3)])),
        model(
            "m",
            vec![state("x", TypeExpr::Real(sp()), None), energy("U", sq(n("x")))],
        ),
    ]);
    assert_eq!(m.params[0].value, ParamValue::Real(12.0));
    assert_eq!(m.params[1].value, ParamValue::Real(6.0));
    assert_eq!(m.params[2].value, ParamValue::Vector(vec![0.0, 0.5, 1.0]));
}

#[test]
fn unknown_name_suggests() {
    let d = errs(vec_energy(2, call("norm", vec![n("xx")])));
    assert_eq!(d[0].code, "E0101");
    assert_eq!(d[0].help.as_deref(), Some("did you mean `x`?"));
}

#[test]
fn duplicate_definition_labels_both() {
    let d = errs(vec![
        p("a", int(1)),
        p("a", int(2)),
        model(
            "m",
            vec![state("x", TypeExpr::Real(sp()), None), energy("U", n("x"))],
        ),
    ]);
    assert_eq!(d[0].code, "E0102");
    assert_eq!(d[0].labels.len(), 2);
}

#[test]
fn shape_errors() {
    assert_eq!(
        codes(vec_energy(
            2,
            bin(BinOp::Add, n("x"), vecl(vec![int(1), int(2), int(3)]))
        )),
        ["E0202"]
    );
    assert_eq!(codes(vec_energy(2, n("x"))), ["E0201"]);
    assert_eq!(codes(vec_energy(2, at(n("x"), int(2)))), ["E0203"]);
    assert_eq!(codes(vec_energy(2, at(n("x"), real(1.0)))), ["E0204"]);
    let ii = red(
        "sum",
        "i",
        int(0),
        int(2),
        at(n("x"), bin(BinOp::Mul, n("i"), n("i"))),
    );
    assert_eq!(codes(vec_energy(2, ii)), ["E0205"]);
    assert_eq!(codes(vec_energy(2, call("exp", vec![int(1), int(2)]))), ["E0105"]);
    let cond_as_real = bin(BinOp::Add, bin(BinOp::Lt, at(n("x"), int(0)), int(1)), int(1));
    assert_eq!(codes(vec_energy(2, cond_as_real)), ["E0207"]);
}

#[test]
fn several_errors_in_one_pass_sorted() {
    let e = bin(BinOp::Add, n("y"), call("nrm", vec![n("x")]));
    let d = errs(vec_energy(2, e));
    assert_eq!(d.iter().map(|d| d.code).collect::<Vec<_>>(), ["E0101", "E0104"]);
    assert_eq!(d[1].help.as_deref(), Some("did you mean `norm`?"));
}

#[test]
fn recursion_is_reported_with_cycle() {
    let d = errs(vec![
        Item::Fn(fndecl("f", &["a"], call("g", vec![n("a")]))),
        Item::Fn(fndecl("g", &["a"], call("f", vec![n("a")]))),
        model(
            "m",
            vec![
                state("x", TypeExpr::Real(sp()), None),
                energy("U", call("f", vec![n("x")])),
            ],
        ),
    ]);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].code, "E0103");
    assert!(d[0].labels[0].message.contains("f → g → f"), "{:?}", d[0].labels);
}

#[test]
fn node_budget_stops_exponential_inlining() {
    let mut items = vec![Item::Fn(fndecl("f0", &["a"], bin(BinOp::Add, n("a"), n("a"))))];
    for k in 1..40 {
        let inner = || call(&format!("f{}", k - 1), vec![n("a")]);
        items.push(Item::Fn(fndecl(
            &format!("f{k}"),
            &["a"],
            bin(BinOp::Mul, inner(), inner()),
        )));
    }
    items.push(model(
        "m",
        vec![
            state("x", TypeExpr::Real(sp()), None),
            energy("U", call("f39", vec![n("x")])),
        ],
    ));
    assert_eq!(codes(items), ["E0208"]);
}

#[test]
fn model_rules() {
    let r = || TypeExpr::Real(sp());
    let c = codes(vec![model(
        "m",
        vec![
            state("x", r(), None),
            state("y", r(), None),
            energy("U", sq(n("x"))),
        ],
    )]);
    assert_eq!(c, ["E0302"]);
    let c = codes(vec![model(
        "m",
        vec![state("x", r(), None), sde("dz", None, Some(int(1)), None)],
    )]);
    assert_eq!(c, ["E0301"]);
    let c = codes(vec![model(
        "m",
        vec![
            state("x", r(), None),
            state("y", r(), None),
            sde("dx", None, Some(int(1)), None),
        ],
    )]);
    assert_eq!(c, ["E0302"]);
    let c = codes(vec![model(
        "m",
        vec![
            state("x", r(), None),
            sde("dx", None, Some(int(1)), None),
            sde("dx", None, Some(int(2)), None),
        ],
    )]);
    assert_eq!(c, ["E0303"]);
    assert_eq!(codes(vec![p("a", int(1))]), ["E0305"]);
    let two = || model("m", vec![state("x", r(), None), energy("U", n("x"))]);
    let mut second = two();
    if let Item::Model(m) = &mut second {
        m.name.name = "m2".into();
    }
    assert_eq!(codes(vec![two(), second]), ["E0306"]);
}

#[test]
fn run_block_errors() {
    let base = || {
        model(
            "m",
            vec![state("x", TypeExpr::Real(sp()), None), energy("U", sq(n("x")))],
        )
    };
    assert_eq!(codes(vec![base(), run(vec![("stpes", int(10))])]), ["E0401"]);
    assert_eq!(codes(vec![base(), run(vec![("steps", neg(int(10)))])]), ["E0402"]);
    assert_eq!(
        codes(vec![base(), run(vec![("method", n("euler_maruyama"))])]),
        ["E0403"]
    );
    assert_eq!(codes(vec![base(), run(vec![("method", n("gibbs"))])]), ["E0404"]);
    let m = ok(vec![base(), run(vec![("method", n("baoab"))])]);
    assert_eq!(m.run.method.unwrap().arg("friction"), Some(1.0));
}

#[test]
fn params_errors() {
    let base = || {
        model(
            "m",
            vec![state("x", TypeExpr::Real(sp()), None), energy("U", sq(n("x")))],
        )
    };
    assert_eq!(
        codes(vec![Item::Param(param("a", None, None)), base()]),
        ["E0501"]
    );
    let cyc = vec![p("a", n("b")), p("b", n("a")), base()];
    assert!(codes(cyc).contains(&"E0103"));
    let st = vec![model(
        "m",
        vec![
            state("x", TypeExpr::Real(sp()), None),
            ModelItem::Param(param("k", None, Some(n("x")))),
            energy("U", sq(n("x"))),
        ],
    )];
    assert_eq!(codes(st), ["E0206"]);
}

#[test]
fn import_not_found() {
    let items = vec![
        Item::Use(UseDecl {
            target: UseTarget::Path("definitely_missing.sde".into()),
            span: sp(),
        }),
        model(
            "m",
            vec![state("x", TypeExpr::Real(sp()), None), energy("U", sq(n("x")))],
        ),
    ];
    assert_eq!(codes(items), ["E0503"]);
}

#[test]
fn check_method_standalone() {
    let m = check_method(&named("mala", vec![("step", real(0.1))])).unwrap();
    assert_eq!(m.arg("step"), Some(0.1));
    let d = check_method(&named("mala", vec![("stepp", real(0.1))])).unwrap_err();
    assert_eq!(d[0].code, "E0401");
    let d = check_method(&named("mala", vec![("step", real(-0.1))])).unwrap_err();
    assert_eq!(d[0].code, "E0402");
    let d = check_method(&n("malla")).unwrap_err();
    assert_eq!(
        (d[0].code, d[0].help.as_deref()),
        ("E0404", Some("did you mean `mala`?"))
    );
}

#[test]
fn if_and_time() {
    let e = ex(ExprKind::If(
        Box::new(bin(BinOp::Gt, n("t"), int(1))),
        Box::new(sq(n("x"))),
        Box::new(n("x")),
    ));
    let m = ok(vec![model(
        "m",
        vec![state("x", TypeExpr::Real(sp()), None), energy("U", e)],
    )]);
    let Expr::Select(c, _, _) = &*m.energy[0].expr else {
        panic!()
    };
    assert!(matches!(&**c, Expr::Compare(crate::model::CmpOp::Gt, t, _) if **t == Expr::Time));
}
