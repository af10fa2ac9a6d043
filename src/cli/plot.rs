//! `sde plot DIR`: trace, histogram, pair and energy plots of a saved run, as SVG and PNG in
//! `DIR/plots/` (see `sdelang::output::plot`).

use super::fail;
use clap::Args;
use sdelang::output::plot::{font_available, plot_dir, PlotOptions};
use std::path::PathBuf;

/// Arguments of `sde plot`.
#[derive(Args, Debug)]
pub struct PlotArgs {
    /// The run's output directory
    dir: PathBuf,
    /// Quantities for traces and histograms (default: the first four): `--columns x.1,x.2`
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    columns: Vec<String>,
    /// The two quantities of the pair plot (default: the first two): `--pair x.1,x.2`
    #[arg(long, value_delimiter = ',', num_args = 2, value_name = "A,B")]
    pair: Vec<String>,
}

/// Runs `sde plot`; returns the exit code.
pub fn plot(args: &PlotArgs) -> i32 {
    let pair = match args.pair.as_slice() {
        [a, b] => Some((a.clone(), b.clone())),
        _ => None,
    };
    let opts = PlotOptions {
        columns: args.columns.clone(),
        pair,
        size: (0, 0),
    };
    match plot_dir(&args.dir, &opts) {
        Ok(files) => {
            for f in files {
                println!("{}", f.display());
            }
            if !font_available() {
                eprintln!("note: no font found (set SDELANG_FONT to a .ttf file): plots have no text");
            }
            0
        }
        Err(e) => fail("E0605", format!("cannot plot `{}`: {e}", args.dir.display())),
    }
}
