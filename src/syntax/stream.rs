//! The token stream the parser reads: the [`Lexer`] plus the guards that keep
//! parsing linear on any input.
//!
//! - Lexical errors are recorded in the [`ParseCtx`] and never reach the parser
//!   as errors: a bad number becomes a placeholder number (parsing goes on
//!   normally), an invalid character or unterminated string becomes
//!   [`Token::Invalid`], which no rule accepts (the parser reports nothing more
//!   there and recovers).
//! - Nesting is estimated per token (open brackets, pending prefix operators and
//!   `^`, `if`/`let` chains); past [`NEST_LIMIT`] the stream ends with E0006, so
//!   the parser's stack stays small and its error recovery (which scans the stack
//!   for each skipped token) stays cheap.
//! - The stream ends after [`MAX_ERRORS`] errors, and when the parser has
//!   consumed [`MAX_SKIPPED`] tokens without building anything (it is skipping
//!   garbage during error recovery).

use super::ctx::{ParseCtx, Stop};
use super::lexer::{LexError, Lexer, Spanned};
use super::token::{LexErrorKind, Token};
use crate::source::Span;

/// Nesting estimate beyond which the stream stops with "nested too deeply".
pub const NEST_LIMIT: u32 = 256;
/// Errors after which the stream stops.
pub const MAX_ERRORS: usize = 50;
/// Tokens the parser may take without building anything.
const MAX_SKIPPED: u32 = 1024;

/// Pending nesting inside one bracket level.
#[derive(Clone, Copy, Default)]
struct Frame {
    /// Prefix `-`/`!` and `^` whose operand is not finished yet.
    prefix: u32,
    /// `if` and `let … in` expressions that extend to the end of this level.
    chains: u32,
}

/// Estimates how deeply the parser is nested, one token at a time.
struct Nesting {
    frames: Vec<Frame>,
    total: u32,
    after_operand: bool,
}

impl Nesting {
    fn new() -> Nesting {
        Nesting {
            frames: vec![Frame::default()],
            total: 0,
            after_operand: false,
        }
    }

    /// Adds one pending prefix operator (`prefix`) or `if`/`let` chain at this level.
    fn open(&mut self, prefix: bool) {
        if let Some(f) = self.frames.last_mut() {
            if prefix {
                f.prefix += 1;
            } else {
                f.chains += 1;
            }
            self.total += 1;
        }
    }

    /// Clears the pending prefix operators (an operand finished).
    fn end_prefix(&mut self) {
        if let Some(f) = self.frames.last_mut() {
            self.total = self.total.saturating_sub(std::mem::take(&mut f.prefix));
        }
    }

    /// Clears everything pending at this level (an expression finished).
    fn end_expr(&mut self) {
        self.end_prefix();
        if let Some(f) = self.frames.last_mut() {
            self.total = self.total.saturating_sub(std::mem::take(&mut f.chains));
        }
    }

    /// Feeds one token; returns the new estimate.
    fn push(&mut self, token: &Token<'_>) -> u32 {
        let prefix_position = !self.after_operand;
        match token {
            Token::LParen | Token::LBracket | Token::LBrace => {
                self.frames.push(Frame::default());
                self.total += 1;
            }
            Token::RParen | Token::RBracket | Token::RBrace if self.frames.len() > 1 => {
                if let Some(f) = self.frames.pop() {
                    self.total = self.total.saturating_sub(1 + f.prefix + f.chains);
                }
            }
            Token::Minus | Token::Bang if prefix_position => self.open(true),
            Token::Caret => self.open(true),
            Token::If | Token::Let if prefix_position => self.open(false),
            Token::Plus
            | Token::Minus
            | Token::Star
            | Token::Slash
            | Token::EqEq
            | Token::NotEq
            | Token::Lt
            | Token::Le
            | Token::Gt
            | Token::Ge
            | Token::AndAnd
            | Token::OrOr
            | Token::Then
            | Token::Else
            | Token::In
            | Token::Assign
            | Token::Colon => self.end_prefix(),
            _ if starts_item(token) || (!prefix_position && matches!(token, Token::Ident(_))) => {
                self.end_expr()
            }
            Token::Comma | Token::DotDot | Token::Dt | Token::DW => self.end_expr(),
            _ => {}
        }
        self.after_operand = ends_operand(token);
        self.total
    }
}

/// Keywords that begin an item, a model item or a run setting.
fn starts_item(token: &Token<'_>) -> bool {
    matches!(
        token,
        Token::Use
            | Token::Param
            | Token::Data
            | Token::Fn
            | Token::Model
            | Token::Run
            | Token::State
            | Token::Energy
            | Token::Ito
            | Token::Stratonovich
            | Token::Noise
            | Token::Particles
            | Token::Pair
            | Token::Bond
            | Token::Observe
            | Token::Exact
            | Token::Init
    )
}

/// Tokens after which an infix operator (rather than an operand) is expected.
fn ends_operand(token: &Token<'_>) -> bool {
    matches!(
        token,
        Token::Ident(_)
            | Token::Int(_)
            | Token::Real(_)
            | Token::Str(_)
            | Token::True
            | Token::False
            | Token::RParen
            | Token::RBracket
            | Token::RBrace
            | Token::Dt
            | Token::DW
            | Token::RealKw
            | Token::IntKw
    )
}

/// The guarded token stream; see the module header.
pub struct TokenStream<'s, 'c> {
    text: &'s str,
    lexer: Lexer<'s>,
    prev_end: usize,
    ctx: &'c ParseCtx<'s>,
    nesting: Nesting,
    last_progress: u64,
    skipped: u32,
    done: bool,
}

impl<'s, 'c> TokenStream<'s, 'c> {
    /// A guarded stream over `text`, reporting into `ctx`.
    pub fn new(text: &'s str, ctx: &'c ParseCtx<'s>) -> TokenStream<'s, 'c> {
        TokenStream {
            text,
            lexer: Lexer::new(text),
            prev_end: 0,
            ctx,
            nesting: Nesting::new(),
            last_progress: 0,
            skipped: 0,
            done: false,
        }
    }

    fn stop(&mut self, why: Stop) -> Option<Spanned<'s>> {
        self.done = true;
        if self.ctx.stop.get().is_none() {
            self.ctx.stop.set(Some(why));
        }
        None
    }

    /// Records a lexical error and returns what the parser sees instead, if anything.
    fn lex_error(&mut self, e: LexError) -> Option<Token<'s>> {
        self.ctx.lex_errors.borrow_mut().push(e);
        match e.kind {
            LexErrorKind::IntOverflow => Some(Token::Int(0)),
            LexErrorKind::RealNotFinite | LexErrorKind::MissingExponent => Some(Token::Real(0.0)),
            LexErrorKind::InvalidChar | LexErrorKind::UnterminatedString => Some(Token::Invalid),
            LexErrorKind::UnterminatedComment => None,
        }
    }

    /// Does `token` (at `start`) probably begin an item? Item keywords do, and so
    /// does a name first on its line (an SDE `dx = …` or a run setting).
    fn starts_item(&self, token: &Token<'_>, start: usize) -> bool {
        match token {
            Token::Let => true,
            Token::Ident(_) | Token::Dt => {
                self.prev_end == 0
                    || self
                        .text
                        .get(self.prev_end..start)
                        .is_some_and(|gap| gap.contains('\n'))
            }
            _ => starts_item(token),
        }
    }

    /// Stops when the parser has taken too many tokens without building anything.
    fn watchdog(&mut self) -> bool {
        let progress = self.ctx.progress.get();
        if progress != self.last_progress {
            self.last_progress = progress;
            self.skipped = 0;
        } else {
            self.skipped += 1;
        }
        self.skipped > MAX_SKIPPED
    }
}

impl<'s> Iterator for TokenStream<'s, '_> {
    type Item = Spanned<'s>;

    fn next(&mut self) -> Option<Spanned<'s>> {
        loop {
            if self.done {
                return None;
            }
            if self.ctx.error_count() >= MAX_ERRORS {
                return self.stop(Stop::TooManyErrors);
            }
            if self.watchdog() {
                return self.stop(Stop::NoProgress);
            }
            let (start, token, end) = match self.lexer.next()? {
                Ok(triple) => triple,
                Err(e) => match self.lex_error(e) {
                    Some(token) => (e.start, token, e.end),
                    None => continue,
                },
            };
            if self.nesting.push(&token) > NEST_LIMIT {
                return self.stop(Stop::TooDeep(Span::new(self.ctx.source, start, end)));
            }
            if self.starts_item(&token, start) {
                self.ctx.item_starts.borrow_mut().push(start);
            }
            self.prev_end = end;
            return Some(Ok((start, token, end)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceId;

    fn max_estimate(text: &str) -> u32 {
        let mut n = Nesting::new();
        Lexer::new(text)
            .filter_map(Result::ok)
            .map(|(_, t, _)| n.push(&t))
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn estimate_follows_nesting() {
        assert_eq!(max_estimate("a + b * c - d"), 0);
        assert_eq!(max_estimate("((a))"), 2);
        assert_eq!(max_estimate("- - - a"), 3);
        assert_eq!(max_estimate("a^2 + b^2 + c^2 + d^2"), 1);
        assert_eq!(max_estimate("a^b^c^d"), 3);
        assert_eq!(max_estimate("let a = 1 let b = 2 let c = 3"), 1);
        assert_eq!(max_estimate("let a = let b = 2 in let c = 3 in b"), 3);
        assert_eq!(max_estimate("f(-a, -b, -c)"), 2);
    }

    #[test]
    fn deep_brackets_stop_the_stream() {
        let text = "(".repeat(100_000);
        let ctx = ParseCtx::new(SourceId(0));
        let n = TokenStream::new(&text, &ctx).count();
        assert_eq!(n as u32, NEST_LIMIT);
        assert!(matches!(ctx.stop.get(), Some(Stop::TooDeep(_))));
    }
}
