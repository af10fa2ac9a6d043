//! Ahead-of-time compilation: a model file → a standalone sampler executable
//! (`sde build`).
//!
//! Steps: the front end and lowering as for `sde run` ([`pipeline::lower_file`]),
//! the model description ([`describe`]), the object file
//! ([`codegen::object::emit_object`]: kernels, description, `main`), then
//! [`link`] with the runtime library embedded in this crate. The binary's
//! command line and run are in [`crate::standalone`].
//!
//! Vocabulary: *fixed* parameters are those whose values were compiled in (ints,
//! and reals that other compile-time values were computed from); the others
//! live only in the parameter buffer, so the binary's `--set` may change them.

pub mod link;

use crate::codegen::object::emit_object;
use crate::driver::settings::{default_state, model_method};
use crate::lower::KernelKind;
use crate::model::{ParamValue, RunSettings};
use crate::pipeline::{self, CompileOptions, Failure, Lowering, Timings};
use crate::standalone::desc::{ModelDesc, ParamDesc, StateDesc};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Why a build failed.
#[derive(Debug)]
pub enum BuildError {
    /// The model does not compile (diagnostics with their sources).
    Compile(Failure),
    /// Code generation failed (an internal error).
    Codegen(String),
    /// The model uses something standalone binaries cannot do yet.
    Unsupported(String),
    /// Linking failed, or no linker exists.
    Link(link::LinkError),
}

/// A finished build.
#[derive(Debug)]
pub struct Built {
    /// The executable.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// The model's name.
    pub model: String,
    /// Parameters `--set` can change in the binary, and those fixed in it.
    pub params: (Vec<String>, Vec<String>),
    /// Front-end and lowering times.
    pub timings: Timings,
    /// Object emission time.
    pub codegen: Duration,
    /// Link time.
    pub link: Duration,
}

/// Builds `file` (with `options`' `--set` and `--model`) into the executable `output`.
pub fn build(file: &Path, options: &CompileOptions, output: &Path) -> Result<Built, BuildError> {
    // Look for the linker first: without one, nothing else is worth doing.
    let cc = link::find_cc().map_err(BuildError::Link)?;
    let mut options = options.clone();
    // The minibatch gradient reads a run-time list, which linked kernels cannot be given yet.
    options.kernels = KernelKind::RUN
        .into_iter()
        .filter(|k| *k != KernelKind::BatchGrad)
        .collect();
    let lowering = pipeline::lower_file(file, &options).map_err(BuildError::Compile)?;
    if let Some(m) = lowering
        .model
        .run
        .method
        .as_ref()
        .filter(|m| m.kind.needs_minibatch())
    {
        return Err(BuildError::Unsupported(format!(
            "standalone binaries of stochastic-gradient methods (`{}`) are not supported yet; \
             run the model with `sde run`",
            m.kind.name()
        )));
    }
    if !lowering.model.particles.is_empty() {
        return Err(BuildError::Unsupported(
            "standalone binaries of particle models are not supported yet; run the model with `sde run`"
                .into(),
        ));
    }
    if !lowering.model.run.init_draws.is_empty() {
        return Err(BuildError::Unsupported(
            "standalone binaries cannot draw random initial states (`init x ~ …`) yet; \
             give a value with `init x = …`"
                .into(),
        ));
    }
    let mut desc = describe(&lowering, &origin(file, &options));
    desc.plot = plot_facts(&lowering, file, &options);
    let start = Instant::now();
    let object = emit_object(&lowering.lowered, &options.kernels, &desc.encode())
        .map_err(|e| BuildError::Codegen(e.message))?;
    let codegen = start.elapsed();

    let start = Instant::now();
    let dir = scratch_dir().map_err(|e| BuildError::Link(link::LinkError::Io(std::env::temp_dir(), e)))?;
    let linked = link::link(&cc, &object, &dir, output);
    let _ = std::fs::remove_dir_all(&dir);
    linked.map_err(BuildError::Link)?;
    let size = std::fs::metadata(output).map(|m| m.len()).unwrap_or(0);
    let (fixed, free): (Vec<&ParamDesc>, Vec<&ParamDesc>) = desc.params.iter().partition(|p| p.fixed);
    let names = |ps: Vec<&ParamDesc>| ps.iter().map(|p| p.name.clone()).collect();
    Ok(Built {
        path: output.to_path_buf(),
        size,
        model: desc.name,
        params: (names(free), names(fixed)),
        timings: lowering.timings,
        codegen,
        link: start.elapsed(),
    })
}

/// `file [--model m] [--set k=v]…`, as shown by the binary's `--help`.
fn origin(file: &Path, options: &CompileOptions) -> String {
    let mut s = file.display().to_string();
    if let Some(m) = &options.model {
        s.push_str(&format!(" --model {m}"));
    }
    for set in &options.overrides {
        s.push_str(&format!(" --set {set}"));
    }
    s
}

/// The model's origin and exact laws as `sde run` records them in `run.json` (the binary adds
/// its run-time `--set`s), as JSON.
fn plot_facts(l: &Lowering, file: &Path, options: &CompileOptions) -> String {
    let file = std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
    let facts = crate::driver::PlotFacts {
        source: Some(crate::driver::ModelSource {
            hash: crate::driver::source_hash(&file),
            file,
            set: options.overrides.clone(),
            data: options.data.clone(),
        }),
        exact: crate::driver::exact_columns(&l.model, &l.model.state_columns(), &l.sources),
    };
    serde_json::to_string(&facts).unwrap_or_default()
}

fn scratch_dir() -> std::io::Result<PathBuf> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("sde-build-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// The description a binary embeds: what `sde run` would take from the model.
pub fn describe(l: &Lowering, origin: &str) -> ModelDesc {
    let model = &l.model;
    let layout = &l.lowered.layout;
    let offsets = model.state_offsets();
    let states = model
        .states
        .iter()
        .zip(offsets)
        .map(|(s, offset)| StateDesc {
            name: s.name.clone(),
            offset,
            len: s.len,
        })
        .collect();
    let params = l
        .facts
        .settable
        .iter()
        .filter_map(|(name, id)| {
            let k = id.0 as usize;
            let p = model.params.get(k)?;
            Some(ParamDesc {
                name: name.clone(),
                offset: layout.param_offsets.get(k).copied()?,
                len: match &p.value {
                    ParamValue::Real(_) | ParamValue::Int(_) => None,
                    other => Some(other.flat().len()),
                },
                int: matches!(p.value, ParamValue::Int(_)),
                fixed: l.facts.compile_time.get(k).copied().unwrap_or(true),
            })
        })
        .collect();
    let run = RunSettings {
        method: None,
        init: Vec::new(),
        ..model.run.clone()
    };
    let kernels = std::iter::once(&l.lowered.prelude)
        .chain(
            l.lowered
                .kernels
                .iter()
                .filter(|k| KernelKind::RUN.contains(&k.kind)),
        )
        .map(|k| (k.kind, k.out_len))
        .collect();
    ModelDesc {
        name: model.name.clone(),
        origin: origin.to_string(),
        gibbs: model.is_gibbs(),
        state_len: layout.state_len,
        columns: model.state_columns(),
        states,
        env: l.lowered.env_init.clone(),
        params,
        method: model_method(model),
        run,
        init: default_state(model),
        methods: crate::resolve::methods()
            .map(|(kind, args)| (kind, args.iter().map(|a| a.to_string()).collect()))
            .collect(),
        kernels,
        plot: String::new(),
        noise: crate::runtime::NoiseShape {
            dim: layout.noise.dim,
            diagonal: layout.noise.diagonal,
            additive: layout.noise.additive,
            block: layout.noise.block,
        },
    }
}
