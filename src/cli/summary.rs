//! `sde summary DIR`: the summary table and warnings of a saved run, recomputed from its chain
//! files (sdelang CSV, CmdStan CSV — ours or CmdStan's own — or `.npy`).

use super::fail;
use clap::Args;
use sdelang::driver::{read_facts, summary_text, RunFacts};
use std::path::PathBuf;

/// Arguments of `sde summary`.
#[derive(Args, Debug)]
pub struct SummaryArgs {
    /// The run's output directory (holding chain_1.csv, chain_2.csv, … or chain_*.npy)
    dir: PathBuf,
}

/// Runs `sde summary`; returns the exit code.
pub fn summary(args: &SummaryArgs) -> i32 {
    let facts = read_facts(&args.dir).unwrap_or_else(RunFacts::unknown);
    match summary_text(&args.dir, &facts) {
        Ok((text, warnings)) => {
            print!("{text}");
            for w in &warnings {
                eprintln!("warning: {w}");
            }
            0
        }
        Err(e) => fail("E0604", format!("cannot summarise `{}`: {e}", args.dir.display())),
    }
}
