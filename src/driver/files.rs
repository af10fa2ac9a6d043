//! A chain's files: the draws in the chosen format, checkpoints in `DIR/checkpoint/`, and the
//! progress counter. One [`ChainFiles`] recorder per chain.
//!
//! A checkpoint of chain `c` is `DIR/checkpoint/chain_{c+1}.json`: the runtime's
//! [`ChainState`] plus the length of the chain's `.partial` file at that step (flushed first).
//! It is written to a temporary name and renamed, so a crash leaves the previous one intact. A
//! chain also checkpoints after its last step (marked done), so a resumed run knows which
//! chains finished.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::output::{csv_path, npy_path, CmdStanInfo, CmdStanRecorder, CsvRecorder, FileFormat, NpyRecorder};
use crate::runtime::{ChainState, Checkpoint, Recorder};

/// Steps between progress counter updates.
const PROGRESS_EVERY: u64 = 256;

/// A checkpoint file's contents.
#[derive(Debug, Serialize, Deserialize)]
pub struct ChainCheckpoint {
    /// The chain's state.
    pub state: ChainState,
    /// Valid length of the chain's output file.
    pub file_len: u64,
}

/// The directory holding checkpoints.
pub fn checkpoint_dir(dir: &Path) -> PathBuf {
    dir.join("checkpoint")
}

fn checkpoint_path(dir: &Path, chain: usize) -> PathBuf {
    checkpoint_dir(dir).join(format!("chain_{}.json", chain + 1))
}

/// Reads chain `chain`'s checkpoint, if there is one.
pub fn read_checkpoint(dir: &Path, chain: usize) -> io::Result<Option<ChainCheckpoint>> {
    match std::fs::read_to_string(checkpoint_path(dir, chain)) {
        Ok(text) => serde_json::from_str(&text).map(Some).map_err(io::Error::other),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// The writer of the chain's draws.
#[derive(Debug)]
enum Writer {
    Csv(CsvRecorder),
    CmdStan(Box<CmdStanRecorder>),
    Npy(NpyRecorder),
    /// The chain had finished before the run was interrupted: nothing to write.
    Done,
}

/// What every chain's files share.
#[derive(Debug, Clone)]
pub struct FileSpec {
    /// Output directory.
    pub dir: PathBuf,
    /// Format of the draws.
    pub format: FileFormat,
    /// State columns.
    pub columns: Vec<String>,
    /// SDE run (a `t` column in CSV).
    pub with_time: bool,
    /// For CmdStan files.
    pub cmdstan: Option<CmdStanInfo>,
    /// Checkpoint every this many steps (0: only on a stop request and at the end).
    pub every: u64,
    /// Whether to write checkpoints at all.
    pub checkpoints: bool,
    /// Set by a signal handler: checkpoint and stop.
    pub stop: Option<Arc<AtomicBool>>,
    /// Steps taken over all chains, for a progress display.
    pub progress: Option<Arc<AtomicU64>>,
}

/// One chain's recorder: its draw file, checkpoints and progress.
#[derive(Debug)]
pub struct ChainFiles {
    writer: Writer,
    spec: FileSpec,
    chain: usize,
    resume: Option<ChainState>,
}

impl ChainFiles {
    /// Creates chain `chain`'s files afresh.
    pub fn create(spec: &FileSpec, chain: usize) -> io::Result<Self> {
        let dir = &spec.dir;
        let writer = match (spec.format, &spec.cmdstan) {
            (FileFormat::CmdStan, Some(info)) => {
                Writer::CmdStan(Box::new(CmdStanRecorder::create(dir, chain, info)?))
            }
            (FileFormat::Npy, _) => Writer::Npy(NpyRecorder::create(dir, chain, &[spec.columns.len()])?),
            _ => Writer::Csv(CsvRecorder::create(dir, chain, &spec.columns, spec.with_time)?),
        };
        Ok(ChainFiles {
            writer,
            spec: spec.clone(),
            chain,
            resume: None,
        })
    }

    /// Continues chain `chain` from its checkpoint (afresh when it has none).
    pub fn resume(spec: &FileSpec, chain: usize) -> io::Result<Self> {
        let Some(saved) = read_checkpoint(&spec.dir, chain)? else {
            return Self::create(spec, chain);
        };
        let dir = &spec.dir;
        let final_path = match spec.format {
            FileFormat::Npy => npy_path(dir, chain),
            _ => csv_path(dir, chain),
        };
        let len = saved.file_len;
        let writer = if saved.state.done && final_path.exists() {
            Writer::Done
        } else {
            match spec.format {
                FileFormat::CmdStan => {
                    let fresh = (saved.state.draws == 0)
                        .then_some(spec.cmdstan.as_ref())
                        .flatten();
                    Writer::CmdStan(Box::new(CmdStanRecorder::resume(dir, chain, len, fresh)?))
                }
                FileFormat::Npy => Writer::Npy(NpyRecorder::resume(dir, chain, &[spec.columns.len()], len)?),
                FileFormat::Csv => Writer::Csv(CsvRecorder::resume(dir, chain, spec.with_time, len)?),
            }
        };
        if let Some(p) = &spec.progress {
            p.fetch_add(saved.state.step, Ordering::Relaxed);
        }
        Ok(ChainFiles {
            writer,
            spec: spec.clone(),
            chain,
            resume: Some(saved.state),
        })
    }

    fn flush(&mut self) -> io::Result<u64> {
        match &mut self.writer {
            Writer::Csv(w) => w.flush(),
            Writer::CmdStan(w) => w.flush(),
            Writer::Npy(w) => w.flush(),
            Writer::Done => Ok(0),
        }
    }

    fn recorder(&mut self) -> Option<&mut dyn Recorder> {
        match &mut self.writer {
            Writer::Csv(w) => Some(w),
            Writer::CmdStan(w) => Some(w.as_mut()),
            Writer::Npy(w) => Some(w),
            Writer::Done => None,
        }
    }
}

impl ChainFiles {
    /// The number of draws a resumed chain had written at its checkpoint.
    pub fn resumed_draws(&self) -> Option<u64> {
        self.resume.as_ref().map(|s| s.draws)
    }
}

impl Recorder for ChainFiles {
    fn record(&mut self, step: u64, t: f64, x: &[f64]) -> io::Result<()> {
        self.recorder().map_or(Ok(()), |r| r.record(step, t, x))
    }

    fn wants_stats(&self) -> bool {
        matches!(self.writer, Writer::CmdStan(_))
    }

    fn record_stats(&mut self, step: u64, t: f64, x: &[f64], stats: &[f64]) -> io::Result<()> {
        self.recorder()
            .map_or(Ok(()), |r| r.record_stats(step, t, x, stats))
    }

    fn finish(&mut self) -> io::Result<()> {
        self.recorder().map_or(Ok(()), |r| r.finish())
    }

    /// Counts progress.
    #[inline]
    fn poll(&mut self, step: u64) -> io::Result<()> {
        if step.is_multiple_of(PROGRESS_EVERY) {
            if let Some(p) = &self.spec.progress {
                p.fetch_add(PROGRESS_EVERY, Ordering::Relaxed);
            }
        }
        Ok(())
    }

    #[inline]
    fn checkpoint_due(&mut self, step: u64) -> Checkpoint {
        if !self.spec.checkpoints {
            return Checkpoint::No;
        }
        if self.spec.stop.as_ref().is_some_and(|s| s.load(Ordering::Relaxed)) {
            return Checkpoint::SaveAndStop;
        }
        if self.spec.every > 0 && step.is_multiple_of(self.spec.every) {
            Checkpoint::Save
        } else {
            Checkpoint::No
        }
    }

    fn checkpoint_at_end(&self) -> bool {
        self.spec.checkpoints
    }

    /// Writes the checkpoint file (nothing for a chain that had finished before the run was
    /// resumed: its checkpoint and file stay as they are).
    fn checkpoint(&mut self, state: &ChainState) -> io::Result<()> {
        if matches!(self.writer, Writer::Done) {
            return Ok(());
        }
        let file_len = self.flush()?;
        let ck = ChainCheckpoint {
            state: state.clone(),
            file_len,
        };
        let text = serde_json::to_string(&ck).map_err(io::Error::other)?;
        let path = checkpoint_path(&self.spec.dir, self.chain);
        std::fs::create_dir_all(checkpoint_dir(&self.spec.dir))?;
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, &path)
    }

    fn resume_from(&mut self) -> Option<ChainState> {
        self.resume.take()
    }
}
