//! NumPy `.npy` output (format version 1.0) for large arrays: one file per chain holding the
//! recorded states as a little-endian float64 array of shape `(draws, *shape)` (C order), read
//! by `numpy.load`. The header is written with room for any draw count and patched with the
//! final count when the chain finishes; until then the file carries a `.partial` suffix.
//! SDE runs record only the state here; the time grid is `t0 + step·dt` (see docs/running.md).

use std::io;
use std::path::{Path, PathBuf};

use super::file::PartialFile;
use crate::runtime::Recorder;

/// The final path of chain `chain`'s file: `dir/chain_{chain+1}.npy`.
pub fn npy_path(dir: &Path, chain: usize) -> PathBuf {
    dir.join(format!("chain_{}.npy", chain.saturating_add(1)))
}

const MAGIC: &[u8] = b"\x93NUMPY\x01\x00";

/// The header for `rows` rows of `shape`, padded to `total` bytes (a multiple of 64).
fn header(rows: u64, shape: &[usize], total: usize) -> Vec<u8> {
    let dims: Vec<String> = std::iter::once(rows.to_string())
        .chain(shape.iter().map(|d| d.to_string()))
        .collect();
    let shape_text = if dims.len() == 1 {
        format!("({},)", dims.join(", "))
    } else {
        format!("({})", dims.join(", "))
    };
    let dict = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape_text}, }}");
    let mut out = MAGIC.to_vec();
    let len = total.saturating_sub(MAGIC.len() + 2);
    out.extend_from_slice(&(len as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    while out.len() + 1 < total {
        out.push(b' ');
    }
    out.push(b'\n');
    out
}

/// The header size that fits any row count for `shape`.
fn header_size(shape: &[usize]) -> usize {
    let widest = header(u64::MAX, shape, 0).len();
    widest.div_ceil(64) * 64
}

/// Writes one chain's draws to `chain_{c+1}.npy`.
#[derive(Debug)]
pub struct NpyRecorder {
    file: PartialFile,
    shape: Vec<usize>,
    rows: u64,
    size: usize,
    bytes: Vec<u8>,
}

impl NpyRecorder {
    /// Creates the file for draws of `shape` (e.g. `[n]`, or `[particles, k]`).
    pub fn create(dir: &Path, chain: usize, shape: &[usize]) -> io::Result<Self> {
        Self::create_at(npy_path(dir, chain), shape)
    }

    /// Creates the file `path` for draws of `shape`.
    pub fn create_at(path: PathBuf, shape: &[usize]) -> io::Result<Self> {
        let mut file = PartialFile::create(path)?;
        let size = header_size(shape);
        file.write(&header(0, shape, size))?;
        Ok(NpyRecorder {
            file,
            shape: shape.to_vec(),
            rows: 0,
            size,
            bytes: Vec::new(),
        })
    }

    /// Continues an interrupted chain's file, cut back to `len` bytes.
    pub fn resume(dir: &Path, chain: usize, shape: &[usize], len: u64) -> io::Result<Self> {
        Self::resume_at(npy_path(dir, chain), shape, len)
    }

    /// The length in bytes of a file of `rows` draws of `shape`.
    pub fn length_of(shape: &[usize], rows: u64) -> u64 {
        header_size(shape) as u64 + rows * 8 * shape.iter().product::<usize>().max(1) as u64
    }

    /// Continues the interrupted file `path`, cut back to `len` bytes.
    pub fn resume_at(path: PathBuf, shape: &[usize], len: u64) -> io::Result<Self> {
        let size = header_size(shape);
        let row_bytes = 8 * shape.iter().product::<usize>().max(1) as u64;
        let rows = len.saturating_sub(size as u64) / row_bytes;
        Ok(NpyRecorder {
            file: PartialFile::resume(path, len)?,
            shape: shape.to_vec(),
            rows,
            size,
            bytes: Vec::new(),
        })
    }

    /// Flushes and returns the file's length in bytes.
    pub fn flush(&mut self) -> io::Result<u64> {
        self.file.flush()
    }
}

impl Recorder for NpyRecorder {
    fn record(&mut self, _step: u64, _t: f64, x: &[f64]) -> io::Result<()> {
        self.bytes.clear();
        for v in x {
            self.bytes.extend_from_slice(&v.to_le_bytes());
        }
        self.rows += 1;
        self.file.write(&self.bytes)
    }

    /// Writes the final row count into the header, then renames the file.
    fn finish(&mut self) -> io::Result<()> {
        let head = header(self.rows, &self.shape, self.size);
        self.file.patch(0, &head)?;
        self.file.finish()
    }
}

/// An array read from a `.npy` file.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    /// The shape.
    pub shape: Vec<usize>,
    /// The values in C order.
    pub data: Vec<f64>,
}

/// Reads a version 1.0 or 2.0 `.npy` file of little-endian float64 in C order.
pub fn read_npy(path: &Path) -> io::Result<NpyArray> {
    let bytes = std::fs::read(path)?;
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, format!("{}: {what}", path.display()));
    if bytes.get(..6) != MAGIC.get(..6) {
        return Err(bad("not a .npy file"));
    }
    let (len, start) = match bytes.get(6) {
        Some(1) => (
            bytes
                .get(8..10)
                .and_then(|b| b.try_into().ok())
                .map(|a| u16::from_le_bytes(a) as usize),
            10,
        ),
        Some(2) => (
            bytes
                .get(8..12)
                .and_then(|b| b.try_into().ok())
                .map(|a| u32::from_le_bytes(a) as usize),
            12,
        ),
        _ => (None, 0),
    };
    let len = len.ok_or_else(|| bad("unsupported version"))?;
    let head = bytes
        .get(start..start + len)
        .ok_or_else(|| bad("truncated header"))?;
    let head = String::from_utf8_lossy(head);
    if !head.contains("'descr': '<f8'") || head.contains("'fortran_order': True") {
        return Err(bad("only little-endian float64 in C order is read"));
    }
    let shape = parse_shape(&head).ok_or_else(|| bad("bad shape"))?;
    let count: usize = shape.iter().product();
    let body = bytes.get(start + len..).unwrap_or(&[]);
    if body.len() != 8 * count {
        return Err(bad("data length does not match the shape"));
    }
    let data = body
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
        .collect();
    Ok(NpyArray { shape, data })
}

fn parse_shape(head: &str) -> Option<Vec<usize>> {
    let after = head.split("'shape':").nth(1)?;
    let open = after.find('(')?;
    let close = after.find(')')?;
    let inner = after.get(open + 1..close)?;
    inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_reads_back() {
        let dir = std::env::temp_dir().join(format!("sdelang-npy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut r = NpyRecorder::create(&dir, 0, &[3]).unwrap();
        r.record(1, 0.0, &[1.0, 2.0, 3.0]).unwrap();
        r.record(2, 0.0, &[4.0, -5.5, 1e-300]).unwrap();
        assert!(dir.join("chain_1.npy.partial").exists());
        r.finish().unwrap();
        let a = read_npy(&dir.join("chain_1.npy")).unwrap();
        assert_eq!(a.shape, vec![2, 3]);
        assert_eq!(a.data, vec![1.0, 2.0, 3.0, 4.0, -5.5, 1e-300]);
        let bytes = std::fs::read(dir.join("chain_1.npy")).unwrap();
        assert_eq!(header_size(&[3]) % 64, 0);
        assert_eq!(bytes[header_size(&[3]) - 1], b'\n');
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
