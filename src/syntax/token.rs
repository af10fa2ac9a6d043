//! Tokens of the sdelang surface syntax, recognised by a logos state machine.
//!
//! Whitespace and comments (`// …` and nestable `/* … */`) are skipped. Number
//! literals are parsed here: underscores are ignored (`10_000`), an integer that
//! does not fit an `i64` or a real that is not finite after parsing (`1e999`) is a
//! lexical error carrying a [`LexErrorKind`].

use logos::{FilterResult, Logos};

/// Why a piece of input is not a token.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LexErrorKind {
    /// A character that starts no token (`#`, `$`, a non-ASCII letter …).
    #[default]
    InvalidChar,
    /// An integer literal larger than `i64::MAX`.
    IntOverflow,
    /// A real literal that overflows to infinity (`1e999`).
    RealNotFinite,
    /// An exponent marker with no digits after it (`1e`, `2.5e+`).
    MissingExponent,
    /// A `/*` without its matching `*/`.
    UnterminatedComment,
    /// A `"` without its closing `"` on the same line.
    UnterminatedString,
}

/// One token. Keywords and punctuation carry nothing; names, numbers and
/// strings carry their (already parsed) value.
#[derive(Logos, Clone, Copy, Debug, PartialEq)]
#[logos(error = LexErrorKind)]
#[logos(skip r"[ \t\r\n\x0C]+")]
#[logos(skip(r"//[^\n]*", allow_greedy = true))]
pub enum Token<'s> {
    /// `/* … */`: skipped by its callback; never produced.
    #[token("/*", block_comment)]
    BlockComment,

    /// `use`
    #[token("use")]
    Use,
    /// `param`
    #[token("param")]
    Param,
    /// `data`
    #[token("data")]
    Data,
    /// `fn`
    #[token("fn")]
    Fn,
    /// `let`
    #[token("let")]
    Let,
    /// `in`
    #[token("in")]
    In,
    /// `model`
    #[token("model")]
    Model,
    /// `state`
    #[token("state")]
    State,
    /// `energy`
    #[token("energy")]
    Energy,
    /// `run`
    #[token("run")]
    Run,
    /// `init`
    #[token("init")]
    Init,
    /// `if`
    #[token("if")]
    If,
    /// `then`
    #[token("then")]
    Then,
    /// `else`
    #[token("else")]
    Else,
    /// `true`
    #[token("true")]
    True,
    /// `false`
    #[token("false")]
    False,
    /// `real`
    #[token("real")]
    RealKw,
    /// `int`
    #[token("int")]
    IntKw,
    /// `dt`
    #[token("dt")]
    Dt,
    /// `dW`
    #[token("dW")]
    DW,
    /// `ito`
    #[token("ito")]
    Ito,
    /// `stratonovich`
    #[token("stratonovich")]
    Stratonovich,
    /// `noise`
    #[token("noise")]
    Noise,
    /// `particles`
    #[token("particles")]
    Particles,
    /// `pair`
    #[token("pair")]
    Pair,
    /// `bond`
    #[token("bond")]
    Bond,
    /// `observe`
    #[token("observe")]
    Observe,
    /// `exact`
    #[token("exact")]
    Exact,

    /// `(`
    #[token("(")]
    LParen,
    /// `)`
    #[token(")")]
    RParen,
    /// `[`
    #[token("[")]
    LBracket,
    /// `]`
    #[token("]")]
    RBracket,
    /// `{`
    #[token("{")]
    LBrace,
    /// `}`
    #[token("}")]
    RBrace,
    /// `,`
    #[token(",")]
    Comma,
    /// `:`
    #[token(":")]
    Colon,
    /// `=`
    #[token("=")]
    Assign,
    /// `..`
    #[token("..")]
    DotDot,
    /// `.`
    #[token(".")]
    Dot,
    /// `+`
    #[token("+")]
    Plus,
    /// `-`
    #[token("-")]
    Minus,
    /// `*`
    #[token("*")]
    Star,
    /// `/`
    #[token("/")]
    Slash,
    /// `^`
    #[token("^")]
    Caret,
    /// `==`
    #[token("==")]
    EqEq,
    /// `!=`
    #[token("!=")]
    NotEq,
    /// `<`
    #[token("<")]
    Lt,
    /// `<=`
    #[token("<=")]
    Le,
    /// `>`
    #[token(">")]
    Gt,
    /// `>=`
    #[token(">=")]
    Ge,
    /// `&&`
    #[token("&&")]
    AndAnd,
    /// `||`
    #[token("||")]
    OrOr,
    /// `!`
    #[token("!")]
    Bang,
    /// `~`
    #[token("~")]
    Tilde,

    /// A name: `[A-Za-z_][A-Za-z0-9_]*` that is not a keyword.
    #[regex("[A-Za-z_][A-Za-z0-9_]*", |lex| lex.slice())]
    Ident(&'s str),
    /// An integer literal, underscores removed.
    #[regex("[0-9][0-9_]*", int_literal)]
    Int(i64),
    /// A real literal (`1.5`, `1e-3`, `2.5E+4`, `1_000.5`).
    #[regex(r"[0-9][0-9_]*\.[0-9][0-9_]*([eE][+-]?[0-9][0-9_]*)?", real_literal)]
    #[regex(r"[0-9][0-9_]*[eE][+-]?[0-9][0-9_]*", real_literal)]
    Real(f64),
    /// A number whose exponent has no digits (`1e`, `2.5e+`): always an error.
    #[regex(r"[0-9][0-9_]*(\.[0-9][0-9_]*)?[eE][+-]?", missing_exponent)]
    BadExponent,
    /// A string literal's contents (without the quotes); only `use "file.sde"` takes one.
    #[regex(r#""[^"\n]*""#, |lex| lex.slice().get(1..lex.slice().len().saturating_sub(1)).unwrap_or(""))]
    Str(&'s str),
    /// A `"` that is not closed on its line: always an error.
    #[regex(r#""[^"\n]*"#, unterminated_string, allow_greedy = true)]
    UnterminatedStr,

    /// Stands in for input that is not a token, after the error was reported;
    /// the parser accepts it nowhere. Never produced by logos itself.
    Invalid,
}

/// `1e`, `2.5e+`: an exponent marker without digits.
fn missing_exponent<'s>(_: &mut logos::Lexer<'s, Token<'s>>) -> Result<(), LexErrorKind> {
    Err(LexErrorKind::MissingExponent)
}

/// A `"` with no closing `"` on its line.
fn unterminated_string<'s>(_: &mut logos::Lexer<'s, Token<'s>>) -> Result<(), LexErrorKind> {
    Err(LexErrorKind::UnterminatedString)
}

/// Parses `[0-9][0-9_]*` as an `i64`, ignoring underscores.
fn int_literal<'s>(lex: &mut logos::Lexer<'s, Token<'s>>) -> Result<i64, LexErrorKind> {
    let digits: String = lex.slice().chars().filter(|c| *c != '_').collect();
    digits.parse::<i64>().map_err(|_| LexErrorKind::IntOverflow)
}

/// Parses a real literal, ignoring underscores; infinities are errors.
fn real_literal<'s>(lex: &mut logos::Lexer<'s, Token<'s>>) -> Result<f64, LexErrorKind> {
    let digits: String = lex.slice().chars().filter(|c| *c != '_').collect();
    match digits.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(x),
        _ => Err(LexErrorKind::RealNotFinite),
    }
}

/// Skips a (possibly nested) block comment whose `/*` was just matched.
fn block_comment<'s>(lex: &mut logos::Lexer<'s, Token<'s>>) -> FilterResult<(), LexErrorKind> {
    let rest = lex.remainder().as_bytes();
    let mut depth = 1usize;
    let mut i = 0;
    while let Some(&b) = rest.get(i) {
        let next = rest.get(i + 1).copied();
        match (b, next) {
            (b'*', Some(b'/')) => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    lex.bump(i);
                    return FilterResult::Skip;
                }
            }
            (b'/', Some(b'*')) => {
                depth += 1;
                i += 2;
            }
            _ => i += 1,
        }
    }
    lex.bump(rest.len());
    FilterResult::Error(LexErrorKind::UnterminatedComment)
}

impl Token<'_> {
    /// How the token is named in "found …" messages: `` `)` ``, `the name `x``, …
    pub fn describe(&self) -> String {
        match self {
            Token::Ident(name) => format!("the name `{name}`"),
            Token::Int(v) => format!("the number `{v}`"),
            Token::Real(v) => format!("the number `{v}`"),
            Token::Str(s) => format!("the string \"{s}\""),
            Token::Invalid | Token::BadExponent | Token::UnterminatedStr | Token::BlockComment => {
                "something that is not a token".to_string()
            }
            other => format!("`{}`", other.text()),
        }
    }

    /// The fixed spelling of a keyword or punctuation token ("" for the others).
    pub fn text(&self) -> &'static str {
        match self {
            Token::Use => "use",
            Token::Param => "param",
            Token::Data => "data",
            Token::Fn => "fn",
            Token::Let => "let",
            Token::In => "in",
            Token::Model => "model",
            Token::State => "state",
            Token::Energy => "energy",
            Token::Run => "run",
            Token::Init => "init",
            Token::If => "if",
            Token::Then => "then",
            Token::Else => "else",
            Token::True => "true",
            Token::False => "false",
            Token::RealKw => "real",
            Token::IntKw => "int",
            Token::Dt => "dt",
            Token::DW => "dW",
            Token::Ito => "ito",
            Token::Stratonovich => "stratonovich",
            Token::Noise => "noise",
            Token::Particles => "particles",
            Token::Pair => "pair",
            Token::Bond => "bond",
            Token::Observe => "observe",
            Token::Exact => "exact",
            _ => self.punctuation(),
        }
    }

    fn punctuation(&self) -> &'static str {
        match self {
            Token::LParen => "(",
            Token::RParen => ")",
            Token::LBracket => "[",
            Token::RBracket => "]",
            Token::LBrace => "{",
            Token::RBrace => "}",
            Token::Comma => ",",
            Token::Colon => ":",
            Token::Assign => "=",
            Token::DotDot => "..",
            Token::Dot => ".",
            Token::Plus => "+",
            Token::Minus => "-",
            Token::Star => "*",
            Token::Slash => "/",
            Token::Caret => "^",
            Token::EqEq => "==",
            Token::NotEq => "!=",
            Token::Lt => "<",
            Token::Le => "<=",
            Token::Gt => ">",
            Token::Ge => ">=",
            Token::AndAnd => "&&",
            Token::OrOr => "||",
            Token::Bang => "!",
            Token::Tilde => "~",
            _ => "",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lex(s: &str) -> Vec<Result<Token<'_>, LexErrorKind>> {
        Token::lexer(s).collect()
    }

    #[test]
    fn numbers() {
        assert_eq!(lex("10_000"), vec![Ok(Token::Int(10_000))]);
        assert_eq!(lex("1_000.5"), vec![Ok(Token::Real(1000.5))]);
        assert_eq!(
            lex("2.5E+4 1e-3"),
            vec![Ok(Token::Real(2.5e4)), Ok(Token::Real(1e-3))]
        );
        assert_eq!(
            lex("0..d"),
            vec![Ok(Token::Int(0)), Ok(Token::DotDot), Ok(Token::Ident("d"))]
        );
        assert_eq!(lex("99999999999999999999"), vec![Err(LexErrorKind::IntOverflow)]);
        assert_eq!(lex("1e999"), vec![Err(LexErrorKind::RealNotFinite)]);
        assert_eq!(lex("1e+"), vec![Err(LexErrorKind::MissingExponent)]);
    }

    #[test]
    fn comments_and_keywords() {
        assert_eq!(
            lex("a /* x /* y */ z */ b // c\n dt dW dWx"),
            vec![
                Ok(Token::Ident("a")),
                Ok(Token::Ident("b")),
                Ok(Token::Dt),
                Ok(Token::DW),
                Ok(Token::Ident("dWx")),
            ]
        );
        assert_eq!(
            lex("a /* /* */"),
            vec![Ok(Token::Ident("a")), Err(LexErrorKind::UnterminatedComment)]
        );
        assert_eq!(lex("\"f.sde\""), vec![Ok(Token::Str("f.sde"))]);
        assert_eq!(lex("\"f.sde"), vec![Err(LexErrorKind::UnterminatedString)]);
    }
}
