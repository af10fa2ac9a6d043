//! Running a compiled model as `sde run` does: settings from the model's `run`
//! block overridden by the command line, parallel chains or paths streamed to
//! one CSV file per chain, and the summary text. Shared by every front door
//! (the CLI, the REPL, standalone sampler binaries), so they all produce the
//! same files for the same settings. The library never prints: the summary is
//! returned as a string.

pub mod options;
pub mod settings;

use crate::output::{render_summary, CsvRecorder, RunSummary, RunningStats};
use crate::runtime::{
    run_gibbs, run_sde_with, GibbsTarget, NullRecorder, Recorder, RunConfig, RunError, RunOutput, SdeOptions,
    SdeSystem,
};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

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
}

/// Why a run failed.
#[derive(Debug)]
pub enum DriverError {
    /// The output directory could not be created.
    OutputDir(PathBuf, std::io::Error),
    /// The run itself failed (bad settings, non-finite state, I/O).
    Run(RunError),
}

impl std::fmt::Display for DriverError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DriverError::OutputDir(dir, e) => {
                write!(f, "cannot create output directory `{}`: {e}", dir.display())
            }
            DriverError::Run(e) => write!(f, "{e}"),
        }
    }
}

/// Keeps a path's last recorded state and its time.
#[derive(Default, Debug, Clone)]
pub struct LastDraw {
    /// Time of the last recorded draw.
    pub t: f64,
    /// The last recorded state.
    pub x: Vec<f64>,
}

impl Recorder for LastDraw {
    fn record(&mut self, _step: u64, t: f64, x: &[f64]) -> std::io::Result<()> {
        self.t = t;
        self.x.clear();
        self.x.extend_from_slice(x);
        Ok(())
    }
}

/// The recorders of one chain: its CSV file, running moments, last draw.
pub type ChainRecorders = (CsvRecorder, (RunningStats, LastDraw));

/// A finished run.
pub struct Finished {
    /// Reports and recorders per chain.
    pub output: RunOutput<ChainRecorders>,
    /// The summary table and facts, as printed by `sde run`.
    pub summary: String,
}

/// Runs a compiled model (anything that is both a Gibbs target and an SDE
/// system; the plan says which role) and writes its outputs.
pub fn execute<M: GibbsTarget + SdeSystem>(model: &M, plan: &RunPlan) -> Result<Finished, DriverError> {
    execute_with(model, plan, |_| NullRecorder).map(|(done, _)| done)
}

/// [`execute`] with one more recorder per chain, made by `extra(chain)`, handed
/// back in chain order: the REPL keeps draws in memory for plots and stops a
/// run on Ctrl-C through [`Recorder::poll`].
pub fn execute_with<M, X, F>(model: &M, plan: &RunPlan, extra: F) -> Result<(Finished, Vec<X>), DriverError>
where
    M: GibbsTarget + SdeSystem,
    X: Recorder,
    F: Fn(usize) -> X + Sync,
{
    std::fs::create_dir_all(&plan.dir).map_err(|e| DriverError::OutputDir(plan.dir.clone(), e))?;
    let dir = &plan.dir;
    let columns = &plan.columns;
    let gibbs = plan.gibbs;
    let make = |chain: usize| {
        let csv = CsvRecorder::create(dir, chain, columns, !gibbs)?;
        let own: ChainRecorders = (csv, (RunningStats::new(columns.len()), LastDraw::default()));
        Ok((own, extra(chain)))
    };
    let both = if gibbs {
        run_gibbs(model, &plan.init, &plan.config, make)
    } else {
        run_sde_with(model, &plan.init, &plan.config, &plan.sde, make)
    }
    .map_err(DriverError::Run)?;
    let (recorders, extras): (Vec<ChainRecorders>, Vec<X>) = both.recorders.into_iter().unzip();
    let output = RunOutput {
        reports: both.reports,
        recorders,
        wall_time: both.wall_time,
    };
    let summary = summary_text(&plan.config, &output, columns, dir, gibbs);
    Ok((Finished { output, summary }, extras))
}

/// The summary: for samplers, moments over all draws of all chains; for SDEs,
/// the law of the state at the final time across paths.
fn summary_text(
    config: &RunConfig,
    out: &RunOutput<ChainRecorders>,
    columns: &[String],
    dir: &Path,
    gibbs: bool,
) -> String {
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
    let mut text = render_summary(columns, &stats, &summary);
    if !gibbs {
        if let Some((_, (_, last))) = out.recorders.first() {
            let _ = writeln!(
                text,
                "(state at t = {} over {} paths)",
                last.t,
                out.recorders.len()
            );
        }
    }
    let _ = writeln!(text, "output: {}", dir.display());
    text
}
