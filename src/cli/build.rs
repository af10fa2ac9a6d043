//! `sde build`: compile a model ahead of time into a standalone sampler
//! executable (see `sdelang::aot`).

use super::{fail, report_failure, ModelArgs, EXIT_BUG};
use clap::Args;
use sdelang::aot::{self, link::LinkError, BuildError};
use std::path::PathBuf;

/// Arguments of `sde build`.
#[derive(Args, Debug)]
pub struct BuildArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// The executable to write (default: the model file's name without `.sde`)
    #[arg(short = 'o', long = "output", value_name = "PATH")]
    output: Option<PathBuf>,
    /// Print nothing but errors
    #[arg(long, short = 'q')]
    quiet: bool,
}

/// Runs `sde build`; returns the exit code.
pub fn build(args: &BuildArgs) -> i32 {
    let output = args.output.clone().unwrap_or_else(|| {
        PathBuf::from(
            args.model
                .file
                .file_stem()
                .map_or_else(|| "sampler".into(), |s| s.to_os_string()),
        )
    });
    match aot::build(&args.model.file, &args.model.options(), &output) {
        Ok(b) => {
            if !args.quiet {
                let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
                println!(
                    "built {} ({} KiB): standalone sampler of model `{}`",
                    b.path.display(),
                    b.size.div_ceil(1024),
                    b.model
                );
                let list = |v: &[String]| {
                    if v.is_empty() {
                        "none".to_string()
                    } else {
                        v.join(", ")
                    }
                };
                println!("  --set in the binary: {}", list(&b.params.0));
                if !b.params.1.is_empty() {
                    println!("  fixed at build time: {}", list(&b.params.1));
                }
                println!(
                    "  compile {:.1} ms, object {:.1} ms, link {:.1} ms; run `{} --help` for its options",
                    ms(b.timings.total()),
                    ms(b.codegen),
                    ms(b.link),
                    b.path.display()
                );
            }
            0
        }
        Err(BuildError::Compile(f)) => report_failure(&f),
        Err(BuildError::Codegen(e)) => {
            eprintln!("internal compiler error: code generation failed: {e}; please report this with the model file");
            EXIT_BUG
        }
        Err(BuildError::Unsupported(e)) => fail("E0703", e),
        Err(BuildError::Link(e @ LinkError::NoLinker(_))) => fail("E0701", e.to_string()),
        Err(BuildError::Link(e)) => fail("E0702", e.to_string()),
    }
}
