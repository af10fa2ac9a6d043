//! Front end: lexer (logos), parser (LALRPOP), AST.
pub mod ast;
