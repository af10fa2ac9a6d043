//! Turns lexical and syntax errors into [`Diagnostic`]s (codes E0001–E0007).
//!
//! LALRPOP reports the terminals it expected by their grammar names; they are
//! put into words here ("an expression", "an operator", `` `)` ``), and errors
//! that are only echoes of an earlier one are dropped.

use lalrpop_util::ParseError;

use super::ctx::{ParseCtx, RawError, Stop, MAX_DEPTH};
use super::lexer::LexError;
use super::stream::MAX_ERRORS;
use super::token::{LexErrorKind, Token};
use crate::diagnostic::{sort_by_position, Diagnostic};
use crate::source::{SourceId, Span};

/// Collects every diagnostic of a finished parse, sorted by position.
pub(crate) fn collect<'s>(ctx: &ParseCtx<'s>, last: Option<RawError<'s>>, text: &str) -> Vec<Diagnostic> {
    let source = ctx.source;
    let lex_errors = ctx.lex_errors.borrow();
    let mut diags: Vec<Diagnostic> = lex_errors
        .iter()
        .map(|e| lex_diagnostic(source, e, text))
        .collect();
    let eof_is_echo = ctx.stop.get().is_some()
        || lex_errors.iter().any(|e| {
            matches!(
                e.kind,
                LexErrorKind::UnterminatedComment | LexErrorKind::UnterminatedString
            )
        });
    // Invalid characters stand for errors already reported: later errors up to
    // the next item are echoes of them.
    let mut anchors: Vec<usize> = lex_errors
        .iter()
        .filter(|e| {
            matches!(
                e.kind,
                LexErrorKind::InvalidChar | LexErrorKind::UnterminatedString
            )
        })
        .map(|e| e.start)
        .collect();
    let recovered = ctx.recovered.borrow();
    let item_starts = ctx.item_starts.borrow();
    for error in recovered.iter().chain(last.as_ref()) {
        let at = position(error);
        let echo = match error {
            ParseError::UnrecognizedToken {
                token: (_, Token::Invalid, _),
                ..
            } => true,
            ParseError::UnrecognizedEof { .. } if eof_is_echo => true,
            _ => follows_unrecovered(&anchors, &item_starts, at),
        };
        anchors.push(at);
        anchors.sort_unstable();
        if !echo {
            diags.push(parse_diagnostic(source, error));
        }
    }
    diags.extend(
        ctx.too_deep
            .borrow()
            .iter()
            .map(|span| too_deep(*span, &too_deep_label())),
    );
    if let Some(Stop::TooDeep(span)) = ctx.stop.get() {
        diags.push(too_deep(span, "brackets and operators nest too deeply here"));
    }
    finish(diags)
}

/// Sorts, removes duplicates and caps the list.
fn finish(mut diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
    sort_by_position(&mut diags);
    diags.dedup();
    if diags.len() > MAX_ERRORS {
        diags.truncate(MAX_ERRORS);
        if let Some(last) = diags.last_mut() {
            last.notes.push(format!("stopped after {MAX_ERRORS} errors"));
        }
    }
    diags
}

/// Is `at` after an earlier error with no item start in between? (Recovery
/// resumes at an item start; an error before the next one is an echo.)
fn follows_unrecovered(anchors: &[usize], item_starts: &[usize], at: usize) -> bool {
    let Some(&prev) = anchors.iter().rev().find(|a| **a < at) else {
        return false;
    };
    let first_after = item_starts.partition_point(|s| *s < prev);
    !matches!(item_starts.get(first_after), Some(s) if *s < at)
}

/// Where an error is, as a byte offset.
fn position(error: &RawError<'_>) -> usize {
    match error {
        ParseError::InvalidToken { location } | ParseError::UnrecognizedEof { location, .. } => *location,
        ParseError::UnrecognizedToken { token, .. } | ParseError::ExtraToken { token } => token.0,
        ParseError::User { error } => error.start,
    }
}

/// E0006 at `span`.
pub(crate) fn too_deep(span: Span, label: &str) -> Diagnostic {
    Diagnostic::error("E0006", "expression nested too deeply")
        .with_label(span, label)
        .with_help("split it into smaller pieces with `let`, or write long sums as `sum(i in 0..n, …)`")
}

/// The label of an expression cut off by the parser for being too deep.
pub(crate) fn too_deep_label() -> String {
    format!("this nests more than {MAX_DEPTH} levels deep")
}

/// E0007: the source is larger than the parser accepts.
pub(crate) fn too_large(len: usize, limit: usize) -> Diagnostic {
    Diagnostic::error(
        "E0007",
        format!(
            "source is too large: {:.1} MiB (the limit is {} MiB)",
            len as f64 / (1024.0 * 1024.0),
            limit / (1024 * 1024)
        ),
    )
    .with_help("put large data in a separate file rather than in the model source")
}

/// The diagnostic for a syntax error.
pub(crate) fn parse_diagnostic(source: SourceId, error: &RawError<'_>) -> Diagnostic {
    match error {
        ParseError::UnrecognizedToken {
            token: (l, token, r),
            expected,
        } => unexpected(Span::new(source, *l, *r), &token.describe(), expected),
        ParseError::ExtraToken { token: (l, token, r) } => {
            let found = token.describe();
            Diagnostic::error(
                "E0001",
                format!("unexpected {found} after the end of the expression"),
            )
            .with_label(
                Span::new(source, *l, *r),
                "nothing may follow the expression here",
            )
        }
        ParseError::UnrecognizedEof { location, expected } => {
            let span = Span::new(source, location.saturating_sub(1), *location);
            let what = expected_words(expected);
            let closer = expected
                .iter()
                .any(|e| matches!(e.trim_matches('"'), ")" | "]" | "}"));
            let help = if closer {
                "the input ends too early: check that every `(`, `[` and `{` is closed"
            } else {
                "the input ends too early: is something missing at the end?"
            };
            Diagnostic::error("E0002", "unexpected end of input")
                .with_label(span, format!("expected {what} after this"))
                .with_help(help)
        }
        ParseError::InvalidToken { location } => Diagnostic::error("E0003", "invalid character")
            .with_label(Span::new(source, *location, *location), ""),
        ParseError::User { error } => lex_diagnostic(source, error, ""),
    }
}

/// E0001 "expected …, found …".
fn unexpected(span: Span, found: &str, expected: &[String]) -> Diagnostic {
    let what = expected_words(expected);
    let mut d = Diagnostic::error("E0001", format!("expected {what}, found {found}"))
        .with_label(span, format!("expected {what}"));
    let expects = |t: &str| expected.iter().any(|e| e.trim_matches('"') == t);
    if found == "`=`" && expects("==") {
        d = d.with_help("to compare two values, write `==`");
    } else if matches!(found, "`dt`" | "`dW`") && expects("(") {
        d = d.with_help(
            "an SDE is written `dx = drift dt + diffusion dW`: each term ends with its `dt` or `dW`",
        );
    } else if matches!(found, "`if`" | "`let`") && expects("(") {
        let construct = if found == "`if`" {
            "if … then … else …"
        } else {
            "let … in …"
        };
        d = d.with_help(format!(
            "inside a larger expression, put `{construct}` in parentheses"
        ));
    } else if ["`<`", "`<=`", "`>`", "`>=`", "`==`", "`!=`"].contains(&found) && expects("&&") {
        d = d.with_help("comparisons do not chain: write `a < x && x < b`");
    }
    d
}

/// A phrase standing for a group of terminals.
struct Group {
    /// How the group is named.
    name: &'static str,
    /// The group applies when all of these are expected …
    required: &'static [&'static str],
    /// … and then these are no longer listed one by one.
    members: &'static [&'static str],
}

const EXPRESSION: &[&str] = &[
    "\"IDENT\"",
    "\"INT\"",
    "\"REAL\"",
    "\"(\"",
    "\"[\"",
    "\"-\"",
    "\"!\"",
    "\"if\"",
    "\"let\"",
    "\"true\"",
    "\"false\"",
];
const OPERATOR: &[&str] = &[
    "\"(\"", "\"+\"", "\"-\"", "\"*\"", "\"/\"", "\"^\"", "\"[\"", "\"==\"", "\"!=\"", "\"<\"", "\"<=\"",
    "\">\"", "\">=\"", "\"&&\"", "\"||\"",
];
const ITEM: &[&str] = &[
    "\"use\"",
    "\"param\"",
    "\"data\"",
    "\"fn\"",
    "\"let\"",
    "\"model\"",
    "\"run\"",
];
const MODEL_ITEM: &[&str] = &[
    "\"state\"",
    "\"energy\"",
    "\"param\"",
    "\"data\"",
    "\"let\"",
    "\"fn\"",
    "\"ito\"",
    "\"stratonovich\"",
    "\"noise\"",
    "\"exact\"",
    "\"particles\"",
    "\"pair\"",
    "\"bond\"",
    "\"observe\"",
    "\"IDENT\"",
];
const SETTING: &[&str] = &["\"init\"", "\"data\"", "\"IDENT\"", "\"dt\""];

const GROUPS: &[Group] = &[
    Group {
        name: "an expression",
        required: &[
            "\"IDENT\"",
            "\"INT\"",
            "\"REAL\"",
            "\"(\"",
            "\"[\"",
            "\"-\"",
            "\"true\"",
        ],
        members: EXPRESSION,
    },
    Group {
        name: "an operator",
        required: &["\"+\"", "\"*\"", "\"/\"", "\"^\""],
        members: OPERATOR,
    },
    Group {
        name: "another item",
        required: ITEM,
        members: ITEM,
    },
    Group {
        name: "another model item",
        required: MODEL_ITEM,
        members: MODEL_ITEM,
    },
    Group {
        name: "another setting",
        required: SETTING,
        members: SETTING,
    },
];

/// Puts LALRPOP's expected terminals into words: "an expression, `,` or `)`".
pub(crate) fn expected_words(expected: &[String]) -> String {
    let mut left: Vec<&str> = expected.iter().map(String::as_str).collect();
    let mut phrases: Vec<String> = Vec::new();
    for group in GROUPS {
        if group.required.iter().all(|t| left.contains(t)) {
            left.retain(|t| !group.members.contains(t));
            phrases.push(group.name.to_string());
        }
    }
    phrases.extend(left.iter().map(|t| terminal_words(t)));
    match phrases.len() {
        0 => "something else".to_string(),
        1 => phrases.concat(),
        n => {
            let (head, tail) = phrases.split_at(n - 1);
            format!("{} or {}", head.join(", "), tail.concat())
        }
    }
}

/// One terminal in words.
fn terminal_words(terminal: &str) -> String {
    match terminal {
        "\"IDENT\"" => "a name".to_string(),
        "\"INT\"" => "an integer".to_string(),
        "\"REAL\"" => "a number".to_string(),
        "\"STRING\"" => "text in quotes".to_string(),
        quoted => format!("`{}`", quoted.trim_matches('"')),
    }
}

/// The diagnostic for a lexical error.
pub(crate) fn lex_diagnostic(source: SourceId, e: &LexError, text: &str) -> Diagnostic {
    let span = Span::new(source, e.start, e.end);
    let slice = text.get(e.start..e.end).unwrap_or("");
    match e.kind {
        LexErrorKind::InvalidChar => invalid_chars(span, slice),
        LexErrorKind::IntOverflow => Diagnostic::error("E0004", "integer literal is too large")
            .with_label(span, "this does not fit in a 64-bit integer")
            .with_help(format!(
                "integers go up to {}; for a larger number write a real such as `1e20`",
                i64::MAX
            )),
        LexErrorKind::RealNotFinite => Diagnostic::error("E0004", "number is too large")
            .with_label(span, "this is infinite as a 64-bit floating-point number")
            .with_help("real numbers go up to about 1.8e308"),
        LexErrorKind::MissingExponent => {
            Diagnostic::error("E0004", "number has an exponent marker but no exponent")
                .with_label(span, "expected digits after the `e`")
                .with_help("write the exponent in full, as in `1e5` or `2.5e-3`")
        }
        LexErrorKind::UnterminatedComment => Diagnostic::error("E0005", "unterminated block comment")
            .with_label(span, "this comment is never closed")
            .with_help("close it with `*/`; block comments nest, so each `/*` needs its own `*/`"),
        LexErrorKind::UnterminatedString => Diagnostic::error("E0003", "unterminated string")
            .with_label(span, "this string is never closed")
            .with_help("a string must end with `\"` on the same line"),
    }
}

/// E0003 for a run of characters that start no token.
fn invalid_chars(span: Span, slice: &str) -> Diagnostic {
    let shown: String = slice.chars().take(8).flat_map(char::escape_debug).collect();
    let ellipsis = if slice.chars().nth(8).is_some() { "…" } else { "" };
    let (message, label) = if slice.chars().nth(1).is_some() {
        (
            format!("invalid characters `{shown}{ellipsis}`"),
            "these characters have no meaning in sdelang",
        )
    } else {
        (
            format!("invalid character `{shown}`"),
            "this character has no meaning in sdelang",
        )
    };
    let d = Diagnostic::error("E0003", message).with_label(span, label);
    let first = slice.chars().next().unwrap_or(' ');
    match first {
        '#' => d.with_help("comments start with `//` (or enclose them in `/* … */`)"),
        ';' => d.with_help("items need no separator: remove the `;`"),
        '\'' => d.with_help("strings (only used by `use`) are written in double quotes"),
        '%' => d.with_help("there is no remainder operator"),
        '&' | '|' => d.with_help("the logical operators are `&&` and `||`"),
        c if c.is_alphabetic() => d.with_help("names may only use ASCII letters, digits and `_`"),
        _ => d,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(ts: &[&str]) -> String {
        let v: Vec<String> = ts.iter().map(|t| format!("\"{t}\"")).collect();
        expected_words(&v)
    }

    #[test]
    fn expected_in_words() {
        assert_eq!(words(&[")"]), "`)`");
        assert_eq!(words(&[",", ")"]), "`,` or `)`");
        assert_eq!(
            words(&["IDENT", "INT", "REAL", "(", "[", "-", "!", "if", "let", "true", "false"]),
            "an expression"
        );
        assert_eq!(words(&["IDENT", ":"]), "a name or `:`");
    }

    #[test]
    fn echo_detection() {
        // An error at 10 after one at 5 with no item keyword between is an echo.
        assert!(follows_unrecovered(&[5], &[0, 20], 10));
        assert!(!follows_unrecovered(&[5], &[0, 7], 10));
        assert!(!follows_unrecovered(&[5], &[5], 10));
        assert!(follows_unrecovered(&[5], &[10], 10));
        assert!(!follows_unrecovered(&[], &[], 10));
    }
}
