//! Renders diagnostics with ariadne (the only file that imports it).
//!
//! Spans are byte offsets (ariadne is configured with [`IndexType::Byte`]); they
//! are clamped to the text and to character boundaries first, so a bad span
//! can never make rendering fail. Without colour the output is deterministic,
//! which the golden tests rely on.

use std::fmt;
use std::ops::Range;

use ariadne::{CharSet, Color, Config, IndexType, Label, Report, ReportKind};

use crate::diagnostic::{Diagnostic, Severity};
use crate::source::{SourceId, SourceMap};

/// Where internal compiler errors should be reported.
pub const ISSUE_TRACKER: &str = "https://github.com/sdelang/sdelang/issues";

/// An ariadne source id: the file's display name, kept apart by its [`SourceId`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct FileKey {
    id: u32,
    name: String,
}

impl fmt::Display for FileKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// Renders every diagnostic, in order, separated by blank lines.
pub fn render(diags: &[Diagnostic], sources: &SourceMap, color: bool) -> String {
    let mut out = String::new();
    for (i, d) in diags.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&render_one(d, sources, color));
    }
    out
}

/// Renders one diagnostic.
fn render_one(d: &Diagnostic, sources: &SourceMap, color: bool) -> String {
    let labels: Vec<(FileKey, Range<usize>, &str)> = d
        .labels
        .iter()
        .filter_map(|l| {
            let file = sources.get(l.span.source)?;
            let range = clamp(&file.text, l.span.start, l.span.end);
            Some((key(l.span.source, &file.name), range, l.message.as_str()))
        })
        .collect();
    let Some((primary_key, primary_range, _)) = labels.first().cloned() else {
        return render_plain(d);
    };
    let config = Config::default()
        .with_color(color)
        .with_index_type(IndexType::Byte)
        .with_char_set(CharSet::Unicode);
    let mut report = Report::build(kind(d.severity), (primary_key, primary_range))
        .with_config(config)
        .with_code(d.code)
        .with_message(&d.message);
    for (i, (k, range, message)) in labels.iter().enumerate() {
        let mut label = Label::new((k.clone(), range.clone())).with_order(i as i32);
        if !message.is_empty() {
            label = label.with_message(message);
        }
        if color {
            label = label.with_color(if i == 0 {
                label_color(d.severity)
            } else {
                Color::Blue
            });
        }
        report = report.with_label(label);
    }
    if let Some(help) = &d.help {
        report = report.with_help(help);
    }
    for note in notes(d) {
        report = report.with_note(note);
    }
    let files = labels
        .iter()
        .filter_map(|(k, _, _)| Some((k.clone(), sources.get(SourceId(k.id))?.text.clone())));
    let mut buf = Vec::new();
    match report.finish().write(ariadne::sources(files), &mut buf) {
        Ok(()) => String::from_utf8_lossy(&buf).into_owned(),
        Err(_) => render_plain(d),
    }
}

/// The notes, plus the request to report an internal error.
fn notes(d: &Diagnostic) -> Vec<String> {
    let mut notes = d.notes.clone();
    if d.severity == Severity::Bug {
        notes.push(format!(
            "this is a bug in sdelang, not in your model; please report it at {ISSUE_TRACKER}"
        ));
    }
    notes
}

/// A diagnostic without any usable span, in the same style as ariadne's header.
fn render_plain(d: &Diagnostic) -> String {
    let mut out = format!("[{}] {}: {}\n", d.code, kind_name(d.severity), d.message);
    if let Some(help) = &d.help {
        out.push_str(&format!("    Help: {help}\n"));
    }
    for note in notes(d) {
        out.push_str(&format!("    Note: {note}\n"));
    }
    out
}

fn key(id: SourceId, name: &str) -> FileKey {
    FileKey {
        id: id.0,
        name: name.to_string(),
    }
}

fn kind_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "Error",
        Severity::Warning => "Warning",
        Severity::Bug => "internal compiler error",
    }
}

fn kind(severity: Severity) -> ReportKind<'static> {
    match severity {
        Severity::Error => ReportKind::Error,
        Severity::Warning => ReportKind::Warning,
        Severity::Bug => ReportKind::Custom("internal compiler error", Color::Red),
    }
}

fn label_color(severity: Severity) -> Color {
    match severity {
        Severity::Warning => Color::Yellow,
        Severity::Error | Severity::Bug => Color::Red,
    }
}

/// Clamps `start..end` into `text`, on character boundaries, never backwards.
fn clamp(text: &str, start: usize, end: usize) -> Range<usize> {
    let floor = |mut i: usize| {
        i = i.min(text.len());
        while i > 0 && !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let ceil = |mut i: usize| {
        i = i.min(text.len());
        while i < text.len() && !text.is_char_boundary(i) {
            i += 1;
        }
        i
    };
    let start = floor(start);
    let end = ceil(end.max(start));
    start..end
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Span;

    #[test]
    fn renders_labels_help_and_bugs() {
        let mut map = SourceMap::new();
        let id = map.add("m.sde", None, "let x = 1 +\n");
        let d = Diagnostic::error("E0002", "unexpected end of input")
            .with_label(Span::new(id, 10, 11), "expected an expression after this")
            .with_help("finish it");
        let text = render(&[d], &map, false);
        assert!(text.contains("[E0002] Error: unexpected end of input"), "{text}");
        assert!(text.contains("m.sde:1:11"), "{text}");
        assert!(text.contains("Help: finish it"), "{text}");
        let bug = render(&[Diagnostic::bug("oops")], &map, false);
        assert!(bug.contains("internal compiler error: oops"), "{bug}");
        assert!(bug.contains(ISSUE_TRACKER), "{bug}");
    }

    #[test]
    fn bad_spans_do_not_panic() {
        let mut map = SourceMap::new();
        let id = map.add("u.sde", None, "é€");
        for (s, e) in [(0, 1), (3, 1), (100, 200), (1, 4), (5, 5)] {
            let d = Diagnostic::error("E0001", "x").with_label(Span::new(id, s, e), "here");
            let _ = render(&[d], &map, false);
        }
        let d = Diagnostic::error("E0001", "x").with_label(Span::new(SourceId(9), 0, 1), "missing file");
        assert!(render(&[d], &map, true).contains("x"));
    }
}
