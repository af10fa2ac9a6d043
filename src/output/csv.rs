//! One CSV file per chain, written crash-safely.
//!
//! A chain writes `chain_{c}.csv.partial` through a `BufWriter` and renames it to
//! `chain_{c}.csv` when it finishes successfully, so a crashed or failed run never leaves a
//! truncated file under the final name. Numbers are written in their shortest round-trip form
//! (`{}` of `f64`, switching to `{:e}` below 1e-5 and from 1e16 on so extreme values stay short).

use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::file::PartialFile;
use crate::runtime::Recorder;

/// The final path of chain `chain`'s file (0-based `chain`, 1-based name): `dir/chain_{chain+1}.csv`.
pub fn csv_path(dir: &Path, chain: usize) -> PathBuf {
    dir.join(format!("chain_{}.csv", chain.saturating_add(1)))
}

/// Column names for a state: `name` for a scalar (`len == None`), else `name.1` … `name.len`.
pub fn state_columns(name: &str, len: Option<usize>) -> Vec<String> {
    match len {
        None => vec![name.to_string()],
        Some(n) => (1..=n).map(|k| format!("{name}.{k}")).collect(),
    }
}

/// A recorder writing one chain's draws as CSV rows.
#[derive(Debug)]
pub struct CsvRecorder {
    file: PartialFile,
    with_time: bool,
    line: String,
}

impl CsvRecorder {
    /// Creates `dir/chain_{chain+1}.csv.partial` and writes the header: `t` first when
    /// `with_time` (SDE runs), then `columns`. A stale `chain_{chain+1}.csv` from an earlier run is
    /// removed so that it cannot be mistaken for this run's output.
    pub fn create(dir: &Path, chain: usize, columns: &[String], with_time: bool) -> io::Result<Self> {
        let mut file = PartialFile::create(csv_path(dir, chain))?;
        file.write(header_line(columns, with_time).as_bytes())?;
        Ok(CsvRecorder {
            file,
            with_time,
            line: String::new(),
        })
    }

    /// Continues an interrupted chain's `chain_{chain+1}.csv.partial`, cut back to `len` bytes.
    pub fn resume(dir: &Path, chain: usize, with_time: bool, len: u64) -> io::Result<Self> {
        Ok(CsvRecorder {
            file: PartialFile::resume(csv_path(dir, chain), len)?,
            with_time,
            line: String::new(),
        })
    }

    /// The file's final path.
    pub fn path(&self) -> &Path {
        self.file.path()
    }

    /// Flushes and returns the file's length in bytes.
    pub fn flush(&mut self) -> io::Result<u64> {
        self.file.flush()
    }
}

/// The header line: `t` first when `with_time`, then the columns, RFC 4180-quoted.
pub(crate) fn header_line(columns: &[String], with_time: bool) -> String {
    let mut header = String::new();
    let names = with_time
        .then_some("t")
        .into_iter()
        .chain(columns.iter().map(String::as_str));
    for (k, name) in names.enumerate() {
        if k > 0 {
            header.push(',');
        }
        push_field(&mut header, name);
    }
    header.push('\n');
    header
}

impl Recorder for CsvRecorder {
    fn record(&mut self, _step: u64, t: f64, x: &[f64]) -> io::Result<()> {
        self.line.clear();
        let values = self.with_time.then_some(&t).into_iter().chain(x);
        for (k, v) in values.enumerate() {
            if k > 0 {
                self.line.push(',');
            }
            push_f64(&mut self.line, *v);
        }
        self.line.push('\n');
        self.file.write(self.line.as_bytes())
    }

    /// Flushes the file and renames it to its final name.
    fn finish(&mut self) -> io::Result<()> {
        self.file.finish()
    }
}

/// A recorder factory for [`crate::runtime::run_gibbs`] / [`crate::runtime::run_sde`]: chain `c`
/// writes `dir/chain_{c+1}.csv`. The directory is created on first use.
pub fn csv_factory(
    dir: PathBuf,
    columns: Vec<String>,
    with_time: bool,
) -> impl Fn(usize) -> io::Result<CsvRecorder> + Sync {
    move |chain| {
        fs::create_dir_all(&dir)?;
        CsvRecorder::create(&dir, chain, &columns, with_time)
    }
}

/// Appends `v` in shortest round-trip form.
pub(crate) fn push_f64(buf: &mut String, v: f64) {
    let a = v.abs();
    // Writing to a String cannot fail.
    let _ = if a == 0.0 || (1e-5..1e16).contains(&a) || !a.is_finite() {
        write!(buf, "{v}")
    } else {
        write!(buf, "{v:e}")
    };
}

/// Appends a header field, quoted as RFC 4180 asks when it holds a comma, quote or newline.
fn push_field(buf: &mut String, name: &str) {
    if name.contains([',', '"', '\n', '\r']) {
        buf.push('"');
        buf.push_str(&name.replace('"', "\"\""));
        buf.push('"');
    } else {
        buf.push_str(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_round_trip_and_stay_short() {
        for v in [
            0.1,
            -2.5,
            1.0,
            0.0,
            1e-300,
            123456789.123,
            6.02e23,
            f64::MIN_POSITIVE,
            1.0 / 3.0,
        ] {
            let mut s = String::new();
            push_f64(&mut s, v);
            assert!(s.len() <= 24, "{s}");
            assert_eq!(s.parse::<f64>().ok(), Some(v), "{s}");
        }
    }

    #[test]
    fn names_state_columns() {
        assert_eq!(state_columns("S", None), vec!["S"]);
        assert_eq!(state_columns("x", Some(2)), vec!["x.1", "x.2"]);
    }

    #[test]
    fn writes_partial_then_renames() {
        let dir = std::env::temp_dir().join(format!("sdelang-csv-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let cols = vec!["x.1".to_string(), "a,b".to_string()];
        let mut r = CsvRecorder::create(&dir, 0, &cols, true).unwrap();
        r.record(1, 0.5, &[1.0, -2.0]).unwrap();
        assert!(dir.join("chain_1.csv.partial").exists());
        assert!(!dir.join("chain_1.csv").exists());
        r.finish().unwrap();
        let text = fs::read_to_string(dir.join("chain_1.csv")).unwrap();
        assert_eq!(text, "t,x.1,\"a,b\"\n0.5,1,-2\n");
        assert!(!dir.join("chain_1.csv.partial").exists());
        fs::remove_dir_all(&dir).unwrap();
    }
}
