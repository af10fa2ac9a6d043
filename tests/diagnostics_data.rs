//! Golden tests of the diagnostics about data files (E0901–E0905, and `--set`
//! of a data declaration): each case compiles a model whose run block names
//! files in `tests/golden/data/` and compares the rendered diagnostics with
//! `tests/golden/data/<name>.txt` (the model first, then the diagnostics, which
//! quote the data file where they point into it).
//! `SDELANG_BLESS=1 cargo test --test diagnostics_data` rewrites the files.

use sdelang::pipeline::{compile_source, CompileOptions};
use sdelang::source::SourceMap;
use std::path::{Path, PathBuf};

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/data")
}

fn golden(name: &str, src: &str, sets: &[&str]) {
    let dir = golden_dir();
    let mut sources = SourceMap::new();
    let id = sources.add(format!("{name}.sde"), None, src);
    let options = CompileOptions {
        overrides: sets.iter().map(|s| s.to_string()).collect(),
        ..CompileOptions::default()
    };
    let f = match compile_source(sources, id, Some(&dir), &options) {
        Ok(_) => panic!("case `{name}` compiled without errors"),
        Err(f) => f,
    };
    let root = format!("{}/", dir.display());
    let rendered = sdelang::render::render(&f.diagnostics, &f.sources, false).replace(&root, "");
    let text = format!("// source\n{src}\n// diagnostics\n{rendered}");
    let path = dir.join(format!("{name}.txt"));
    if std::env::var_os("SDELANG_BLESS").is_some() {
        std::fs::write(&path, &text).expect("write golden file");
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("missing {}; run with SDELANG_BLESS=1", path.display()));
    assert_eq!(
        text,
        want,
        "golden file {} differs (SDELANG_BLESS=1 rewrites it)",
        path.display()
    );
}

macro_rules! case {
    ($name:ident, $src:expr) => {
        #[test]
        fn $name() {
            golden(stringify!($name), $src, &[]);
        }
    };
    ($name:ident, $src:expr, set = [$($set:expr),*]) => {
        #[test]
        fn $name() {
            golden(stringify!($name), $src, &[$($set),*]);
        }
    };
}

/// A logistic regression over `small.csv`-like files, with `FILE` for the file.
const LOGREG: &str = r#"data n: int
data y: int[n]
data X: real[n, 3] = columns("x0".."x2")
model logreg {
  state b: real[3]
  energy U = -sum(i in 0..n, let eta = dot(X[i], b) in y[i] * eta - softplus(eta)) + dot(b, b) / 200
}
run { data = "FILE" }
"#;

fn logreg(file: &str) -> String {
    LOGREG.replace("FILE", file)
}

// E0901: files that cannot be read
case!(data_file_missing, &logreg("absent.csv"));
case!(data_not_a_number, &logreg("bad_cell.csv"));
case!(data_ragged_csv_row, &logreg("ragged.csv"));
case!(data_ragged_json_array, &logreg("ragged.json"));
case!(data_json_syntax, &logreg("syntax.json"));
case!(data_unknown_format, &logreg("small.txt"));

// E0902: nothing binds a declaration
case!(
    data_unbound,
    "data n: int\ndata z: real[n]\nmodel m {\n  state b: real\n  energy U = b^2 * z[0]\n}\nrun { data = \"small.csv\" }\n"
);
case!(
    data_no_files,
    "data s: real\nmodel m {\n  state b: real\n  energy U = s * b^2\n}\n"
);

// E0903: shapes
case!(
    data_wrong_row_count,
    &LOGREG
        .replace("data n: int", "param n = 3")
        .replace("FILE", "small.csv")
);
case!(
    data_scalar_from_column,
    "data y: real\nmodel m {\n  state b: real\n  energy U = y * b^2\n}\nrun { data = \"small.csv\" }\n"
);

// E0904: integers
case!(data_not_an_integer, &logreg("fraction.csv"));

// E0905: column lists
case!(
    data_bad_column_range,
    &LOGREG
        .replace(r#"columns("x0".."x2")"#, r#"columns("x0".."y2")"#)
        .replace("FILE", "small.csv")
);
case!(
    data_missing_column,
    &LOGREG
        .replace("real[n, 3]", "real[n, 4]")
        .replace(r#"columns("x0".."x2")"#, r#"columns("x0".."x3")"#)
        .replace("FILE", "small.csv")
);

// E0502: data is not a parameter
case!(
    data_set_on_command_line,
    &logreg("small.csv"),
    set = ["y=[1, 0, 1, 0]"]
);

// E0906: stochastic gradients that do not fit the model
case!(
    minibatch_without_data_sum,
    "data y: real[4]\nmodel m {\n  state b: real\n  energy U = y[0] * b^2\n}\n\
     run {\n  data = \"small.csv\"\n  method = sgld(step = 0.01)\n}\n"
);
case!(
    minibatch_of_a_nonlinear_data_sum,
    "data y: real[4]\nmodel m {\n  state b: real\n  energy U = log(1 + sum(i in 0..4, (y[i] - b)^2))\n}\n\
     run {\n  data = \"small.csv\"\n  method = sgld(step = 0.01)\n}\n"
);
case!(
    minibatch_larger_than_the_data,
    &LOGREG.replace(
        "run { data = \"FILE\" }",
        "run {\n  data = \"small.csv\"\n  method = sghmc(batch = 50)\n}"
    )
);
case!(
    minibatch_over_two_data_sets,
    "data n: int\ndata y: real[n]\ndata z: real[3]\nmodel m {\n  state b: real\n  \
     energy U = sum(i in 0..n, (y[i] - b)^2) + sum(k in 0..3, (z[k] - b)^2)\n}\n\
     run {\n  data = [\"small.csv\", \"three.json\"]\n  method = sgld(batch = 2)\n}\n"
);
