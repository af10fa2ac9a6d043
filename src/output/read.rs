//! Reading saved chains back: our CSV files, CmdStan CSV files (ours or CmdStan's own) and
//! `.npy` files, one per chain, found in a directory as `chain_1.*`, `chain_2.*`, ….
//!
//! Reading is by columns so that the diagnostics pass can hold a few columns of every chain at
//! a time and memory stays bounded whatever the run length times the state size.

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};

use super::npy::read_npy;

/// The layout of a directory's chain files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// sdelang's CSV: a header line, then draws (`t` first for SDE runs).
    Csv,
    /// CmdStan CSV: `#` comments, a header starting `lp__`, draws.
    CmdStan,
    /// NumPy `.npy`, shape `(draws, …)`.
    Npy,
}

/// The chain files of `dir` in chain order, and their format. CSV files win over `.npy`.
pub fn chain_files(dir: &Path) -> io::Result<(FileFormat, Vec<PathBuf>)> {
    for ext in ["csv", "npy"] {
        let mut found: Vec<(usize, PathBuf)> = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let number = name
                .strip_prefix("chain_")
                .and_then(|r| r.strip_suffix(&format!(".{ext}")))
                .and_then(|n| n.parse::<usize>().ok());
            if let Some(n) = number {
                found.push((n, path));
            }
        }
        found.sort();
        let files: Vec<PathBuf> = found.into_iter().map(|(_, p)| p).collect();
        if let Some(first) = files.first() {
            let format = if ext == "npy" {
                FileFormat::Npy
            } else if first_line(first)?.starts_with('#') {
                FileFormat::CmdStan
            } else {
                FileFormat::Csv
            };
            return Ok((format, files));
        }
    }
    Err(io::Error::new(
        io::ErrorKind::NotFound,
        format!(
            "no chain files (chain_1.csv or chain_1.npy) in `{}`",
            dir.display()
        ),
    ))
}

fn first_line(path: &Path) -> io::Result<String> {
    let mut line = String::new();
    BufReader::new(File::open(path)?).read_line(&mut line)?;
    Ok(line)
}

/// Splits a CSV line, honouring RFC 4180 quotes.
pub fn split_fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.trim_end_matches(['\n', '\r']).chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    out.push(field);
    out
}

/// The column names of a chain file (`npy`: `#1`, `#2`, … from its shape).
pub fn header(path: &Path, format: FileFormat) -> io::Result<Vec<String>> {
    if format == FileFormat::Npy {
        let a = read_npy(path)?;
        let width: usize = a.shape.iter().skip(1).product();
        return Ok((1..=width).map(|k| format!("#{k}")).collect());
    }
    for line in BufReader::new(File::open(path)?).lines() {
        let line = line?;
        if !line.starts_with('#') && !line.trim().is_empty() {
            return Ok(split_fields(&line));
        }
    }
    Ok(Vec::new())
}

/// The values of columns `wanted` (indices into the header) of every draw, one vector per
/// wanted column. CmdStan files with saved warm-up draws keep only the draws after
/// `# Adaptation terminated`.
pub fn columns(path: &Path, format: FileFormat, wanted: &[usize]) -> io::Result<Vec<Vec<f64>>> {
    let mut out: Vec<Vec<f64>> = vec![Vec::new(); wanted.len()];
    if format == FileFormat::Npy {
        let a = read_npy(path)?;
        let width: usize = a.shape.iter().skip(1).product();
        for row in a.data.chunks_exact(width.max(1)) {
            for (col, &k) in out.iter_mut().zip(wanted) {
                col.push(row.get(k).copied().unwrap_or(f64::NAN));
            }
        }
        return Ok(out);
    }
    let mut seen_header = false;
    for line in BufReader::new(File::open(path)?).lines() {
        let line = line?;
        if line.starts_with('#') {
            if line.starts_with("# Adaptation terminated") {
                out.iter_mut().for_each(Vec::clear);
            }
            continue;
        }
        if line.trim().is_empty() {
            continue;
        }
        if !seen_header {
            seen_header = true;
            continue;
        }
        let fields: Vec<&str> = line.split(',').collect();
        for (col, &k) in out.iter_mut().zip(wanted) {
            let v = fields.get(k).and_then(|f| parse_value(f)).unwrap_or(f64::NAN);
            col.push(v);
        }
    }
    Ok(out)
}

/// Parses a number as written by us or by CmdStan (`inf`, `-inf`, `nan` spellings included).
fn parse_value(field: &str) -> Option<f64> {
    let f = field.trim();
    f.parse::<f64>()
        .ok()
        .or_else(|| match f.to_ascii_lowercase().as_str() {
            "nan" | "-nan" => Some(f64::NAN),
            "inf" | "+inf" => Some(f64::INFINITY),
            "-inf" => Some(f64::NEG_INFINITY),
            _ => None,
        })
}

/// The number of draws in a chain file.
pub fn draw_count(path: &Path, format: FileFormat) -> io::Result<usize> {
    Ok(columns(path, format, &[0])?.first().map_or(0, Vec::len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_quoted_fields() {
        assert_eq!(split_fields("a,\"b,c\",\"d\"\"e\"\n"), vec!["a", "b,c", "d\"e"]);
    }
}
