//! `data` declarations bound from JSON and CSV files: values, shapes, inferred
//! sizes, lookup order, and the sums over data rows they feed (gradients as loops,
//! checked against finite differences, at a cost close to the energy's).

use sdelang::lower::{KStmt, KernelKind};
use sdelang::model::ParamValue;
use sdelang::pipeline::{compile_file, compile_source, Compilation, CompileOptions};
use sdelang::source::SourceMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// A fresh directory for one test's files.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sdelang-data-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn compile_in(dir: &Path, text: &str, data: &[PathBuf]) -> Result<Compilation, String> {
    let path = write(dir, "model.sde", text);
    let options = CompileOptions {
        data: data.to_vec(),
        ..CompileOptions::default()
    };
    compile_file(&path, &options).map_err(|f| sdelang::render::render(&f.diagnostics, &f.sources, false))
}

fn param<'a>(c: &'a Compilation, name: &str) -> &'a ParamValue {
    &c.model.params.iter().find(|p| p.name == name).unwrap().value
}

const SMALL: &str = r#"
data n: int
data k: int
data s: real
data y: int[n]
data X: real[n, k]
model m {
  state b: real[k]
  energy U = s * dot(b, b) - sum(i in 0..n, y[i] * dot(X[i], b))
}
run { data = "d.json" }
"#;

#[test]
fn json_binds_scalars_vectors_matrices_and_ints() {
    let dir = scratch("json");
    write(
        &dir,
        "d.json",
        r#"{"n": 2, "k": 3, "s": 0.5, "y": [1, 0], "X": [[1, 2, 3], [4, 5, 6]]}"#,
    );
    let c = compile_in(&dir, SMALL, &[]).unwrap();
    assert_eq!(param(&c, "n"), &ParamValue::Int(2));
    assert_eq!(param(&c, "s"), &ParamValue::Real(0.5));
    assert!(
        c.model.params.iter().all(|p| p.data),
        "every declaration here is data"
    );
    assert_eq!(
        param(&c, "y"),
        &ParamValue::Ints {
            dims: vec![2],
            data: vec![1, 0]
        }
    );
    assert_eq!(
        param(&c, "X"),
        &ParamValue::Matrix {
            rows: 2,
            cols: 3,
            data: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
        }
    );
    // U(b) = s|b|² − Σᵢ yᵢ Xᵢ·b at b = (1, 1, 1): 1.5 − 6.
    let mut out = vec![0.0; 3];
    let u = c
        .compiled
        .call(KernelKind::EnergyGrad, &[1.0, 1.0, 1.0], 0.0, &mut out)
        .unwrap();
    assert!((u - (1.5 - 6.0)).abs() < 1e-12, "{u}");
    assert_eq!(out, vec![0.0, -1.0, -2.0]);
}

#[test]
fn csv_columns_bind_by_name_and_sizes_are_inferred() {
    let dir = scratch("csv");
    let csv = write(
        &dir,
        "d.csv",
        "y,X.1,X.2,X.3,other\n1,1,2,3,9\n0,4,5,6,9\n1,7,8,9,9\n",
    );
    let json = write(&dir, "s.json", r#"{"s": 2}"#);
    let c = compile_in(
        &dir,
        &SMALL.replace("run { data = \"d.json\" }", ""),
        &[csv, json],
    )
    .unwrap();
    assert_eq!(param(&c, "n"), &ParamValue::Int(3));
    assert_eq!(param(&c, "k"), &ParamValue::Int(3));
    assert_eq!(
        param(&c, "y"),
        &ParamValue::Ints {
            dims: vec![3],
            data: vec![1, 0, 1]
        }
    );
    assert_eq!(param(&c, "s"), &ParamValue::Real(2.0));
    let ParamValue::Matrix {
        rows: 3,
        cols: 3,
        data,
    } = param(&c, "X")
    else {
        panic!()
    };
    assert_eq!(data[3..6], [4.0, 5.0, 6.0]);
}

#[test]
fn column_ranges_and_command_line_files_first() {
    let dir = scratch("cols");
    write(&dir, "run.csv", "y,x0,x1,x2\n1,1,0.5,0.25\n");
    let first = write(&dir, "first.csv", "y,x0,x1,x2\n0,1,-0.5,-0.25\n1,1,2,3\n");
    let text = r#"
data n: int
data y: real[n]
data X: real[n, 3] = columns("x0".."x2")
model m {
  state b: real[3]
  energy U = dot(b, b) - sum(i in 0..n, y[i] * dot(X[i], b))
}
run { data = "run.csv" }
"#;
    let from_run = compile_in(&dir, text, &[]).unwrap();
    assert_eq!(param(&from_run, "n"), &ParamValue::Int(1));
    let c = compile_in(&dir, text, &[first]).unwrap();
    assert_eq!(param(&c, "n"), &ParamValue::Int(2));
    assert_eq!(
        param(&c, "X"),
        &ParamValue::Matrix {
            rows: 2,
            cols: 3,
            data: vec![1.0, -0.5, -0.25, 1.0, 2.0, 3.0]
        }
    );
}

#[test]
fn mistakes_are_reported_with_their_codes() {
    let dir = scratch("errors");
    let csv = write(&dir, "d.csv", "y,X.1,X.2\n1,1,2\n0.5,4,5\n");
    let cases: &[(&str, &[PathBuf], &str)] = &[
        // a file that does not exist
        (
            r#"data y: real[2] model m { state b: real energy U = b^2 * y[0] } run { data = "nope.json" }"#,
            &[],
            "E0901",
        ),
        // nothing binds `z`
        (
            "data z: real model m { state b: real energy U = b^2 * z }",
            std::slice::from_ref(&csv),
            "E0902",
        ),
        // two rows, declared three
        (
            "data y: real[3] model m { state b: real energy U = b^2 * y[0] }",
            std::slice::from_ref(&csv),
            "E0903",
        ),
        // 0.5 in an int column
        (
            "data n: int data y: int[n] model m { state b: real energy U = b^2 * y[0] }",
            std::slice::from_ref(&csv),
            "E0904",
        ),
        // a column range whose ends do not match
        (
            r#"data X: real[2, 2] = columns("X.1".."Y.2") model m { state b: real energy U = b^2 * X[0, 0] }"#,
            std::slice::from_ref(&csv),
            "E0905",
        ),
        // data is not set with --set
        (
            "data y: real[2] param q = 1 model m { state b: real energy U = b^2 * y[0] * q }",
            std::slice::from_ref(&csv),
            "E0502",
        ),
    ];
    for (k, (text, files, code)) in cases.iter().enumerate() {
        let path = write(&dir, &format!("case{k}.sde"), text);
        let mut options = CompileOptions {
            data: files.to_vec(),
            ..CompileOptions::default()
        };
        if *code == "E0502" {
            options.overrides = vec!["y=[1, 2]".into()];
        }
        let f = compile_file(&path, &options)
            .err()
            .unwrap_or_else(|| panic!("case {k} compiled"));
        let codes: Vec<&str> = f.diagnostics.iter().map(|d| d.code).collect();
        assert!(codes.contains(code), "case {k}: expected {code}, got {codes:?}");
    }
}

/// The W2 logistic regression: 569 rows, 31 coefficients.
fn logreg() -> Compilation {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/logreg.sde");
    compile_file(&path, &CompileOptions::default())
        .unwrap_or_else(|f| panic!("{}", sdelang::render::render(&f.diagnostics, &f.sources, false)))
}

fn b_map(c: &Compilation) -> Vec<f64> {
    match param(c, "b_map") {
        ParamValue::Vector(v) => v.clone(),
        other => panic!("{other:?}"),
    }
}

/// Loops of a kernel with their trip counts, and its number of statements.
fn shape(stmts: &[KStmt], loops: &mut Vec<i64>) -> usize {
    stmts
        .iter()
        .map(|s| match s {
            KStmt::Loop { lo, hi, body, .. } => {
                if let (Some(a), Some(b)) = (lo.as_constant(), hi.as_constant()) {
                    loops.push(b - a);
                }
                1 + shape(body, loops)
            }
            _ => 1,
        })
        .sum()
}

#[test]
fn logreg_gradient_is_a_loop_over_rows_and_matches_finite_differences() {
    let c = logreg();
    let k = c
        .lowered
        .kernels
        .iter()
        .find(|k| k.kind == KernelKind::EnergyGrad)
        .unwrap();
    let mut loops = Vec::new();
    let stmts = shape(&k.body, &mut loops);
    assert!(loops.contains(&569), "no loop over the 569 rows: {loops:?}");
    assert!(stmts < 20, "{stmts} statements: the data sum was unrolled");
    let d = 31;
    let mut x = b_map(&c);
    for (j, v) in x.iter_mut().enumerate() {
        *v += 0.1 * ((j as f64) * 0.7).sin();
    }
    let mut g = vec![0.0; d];
    let u = c.compiled.call(KernelKind::EnergyGrad, &x, 0.0, &mut g).unwrap();
    let e = c.compiled.call(KernelKind::Energy, &x, 0.0, &mut []).unwrap();
    assert!((u - e).abs() < 1e-9 * e.abs(), "{u} vs {e}");
    for j in 0..d {
        let h = 1e-5;
        let (mut xp, mut xm) = (x.clone(), x.clone());
        xp[j] += h;
        xm[j] -= h;
        let fd = (c.compiled.call(KernelKind::Energy, &xp, 0.0, &mut []).unwrap()
            - c.compiled.call(KernelKind::Energy, &xm, 0.0, &mut []).unwrap())
            / (2.0 * h);
        assert!(
            (fd - g[j]).abs() < 1e-5 * (1.0 + g[j].abs()),
            "∂U/∂b{j}: {} vs {fd}",
            g[j]
        );
    }
}

/// Seconds per call of a kernel: the fastest of several timed batches.
fn per_call(c: &Compilation, kind: KernelKind, x: &[f64], out: &mut [f64]) -> f64 {
    let mut best = f64::INFINITY;
    for _ in 0..7 {
        let start = Instant::now();
        let mut acc = 0.0;
        for _ in 0..300 {
            acc += c.compiled.call(kind, x, 0.0, out).unwrap();
        }
        assert!(acc.is_finite());
        best = best.min(start.elapsed().as_secs_f64() / 300.0);
    }
    best
}

#[test]
fn logreg_energy_and_gradient_cost_a_small_multiple_of_the_energy() {
    let c = logreg();
    let x = b_map(&c);
    let mut g = vec![0.0; 31];
    let energy = per_call(&c, KernelKind::Energy, &x, &mut []);
    let both = per_call(&c, KernelKind::EnergyGrad, &x, &mut g);
    let ratio = both / energy;
    eprintln!(
        "logreg: energy {:.2} µs, energy + gradient {:.2} µs, ratio {ratio:.2}",
        energy * 1e6,
        both * 1e6
    );
    // Reverse mode costs a few energies; an unrolled or per-coefficient gradient
    // would cost ~31.
    assert!(ratio < 5.0, "energy + gradient costs {ratio:.1} energies");
}

#[test]
fn data_sums_work_in_a_program_without_files_through_params() {
    // The same loop machinery with an inline matrix parameter: data is a parameter
    // whose value comes from a file.
    let text = "param X: real[2, 2] = [[1, 2], [3, 4]]
model m { state b: real[2] energy U = sum(i in 0..2, softplus(dot(X[i], b))) }";
    let mut sources = SourceMap::new();
    let id = sources.add("t.sde", None, text.to_string());
    let c = compile_source(sources, id, None, &CompileOptions::default()).unwrap_or_else(|_| panic!());
    let mut g = vec![0.0; 2];
    c.compiled
        .call(KernelKind::EnergyGrad, &[0.0, 0.0], 0.0, &mut g)
        .unwrap();
    assert_eq!(g, vec![0.5 * (1.0 + 3.0), 0.5 * (2.0 + 4.0)]);
}
