//! State shared by the token stream and the grammar actions during one parse.
//!
//! Grammar actions build expressions through [`ParseCtx`], which tracks each
//! node's depth as it is built. A node that would be more than [`MAX_DEPTH`]
//! levels deep is replaced by [`ExprKind::Error`] and reported once (E0006), so
//! no tree the parser hands out, and none it drops while recovering from an
//! error, is deep enough for a recursive `Drop` (or a later recursive pass) to
//! overflow the stack.

use std::cell::{Cell, RefCell};

use lalrpop_util::{ErrorRecovery, ParseError};

use super::ast::{BinOp, CallArg, Expr, ExprKind, Ident, NoiseTerm, UnOp};
use super::lexer::LexError;
use super::token::Token;
use crate::source::{SourceId, Span};

/// The deepest expression tree the parser accepts (root = depth 1).
pub const MAX_DEPTH: u32 = 200;

/// A parse error as LALRPOP reports it.
pub(crate) type RawError<'s> = ParseError<usize, Token<'s>, LexError>;

/// An expression under construction, with its depth.
#[derive(Debug)]
pub struct Node {
    /// The expression.
    pub expr: Expr,
    depth: u32,
    /// Some descendant was cut off for being too deep (already reported).
    poisoned: bool,
}

/// A call argument under construction, with its depth.
#[derive(Debug)]
pub struct Arg {
    arg: CallArg,
    depth: u32,
    poisoned: bool,
}

impl Arg {
    /// `f(e)`.
    pub fn positional(value: Node) -> Arg {
        Arg {
            depth: value.depth,
            poisoned: value.poisoned,
            arg: CallArg::Positional(value.expr),
        }
    }

    /// `f(name = e)`.
    pub fn named(name: Ident, value: Node) -> Arg {
        Arg {
            depth: value.depth,
            poisoned: value.poisoned,
            arg: CallArg::Named(name, value.expr),
        }
    }

    /// The finished argument (its depth was already checked by the parts).
    pub fn into_ast(self) -> CallArg {
        self.arg
    }

    /// `f(j in p)`.
    pub fn each(var: Ident, over: Node, span: Span) -> Arg {
        Arg {
            depth: over.depth,
            poisoned: over.poisoned,
            arg: CallArg::Each {
                var,
                over: over.expr,
                span,
            },
        }
    }

    /// `f(i in lo..hi)`.
    pub fn binder(var: Ident, lo: Node, hi: Node, span: Span) -> Arg {
        Arg {
            depth: lo.depth.max(hi.depth),
            poisoned: lo.poisoned || hi.poisoned,
            arg: CallArg::Binder {
                var,
                lo: lo.expr,
                hi: hi.expr,
                span,
            },
        }
    }
}

/// Assembles a noise term `coeff dW[index]` spanning `span`.
pub fn noise_term(coeff: Node, index: Option<Ident>, dw_span: Span, span: Span) -> NoiseTerm {
    NoiseTerm {
        coeff: coeff.expr,
        index,
        dw_span,
        span,
    }
}

/// Why the token stream stopped early.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stop {
    /// Brackets or operators nested too deeply at this span.
    TooDeep(Span),
    /// Enough errors were reported.
    TooManyErrors,
    /// The parser was discarding tokens for too long while recovering.
    NoProgress,
}

/// Shared, interior-mutable state of one parse.
pub struct ParseCtx<'s> {
    pub(crate) source: SourceId,
    /// Syntax errors the grammar recovered from, in order.
    pub(crate) recovered: RefCell<Vec<RawError<'s>>>,
    /// Lexical errors, in order.
    pub(crate) lex_errors: RefCell<Vec<LexError>>,
    /// Expressions cut off for being too deep.
    pub(crate) too_deep: RefCell<Vec<Span>>,
    /// Start offsets of tokens that begin an item (`param`, `state`, …), in order.
    pub(crate) item_starts: RefCell<Vec<usize>>,
    /// Set when the token stream ended before the text did.
    pub(crate) stop: Cell<Option<Stop>>,
    /// Bumped by every action that builds something; the token stream watches it.
    pub(crate) progress: Cell<u64>,
}

impl<'s> ParseCtx<'s> {
    /// A fresh context for parsing `source`.
    pub fn new(source: SourceId) -> ParseCtx<'s> {
        ParseCtx {
            source,
            recovered: RefCell::default(),
            lex_errors: RefCell::default(),
            too_deep: RefCell::default(),
            item_starts: RefCell::default(),
            stop: Cell::new(None),
            progress: Cell::new(0),
        }
    }

    /// How many errors have been recorded so far.
    pub(crate) fn error_count(&self) -> usize {
        self.recovered.borrow().len() + self.lex_errors.borrow().len() + self.too_deep.borrow().len()
    }

    fn bump(&self) {
        self.progress.set(self.progress.get().wrapping_add(1));
    }

    /// Records a syntax error the grammar recovered from (the `!` in a rule).
    pub fn recover(&self, error: ErrorRecovery<usize, Token<'s>, LexError>) {
        self.bump();
        self.recovered.borrow_mut().push(error.error);
    }

    /// A name with its span.
    pub fn ident(&self, name: &str, span: Span) -> Ident {
        self.bump();
        Ident {
            name: name.to_string(),
            span,
        }
    }

    /// Builds a node from its kind and its children's (depth, poisoned) pairs,
    /// cutting it off if it is too deep.
    fn make(&self, kind: ExprKind, span: Span, children: &[(u32, bool)]) -> Node {
        self.bump();
        let depth = 1 + children.iter().map(|c| c.0).max().unwrap_or(0);
        let poisoned = children.iter().any(|c| c.1);
        if depth <= MAX_DEPTH {
            return Node {
                expr: Expr { kind, span },
                depth,
                poisoned,
            };
        }
        if !poisoned {
            self.too_deep.borrow_mut().push(span);
        }
        Node {
            expr: Expr {
                kind: ExprKind::Error,
                span,
            },
            depth: 1,
            poisoned: true,
        }
    }

    /// A literal, a name or an error placeholder.
    pub fn leaf(&self, kind: ExprKind, span: Span) -> Node {
        self.make(kind, span, &[])
    }

    /// `op a`.
    pub fn unary(&self, op: UnOp, a: Node, span: Span) -> Node {
        let c = [(a.depth, a.poisoned)];
        self.make(ExprKind::Unary(op, Box::new(a.expr)), span, &c)
    }

    /// `a op b`.
    pub fn binary(&self, op: BinOp, a: Node, b: Node, span: Span) -> Node {
        let c = [(a.depth, a.poisoned), (b.depth, b.poisoned)];
        self.make(ExprKind::Binary(op, Box::new(a.expr), Box::new(b.expr)), span, &c)
    }

    /// `a[i]`.
    pub fn index(&self, a: Node, i: Node, span: Span) -> Node {
        let c = [(a.depth, a.poisoned), (i.depth, i.poisoned)];
        self.make(ExprKind::Index(Box::new(a.expr), Box::new(i.expr)), span, &c)
    }

    /// `f(args)`.
    pub fn call(&self, func: Ident, args: Vec<Arg>, span: Span) -> Node {
        let c: Vec<(u32, bool)> = args.iter().map(|a| (a.depth, a.poisoned)).collect();
        let args = args.into_iter().map(|a| a.arg).collect();
        self.make(ExprKind::Call { func, args }, span, &c)
    }

    /// `[a, b, c]`.
    pub fn vector(&self, items: Vec<Node>, span: Span) -> Node {
        let c: Vec<(u32, bool)> = items.iter().map(|a| (a.depth, a.poisoned)).collect();
        let items = items.into_iter().map(|n| n.expr).collect();
        self.make(ExprKind::Vector(items), span, &c)
    }

    /// `if c then a else b`.
    pub fn if_(&self, cond: Node, then: Node, other: Node, span: Span) -> Node {
        let c = [
            (cond.depth, cond.poisoned),
            (then.depth, then.poisoned),
            (other.depth, other.poisoned),
        ];
        let kind = ExprKind::If(Box::new(cond.expr), Box::new(then.expr), Box::new(other.expr));
        self.make(kind, span, &c)
    }

    /// `let name = value in body`.
    pub fn let_in(&self, name: Ident, value: Node, body: Node, span: Span) -> Node {
        let c = [(value.depth, value.poisoned), (body.depth, body.poisoned)];
        let kind = ExprKind::Let {
            name,
            value: Box::new(value.expr),
            body: Box::new(body.expr),
        };
        self.make(kind, span, &c)
    }

    /// `( e )`: the same node, its span widened over the parentheses.
    pub fn paren(&self, mut inner: Node, span: Span) -> Node {
        self.bump();
        inner.expr.span = span;
        inner
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_is_capped_and_reported_once() {
        let ctx = ParseCtx::new(SourceId(0));
        let sp = Span::default();
        let mut n = ctx.leaf(ExprKind::Int(1), sp);
        for _ in 0..1000 {
            n = ctx.unary(UnOp::Neg, n, sp);
        }
        assert!(n.depth <= MAX_DEPTH);
        assert_eq!(ctx.too_deep.borrow().len(), 1);
    }
}
