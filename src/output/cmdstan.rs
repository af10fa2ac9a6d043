//! CmdStan-compatible CSV output: one file per chain in the layout CmdStan's `sample` method
//! writes, so cmdstanpy (`from_csv`), ArviZ (`from_cmdstan`, `from_cmdstanpy`) and other Stan
//! tools read it unchanged.
//!
//! Layout: the indented `# key = value` configuration block, the header
//! `lp__,accept_stat__,stepsize__,treedepth__,n_leapfrog__,divergent__,energy__,x.1,…`, the
//! adaptation block (`# Adaptation terminated`, `# Step size = …`,
//! `# Diagonal elements of inverse mass matrix:` and its row), the draws, and the
//! elapsed-time comments. The configuration says what sdelang ran: MALA is HMC with one
//! leapfrog step of size ε = √(2hT) and unit metric (`engine = static`, `int_time = ε`);
//! ULA and BAOAB are named as `algorithm = ula` / `baoab`, which the readers accept as long as
//! the adaptation block is there. `max_depth` is written because cmdstanpy requires it; no
//! trees are built (treedepth__ is 0, n_leapfrog__ 1, divergent__ 0). Elapsed times are wall
//! times measured by the writer: warm-up ends at the first draw.

use std::fmt::Write as _;
use std::io;
use std::path::Path;
use std::time::Instant;

use super::csv::{csv_path, push_f64};
use super::file::PartialFile;
use crate::runtime::{Mass, Method, Recorder, RunConfig, SAMPLER_STATS};

/// What the configuration block reports.
#[derive(Debug, Clone)]
pub struct CmdStanInfo {
    /// The model's name.
    pub model: String,
    /// The run's settings.
    pub config: RunConfig,
    /// State column names (`x.1`, …).
    pub columns: Vec<String>,
}

impl CmdStanInfo {
    /// The HMC step size the method amounts to before any adaptation: √(2hT) for ULA and
    /// MALA, h for the kinetic Langevin schemes, ε for HMC and NUTS.
    pub fn stepsize(&self) -> f64 {
        let t = self.config.temperature;
        match &self.config.method {
            Method::Ula { step, .. } | Method::Mala { step, .. } => (2.0 * step * t).sqrt(),
            Method::NewtonLangevin { step, .. }
            | Method::AnnealedLangevin { step, .. }
            | Method::Sgld { step, .. } => (2.0 * step * t).sqrt(),
            Method::Baoab(k) | Method::Obabo(k) | Method::Aboba(k) | Method::Ubu(k) => k.step,
            Method::RandomizedMidpoint(k) | Method::Sghmc { kinetic: k, .. } => k.step,
            Method::Hmc { step, .. } | Method::Nuts { step, .. } => *step,
            _ => 0.0,
        }
    }

    /// Diagonal of the inverse mass matrix as configured (in units of U/T; 1 for a dense or
    /// no mass matrix).
    pub fn inverse_mass(&self) -> Vec<f64> {
        let n = self.columns.len();
        let of = |mass: &Mass| match mass {
            Mass::Scalar(m) => vec![1.0 / m; n],
            Mass::Diagonal(v) => v.iter().map(|m| 1.0 / m).collect(),
            Mass::Dense(_) => vec![1.0; n],
        };
        match &self.config.method {
            Method::Ula { mass, .. }
            | Method::Mala { mass, .. }
            | Method::Hmc { mass, .. }
            | Method::Nuts { mass, .. } => of(mass),
            Method::Baoab(k) | Method::Obabo(k) | Method::Aboba(k) | Method::Ubu(k) => vec![1.0 / k.mass; n],
            Method::RandomizedMidpoint(k) | Method::Sghmc { kinetic: k, .. } => vec![1.0 / k.mass; n],
            _ => vec![1.0; n],
        }
    }

    /// `algorithm`, and the HMC engine with its key and value where the method is HMC.
    fn algorithm(&self) -> (&'static str, Option<(&'static str, &'static str, String)>) {
        match &self.config.method {
            Method::Mala { .. } => ("hmc", Some(("static", "int_time", self.stepsize().to_string()))),
            Method::Hmc { step, steps, .. } => {
                let time = step * *steps as f64;
                ("hmc", Some(("static", "int_time", time.to_string())))
            }
            Method::Nuts { max_depth, .. } => ("hmc", Some(("nuts", "max_depth", max_depth.to_string()))),
            other => (other.name(), None),
        }
    }

    /// The configuration block and the header line.
    pub fn preamble(&self, chain: usize) -> String {
        let mut s = self.config_block(chain);
        let names = SAMPLER_STATS
            .iter()
            .copied()
            .chain(self.columns.iter().map(String::as_str));
        s.push_str(&names.collect::<Vec<_>>().join(","));
        s.push('\n');
        s
    }

    /// The adaptation block, written before the first draw with the step size in use then.
    pub fn adaptation(&self, step_size: f64) -> String {
        let mut s = String::from("# Adaptation terminated\n");
        let _ = writeln!(s, "# Step size = {step_size}");
        s.push_str("# Diagonal elements of inverse mass matrix:\n");
        let row: Vec<String> = self.inverse_mass().iter().map(|v| v.to_string()).collect();
        let _ = writeln!(s, "# {}", row.join(", "));
        s
    }

    /// The indented `# key = value` lines CmdStan writes before the header.
    fn config_block(&self, chain: usize) -> String {
        let c = &self.config;
        let eps = self.stepsize();
        let mut s = String::new();
        kv(&mut s, 0, "stan_version_major", &2);
        kv(&mut s, 0, "stan_version_minor", &36);
        kv(&mut s, 0, "stan_version_patch", &0);
        kv(&mut s, 0, "model", &format!("{}_model", self.model));
        kv(&mut s, 0, "method", &"sample (Default)");
        section(&mut s, 1, "sample");
        kv(&mut s, 2, "num_samples", &c.steps);
        kv(&mut s, 2, "num_warmup", &c.warmup);
        kv(&mut s, 2, "save_warmup", &"false");
        kv(&mut s, 2, "thin", &c.thin);
        section(&mut s, 2, "adapt");
        kv(&mut s, 3, "engaged", &"false");
        let (algorithm, engine) = self.algorithm();
        kv(&mut s, 2, "algorithm", &algorithm);
        section(&mut s, 3, algorithm);
        if let Some((engine, key, value)) = &engine {
            kv(&mut s, 4, "engine", engine);
            section(&mut s, 5, engine);
            kv(&mut s, 6, key, value);
        }
        if !matches!(engine, Some(("nuts", _, _))) {
            kv(&mut s, 4, "max_depth", &10);
        }
        kv(&mut s, 4, "metric", &"diag_e");
        kv(&mut s, 4, "stepsize", &eps);
        kv(&mut s, 4, "stepsize_jitter", &0);
        kv(&mut s, 2, "num_chains", &1);
        kv(&mut s, 0, "id", &(chain + 1));
        section(&mut s, 0, "random");
        kv(&mut s, 1, "seed", &c.seed);
        section(&mut s, 0, "output");
        kv(&mut s, 1, "file", &format!("chain_{}.csv", chain + 1));
        kv(&mut s, 1, "sig_figs", &-1);
        section(&mut s, 0, "sdelang");
        kv(&mut s, 1, "sdelang_method", &c.method);
        kv(&mut s, 1, "temperature", &c.temperature);
        kv(&mut s, 1, "stream", &format!("({}, {chain})", c.seed));
        s.push_str("#   (without NUTS, max_depth is there for readers: no trees are built)\n");
        s
    }
}

/// `#` + two spaces per indent level + ` key = value`.
fn kv(s: &mut String, indent: usize, key: &str, value: &dyn std::fmt::Display) {
    let _ = writeln!(s, "#{:w$} {key} = {value}", "", w = indent * 2);
}

/// `#` + two spaces per indent level + ` name`.
fn section(s: &mut String, indent: usize, name: &str) {
    let _ = writeln!(s, "#{:w$} {name}", "", w = indent * 2);
}

/// Writes one chain as a CmdStan CSV file (`chain_{c+1}.csv`).
#[derive(Debug)]
pub struct CmdStanRecorder {
    file: PartialFile,
    /// The adaptation block's writer, until it is written (before the first draw).
    info: Option<CmdStanInfo>,
    line: String,
    started: Instant,
    first_draw: Option<Instant>,
}

impl CmdStanRecorder {
    /// Creates the file and writes the configuration block, header and adaptation block.
    pub fn create(dir: &Path, chain: usize, info: &CmdStanInfo) -> io::Result<Self> {
        let mut file = PartialFile::create(csv_path(dir, chain))?;
        file.write(info.preamble(chain).as_bytes())?;
        let mut r = Self::with_file(file);
        r.info = Some(info.clone());
        Ok(r)
    }

    /// Continues an interrupted chain's file, cut back to `len` bytes (`info` when no draw
    /// had been written yet).
    pub fn resume(dir: &Path, chain: usize, len: u64, info: Option<&CmdStanInfo>) -> io::Result<Self> {
        let mut r = Self::with_file(PartialFile::resume(csv_path(dir, chain), len)?);
        r.info = info.cloned();
        Ok(r)
    }

    fn with_file(file: PartialFile) -> Self {
        CmdStanRecorder {
            file,
            info: None,
            line: String::new(),
            started: Instant::now(),
            first_draw: None,
        }
    }

    /// Flushes and returns the file's length in bytes.
    pub fn flush(&mut self) -> io::Result<u64> {
        self.file.flush()
    }
}

impl Recorder for CmdStanRecorder {
    fn record(&mut self, step: u64, t: f64, x: &[f64]) -> io::Result<()> {
        self.record_stats(step, t, x, &[f64::NAN; 7])
    }

    fn wants_stats(&self) -> bool {
        true
    }

    fn record_stats(&mut self, _step: u64, _t: f64, x: &[f64], stats: &[f64]) -> io::Result<()> {
        self.first_draw.get_or_insert_with(Instant::now);
        if let Some(info) = self.info.take() {
            let eps = stats
                .get(2)
                .copied()
                .filter(|e| *e > 0.0)
                .unwrap_or_else(|| info.stepsize());
            self.file.write(info.adaptation(eps).as_bytes())?;
        }
        self.line.clear();
        for (k, v) in stats.iter().chain(x).enumerate() {
            if k > 0 {
                self.line.push(',');
            }
            push_f64(&mut self.line, *v);
        }
        self.line.push('\n');
        self.file.write(self.line.as_bytes())
    }

    /// Writes the elapsed-time comments, then renames the file to its final name.
    fn finish(&mut self) -> io::Result<()> {
        if let Some(info) = self.info.take() {
            self.file.write(info.adaptation(info.stepsize()).as_bytes())?;
        }
        let end = Instant::now();
        let first = self.first_draw.unwrap_or(end);
        let warm = first.saturating_duration_since(self.started).as_secs_f64();
        let sampling = end.saturating_duration_since(first).as_secs_f64();
        let text = format!(
            "# \n#  Elapsed Time: {warm:.3} seconds (Warm-up)\n#                {sampling:.3} seconds \
             (Sampling)\n#                {:.3} seconds (Total)\n# \n",
            warm + sampling
        );
        self.file.write(text.as_bytes())?;
        self.file.finish()
    }
}
