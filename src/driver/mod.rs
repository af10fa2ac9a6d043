//! Running a compiled model as `sde run` does: settings from the model's `run` block
//! overridden by the command line, parallel chains or paths streamed to one file per chain
//! (sdelang CSV, CmdStan CSV or `.npy`), checkpoints and resumption, and the summary text.
//! Shared by every front door (the CLI, the REPL, standalone sampler binaries), so they all
//! produce the same files for the same settings. The library never prints: the summary and
//! warnings are returned as strings.
//!
//! Memory is constant in the run length while the chains run (draws stream to files). The
//! summary is a separate pass that reads the files back a block of columns at a time
//! ([`crate::output::table`]).

pub mod files;
pub mod observe;
pub mod options;
pub mod settings;

use crate::model::exact::Law;
use crate::model::Model;
use crate::output::{render_table, summarise, warnings, CmdStanInfo, FileFormat, SamplerSummary};
use crate::runtime::{
    run_gibbs, run_sde_with, GibbsTarget, Recorder, RunConfig, RunError, RunOutput, SdeOptions, SdeSystem,
};
use crate::source::SourceMap;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::Arc;

pub use files::{ChainFiles, FileSpec};
pub use observe::{ObservePlan, Observed, Observer};
pub use options::RunOptions;
#[cfg(feature = "compiler")]
pub use settings::resolve;
pub use settings::{Overrides, Resolved};

/// Everything a run needs besides the compiled model.
#[derive(Clone, Debug)]
pub struct RunPlan {
    /// Runtime configuration (method, chains, steps, seed …).
    pub config: RunConfig,
    /// Initial flat state.
    pub init: Vec<f64>,
    /// Output directory (created if missing).
    pub dir: PathBuf,
    /// Column names of the recorded components (`x.1`, `x.2`, …; all of the flat
    /// state unless `sde.record` picks some).
    pub columns: Vec<String>,
    /// SDE save times, end time and recorded components.
    pub sde: SdeOptions,
    /// Sampler of a Gibbs target (true) or SDE solver (false).
    pub gibbs: bool,
    /// The model's name (for CmdStan files and `run.json`).
    pub model: String,
    /// Format of the draw files.
    pub format: FileFormat,
    /// Checkpoint every this many steps (0: only when stopped and at the end).
    pub checkpoint_every: u64,
    /// Write checkpoints (on `stop`, every `checkpoint_every` steps, at the end of each chain).
    pub checkpoints: bool,
    /// Continue from the checkpoints in `dir` instead of starting afresh.
    pub resume: bool,
    /// Set (by a signal handler) to checkpoint and stop every chain.
    pub stop: Option<Arc<AtomicBool>>,
    /// Incremented with the steps taken, for a progress display.
    pub progress: Option<Arc<AtomicU64>>,
    /// Where the model came from, for `run.json` (`sde plot` rebuilds it).
    pub source: Option<ModelSource>,
    /// The model's exact marginal laws of recorded columns, for `run.json`.
    pub exact: Vec<ExactColumn>,
    /// Observables, trajectories and g(r), and the state components written.
    pub observe: ObservePlan,
}

impl RunPlan {
    /// A plan writing sdelang CSV, without checkpoints or progress.
    pub fn new(config: RunConfig, init: Vec<f64>, dir: PathBuf, columns: Vec<String>, gibbs: bool) -> Self {
        RunPlan {
            config,
            init,
            dir,
            columns,
            sde: SdeOptions::default(),
            gibbs,
            model: String::from("model"),
            format: FileFormat::Csv,
            checkpoint_every: 0,
            checkpoints: false,
            resume: false,
            stop: None,
            progress: None,
            source: None,
            exact: Vec::new(),
            observe: ObservePlan::default(),
        }
    }
}

/// Where a run's model came from: enough to compile it again (`sde plot` does, to evaluate
/// the energy of a scalar model).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSource {
    /// The model file (absolute).
    pub file: PathBuf,
    /// The `--set` overrides, as given.
    pub set: Vec<String>,
    /// The `--data` files (absolute).
    #[serde(default)]
    pub data: Vec<PathBuf>,
    /// [`source_hash`] of the file when the run started.
    pub hash: u64,
}

/// A declared exact marginal law of one recorded column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExactColumn {
    /// The column (`x.1`).
    pub column: String,
    /// The `exact` item as written, for captions.
    pub text: String,
    /// The law, in closed form.
    pub law: Law,
}

/// What `run.json` records for `sde plot` besides the run itself (a standalone binary embeds
/// it from its build).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PlotFacts {
    /// Where the model came from.
    pub source: Option<ModelSource>,
    /// Its exact laws, by column.
    pub exact: Vec<ExactColumn>,
}

/// FNV-1a of a file's bytes (0 for an unreadable file): whether a model changed since a run.
pub fn source_hash(path: &Path) -> u64 {
    bytes_hash(&std::fs::read(path).unwrap_or_default())
}

/// The 64-bit FNV-1a hash of `bytes`.
pub fn bytes_hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The hash of every file a compilation read from disk (the model, its imports, its data
/// files), by path: a run can only be resumed while they are unchanged.
pub fn input_hashes(sources: &SourceMap) -> Vec<(String, u64)> {
    sources
        .files()
        .filter_map(|(_, f)| {
            Some((
                f.path.as_ref()?.display().to_string(),
                bytes_hash(f.text.as_bytes()),
            ))
        })
        .collect()
}

/// The exact laws `model` declares for components recorded as `columns`, with each item's
/// text from `sources`.
pub fn exact_columns(model: &Model, columns: &[String], sources: &SourceMap) -> Vec<ExactColumn> {
    let all = model.state_columns();
    model
        .exact
        .iter()
        .filter_map(|x| {
            let column = all.get(x.component)?;
            if !columns.contains(column) {
                return None;
            }
            let text = sources
                .get(x.span.source)
                .and_then(|f| f.text.get(x.span.start..x.span.end))
                .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
                .unwrap_or_default();
            Some(ExactColumn {
                column: column.clone(),
                text,
                law: x.law.clone(),
            })
        })
        .collect()
}

/// Why a run failed.
#[derive(Debug)]
pub enum DriverError {
    /// The output directory could not be created or cleaned.
    OutputDir(PathBuf, std::io::Error),
    /// The run itself failed (bad settings, non-finite state, I/O, interruption).
    Run(RunError),
    /// The format does not fit the run (CmdStan files are for samplers).
    Format(String),
}

impl std::fmt::Display for DriverError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DriverError::OutputDir(dir, e) => {
                write!(f, "cannot prepare output directory `{}`: {e}", dir.display())
            }
            DriverError::Run(e) => write!(f, "{e}"),
            DriverError::Format(m) => write!(f, "{m}"),
        }
    }
}

/// Facts about a finished run, saved as `DIR/run.json` for `sde summary` and `sde plot`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunFacts {
    /// The model's name.
    pub model: String,
    /// The method as the language spells it.
    pub method: String,
    /// Chains run.
    pub chains: usize,
    /// Draws over all chains.
    pub draws: u64,
    /// Acceptance rate after warmup (Metropolis methods).
    pub acceptance: Option<f64>,
    /// Wall time in seconds (not saved, so that `run.json` is the same for the same run).
    #[serde(skip)]
    pub wall_time: f64,
    /// Chains resumed from a checkpoint and the step each continued from (not saved: a
    /// resumed run writes the same files as an uninterrupted one).
    #[serde(skip)]
    pub resumed: Vec<(usize, u64)>,
    /// Sampler (true) or SDE (false) run.
    pub gibbs: bool,
    /// State column names.
    pub columns: Vec<String>,
    /// Temperature.
    pub temperature: f64,
    /// The samplers' report lines (adapted step size and mass, divergences, tree depth).
    #[serde(default)]
    pub sampler: String,
    /// Divergent transitions over all chains (HMC, NUTS).
    #[serde(default)]
    pub divergences: Option<u64>,
    /// Mean acceptance statistic (NUTS).
    #[serde(default)]
    pub accept_stat: Option<f64>,
    /// Where the model came from (absent for models typed into the REPL).
    #[serde(default)]
    pub source: Option<ModelSource>,
    /// Exact marginal laws the model declares for recorded columns.
    #[serde(default)]
    pub exact: Vec<ExactColumn>,
}

impl RunFacts {
    /// Facts of a directory without `run.json`: nothing known.
    pub fn unknown() -> RunFacts {
        RunFacts {
            model: String::new(),
            method: String::from("unknown"),
            chains: 0,
            draws: 0,
            acceptance: None,
            wall_time: 0.0,
            resumed: Vec::new(),
            gibbs: true,
            columns: Vec::new(),
            temperature: 1.0,
            sampler: String::new(),
            divergences: None,
            accept_stat: None,
            source: None,
            exact: Vec::new(),
        }
    }
}

/// Reads `DIR/run.json`, if present and readable.
pub fn read_facts(dir: &Path) -> Option<RunFacts> {
    let text = std::fs::read_to_string(dir.join("run.json")).ok()?;
    serde_json::from_str(&text).ok()
}

/// A finished run.
pub struct Finished {
    /// Reports per chain (the recorders are finished and dropped).
    pub output: RunOutput<()>,
    /// The summary: run facts and the diagnostics table.
    pub summary: String,
    /// Warnings about the draws (R̂, ESS, acceptance, divergences, NaN/Inf).
    pub warnings: Vec<String>,
}

/// Number of blocks the kernels of a particle model are split into unless the
/// run block sets `blocks` (fixed, so that results do not depend on the thread
/// count; each block is one parallel task).
pub const PARTICLE_BLOCKS: usize = 8;

/// Runs a compiled model as [`execute`] does; a model with particles runs through
/// a [`ParticleModel`](crate::native::particles::ParticleModel) (neighbour lists,
/// blocks).
pub fn execute_native(
    native: &crate::native::NativeModel,
    model: &crate::model::Model,
    plan: &RunPlan,
) -> Result<Finished, DriverError> {
    if model.particles.is_empty() {
        return execute(native, plan);
    }
    let blocks = model.run.blocks.map_or(PARTICLE_BLOCKS, |b| b as usize);
    let spec = crate::native::particles::ParticleSpec::from_model(model, blocks, plan.config.seed);
    let pm = crate::native::particles::ParticleModel::new(native.clone(), spec)
        .map_err(|e| DriverError::Format(e.to_string()))?;
    execute(&pm, plan)
}

/// Runs a compiled model (anything that is both a Gibbs target and an SDE
/// system; the plan says which role) and writes its outputs.
pub fn execute<M: GibbsTarget + SdeSystem + Observer>(
    model: &M,
    plan: &RunPlan,
) -> Result<Finished, DriverError> {
    execute_with(model, plan, |_| crate::runtime::NullRecorder).map(|(done, _)| done)
}

/// [`execute`] with one more recorder per chain, made by `extra(chain)`, handed
/// back in chain order: the REPL keeps draws in memory for plots and stops a
/// run on Ctrl-C through [`Recorder::poll`].
pub fn execute_with<M, X, F>(model: &M, plan: &RunPlan, extra: F) -> Result<(Finished, Vec<X>), DriverError>
where
    M: GibbsTarget + SdeSystem + Observer,
    X: Recorder,
    F: Fn(usize) -> X + Sync,
{
    let spec = prepare(plan)?;
    let make = |chain: usize| {
        let own = if plan.resume {
            ChainFiles::resume(&spec, chain)?
        } else {
            ChainFiles::create(&spec, chain)?
        };
        let draws = own.resumed_draws();
        let own = Observed::new(own, &plan.observe, model, &plan.dir, chain, draws)?;
        Ok((own, extra(chain)))
    };
    let both = if plan.gibbs {
        run_gibbs(model, &plan.init, &plan.config, make)
    } else {
        run_sde_with(model, &plan.init, &plan.config, &plan.sde, make)
    }
    .map_err(DriverError::Run)?;
    let extras: Vec<X> = both.recorders.into_iter().map(|(_, x)| x).collect();
    let output = RunOutput {
        reports: both.reports,
        recorders: Vec::new(),
        wall_time: both.wall_time,
    };
    if plan.checkpoints {
        let _ = std::fs::remove_dir_all(files::checkpoint_dir(&plan.dir));
    }
    let facts = facts(plan, &output);
    if let Ok(text) = serde_json::to_string_pretty(&facts) {
        let _ = std::fs::write(plan.dir.join("run.json"), text);
    }
    let (summary, warnings) =
        summary_text(&plan.dir, &facts).map_err(|e| DriverError::OutputDir(plan.dir.clone(), e))?;
    Ok((
        Finished {
            output,
            summary,
            warnings,
        },
        extras,
    ))
}

/// Checks the plan, creates the directory, removes a fresh run's stale files, and describes
/// the chain files.
fn prepare(plan: &RunPlan) -> Result<FileSpec, DriverError> {
    if plan.format == FileFormat::CmdStan && !plan.gibbs {
        return Err(DriverError::Format(
            "CmdStan CSV holds sampler draws; SDE paths are written as csv or npy".to_string(),
        ));
    }
    let dir_err = |e| DriverError::OutputDir(plan.dir.clone(), e);
    std::fs::create_dir_all(&plan.dir).map_err(dir_err)?;
    if !plan.resume {
        clean(&plan.dir).map_err(dir_err)?;
    }
    let cmdstan = (plan.format == FileFormat::CmdStan).then(|| CmdStanInfo {
        model: plan.model.clone(),
        config: plan.config.clone(),
        columns: plan.columns.clone(),
    });
    Ok(FileSpec {
        dir: plan.dir.clone(),
        format: plan.format,
        columns: plan.columns.clone(),
        with_time: !plan.gibbs,
        cmdstan,
        every: plan.checkpoint_every,
        checkpoints: plan.checkpoints,
        stop: plan.stop.clone(),
        progress: plan.progress.clone(),
    })
}

/// Removes an earlier run's chain files, chain checkpoints and facts from `dir` (the front
/// door's own files in `DIR/checkpoint`, such as its saved arguments, stay).
fn clean(dir: &Path) -> io::Result<()> {
    remove_matching(dir, |name| {
        (name.starts_with("chain_") && [".csv", ".npy", ".partial"].iter().any(|e| name.ends_with(e)))
            || name == "run.json"
    })?;
    match remove_matching(&files::checkpoint_dir(dir), |name| name.starts_with("chain_")) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

fn remove_matching(dir: &Path, stale: impl Fn(&str) -> bool) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.file_name().and_then(|n| n.to_str()).is_some_and(&stale) {
            std::fs::remove_file(&path)?;
        }
    }
    Ok(())
}

fn facts(plan: &RunPlan, out: &RunOutput<()>) -> RunFacts {
    let sampler = SamplerSummary::new(&out.reports);
    let mut lines = String::new();
    sampler.render(&mut lines);
    RunFacts {
        sampler: lines,
        divergences: sampler.divergences,
        accept_stat: sampler.mean_accept_stat,
        model: plan.model.clone(),
        method: plan.config.method.to_string(),
        chains: out.reports.len(),
        draws: out.total_draws(),
        acceptance: out.acceptance_rate(),
        wall_time: out.wall_time.as_secs_f64(),
        resumed: out
            .reports
            .iter()
            .filter_map(|r| r.resumed_from.map(|s| (r.chain, s)))
            .collect(),
        gibbs: plan.gibbs,
        columns: plan.columns.clone(),
        temperature: plan.config.temperature,
        source: plan.source.clone(),
        exact: plan.exact.clone(),
    }
}

/// The run facts, the diagnostics table read back from `dir`, and the warnings.
pub fn summary_text(dir: &Path, facts: &RunFacts) -> io::Result<(String, Vec<String>)> {
    let mut table = summarise(dir, Some(&facts.columns))?;
    if table.method.is_none() {
        table.method = Some(facts.method.clone());
    }
    let mut text = String::new();
    let _ = writeln!(text, "method      {}", facts.method);
    let _ = writeln!(text, "chains      {}", table.files.len());
    let _ = writeln!(text, "draws       {}", table.draws.iter().sum::<usize>());
    if let Some(a) = facts.acceptance.or(table.accept_stat) {
        let _ = writeln!(text, "acceptance  {a:.3}");
    }
    if table.divergences == 0 {
        table.divergences = facts.divergences.unwrap_or(0);
    }
    if facts.wall_time > 0.0 {
        let _ = writeln!(text, "wall time   {:.3} s", facts.wall_time);
    }
    if !facts.resumed.is_empty() {
        let at: Vec<String> = facts
            .resumed
            .iter()
            .map(|(chain, step)| format!("chain {} at step {step}", chain + 1))
            .collect();
        let _ = writeln!(text, "resumed     {}", at.join(", "));
    }
    text.push_str(&facts.sampler);
    text.push('\n');
    text.push_str(&render_table(&table));
    if let Some(t) = table.final_time {
        let _ = writeln!(text, "(state at t = {t} over {} paths)", table.files.len());
    }
    let _ = writeln!(text, "output: {}", dir.display());
    let warn = if facts.gibbs {
        warnings(&table, facts.acceptance)
    } else {
        Vec::new()
    };
    Ok((text, warn))
}
