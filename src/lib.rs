//! sdelang: a modelling language and compiler for stochastic dynamics.
//!
//! The pipeline, one module per stage, data flowing one way:
//!
//! ```text
//! .sde source ─syntax─▶ ast::Program ─resolve─▶ model::Model ─symbolic─▶ symbolic::System
//!   ─lower─▶ kernel IR ─codegen─▶ CompiledModel ─runtime─▶ draws ─output─▶ files, summary
//! ```
//!
//! [`pipeline`] chains the stages for the front doors (`cli`).
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

pub mod codegen;
pub mod diagnostic;
pub mod driver;
pub mod lower;
pub mod model;
pub mod output;
pub mod pipeline;
pub mod render;
pub mod resolve;
pub mod runtime;
pub mod source;
pub mod symbolic;
pub mod syntax;
