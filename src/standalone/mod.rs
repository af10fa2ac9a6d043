//! Standalone sampler binaries at run time (`sde build` makes them).
//!
//! A binary is the model's object file (kernels, description, `main`) linked
//! with the runtime library (`rt/`, this crate without its compiler). Its
//! `main` hands the linked [`ModelImage`] to [`main`] here, which reads the
//! command line — the same [`RunOptions`] as `sde run`, plus `--set` for the
//! parameters that live in the parameter buffer — resolves the settings with
//! the same functions as `sde run` ([`configure`]), runs the prelude and the
//! run through [`execute`], and returns what to print. No parser, checker,
//! symbolic engine or JIT is involved: numbers, lists and method names on the
//! command line are read by [`values`].
//!
//! For the same model, settings and seed a binary therefore writes the same
//! files as `sde run`: same kernels (the same Cranelift IR and settings), same
//! run code, same summary.

pub mod desc;
pub mod values;

use crate::diagnostic::{did_you_mean, Diagnostic};
use crate::driver::settings::configure;
use crate::driver::{execute, RunOptions, RunPlan};
use crate::model::{MethodArg, MethodSpec};
use crate::native::image::{self, ModelImage};
use crate::native::NativeModel;
use clap::{Args, CommandFactory, FromArgMatches, Parser};
use desc::{no_span, ModelDesc, ParamDesc};
use std::ffi::OsString;
use std::fmt::Write as _;
use values::Value;

/// Exit code for user errors, as `sde run` uses.
pub const EXIT_USER: i32 = 2;
/// Exit code for a broken binary (corrupt image).
pub const EXIT_BUG: i32 = 70;

/// What the process should print and its exit code.
#[derive(Debug, Default, PartialEq)]
pub struct Exit {
    /// Exit code.
    pub code: i32,
    /// Text for standard output.
    pub stdout: String,
    /// Text for standard error.
    pub stderr: String,
}

impl Exit {
    fn error(code: i32, d: &Diagnostic) -> Exit {
        Exit {
            code,
            stderr: plain(d),
            ..Exit::default()
        }
    }
}

/// The binary's command line: `sde run`'s run options and `--set`.
#[derive(Parser, Debug)]
struct Cli {
    #[command(flatten)]
    run: RunOptions,
    #[command(flatten)]
    params: SetArgs,
}

#[derive(Args, Debug)]
struct SetArgs {
    /// Set a parameter: `--set beta=2`, `--set s=[1,2,3]` (repeatable; parameters are listed below)
    #[arg(long = "set", value_name = "NAME=VALUE")]
    set: Vec<String>,
}

/// Runs a standalone binary with command line `args` (program name first).
///
/// # Safety
/// `image` must be null or the image `sde build` linked into this executable
/// (see [`image::read`]).
pub unsafe fn main(image: *const ModelImage, args: Vec<OsString>) -> Exit {
    // SAFETY: forwarded to the caller.
    let linked = match unsafe { image::read(image) } {
        Ok(l) => l,
        Err(e) => return Exit::error(EXIT_BUG, &Diagnostic::bug(e)),
    };
    let desc = match ModelDesc::decode(linked.desc) {
        Ok(d) => d,
        Err(e) => return Exit::error(EXIT_BUG, &Diagnostic::bug(e)),
    };
    // SAFETY: the kernels were emitted by `sde build` together with this
    // description, which records their buffer lengths.
    let kernels =
        unsafe { image::kernel_fns(&linked.kernels, &desc.kernels, desc.env.len(), desc.state_len) };
    let Some(kernels) = kernels else {
        return Exit::error(EXIT_BUG, &Diagnostic::bug("a kernel has no recorded length"));
    };
    let cli = match parse_args(&desc, args) {
        Ok(cli) => cli,
        Err(exit) => return exit,
    };
    let mut env = desc.env.clone();
    if let Err(d) = set_params(&desc, &mut env, &cli.params.set) {
        return Exit::error(EXIT_USER, &d);
    }
    let (config, init) = match resolve(&desc, &cli.run) {
        Ok(r) => r,
        Err(d) => return Exit::error(EXIT_USER, &d),
    };
    let Some(model) = NativeModel::new(kernels, env, desc.state_len, desc.noise) else {
        return Exit::error(EXIT_BUG, &Diagnostic::bug("the prelude cannot run"));
    };
    let mut plan = RunPlan::new(
        config,
        init,
        cli.run.output_dir(&desc.name),
        recorded_columns(&desc.columns, desc.run.record.as_deref()),
        desc.gibbs,
    );
    plan.sde = crate::driver::settings::sde_options(&desc.run, &cli.run.overrides());
    plan.model = desc.name.clone();
    plan.format = cli.run.file_format(&desc.run);
    let plot: crate::driver::PlotFacts = serde_json::from_str(&desc.plot).unwrap_or_default();
    plan.exact = plot
        .exact
        .into_iter()
        .filter(|x| plan.columns.contains(&x.column))
        .collect();
    plan.source = plot.source.map(|mut s| {
        s.set.extend(cli.params.set.iter().cloned());
        s
    });
    match execute(&model, &plan) {
        Ok(done) => Exit {
            code: 0,
            stdout: if cli.run.quiet {
                String::new()
            } else {
                done.summary
            },
            stderr: done.warnings.iter().map(|w| format!("warning: {w}\n")).collect(),
        },
        Err(e) => Exit::error(EXIT_USER, &Diagnostic::error("E0601", e.to_string())),
    }
}

/// Parses the command line; `--help`, `--version` and errors come back as the
/// exit to take.
fn parse_args(desc: &ModelDesc, args: Vec<OsString>) -> Result<Cli, Exit> {
    let about = format!(
        "Standalone sampler of model `{}` (built by sde {} from {})",
        desc.name,
        env!("CARGO_PKG_VERSION"),
        desc.origin
    );
    let cmd = Cli::command()
        .name(desc.name.clone())
        .about(about)
        .version(env!("CARGO_PKG_VERSION"))
        .after_help(help_text(desc));
    let parsed = cmd
        .try_get_matches_from(args)
        .and_then(|m| Cli::from_arg_matches(&m));
    parsed.map_err(|e| {
        let text = e.render().to_string();
        if e.use_stderr() {
            Exit {
                code: EXIT_USER,
                stderr: text,
                ..Exit::default()
            }
        } else {
            Exit {
                code: 0,
                stdout: text,
                ..Exit::default()
            }
        }
    })
}

/// The parameter list and run defaults shown by `--help`.
pub fn help_text(desc: &ModelDesc) -> String {
    let mut s = String::from("Parameters (--set NAME=VALUE):\n");
    if desc.params.is_empty() {
        s.push_str("  (none)\n");
    }
    for p in &desc.params {
        let value = param_value(desc, p);
        let _ = write!(s, "  {} = {value}", p.name);
        if p.fixed {
            let _ = write!(
                s,
                "  [fixed at build time: rebuild with `sde build --set {}=…`]",
                p.name
            );
        }
        s.push('\n');
    }
    let r = &desc.run;
    let _ = writeln!(s, "\nRun defaults (from the model's run block):");
    let _ = writeln!(s, "  method = {}", method_text(&desc.method));
    let ints = [
        ("chains", r.chains),
        ("steps", r.steps),
        ("warmup", r.warmup),
        ("thin", r.thin),
        ("seed", r.seed),
    ];
    for (name, v) in ints {
        if let Some(v) = v {
            let _ = writeln!(s, "  {name} = {v}");
        }
    }
    for (name, v) in [("temperature", r.temperature), ("dt", r.dt), ("t0", r.t0)] {
        if let Some(v) = v {
            let _ = writeln!(s, "  {name} = {v}");
        }
    }
    s
}

fn param_value(desc: &ModelDesc, p: &ParamDesc) -> String {
    let values: Vec<String> = desc
        .env
        .iter()
        .skip(p.offset)
        .take(p.len.unwrap_or(1))
        .map(|x| x.to_string())
        .collect();
    match p.len {
        None => values.concat(),
        Some(_) => format!("[{}]", values.join(", ")),
    }
}

fn method_text(m: &MethodSpec) -> String {
    if m.args.is_empty() {
        return m.kind.name().to_string();
    }
    let args: Vec<String> = m.args.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{}({})", m.kind.name(), args.join(", "))
}

/// Applies `--set` values to the parameter buffer.
fn set_params(desc: &ModelDesc, env: &mut [f64], sets: &[String]) -> Result<(), Diagnostic> {
    let mut seen: Vec<&str> = Vec::new();
    for text in sets {
        let (name, value) = values::assignment(text).map_err(|e| Diagnostic::error("E0502", e))?;
        if seen.contains(&name) {
            return Err(Diagnostic::error(
                "E0502",
                format!("`--set {name}` is given more than once"),
            ));
        }
        seen.push(name);
        let Some(p) = desc.params.iter().find(|p| p.name == name) else {
            let mut d = Diagnostic::error("E0502", format!("`--set {name}`: no parameter named `{name}`"));
            if let Some(best) = did_you_mean(name, desc.params.iter().map(|p| p.name.as_str())).first() {
                d = d.with_help(format!("did you mean `{best}`?"));
            }
            return Err(d);
        };
        if p.fixed {
            let why = if p.int {
                "an integer parameter (sizes, ranges and indices are compiled in)"
            } else {
                "used at compile time (by another parameter's default, a size, an initial value or a run setting)"
            };
            return Err(Diagnostic::error(
                "E0502",
                format!("parameter `{name}` is fixed in this binary: it is {why}"),
            )
            .with_help(format!(
                "rebuild with `sde build {} --set {name}=…`, or use `sde run --set {name}=…`",
                desc.origin
            )));
        }
        let values = param_values(p, value).map_err(|e| Diagnostic::error("E0502", e))?;
        for (dst, src) in env.iter_mut().skip(p.offset).zip(values) {
            *dst = src;
        }
    }
    Ok(())
}

fn param_values(p: &ParamDesc, text: &str) -> Result<Vec<f64>, String> {
    match (values::value(text)?, p.len) {
        (Value::Number(x), None) => Ok(vec![x]),
        (Value::List(v), Some(n)) if v.len() == n => Ok(v),
        (Value::List(v), Some(n)) => Err(format!(
            "parameter `{}` is real[{n}] but the value has {} components",
            p.name,
            v.len()
        )),
        (Value::List(v), None) => Err(format!(
            "parameter `{}` is a real number, not a list of {}",
            p.name,
            v.len()
        )),
        (Value::Number(_), Some(n)) => Err(format!(
            "parameter `{}` is real[{n}]: give {n} values, `[a, b, …]`",
            p.name
        )),
    }
}

/// The run configuration and initial state, as `driver::resolve` makes them.
fn resolve(desc: &ModelDesc, o: &RunOptions) -> Result<(crate::runtime::RunConfig, Vec<f64>), Diagnostic> {
    let spec = match &o.method {
        Some(text) => method_spec(desc, text)?,
        None => desc.method.clone(),
    };
    let config = configure(
        &spec,
        &desc.run,
        desc.gibbs,
        desc.state_len,
        &desc.name,
        &o.overrides(),
    )?;
    let mut init = desc.init.clone();
    for text in &o.init {
        let (name, value) = values::assignment(text).map_err(|e| Diagnostic::error("E0502", e))?;
        let Some(s) = desc.states.iter().find(|s| s.name == name) else {
            let mut d = Diagnostic::error(
                "E0101",
                format!("`{name}` is not a state of model `{}`", desc.name),
            );
            if let Some(best) = did_you_mean(name, desc.states.iter().map(|s| s.name.as_str())).first() {
                d = d.with_help(format!("did you mean `{best}`?"));
            }
            return Err(d);
        };
        let n = s.len.unwrap_or(1);
        let values = match values::value(value).map_err(|e| Diagnostic::error("E0402", e))? {
            Value::Number(x) => vec![x; n],
            Value::List(v) if v.len() == n => v,
            Value::List(v) => {
                return Err(Diagnostic::error(
                    "E0202",
                    format!(
                        "state `{name}` has {n} component{}, but the value has {}",
                        if n == 1 { "" } else { "s" },
                        v.len()
                    ),
                ))
            }
        };
        for (dst, src) in init.iter_mut().skip(s.offset).zip(values) {
            *dst = src;
        }
    }
    Ok((config, init))
}

/// Checks `--method` against the method table, as the checker does.
fn method_spec(desc: &ModelDesc, text: &str) -> Result<MethodSpec, Diagnostic> {
    let call = values::method(text).map_err(|e| Diagnostic::error("E0404", e))?;
    let names = || desc.methods.iter().map(|(k, _)| k.name());
    let Some((kind, allowed)) = desc.methods.iter().find(|(k, _)| k.name() == call.name) else {
        let mut d = Diagnostic::error("E0404", format!("unknown method `{}`", call.name))
            .with_note(format!("methods: {}", names().collect::<Vec<_>>().join(", ")));
        if let Some(best) = did_you_mean(&call.name, names()).first() {
            d = d.with_help(format!("did you mean `{best}`?"));
        }
        return Err(d);
    };
    let signature = crate::model::signature(*kind);
    let mut args: Vec<(String, MethodArg)> = Vec::new();
    for (k, (key, x)) in call.args.iter().enumerate() {
        let key = match key {
            Some(key) if allowed.contains(key) => key.clone(),
            Some(key) => {
                return Err(
                    Diagnostic::error("E0401", format!("`{}` has no argument `{key}`", call.name))
                        .with_note(format!("`{}` takes: {}", call.name, allowed.join(", "))),
                )
            }
            None => allowed.get(k).cloned().ok_or_else(|| {
                Diagnostic::error(
                    "E0105",
                    format!("`{}` takes at most {} argument(s)", call.name, allowed.len()),
                )
            })?,
        };
        if args.iter().any(|(k, _)| *k == key) {
            return Err(Diagnostic::error(
                "E0102",
                format!("argument `{key}` is given more than once"),
            ));
        }
        let Some(sig) = signature.iter().find(|s| s.name == key) else {
            continue;
        };
        let value = MethodArg::from_number(sig.kind, *x)
            .map_err(|why| Diagnostic::error("E0402", format!("bad value for `{key}`: {why}")))?;
        args.push((key, value));
    }
    Ok(MethodSpec {
        kind: *kind,
        args,
        span: no_span(),
    })
}

/// The column names of the recorded components (all unless `record` picks some).
fn recorded_columns(all: &[String], record: Option<&[usize]>) -> Vec<String> {
    match record {
        Some(pick) => pick.iter().filter_map(|&i| all.get(i).cloned()).collect(),
        None => all.to_vec(),
    }
}

/// A diagnostic as plain text (a binary has no sources to point into).
pub fn plain(d: &Diagnostic) -> String {
    let mut s = match d.severity {
        crate::diagnostic::Severity::Bug => format!("internal error: {}\n", d.message),
        _ => format!("error[{}]: {}\n", d.code, d.message),
    };
    for note in &d.notes {
        let _ = writeln!(s, "  = note: {note}");
    }
    if let Some(help) = &d.help {
        let _ = writeln!(s, "  = help: {help}");
    }
    s
}
