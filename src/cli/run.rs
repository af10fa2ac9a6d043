//! `sde run`: compile, run the chains or paths in parallel, write CSV files,
//! print the summary.

use super::settings::{self, Overrides};
use super::{fail, report, report_failure, ModelArgs, EXIT_USER};
use clap::Args;
use sdelang::lower::KernelKind;
use sdelang::output::{render_summary, CsvRecorder, RunSummary, RunningStats};
use sdelang::pipeline::{compile_file, Compilation};
use sdelang::runtime::{run_gibbs, run_sde, Recorder, RunConfig, RunError, RunOutput};
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
    ];
    let compile_start = Instant::now();
    let mut c = match compile_file(&args.model.file, &options) {
        Ok(c) => c,
        Err(f) => return report_failure(&f),
    };
    let compile_wall = compile_start.elapsed();
    let resolved = match settings::resolve(&c.model, &args.overrides(), &mut c.sources) {
        Ok(r) => r,
        Err(d) => {
            report(&d, &c.sources);
            return EXIT_USER;
        }
    };
    if args.timings && !args.quiet {
        print_timings(&c, compile_wall);
    }
    let dir = args
        .output
        .clone()
        .unwrap_or_else(|| Path::new("sde-out").join(&c.model.name));
    if let Err(e) = std::fs::create_dir_all(&dir) {
        return fail(
            "E0600",
            format!("cannot create output directory `{}`: {e}", dir.display()),
        );
    }
    let columns = c.model.state_columns();
    let gibbs = c.model.is_gibbs();
    let make = |chain: usize| {
        let csv = CsvRecorder::create(&dir, chain, &columns, !gibbs)?;
        Ok((csv, (RunningStats::new(columns.len()), LastDraw::default())))
    };
    let out = if gibbs {
        run_gibbs(&c.compiled, &resolved.init, &resolved.config, make)
    } else {
        run_sde(&c.compiled, &resolved.init, &resolved.config, make)
    };
    match out {
        Ok(out) => {
            if !args.quiet {
                print_summary(&columns, &resolved.config, &out, &dir, gibbs);
            }
            0
        }
        Err(e) => run_failed(&e),
    }
}

fn run_failed(e: &RunError) -> i32 {
    fail("E0601", e.to_string())
}

/// Keeps a path's last recorded state and its time.
#[derive(Default)]
struct LastDraw {
    t: f64,
    x: Vec<f64>,
}

impl Recorder for LastDraw {
    fn record(&mut self, _step: u64, t: f64, x: &[f64]) -> std::io::Result<()> {
        self.t = t;
        self.x.clear();
        self.x.extend_from_slice(x);
        Ok(())
    }
}

type Recorders = (CsvRecorder, (RunningStats, LastDraw));

/// Prints the summary: for samplers, moments over all draws of all chains; for
/// SDEs, the law of the state at the final time across paths.
fn print_summary(
    columns: &[String],
    config: &RunConfig,
    out: &RunOutput<Recorders>,
    dir: &Path,
    gibbs: bool,
) {
    let summary = RunSummary::new(config, out);
    let stats = if gibbs {
        RunningStats::merge_all(columns.len(), out.recorders.iter().map(|(_, (s, _))| s))
    } else {
        let mut finals = RunningStats::new(columns.len());
        for (_, (_, last)) in &out.recorders {
            finals.push(&last.x);
        }
        finals
    };
    print!("{}", render_summary(columns, &stats, &summary));
    if !gibbs {
        if let Some((_, (_, last))) = out.recorders.first() {
            println!("(state at t = {} over {} paths)", last.t, out.recorders.len());
        }
    }
    println!("output: {}", dir.display());
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
