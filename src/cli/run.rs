//! `sde run`: compile, run the chains or paths in parallel, write one file per chain, print
//! the summary and warnings. Ctrl-C (SIGINT) or SIGTERM flushes the files and writes a
//! checkpoint; `sde run --resume DIR` continues from it with the original arguments (kept in
//! `DIR/checkpoint/args.json`).

use super::progress::Progress;
use super::{fail, report, report_failure, ModelArgs, EXIT_USER};
use clap::Args;
use sdelang::driver::{
    exact_columns, input_hashes, resolve, source_hash, DriverError, ModelSource, RunOptions, RunPlan,
};
use sdelang::lower::KernelKind;
use sdelang::pipeline::{compile_file, Compilation};
use sdelang::runtime::RunError;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Exit code of a run stopped by a signal (after its checkpoint), as shells report SIGINT.
const EXIT_INTERRUPTED: i32 = 130;

/// Arguments of `sde run`.
#[derive(Args, Debug, Clone, Serialize, Deserialize)]
pub struct RunArgs {
    /// The `.sde` model file
    #[arg(required_unless_present = "resume")]
    file: Option<PathBuf>,
    /// Override a parameter: `--set beta=2`, `--set s=[1,2,3]` (repeatable)
    #[arg(long = "set", value_name = "NAME=VALUE")]
    set: Vec<String>,
    /// Which model of the file to use (when it defines several)
    #[arg(long, value_name = "NAME")]
    model: Option<String>,
    /// A JSON or CSV file binding `data` declarations (repeatable; searched before the run block's)
    #[arg(long = "data", value_name = "FILE")]
    #[serde(default)]
    data: Vec<PathBuf>,
    /// Continue the interrupted run in DIR from its checkpoints (no other arguments)
    #[arg(long, value_name = "DIR", conflicts_with = "file")]
    resume: Option<PathBuf>,
    #[command(flatten)]
    run: RunOptions,
    /// Print compile time per stage
    #[arg(long)]
    timings: bool,
}

impl RunArgs {
    fn model_args(&self) -> ModelArgs {
        ModelArgs {
            file: self.file.clone().unwrap_or_default(),
            set: self.set.clone(),
            model: self.model.clone(),
            data: self.data.clone(),
        }
    }
}

/// Runs `sde run`; returns the exit code.
pub fn run(args: &RunArgs) -> i32 {
    match &args.resume {
        Some(dir) => resume(dir),
        None => start(&absolute(args), None),
    }
}

/// The arguments with the model file and output directory made absolute, so that a resumed
/// run finds them from any working directory.
fn absolute(args: &RunArgs) -> RunArgs {
    let mut a = args.clone();
    let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    a.file = a.file.as_deref().map(abs);
    a.run.output = a.run.output.as_deref().map(abs);
    a.data = a.data.iter().map(|p| abs(p)).collect();
    a
}

/// What `DIR/checkpoint/args.json` keeps: the arguments, a hash of the model file, and
/// hashes of every file the compilation read (imports and data files too).
#[derive(Serialize, Deserialize)]
struct Saved {
    args: RunArgs,
    source_hash: u64,
    #[serde(default)]
    inputs: Vec<(String, u64)>,
}

fn resume(dir: &Path) -> i32 {
    let path = sdelang::driver::files::checkpoint_dir(dir).join("args.json");
    let saved: Saved = match std::fs::read_to_string(&path).map(|t| serde_json::from_str(&t)) {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return fail("E0602", format!("cannot read `{}`: {e}", path.display())),
        Err(e) => {
            return fail(
                "E0602",
                format!("no checkpoint to resume in `{}`: {e}", dir.display()),
            )
        }
    };
    let file = saved.args.model_args().file;
    if source_hash(&file) != saved.source_hash {
        let file = file.display();
        return fail(
            "E0602",
            format!("`{file}` changed since the run started; it cannot be resumed"),
        );
    }
    start(&saved.args, Some(&saved.inputs))
}

/// The first file of `saved` that is missing from `now` or differs from it.
fn changed_input<'a>(saved: &'a [(String, u64)], now: &[(String, u64)]) -> Option<&'a str> {
    saved
        .iter()
        .find(|(path, hash)| !now.iter().any(|(p, h)| p == path && h == hash))
        .map(|(path, _)| path.as_str())
}

/// Compiles and runs; `resume` holds the input hashes of the run being resumed.
fn start(args: &RunArgs, resume: Option<&[(String, u64)]>) -> i32 {
    let resuming = resume.is_some();
    let model = args.model_args();
    let mut options = model.options();
    options.kernels = KernelKind::RUN.to_vec();
    options.method = args.run.method.clone();
    let compile_start = Instant::now();
    let mut c = match compile_file(&model.file, &options) {
        Ok(c) => c,
        Err(f) => return report_failure(&f),
    };
    let compile_wall = compile_start.elapsed();
    if let Some(changed) = resume.and_then(|saved| changed_input(saved, &input_hashes(&c.sources))) {
        return fail(
            "E0602",
            format!("`{changed}` changed since the run started; it cannot be resumed"),
        );
    }
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
    let dir = args.run.output_dir(&c.model.name);
    let observing = !c.model.particles.is_empty() || !c.model.observables.is_empty();
    let observe = observing.then(|| {
        let record = resolved.sde.record.as_deref().or(c.model.run.record.as_deref());
        sdelang::driver::ObservePlan::for_model(&c.model, record, resolved.config.temperature)
    });
    let columns = match &observe {
        Some(o) => o.columns(&c.model.state_columns()),
        None => columns,
    };
    let mut plan = RunPlan::new(resolved.config, resolved.init, dir, columns, c.model.is_gibbs());
    plan.sde = resolved.sde;
    if let Some(o) = observe {
        // The observer picks the recorded components; the SDE driver hands it the whole state.
        plan.sde.record = None;
        plan.observe = o;
    }
    plan.model = c.model.name.clone();
    plan.format = args.run.file_format(&c.model.run);
    plan.checkpoints = true;
    plan.checkpoint_every = args.run.checkpoint_every.unwrap_or(0);
    plan.resume = resuming;
    plan.exact = exact_columns(&c.model, &plan.columns, &c.sources);
    plan.source = Some(ModelSource {
        file: model.file.clone(),
        set: model.set.clone(),
        data: model.data.clone(),
        hash: source_hash(&model.file),
    });
    execute_plan(&c, plan, args)
}

/// Runs the plan with a signal handler and a progress bar; prints the outcome.
fn execute_plan(c: &Compilation, mut plan: RunPlan, args: &RunArgs) -> i32 {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    // SIGINT and SIGTERM (the `termination` feature): checkpoint and stop at the next step.
    let _ = ctrlc::set_handler(move || flag.store(true, Ordering::Relaxed));
    plan.stop = Some(stop);
    if let Err(e) = save_args(&plan.dir, args, input_hashes(&c.sources)) {
        return fail("E0601", format!("cannot write the checkpoint directory: {e}"));
    }
    let counter = Arc::new(AtomicU64::new(0));
    plan.progress = Some(Arc::clone(&counter));
    let per_chain = plan.config.warmup.saturating_add(plan.config.steps);
    let total = per_chain.saturating_mul(plan.config.chains as u64);
    let bar = Progress::start(&counter, total, args.run.quiet);
    let result = sdelang::driver::execute_native(c.compiled.native(), &c.model, &plan);
    bar.done();
    match result {
        Ok(done) => {
            if !args.run.quiet {
                print!("{}", done.summary);
            }
            for w in &done.warnings {
                eprintln!("warning: {w}");
            }
            0
        }
        Err(DriverError::Run(RunError::Interrupted { .. })) => interrupted(&plan.dir),
        Err(DriverError::Run(RunError::Io { source, .. }))
            if source.kind() == std::io::ErrorKind::Interrupted =>
        {
            interrupted(&plan.dir)
        }
        Err(e @ DriverError::Run(RunError::NonFinite { .. })) => {
            let kept = "the draws before it are kept in its chain_N.*.partial file";
            fail("E0603", format!("{e}\n{kept} in `{}`", plan.dir.display()))
        }
        Err(e) => fail("E0601", e.to_string()),
    }
}

fn interrupted(dir: &Path) -> i32 {
    eprintln!(
        "interrupted: outputs flushed and checkpoints written; continue with `sde run --resume {}`",
        dir.display()
    );
    EXIT_INTERRUPTED
}

fn save_args(dir: &Path, args: &RunArgs, inputs: Vec<(String, u64)>) -> std::io::Result<()> {
    let file = args.model_args().file;
    let ck = sdelang::driver::files::checkpoint_dir(dir);
    std::fs::create_dir_all(&ck)?;
    let mut args = args.clone();
    args.run.output = Some(std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf()));
    let saved = Saved {
        args,
        source_hash: source_hash(&file),
        inputs,
    };
    let text = serde_json::to_string_pretty(&saved).map_err(std::io::Error::other)?;
    std::fs::write(ck.join("args.json"), text)
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
