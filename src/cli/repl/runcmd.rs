//! `:run [method] [steps] [chains] [name=value …]`: a short run of the current
//! model through `sdelang::driver`, as `sde run` does, keeping the draws in
//! memory for `:plot`. Ctrl-C stops the chains between two steps.

use super::session::Session;
use super::Out;
use sdelang::driver::{execute_with, resolve, DriverError, Overrides, RunPlan};
use sdelang::runtime::{Recorder, RunError};
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Most numbers kept in memory per run (the CSV files have everything).
const KEEP_MAX: usize = 4_000_000;

/// One chain's kept draws.
#[derive(Clone, Debug, Default)]
pub struct Draws {
    /// Time of each draw (SDE runs; 0 for samplers).
    pub times: Vec<f64>,
    /// The draws, row-major: `dim` numbers per draw.
    pub values: Vec<f64>,
    /// Numbers per draw.
    pub dim: usize,
}

impl Draws {
    /// Column `k` of every draw.
    pub fn column(&self, k: usize) -> impl Iterator<Item = f64> + '_ {
        self.values
            .chunks(self.dim.max(1))
            .filter_map(move |row| row.get(k).copied())
    }
}

/// The last finished run, for `:plot`.
pub struct LastRun {
    /// The model's name.
    pub model: String,
    /// Column names (`x.1`, …).
    pub columns: Vec<String>,
    /// Sampler (true) or SDE paths.
    pub gibbs: bool,
    /// Kept draws per chain.
    pub chains: Vec<Draws>,
    /// Whether the kept draws stop before the run's end.
    pub truncated: bool,
}

/// Keeps draws (up to a cap) and stops the chain when the interrupt flag is set.
struct Keeper {
    flag: Arc<AtomicBool>,
    draws: Draws,
    cap: usize,
    truncated: bool,
}

impl Recorder for Keeper {
    fn record(&mut self, _step: u64, t: f64, x: &[f64]) -> io::Result<()> {
        if self.draws.times.len() < self.cap {
            self.draws.times.push(t);
            self.draws.values.extend_from_slice(x);
        } else {
            self.truncated = true;
        }
        Ok(())
    }

    #[inline]
    fn poll(&mut self, _step: u64) -> io::Result<()> {
        if self.flag.load(Ordering::Relaxed) {
            Err(io::Error::new(io::ErrorKind::Interrupted, "interrupted"))
        } else {
            Ok(())
        }
    }
}

/// Run settings from `:run` arguments: `mala(step=0.1)`, `5000` (steps), a
/// second number (chains), or `name=value`.
fn parse_args(args: &str, o: &mut Overrides, out_dir: &mut Option<PathBuf>) -> Result<(), String> {
    let mut numbers = 0;
    for token in tokens(args) {
        let setting = token
            .split_once('=')
            .filter(|(k, _)| !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
        if let Some((key, value)) = setting {
            set(o, out_dir, key, value)?;
        } else if let Ok(n) = token.replace('_', "").parse::<u64>() {
            match numbers {
                0 => o.steps = Some(n),
                1 => o.chains = Some(n),
                _ => return Err(format!("unexpected `{token}`: give steps, then chains")),
            }
            numbers += 1;
        } else {
            o.method = Some(token.to_string());
        }
    }
    Ok(())
}

/// The run settings `:set` and `:run` accept.
pub const RUN_SETTINGS: [&str; 10] = [
    "method",
    "steps",
    "chains",
    "warmup",
    "thin",
    "seed",
    "temperature",
    "dt",
    "t0",
    "out",
];

/// Applies one `name=value` run setting.
pub fn set(o: &mut Overrides, out_dir: &mut Option<PathBuf>, key: &str, value: &str) -> Result<(), String> {
    let value = value.trim();
    let int = || {
        value
            .replace('_', "")
            .parse::<u64>()
            .map_err(|_| format!("`{key}` needs a whole number, found `{value}`"))
    };
    let real = || {
        value
            .parse::<f64>()
            .map_err(|_| format!("`{key}` needs a number, found `{value}`"))
    };
    match key {
        "method" => o.method = Some(value.to_string()),
        "steps" => o.steps = Some(int()?),
        "chains" => o.chains = Some(int()?),
        "warmup" => o.warmup = Some(int()?),
        "thin" => o.thin = Some(int()?),
        "seed" => o.seed = Some(int()?),
        "temperature" => o.temperature = Some(real()?),
        "dt" => o.dt = Some(real()?),
        "t0" => o.t0 = Some(real()?),
        "out" => *out_dir = Some(PathBuf::from(value)),
        _ => {
            let mut msg = format!("unknown run setting `{key}`");
            let close = sdelang::diagnostic::did_you_mean(key, RUN_SETTINGS.iter().copied());
            if let Some(best) = close.first() {
                let _ = std::fmt::Write::write_fmt(&mut msg, format_args!("; did you mean `{best}`?"));
            }
            return Err(msg);
        }
    }
    Ok(())
}

/// Splits at spaces outside brackets.
fn tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut depth = 0i32;
    for c in text.chars() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            _ => {}
        }
        if c.is_whitespace() && depth <= 0 {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
        } else {
            cur.push(c);
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// `:run`.
pub fn run(s: &mut Session, out: &mut Out, args: &str) {
    let mut o = s.run_settings.clone();
    let mut out_dir = s.out_dir.clone();
    if let Err(e) = parse_args(args, &mut o, &mut out_dir) {
        return out.error(&e);
    }
    let c = match s.current_code(o.method.as_deref()) {
        Ok(c) => c,
        Err(f) => return out.failure(s, &f),
    };
    let mut sources = c.sources.clone();
    let resolved = match resolve(&c.model, &o, &mut sources) {
        Ok(r) => r,
        Err(d) => return out.diags(s, &d, &sources),
    };
    let dir = out_dir.unwrap_or_else(|| s.out_root.join(&c.model.name));
    let columns = c.model.state_columns();
    let resolved_sde = resolved.sde;
    let mut plan = RunPlan::new(
        resolved.config,
        resolved.init,
        dir,
        columns.clone(),
        c.model.is_gibbs(),
    );
    plan.model = c.model.name.clone();
    plan.sde = resolved_sde;
    plan.exact = sdelang::driver::exact_columns(&c.model, &plan.columns, &c.sources);
    let per_chain = KEEP_MAX / (plan.config.chains.max(1) * columns.len().max(1));
    let flag = Arc::clone(&s.interrupt);
    flag.store(false, Ordering::Relaxed);
    let make = |_chain: usize| Keeper {
        flag: Arc::clone(&flag),
        draws: Draws {
            dim: columns.len(),
            ..Draws::default()
        },
        cap: per_chain,
        truncated: false,
    };
    match execute_with(&c.compiled, &plan, make) {
        Ok((done, kept)) => {
            out.text.push_str(&done.summary);
            for w in &done.warnings {
                out.text.push_str(&format!("warning: {w}\n"));
            }
            let truncated = kept.iter().any(|k| k.truncated);
            s.last_run = Some(LastRun {
                model: c.model.name.clone(),
                columns,
                gibbs: plan.gibbs,
                chains: kept.into_iter().map(|k| k.draws).collect(),
                truncated,
            });
        }
        Err(DriverError::Run(RunError::Io { source, .. })) if source.kind() == io::ErrorKind::Interrupted => {
            out.text.push_str("interrupted: the run was stopped (Ctrl-C)\n");
        }
        Err(e) => out.error(&format!("the run failed: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_run_arguments() {
        let mut o = Overrides::default();
        let mut dir = None;
        parse_args("mala(step = 0.1) 500 2 seed=7 out=/tmp/x", &mut o, &mut dir).unwrap();
        assert_eq!(o.method.as_deref(), Some("mala(step = 0.1)"));
        assert_eq!((o.steps, o.chains, o.seed), (Some(500), Some(2), Some(7)));
        assert_eq!(dir, Some(PathBuf::from("/tmp/x")));
        assert!(parse_args("stepss=3", &mut o, &mut dir)
            .unwrap_err()
            .contains("did you mean `steps`"));
    }
}
