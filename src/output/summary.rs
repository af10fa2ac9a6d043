//! The summary table shown after a run: run facts, then one row per column with mean and sd.

use std::fmt::Write as _;
use std::time::Duration;

use super::stats::RunningStats;
use crate::runtime::{ChainReport, RunConfig, RunOutput};

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
    /// What the samplers reported, combined over chains.
    pub sampler: SamplerSummary,
}

/// Sampler facts combined over chains (`None` where the method has none).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SamplerSummary {
    /// Step size after warmup: mean, min and max over chains.
    pub step_size: Option<(f64, f64, f64)>,
    /// diag(M⁻¹) after warmup, averaged over chains.
    pub inv_mass_diag: Option<Vec<f64>>,
    /// Divergent iterations after warmup, over all chains.
    pub divergences: Option<u64>,
    /// Mean NUTS tree depth after warmup.
    pub mean_tree_depth: Option<f64>,
    /// Mean leapfrog steps per iteration after warmup.
    pub leapfrog_per_iteration: Option<f64>,
    /// Mean acceptance statistic after warmup (NUTS).
    pub mean_accept_stat: Option<f64>,
    /// Temperature factor at the last step (annealing).
    pub temperature_factor: Option<f64>,
}

impl SamplerSummary {
    /// Combines the chains' reports.
    pub fn new(reports: &[ChainReport]) -> Self {
        let n = reports.len() as f64;
        let iterations: u64 = reports.iter().map(|r| r.sampling_steps).sum();
        let per_iteration = |total: u64| (iterations > 0).then(|| total as f64 / iterations as f64);
        let all = |f: &dyn Fn(&ChainReport) -> Option<f64>| -> Option<Vec<f64>> {
            let v: Option<Vec<f64>> = reports.iter().map(f).collect();
            v.filter(|v| !v.is_empty())
        };
        let mean = |v: Vec<f64>| v.iter().sum::<f64>() / n;
        let sum = |f: &dyn Fn(&ChainReport) -> Option<u64>| -> Option<u64> {
            let v: Option<Vec<u64>> = reports.iter().map(f).collect();
            v.filter(|v| !v.is_empty()).map(|v| v.iter().sum())
        };
        let step_size = all(&|r| r.stats.step_size).map(|v| {
            let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            (mean(v), lo, hi)
        });
        let inv_mass_diag = reports
            .first()
            .and_then(|r| r.stats.inv_mass_diag.clone())
            .map(|first| {
                let mut acc = vec![0.0; first.len()];
                for r in reports {
                    for (a, v) in acc.iter_mut().zip(r.stats.inv_mass_diag.iter().flatten()) {
                        *a += v / n;
                    }
                }
                acc
            });
        SamplerSummary {
            step_size,
            inv_mass_diag,
            divergences: sum(&|r| r.stats.divergences),
            mean_tree_depth: sum(&|r| r.stats.tree_depth_sum).and_then(per_iteration),
            leapfrog_per_iteration: sum(&|r| r.stats.leapfrog_steps).and_then(per_iteration),
            mean_accept_stat: all(&|r| r.stats.mean_accept_stat).map(mean),
            temperature_factor: reports.first().and_then(|r| r.stats.temperature_factor),
        }
    }

    /// Appends one line per fact present.
    pub fn render(&self, out: &mut String) {
        if let Some((m, lo, hi)) = self.step_size {
            let _ = write!(out, "step size   {}", format_number(m));
            if hi > lo {
                let _ = write!(out, " (chains {} to {})", format_number(lo), format_number(hi));
            }
            out.push('\n');
        }
        if let Some(v) = &self.inv_mass_diag {
            let shown: Vec<String> = v.iter().take(6).map(|x| format_number(*x)).collect();
            let more = if v.len() > 6 { ", …" } else { "" };
            let _ = writeln!(
                out,
                "inv. mass   [{}{more}] (diagonal, mean over chains)",
                shown.join(", ")
            );
        }
        if let Some(a) = self.mean_accept_stat {
            let _ = writeln!(out, "accept stat {a:.3}");
        }
        if let Some(d) = self.divergences {
            let _ = writeln!(out, "divergences {d}");
        }
        if let Some(d) = self.mean_tree_depth {
            let _ = writeln!(out, "tree depth  {d:.2} (mean)");
        }
        if let Some(l) = self.leapfrog_per_iteration {
            let _ = writeln!(out, "leapfrog    {l:.2} steps per iteration");
        }
        if let Some(t) = self.temperature_factor {
            let _ = writeln!(out, "temp factor {} (last step)", format_number(t));
        }
    }
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
            sampler: SamplerSummary::new(&output.reports),
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
    run.sampler.render(&mut out);
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
            sampler: SamplerSummary::default(),
        };
        let text = render_summary(&["x.1".into(), "x.2".into()], &stats, &run);
        let expected = "method      mala(step=0.1)\nchains      2\ndraws       2\nacceptance  0.574\n\
                        wall time   1.500 s\n\nname     mean       sd\nx.1   2.00000  1.41421\n\
                        x.2   20.0000  14.1421\n";
        assert_eq!(text, expected);
        assert_eq!(format_number(1.5e-7), "1.50000e-7");
    }
}
