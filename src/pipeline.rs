//! Chains the stages: source text → tokens → AST → checked model → symbolic
//! system → kernels → machine code. The front doors (`sde` CLI, tests) call
//! [`compile_file`] or [`compile_source`]; each stage's time is recorded for
//! `--timings`.

use crate::codegen::{self, CompiledModel};
use crate::data::DataSet;
use crate::diagnostic::Diagnostic;
use crate::lower::{self, KernelKind, Lowered};
use crate::model::{MethodSpec, Model};
use crate::resolve::{self, CheckFacts, CheckInput, ParamOverride};
use crate::source::{SourceId, SourceMap};
use crate::symbolic::minibatch::MinibatchRequest;
use crate::symbolic::{self, BuildOptions, System};
use crate::syntax::{self, ast};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What to compile and how.
#[derive(Clone, Debug, Default)]
pub struct CompileOptions {
    /// `--set name=value` overrides, as written on the command line.
    pub overrides: Vec<String>,
    /// `--model name`: which model of the file.
    pub model: Option<String>,
    /// `--data FILE` files, as given (searched before the run block's `data = …` files).
    pub data: Vec<PathBuf>,
    /// Extra derivatives to build (Hessian, Jacobian).
    pub build: BuildOptions,
    /// Kernels to compile (all when empty).
    pub kernels: Vec<KernelKind>,
    /// The run's method as given on the command line (`--method`), overriding the run block's:
    /// the derivatives it needs are built and compiled (see [`method_requirements`]).
    pub method: Option<String>,
    /// Code generation choices (the defaults unless a test compares them).
    pub codegen: codegen::CodegenOptions,
}

/// Time spent in each stage.
#[derive(Clone, Debug, Default)]
pub struct Timings {
    /// Lexing and parsing (imports included in `check`).
    pub parse: Duration,
    /// Name resolution, shape checking, parameter evaluation.
    pub check: Duration,
    /// Building the symbolic system and its derivatives.
    pub symbolic: Duration,
    /// Lowering to kernels.
    pub lower: Duration,
    /// Cranelift IR construction and machine-code generation.
    pub codegen: Duration,
}

impl Timings {
    /// Source to machine code.
    pub fn total(&self) -> Duration {
        self.parse + self.check + self.symbolic + self.lower + self.codegen
    }
}

/// A successful compilation.
pub struct Compilation {
    /// All sources read (the file, its imports, command-line snippets).
    pub sources: SourceMap,
    /// The checked model.
    pub model: Model,
    /// Its symbolic system.
    pub system: System,
    /// Its kernels.
    pub lowered: Lowered,
    /// Its machine code.
    pub compiled: CompiledModel,
    /// Stage times.
    pub timings: Timings,
}

/// A failed compilation: the diagnostics and the sources they point into.
#[derive(Debug)]
pub struct Failure {
    /// All sources read.
    pub sources: SourceMap,
    /// What went wrong, sorted by position.
    pub diagnostics: Vec<Diagnostic>,
}

/// The directory `use name` loads from: `$SDELANG_STDLIB`, else the crate's `stdlib/`.
pub fn stdlib_dir() -> PathBuf {
    match std::env::var_os("SDELANG_STDLIB") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("stdlib"),
    }
}

/// A model taken from source text to kernels, before machine code: what the JIT
/// and the ahead-of-time back end (`sde build`) both start from.
pub struct Lowering {
    /// All sources read (the file, its imports, command-line snippets).
    pub sources: SourceMap,
    /// The checked model.
    pub model: Model,
    /// What the checker learnt about the model's parameters.
    pub facts: CheckFacts,
    /// Its symbolic system.
    pub system: System,
    /// Its kernels.
    pub lowered: Lowered,
    /// The kernels to compile (all when empty): the requested ones plus those the
    /// run's method needs.
    pub kernels: Vec<KernelKind>,
    /// Stage times (`codegen` is zero).
    pub timings: Timings,
}

/// Reads and compiles a model file.
pub fn compile_file(path: &Path, options: &CompileOptions) -> Result<Compilation, Failure> {
    let (sources, id) = read_source(path)?;
    compile_source(sources, id, path.parent(), options)
}

/// Reads a model file and takes it to kernels.
pub fn lower_file(path: &Path, options: &CompileOptions) -> Result<Lowering, Failure> {
    let (sources, id) = read_source(path)?;
    lower_source(sources, id, path.parent(), options)
}

fn read_source(path: &Path) -> Result<(SourceMap, SourceId), Failure> {
    let mut sources = SourceMap::new();
    let text = match std::fs::read(path) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) => {
            let d = Diagnostic::error("E0500", format!("cannot read `{}`: {e}", path.display()));
            return Err(Failure {
                sources,
                diagnostics: vec![d],
            });
        }
    };
    let id = sources.add(path.display().to_string(), Some(path), text);
    Ok((sources, id))
}

fn fail(sources: SourceMap, mut diagnostics: Vec<Diagnostic>) -> Failure {
    crate::diagnostic::sort_by_position(&mut diagnostics);
    Failure { sources, diagnostics }
}

fn parse(sources: &SourceMap, id: SourceId) -> Result<ast::Program, Vec<Diagnostic>> {
    let text = sources.get(id).map(|f| f.text.clone()).unwrap_or_default();
    syntax::parse_program(id, &text)
}

/// Compiles source `id` of `sources` (already added).
pub fn compile_source(
    sources: SourceMap,
    id: SourceId,
    base_dir: Option<&Path>,
    options: &CompileOptions,
) -> Result<Compilation, Failure> {
    let start = Instant::now();
    let program = match parse(&sources, id) {
        Ok(p) => p,
        Err(d) => return Err(fail(sources, d)),
    };
    let parse_time = start.elapsed();
    let mut c = compile_program(sources, &program, base_dir, options)?;
    c.timings.parse += parse_time;
    Ok(c)
}

/// Compiles an already parsed program whose spans point into `sources` (the
/// REPL assembles one from items typed on different lines, each its own source).
pub fn compile_program(
    sources: SourceMap,
    program: &ast::Program,
    base_dir: Option<&Path>,
    options: &CompileOptions,
) -> Result<Compilation, Failure> {
    let Lowering {
        sources,
        model,
        system,
        lowered,
        kernels,
        mut timings,
        ..
    } = lower_program(sources, program, base_dir, options)?;
    let start = Instant::now();
    let compiled = match codegen::compile_with(&lowered, &kernels, options.codegen) {
        Ok(c) => c,
        Err(e) => {
            let d = Diagnostic::bug(format!("code generation failed: {e}"));
            return Err(fail(sources, vec![d]));
        }
    };
    timings.codegen = start.elapsed();
    Ok(Compilation {
        sources,
        model,
        system,
        lowered,
        compiled,
        timings,
    })
}

/// Takes source `id` of `sources` (already added) to kernels.
pub fn lower_source(
    sources: SourceMap,
    id: SourceId,
    base_dir: Option<&Path>,
    options: &CompileOptions,
) -> Result<Lowering, Failure> {
    let start = Instant::now();
    let program = match parse(&sources, id) {
        Ok(p) => p,
        Err(d) => return Err(fail(sources, d)),
    };
    let parse_time = start.elapsed();
    let mut l = lower_program(sources, &program, base_dir, options)?;
    l.timings.parse += parse_time;
    Ok(l)
}

/// Takes an already parsed program to kernels.
pub fn lower_program(
    sources: SourceMap,
    program: &ast::Program,
    base_dir: Option<&Path>,
    options: &CompileOptions,
) -> Result<Lowering, Failure> {
    let (mut sources, model, facts, mut timings) = check_timed(sources, program, base_dir, options)?;
    let method = match &options.method {
        Some(text) => match parse_method(&mut sources, text) {
            Ok(m) => Some(m),
            Err(d) => return Err(fail(sources, d)),
        },
        None => model.run.method.clone(),
    };
    let (build, kernels) = method_requirements(options, method.as_ref());
    let start = Instant::now();
    let system = match symbolic::build(&model, build) {
        Ok(s) => s,
        Err(d) => return Err(fail(sources, d)),
    };
    timings.symbolic = start.elapsed();

    let start = Instant::now();
    let lowered = lower::lower(&model, &system);
    timings.lower = start.elapsed();
    Ok(Lowering {
        sources,
        model,
        facts,
        system,
        lowered,
        kernels,
        timings,
    })
}

/// Checks an already parsed program (no code generation): its model and the
/// sources, which gain the `--set` snippets.
pub fn check_program(
    sources: SourceMap,
    program: &ast::Program,
    base_dir: Option<&Path>,
    options: &CompileOptions,
) -> Result<(SourceMap, Model), Failure> {
    check_timed(sources, program, base_dir, options).map(|(s, m, _, _)| (s, m))
}

/// Parses the overrides and checks the program, timing both.
fn check_timed(
    mut sources: SourceMap,
    program: &ast::Program,
    base_dir: Option<&Path>,
    options: &CompileOptions,
) -> Result<(SourceMap, Model, CheckFacts, Timings), Failure> {
    let mut timings = Timings::default();
    let start = Instant::now();
    let overrides = match parse_overrides(&mut sources, &options.overrides) {
        Ok(o) => o,
        Err(d) => return Err(fail(sources, d)),
    };
    timings.parse = start.elapsed();

    let start = Instant::now();
    let data = match DataSet::load(&data_files(program, base_dir, options), &mut sources) {
        Ok(d) => d,
        Err(d) => return Err(fail(sources, d)),
    };
    let stdlib = stdlib_dir();
    let checked = resolve::check_with_facts(CheckInput {
        program,
        sources: &mut sources,
        stdlib_dir: Some(&stdlib),
        base_dir,
        overrides: &overrides,
        model_name: options.model.as_deref(),
        data: Some(&data),
    });
    let (model, facts) = match checked {
        Ok(m) => m,
        Err(d) => return Err(fail(sources, d)),
    };
    timings.check = start.elapsed();
    Ok((sources, model, facts, timings))
}

/// The data files of a run, in lookup order: `--data` files as given, then the main
/// program's `data = …` run settings, relative to the model file's directory.
pub fn data_files(program: &ast::Program, base_dir: Option<&Path>, options: &CompileOptions) -> Vec<PathBuf> {
    let mut out = options.data.clone();
    for item in &program.items {
        let ast::Item::Run(block) = item else { continue };
        for ri in &block.items {
            if let ast::RunItem::Data { files, .. } = ri {
                out.extend(files.iter().map(|(f, _)| match base_dir {
                    Some(dir) if Path::new(f).is_relative() => dir.join(f),
                    _ => PathBuf::from(f),
                }));
            }
        }
    }
    out
}

/// What a run's method needs beyond the requested derivatives and kernels: the
/// one place that turns a method into compiler work (the Hessian for
/// Hessian-preconditioned Langevin, the minibatch gradient for stochastic-gradient methods).
pub fn method_requirements(
    options: &CompileOptions,
    method: Option<&MethodSpec>,
) -> (BuildOptions, Vec<KernelKind>) {
    let mut build = options.build;
    let mut kernels = options.kernels.clone();
    if let Some(m) = method.filter(|m| m.kind.needs_minibatch()) {
        let mut m = m.clone();
        m.fill_defaults();
        build.minibatch = Some(MinibatchRequest {
            size: m.int("batch").and_then(|b| usize::try_from(b).ok()).unwrap_or(1),
            replace: m.flag("replace").unwrap_or(false),
            span: m.span,
        });
        if !kernels.is_empty() && !kernels.contains(&KernelKind::BatchGrad) {
            kernels.push(KernelKind::BatchGrad);
        }
    }
    if method.is_some_and(|m| m.kind.needs_hessian()) {
        build.hessian = true;
        if !kernels.is_empty() && !kernels.contains(&KernelKind::Hessian) {
            kernels.push(KernelKind::Hessian);
        }
    }
    (build, kernels)
}

/// Parses `name=value` command-line overrides; each becomes its own source so
/// diagnostics can point into it.
fn parse_overrides(sources: &mut SourceMap, raw: &[String]) -> Result<Vec<ParamOverride>, Vec<Diagnostic>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for text in raw {
        let id = sources.add("--set", None, text.clone());
        match split_assignment(id, text) {
            Ok((name, value_start)) => {
                let value_text = text.get(value_start..).unwrap_or("");
                // Parse the value in a copy padded so spans line up with the whole text.
                let padded = format!("{}{}", " ".repeat(value_start), value_text);
                match syntax::parse_expr(id, &padded) {
                    Ok(value) => out.push(ParamOverride {
                        name: name.to_string(),
                        value,
                        span: crate::source::Span::new(id, 0, text.len()),
                    }),
                    Err(d) => errors.extend(d),
                }
            }
            Err(d) => errors.push(d),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Splits `name=value` into the name and the byte offset of the value.
pub fn split_assignment(id: SourceId, text: &str) -> Result<(&str, usize), Diagnostic> {
    let bad = || {
        Diagnostic::error("E0502", format!("expected `name=value`, found `{text}`"))
            .with_label(crate::source::Span::new(id, 0, text.len()), "here")
            .with_help("write for example `--set beta=2` or `--set s=[1, 2, 3]`")
    };
    let eq = text.find('=').ok_or_else(bad)?;
    let name = text.get(..eq).unwrap_or("").trim();
    let valid = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if !valid {
        return Err(bad());
    }
    Ok((name, eq + 1))
}

/// Parses a `--method` value such as `mala(step=0.1)`.
pub fn parse_method(sources: &mut SourceMap, text: &str) -> Result<MethodSpec, Vec<Diagnostic>> {
    let id = sources.add("--method", None, text.to_string());
    let expr = syntax::parse_expr(id, text)?;
    resolve::check_method(&expr)
}

/// Parses `--init name=value` (or `--at`) for a state of `model`: the state's
/// name and its flat values.
pub fn parse_init(
    sources: &mut SourceMap,
    model: &Model,
    text: &str,
) -> Result<(String, Vec<f64>), Vec<Diagnostic>> {
    let id = sources.add("--init", None, text.to_string());
    let (name, value_start) = split_assignment(id, text).map_err(|d| vec![d])?;
    let Some(state) = model.states.iter().find(|s| s.name == name) else {
        let names: Vec<&str> = model.states.iter().map(|s| s.name.as_str()).collect();
        let mut d = Diagnostic::error(
            "E0101",
            format!("`{name}` is not a state of model `{}`", model.name),
        )
        .with_label(crate::source::Span::new(id, 0, name.len()), "unknown state");
        if let Some(best) = crate::diagnostic::did_you_mean(name, names.iter().copied()).first() {
            d = d.with_help(format!("did you mean `{best}`?"));
        }
        return Err(vec![d]);
    };
    let padded = format!(
        "{}{}",
        " ".repeat(value_start),
        text.get(value_start..).unwrap_or("")
    );
    let expr = syntax::parse_expr(id, &padded)?;
    let values = resolve::check_constant(&expr, state.size(), &format!("state `{name}`"))?;
    Ok((name.to_string(), values))
}
