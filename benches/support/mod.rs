//! What every benchmark shares: where the peers live, the hand-written Rust baseline, the
//! Python peers, and one table format, so that each workload is measured side by side with
//! its peers in the same run and reported the same way.
//!
//! Included by each bench with `#[path = "support/mod.rs"] mod support;`.
//!
//! - The peers directory is `$SDE_PEERS_DIR`, else `<repo>/../shared/peers`; it may be
//!   read-only, so nothing is written there.
//! - The baseline (`<peers>/rust-baseline`) is built by cargo run from inside its own
//!   directory, so that its `.cargo/config.toml` (`-C target-cpu=native`) applies, into
//!   `<repo>/target/peers-baseline`.
//! - Python peers run with `$SDE_PEERS_VENV/bin/python` (default
//!   `<repo>/target/peers-venv`, made by `benches/setup-peers.sh`) from `<peers>/py`.
//! - Every peer process gets the environment of `<peers>/run_all.sh`: `PEER_THREADS` (from
//!   the environment, else the number of cores), `RAYON_NUM_THREADS`, `OMP_NUM_THREADS` and
//!   the other BLAS thread counts, `PEER_SEED` (default 42), `JAX_PLATFORMS=cpu`,
//!   `XLA_FLAGS` (default `--xla_cpu_multi_thread_eigen=true`). [`pin_threads`] gives
//!   sdelang's own rayon pool the same thread count.
//!
//! A peer that cannot run (no venv, a missing package, a failed build, a timeout) yields
//! `None` after one line on stderr saying why; the bench goes on without it.

// Each bench uses only part of this module.
#![allow(dead_code)]

use serde_json::Value;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Wall-clock limit of one peer process (the limit `run_all.sh` gives each run).
pub const PEER_TIMEOUT: Duration = Duration::from_secs(900);

/// The sdelang repository (this crate's manifest directory).
pub fn repo_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The peers directory: `$SDE_PEERS_DIR`, else `<repo>/../shared/peers` (without `..` when
/// it exists, so messages name it plainly).
pub fn peers_dir() -> PathBuf {
    let dir = std::env::var_os("SDE_PEERS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_dir().join("../shared/peers"));
    std::fs::canonicalize(&dir).unwrap_or(dir)
}

/// The peers' virtualenv: `$SDE_PEERS_VENV`, else `<repo>/target/peers-venv`.
pub fn venv_dir() -> PathBuf {
    std::env::var_os("SDE_PEERS_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_dir().join("target/peers-venv"))
}

/// Where the baseline is built (`<repo>/target/peers-baseline`).
pub fn baseline_target_dir() -> PathBuf {
    repo_dir().join("target/peers-baseline")
}

/// Threads for every side: `$PEER_THREADS`, else the number of cores (as `run_all.sh`).
pub fn threads() -> usize {
    std::env::var("PEER_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n: &usize| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
}

/// The peers' seed: `$PEER_SEED`, else 42.
pub fn seed() -> u64 {
    std::env::var("PEER_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(42)
}

/// Sizes the global rayon pool (sdelang's chains run on it) to [`threads`], the count the
/// peers get; returns it. Call before the first sdelang run.
pub fn pin_threads() -> usize {
    let n = threads();
    if rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build_global()
        .is_err()
    {
        eprintln!("note: the rayon pool was already built; it keeps its own thread count");
    }
    n
}

/// One line describing the measurement conditions, printed under each bench's title.
pub fn conditions() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|t| t.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into());
    format!(
        "threads {} everywhere (PEER_THREADS), seed {}, {cpu}, load average {load} at start",
        threads(),
        seed()
    )
}

/// Sets the environment of `run_all.sh` on a peer command.
fn pin_peer_env(cmd: &mut Command) {
    let n = threads().to_string();
    for var in [
        "PEER_THREADS",
        "OMP_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "MKL_NUM_THREADS",
        "NUMEXPR_NUM_THREADS",
        "RAYON_NUM_THREADS",
    ] {
        cmd.env(var, &n);
    }
    cmd.env("PEER_SEED", seed().to_string())
        .env("JAX_PLATFORMS", "cpu")
        .env("PYTHONDONTWRITEBYTECODE", "1");
    if std::env::var_os("XLA_FLAGS").is_none() {
        cmd.env("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=true");
    }
}

/// What a finished child process left.
struct Finished {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut p) = pipe {
            let mut bytes = Vec::new();
            let _ = p.read_to_end(&mut bytes);
            text = String::from_utf8_lossy(&bytes).into_owned();
        }
        text
    })
}

/// Runs `cmd` to completion or kills it after `timeout`. The pipes are drained on their own
/// threads so a chatty child cannot block on a full pipe.
fn run_with_timeout(cmd: &mut Command, timeout: Duration) -> Result<Finished, String> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start: {e}"))?;
    let out = drain(child.stdout.take());
    let err = drain(child.stderr.take());
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("timed out after {} s", timeout.as_secs()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("cannot wait: {e}")),
        }
    };
    Ok(Finished {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    })
}

/// The last stdout line that is a JSON object (peers print their record last; what
/// `run_all.sh` keeps with `grep '^{' | tail -n 1`).
pub fn last_json_line(stdout: &str) -> Option<Value> {
    stdout
        .lines()
        .rev()
        .filter(|l| l.trim_start().starts_with('{'))
        .find_map(|l| serde_json::from_str::<Value>(l).ok().filter(Value::is_object))
}

/// The last non-empty line of a process's stderr, for one-line failure reasons.
fn last_line(text: &str) -> &str {
    text.lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
}

/// Turns a finished peer into its record, or a one-line reason.
fn record_of(done: Finished) -> Result<Value, String> {
    if !done.status.success() {
        let code = done
            .status
            .code()
            .map_or("a signal".to_string(), |c| c.to_string());
        return Err(format!("exit code {code}: {}", last_line(&done.stderr)));
    }
    last_json_line(&done.stdout).ok_or_else(|| "printed no JSON record".to_string())
}

/// The flags of the baseline built for 128-bit vectors: the host's instruction set
/// (FMA and AVX2 included) without AVX-512, and 128-bit vectors preferred. LLVM then
/// works with the vector width and the sixteen vector registers Cranelift has on x86-64.
const BASELINE_128_FLAGS: &str = "-Ctarget-cpu=native\x1f-Ctarget-feature=-avx512f,+prefer-128-bit";

/// Builds the baseline once per process: cargo is run from inside the baseline directory
/// (cargo reads `.cargo/config.toml` from the current directory up, so its
/// `target-cpu=native` applies) with the flag variables that would override that config
/// removed; with `narrow`, built instead with [`BASELINE_128_FLAGS`] into a directory of
/// its own. Returns the binary, or the reason it could not be built.
fn build_baseline(narrow: bool) -> Result<PathBuf, String> {
    let dir = peers_dir().join("rust-baseline");
    if !dir.join("Cargo.toml").is_file() {
        return Err(format!("no baseline at {} (set SDE_PEERS_DIR)", dir.display()));
    }
    let target = if narrow {
        repo_dir().join("target/peers-baseline-128")
    } else {
        baseline_target_dir()
    };
    eprintln!(
        "building the Rust baseline in {} into {}",
        dir.display(),
        target.display()
    );
    let mut cmd = Command::new(env!("CARGO"));
    cmd.current_dir(&dir)
        .args(["build", "--release", "--locked", "--quiet", "--target-dir"])
        .arg(&target);
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET_DIR",
    ] {
        cmd.env_remove(var);
    }
    if narrow {
        cmd.env("CARGO_ENCODED_RUSTFLAGS", BASELINE_128_FLAGS);
    }
    let done = run_with_timeout(&mut cmd, PEER_TIMEOUT)?;
    if !done.status.success() {
        return Err(format!("cargo build failed: {}", last_line(&done.stderr)));
    }
    let bin = target.join("release/peers-baseline");
    bin.is_file()
        .then_some(bin)
        .ok_or_else(|| "cargo build left no peers-baseline binary".to_string())
}

/// The outcome of building the baseline, built on first use and kept for the process.
fn built_baseline() -> &'static Result<PathBuf, String> {
    static BIN: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BIN.get_or_init(|| build_baseline(false))
}

/// The same for the baseline built for 128-bit vectors.
fn built_baseline_128() -> &'static Result<PathBuf, String> {
    static BIN: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BIN.get_or_init(|| build_baseline(true))
}

/// The baseline binary, built on first use; `None` (after saying why) when it cannot be
/// built.
pub fn baseline_binary() -> Option<PathBuf> {
    match built_baseline() {
        Ok(bin) => Some(bin.clone()),
        Err(why) => {
            eprintln!("rust baseline unavailable: {why}");
            None
        }
    }
}

/// Runs one baseline workload (`w1-ula`, `w1-baoab`, `w2-mala`, `w3`, `w4`, `w5-gauss`,
/// `w5-quad`) with `args` (`--steps N`, `--rng simd`, ...) and returns its JSON record, or
/// the reason it failed. Runs in `<peers>/py`, where `run_all.sh` runs it (W2 finds its data
/// set from there).
pub fn try_baseline(workload: &str, args: &[&str]) -> Result<Value, String> {
    run_baseline(built_baseline().clone()?, workload, args)
}

/// [`try_baseline`] with the baseline built for 128-bit vectors ([`BASELINE_128_FLAGS`]).
pub fn try_baseline_128(workload: &str, args: &[&str]) -> Result<Value, String> {
    run_baseline(built_baseline_128().clone()?, workload, args)
}

fn run_baseline(bin: PathBuf, workload: &str, args: &[&str]) -> Result<Value, String> {
    let mut cmd = Command::new(bin);
    cmd.current_dir(peers_dir().join("py")).arg(workload).args(args);
    pin_peer_env(&mut cmd);
    record_of(run_with_timeout(&mut cmd, PEER_TIMEOUT)?)
}

/// [`try_baseline`], saying on stderr why when it yields nothing.
pub fn baseline(workload: &str, args: &[&str]) -> Option<Value> {
    try_baseline(workload, args)
        .map_err(|why| eprintln!("rust baseline {workload}: {why}"))
        .ok()
}

/// The missing module named in a Python traceback, if that is why it failed.
fn missing_module(stderr: &str) -> Option<&str> {
    let rest = stderr.split("No module named '").nth(1)?;
    rest.split('\'').next()
}

/// Runs `<peers>/py/<script> args` with the venv's Python under [`PEER_TIMEOUT`]; see
/// [`try_python_peer_timeout`].
pub fn try_python_peer(script: &str, args: &[&str]) -> Result<Value, String> {
    try_python_peer_timeout(script, args, PEER_TIMEOUT)
}

/// Runs a Python peer with the venv's Python, from `<peers>/py`, with the pinned
/// environment, and returns its JSON record, or why not (no venv, a missing package, a
/// failure, a timeout).
pub fn try_python_peer_timeout(script: &str, args: &[&str], timeout: Duration) -> Result<Value, String> {
    let venv = venv_dir();
    let python = venv.join("bin/python");
    if !python.is_file() {
        return Err(format!(
            "skipped: no peers virtualenv at {} (run benches/setup-peers.sh)",
            venv.display()
        ));
    }
    let dir = peers_dir().join("py");
    if !dir.join(script).is_file() {
        return Err(format!("skipped: no {script} in {}", dir.display()));
    }
    let mut cmd = Command::new(python);
    cmd.current_dir(&dir).arg(script).args(args);
    pin_peer_env(&mut cmd);
    let done = run_with_timeout(&mut cmd, timeout)?;
    if !done.status.success() {
        if let Some(module) = missing_module(&done.stderr) {
            return Err(format!(
                "skipped: Python package `{module}` is not installed in {} (run benches/setup-peers.sh)",
                venv.display()
            ));
        }
    }
    record_of(done)
}

/// [`try_python_peer`], saying on stderr why when it yields nothing.
pub fn python_peer(script: &str, args: &[&str]) -> Option<Value> {
    try_python_peer(script, args)
        .map_err(|why| eprintln!("python peer {script} {}: {why}", args.join(" ")))
        .ok()
}

/// A number field of a peer record.
pub fn field(record: &Value, key: &str) -> Option<f64> {
    record.get(key).and_then(Value::as_f64)
}

/// The median of `values` (the upper one for an even count); `None` when empty.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied()
}

/// "median of N runs (range lo-hi)", the note of a row measured over repetitions.
pub fn runs_note(values: &[f64]) -> String {
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    match values.len() {
        0 => "no runs".into(),
        1 => "1 run".into(),
        n => format!("median of {n} runs (range {lo:.3e}-{hi:.3e})"),
    }
}

/// The value after `--name` on the bench's command line (`cargo bench --bench X -- --name
/// V`), or `default`.
pub fn arg<T: std::str::FromStr>(name: &str, default: T) -> T {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Whether `--name` is on the bench's command line.
pub fn flag(name: &str) -> bool {
    std::env::args().any(|a| a == name)
}

/// A number with four significant digits, for the extra columns.
pub fn num(v: f64) -> String {
    if !v.is_finite() {
        return "-".into();
    }
    let a = v.abs();
    if a != 0.0 && !(1e-3..1e5).contains(&a) {
        format!("{v:.3e}")
    } else {
        let decimals = if a == 0.0 {
            3
        } else {
            (3 - a.log10().floor() as i32).clamp(0, 6) as usize
        };
        format!("{v:.decimals$}")
    }
}

/// The records of one peer over a bench's repetitions, or why it did not run. A peer that
/// failed once is not started again ([`Runs::wanted`] turns false).
#[derive(Default)]
pub struct Runs {
    records: Vec<Value>,
    failure: Option<String>,
}

impl Runs {
    /// Whether another repetition should run (none has failed).
    pub fn wanted(&self) -> bool {
        self.failure.is_none()
    }

    /// Keeps a repetition's record, or its failure (said once on stderr).
    pub fn push(&mut self, name: &str, outcome: Result<Value, String>) {
        match outcome {
            Ok(record) => self.records.push(record),
            Err(why) => {
                eprintln!("{name}: {why}");
                self.failure = Some(why);
            }
        }
    }

    /// The records kept so far.
    pub fn records(&self) -> &[Value] {
        &self.records
    }

    /// The `key` field of every record that has it.
    pub fn rates(&self, key: &str) -> Vec<f64> {
        self.records.iter().filter_map(|r| field(r, key)).collect()
    }
}

/// One row of a [`Table`].
struct Row {
    name: String,
    rate: Option<f64>,
    extra: Vec<String>,
    note: String,
}

/// A side-by-side table: name, throughput, ratio to a reference row, extra columns, note.
/// Every bench prints its results through it, so all read the same way.
pub struct Table {
    title: String,
    unit: String,
    reference: String,
    extra: Vec<String>,
    rows: Vec<Row>,
}

impl Table {
    /// A table titled `title`, throughputs in `unit`, ratios relative to the row named
    /// `reference`, with the given extra column headers.
    pub fn new(title: &str, unit: &str, reference: &str, extra_columns: &[&str]) -> Table {
        Table {
            title: title.into(),
            unit: unit.into(),
            reference: reference.into(),
            extra: extra_columns.iter().map(|s| s.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a measured row; `note` may be empty.
    pub fn row(&mut self, name: &str, rate: Option<f64>, extra: Vec<String>, note: &str) {
        self.rows.push(Row {
            name: name.into(),
            rate,
            extra,
            note: note.into(),
        });
    }

    /// Adds a row from a peer's repetitions: the median of their `rate_key` field, the
    /// extra columns from the last record's `extra_keys`, or the reason there is none.
    pub fn peer_row(&mut self, name: &str, runs: &Runs, rate_key: &str, extra_keys: &[&str]) {
        let Some(last) = runs.records.last() else {
            let why = runs.failure.as_deref().unwrap_or("not run");
            self.row(name, None, Vec::new(), why);
            return;
        };
        let extra = extra_keys
            .iter()
            .map(|k| field(last, k).map_or("-".into(), num))
            .collect();
        let rates = runs.rates(rate_key);
        self.row(name, median(&rates), extra, &runs_note(&rates));
    }

    fn reference_rate(&self) -> Option<f64> {
        self.rows
            .iter()
            .find(|r| r.name == self.reference)
            .and_then(|r| r.rate)
    }

    /// The table as text.
    pub fn render(&self) -> String {
        let reference = self.reference_rate();
        let mut header = vec![
            "name".to_string(),
            self.unit.clone(),
            format!("vs {}", self.reference),
        ];
        header.extend(self.extra.iter().cloned());
        header.push("note".into());
        let mut cells = vec![header];
        for r in &self.rows {
            let ratio = match (r.rate, reference) {
                (Some(a), Some(b)) if b > 0.0 => format!("{:.3}", a / b),
                _ => "-".into(),
            };
            let mut line = vec![
                r.name.clone(),
                r.rate.map_or("-".into(), |v| format!("{v:.3e}")),
                ratio,
            ];
            line.extend((0..self.extra.len()).map(|i| r.extra.get(i).cloned().unwrap_or_else(|| "-".into())));
            line.push(r.note.clone());
            cells.push(line);
        }
        let columns = cells.first().map_or(0, Vec::len);
        let widths: Vec<usize> = (0..columns)
            .map(|c| {
                cells
                    .iter()
                    .filter_map(|l| l.get(c))
                    .map(|s| s.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = format!("{}\n", self.title);
        for line in &cells {
            let mut text = String::new();
            for (c, (cell, w)) in line.iter().zip(&widths).enumerate() {
                // Names and notes read left to right; numbers line up on the right.
                if c == 0 || c + 1 == columns {
                    text.push_str(&format!("{cell:<w$}  "));
                } else {
                    text.push_str(&format!("{cell:>w$}  "));
                }
            }
            out.push_str(text.trim_end());
            out.push('\n');
        }
        out
    }

    /// Prints the table to stdout.
    pub fn print(&self) {
        println!("{}", self.render());
    }
}
