//! The line editor's helper: tab completion (commands, names, builtins,
//! keywords, run settings, plot columns, file paths after `:load`) and
//! multi-line input (an unfinished item or expression continues on the next line).

use super::commands::COMMANDS;
use super::runcmd::RUN_SETTINGS;
use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Helper};

/// Keywords.
const KEYWORDS: [&str; 26] = [
    "use",
    "param",
    "data",
    "fn",
    "let",
    "in",
    "model",
    "state",
    "energy",
    "run",
    "init",
    "if",
    "then",
    "else",
    "true",
    "false",
    "real",
    "int",
    "ito",
    "stratonovich",
    "noise",
    "exact",
    "particles",
    "pair",
    "bond",
    "observe",
];

/// Completion and validation for the REPL's editor.
pub struct ReplHelper {
    /// Names defined in the session (params, lets, fns, models, states).
    pub names: Vec<String>,
    /// Columns of the last run, for `:plot`.
    pub columns: Vec<String>,
    files: FilenameCompleter,
}

impl ReplHelper {
    /// A helper with no names yet.
    pub fn new() -> ReplHelper {
        ReplHelper {
            names: Vec::new(),
            columns: Vec::new(),
            files: FilenameCompleter::new(),
        }
    }

    /// The candidates for the word `word` in `line`.
    fn candidates(&self, line: &str, word: &str, word_start: usize) -> Vec<String> {
        let trimmed = line.trim_start();
        let command = trimmed
            .strip_prefix(':')
            .map(|c| c.split_whitespace().next().unwrap_or(""));
        let pool: Vec<&str> = match command {
            Some(_) if word_start <= line.len() - trimmed.len() + 1 => {
                return COMMANDS
                    .iter()
                    .map(|c| format!(":{}", c.0))
                    .filter(|c| c.starts_with(&format!(":{word}")))
                    .map(|c| c.trim_start_matches(':').to_string())
                    .collect();
            }
            Some("plot" | "p") => self
                .columns
                .iter()
                .map(String::as_str)
                .chain(["hist", "trace"])
                .collect(),
            Some("set" | "unset") => self
                .names
                .iter()
                .map(String::as_str)
                .chain(RUN_SETTINGS)
                .collect(),
            Some("run" | "r") => ["mala", "ula", "baoab", "euler_maruyama", "milstein"]
                .into_iter()
                .chain(RUN_SETTINGS)
                .collect(),
            _ => self
                .names
                .iter()
                .map(String::as_str)
                .chain(sdelang::resolve::BUILTINS.iter().copied())
                .chain(sdelang::model::MethodKind::all().iter().map(|k| k.name()))
                .chain(["t"])
                .chain(KEYWORDS)
                .collect(),
        };
        let mut out: Vec<String> = pool
            .into_iter()
            .filter(|c| c.starts_with(word) && !c.starts_with(super::session::HIDDEN))
            .map(str::to_string)
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(&self, line: &str, pos: usize, ctx: &Context<'_>) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = line.get(..pos).unwrap_or(line);
        if before.trim_start().starts_with(":load ") || before.trim_start().starts_with(":l ") {
            return self.files.complete(line, pos, ctx);
        }
        let start = before
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
            .last()
            .map_or(pos, |(i, _)| i);
        let word = before.get(start..).unwrap_or("");
        let pairs = self
            .candidates(before, word, start)
            .into_iter()
            .map(|c| Pair {
                display: c.clone(),
                replacement: c,
            })
            .collect();
        Ok((start, pairs))
    }
}

impl Validator for ReplHelper {
    fn validate(&self, ctx: &mut ValidationContext<'_>) -> rustyline::Result<ValidationResult> {
        if super::input::is_incomplete(ctx.input()) {
            Ok(ValidationResult::Incomplete)
        } else {
            Ok(ValidationResult::Valid(None))
        }
    }
}

impl Hinter for ReplHelper {
    type Hint = String;
}

impl Highlighter for ReplHelper {}

impl Helper for ReplHelper {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completes_by_context() {
        let mut h = ReplHelper::new();
        h.names = vec!["beta".into(), "bump".into()];
        h.columns = vec!["x.1".into(), "x.2".into()];
        assert_eq!(h.candidates(":gr", "gr", 1), vec!["grad"]);
        assert_eq!(h.candidates("2 * be", "be", 4), vec!["beta"]);
        assert_eq!(h.candidates("ex", "ex", 0), vec!["exact", "exp", "expm1"]);
        assert_eq!(h.candidates(":plot x", "x", 6), vec!["x.1", "x.2"]);
        assert_eq!(h.candidates(":set st", "st", 5), vec!["steps"]);
    }
}
