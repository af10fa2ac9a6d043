//! The summary table shown after a run: run facts, then one row per column with mean and sd.

use std::fmt::Write as _;
use std::time::Duration;

use super::stats::RunningStats;
use crate::runtime::{RunConfig, RunOutput};

/// Facts about a run for the summary header.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    /// The method as the language spells it, e.g. `mala(step=0.1)`.
    pub method: String,
    /// Number of chains.
    pub chains: usize,
    /// Draws recorded over all chains.
    pub draws: u64,
    /// MALA's acceptance rate after warmup, over all chains.
    pub acceptance: Option<f64>,
    /// Wall time of the run.
    pub wall_time: Duration,
}

impl RunSummary {
    /// The summary of a finished run.
    pub fn new<R>(config: &RunConfig, output: &RunOutput<R>) -> Self {
        RunSummary {
            method: config.method.to_string(),
            chains: output.reports.len(),
            draws: output.total_draws(),
            acceptance: output.acceptance_rate(),
            wall_time: output.wall_time,
        }
    }
}

/// Renders the run facts and a `name  mean  sd` table (one row per column of `stats`, named by
/// `names`; missing names print as `#k`).
pub fn render_summary(names: &[String], stats: &RunningStats, run: &RunSummary) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = writeln!(out, "method      {}", run.method);
    let _ = writeln!(out, "chains      {}", run.chains);
    let _ = writeln!(out, "draws       {}", run.draws);
    if let Some(a) = run.acceptance {
        let _ = writeln!(out, "acceptance  {a:.3}");
    }
    let _ = writeln!(out, "wall time   {:.3} s", run.wall_time.as_secs_f64());
    out.push('\n');
    let rows: Vec<[String; 3]> = stats
        .mean()
        .iter()
        .zip(stats.sd())
        .enumerate()
        .map(|(k, (m, s))| {
            let name = names.get(k).cloned().unwrap_or_else(|| format!("#{}", k + 1));
            [name, format_number(*m), format_number(s)]
        })
        .collect();
    let header = ["name".to_string(), "mean".to_string(), "sd".to_string()];
    let width = |c: usize| {
        std::iter::once(&header)
            .chain(&rows)
            .map(|r| r.get(c).map_or(0, |s| s.chars().count()))
            .max()
    };
    let (w0, w1, w2) = (
        width(0).unwrap_or(0),
        width(1).unwrap_or(0),
        width(2).unwrap_or(0),
    );
    for [name, mean, sd] in std::iter::once(&header).chain(&rows) {
        let _ = writeln!(out, "{name:<w0$}  {mean:>w1$}  {sd:>w2$}");
    }
    out
}

/// Six significant digits, in fixed notation for magnitudes in [1e-3, 1e6), else scientific.
pub fn format_number(v: f64) -> String {
    let a = v.abs();
    if !v.is_finite() || a == 0.0 {
        return format!("{v}");
    }
    if (1e-3..1e6).contains(&a) {
        let decimals = (5.0 - a.log10().floor()).clamp(0.0, 8.0) as usize;
        format!("{v:.decimals$}")
    } else {
        format!("{v:.5e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_aligned_table() {
        let mut stats = RunningStats::new(2);
        stats.push(&[1.0, 10.0]);
        stats.push(&[3.0, 30.0]);
        let run = RunSummary {
            method: "mala(step=0.1)".into(),
            chains: 2,
            draws: 2,
            acceptance: Some(0.5744),
            wall_time: Duration::from_millis(1500),
        };
        let text = render_summary(&["x.1".into(), "x.2".into()], &stats, &run);
        let expected = "method      mala(step=0.1)\nchains      2\ndraws       2\nacceptance  0.574\n\
                        wall time   1.500 s\n\nname     mean       sd\nx.1   2.00000  1.41421\n\
                        x.2   20.0000  14.1421\n";
        assert_eq!(text, expected);
        assert_eq!(format_number(1.5e-7), "1.50000e-7");
    }
}
