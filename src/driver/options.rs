//! The run options every front door that runs a model accepts: `sde run` and
//! standalone sampler binaries declare their command lines with this one
//! definition, so they take the same flags with the same meaning.

use super::Overrides;
use crate::model::OutputFormat;
use crate::output::FileFormat;
use clap::{Args, ValueEnum};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Output formats of `--format`.
#[derive(ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Format {
    /// sdelang CSV: a header line and the draws (`t` first for SDE paths)
    #[default]
    Csv,
    /// CmdStan CSV (samplers): config comments, lp__ and sampler columns, adaptation block, timing
    Cmdstan,
    /// NumPy .npy arrays, shape (draws, state size)
    Npy,
}

impl Format {
    /// The output module's format.
    pub fn file_format(self) -> FileFormat {
        match self {
            Format::Csv => FileFormat::Csv,
            Format::Cmdstan => FileFormat::CmdStan,
            Format::Npy => FileFormat::Npy,
        }
    }
}

/// Run options (clap arguments, flattened into a front door's command line).
#[derive(Args, Debug, Clone, Default, Serialize, Deserialize)]
pub struct RunOptions {
    /// Integrator, e.g. `mala(step=0.05)`, `baoab(step=0.1, friction=1)`, `milstein(dt=1e-3)`
    #[arg(long, value_name = "METHOD")]
    pub method: Option<String>,
    /// Recorded steps per chain (after warmup)
    #[arg(long)]
    pub steps: Option<u64>,
    /// Warmup steps per chain (not recorded)
    #[arg(long)]
    pub warmup: Option<u64>,
    /// Record every N-th step
    #[arg(long)]
    pub thin: Option<u64>,
    /// Number of chains (or SDE paths), run in parallel
    #[arg(long)]
    pub chains: Option<u64>,
    /// Base seed of the random streams (chain c uses stream (seed, c))
    #[arg(long)]
    pub seed: Option<u64>,
    /// Temperature T of the target exp(-U/T)
    #[arg(long)]
    pub temperature: Option<f64>,
    /// Time step of SDE solvers
    #[arg(long)]
    pub dt: Option<f64>,
    /// Initial time of SDE solvers
    #[arg(long)]
    pub t0: Option<f64>,
    /// End time of SDE solvers (instead of counting steps)
    #[arg(long = "t-end", value_name = "T")]
    pub t_end: Option<f64>,
    /// Record SDE paths every DT time units, stepping onto each of those times
    #[arg(long = "save-every", value_name = "DT")]
    pub save_every: Option<f64>,
    /// Initial value of a state: `--init x=[0.5,0]` (repeatable)
    #[arg(long, value_name = "NAME=VALUE")]
    pub init: Vec<String>,
    /// Output directory for the CSV files (default: sde-out/<model>)
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// Print nothing but errors
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Output format of the per-chain files (default: the run block's `output`, else csv)
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Write a checkpoint every N steps of each chain (continue with `sde run --resume DIR`)
    #[arg(long, value_name = "N")]
    pub checkpoint_every: Option<u64>,
    /// When one chain's state becomes NaN/Inf, stop every chain (default: only that one)
    #[arg(long)]
    pub stop_all_on_nonfinite: bool,
}

impl RunOptions {
    /// The run-setting overrides these options make.
    pub fn overrides(&self) -> Overrides {
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
            stop_all_on_nonfinite: self.stop_all_on_nonfinite,
        }
    }

    /// The file format: `--format`, else the run block's `output = "…"`, else CSV.
    pub fn file_format(&self, run: &crate::model::RunSettings) -> FileFormat {
        match (self.format, run.output) {
            (Some(f), _) => f.file_format(),
            (None, Some(OutputFormat::CmdStan)) => FileFormat::CmdStan,
            (None, Some(OutputFormat::Npy)) => FileFormat::Npy,
            (None, Some(OutputFormat::Csv) | None) => FileFormat::Csv,
        }
    }

    /// The output directory: `--output`, else `sde-out/<model>`.
    pub fn output_dir(&self, model: &str) -> PathBuf {
        self.output
            .clone()
            .unwrap_or_else(|| std::path::Path::new("sde-out").join(model))
    }
}
