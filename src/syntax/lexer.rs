//! The lexer adapter: turns logos output into the `(start, token, end)` triples
//! LALRPOP's external-lexer interface expects.
//!
//! Runs of invalid characters are merged into one [`LexError`], and an
//! unterminated block comment is reported at its `/*`.

use logos::Logos;

use super::token::{LexErrorKind, Token};

/// A lexical error: what went wrong and the byte range it covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LexError {
    /// What went wrong.
    pub kind: LexErrorKind,
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

/// One item of the token stream, as LALRPOP wants it.
pub type Spanned<'s> = Result<(usize, Token<'s>, usize), LexError>;

/// Iterator over the tokens of a source text.
#[derive(Clone)]
pub struct Lexer<'s> {
    inner: logos::Lexer<'s, Token<'s>>,
}

impl<'s> Lexer<'s> {
    /// A lexer over `text`.
    pub fn new(text: &'s str) -> Lexer<'s> {
        Lexer {
            inner: Token::lexer(text),
        }
    }

    /// Extends an invalid-character error over the invalid characters that follow it.
    fn merge_invalid(&mut self, mut end: usize) -> usize {
        loop {
            let mut probe = self.inner.clone();
            match probe.next() {
                Some(Err(LexErrorKind::InvalidChar)) if probe.span().start == end => {
                    end = probe.span().end;
                    self.inner = probe;
                }
                _ => return end,
            }
        }
    }
}

impl<'s> Iterator for Lexer<'s> {
    type Item = Spanned<'s>;

    fn next(&mut self) -> Option<Spanned<'s>> {
        let token = self.inner.next()?;
        let span = self.inner.span();
        Some(match token {
            Ok(token) => Ok((span.start, token, span.end)),
            Err(LexErrorKind::InvalidChar) => {
                let end = self.merge_invalid(span.end);
                Err(LexError {
                    kind: LexErrorKind::InvalidChar,
                    start: span.start,
                    end,
                })
            }
            Err(LexErrorKind::UnterminatedComment) => Err(LexError {
                kind: LexErrorKind::UnterminatedComment,
                start: span.start,
                end: span.start.saturating_add(2).min(span.end),
            }),
            Err(kind) => Err(LexError {
                kind,
                start: span.start,
                end: span.end,
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_and_merged_errors() {
        let items: Vec<_> = Lexer::new("x = 1 @@€ y /* open").collect();
        assert_eq!(items[0], Ok((0, Token::Ident("x"), 1)));
        assert_eq!(items[2], Ok((4, Token::Int(1), 5)));
        assert_eq!(
            items[3],
            Err(LexError {
                kind: LexErrorKind::InvalidChar,
                start: 6,
                end: 11
            })
        );
        assert_eq!(items[4], Ok((12, Token::Ident("y"), 13)));
        assert_eq!(
            items[5],
            Err(LexError {
                kind: LexErrorKind::UnterminatedComment,
                start: 14,
                end: 16
            })
        );
        assert_eq!(items.len(), 6);
    }
}
