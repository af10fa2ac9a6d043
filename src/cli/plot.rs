//! `sde plot DIR`: trace, histogram, pair and energy plots of a saved run, as SVG and PNG in
//! `DIR/plots/` (see `sdelang::output::plot`).
//!
//! Histograms get the exact marginal density drawn over them where it is known: the laws the
//! model declares (`exact` items, kept in closed form in `DIR/run.json`), and for an energy
//! model with a single scalar state exp(−U/T)/Z, with U evaluated by compiling the model file
//! again from what `run.json` records. When that file is gone or no longer compiles, the
//! histogram is drawn without it and a note says so.

use super::fail;
use clap::Args;
use sdelang::driver::{read_facts, source_hash, RunFacts};
use sdelang::output::plot::{font_available, plot_dir, Overlay, PlotOptions};
use sdelang::pipeline::{compile_file, CompileOptions};
use sdelang::runtime::GibbsTarget;
use std::path::PathBuf;
use std::rc::Rc;

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
    let (overlays, notes) = match read_facts(&args.dir) {
        Some(facts) => overlays(&facts),
        None => (Vec::new(), Vec::new()),
    };
    let opts = PlotOptions {
        columns: args.columns.clone(),
        pair,
        size: (0, 0),
        overlays,
    };
    match plot_dir(&args.dir, &opts) {
        Ok(files) => {
            for f in files {
                println!("{}", f.display());
            }
            for n in notes {
                eprintln!("note: {n}");
            }
            if !font_available() {
                eprintln!("note: no font found (set SDELANG_FONT to a .ttf file): plots have no text");
            }
            0
        }
        Err(e) => fail("E0605", format!("cannot plot `{}`: {e}", args.dir.display())),
    }
}

/// The known densities of a run's columns, and notes on those that could not be had.
fn overlays(facts: &RunFacts) -> (Vec<Overlay>, Vec<String>) {
    let mut out: Vec<Overlay> = facts
        .exact
        .iter()
        .map(|x| {
            let law = x.law.clone();
            Overlay {
                column: x.column.clone(),
                label: x.text.clone(),
                normalised: law.is_normalised(),
                log_density: Rc::new(move |v| law.log_density(v)),
            }
        })
        .collect();
    let mut notes = Vec::new();
    if let [column] = facts.columns.as_slice() {
        if facts.gibbs && !out.iter().any(|o| &o.column == column) {
            match gibbs_overlay(facts, column, &mut notes) {
                Ok(o) => out.push(o),
                Err(note) => notes.push(note),
            }
        }
    }
    (out, notes)
}

/// exp(−U/T)/Z of a scalar energy model, with U compiled again from the model file; why not,
/// when it cannot be had.
fn gibbs_overlay(facts: &RunFacts, column: &str, notes: &mut Vec<String>) -> Result<Overlay, String> {
    let without = "the histogram is drawn without the exact density exp(-U/T)/Z";
    let Some(source) = &facts.source else {
        return Err(format!(
            "`run.json` does not say where the model came from: {without}"
        ));
    };
    let file = &source.file;
    if !file.exists() {
        return Err(format!("the model file `{}` is gone: {without}", file.display()));
    }
    let options = CompileOptions {
        overrides: source.set.clone(),
        data: source.data.clone(),
        model: Some(facts.model.clone()).filter(|m| !m.is_empty()),
        ..CompileOptions::default()
    };
    let c = compile_file(file, &options).map_err(|_| {
        format!(
            "the model file `{}` no longer compiles: {without}",
            file.display()
        )
    })?;
    if !c.model.is_gibbs() || c.model.state_size() != 1 {
        return Err(format!(
            "the model in `{}` is no longer an energy model of one scalar state: {without}",
            file.display()
        ));
    }
    if source_hash(file) != source.hash {
        // still a sensible overlay, but of the model as it is now
        notes.push(format!(
            "`{}` changed since the run; U is taken from the file as it is now",
            file.display()
        ));
    }
    let t = facts.temperature;
    let compiled = Rc::new(c.compiled);
    Ok(Overlay {
        column: column.to_string(),
        label: format!("exp(-U/T)/Z at T = {t}"),
        normalised: false,
        log_density: Rc::new(move |x| -compiled.energy(&[x]) / t),
    })
}
