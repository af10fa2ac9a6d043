//! Output: where draws go after the runtime — CSV files (ours and CmdStan's layout), `.npy`
//! arrays, running statistics, diagnostics and summary tables read back from saved files.
//!
//! Vocabulary: a *column* is one scalar state component, named by the caller (`x.1`, `x.2`);
//! SDE files add a leading `t` column. Chains are numbered from 1 in file names
//! (`chain_1.csv`). Everything here returns values or writes files; nothing prints.

pub mod cmdstan;
pub mod csv;
pub mod density;
pub mod diagnostics;
pub mod file;
pub mod npy;
#[cfg(feature = "compiler")]
pub mod plot;
pub mod read;
mod special;
pub mod stats;
pub mod summary;
pub mod table;

pub use cmdstan::{CmdStanInfo, CmdStanRecorder};
pub use csv::{csv_factory, csv_path, state_columns, CsvRecorder};
pub use npy::{npy_path, read_npy, NpyRecorder};
pub use read::FileFormat;
pub use stats::RunningStats;
pub use summary::{render_summary, RunSummary, SamplerSummary};
pub use table::{render_table, summarise, warnings, Table};
