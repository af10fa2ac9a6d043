//! Front end: source text → [`ast::Program`] (or a lone [`ast::Expr`]).
//!
//! Stages and vocabulary:
//! - [`token`]: the logos `Token` enum; number literals are parsed there.
//! - [`lexer`]: the `(start, token, end)` triples LALRPOP's external-lexer
//!   interface wants; a [`lexer::LexError`] carries a `LexErrorKind` and a span.
//! - `stream`: the token stream the parser reads; it records lexical errors,
//!   keeps nesting and error recovery bounded, and stops on hopeless input.
//! - `grammar/sde.lalrpop`: the LR(1) grammar, compiled by `build.rs` into the
//!   generated `grammar` module; actions build nodes through `ctx::ParseCtx`,
//!   which cuts off expressions nested more than 200 levels deep.
//! - `errors`: lexical and syntax errors → [`Diagnostic`]s, codes E0001–E0007.
//! - [`depth`]: iterative depth checks and teardown of expression trees.
//!
//! No input makes the parser panic, loop or overflow the stack; every syntax
//! error comes back as a [`Diagnostic`], several per pass where recovery allows.

pub mod ast;
mod ctx;
pub mod depth;
mod errors;
pub mod lexer;
mod stream;
#[cfg(test)]
mod tests;
pub mod token;

lalrpop_util::lalrpop_mod!(
    #[allow(clippy::all, clippy::pedantic, clippy::nursery, clippy::restriction)]
    #[allow(unused, unused_qualifications, missing_docs, unreachable_pub, dead_code)]
    grammar,
    "/sde.rs"
);

use crate::diagnostic::Diagnostic;
use crate::source::SourceId;

pub use ctx::MAX_DEPTH;

/// The largest source text the parser accepts, in bytes (16 MiB).
pub const MAX_SOURCE_BYTES: usize = 16 * 1024 * 1024;

/// Parses a whole `.sde` file.
///
/// On failure returns every diagnostic found (lexical and syntax errors, and
/// expressions nested too deeply), sorted by position.
pub fn parse_program(source: SourceId, text: &str) -> Result<ast::Program, Vec<Diagnostic>> {
    if text.len() > MAX_SOURCE_BYTES {
        return Err(vec![errors::too_large(text.len(), MAX_SOURCE_BYTES)]);
    }
    let ctx = ctx::ParseCtx::new(source);
    let result = grammar::ProgramParser::new().parse(source, &ctx, stream::TokenStream::new(text, &ctx));
    let (program, last) = match result {
        Ok(p) => (Some(p), None),
        Err(e) => (None, Some(e)),
    };
    let mut diags = errors::collect(&ctx, last, text);
    if let Some(p) = &program {
        if let Some(e) = depth::first_too_deep(p, MAX_DEPTH as usize) {
            diags.push(errors::too_deep(e.span, &errors::too_deep_label()));
        }
    }
    match program {
        Some(p) if diags.is_empty() => Ok(p),
        Some(p) => {
            p.items.into_iter().for_each(drop_item);
            Err(diags)
        }
        None if diags.is_empty() => Err(vec![Diagnostic::bug("the parser failed without reporting why")]),
        None => Err(diags),
    }
}

/// Parses a lone expression, such as a command-line value (`mala(step = 0.1)`, `[1, 2]`).
pub fn parse_expr(source: SourceId, text: &str) -> Result<ast::Expr, Vec<Diagnostic>> {
    if text.len() > MAX_SOURCE_BYTES {
        return Err(vec![errors::too_large(text.len(), MAX_SOURCE_BYTES)]);
    }
    let ctx = ctx::ParseCtx::new(source);
    let result = grammar::LoneExprParser::new().parse(source, &ctx, stream::TokenStream::new(text, &ctx));
    let (expr, last) = match result {
        Ok(e) => (Some(e), None),
        Err(e) => (None, Some(e)),
    };
    let mut diags = errors::collect(&ctx, last, text);
    if let Some(e) = &expr {
        if depth::expr_depth(e) > MAX_DEPTH as usize {
            diags.push(errors::too_deep(e.span, &errors::too_deep_label()));
        }
    }
    match expr {
        Some(e) if diags.is_empty() => Ok(e),
        Some(e) => {
            depth::dismantle(e);
            Err(diags)
        }
        None if diags.is_empty() => Err(vec![Diagnostic::bug("the parser failed without reporting why")]),
        None => Err(diags),
    }
}

/// True when the diagnostics only say that the input stopped too early
/// (unexpected end of input, or an unclosed block comment): a REPL should read
/// another line and try again.
pub fn is_incomplete(diags: &[Diagnostic]) -> bool {
    !diags.is_empty() && diags.iter().all(|d| d.code == "E0002" || d.code == "E0005")
}

/// Drops an item whose expressions may be too deep, without recursion.
fn drop_item(item: ast::Item) {
    let program = ast::Program { items: vec![item] };
    if depth::first_too_deep(&program, MAX_DEPTH as usize).is_none() {
        return;
    }
    for item in program.items {
        for e in item_exprs(item) {
            depth::dismantle(e);
        }
    }
}

/// Moves every expression out of an item.
fn item_exprs(item: ast::Item) -> Vec<ast::Expr> {
    use ast::{Item, ModelItem, RunItem, TypeExpr};
    let params = |ps: Vec<ast::ParamDecl>| {
        ps.into_iter().flat_map(|p| {
            p.ty.map(TypeExpr::into_dims)
                .unwrap_or_default()
                .into_iter()
                .chain(p.default)
        })
    };
    match item {
        Item::Use(_) => Vec::new(),
        Item::Param(ps) => params(ps).collect(),
        Item::Fn(f) => vec![f.body],
        Item::Let(l) => vec![l.value],
        Item::Run(r) => r
            .items
            .into_iter()
            .filter_map(|ri| match ri {
                RunItem::Setting { value, .. } | RunItem::Init { value, .. } => Some(value),
                RunItem::InitDraw { law, .. } => Some(law),
                RunItem::Data { .. } | RunItem::Text { .. } => None,
            })
            .collect(),
        Item::Model(m) => m
            .items
            .into_iter()
            .flat_map(|mi| -> Vec<ast::Expr> {
                match mi {
                    ModelItem::Param(ps) => params(ps).collect(),
                    ModelItem::Let(l) => vec![l.value],
                    ModelItem::Fn(f) => vec![f.body],
                    ModelItem::State(s) => s.ty.into_dims().into_iter().chain(s.init).collect(),
                    ModelItem::Energy(e) => vec![e.value],
                    ModelItem::Sde(s) => {
                        let conv_args = match s.convention {
                            Some((ast::Convention::Call(_, args), _)) => args,
                            _ => Vec::new(),
                        };
                        let lang_args = s.langevin.map(|l| l.args).unwrap_or_default();
                        s.drift
                            .into_iter()
                            .chain(s.noise.map(|n| n.coeff))
                            .chain(
                                conv_args
                                    .into_iter()
                                    .chain(lang_args)
                                    .flat_map(ast::CallArg::into_exprs),
                            )
                            .collect()
                    }
                    ModelItem::Noise(n) => n.ty.into_dims(),
                    ModelItem::Particles(p) => std::iter::once(p.count)
                        .chain(p.ty.into_dims())
                        .chain(p.domain)
                        .chain(p.options.into_iter().map(|(_, e)| e))
                        .collect(),
                    ModelItem::Pair(p) => std::iter::once(p.body)
                        .chain(p.options.into_iter().map(|(_, e)| e))
                        .collect(),
                    ModelItem::Observe(o) => vec![o.value],
                    ModelItem::Exact(x) => {
                        let law = match x.law {
                            ast::ExactLaw::Density(e) => vec![e],
                            ast::ExactLaw::Family { args, .. } => {
                                args.into_iter().flat_map(ast::CallArg::into_exprs).collect()
                            }
                        };
                        x.index.into_iter().chain(law).collect()
                    }
                }
            })
            .collect(),
    }
}
