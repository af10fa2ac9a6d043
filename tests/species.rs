//! Species tables: pair parameters indexed by the particles' types,
//! `eps[kind[i], kind[j]]`, and per-type attributes `q[kind[i]]`. The compiled
//! energy and forces of a binary Lennard-Jones mixture (Kob–Andersen parameters)
//! in a periodic box equal a direct sum over the pairs written here in Rust, and
//! the forces equal finite differences of the compiled energy.

use sdelang::native::particles::{ParticleModel, ParticleSpec};
use sdelang::pipeline::{compile_source, CompileOptions};
use sdelang::runtime::GibbsTarget;
use sdelang::source::SourceMap;

const KIND: [usize; 27] = [
    0, 1, 0, 1, 1, 0, 0, 1, 0, 0, 1, 0, 1, 1, 0, 0, 1, 0, 0, 1, 0, 1, 1, 0, 0, 1, 1,
];
const EPS: [[f64; 2]; 2] = [[1.0, 1.5], [1.5, 0.5]];
const SIG: [[f64; 2]; 2] = [[1.0, 0.8], [0.8, 0.88]];
const Q: [f64; 2] = [1.0, -1.0];
const L: f64 = 4.5;
const RC: f64 = 2.0;

fn model_text() -> String {
    let kinds: Vec<String> = KIND.iter().map(|k| k.to_string()).collect();
    format!(
        "param N = 27\nparam kind: int[27] = [{}]\n\
         param eps: real[2, 2] = [[1, 1.5], [1.5, 0.5]]\n\
         param sig: real[2, 2] = [[1, 0.8], [0.8, 0.88]]\n\
         param q: real[2] = [1, -1]\n\
         model mixture {{\n  particles p[N]: real[3] in periodic({L})\n  \
         pair lj(r, i, j) = 4 * eps[kind[i], kind[j]] * ((sig[kind[i], kind[j]] / r)^12 \
         - (sig[kind[i], kind[j]] / r)^6), cutoff = {RC}, skin = 0.2\n  \
         energy field = sum(i in p, 0.1 * q[kind[i]] * p[i][0])\n}}\n\
         run {{ init p = lattice(3, 3, 1.5) }}\n",
        kinds.join(", ")
    )
}

/// A jittered 3×3×3 lattice of spacing 1.5 (pair distances from about 1.2).
fn positions() -> Vec<f64> {
    let mut x = Vec::new();
    for a in 0..3 {
        for b in 0..3 {
            for c in 0..3 {
                let k = (a * 9 + b * 3 + c) as f64;
                x.push(1.5 * a as f64 + 0.1 * (1.3 * k).sin());
                x.push(1.5 * b as f64 + 0.1 * (2.1 * k).cos());
                x.push(1.5 * c as f64 + 0.1 * (0.7 * k).sin());
            }
        }
    }
    x
}

fn direct_energy(x: &[f64]) -> f64 {
    let mut u = 0.0;
    for i in 0..27 {
        u += 0.1 * Q[KIND[i]] * x[3 * i];
        for j in i + 1..27 {
            let mut r2 = 0.0;
            for d in 0..3 {
                let mut dx = x[3 * i + d] - x[3 * j + d];
                dx -= L * (dx / L).round();
                r2 += dx * dx;
            }
            if r2 < RC * RC {
                let (a, b) = (KIND[i], KIND[j]);
                let s6 = (SIG[a][b] * SIG[a][b] / r2).powi(3);
                u += 4.0 * EPS[a][b] * (s6 * s6 - s6);
            }
        }
    }
    u
}

fn compiled() -> ParticleModel {
    let mut sources = SourceMap::new();
    let id = sources.add("mixture.sde", None, model_text());
    let c = compile_source(sources, id, None, &CompileOptions::default())
        .unwrap_or_else(|f| panic!("{}", sdelang::render::render(&f.diagnostics, &f.sources, false)));
    let spec = ParticleSpec::from_model(&c.model, 2, 1);
    ParticleModel::new(c.compiled.native().clone(), spec).unwrap()
}

#[test]
fn species_tables_match_a_direct_sum_and_finite_differences() {
    let m = compiled();
    let x = positions();
    let mut grad = vec![0.0; x.len()];
    let u = m.energy_grad(&x, &mut grad);
    let want = direct_energy(&x);
    assert!(
        (u - want).abs() < 1e-12 * want.abs().max(1.0),
        "compiled {u}, direct {want}"
    );
    let h = 1e-6;
    let mut worst = 0.0f64;
    for k in 0..x.len() {
        let (mut xp, mut xm) = (x.clone(), x.clone());
        xp[k] += h;
        xm[k] -= h;
        let fd = (direct_energy(&xp) - direct_energy(&xm)) / (2.0 * h);
        worst = worst.max((grad[k] - fd).abs() / fd.abs().max(1.0));
    }
    assert!(worst < 1e-6, "largest relative force error {worst:e}");
}

#[test]
fn a_type_out_of_range_is_an_error_before_anything_runs() {
    let text = model_text().replace("param q: real[2] = [1, -1]", "param q: real[1] = [1]");
    let mut sources = SourceMap::new();
    let id = sources.add("mixture.sde", None, text);
    let f = match compile_source(sources, id, None, &CompileOptions::default()) {
        Ok(_) => panic!("a type beyond the table compiled"),
        Err(f) => f,
    };
    let text = sdelang::render::render(&f.diagnostics, &f.sources, false);
    assert!(
        text.contains("E0203") && text.contains("range over 0..=1"),
        "{text}"
    );
}
