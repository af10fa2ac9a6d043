//! Workload W1 (../shared/peers/WORKLOADS.md): d = 1000 anisotropic Gaussian,
//! 16 chains × 10 000 steps, ULA (h = 0.01) and BAOAB (γ = 1, h = 0.1), x₀ = 0.
//!
//! Runs the compiled `examples/gauss_1k.sde` and, in the same process run, the
//! hand-written Rust baseline (`../shared/peers/rust-baseline`, built here with
//! cargo), alternating them, and prints both throughputs in dimension-steps per
//! second with their ratio. `cargo bench --bench w1 [-- --reps N --steps N]`.

use sdelang::pipeline::{compile_file, CompileOptions};
use sdelang::runtime::{run_gibbs, Kinetic, Method, Recorder, RunConfig};
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Sums of x₁ and x_d over the recorded draws (the baseline's statistics).
#[derive(Default)]
struct Moments {
    n: u64,
    s1f: f64,
    s2f: f64,
    s1l: f64,
    s2l: f64,
}

impl Recorder for Moments {
    fn record(&mut self, _step: u64, _t: f64, x: &[f64]) -> io::Result<()> {
        let (f, l) = (
            x.first().copied().unwrap_or(0.0),
            x.last().copied().unwrap_or(0.0),
        );
        self.n += 1;
        self.s1f += f;
        self.s2f += f * f;
        self.s1l += l;
        self.s2l += l * l;
        Ok(())
    }
}

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn baseline_binary() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/peers/rust-baseline");
    if !dir.exists() {
        eprintln!("baseline not found at {}", dir.display());
        return None;
    }
    let target = std::env::temp_dir().join("sdelang-bench-baseline");
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "--quiet", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target)
        .status()
        .ok()?;
    status.success().then(|| target.join("release/peers-baseline"))
}

fn baseline_rate(bin: &Path, method: &str, steps: u64) -> Option<f64> {
    let out = Command::new(bin)
        .args([
            &format!("w1-{method}"),
            "--steps",
            &steps.to_string(),
            "--chains",
            "16",
        ])
        .env("PEER_THREADS", "2")
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let key = "\"dim_steps_per_sec\":";
    let start = text.find(key)? + key.len();
    let rest = text.get(start..)?;
    let end = rest.find([',', '}'])?;
    rest.get(..end)?.trim().parse().ok()
}

fn main() {
    let reps = arg("--reps", 3);
    let steps = arg("--steps", 10_000);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/gauss_1k.sde");
    let t0 = Instant::now();
    let compiled = match compile_file(&path, &CompileOptions::default()) {
        Ok(c) => c,
        Err(f) => {
            eprintln!("{}", sdelang::render::render(&f.diagnostics, &f.sources, false));
            std::process::exit(1);
        }
    };
    println!(
        "compiled {} in {:.1} ms",
        path.display(),
        t0.elapsed().as_secs_f64() * 1e3
    );
    let d = compiled.model.state_size();
    let bin = baseline_binary();
    if bin.is_none() {
        eprintln!("warning: the baseline could not be built; printing sdelang figures only");
    }
    println!("W1 gauss-1k: d = {d}, 16 chains x {steps} steps, {reps} alternating repetitions (median)");
    println!(
        "{:<8} {:>16} {:>16} {:>8}",
        "method", "sdelang dim-st/s", "baseline dim-st/s", "ratio"
    );
    for (name, method) in [
        ("ula", Method::ula(0.01)),
        (
            "baoab",
            Method::Baoab(Kinetic {
                step: 0.1,
                friction: 1.0,
                mass: 1.0,
            }),
        ),
    ] {
        let config = RunConfig {
            method,
            chains: 16,
            warmup: steps / 2,
            steps: steps - steps / 2,
            thin: 1,
            seed: 42,
            temperature: 1.0,
            t0: 0.0,
            stop_all_on_nonfinite: false,
        };
        let init = vec![0.0; d];
        let mut ours = Vec::new();
        let mut theirs = Vec::new();
        let mut last = None;
        for _ in 0..reps {
            let start = Instant::now();
            let out = run_gibbs(&compiled.compiled, &init, &config, |_| Ok(Moments::default()));
            let secs = start.elapsed().as_secs_f64();
            match out {
                Ok(o) => last = Some(o),
                Err(e) => {
                    eprintln!("run failed: {e}");
                    std::process::exit(1);
                }
            }
            ours.push((d as u64 * 16 * steps) as f64 / secs);
            if let Some(b) = bin.as_deref().and_then(|b| baseline_rate(b, name, steps)) {
                theirs.push(b);
            }
        }
        let median = |v: &mut Vec<f64>| {
            v.sort_by(|a, b| a.total_cmp(b));
            v.get(v.len() / 2).copied()
        };
        let ours_m = median(&mut ours).unwrap_or(0.0);
        match median(&mut theirs) {
            Some(t) => println!("{name:<8} {ours_m:>16.3e} {t:>16.3e} {:>8.3}", ours_m / t),
            None => println!("{name:<8} {ours_m:>16.3e} {:>16} {:>8}", "-", "-"),
        }
        if let Some(o) = last {
            let mut m = Moments::default();
            for r in &o.recorders {
                m.n += r.n;
                m.s1f += r.s1f;
                m.s2f += r.s2f;
                m.s1l += r.s1l;
                m.s2l += r.s2l;
            }
            let n = m.n as f64;
            let (mf, ml) = (m.s1f / n, m.s1l / n);
            println!(
                "         mean x_1 {:+.4} var x_1 {:.4} | mean x_d {:+.3} var x_d {:.2}",
                mf,
                m.s2f / n - mf * mf,
                ml,
                m.s2l / n - ml * ml
            );
        }
    }
}
