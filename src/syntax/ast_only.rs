//! The syntax tree types alone, for builds without the `compiler` feature: the
//! checked model shares a few of them (such as the SDE convention), but no
//! source text is parsed at run time.

#[path = "ast.rs"]
pub mod ast;
