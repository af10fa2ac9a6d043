//! Output: where draws go after the runtime — CSV files, running statistics, summary tables.
//!
//! Vocabulary: a *column* is one scalar state component, named by the caller (`x.1`, `x.2`);
//! SDE files add a leading `t` column. Chains are numbered from 1 in file names
//! (`chain_1.csv`). Everything here returns values or writes files; nothing prints.

pub mod csv;
pub mod diagnostics;
mod special;
pub mod stats;
pub mod summary;

pub use csv::{csv_factory, csv_path, state_columns, CsvRecorder};
pub use stats::RunningStats;
pub use summary::{render_summary, RunSummary, SamplerSummary};
