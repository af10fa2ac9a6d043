//! A chain's output file written under a temporary name: `NAME.partial` while the chain runs,
//! renamed to `NAME` when it finishes, so a crash never leaves a truncated file under the final
//! name. The byte count is tracked so that a checkpoint can record how far the file is valid,
//! and a resumed run truncates the partial file back to that length before appending.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// An output file being written.
#[derive(Debug)]
pub struct PartialFile {
    out: Option<BufWriter<File>>,
    partial: PathBuf,
    path: PathBuf,
    len: u64,
}

/// `path` with `.partial` appended.
pub fn partial_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".partial");
    PathBuf::from(p)
}

impl PartialFile {
    /// Creates `path.partial` (empty), removing a stale `path` from an earlier run.
    pub fn create(path: PathBuf) -> io::Result<Self> {
        match fs::remove_file(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        let partial = partial_path(&path);
        let file = File::create(&partial)?;
        Ok(PartialFile {
            out: Some(BufWriter::with_capacity(1 << 16, file)),
            partial,
            path,
            len: 0,
        })
    }

    /// Reopens `path.partial` of an interrupted run, cut back to `len` bytes (the length a
    /// checkpoint recorded), positioned at its end.
    pub fn resume(path: PathBuf, len: u64) -> io::Result<Self> {
        let partial = partial_path(&path);
        let mut file = OpenOptions::new().read(true).write(true).open(&partial)?;
        let found = file.metadata()?.len();
        if found < len {
            return Err(io::Error::other(format!(
                "`{}` has {found} bytes but the checkpoint expects {len}",
                partial.display()
            )));
        }
        file.set_len(len)?;
        file.seek(SeekFrom::End(0))?;
        Ok(PartialFile {
            out: Some(BufWriter::with_capacity(1 << 16, file)),
            partial,
            path,
            len,
        })
    }

    /// Appends bytes.
    #[inline]
    pub fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        let out = self
            .out
            .as_mut()
            .ok_or_else(|| io::Error::other("output file already finished"))?;
        out.write_all(bytes)?;
        self.len += bytes.len() as u64;
        Ok(())
    }

    /// Bytes written so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether nothing has been written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Flushes buffered bytes to the file and returns its length.
    pub fn flush(&mut self) -> io::Result<u64> {
        if let Some(out) = self.out.as_mut() {
            out.flush()?;
        }
        Ok(self.len)
    }

    /// Overwrites bytes at `offset` (within what is written), e.g. a header patched at the end.
    pub fn patch(&mut self, offset: u64, bytes: &[u8]) -> io::Result<()> {
        let out = self
            .out
            .as_mut()
            .ok_or_else(|| io::Error::other("output file already finished"))?;
        out.flush()?;
        let file = out.get_mut();
        file.seek(SeekFrom::Start(offset))?;
        file.write_all(bytes)?;
        file.seek(SeekFrom::End(0))?;
        Ok(())
    }

    /// Flushes, closes and renames the file to its final name.
    pub fn finish(&mut self) -> io::Result<()> {
        if let Some(out) = self.out.take() {
            let file = out.into_inner().map_err(io::IntoInnerError::into_error)?;
            file.sync_all()?;
            drop(file);
            fs::rename(&self.partial, &self.path)?;
        }
        Ok(())
    }

    /// The final path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}
