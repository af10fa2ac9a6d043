//! Golden tests of parse-level diagnostics (codes E0001–E0007).
//!
//! Each case parses a source, renders its diagnostics without colour and
//! compares the result with `tests/golden/parse/<name>.txt`, which holds the
//! source followed by the rendered report. Run with `SDELANG_BLESS=1` to
//! (re)write the files, then review them by eye before committing.

use std::path::PathBuf;

use sdelang::render::render;
use sdelang::source::SourceMap;
use sdelang::syntax::{parse_expr, parse_program};

/// Parses `src`, renders the outcome and checks it against the golden file `name`.
fn check(name: &str, src: &str, lone_expr: bool) {
    let mut map = SourceMap::new();
    let id = map.add(
        if lone_expr {
            "<command line>".to_string()
        } else {
            format!("{name}.sde")
        },
        None,
        src,
    );
    let result = if lone_expr {
        parse_expr(id, src).map(drop)
    } else {
        parse_program(id, src).map(drop)
    };
    let rendered = match result {
        Ok(()) => "(parsed without errors)\n".to_string(),
        Err(diags) => render(&diags, &map, false),
    };
    let actual = format!("=== source ===\n{src}\n=== diagnostics ===\n{rendered}");
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/parse")
        .join(format!("{name}.txt"));
    if std::env::var("SDELANG_BLESS").as_deref() == Ok("1") {
        std::fs::write(&path, &actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("missing {}: run with SDELANG_BLESS=1", path.display()));
    assert!(
        expected == actual,
        "golden mismatch for {name} (rerun with SDELANG_BLESS=1 to update)\n--- expected\n{expected}\n--- actual\n{actual}"
    );
}

/// `golden!(name, source)` checks a whole program; `golden!(expr name, text)` a
/// lone expression such as a command-line value.
macro_rules! golden {
    ($name:ident, $src:expr) => {
        #[test]
        fn $name() {
            check(stringify!($name), &$src, false);
        }
    };
    (expr $name:ident, $src:expr) => {
        #[test]
        fn $name() {
            check(stringify!($name), &$src, true);
        }
    };
}

golden!(
    unexpected_token,
    "model m {\n  state x: real\n  energy U = x^2 +* 1\n}\n"
);
golden!(missing_colon, "model m {\n  state x real\n  energy U = x^2\n}\n");
golden!(
    unexpected_eof,
    "model m {\n  state x: real\n  energy U = 0.5 * x^2 +"
);
golden!(
    unclosed_model,
    "model m {\n  state x: real\n  energy U = 0.5 * x^2\n"
);
golden!(
    invalid_char,
    "param beta = 2 # inverse temperature\nmodel m {\n  state x: real\n  energy U = beta * x^2\n}\n"
);
golden!(
    non_ascii_name,
    "model m {\n  state θ: real\n  energy U = θ^2\n}\n"
);
golden!(bad_exponent, "param tol = 1e-\n");
golden!(huge_int, "run {\n  steps = 100_000_000_000_000_000_000\n}\n");
golden!(real_overflow, "param scale = 1e999\n");
golden!(unterminated_comment, "model m { /* ");
golden!(
    unterminated_nested_comment,
    "/* outer /* inner */\nmodel m {\n  state x: real\n}\n"
);
golden!(
    unterminated_string,
    "use \"lib/potentials.sde\nmodel m { state x: real energy U = x^2 }\n"
);
golden!(nested_too_deeply, format!("let x = {}1\n", "-".repeat(201)));
golden!(brackets_too_deep, format!("let x = {}\n", "[".repeat(300)));
golden!(
    chained_comparison,
    "model m {\n  state x: real\n  energy U = if 0 < x < 1 then x else 0\n}\n"
);
golden!(
    assign_for_equality,
    "model m {\n  state x: real\n  energy U = if x = 0 then 1 else x^2\n}\n"
);
golden!(
    several_errors,
    "param a = 1 +\nparam b = * 2\nmodel m {\n  state x: real\n  energy U = (x - a)^2 )\n  dx = -x dt + + dW\n  state y: real[3\n}\nrun { steps = 10 chains = }\n"
);
golden!(missing_dt, "model ou {\n  state x: real\n  dx = -x + dW\n}\n");
golden!(semicolons, "param a = 1;\nparam b = 2;\n");
golden!(
    stray_brace,
    "model m {\n  state x: real\n  energy U = x^2\n}\n}\nrun { steps = 10 }\n"
);
golden!(valid_program, "param beta = 2\nmodel m {\n  state x: real[2]\n  energy U = beta * sum(i in 0..2, x[i]^2)\n}\nrun { method = mala(step = 0.1), steps = 1000 }\n");
golden!(expr cli_value_unclosed, "mala(step = 0.1");
golden!(expr cli_value_trailing, "[1, 2] 3");
golden!(
    several_errors_in_sdes,
    "model m {\n  state x: real[2]\n  dx[i] = -x[i] dt + * dW[i]\n  dy = y dt + 0.1\n  energy U = sum(i in 0..2 x[i]^2)\n}\n"
);
golden!(
    if_needs_parentheses,
    "model m {\n  state x: real\n  energy U = x^2 + if x > 0 then x else 0\n}\n"
);

/// Every ```sde block of the docs is a complete program and parses; every
/// ```sde-fragment block parses as items, as model items or as an expression.
#[test]
fn docs_code_blocks_parse() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs");
    for file in ["language.md", "errors.md"] {
        let Ok(text) = std::fs::read_to_string(dir.join(file)) else {
            continue;
        };
        let mut lang: Option<String> = None;
        let mut block = String::new();
        for line in text.lines() {
            match (&lang, line.strip_prefix("```")) {
                (None, Some(tag)) => {
                    lang = Some(tag.trim().to_string());
                    block.clear();
                }
                (Some(tag), Some(_)) => {
                    let ok = match tag.as_str() {
                        "sde" => parse_program(sdelang::source::SourceId(0), &block).is_ok(),
                        "sde-fragment" => fragment_parses(&block),
                        _ => true,
                    };
                    assert!(ok, "{file}: block does not parse:\n{block}");
                    lang = None;
                }
                (Some(_), None) => {
                    block.push_str(line);
                    block.push('\n');
                }
                (None, None) => {}
            }
        }
    }
}

fn fragment_parses(block: &str) -> bool {
    let id = sdelang::source::SourceId(0);
    parse_program(id, block).is_ok()
        || parse_program(id, &format!("model m {{\n{block}}}")).is_ok()
        || parse_expr(id, block).is_ok()
}
