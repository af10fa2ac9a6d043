//! Diagnostics: the one data type every stage reports user-facing problems with.
//!
//! Stages build [`Diagnostic`] values (never strings) and return them; only
//! `render.rs` turns them into text, with ariadne.

use crate::source::Span;

/// How bad a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// A user mistake that stops compilation.
    Error,
    /// Something suspicious; compilation continues.
    Warning,
    /// A bug in sdelang itself ("internal compiler error").
    Bug,
}

/// A labelled span inside a diagnostic.
#[derive(Clone, Debug, PartialEq)]
pub struct Label {
    /// Where.
    pub span: Span,
    /// What to say there (may be empty).
    pub message: String,
}

/// A rendered-later report: message, code, labelled spans and an optional help line.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    /// Error, warning or internal bug.
    pub severity: Severity,
    /// Stable code such as `E0101`, listed in `docs/errors.md`.
    pub code: &'static str,
    /// One-line summary.
    pub message: String,
    /// The primary label comes first.
    pub labels: Vec<Label>,
    /// An optional "help: …" line.
    pub help: Option<String>,
    /// Optional extra "note: …" lines.
    pub notes: Vec<String>,
}

impl Diagnostic {
    /// A new error with a code and a message, no labels yet.
    pub fn error(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            labels: Vec::new(),
            help: None,
            notes: Vec::new(),
        }
    }

    /// A new warning.
    pub fn warning(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    /// An internal compiler error: a bug in sdelang, not in the user's model.
    pub fn bug(message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Bug,
            ..Diagnostic::error("ICE", message)
        }
    }

    /// Adds a label.
    pub fn with_label(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.labels.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    /// Sets the help line.
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Adds a note line.
    pub fn with_note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    /// The primary span, if any.
    pub fn primary_span(&self) -> Option<Span> {
        self.labels.first().map(|l| l.span)
    }
}

/// Sorts diagnostics by source position (those without a span last), keeping
/// the relative order of equal positions.
pub fn sort_by_position(diags: &mut [Diagnostic]) {
    diags.sort_by_key(|d| {
        d.primary_span()
            .map(|s| (0u8, s.source.0, s.start))
            .unwrap_or((1, u32::MAX, usize::MAX))
    });
}

/// Finds the names closest to `name` (edit distance ≤ max(1, len/3)), best first.
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let limit = (name.chars().count() / 3).max(1);
    let mut scored: Vec<(usize, &str)> = candidates
        .into_iter()
        .filter(|c| *c != name)
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.into_iter().take(3).map(|(_, c)| c.to_string()).collect()
}

/// Levenshtein distance over chars.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = Vec::with_capacity(b.len() + 1);
        cur.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let diag = prev.get(j).copied().unwrap_or(usize::MAX - 1) + usize::from(ca != *cb);
            let up = prev.get(j + 1).copied().unwrap_or(usize::MAX - 1) + 1;
            let left = cur.last().copied().unwrap_or(usize::MAX - 1) + 1;
            cur.push(diag.min(up).min(left));
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0)
}
