//! Parser tests: shapes of parsed programs, and robustness on hostile input
//! (every case runs on a thread with the default 2 MiB stack).

use super::ast::{BinOp, CallArg, Expr, ExprKind, Item, ModelItem, RunItem, UnOp};
use super::{is_incomplete, parse_expr, parse_program, MAX_SOURCE_BYTES};
use crate::source::SourceId;

const EXAMPLE: &str = r#"// Overdamped Langevin in a double well, and an OU process.
use stdlib.potentials
use "local/file.sde"
param beta = 4.0, d: int = 3
param s: real[d] = logspace(0, 1, d)
fn softplus(z) = log1p(exp(z))
let c = 2 * beta
model dw {
  param k = 1_000.5
  state x: real[d] = zeros(d)
  let r2 = sum(i in 0..d, x[i]^2)
  energy U = beta * (r2 - 1)^2 + (if r2 > 4 && !false then -x[0]^2 else 2^-1)
  /* nested /* comment */ here */
  energy V = let m = max(x) in logsumexp(x) - m
}
model ou {
  state y: real
  state z: real[2]
  stratonovich dy = -k * y dt - 0.5 * y dW
  dz[i] = -z[i] dt + sqrt(2) dW[i]
  state w: real
  dw = -w dt + dW
}
run {
  method = mala(step = 0.1), steps = 10_000
  dt = 1e-3
  init x = [1, 2, 3,]
  seed = 1
}
"#;

/// Runs `f` on a thread with the default test stack size (2 MiB).
fn on_small_stack<F: FnOnce() + Send + 'static>(f: F) {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap();
}

fn expr(text: &str) -> Expr {
    parse_expr(SourceId(0), text).unwrap()
}

fn shape(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Int(v) => v.to_string(),
        ExprKind::Real(v) => format!("{v:?}"),
        ExprKind::Bool(b) => b.to_string(),
        ExprKind::Name(n) => n.clone(),
        ExprKind::Unary(op, a) => format!("({op:?} {})", shape(a)),
        ExprKind::Binary(op, a, b) => format!("({op:?} {} {})", shape(a), shape(b)),
        ExprKind::Index(a, i) => format!("{}[{}]", shape(a), shape(i)),
        ExprKind::Call { func, args } => {
            let args: Vec<String> = args
                .iter()
                .map(|a| match a {
                    CallArg::Positional(e) => shape(e),
                    CallArg::Named(n, e) => format!("{}={}", n.name, shape(e)),
                    CallArg::Binder { var, lo, hi, .. } => {
                        format!("{} in {}..{}", var.name, shape(lo), shape(hi))
                    }
                    CallArg::Each { var, over, .. } => format!("{} in {}", var.name, shape(over)),
                })
                .collect();
            format!("{}({})", func.name, args.join(", "))
        }
        ExprKind::Vector(items) => format!("[{}]", items.iter().map(shape).collect::<Vec<_>>().join(", ")),
        ExprKind::If(c, a, b) => format!("(if {} {} {})", shape(c), shape(a), shape(b)),
        ExprKind::Let { name, value, body } => {
            format!("(let {} {} {})", name.name, shape(value), shape(body))
        }
        ExprKind::Error => "<error>".to_string(),
    }
}

#[test]
fn precedence_and_associativity() {
    let cases = [
        ("-x^2", "(Neg (Pow x 2))"),
        ("2^-1", "(Pow 2 (Neg 1))"),
        ("a^b^c", "(Pow a (Pow b c))"),
        ("a - b - c", "(Sub (Sub a b) c)"),
        ("a + b * c / d", "(Add a (Div (Mul b c) d))"),
        (
            "a < b + 1 && !c || d == e",
            "(Or (And (Lt a (Add b 1)) (Not c)) (Eq d e))",
        ),
        ("x[i + 1]^2", "(Pow x[(Add i 1)] 2)"),
        ("f(a, b = 2, i in 0..n, )", "f(a, b=2, i in 0..n)"),
        ("if a then b else c + 1", "(if a b (Add c 1))"),
        ("let y = 1 in y * 2", "(let y 1 (Mul y 2))"),
        ("[1, 2.5, 1e-3, 10_000]", "[1, 2.5, 0.001, 10000]"),
        ("(((x)))", "x"),
        ("mala", "mala"),
        ("euler_maruyama(dt = 0.01)", "euler_maruyama(dt=0.01)"),
    ];
    for (text, want) in cases {
        assert_eq!(shape(&expr(text)), want, "{text}");
    }
}

#[test]
fn example_program_parses() {
    let p = parse_program(SourceId(0), EXAMPLE).unwrap();
    assert_eq!(p.items.len(), 9);
    let Some(Item::Model(ou)) = p.items.get(7) else {
        panic!("expected model ou")
    };
    let Some(ModelItem::Sde(dy)) = ou.items.get(2) else {
        panic!("expected dy")
    };
    assert_eq!(dy.lhs.name, "dy");
    assert!(dy.convention.is_some());
    let noise = dy.noise.as_ref().unwrap();
    assert_eq!(shape(&noise.coeff), "(Neg (Mul 0.5 y))");
    assert_eq!(&EXAMPLE[noise.dw_span.start..noise.dw_span.end], "dW");
    let Some(ModelItem::Sde(dz)) = ou.items.get(3) else {
        panic!("expected dz")
    };
    assert_eq!(dz.index.as_ref().unwrap().name, "i");
    assert_eq!(dz.noise.as_ref().unwrap().index.as_ref().unwrap().name, "i");
    let Some(ModelItem::Sde(dw)) = ou.items.get(5) else {
        panic!("expected dw")
    };
    assert_eq!(shape(&dw.noise.as_ref().unwrap().coeff), "1.0");
    let Some(Item::Run(run)) = p.items.get(8) else {
        panic!("expected run")
    };
    let names: Vec<&str> = run
        .items
        .iter()
        .map(|i| match i {
            RunItem::Setting { name, .. } | RunItem::Init { name, .. } | RunItem::InitDraw { name, .. } => {
                name.name.as_str()
            }
            RunItem::Data { .. } => "data",
            RunItem::Text { name, .. } => name.name.as_str(),
        })
        .collect();
    assert_eq!(names, ["method", "steps", "dt", "x", "seed"]);
}

#[test]
fn spans_cover_their_text() {
    let text = "param a = (1 + 2) * b";
    let p = parse_program(SourceId(3), text).unwrap();
    let Some(Item::Param(ps)) = p.items.first() else {
        panic!()
    };
    let d = ps[0].default.as_ref().unwrap();
    assert_eq!(&text[d.span.start..d.span.end], "(1 + 2) * b");
    assert_eq!(d.span.source, SourceId(3));
    let ExprKind::Binary(BinOp::Mul, l, _) = &d.kind else {
        panic!()
    };
    assert_eq!(&text[l.span.start..l.span.end], "(1 + 2)");
}

#[test]
fn incomplete_input_is_recognised() {
    for text in [
        "model m {",
        "let x = 1 +",
        "run { steps = ",
        "/* open",
        "fn f(a, ",
    ] {
        let diags = parse_program(SourceId(0), text).unwrap_err();
        assert!(is_incomplete(&diags), "{text}: {diags:?}");
    }
    for text in ["let x = 1 + )", "model m { state x real", "let x = 1 $"] {
        let diags = parse_program(SourceId(0), text).unwrap_err();
        assert!(!is_incomplete(&diags), "{text}: {diags:?}");
    }
}

#[test]
fn malformed_inputs_give_errors() {
    let cases: &[(&str, &str)] = &[
        ("", ""),
        ("model", "E0002"),
        ("model m { state x: real[ }", "E0001"),
        ("let = 3", "E0001"),
        ("param a: vector", "E0001"),
        ("fn f(a b) = a", "E0001"),
        ("use", "E0002"),
        ("use a.", "E0002"),
        ("run { init = 3 }", "E0001"),
        ("model m { dx = x }", "E0001"),
        ("model m { dx[i = x dt }", "E0001"),
        ("let x = 1 < 2 < 3", "E0001"),
        ("let x = 0..3", "E0001"),
        ("let x = 1.", "E0001"),
        ("let x = 1e", "E0004"),
        ("let x = 99999999999999999999", "E0004"),
        ("let x = 1e400", "E0004"),
        ("let x = \"s\"", "E0001"),
        ("let x = 1 ∑ 2", "E0003"),
        ("*/", "E0001"),
        ("/*/", "E0005"),
        ("\0\0\0", "E0003"),
    ];
    for (text, code) in cases {
        let result = parse_program(SourceId(0), text);
        if code.is_empty() {
            assert!(result.is_ok(), "{text}");
        } else {
            let diags = result.unwrap_err();
            assert!(diags.iter().any(|d| d.code == *code), "{text}: {diags:?}");
        }
    }
}

/// A tiny xorshift generator, so the fuzz cases are the same on every run.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn random_bytes_and_token_soup_do_not_panic() {
    on_small_stack(|| {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        for _ in 0..2000 {
            let len = rng.below(300);
            let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            let text = String::from_utf8_lossy(&bytes);
            let _ = parse_program(SourceId(0), &text);
            let _ = parse_expr(SourceId(0), &text);
        }
        let pieces = [
            "model", "m", "{", "}", "state", "x", ":", "real", "[", "]", "energy", "U", "=", "dt", "dW", "+",
            "-", "*", "^", "(", ")", ",", "if", "then", "else", "let", "in", "1", "2.5", "param", "run",
            "init", "fn", "f", "..", ".", "use", "\"p\"", "ito", "!", "<", "&&", "/*", "*/", "#", "sum", "i",
        ];
        for _ in 0..3000 {
            let n = rng.below(80);
            let text: Vec<&str> = (0..n).map(|_| pieces[rng.below(pieces.len())]).collect();
            let text = text.join(" ");
            let _ = parse_program(SourceId(0), &text);
            let _ = parse_expr(SourceId(0), &text);
        }
    });
}

#[test]
fn every_truncation_of_the_example_is_handled() {
    on_small_stack(|| {
        for end in (0..=EXAMPLE.len()).filter(|i| EXAMPLE.is_char_boundary(*i)) {
            let prefix = &EXAMPLE[..end];
            if let Err(diags) = parse_program(SourceId(0), prefix) {
                assert!(!diags.is_empty());
            }
        }
    });
}

fn expect_code(text: &str, code: &str) {
    let diags = parse_program(SourceId(0), text).unwrap_err();
    assert!(diags.iter().any(|d| d.code == code), "{:?}", diags.first());
}

#[test]
fn pathological_inputs_terminate() {
    on_small_stack(|| {
        expect_code(&format!("let x = {}", "(".repeat(100_000)), "E0006");
        expect_code(
            &format!("let x = {}1{}", "(".repeat(100_000), ")".repeat(100_000)),
            "E0006",
        );
        expect_code(&format!("let x = 1{}", "+1".repeat(200_000)), "E0006");
        expect_code(&format!("let x = {}x", "-".repeat(200_000)), "E0006");
        expect_code(&format!("let x = {}x", "- ! ".repeat(50_000)), "E0006");
        expect_code(&format!("let x = a{}", "^a".repeat(100_000)), "E0006");
        expect_code(
            &format!("let x = {}1", "if a then b else ".repeat(50_000)),
            "E0006",
        );
        expect_code(&format!("let x = {}1", "let a = 1 in ".repeat(50_000)), "E0006");
        expect_code(&format!("let x = {}", "f(".repeat(100_000)), "E0006");
        expect_code(&format!("let x = 1{}", "9".repeat(1_000_000)), "E0004");
        assert!(parse_program(SourceId(0), &format!("let x = 1.{}", "9".repeat(1_000_000))).is_ok());
    });
}

#[test]
fn error_recovery_stays_cheap() {
    on_small_stack(|| {
        // Deep (but allowed) nesting followed by a long run of tokens that error
        // recovery must skip.
        let deep = format!("model m {{ energy U = {}", "(-".repeat(120));
        expect_code(&format!("{deep} + {}", "+ ".repeat(500_000)), "E0001");
        expect_code(&"} ".repeat(500_000), "E0001");
        expect_code(
            &"model m { state x: real energy U = x +* 1 } ".repeat(20_000),
            "E0001",
        );
        expect_code(&"§ ".repeat(200_000), "E0003");
    });
}

#[test]
fn oversized_sources_are_rejected() {
    let text = " ".repeat(MAX_SOURCE_BYTES + 1);
    expect_code(&text, "E0007");
    assert!(parse_expr(SourceId(0), &text).is_err());
}

#[test]
fn deep_but_allowed_expressions_parse() {
    on_small_stack(|| {
        let e = expr(&format!("{}x", "-".repeat(150)));
        assert!(matches!(e.kind, ExprKind::Unary(UnOp::Neg, _)));
        expr(&format!("1{}", "+1".repeat(150)));
        expr(&format!("{}1{}", "(".repeat(200), ")".repeat(200)));
    });
}

#[test]
fn large_valid_file_parses() {
    on_small_stack(|| {
        let text = "param a = [1, 2.5, x^2 + f(y, i in 0..3)]\n".repeat(10_000);
        let p = parse_program(SourceId(0), &text).unwrap();
        assert_eq!(p.items.len(), 10_000);
    });
}

#[test]
fn exact_items_parse() {
    use super::ast::ExactLaw;
    let src = "model m {\n  state x: real[2]\n  energy U = x[0]^2\n  exact x[1 + 0] ~ normal(0, sd = 2)\n  \
               exact x[0] = exp(-x[0]^4 / 4)\n}\n";
    let p = parse_program(SourceId(0), src).unwrap();
    let Some(Item::Model(m)) = p.items.first() else {
        panic!("expected a model")
    };
    let Some(ModelItem::Exact(a)) = m.items.get(2) else {
        panic!("expected an exact item")
    };
    assert_eq!(a.state.name, "x");
    assert_eq!(shape(a.index.as_ref().unwrap()), "(Add 1 0)");
    let ExactLaw::Family { name, args, span } = &a.law else {
        panic!("expected a distribution")
    };
    assert_eq!((name.name.as_str(), args.len()), ("normal", 2));
    assert!(matches!(&args[1], CallArg::Named(n, _) if n.name == "sd"));
    assert_eq!(&src[span.start..span.end], "normal(0, sd = 2)");
    let Some(ModelItem::Exact(b)) = m.items.get(3) else {
        panic!("expected an exact item")
    };
    let ExactLaw::Density(e) = &b.law else {
        panic!("expected a density")
    };
    assert_eq!(shape(e), "exp((Div (Neg (Pow x[0] 4)) 4))");
    // `exact` is a keyword; a model item may not start with `~`
    assert!(parse_program(SourceId(0), "param exact = 1\n").is_err());
    assert!(parse_program(SourceId(0), "model m {\n  state x: real\n  ~ x\n}\n").is_err());
}
