//! `sde derive`: the derived quantities in readable math, or their values at a
//! point computed by the compiled code.

use super::{report, report_failure, ModelArgs, EXIT_USER};
use clap::Args;
use sdelang::lower::KernelKind;
use sdelang::model::{Index, SdeComponents};
use sdelang::pipeline::{compile_file, Compilation};
use sdelang::symbolic::display::{index_str, ModelNames, Names};
use sdelang::symbolic::{BuildOptions, Stmt};
use std::fmt::Write;

/// Largest state for which the dense Hessian / Jacobian is derived.
pub(crate) const DENSE_MAX: usize = 64;

/// Arguments of `sde derive`.
#[derive(Args, Debug)]
pub struct DeriveArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Evaluate at this point instead of printing formulas: `--at x=[1,2]` (repeatable; unset states are 0)
    #[arg(long, value_name = "NAME=VALUE")]
    at: Vec<String>,
    /// Time at which to evaluate drifts and diffusions
    #[arg(long, default_value_t = 0.0)]
    t: f64,
    /// With --at: print JSON instead of text
    #[arg(long)]
    json: bool,
}

/// Runs `sde derive`; returns the exit code.
pub fn derive(args: &DeriveArgs) -> i32 {
    let mut options = args.model.options();
    options.build = BuildOptions {
        hessian: true,
        jacobian: true,
        ..Default::default()
    };
    // Dense derivatives only for small states: peek at the size first.
    let probe = match compile_file(&args.model.file, &args.model.options()) {
        Ok(c) => c,
        Err(f) => return report_failure(&f),
    };
    if probe.model.state_size() > DENSE_MAX {
        options.build = BuildOptions::default();
    }
    drop(probe);
    let mut c = match compile_file(&args.model.file, &options) {
        Ok(c) => c,
        Err(f) => return report_failure(&f),
    };
    if args.at.is_empty() {
        print!("{}", formulas(&c));
        return 0;
    }
    let mut x = vec![0.0; c.model.state_size()];
    let offsets = c.model.state_offsets();
    for text in &args.at {
        match sdelang::pipeline::parse_init(&mut c.sources, &c.model, text) {
            Ok((name, values)) => {
                if let Some(k) = c.model.states.iter().position(|s| s.name == name) {
                    let off = offsets.get(k).copied().unwrap_or(0);
                    for (d, v) in x.iter_mut().skip(off).zip(values) {
                        *d = v;
                    }
                }
            }
            Err(d) => {
                report(&d, &c.sources);
                return EXIT_USER;
            }
        }
    }
    let values = evaluate(&c, &x, args.t);
    if args.json {
        println!("{}", to_json(&values));
    } else {
        for (name, v) in &values {
            println!("{name} = {}", fmt_vec(v));
        }
    }
    0
}

/// The formulas as text.
pub(crate) fn formulas(c: &Compilation) -> String {
    let owned = ModelNames::of(&c.model);
    let n = owned.names();
    let sys = &c.system;
    let mut arena = sys.arena.clone();
    let mut out = String::new();
    let _ = writeln!(out, "model {}", c.model.name);
    if let Some(u) = sys.energy {
        let _ = writeln!(out, "\nenergy\n  U = {}", n.expr(&arena, u));
        let score = negate(&mut arena, &sys.gradient);
        let _ = writeln!(out, "\nscore s = -∇U");
        let label = |ix: &Index| format!("s[{}]", n.component(ix));
        out.push_str(&indent(&n.program(&arena, &score, &label)));
        if let Some(h) = &sys.hessian {
            let size = sys.state_size as i64;
            let _ = writeln!(out, "\nHessian H = ∇²U  (n = {size})");
            let label = |ix: &Index| hessian_label(&n, ix, size);
            out.push_str(&indent(&n.program(&arena, h, &label)));
        }
    }
    for eq in &sys.sdes {
        let state = c
            .model
            .states
            .get(eq.state.0 as usize)
            .map_or("?", |s| s.name.as_str());
        let lhs = match &eq.components {
            SdeComponents::Scalar => format!("d{state}"),
            SdeComponents::Each(v) => format!("d{state}[{}]", index_str(&Index::var(*v))),
            SdeComponents::Rows { row, col, .. } => format!(
                "d{state}[{}, {}]",
                index_str(&Index::var(*row)),
                index_str(&Index::var(*col))
            ),
        };
        let convention = eq.convention.describe();
        let _ = writeln!(out, "\nSDE {lhs} ({convention})");
        let _ = writeln!(out, "  drift        f = {}", n.expr(&arena, eq.drift));
        let _ = writeln!(out, "  diffusion    g = {}", n.expr(&arena, eq.diffusion));
        let _ = writeln!(out, "  ∂g/∂{state}        = {}", n.expr(&arena, eq.diffusion_dx));
        if arena.as_const(eq.correction) != Some(0.0) {
            let alpha = eq.convention.alpha();
            let _ = writeln!(
                out,
                "  correction {alpha}·Σ G∂G = {}",
                n.expr(&arena, eq.correction)
            );
        }
        let _ = writeln!(out, "  Itô drift      = {}", n.expr(&arena, eq.drift_ito));
        if arena.as_const(eq.noise_drift) != Some(0.0) {
            let _ = writeln!(out, "  Stratonovich drift = {}", n.expr(&arena, eq.drift_strat));
        }
    }
    out
}

fn hessian_label(n: &Names, ix: &Index, size: i64) -> String {
    // Split row·size + col back into its parts for display.
    let row_const = ix.constant.div_euclid(size);
    let col_const = ix.constant.rem_euclid(size);
    let mut row = Index::constant(row_const);
    let mut col = Index::constant(col_const);
    for (v, c) in &ix.terms {
        if c.abs() >= size && c % size == 0 {
            row.terms.push((*v, c / size));
        } else {
            col.terms.push((*v, *c));
        }
    }
    format!("H[{}, {}]", n.component(&row), n.component(&col))
}

fn indent(s: &str) -> String {
    s.lines().map(|l| format!("  {l}\n")).collect()
}

fn negate(arena: &mut sdelang::symbolic::Arena, stmts: &[Stmt]) -> Vec<Stmt> {
    stmts
        .iter()
        .map(|s| match s {
            Stmt::Accumulate { index, value } => Stmt::Accumulate {
                index: index.clone(),
                value: arena.neg(*value),
            },
            Stmt::Loop {
                var,
                lo,
                hi,
                over,
                body,
            } => Stmt::Loop {
                var: *var,
                lo: lo.clone(),
                hi: hi.clone(),
                over: over.clone(),
                body: negate(arena, body),
            },
        })
        .collect()
}

/// Values of every derived quantity at `x`, by name.
fn evaluate(c: &Compilation, x: &[f64], t: f64) -> Vec<(String, Vec<f64>)> {
    let m = &c.compiled;
    let n = x.len();
    let mut out = Vec::new();
    let call = |kind: KernelKind, len: usize| -> Option<(f64, Vec<f64>)> {
        if !m.has(kind) {
            return None;
        }
        let mut buf = vec![0.0; len];
        let r = m.call(kind, x, t, &mut buf)?;
        Some((r, buf))
    };
    if let Some((u, g)) = call(KernelKind::EnergyGrad, n) {
        let score: Vec<f64> = g.iter().map(|v| -v).collect();
        out.push(("energy".to_string(), vec![u]));
        out.push(("gradient".into(), g));
        out.push(("score".into(), score));
    }
    if let Some((_, h)) = call(KernelKind::Hessian, n * n) {
        out.push(("hessian".into(), h));
    }
    if let Some((_, d)) = call(KernelKind::DriftDiffusionDg, 3 * n) {
        let mut parts = d.chunks(n.max(1));
        for name in ["drift_ito", "diffusion", "diffusion_dx"] {
            out.push((name.into(), parts.next().map(<[f64]>::to_vec).unwrap_or_default()));
        }
    }
    if let Some((_, d)) = call(KernelKind::StratDriftDiffusion, 2 * n) {
        out.push((
            "drift_stratonovich".into(),
            d.get(..n).map(<[f64]>::to_vec).unwrap_or_default(),
        ));
    }
    let m = sdelang::runtime::SdeSystem::noise(&c.compiled).row_len();
    for (kind, name) in [
        (KernelKind::DriftNoise, "drift_ito"),
        (KernelKind::StratDriftNoise, "drift_stratonovich"),
    ] {
        if let Some((_, d)) = call(kind, n + n * m) {
            let (drift, g) = d.split_at(n.min(d.len()));
            out.push((name.into(), drift.to_vec()));
            if kind == KernelKind::DriftNoise {
                out.push(("diffusion_matrix".into(), g.to_vec()));
            }
        }
    }
    if let Some((_, j)) = call(KernelKind::Jacobian, n * n) {
        out.push(("drift_jacobian".into(), j));
    }
    out
}

fn fmt_vec(v: &[f64]) -> String {
    match v {
        [one] => format!("{one}"),
        _ => format!(
            "[{}]",
            v.iter().map(|x| format!("{x}")).collect::<Vec<_>>().join(", ")
        ),
    }
}

fn json_num(v: f64) -> String {
    if v.is_finite() {
        format!("{v}")
    } else {
        "null".into()
    }
}

fn to_json(values: &[(String, Vec<f64>)]) -> String {
    let fields: Vec<String> = values
        .iter()
        .map(|(k, v)| {
            let val = match v.as_slice() {
                [one] if k == "energy" => json_num(*one),
                _ => format!(
                    "[{}]",
                    v.iter().map(|x| json_num(*x)).collect::<Vec<_>>().join(",")
                ),
            };
            format!("\"{k}\":{val}")
        })
        .collect();
    format!("{{{}}}", fields.join(","))
}
