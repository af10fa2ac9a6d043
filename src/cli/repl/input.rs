//! Reading what was typed: a `:command`, definitions (items), or an expression;
//! and whether the text is unfinished, so the editor asks for another line.

use sdelang::diagnostic::Diagnostic;
use sdelang::source::SourceId;
use sdelang::syntax::{self, ast};

/// One parsed input.
pub enum Input {
    /// Nothing but spaces and comments.
    Empty,
    /// `:name rest`.
    Command(String, String),
    /// One or more definitions.
    Items(Vec<ast::Item>),
    /// An expression to evaluate.
    Expr(ast::Expr),
}

const ITEM_KEYWORDS: [&str; 7] = ["param", "data", "fn", "let", "model", "run", "use"];

/// Whether `text` starts with a keyword that begins an item.
fn starts_with_item(text: &str) -> bool {
    let word: String = text
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    ITEM_KEYWORDS.contains(&word.as_str())
}

/// Whether the text has only spaces and comments.
fn is_blank(text: &str) -> bool {
    matches!(syntax::parse_program(SourceId(0), text), Ok(p) if p.items.is_empty())
}

/// Parses one input whose text is source `id`.
pub fn parse(id: SourceId, text: &str) -> Result<Input, Vec<Diagnostic>> {
    let trimmed = text.trim_start();
    if let Some(cmd) = trimmed.strip_prefix(':') {
        let cmd = cmd.trim();
        let (name, rest) = cmd.split_once(char::is_whitespace).unwrap_or((cmd, ""));
        return Ok(Input::Command(name.to_string(), rest.trim().to_string()));
    }
    if is_blank(text) {
        return Ok(Input::Empty);
    }
    let program = syntax::parse_program(id, text);
    let program_err = match program {
        Ok(p) => return Ok(Input::Items(p.items)),
        Err(d) => d,
    };
    match syntax::parse_expr(id, text) {
        Ok(e) => Ok(Input::Expr(e)),
        Err(expr_err) => {
            if starts_with_item(text) {
                Err(program_err)
            } else {
                Err(expr_err)
            }
        }
    }
}

/// True when the text is an unfinished item or expression (an open `{`, `(`,
/// a trailing operator, an unclosed comment): the editor asks for more lines.
/// Commands are always one line.
pub fn is_incomplete(text: &str) -> bool {
    if text.trim_start().starts_with(':') || text.trim().is_empty() {
        return false;
    }
    let id = SourceId(0);
    let program = match syntax::parse_program(id, text) {
        Ok(_) => return false,
        Err(d) => d,
    };
    let expr = match syntax::parse_expr(id, text) {
        Ok(_) => return false,
        Err(d) => d,
    };
    if starts_with_item(text) && !text.trim_start().starts_with("let") {
        syntax::is_incomplete(&program)
    } else {
        syntax::is_incomplete(&expr) || syntax::is_incomplete(&program)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_inputs() {
        let id = SourceId(0);
        assert!(matches!(parse(id, "  "), Ok(Input::Empty)));
        assert!(matches!(parse(id, "// note"), Ok(Input::Empty)));
        assert!(matches!(parse(id, "param a = 1"), Ok(Input::Items(v)) if v.len() == 1));
        assert!(matches!(parse(id, "param a = 1 let b = 2"), Ok(Input::Items(v)) if v.len() == 2));
        assert!(matches!(parse(id, "let b = 2 in b * 3"), Ok(Input::Expr(_))));
        assert!(matches!(parse(id, "1 + 2"), Ok(Input::Expr(_))));
        assert!(
            matches!(parse(id, ":grad x^2 wrt x"), Ok(Input::Command(n, r)) if n == "grad" && r == "x^2 wrt x")
        );
        assert!(parse(id, "param = 3").is_err());
    }

    #[test]
    fn knows_unfinished_input() {
        assert!(is_incomplete("model m {"));
        assert!(is_incomplete("model m {\n  state x: real"));
        assert!(is_incomplete("param a ="));
        assert!(is_incomplete("1 +"));
        assert!(is_incomplete("(1 + 2"));
        assert!(is_incomplete("let x = 2 in"));
        assert!(is_incomplete("/* open comment"));
        assert!(!is_incomplete("model m { state x: real energy U = x^2 }"));
        assert!(!is_incomplete("1 + 2"));
        assert!(!is_incomplete("1 + + )"));
        assert!(!is_incomplete(":run"));
        assert!(!is_incomplete(""));
    }
}
