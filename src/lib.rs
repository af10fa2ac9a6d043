//! sdelang: a modelling language and compiler for stochastic dynamics.
//!
//! The pipeline, one module per stage, data flowing one way:
//!
//! ```text
//! .sde source ─syntax─▶ ast::Program ─resolve─▶ model::Model ─symbolic─▶ symbolic::System
//!   ─lower─▶ kernel IR ─codegen─▶ CompiledModel ─runtime─▶ draws ─output─▶ files, summary
//! ```
//!
//! `pipeline` chains the stages for the front doors (`cli`); [`data`] reads the
//! JSON and CSV files that bind a program's `data` declarations before checking.
//!
//! The `compiler` feature (on by default) brings everything from source text to
//! machine code. Without it the library is the run-time half that standalone
//! sampler binaries link: [`native`] kernels, [`runtime`], [`output`],
//! [`driver`] and the binaries' entry point, [`standalone`].
#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::todo,
        clippy::unimplemented
    )
)]

#[cfg(feature = "compiler")]
pub mod aot;
#[cfg(feature = "compiler")]
pub mod codegen;
#[cfg(feature = "compiler")]
pub mod data;
pub mod diagnostic;
pub mod driver;
#[cfg(feature = "compiler")]
pub mod lower;
pub mod model;
pub mod native;
pub mod output;
#[cfg(feature = "compiler")]
pub mod pipeline;
#[cfg(feature = "compiler")]
pub mod render;
#[cfg(feature = "compiler")]
pub mod resolve;
pub mod runtime;
pub mod source;
pub mod standalone;
#[cfg(feature = "compiler")]
pub mod symbolic;
#[cfg(feature = "compiler")]
pub mod syntax;
#[cfg(not(feature = "compiler"))]
#[path = "syntax/ast_only.rs"]
pub mod syntax;
