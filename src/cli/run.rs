//! `sde run`: compile, run the chains or paths in parallel, write CSV files,
//! print the summary.

use super::{fail, report, report_failure, ModelArgs, EXIT_USER};
use clap::Args;
use sdelang::driver::{execute, resolve, RunOptions, RunPlan};
use sdelang::lower::KernelKind;
use sdelang::pipeline::{compile_file, Compilation};
use std::time::Instant;

/// Arguments of `sde run`.
#[derive(Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    run: RunOptions,
    /// Print compile time per stage
    #[arg(long)]
    timings: bool,
}

/// Runs `sde run`; returns the exit code.
pub fn run(args: &RunArgs) -> i32 {
    let mut options = args.model.options();
    options.kernels = KernelKind::RUN.to_vec();
    options.method = args.run.method.clone();
    let compile_start = Instant::now();
    let mut c = match compile_file(&args.model.file, &options) {
        Ok(c) => c,
        Err(f) => return report_failure(&f),
    };
    let compile_wall = compile_start.elapsed();
    let resolved = match resolve(&c.model, &args.run.overrides(), &mut c.sources) {
        Ok(r) => r,
        Err(d) => {
            report(&d, &c.sources);
            return EXIT_USER;
        }
    };
    if args.timings && !args.run.quiet {
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
        dir: args.run.output_dir(&c.model.name),
        columns,
        gibbs: c.model.is_gibbs(),
    };
    match execute(c.compiled.native(), &plan) {
        Ok(done) => {
            if !args.run.quiet {
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
