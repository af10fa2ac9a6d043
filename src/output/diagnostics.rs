//! MCMC diagnostics following Vehtari, Gelman, Simpson, Carpenter & Bürkner,
//! "Rank-normalization, folding, and localization: an improved R̂" (Bayesian
//! Analysis 16:667, 2021), computed exactly as ArviZ does, so the values agree
//! with `arviz.rhat`, `arviz.ess` and `arviz.mcse` on the same draws (checked
//! against stored ArviZ outputs in `tests/diagnostics_arviz.rs`).
//!
//! Input: one quantity's draws as `chains[c][t]`, all chains of equal length.
//! Chains are split in half (the middle draw of an odd length is dropped).

use super::special::{autocov, beta_ppf, norm_ppf};

/// Diagnostics of one quantity.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostics {
    /// Mean over all draws.
    pub mean: f64,
    /// Standard deviation over all draws (ddof = 1).
    pub sd: f64,
    /// Monte Carlo standard error of the mean.
    pub mcse_mean: f64,
    /// Monte Carlo standard error of the sd.
    pub mcse_sd: f64,
    /// 5 %, 50 %, 95 % quantiles (R type 7).
    pub quantiles: [f64; 3],
    /// Monte Carlo standard errors of those quantiles.
    pub mcse_quantiles: [f64; 3],
    /// Bulk effective sample size (rank-normalised split chains).
    pub ess_bulk: f64,
    /// Tail effective sample size (min over the 5 % and 95 % quantile indicators).
    pub ess_tail: f64,
    /// Rank-normalised split R̂ (max of bulk and folded).
    pub rhat: f64,
}

/// All diagnostics of one quantity.
pub fn diagnose(chains: &[Vec<f64>]) -> Diagnostics {
    let all: Vec<f64> = chains.iter().flatten().copied().collect();
    let n = all.len() as f64;
    let mean = all.iter().sum::<f64>() / n;
    let sd = (all.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let probs = [0.05, 0.5, 0.95];
    let mut sorted = all.clone();
    sorted.sort_by(f64::total_cmp);
    Diagnostics {
        mean,
        sd,
        mcse_mean: mcse_mean(chains),
        mcse_sd: mcse_sd(chains),
        quantiles: probs.map(|p| quantile_sorted(&sorted, p)),
        mcse_quantiles: probs.map(|p| mcse_quantile(chains, p)),
        ess_bulk: ess_bulk(chains),
        ess_tail: ess_tail(chains),
        rhat: rhat(chains),
    }
}

/// The diagnostics a summary table shows, without the costlier MCSE of the sd and of the
/// quantiles (left NaN): mean, sd, MCSE of the mean, quantiles, bulk/tail ESS, R̂.
pub fn diagnose_table(chains: &[Vec<f64>]) -> Diagnostics {
    let all: Vec<f64> = chains.iter().flatten().copied().collect();
    let n = all.len() as f64;
    let mean = all.iter().sum::<f64>() / n;
    let sd = (all.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let mut sorted = all;
    sorted.sort_by(f64::total_cmp);
    Diagnostics {
        mean,
        sd,
        mcse_mean: mcse_mean(chains),
        mcse_sd: f64::NAN,
        quantiles: [0.05, 0.5, 0.95].map(|p| quantile_sorted(&sorted, p)),
        mcse_quantiles: [f64::NAN; 3],
        ess_bulk: ess_bulk(chains),
        ess_tail: ess_tail(chains),
        rhat: rhat(chains),
    }
}

fn valid(chains: &[Vec<f64>], min_chains: usize) -> bool {
    let n = chains.first().map_or(0, Vec::len);
    chains.len() >= min_chains
        && n >= 4
        && chains
            .iter()
            .all(|c| c.len() == n && c.iter().all(|v| v.is_finite()))
}

/// Each chain split into its first and last halves.
fn split(chains: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let mut out = Vec::with_capacity(2 * chains.len());
    for c in chains {
        let half = c.len() / 2;
        out.push(c.iter().take(half).copied().collect());
        out.push(c.iter().skip(c.len() - half).copied().collect());
    }
    out
}

fn map(chains: &[Vec<f64>], f: impl Fn(f64) -> f64) -> Vec<Vec<f64>> {
    chains.iter().map(|c| c.iter().map(|v| f(*v)).collect()).collect()
}

/// Average ranks (ties share their mean rank), 1-based, over all draws.
fn ranks(chains: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let mut idx: Vec<(f64, usize, usize)> = chains
        .iter()
        .enumerate()
        .flat_map(|(c, ch)| ch.iter().enumerate().map(move |(t, v)| (*v, c, t)))
        .collect();
    idx.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out: Vec<Vec<f64>> = chains.iter().map(|c| vec![0.0; c.len()]).collect();
    let mut start = 0;
    while start < idx.len() {
        let value = idx.get(start).map_or(0.0, |e| e.0);
        let mut end = start;
        while idx.get(end).is_some_and(|e| e.0 == value) {
            end += 1;
        }
        let rank = (start + end + 1) as f64 / 2.0;
        for &(_, c, t) in idx.get(start..end).unwrap_or(&[]) {
            if let Some(slot) = out.get_mut(c).and_then(|ch| ch.get_mut(t)) {
                *slot = rank;
            }
        }
        start = end;
    }
    out
}

/// Rank normalisation: z = Φ⁻¹((r − 3/8) / (S + 1/4)).
fn z_scale(chains: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let size = chains.iter().map(Vec::len).sum::<usize>() as f64;
    map(&ranks(chains), |r| norm_ppf((r - 0.375) / (size + 0.25)))
}

fn median(chains: &[Vec<f64>]) -> f64 {
    let mut all: Vec<f64> = chains.iter().flatten().copied().collect();
    all.sort_by(f64::total_cmp);
    quantile_sorted(&all, 0.5)
}

/// The p-quantile of sorted values, linear interpolation (R type 7).
pub fn quantile_sorted(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let h = (n - 1) as f64 * p;
    let lo = h.floor() as usize;
    let a = sorted.get(lo).copied().unwrap_or(f64::NAN);
    let b = sorted.get((lo + 1).min(n - 1)).copied().unwrap_or(a);
    a + (h - lo as f64) * (b - a)
}

fn var(xs: &[f64]) -> f64 {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    xs.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1.0)
}

fn mean_of(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// The classic R̂ of (already split) chains.
fn rhat_basic(chains: &[Vec<f64>]) -> f64 {
    let n = chains.first().map_or(0, Vec::len) as f64;
    let means: Vec<f64> = chains.iter().map(|c| mean_of(c)).collect();
    let within = mean_of(&chains.iter().map(|c| var(c)).collect::<Vec<_>>());
    let between = n * var(&means);
    ((between / within + n - 1.0) / n).sqrt()
}

/// Rank-normalised split R̂: the larger of the bulk and the folded (tail) R̂.
pub fn rhat(chains: &[Vec<f64>]) -> f64 {
    if !valid(chains, 2) {
        return f64::NAN;
    }
    let s = split(chains);
    let bulk = rhat_basic(&z_scale(&s));
    let med = median(&s);
    let tail = rhat_basic(&z_scale(&map(&s, |v| (v - med).abs())));
    bulk.max(tail)
}

/// The effective sample size of chains (Geyer's initial monotone sequence).
fn ess_raw(chains: &[Vec<f64>]) -> f64 {
    let (lo, hi) = chains
        .iter()
        .flatten()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
            (l.min(*v), h.max(*v))
        });
    let m = chains.len();
    let n = chains.first().map_or(0, Vec::len);
    if hi - lo < 1e-15 {
        return (m * n) as f64;
    }
    let acov: Vec<Vec<f64>> = chains.iter().map(|c| autocov(c)).collect();
    let nf = n as f64;
    let lag_mean = |t: usize| acov.iter().map(|a| a.get(t).copied().unwrap_or(0.0)).sum::<f64>() / m as f64;
    let mean_var = lag_mean(0) * nf / (nf - 1.0);
    let mut var_plus = mean_var * (nf - 1.0) / nf;
    if m > 1 {
        var_plus += var(&chains.iter().map(|c| mean_of(c)).collect::<Vec<_>>());
    }
    let mut rho = vec![0.0; n];
    let rho_at = |t: usize| 1.0 - (mean_var - lag_mean(t)) / var_plus;
    let set = |rho: &mut Vec<f64>, t: usize, v: f64| {
        if let Some(slot) = rho.get_mut(t) {
            *slot = v;
        }
    };
    let get = |rho: &Vec<f64>, t: usize| rho.get(t).copied().unwrap_or(0.0);
    let (mut even, mut odd) = (1.0, rho_at(1));
    set(&mut rho, 0, even);
    set(&mut rho, 1, odd);
    let mut t = 1;
    while t + 3 < n && even + odd > 0.0 {
        even = rho_at(t + 1);
        odd = rho_at(t + 2);
        if even + odd >= 0.0 {
            set(&mut rho, t + 1, even);
            set(&mut rho, t + 2, odd);
        }
        t += 2;
    }
    // `max_t` is ArviZ's `max_t + 1` (which cannot go below 0 here).
    let max_t = t - 1;
    if even > 0.0 {
        set(&mut rho, max_t, even);
    }
    let mut t = 1;
    while t + 3 <= max_t {
        let (a, b) = (
            get(&rho, t - 1) + get(&rho, t),
            get(&rho, t + 1) + get(&rho, t + 2),
        );
        if b > a {
            set(&mut rho, t + 1, a / 2.0);
            set(&mut rho, t + 2, a / 2.0);
        }
        t += 2;
    }
    let total = (m * n) as f64;
    let head: f64 = rho.iter().take(max_t).sum();
    let tau = (-1.0 + 2.0 * head + get(&rho, max_t)).max(1.0 / total.log10());
    if rho.iter().any(|v| v.is_nan()) {
        return f64::NAN;
    }
    total / tau
}

/// Bulk ESS: the ESS of the rank-normalised split chains.
pub fn ess_bulk(chains: &[Vec<f64>]) -> f64 {
    if !valid(chains, 1) {
        return f64::NAN;
    }
    ess_raw(&z_scale(&split(chains)))
}

/// ESS of the indicator I(θ ≤ q_p).
pub fn ess_quantile(chains: &[Vec<f64>], p: f64) -> f64 {
    if !valid(chains, 1) {
        return f64::NAN;
    }
    let mut all: Vec<f64> = chains.iter().flatten().copied().collect();
    all.sort_by(f64::total_cmp);
    let q = quantile_sorted(&all, p);
    ess_raw(&split(&map(chains, |v| if v <= q { 1.0 } else { 0.0 })))
}

/// Tail ESS: the smaller of the ESS of the 5 % and 95 % quantile indicators.
pub fn ess_tail(chains: &[Vec<f64>]) -> f64 {
    ess_quantile(chains, 0.05).min(ess_quantile(chains, 0.95))
}

/// ESS for the mean: the split chains without rank normalisation.
pub fn ess_mean(chains: &[Vec<f64>]) -> f64 {
    if !valid(chains, 1) {
        return f64::NAN;
    }
    ess_raw(&split(chains))
}

/// Monte Carlo standard error of the mean: sd / √ESS_mean.
pub fn mcse_mean(chains: &[Vec<f64>]) -> f64 {
    let all: Vec<f64> = chains.iter().flatten().copied().collect();
    var(&all).sqrt() / ess_mean(chains).sqrt()
}

/// Monte Carlo standard error of the sd (delta method on the second moment).
pub fn mcse_sd(chains: &[Vec<f64>]) -> f64 {
    let all: Vec<f64> = chains.iter().flatten().copied().collect();
    let m = mean_of(&all);
    let c2 = map(chains, |v| (v - m).powi(2));
    let flat: Vec<f64> = c2.iter().flatten().copied().collect();
    let ess = ess_mean(&c2);
    let evar = mean_of(&flat);
    let varvar = (mean_of(&flat.iter().map(|v| v * v).collect::<Vec<_>>()) - evar * evar) / ess;
    (varvar / evar / 4.0).sqrt()
}

/// Monte Carlo standard error of the p-quantile, from Beta quantiles of the
/// indicator's ESS.
pub fn mcse_quantile(chains: &[Vec<f64>], p: f64) -> f64 {
    let ess = ess_quantile(chains, p);
    let mut sorted: Vec<f64> = chains.iter().flatten().copied().collect();
    sorted.sort_by(f64::total_cmp);
    let size = sorted.len() as f64;
    let a = ess * p + 1.0;
    let b = ess * (1.0 - p) + 1.0;
    let lo = (beta_ppf(0.158_655_3, a, b) * size - 1.0).max(0.0).floor() as usize;
    let hi = (beta_ppf(0.841_344_7, a, b) * size - 1.0).min(size - 1.0).ceil() as usize;
    let th1 = sorted.get(lo).copied().unwrap_or(f64::NAN);
    let th2 = sorted.get(hi).copied().unwrap_or(f64::NAN);
    (th2 - th1) / 2.0
}
