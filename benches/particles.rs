//! Workloads W3 (Lennard-Jones fluid, N = 4000, 1000 BAOAB steps) and W5 (mean-field
//! particles, N = 2000, 1000 overdamped steps, gauss kernel) of
//! ../shared/peers/WORKLOADS.md, through `examples/lj_fluid.sde` and
//! `examples/mean_field.sde` run by the `sde` command, side by side with the
//! hand-written Rust baseline (alternating over the repetitions) and the Python peers
//! (OpenMM CPU and JAX-MD for W3, JAX for W5). For W5 the baseline also runs built for
//! 128-bit vectors without AVX-512 (`target/peers-baseline-128`): sdelang's vectors are
//! 128-bit, the widest Cranelift emits on x86-64, and this row shows how much of the gap
//! to the AVX-512 build is vector width and register count.
//!
//! sdelang's time is the whole `sde run` process (parse, compile, run, write the CSV
//! of the observables), so it is an upper bound on the run itself.
//!
//! `cargo bench --bench particles [-- --reps N --python-reps N --no-python]`
//! (Python peers need `benches/setup-peers.sh`.)

#[path = "support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;
use support::{Runs, Table};

/// One workload as sdelang runs it.
struct Workload {
    title: &'static str,
    example: &'static str,
    /// Particles × steps of one run.
    particle_steps: f64,
    /// The observable column and the first recorded step its statistic averages.
    column: &'static str,
    from_row: usize,
}

/// Runs the example once; (particle-steps per second, the statistic).
fn sdelang_run(w: &Workload, out: &Path, threads: usize) -> Result<(f64, f64), String> {
    let _ = std::fs::remove_dir_all(out);
    let example = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(w.example);
    let start = Instant::now();
    let status = Command::new(env!("CARGO_BIN_EXE_sde"))
        .arg("run")
        .arg(&example)
        .arg("--output")
        .arg(out)
        .arg("--quiet")
        .arg("--seed")
        .arg(support::seed().to_string())
        .env("RAYON_NUM_THREADS", threads.to_string())
        .status()
        .map_err(|e| format!("cannot start sde: {e}"))?;
    let secs = start.elapsed().as_secs_f64();
    if !status.success() {
        return Err(format!("sde run {} failed: {status}", w.example));
    }
    let text = std::fs::read_to_string(out.join("chain_1.csv")).map_err(|e| e.to_string())?;
    let mut lines = text.lines().filter(|l| !l.starts_with('#') && !l.is_empty());
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let k = header
        .iter()
        .position(|h| *h == w.column)
        .ok_or_else(|| format!("no column {}", w.column))?;
    let values: Vec<f64> = lines
        .skip(w.from_row)
        .filter_map(|l| l.split(',').nth(k).and_then(|v| v.parse().ok()))
        .collect();
    let stat = values.iter().sum::<f64>() / values.len().max(1) as f64;
    Ok((w.particle_steps / secs, stat))
}

fn main() {
    let reps: u64 = support::arg("--reps", 3);
    let python_reps: u64 = if support::flag("--no-python") {
        0
    } else {
        support::arg("--python-reps", 1)
    };
    let threads = support::pin_threads();
    println!(
        "W3 and W5 particle workloads, {reps} alternating repetitions of sdelang and the Rust \
         baseline, {python_reps} of the Python peers, {threads} threads; {}\n",
        support::conditions()
    );
    let out: PathBuf = std::env::temp_dir().join(format!("sdelang-bench-particles-{}", std::process::id()));

    let w3 = Workload {
        title: "W3 Lennard-Jones fluid, N = 4000, rho = 0.8, T = 1, rc = 2.5, BAOAB dt = 0.005, 1000 steps",
        example: "lj_fluid.sde",
        particle_steps: 4000.0 * 1000.0,
        column: "pe",
        from_row: 50,
    };
    let (mut ours, mut stat) = (Vec::new(), f64::NAN);
    let [mut base, mut openmm, mut openmm_custom, mut jaxmd] = [(); 4].map(|_| Runs::default());
    for rep in 0..reps {
        match sdelang_run(&w3, &out, threads) {
            Ok((rate, s)) => {
                ours.push(rate);
                stat = s;
            }
            Err(e) => eprintln!("{e}"),
        }
        if base.wanted() {
            base.push("rust-baseline", support::try_baseline("w3", &[]));
        }
        if rep < python_reps {
            if openmm.wanted() {
                openmm.push("openmm", support::try_python_peer("w3_openmm.py", &["nonbonded"]));
            }
            if openmm_custom.wanted() {
                openmm_custom.push(
                    "openmm-custom",
                    support::try_python_peer("w3_openmm.py", &["custom"]),
                );
            }
            if jaxmd.wanted() {
                jaxmd.push("jax-md", support::try_python_peer("w3_jaxmd.py", &["--x64"]));
            }
        }
    }
    let mut table = Table::new(
        w3.title,
        "particle-steps/s",
        "rust-baseline",
        &["PE/N steps 510-1000"],
    );
    table.row(
        "sdelang",
        support::median(&ours),
        vec![support::num(stat)],
        &support::runs_note(&ours),
    );
    let keys = ["pe_per_particle_mean"];
    table.peer_row("rust-baseline", &base, "particle_steps_per_sec", &keys);
    table.peer_row(
        "openmm (NonbondedForce)",
        &openmm,
        "particle_steps_per_sec",
        &keys,
    );
    table.peer_row(
        "openmm (CustomNonbondedForce)",
        &openmm_custom,
        "particle_steps_per_sec",
        &keys,
    );
    table.peer_row("jax-md f64", &jaxmd, "particle_steps_per_sec", &keys);
    table.print();

    let w5 = Workload {
        title: "W5 mean-field gauss kernel, N = 2000, beta = 5, h = 0.01, 1000 steps, direct O(N^2) sums",
        example: "mean_field.sde",
        particle_steps: 2000.0 * 1000.0,
        column: "r2",
        from_row: 500,
    };
    let (mut ours, mut stat) = (Vec::new(), f64::NAN);
    let [mut base, mut base128, mut jax] = [(); 3].map(|_| Runs::default());
    for rep in 0..reps {
        match sdelang_run(&w5, &out, threads) {
            Ok((rate, s)) => {
                ours.push(rate);
                stat = s;
            }
            Err(e) => eprintln!("{e}"),
        }
        if base.wanted() {
            base.push("rust-baseline", support::try_baseline("w5-gauss", &[]));
        }
        if base128.wanted() {
            base128.push("rust-baseline-128bit", support::try_baseline_128("w5-gauss", &[]));
        }
        if rep < python_reps && jax.wanted() {
            jax.push("jax", support::try_python_peer("w5_jax.py", &["gauss"]));
        }
    }
    let mut table = Table::new(
        w5.title,
        "particle-steps/s",
        "rust-baseline",
        &["mean r2, steps 501-1000"],
    );
    table.row(
        "sdelang",
        support::median(&ours),
        vec![support::num(stat)],
        &support::runs_note(&ours),
    );
    let keys = ["mean_r2_second_half"];
    table.peer_row("rust-baseline", &base, "particle_steps_per_sec", &keys);
    table.peer_row(
        "rust-baseline, 128-bit vectors",
        &base128,
        "particle_steps_per_sec",
        &keys,
    );
    table.peer_row("jax", &jax, "particle_steps_per_sec", &keys);
    table.print();
    let _ = std::fs::remove_dir_all(&out);
}
