//! Golden tests of the checker's diagnostics, and checks of example programs.
//!
//! Each case checks one source text and compares the rendered diagnostics with
//! `tests/golden/check/<name>.txt` (source first, then the diagnostics).
//! `SDELANG_BLESS=1 cargo test --test diagnostics_check` rewrites the files.

use sdelang::diagnostic::Diagnostic;
use sdelang::model::{Expr, MethodKind, Model, ParamValue, ReduceOp, SdeComponents};
use sdelang::resolve::{check, CheckInput, ParamOverride};
use sdelang::source::{SourceMap, Span};
use sdelang::syntax::{parse_expr, parse_program};
use std::path::{Path, PathBuf};

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/check")
}

/// Parses and checks `src` with `--set` values `sets` (`name=value`).
fn run_check(name: &str, src: &str, sets: &[&str]) -> (SourceMap, Result<Model, Vec<Diagnostic>>) {
    let mut sources = SourceMap::new();
    let dir = golden_dir().join("imports");
    let id = sources.add(format!("{name}.sde"), None, src);
    let program = match parse_program(id, src) {
        Ok(p) => p,
        Err(d) => return (sources, Err(d)),
    };
    let mut overrides = Vec::new();
    for set in sets {
        let (key, value) = set.split_once('=').expect("name=value");
        let sid = sources.add("--set", None, value.to_string());
        match parse_expr(sid, value) {
            Ok(expr) => overrides.push(ParamOverride {
                name: key.to_string(),
                value: expr,
                span: Span::new(sid, 0, value.len()),
            }),
            Err(d) => return (sources, Err(d)),
        }
    }
    let stdlib = golden_dir().join("stdlib");
    let result = check(CheckInput {
        data: None,
        program: &program,
        sources: &mut sources,
        stdlib_dir: Some(&stdlib),
        base_dir: Some(&dir),
        overrides: &overrides,
        model_name: None,
    });
    (sources, result)
}

/// Plain rendering until the shared renderer (`sdelang::render::render`) lands:
/// `error[CODE]: message`, then `--> file:line:col: label` with the source line.
fn render(diags: &[Diagnostic], sources: &SourceMap) -> String {
    let mut out = String::new();
    for d in diags {
        out += &format!("error[{}]: {}\n", d.code, d.message);
        for l in &d.labels {
            let Some(file) = sources.get(l.span.source) else {
                continue;
            };
            let before = &file.text[..l.span.start.min(file.text.len())];
            let line = before.matches('\n').count() + 1;
            let col = before.len() - before.rfind('\n').map_or(0, |p| p + 1) + 1;
            let text = file.text.lines().nth(line - 1).unwrap_or("");
            out += &format!("  --> {}:{line}:{col}: {}\n   | {text}\n", file.name, l.message);
        }
        if let Some(h) = &d.help {
            out += &format!("  help: {h}\n");
        }
        for n in &d.notes {
            out += &format!("  note: {n}\n");
        }
    }
    out
}

fn golden(name: &str, src: &str, sets: &[&str]) {
    let (sources, result) = run_check(name, src, sets);
    let diags = match result {
        Ok(_) => panic!("case `{name}` checked without errors"),
        Err(d) => d,
    };
    assert!(
        !diags.iter().any(|d| d.code.starts_with("E00")),
        "case `{name}` does not parse: {diags:#?}"
    );
    // paths of imported files differ between machines
    let root = golden_dir().display().to_string();
    let rendered = render(&diags, &sources).replace(&root, "<golden>");
    let set_line = if sets.is_empty() {
        String::new()
    } else {
        format!("// --set {}\n", sets.join(" --set "))
    };
    let text = format!("// source\n{set_line}{src}\n// diagnostics\n{rendered}");
    let path = golden_dir().join(format!("{name}.txt"));
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

// E01xx names
case!(
    unknown_name,
    "model m {\n  state x: real\n  energy U = (xx - 1)^2\n}\n"
);
case!(
    unknown_function,
    "model m {\n  state x: real[2]\n  energy U = nrm(x)^2\n}\n"
);
case!(
    duplicate_definition,
    "param a = 1\nparam a = 2\nmodel m {\n  state x: real\n  energy U = a * x^2\n}\n"
);
case!(
    recursive_function,
    "fn f(z) = z * f(z - 1)\nmodel m {\n  state x: real\n  energy U = f(x)\n}\n"
);
case!(
    mutual_recursion,
    "fn even(z) = odd(z) + 1\nfn odd(z) = even(z) - 1\nmodel m {\n  state x: real\n  energy U = even(x)\n}\n"
);
case!(
    wrong_arity,
    "fn f(a, b) = a * b\nmodel m {\n  state x: real\n  energy U = f(x) + exp(x, 2)\n}\n"
);
// E02xx shapes
case!(
    scalar_vector_mismatch,
    "model m {\n  state x: real[3]\n  energy U = norm(x) + (if x > 0 then 1 else 0)\n}\n"
);
case!(
    vector_length_mismatch,
    "model m {\n  state x: real[2]\n  energy U = dot(x, [1, 2, 3]) + sum(x * [1, 2, 3])\n}\n"
);
case!(
    index_out_of_range_constant,
    "model m {\n  state x: real[2]\n  energy U = x[0]^2 + x[2]^2\n}\n"
);
case!(
    index_out_of_range_loop,
    "param d = 4\nmodel m {\n  state x: real[d]\n  energy U = sum(i in 0..d, (x[i + 1] - x[i])^2)\n}\n"
);
case!(
    non_affine_index,
    "model m {\n  state x: real[4]\n  energy U = sum(i in 0..2, x[i * i])\n}\n"
);
case!(
    size_not_integer,
    "model m {\n  state x: real[2.5]\n  energy U = sum(x)\n}\n"
);
case!(
    condition_as_number,
    "model m {\n  state x: real\n  energy U = x^2 + (x > 0) * 3\n}\n"
);
case!(
    param_depends_on_state,
    "model m {\n  state x: real\n  param k = 2 * x\n  energy U = k * x^2\n}\n"
);
// E03xx models
case!(
    exact_unknown_distribution,
    "model m {\n  state x: real\n  energy U = x^2\n  exact x ~ normla(0, 1)\n}\n"
);
case!(
    exact_wrong_arity,
    "model m {\n  state x: real[2]\n  energy U = sum(x * x)\n  exact x[0] ~ normal(0)\n  exact x[1] ~ gamma(2, rte = 1)\n}\n"
);
case!(
    exact_not_constant,
    "model m {\n  state x: real[2]\n  energy U = sum(x * x)\n  exact x[0] ~ normal(x[1], 1)\n}\n"
);
case!(
    exact_not_a_state,
    "param s = 1.0\nmodel m {\n  state x: real[2]\n  state y: real\n  energy U = sum(x * x) + y^2\n  \
     exact s ~ normal(0, 1)\n  exact z ~ normal(0, 1)\n  exact x ~ normal(0, 1)\n  exact y[0] ~ normal(0, 1)\n  \
     exact x[2] ~ normal(0, 1)\n}\n"
);
case!(
    exact_bad_argument,
    "model m {\n  state x: real[2]\n  energy U = sum(x * x)\n  exact x[0] ~ normal(0, -1)\n  exact x[1] ~ uniform(1, 1)\n}\n"
);
case!(
    exact_density_reads_another_state,
    "model m {\n  state x: real\n  state y: real\n  dx = -x dt + dW\n  dy = -y dt + dW\n  \
     exact x = exp(-x^2 - y^2)\n  exact y = exp(-y^2 * t)\n}\n"
);
case!(
    exact_twice,
    "model m {\n  state x: real\n  energy U = x^2\n  exact x ~ normal(0, 0.7)\n  exact x = exp(-x^2)\n}\n"
);
case!(
    sde_for_undeclared_state,
    "model m {\n  state x: real\n  dy = -x dt + 1 dW\n}\n"
);
case!(
    state_without_dynamics,
    "model m {\n  state x: real\n  state y: real\n  energy U = x^2\n}\n"
);
case!(
    two_equations_for_one_state,
    "model m {\n  state x: real\n  dx = -x dt + 1 dW\n  dx = -2 * x dt + 1 dW\n}\n"
);
case!(
    noise_index_mismatch,
    "model m {\n  state x: real[3]\n  state y: real[3]\n  dx[i] = -x[i] dt + 0.5 dW[j]\n  dy[i] = -y[i] dt + 0.5 dW\n}\n"
);
case!(no_model, "param a = 1\n");
case!(
    several_models,
    "model a {\n  state x: real\n  energy U = x^2\n}\nmodel b {\n  state y: real\n  energy U = y^2\n}\n"
);
// E04xx run settings
case!(
    unknown_run_setting,
    "model m {\n  state x: real\n  energy U = x^2\n}\nrun { step = 100 }\n"
);
case!(
    bad_run_value,
    "model m {\n  state x: real\n  energy U = x^2\n}\nrun { steps = -10, temperature = 0 }\n"
);
case!(
    table_entry_indexes_a_state,
    "param kind: int[3] = [0, 2, 1]\nmodel m {\n  state x: real[3]\n  energy U = sum(i in 0..3, x[kind[i]]^2)\n}\n"
);
case!(
    table_entry_in_arithmetic_as_index,
    "param kind: int[3] = [0, 1, 1]\nparam w: real[3] = [1, 2, 3]\nmodel m {\n  state x: real[3]\n  energy U = sum(i in 0..3, w[kind[i] + 1] * x[i]^2)\n}\n"
);
case!(
    table_entry_out_of_range,
    "param kind: int[3] = [0, 3, 1]\nparam w: real[3] = [1, 2, 3]\nmodel m {\n  state x: real[3]\n  energy U = sum(i in 0..3, w[kind[i]] * x[i]^2)\n}\n"
);
case!(
    bad_output_format,
    "model m {\n  state x: real\n  energy U = x^2\n}\nrun { output = \"cmdstn\", dt = \"npy\", thin = 2 }\n"
);
case!(
    output_format_without_quotes,
    "model m {\n  state x: real\n  energy U = x^2\n}\nrun { output = 3 }\n"
);
case!(
    method_does_not_fit,
    "model m {\n  state x: real\n  energy U = x^2\n}\nrun { method = euler_maruyama, dt = 0.01 }\n"
);
case!(
    unknown_method,
    "model m {\n  state x: real\n  energy U = x^2\n}\nrun { method = malla(step = 0.1) }\n"
);
case!(
    bad_method_argument,
    "model m {\n  state x: real\n  energy U = x^2\n}\nrun { method = mala(stpe = 0.1), init x = [1, 2] }\n"
);
// E05xx params and imports
case!(
    missing_param_value,
    "param beta\nmodel m {\n  state x: real\n  energy U = beta * x^2\n}\n"
);
case!(
    bad_set,
    "param gamma = 1.0\nmodel m {\n  state x: real\n  energy U = gamma * x^2\n}\n",
    set = ["gama=2"]
);
case!(
    import_not_found,
    "use \"nowhere.sde\"\nmodel m {\n  state x: real\n  energy U = x^2\n}\n"
);
case!(
    import_cycle,
    "use \"cycle_a.sde\"\nmodel m {\n  state x: real\n  energy U = a * x^2\n}\n"
);

// General SDEs: conventions (E0307), the noise declaration (E0308), noise wiring
// (E0304), `langevin` (E0309) and SDE run settings (E0402).
case!(
    unknown_convention,
    "model m {\n  state x: real\n  stratonovic dx = -x dt + 0.1 * x dW\n}\n"
);
case!(
    alpha_out_of_range,
    "model m {\n  state x: real\n  alpha(1.5) dx = -x dt + 0.1 * x dW\n  state y: real\n  alpha dy = -y dt + dW\n}\n"
);
case!(
    bad_noise_declaration,
    "model m {\n  state x: real[2]\n  noise B: real[3]\n  noise W: real[2]\n  dx[i] = -x[i] dt + dW[j]\n}\n"
);
case!(
    declared_noise_mismatch,
    "model m {\n  state x: real[2]\n  state y: real\n  noise W: real[3]\n  dx[i] = -x[i] dt + 0.5 dW\n  dy = -y dt + dW[i]\n}\n"
);
case!(
    noise_sum_index_in_drift,
    "model m {\n  state x: real[2]\n  noise W: real[3]\n  dx[i] = -x[i] * j dt + 0.5 * x[i] dW[j]\n}\n"
);
case!(
    langevin_errors,
    "model m {\n  state x: real\n  state y: real\n  state z: real\n  energy U = x^2 + y^2 + z^2\n  \
     dx = langevin(kT = 1)\n  dy = langevin(D = 1, Dx = 2, consistent = 1)\n  dz = drift(z)\n}\n"
);
case!(
    langevin_without_energy,
    "model m {\n  state x: real\n  dx = langevin(D = 1 + x^2)\n}\n"
);
case!(
    sde_run_settings,
    "model m {\n  state x: real[2]\n  dx = -x dt + dW\n}\n\
     run {\n  method = milstein(dt = 0.01, dt_min = 1e-6)\n  save_every = -1\n  record = [x[2], v, 2 * x]\n}\n"
);
case!(
    matrix_noise_needs_a_general_scheme,
    "model m {\n  particles x[10]: real[2]\n  \
     dx[i] = -x[i] dt + sqrt(2) * chol(cov(j in x, x[j])) dW[i]\n}\n\
     run { method = milstein(dt = 0.01) }\n"
);
case!(
    matrix_noise_shape,
    "model m {\n  particles x[10]: real[2]\n  \
     dx[i] = -x[i] dt + [[1, 0, 0], [0, 1, 0]] dW[i]\n}\n"
);
case!(
    chol_of_a_non_square_matrix,
    "model m {\n  particles x[10]: real[2]\n  \
     dx[i] = -x[i] dt + chol(outer(x[i], [1, 2, 3])) dW[i]\n}\n"
);
case!(
    sde_settings_in_energy_model,
    "model m {\n  state x: real\n  energy U = x^2\n}\nrun { save_at = [1, 2], record = [x] }\n"
);

// ---- example programs that must check ----

fn ok(src: &str, sets: &[&str]) -> Model {
    let (sources, result) = run_check("example", src, sets);
    match result {
        Ok(m) => m,
        Err(d) => panic!("unexpected diagnostics:\n{}", render(&d, &sources)),
    }
}

#[test]
fn double_well_checks() {
    let m = ok(
        "param beta = 4.0\nmodel double_well {\n  state x: real = 0.5\n  energy U = beta * (x^2 - 1)^2\n}\n\
         run { method = mala(step = 0.1), steps = 10_000, chains = 4, seed = 1 }\n",
        &[],
    );
    assert_eq!(m.name, "double_well");
    assert!(m.is_gibbs());
    assert_eq!(m.params[0].value, ParamValue::Real(4.0));
    assert_eq!(m.states[0].init, Some(vec![0.5]));
    let method = m.run.method.as_ref().expect("method");
    assert_eq!((method.kind, method.arg("step")), (MethodKind::Mala, Some(0.1)));
    assert_eq!(
        (m.run.steps, m.run.chains, m.run.seed),
        (Some(10_000), Some(4), Some(1))
    );
}

const GAUSS: &str =
    "// anisotropic Gaussian, scales 1 .. 10\nparam d = 1000\nparam s: real[d] = logspace(0, 1, d)\n\
model gauss_1k {\n  state x: real[d]\n  energy U = 0.5 * sum(i in 0..d, (x[i] / s[i])^2)\n}\n";

#[test]
fn gauss_1k_with_logspace_checks() {
    let m = ok(GAUSS, &[]);
    assert_eq!(m.state_size(), 1000);
    let ParamValue::Vector(s) = &m.params[1].value else {
        panic!("s is a vector")
    };
    assert!((s[0] - 1.0).abs() < 1e-12 && (s[999] - 10.0).abs() < 1e-12);
    assert_eq!(m.index_vars, 1);
    let Expr::Binary(_, _, sum) = &*m.energy[0].expr else {
        panic!()
    };
    assert!(matches!(
        &**sum,
        Expr::Reduce {
            op: ReduceOp::Sum,
            ..
        }
    ));
}

#[test]
fn set_reshapes_the_model() {
    let m = ok(GAUSS, &["d=10"]);
    assert_eq!(m.state_size(), 10);
    assert_eq!(m.params[0].value, ParamValue::Int(10));
}

#[test]
fn gbm_checks() {
    let m = ok(
        "model gbm {\n  param mu = 0.05, sigma = 0.2\n  state S: real = 1.0\n  dS = mu * S dt + sigma * S dW\n}\n\
         run { method = euler_maruyama, dt = 0.001, steps = 1000, t0 = 0 }\n",
        &[],
    );
    assert!(!m.is_gibbs());
    assert_eq!(m.sdes.len(), 1);
    assert_eq!(m.sdes[0].components, SdeComponents::Scalar);
    assert_eq!(
        m.run.method.as_ref().map(|m| m.kind),
        Some(MethodKind::EulerMaruyama)
    );
    assert_eq!((m.run.dt, m.run.t0), (Some(0.001), Some(0.0)));
}

#[test]
fn ou_with_components_checks() {
    let m = ok(
        "param d = 3\nmodel ou {\n  param theta = 1.0\n  state x: real[d] = [1, 2, 3]\n  \
         stratonovich dx[i] = -theta * x[i] dt + 0.5 dW[i]\n}\nrun { init x = 0 }\n",
        &[],
    );
    assert!(matches!(m.sdes[0].components, SdeComponents::Each(_)));
    assert_eq!(m.sdes[0].convention, sdelang::model::Convention::Stratonovich);
    assert_eq!(m.states[0].init, Some(vec![1.0, 2.0, 3.0]));
    assert_eq!(m.run.init[0].1, vec![0.0; 3]);
}

#[test]
fn stdlib_and_file_imports_check() {
    let m = ok("use double_well\n", &[]);
    assert_eq!(m.name, "double_well");
    assert_eq!(m.run.steps, Some(1000));
    let m = ok(
        "use \"helpers.sde\"\nmodel m {\n  state x: real\n  energy U = k * quartic(x)\n}\n",
        &["k=3"],
    );
    assert_eq!(m.params[0].value, ParamValue::Real(3.0));
}

/// `exact` items become closed forms in the model: the flat component, the family with its
/// argument values (parameters after `--set`, named arguments in positional order), and a
/// density program of the component alone.
#[test]
fn exact_laws_are_checked_into_the_model() {
    use sdelang::model::exact::{Family, Law};
    let src = "param s = 1.0\nmodel m {\n  state y: real\n  state x: real[3]\n  \
               energy U = y^2 + sum(x * x)\n  let q = x[2] / s\n  \
               exact x[1] ~ student_t(sigma = 2 * s, nu = 3, mu = 0)\n  exact x[2] = exp(-q^2 / 2)\n}\n";
    let (_, result) = run_check("exact_model", src, &["s=0.5"]);
    let model = result.unwrap_or_else(|d| panic!("{d:#?}"));
    let [a, b] = model.exact.as_slice() else {
        panic!("{:?}", model.exact)
    };
    assert_eq!(a.component, 2);
    assert_eq!(
        a.law,
        Law::Family {
            family: Family::StudentT,
            args: vec![3.0, 0.0, 1.0]
        }
    );
    assert_eq!(b.component, 3);
    // ln exp(−(x/s)²/2) with s = 0.5: −0.5 at x = 0.5, −2 at x = 1
    assert!((b.law.log_density(0.5) + 0.5).abs() < 1e-12);
    assert!((b.law.log_density(1.0) + 2.0).abs() < 1e-12);
    assert!(!b.law.is_normalised());
}

// E08xx particles
case!(
    particle_masses_must_be_positive,
    "model m {\n  particles p[3]: real[2], mass = [1, 0, 2]\n  energy U = sum(i in p, dot(p[i], p[i]))\n}\n"
);
case!(
    cutoff_beyond_half_the_box,
    "model m {\n  particles p[8]: real[3] in periodic(4)\n  pair lj(r) = 4 * (r^-12 - r^-6), cutoff = 2.5\n  observe pe = lj / 8\n}\n"
);
case!(
    shift_needs_a_cutoff,
    "model m {\n  particles p[8]: real[2]\n  pair w(r) = exp(-r^2), shift = true\n}\n"
);
case!(
    pressure_needs_a_periodic_box,
    "model m {\n  particles p[8]: real[2]\n  pair w(r) = exp(-r^2)\n  observe P = pressure()\n}\n"
);
case!(
    mean_needs_a_binder,
    "model m {\n  particles x[4]: real\n  dx[i] = -mean(j in 0..0, x[j]) dt + dW[i]\n}\nrun { method = euler_maruyama(dt = 0.01) }\n"
);
case!(
    random_init_law_is_checked,
    "model m {\n  state x: real[2]\n  energy U = dot(x, x)\n}\nrun { init x ~ normal(0, -1) }\n"
);
case!(
    batches_must_divide_the_particles,
    "model m {\n  particles p[8]: real[2]\n  pair w(r) = exp(-r^2) / 8, batches = 3\n}\n"
);
