//! Pair loops run two iterations at a time in vector lanes compute the same bits as
//! the scalar loops: every kernel of particle models with direct O(N²) pair sums
//! (odd and even N, so the scalar last iteration runs too) or neighbour lists in a
//! periodic box (rows of every length), compiled both ways, gives bit-identical
//! outputs at several states, and the lane build really has lane loops.

use sdelang::codegen::CodegenOptions;
use sdelang::lower::KernelKind;
use sdelang::native::particles::{ParticleModel, ParticleSpec};
use sdelang::pipeline::{compile_source, CompileOptions};
use sdelang::source::SourceMap;

/// Workload W5's model at a small odd size: a confining potential and a Gaussian
/// mean-field attraction (the inline exponential in lanes).
const MEAN_FIELD: &str = "param N = 37
model mean_field {
  particles x[N]: real[2]
  energy confinement = sum(i in x, dot(x[i], x[i])^2 / 4 - dot(x[i], x[i]) / 2)
  pair attraction(r) = -exp(-r^2 / 2) / N
  observe r2 = mean(i in x, dot(x[i], x[i]))
}
run { init x ~ normal(0, 1) }
";

/// A two-species mixture in open space whose pair term goes through species lookups,
/// a branch, square roots, integer and negative powers, min and abs.
const MIXTURE: &str = "param N = 24
param kind: int[24] = [0, 1, 1, 0, 1, 0, 0, 0, 1, 1, 0, 1, 0, 1, 1, 1, 0, 0, 1, 0, 0, 1, 1, 0]
param eps: real[2, 2] = [[1, 1.5], [1.5, 0.5]]
param q: real[2] = [1, -1]
model mixture {
  particles p[N]: real[3]
  pair soft(r, i, j) = eps[kind[i], kind[j]] * (if r < 1.2 then (1.2 - r)^2 else 0)
                     + q[kind[i]] * q[kind[j]] / sqrt(r^2 + 0.5)
                     + 0.1 * min(r, 2) + 0.01 * abs(r - 1)^3 + 0.05 / (r^2 + 1)^3
  energy trap = sum(i in p, 0.05 * dot(p[i], p[i]))
  observe r2 = mean(i in p, dot(p[i], p[i]))
}
run { init p ~ normal(0, 1) }
";

/// A soft-sphere fluid in a periodic box with a shifted cutoff: the pair loops run
/// over neighbour list rows, with minimum images and the cutoff test in lanes.
const LISTED: &str = "param N = 45
model soft {
  particles p[N]: real[3] in periodic(5)
  pair soft(r) = 3 * (1 - r / 2)^2 + 0.5 * exp(-r^2) + 0.01 / (r^2 + 0.1)^3,
    cutoff = 2, shift = true, skin = 0.3
  observe r2 = mean(i in p, dot(p[i], p[i]))
}
run { init p ~ uniform(0, 5) }
";

fn compiled(text: &str, lane_loops: bool) -> (ParticleModel, usize) {
    let mut sources = SourceMap::new();
    let id = sources.add("model.sde", None, text.to_string());
    let options = CompileOptions {
        codegen: CodegenOptions { lane_loops },
        ..CompileOptions::default()
    };
    let c = compile_source(sources, id, None, &options)
        .unwrap_or_else(|f| panic!("{}", sdelang::render::render(&f.diagnostics, &f.sources, false)));
    let lanes = c.compiled.stats().lane_loops;
    let spec = ParticleSpec::from_model(&c.model, 2, 1);
    (
        ParticleModel::new(c.compiled.native().clone(), spec).unwrap(),
        lanes,
    )
}

/// Deterministic positions with spread `scale` (a fixed-seed linear congruential
/// generator), so pairs range from overlapping to far apart.
fn positions(n: usize, seed: u64, scale: f64) -> Vec<f64> {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            scale * (((s >> 11) as f64 / (1u64 << 53) as f64) - 0.5)
        })
        .collect()
}

fn same_bits(text: &str, n_state: usize) {
    let (lanes, lane_count) = compiled(text, true);
    let (scalar, scalar_count) = compiled(text, false);
    assert!(lane_count > 0, "no loop was emitted in lanes");
    assert_eq!(scalar_count, 0, "lane loops were emitted with lanes off");
    let mut compared = 0;
    for kind in KernelKind::ALL {
        let Some(len) = lanes.native().out_len(kind) else {
            continue;
        };
        if kind == KernelKind::Prelude {
            continue;
        }
        for (seed, scale) in [(1, 3.0), (2, 8.0), (3, 40.0)] {
            let x = positions(n_state, seed, scale);
            let (mut a, mut b) = (vec![0.0; len], vec![0.0; len]);
            let ra = lanes.call(kind, &x, 0.0, &mut a);
            let rb = scalar.call(kind, &x, 0.0, &mut b);
            assert_eq!(
                ra.map(f64::to_bits),
                rb.map(f64::to_bits),
                "{kind}: results differ"
            );
            assert!(ra.is_some(), "{kind} did not run");
            for (k, (u, v)) in a.iter().zip(&b).enumerate() {
                assert_eq!(u.to_bits(), v.to_bits(), "{kind}[{k}]: lanes {u} vs scalar {v}");
                assert!(u.is_finite(), "{kind}[{k}] is not finite");
            }
            compared += 1;
        }
    }
    assert!(compared >= 6, "only {compared} kernel evaluations compared");
}

#[test]
fn mean_field_lanes_give_the_scalar_bits() {
    same_bits(MEAN_FIELD, 2 * 37);
}

#[test]
fn neighbour_list_lanes_give_the_scalar_bits() {
    same_bits(LISTED, 3 * 45);
}

#[test]
fn mixture_lanes_give_the_scalar_bits() {
    same_bits(MIXTURE, 3 * 24);
}
