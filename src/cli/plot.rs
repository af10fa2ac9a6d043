//! `sde plot DIR`: plots of a saved run (see `sdelang::output::plot`).

use super::fail;
use clap::Args;
use std::path::PathBuf;

/// Arguments of `sde plot`.
#[derive(Args, Debug)]
pub struct PlotArgs {
    /// The run's output directory
    dir: PathBuf,
}

/// Runs `sde plot`; returns the exit code.
pub fn plot(args: &PlotArgs) -> i32 {
    fail(
        "E0605",
        format!("plotting `{}` is not available yet", args.dir.display()),
    )
}
