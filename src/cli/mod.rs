//! Command-line interface: argument parsing and dispatch. The only place (with
//! the REPL) that touches the terminal.

mod build;
mod derive;
mod plot;
mod progress;
mod repl;
mod run;
mod summary;

use clap::{Args, Parser, Subcommand};
use sdelang::diagnostic::Diagnostic;
use sdelang::pipeline::{CompileOptions, Failure};
use sdelang::source::SourceMap;
use std::io::IsTerminal;
use std::path::PathBuf;

/// Exit code for user errors (bad model, bad settings, failed run).
pub const EXIT_USER: i32 = 2;
/// Exit code for internal compiler errors.
pub const EXIT_BUG: i32 = 70;

#[derive(Parser, Debug)]
#[command(name = "sde", version, about = "sdelang: compile and run stochastic dynamics models", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Parsed once per process; boxing the large variant would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
enum Command {
    /// Compile a model and run it (sampler chains or SDE paths), writing CSV files and a summary
    Run(Box<run::RunArgs>),
    /// Recompute the summary table and warnings from a run's saved output directory
    Summary(summary::SummaryArgs),
    /// Draw trace, histogram, pair and energy plots (SVG and PNG) from a run's output directory
    Plot(plot::PlotArgs),
    /// Parse and check a model file without running it
    Check(CheckArgs),
    /// Print the derived score, Hessian and drift corrections, or evaluate them at a point
    Derive(derive::DeriveArgs),
    /// Interactive session: define, evaluate, differentiate, run and plot step by step
    Repl(repl::ReplArgs),
    /// Compile a model ahead of time into a standalone sampler executable
    Build(build::BuildArgs),
}

/// Options shared by every command that compiles a model.
#[derive(Args, Debug, Clone)]
pub struct ModelArgs {
    /// The `.sde` model file
    pub file: PathBuf,
    /// Override a parameter: `--set beta=2`, `--set s=[1,2,3]` (repeatable)
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    /// Which model of the file to use (when it defines several)
    #[arg(long, value_name = "NAME")]
    pub model: Option<String>,
    /// A JSON or CSV file binding `data` declarations (repeatable; searched before the run block's)
    #[arg(long = "data", value_name = "FILE")]
    pub data: Vec<PathBuf>,
}

impl ModelArgs {
    fn options(&self) -> CompileOptions {
        CompileOptions {
            overrides: self.set.clone(),
            model: self.model.clone(),
            data: self.data.clone(),
            ..CompileOptions::default()
        }
    }
}

#[derive(Args, Debug)]
struct CheckArgs {
    #[command(flatten)]
    model: ModelArgs,
}

/// Runs the CLI and returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_USER } else { 0 };
        }
    };
    match cli.command {
        Command::Run(args) => run::run(&args),
        Command::Check(args) => check(&args),
        Command::Summary(args) => summary::summary(&args),
        Command::Plot(args) => plot::plot(&args),
        Command::Derive(args) => derive::derive(&args),
        Command::Repl(args) => repl::repl(&args),
        Command::Build(args) => build::build(&args),
    }
}

fn check(args: &CheckArgs) -> i32 {
    match sdelang::pipeline::compile_file(&args.model.file, &args.model.options()) {
        Ok(c) => {
            let m = &c.model;
            let kind = if m.is_gibbs() { "energy model" } else { "SDE model" };
            let data = m.params.iter().filter(|p| p.data).count();
            let params = m.params.len() - data;
            println!(
                "ok: {} `{}`: {} state component{}, {} parameter{}{}",
                kind,
                m.name,
                m.state_size(),
                if m.state_size() == 1 { "" } else { "s" },
                params,
                if params == 1 { "" } else { "s" },
                if data > 0 {
                    format!(", {data} data")
                } else {
                    String::new()
                },
            );
            0
        }
        Err(f) => report_failure(&f),
    }
}

/// Renders diagnostics to stderr (colour when stderr is a terminal).
pub fn report(diags: &[Diagnostic], sources: &SourceMap) {
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    eprint!("{}", sdelang::render::render(diags, sources, color));
}

/// Renders a failed compilation and returns the exit code.
pub fn report_failure(f: &Failure) -> i32 {
    report(&f.diagnostics, &f.sources);
    if f.diagnostics
        .iter()
        .any(|d| d.severity == sdelang::diagnostic::Severity::Bug)
    {
        EXIT_BUG
    } else {
        EXIT_USER
    }
}

/// Reports a one-line user error (no source span) and returns the exit code.
pub fn fail(code: &'static str, message: String) -> i32 {
    report(&[Diagnostic::error(code, message)], &SourceMap::new());
    EXIT_USER
}
