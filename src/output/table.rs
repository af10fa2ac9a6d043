//! The diagnostics table of saved output: read back the chain files of a directory (bounded
//! memory: a block of columns of every chain at a time), compute per column the mean, sd,
//! MCSE, 5/50/95 % quantiles, bulk and tail ESS and rank-normalised split R̂ (as ArviZ does,
//! [`super::diagnostics`]), and say what looks wrong.
//!
//! Sampler runs summarise all draws of all chains. SDE runs (a leading `t` column) summarise
//! the law of the state at the final time across paths (mean, sd, quantiles; no ESS or R̂).

use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::diagnostics::{diagnose_table, quantile_sorted, Diagnostics};
use super::read::{chain_files, columns, draw_count, header, FileFormat};
use super::summary::format_number;
use crate::runtime::SAMPLER_STATS;

/// Values held in memory at once by [`summarise`] (128 MiB of f64).
pub const VALUE_CAP: usize = 1 << 24;

/// One row of the table.
#[derive(Debug, Clone)]
pub struct Row {
    /// Column name.
    pub name: String,
    /// Its diagnostics.
    pub diag: Diagnostics,
    /// How many of its values are NaN or infinite.
    pub non_finite: usize,
}

/// The summary of a directory of chain files.
#[derive(Debug, Clone)]
pub struct Table {
    /// The files' format.
    pub format: FileFormat,
    /// The chain files read.
    pub files: Vec<PathBuf>,
    /// Draws per chain.
    pub draws: Vec<usize>,
    /// Time of the final state (SDE runs), else `None`.
    pub final_time: Option<f64>,
    /// One row per state column.
    pub rows: Vec<Row>,
    /// Mean `accept_stat__` (CmdStan files).
    pub accept_stat: Option<f64>,
    /// Number of draws flagged `divergent__` (CmdStan files).
    pub divergences: u64,
    /// The sdelang method named in a CmdStan file's configuration, or the `algorithm`.
    pub method: Option<String>,
}

/// Reads and summarises `dir` (`names` renames columns, e.g. for `.npy` files).
pub fn summarise(dir: &Path, names: Option<&[String]>) -> io::Result<Table> {
    let (format, files) = chain_files(dir)?;
    let first = files.first().cloned().unwrap_or_default();
    let mut head = header(&first, format)?;
    if let Some(n) = names.filter(|n| n.len() == head.len()) {
        head = n.to_vec();
    }
    let draws = files
        .iter()
        .map(|f| draw_count(f, format))
        .collect::<io::Result<Vec<_>>>()?;
    let mut table = Table {
        format,
        files,
        draws,
        final_time: None,
        rows: Vec::new(),
        accept_stat: None,
        divergences: 0,
        method: None,
    };
    let stats: Vec<usize> = (0..head.len())
        .filter(|k| head.get(*k).is_some_and(|n| n.ends_with("__")))
        .collect();
    let state: Vec<usize> = (0..head.len())
        .filter(|k| !stats.contains(k) && (*k > 0 || head.first().is_none_or(|n| n != "t")))
        .collect();
    if head.first().is_some_and(|n| n == "t") && format == FileFormat::Csv {
        final_state(&mut table, &head, &state)?;
    } else {
        sampler_stats(&mut table, &head)?;
        draw_rows(&mut table, &head, &state)?;
    }
    if format == FileFormat::CmdStan {
        table.method = cmdstan_method(&first)?;
    }
    Ok(table)
}

/// Diagnostics of the state columns, a block of columns at a time.
fn draw_rows(table: &mut Table, head: &[String], state: &[usize]) -> io::Result<()> {
    let total: usize = table.draws.iter().sum();
    let block = (VALUE_CAP / total.max(1)).max(1);
    for cols in state.chunks(block) {
        let mut per_chain: Vec<Vec<Vec<f64>>> = Vec::new();
        for f in &table.files {
            per_chain.push(columns(f, table.format, cols)?);
        }
        let blocks: Vec<(usize, Vec<Vec<f64>>)> = cols
            .iter()
            .enumerate()
            .map(|(j, &k)| {
                let chains = per_chain
                    .iter_mut()
                    .map(|c| c.get_mut(j).map(std::mem::take).unwrap_or_default())
                    .collect();
                (k, chains)
            })
            .collect();
        let rows: Vec<Row> = blocks
            .into_par_iter()
            .map(|(k, chains)| Row {
                name: head.get(k).cloned().unwrap_or_default(),
                non_finite: chains.iter().flatten().filter(|v| !v.is_finite()).count(),
                diag: diagnose_table(&chains),
            })
            .collect();
        table.rows.extend(rows);
    }
    Ok(())
}

/// Mean acceptance statistic and divergences from CmdStan's sampler columns.
fn sampler_stats(table: &mut Table, head: &[String]) -> io::Result<()> {
    let find = |name: &str| head.iter().position(|h| h == name);
    let (Some(a), Some(d)) = (find(SAMPLER_STATS[1]), find(SAMPLER_STATS[5])) else {
        return Ok(());
    };
    let (mut sum, mut n) = (0.0, 0usize);
    for f in &table.files {
        let cols = columns(f, table.format, &[a, d])?;
        if let (Some(acc), Some(div)) = (cols.first(), cols.get(1)) {
            sum += acc.iter().sum::<f64>();
            n += acc.len();
            table.divergences += div.iter().filter(|v| **v != 0.0).count() as u64;
        }
    }
    table.accept_stat = (n > 0).then(|| sum / n as f64);
    Ok(())
}

/// SDE runs: the law of the state at the final time across paths.
fn final_state(table: &mut Table, head: &[String], state: &[usize]) -> io::Result<()> {
    let mut finals: Vec<Vec<f64>> = vec![Vec::new(); state.len()];
    let wanted: Vec<usize> = std::iter::once(0).chain(state.iter().copied()).collect();
    for f in &table.files {
        let cols = columns(f, table.format, &wanted)?;
        table.final_time = cols.first().and_then(|t| t.last().copied()).or(table.final_time);
        for (dst, col) in finals.iter_mut().zip(cols.iter().skip(1)) {
            dst.extend(col.last().copied());
        }
    }
    for (values, &k) in finals.into_iter().zip(state) {
        let non_finite = values.iter().filter(|v| !v.is_finite()).count();
        table.rows.push(Row {
            name: head.get(k).cloned().unwrap_or_default(),
            diag: across_paths(values),
            non_finite,
        });
    }
    Ok(())
}

/// Mean, sd and quantiles of independent values; MCSE of the mean is sd/√n; no ESS or R̂.
fn across_paths(values: Vec<f64>) -> Diagnostics {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let mut sorted = values;
    sorted.sort_by(f64::total_cmp);
    Diagnostics {
        mean,
        sd,
        mcse_mean: sd / n.sqrt(),
        mcse_sd: f64::NAN,
        quantiles: [0.05, 0.5, 0.95].map(|p| quantile_sorted(&sorted, p)),
        mcse_quantiles: [f64::NAN; 3],
        ess_bulk: f64::NAN,
        ess_tail: f64::NAN,
        rhat: f64::NAN,
    }
}

/// `sdelang_method` from our CmdStan files, else CmdStan's `algorithm`/`engine`.
fn cmdstan_method(path: &Path) -> io::Result<Option<String>> {
    let text = std::fs::read_to_string(path)?;
    let mut algorithm = None;
    for line in text.lines().take_while(|l| l.starts_with('#')) {
        let Some((key, value)) = line.trim_start_matches('#').trim().split_once(" = ") else {
            continue;
        };
        let value = value.replace("(Default)", "").trim().to_string();
        match key {
            "sdelang_method" => return Ok(Some(value)),
            "engine" => algorithm = Some(format!("hmc-{value}")),
            "algorithm" if algorithm.is_none() => algorithm = Some(value),
            _ => {}
        }
    }
    Ok(algorithm)
}

/// The stansummary-like table.
pub fn render_table(table: &Table) -> String {
    let header = [
        "name", "mean", "sd", "mcse", "5%", "50%", "95%", "ess_bulk", "ess_tail", "r_hat",
    ];
    let ess = |v: f64| {
        if v.is_nan() {
            "-".to_string()
        } else {
            format!("{v:.0}")
        }
    };
    let rows: Vec<Vec<String>> = table
        .rows
        .iter()
        .map(|r| {
            let d = &r.diag;
            let mut row = vec![r.name.clone()];
            row.extend([d.mean, d.sd, d.mcse_mean].map(format_number));
            row.extend(d.quantiles.map(format_number));
            row.push(ess(d.ess_bulk));
            row.push(ess(d.ess_tail));
            row.push(if d.rhat.is_nan() {
                "-".into()
            } else {
                format!("{:.3}", d.rhat)
            });
            row
        })
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            let body = rows.iter().map(|r| r.get(c).map_or(0, |s| s.chars().count()));
            body.chain([header.get(c).map_or(0, |h| h.len())])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    let head: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    for row in std::iter::once(&head).chain(&rows) {
        for (c, (cell, w)) in row.iter().zip(&widths).enumerate() {
            let _ = match c {
                0 => write!(out, "{cell:<w$}"),
                _ => write!(out, "  {cell:>w$}"),
            };
        }
        out.push('\n');
    }
    out
}

/// R̂ above this flags a column (Vehtari et al. 2021).
pub const RHAT_LIMIT: f64 = 1.01;
/// Bulk or tail ESS below this many per chain flags a column.
pub const ESS_PER_CHAIN: f64 = 100.0;

/// The acceptance range outside which a Metropolis method is flagged: MALA's optimum is about
/// 0.57 (Roberts & Rosenthal 1998), HMC's usual target 0.8.
pub fn acceptance_range(method: &str) -> Option<(f64, f64)> {
    if method.starts_with("mala") {
        Some((0.4, 0.9))
    } else if method.starts_with("hmc") || method.starts_with("nuts") {
        Some((0.6, 0.99))
    } else {
        None
    }
}

/// Plain-language warnings about the table: R̂, ESS, acceptance, divergences, NaN/Inf.
/// `acceptance` (from the run) overrides the files' mean `accept_stat__`.
pub fn warnings(table: &Table, acceptance: Option<f64>) -> Vec<String> {
    let mut out = Vec::new();
    let names = |pick: &dyn Fn(&Row) -> bool| -> Vec<String> {
        table
            .rows
            .iter()
            .filter(|r| pick(r))
            .map(|r| r.name.clone())
            .collect()
    };
    let list = |v: &[String]| {
        let shown: Vec<&str> = v.iter().take(6).map(String::as_str).collect();
        let more = v.len().saturating_sub(6);
        let tail = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        format!("{}{tail}", shown.join(", "))
    };
    let high = names(&|r| r.diag.rhat > RHAT_LIMIT);
    if !high.is_empty() {
        out.push(format!(
            "R-hat > {RHAT_LIMIT} for {}: the chains disagree; run longer or check the model",
            list(&high)
        ));
    }
    let chains = table.files.len() as f64;
    let limit = ESS_PER_CHAIN * chains;
    let low = names(&|r| r.diag.ess_bulk < limit || r.diag.ess_tail < limit);
    if !low.is_empty() {
        out.push(format!(
            "low effective sample size (bulk or tail ESS < {limit:.0}, {ESS_PER_CHAIN:.0} per chain) for {}: \
             estimates are unreliable; run longer or tune the step",
            list(&low)
        ));
    }
    let range = table.method.as_deref().and_then(acceptance_range);
    if let (Some((lo, hi)), Some(a)) = (range, acceptance.or(table.accept_stat)) {
        if !(lo..=hi).contains(&a) {
            let hint = if a < lo { "decrease" } else { "increase" };
            out.push(format!(
                "acceptance rate {a:.3} is outside [{lo}, {hi}]: {hint} the step size"
            ));
        }
    }
    if table.divergences > 0 {
        out.push(format!("{} divergent transitions", table.divergences));
    }
    let bad = names(&|r| r.non_finite > 0);
    if !bad.is_empty() {
        out.push(format!("NaN or infinite values in {}", list(&bad)));
    }
    if table.draws.windows(2).any(|w| w.first() != w.last()) {
        out.push(format!("chains have different lengths: {:?} draws", table.draws));
    }
    out
}
