//! `sde run`: compile, run the chains or paths in parallel, write CSV files,
//! print the summary.

use super::{fail, report, report_failure, ModelArgs, EXIT_USER};
use clap::Args;
use sdelang::driver::{execute, resolve, Overrides, RunPlan};
use sdelang::lower::KernelKind;
use sdelang::pipeline::{compile_file, Compilation};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Arguments of `sde run`.
#[derive(Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Integrator, e.g. `mala(step=0.05)`, `baoab(step=0.1, friction=1)`, `milstein(dt=1e-3)`
    #[arg(long, value_name = "METHOD")]
    method: Option<String>,
    /// Recorded steps per chain (after warmup)
    #[arg(long)]
    steps: Option<u64>,
    /// Warmup steps per chain (not recorded)
    #[arg(long)]
    warmup: Option<u64>,
    /// Record every N-th step
    #[arg(long)]
    thin: Option<u64>,
    /// Number of chains (or SDE paths), run in parallel
    #[arg(long)]
    chains: Option<u64>,
    /// Base seed of the random streams (chain c uses stream (seed, c))
    #[arg(long)]
    seed: Option<u64>,
    /// Temperature T of the target exp(-U/T)
    #[arg(long)]
    temperature: Option<f64>,
    /// Time step of SDE solvers
    #[arg(long)]
    dt: Option<f64>,
    /// Initial time of SDE solvers
    #[arg(long)]
    t0: Option<f64>,
    /// End time of SDE solvers (instead of counting steps)
    #[arg(long = "t-end", value_name = "T")]
    t_end: Option<f64>,
    /// Record SDE paths every DT time units, stepping onto each of those times
    #[arg(long = "save-every", value_name = "DT")]
    save_every: Option<f64>,
    /// Initial value of a state: `--init x=[0.5,0]` (repeatable)
    #[arg(long, value_name = "NAME=VALUE")]
    init: Vec<String>,
    /// Output directory for the CSV files (default: sde-out/<model>)
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    output: Option<PathBuf>,
    /// Print compile time per stage
    #[arg(long)]
    timings: bool,
    /// Print nothing but errors
    #[arg(long, short = 'q')]
    quiet: bool,
}

impl RunArgs {
    fn overrides(&self) -> Overrides {
        Overrides {
            method: self.method.clone(),
            steps: self.steps,
            warmup: self.warmup,
            thin: self.thin,
            chains: self.chains,
            seed: self.seed,
            temperature: self.temperature,
            dt: self.dt,
            t0: self.t0,
            init: self.init.clone(),
            t_end: self.t_end,
            save_every: self.save_every,
        }
    }
}

/// Runs `sde run`; returns the exit code.
pub fn run(args: &RunArgs) -> i32 {
    let mut options = args.model.options();
    options.kernels = vec![
        KernelKind::Energy,
        KernelKind::EnergyGrad,
        KernelKind::Grad,
        KernelKind::DriftDiffusion,
        KernelKind::DriftDiffusionDg,
        KernelKind::StratDriftDiffusion,
        KernelKind::DriftNoise,
        KernelKind::StratDriftNoise,
    ];
    let compile_start = Instant::now();
    let mut c = match compile_file(&args.model.file, &options) {
        Ok(c) => c,
        Err(f) => return report_failure(&f),
    };
    let compile_wall = compile_start.elapsed();
    let resolved = match resolve(&c.model, &args.overrides(), &mut c.sources) {
        Ok(r) => r,
        Err(d) => {
            report(&d, &c.sources);
            return EXIT_USER;
        }
    };
    if args.timings && !args.quiet {
        print_timings(&c, compile_wall);
    }
    let columns = match &resolved.sde.record {
        Some(pick) => {
            let all = c.model.state_columns();
            pick.iter().filter_map(|&i| all.get(i).cloned()).collect()
        }
        None => c.model.state_columns(),
    };
    let plan = RunPlan {
        config: resolved.config,
        init: resolved.init,
        sde: resolved.sde,
        dir: args
            .output
            .clone()
            .unwrap_or_else(|| Path::new("sde-out").join(&c.model.name)),
        columns,
        gibbs: c.model.is_gibbs(),
    };
    match execute(&c.compiled, &plan) {
        Ok(done) => {
            if !args.quiet {
                print!("{}", done.summary);
            }
            0
        }
        Err(e) => fail("E0601", e.to_string()),
    }
}

fn print_timings(c: &Compilation, wall: std::time::Duration) {
    let t = &c.timings;
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
    println!(
        "compile: {:.2} ms (parse {:.2}, check {:.2}, symbolic {:.2}, lower {:.2}, codegen {:.2}); wall {:.2} ms",
        ms(t.total()),
        ms(t.parse),
        ms(t.check),
        ms(t.symbolic),
        ms(t.lower),
        ms(t.codegen),
        ms(wall)
    );
    let insts: usize = c.compiled.stats().instructions.iter().map(|(_, n)| n).sum();
    println!(
        "         {} symbolic nodes, {} parameter tables, {} machine IR instructions",
        c.lowered.arena.len(),
        c.lowered.layout.tables.len(),
        insts
    );
}
