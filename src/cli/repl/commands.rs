//! One input: a definition, an expression, or a `:command`.

use super::calculus::{self, Order};
use super::define::{self, summary};
use super::eval;
use super::input::{self, Input};
use super::runcmd::{self, RUN_SETTINGS};
use super::session::{split, Def, Key, LoadedFile, Session, Target};
use super::{plot, Out};
use sdelang::diagnostic::did_you_mean;
use sdelang::driver::Overrides;
use sdelang::syntax::{self, ast};
use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

/// What the loop does next.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Flow {
    /// Read the next input.
    Continue,
    /// Leave the REPL.
    Quit,
}

/// Commands, for `:help` and completion: (name, arguments, what it does).
pub const COMMANDS: [(&str, &str, &str); 20] = [
    ("help", "", "this list"),
    ("quit", "", "leave (also :q, Ctrl-D)"),
    (
        "grad",
        "EXPR wrt x, y [at x=1, y=2]",
        "gradient, simplified (and its value at a point)",
    ),
    (
        "hess",
        "EXPR wrt x, y [at x=1, y=2]",
        "Hessian, simplified (and its value at a point)",
    ),
    (
        "derive",
        "[EXPR wrt x]",
        "the current model's derived quantities (or :grad)",
    ),
    (
        "run",
        "[method] [steps] [chains] [name=value …]",
        "a short run of the current model",
    ),
    (
        "plot",
        "NAME [hist|trace] [svg=FILE]",
        "plot the last run's draws of NAME",
    ),
    (
        "set",
        "NAME=VALUE",
        "override a param, or set a run setting (steps, chains, seed …)",
    ),
    ("unset", "NAME", "drop an override or run setting"),
    ("type", "NAME|EXPR", "what a name is, its type and value"),
    ("shape", "NAME|EXPR", "same as :type"),
    ("load", "FILE", "start over from a model file"),
    (
        "data",
        "[FILE]",
        "bind `data` declarations from a CSV or JSON file; alone, list the files",
    ),
    ("reload", "", "read the file again, keeping what was typed"),
    ("model", "[NAME]", "show or choose the current model"),
    ("list", "", "the definitions in effect"),
    ("forget", "NAME", "drop a typed definition"),
    ("reset", "", "forget everything"),
    ("timings", "", "compile stage times and the last command's time"),
    ("clear", "", "same as :reset"),
];

/// Handles one complete input.
pub fn handle(s: &mut Session, out: &mut Out, text: &str) -> Flow {
    let id = s.add_input(text);
    let start = Instant::now();
    let (flow, what) = match input::parse(id, text) {
        Ok(Input::Empty) => (Flow::Continue, String::new()),
        Ok(Input::Items(items)) => {
            define::define(s, out, items);
            (Flow::Continue, "definition".into())
        }
        Ok(Input::Expr(e)) => {
            let defs = s.defs.clone();
            match eval::evaluate(s, &defs, &e) {
                Ok(v) => {
                    let _ = writeln!(out.text, "{}", eval::format(&v));
                }
                Err(f) => {
                    let f = explain_states(s, f);
                    out.failure(s, &f);
                }
            }
            (Flow::Continue, "evaluation".into())
        }
        Ok(Input::Command(name, rest)) => {
            let at = text.len() - text.trim_start().len() + 1 + name.len();
            let at = at + text.get(at..).map_or(0, |r| r.len() - r.trim_start().len());
            (command(s, out, &name, &rest, id, at), format!(":{name}"))
        }
        Err(d) => {
            out.diags(s, &d, &s.sources);
            (Flow::Continue, String::new())
        }
    };
    if !what.is_empty() {
        s.last_wall = Some((what, start.elapsed()));
    }
    flow
}

/// Adds a note to "unknown name `x`" when `x` is a state of the current model.
fn explain_states(s: &mut Session, mut f: sdelang::pipeline::Failure) -> sdelang::pipeline::Failure {
    let Some(current) = s.current.clone() else {
        return f;
    };
    let defs = s.defs.clone();
    let Ok((_, model)) = s.check(&defs, &Target::Model(current)) else {
        return f;
    };
    for d in &mut f.diagnostics {
        let state = model
            .states
            .iter()
            .find(|st| d.code == "E0101" && d.message == format!("unknown name `{}`", st.name));
        if let Some(st) = state {
            d.notes.push(format!(
                "`{}` is a state of model `{}`: expressions see params, lets and fns; \
                 try `:grad … wrt {}`, or `:plot {}` after `:run`",
                st.name, model.name, st.name, st.name
            ));
        }
    }
    f
}

fn command(
    s: &mut Session,
    out: &mut Out,
    name: &str,
    rest: &str,
    id: sdelang::source::SourceId,
    at: usize,
) -> Flow {
    match name {
        "q" | "quit" | "exit" => return Flow::Quit,
        "h" | "help" | "?" => help(out),
        "grad" | "gradient" => calculus::derivative(s, out, Order::Grad, id, at, rest),
        "hess" | "hessian" => calculus::derivative(s, out, Order::Hess, id, at, rest),
        "derive" if rest.is_empty() => derive_model(s, out),
        "derive" => calculus::derivative(s, out, Order::Grad, id, at, rest),
        "run" | "r" => runcmd::run(s, out, rest),
        "plot" | "p" => plot::plot(s, out, rest),
        "set" => set(s, out, rest),
        "unset" => unset(s, out, rest),
        "type" | "t" | "shape" => type_of(s, out, rest, id, at),
        "load" | "l" => load(s, out, Path::new(rest.trim()), true),
        "reload" => match s.file_path.clone() {
            Some(p) => load(s, out, &p, false),
            None => out.error("no file loaded yet: `:load FILE`"),
        },
        "data" => data(s, out, rest.trim()),
        "model" | "m" => choose_model(s, out, rest.trim()),
        "list" | "ls" => list(s, out),
        "forget" => define::forget(s, out, rest.trim()),
        "reset" | "clear" => {
            let (color, interrupt) = (s.color, std::sync::Arc::clone(&s.interrupt));
            *s = Session::new(color, interrupt);
            out.text.push_str("session cleared\n");
        }
        "timings" => timings(s, out),
        _ => {
            let names: Vec<&str> = COMMANDS.iter().map(|c| c.0).collect();
            let mut msg = format!("unknown command `:{name}`");
            if let Some(best) = did_you_mean(name, names.iter().copied()).first() {
                let _ = write!(msg, "; did you mean `:{best}`?");
            }
            msg.push_str(" (:help lists them)");
            out.error(&msg);
        }
    }
    Flow::Continue
}

fn help(out: &mut Out) {
    out.text.push_str(
        "Type definitions (param, let, fn, model, run, use) to add or replace them, or an\n\
         expression to evaluate it. An unfinished line continues on the next one.\n\n",
    );
    for (name, args, what) in COMMANDS {
        let usage = format!(":{name} {args}");
        let _ = writeln!(out.text, "  {usage:<46} {what}");
    }
    out.text
        .push_str("\nCtrl-C cancels the input or the running command; Ctrl-D leaves.\n");
}

/// `:derive`: the current model's formulas, as `sde derive` prints them.
fn derive_model(s: &mut Session, out: &mut Out) {
    let Some(name) = s.current.clone() else {
        return out.failure(s, &super::session::no_model());
    };
    let defs = s.defs.clone();
    let small = match s.check(&defs, &Target::Model(name.clone())) {
        Ok((_, m)) => m.state_size() <= crate::cli::derive::DENSE_MAX,
        Err(f) => return out.failure(s, &f),
    };
    let build = sdelang::symbolic::BuildOptions {
        hessian: small,
        jacobian: small,
        ..Default::default()
    };
    match s.compile(&defs, &Target::Model(name), build, &[]) {
        Ok(c) => out.text.push_str(&crate::cli::derive::formulas(&c)),
        Err(f) => out.failure(s, &f),
    }
}

/// `:set name=value` (a param override or a run setting), or `:set` alone to list them.
fn set(s: &mut Session, out: &mut Out, rest: &str) {
    if rest.trim().is_empty() {
        return show_settings(s, out);
    }
    let Some((name, value)) = rest.split_once('=') else {
        return out.error("usage: :set NAME=VALUE");
    };
    let name = name.trim();
    let is_param = s
        .effective(&s.defs)
        .iter()
        .any(|d| d.key == Key::Value(name.to_string()) && matches!(d.item, ast::Item::Param(_)));
    if RUN_SETTINGS.contains(&name) && !is_param {
        let (mut o, mut dir) = (s.run_settings.clone(), s.out_dir.clone());
        if let Err(e) = runcmd::set(&mut o, &mut dir, name, value) {
            return out.error(&e);
        }
        s.run_settings = o;
        s.out_dir = dir;
        let _ = writeln!(out.text, "{name} = {}  (run setting)", value.trim());
        return;
    }
    let kept = s.overrides.clone();
    s.overrides.retain(|(n, _)| n != name);
    s.overrides
        .push((name.to_string(), format!("{name}={}", value.trim())));
    let current = s.current.clone();
    let defs = s.defs.clone();
    match define::validate(s, &defs, &[], current.as_deref()) {
        Ok(checked) => {
            s.bump();
            let value = checked.model.params.iter().rev().find(|p| p.name == name);
            match value {
                Some(p) => {
                    let _ = writeln!(out.text, "{name} = {}", eval::format_param(&p.value));
                }
                None => {
                    let _ = writeln!(out.text, "{name} = {}", value_text(rest));
                }
            }
        }
        Err(f) => {
            s.overrides = kept;
            out.failure(s, &f);
        }
    }
}

fn value_text(rest: &str) -> &str {
    rest.split_once('=').map_or("", |(_, v)| v.trim())
}

fn show_settings(s: &Session, out: &mut Out) {
    if s.overrides.is_empty() && s.run_settings_empty() {
        out.text.push_str("nothing set\n");
    }
    for (_, text) in &s.overrides {
        let _ = writeln!(out.text, "{text}");
    }
    let o = &s.run_settings;
    let fields: [(&str, Option<String>); 9] = [
        ("method", o.method.clone()),
        ("steps", o.steps.map(|v| v.to_string())),
        ("chains", o.chains.map(|v| v.to_string())),
        ("warmup", o.warmup.map(|v| v.to_string())),
        ("thin", o.thin.map(|v| v.to_string())),
        ("seed", o.seed.map(|v| v.to_string())),
        ("temperature", o.temperature.map(|v| v.to_string())),
        ("dt", o.dt.map(|v| v.to_string())),
        ("t0", o.t0.map(|v| v.to_string())),
    ];
    for (name, v) in fields {
        if let Some(v) = v {
            let _ = writeln!(out.text, "{name} = {v}  (run setting)");
        }
    }
    if let Some(d) = &s.out_dir {
        let _ = writeln!(out.text, "out = {}  (run setting)", d.display());
    }
}

impl Session {
    fn run_settings_empty(&self) -> bool {
        let o = &self.run_settings;
        self.out_dir.is_none()
            && o.method.is_none()
            && o.steps.is_none()
            && o.chains.is_none()
            && o.warmup.is_none()
            && o.thin.is_none()
            && o.seed.is_none()
            && o.temperature.is_none()
            && o.dt.is_none()
            && o.t0.is_none()
    }
}

/// `:data FILE`: a data file for the following definitions and runs (as `--data`);
/// `:data` alone lists them.
fn data(s: &mut Session, out: &mut Out, file: &str) {
    if file.is_empty() {
        if s.data_files.is_empty() {
            out.text.push_str("no data files\n");
        }
        for f in &s.data_files {
            let _ = writeln!(out.text, "{}", f.display());
        }
        return;
    }
    let path = Path::new(file);
    if !path.is_file() {
        return out.error(&format!("no file `{file}`"));
    }
    s.data_files.push(path.to_path_buf());
    s.bump();
    let _ = writeln!(out.text, "data from {file}");
}

fn unset(s: &mut Session, out: &mut Out, rest: &str) {
    let name = rest.trim();
    let before = s.overrides.len();
    s.overrides.retain(|(n, _)| n != name);
    let o = &mut s.run_settings;
    let was_run = match name {
        "method" => o.method.take().is_some(),
        "steps" => o.steps.take().is_some(),
        "chains" => o.chains.take().is_some(),
        "warmup" => o.warmup.take().is_some(),
        "thin" => o.thin.take().is_some(),
        "seed" => o.seed.take().is_some(),
        "temperature" => o.temperature.take().is_some(),
        "dt" => o.dt.take().is_some(),
        "t0" => o.t0.take().is_some(),
        "out" => s.out_dir.take().is_some(),
        _ => false,
    };
    if before != s.overrides.len() || was_run {
        s.bump();
        let _ = writeln!(out.text, "unset {name}");
    } else {
        out.error(&format!("`{name}` is not set"));
    }
}

/// `:type NAME` or `:type EXPR`.
fn type_of(s: &mut Session, out: &mut Out, rest: &str, id: sdelang::source::SourceId, at: usize) {
    let name = rest.trim();
    if name.is_empty() {
        return out.error("usage: :type NAME or :type EXPR");
    }
    let defs = s.defs.clone();
    let found = s
        .effective(&defs)
        .into_iter()
        .find(|d| d.key.name() == Some(name))
        .cloned();
    if let Some(line) = named_line(s, &defs, name, found.as_ref()) {
        let _ = writeln!(out.text, "{line}");
        return;
    }
    if found.is_none() {
        if let Some(line) = state_line(s, name) {
            let _ = writeln!(out.text, "{line}");
            return;
        }
        if sdelang::resolve::BUILTINS.contains(&name) {
            let _ = writeln!(out.text, "{name}: builtin function");
            return;
        }
    }
    let expr = match calculus::parse_at(id, at, rest) {
        Ok(e) => e,
        Err(d) => return out.diags(s, &d, &s.sources),
    };
    match eval::shape(s, &defs, &expr) {
        Ok((shape, value)) => {
            let kind = match &found {
                Some(Def {
                    item: ast::Item::Param(_),
                    ..
                }) => "param ",
                Some(Def {
                    item: ast::Item::Let(_),
                    ..
                }) => "let ",
                _ => "",
            };
            let _ = writeln!(
                out.text,
                "{name}: {kind}{} = {}",
                shape.type_name(),
                eval::format_param(&value)
            );
        }
        Err(f) => out.failure(s, &f),
    }
}

/// What `:type` says about a model or a function, or `None` for other names.
fn named_line(s: &mut Session, defs: &[Def], name: &str, found: Option<&Def>) -> Option<String> {
    match &found?.item {
        ast::Item::Model(_) => Some(match s.check(defs, &Target::Model(name.to_string())) {
            Ok((_, m)) => summary(&m),
            Err(f) => s.render(&f.diagnostics, &f.sources),
        }),
        ast::Item::Fn(f) => {
            let params: Vec<&str> = f.params.iter().map(|p| p.name.as_str()).collect();
            let body = s
                .sources
                .get(f.body.span.source)
                .and_then(|file| file.text.get(f.body.span.start..f.body.span.end))
                .unwrap_or("…");
            Some(format!("{name}: fn({}) = {body}", params.join(", ")))
        }
        _ => None,
    }
}

/// `x: state real[2] of model m`, when `name` is a state of the current model.
fn state_line(s: &mut Session, name: &str) -> Option<String> {
    let current = s.current.clone()?;
    let defs = s.defs.clone();
    let (_, m) = s.check(&defs, &Target::Model(current)).ok()?;
    if let Some(p) = m.params.iter().rev().find(|p| p.name == name) {
        let ty = p.value.shape();
        let value = eval::format_param(&p.value);
        return Some(format!("{name}: param {ty} = {value} (in model {})", m.name));
    }
    let st = m.states.iter().find(|st| st.name == name)?;
    let ty = st.len.map_or("real".to_string(), |n| format!("real[{n}]"));
    Some(format!("{name}: state {ty} of model {}", m.name))
}

/// `:load FILE` (fresh: typed definitions are dropped) or `:reload` (they are kept).
fn load(s: &mut Session, out: &mut Out, path: &Path, fresh: bool) {
    if path.as_os_str().is_empty() {
        return out.error("usage: :load FILE");
    }
    s.file_path = Some(path.to_path_buf());
    let text = match std::fs::read(path) {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(e) => return out.error(&format!("cannot read `{}`: {e}", path.display())),
    };
    let id = s
        .sources
        .add(path.display().to_string(), Some(path), text.clone());
    let program = match syntax::parse_program(id, &text) {
        Ok(p) => p,
        Err(d) => return out.diags(s, &d, &s.sources),
    };
    let file = LoadedFile {
        path: path.to_path_buf(),
        defs: split(program.items, None),
    };
    let typed: Vec<Def> = if fresh { Vec::new() } else { s.defs.clone() };
    let old_file = s.file.replace(file);
    let models = s.model_names(&typed);
    let current = s
        .current
        .clone()
        .filter(|c| !fresh && models.contains(c))
        .or_else(|| models.last().cloned());
    let kept_overrides = std::mem::take(&mut s.overrides);
    if !fresh {
        s.overrides = kept_overrides.clone();
    }
    match define::validate(s, &typed, &[], current.as_deref()) {
        Ok(checked) => {
            s.defs = typed;
            s.current = current;
            if fresh {
                s.run_settings = Overrides::default();
                s.last_run = None;
                s.shown.clear();
            }
            s.bump();
            report_load(s, out, path, &checked.model, &models);
        }
        Err(f) => {
            s.file = old_file;
            s.overrides = kept_overrides;
            out.failure(s, &f);
            out.text
                .push_str("(not loaded: the session is unchanged; fix the file and `:reload`)\n");
        }
    }
}

/// What `:load` and `:reload` say after loading.
fn report_load(s: &Session, out: &mut Out, path: &Path, model: &sdelang::model::Model, models: &[String]) {
    let _ = writeln!(out.text, "loaded {}", path.display());
    if s.current.is_some() {
        let _ = writeln!(out.text, "{}  (current model)", summary(model));
    }
    if models.len() > 1 {
        let _ = writeln!(
            out.text,
            "models: {}  (`:model NAME` to switch)",
            models.join(", ")
        );
    }
    let shadowing: Vec<String> = s
        .defs
        .iter()
        .filter(|d| s.file.iter().flat_map(|f| &f.defs).any(|f| f.key == d.key))
        .filter_map(|d| d.key.name().map(str::to_string))
        .collect();
    if !shadowing.is_empty() {
        let _ = writeln!(
            out.text,
            "note: kept what you typed for {} (`:forget NAME` to use the file's)",
            shadowing.join(", ")
        );
    }
}

fn choose_model(s: &mut Session, out: &mut Out, name: &str) {
    let models = s.model_names(&s.defs);
    if name.is_empty() {
        match &s.current {
            Some(c) => {
                let _ = writeln!(out.text, "current model: {c}  (models: {})", models.join(", "));
            }
            None => out.text.push_str("no model yet\n"),
        }
        return;
    }
    if !models.iter().any(|m| m == name) {
        let mut msg = format!("no model named `{name}`");
        if let Some(best) = did_you_mean(name, models.iter().map(String::as_str)).first() {
            let _ = write!(msg, "; did you mean `{best}`?");
        }
        return out.error(&msg);
    }
    let defs = s.defs.clone();
    match define::validate(s, &defs, &[], Some(name)) {
        Ok(c) => {
            s.current = Some(name.to_string());
            s.bump();
            let _ = writeln!(out.text, "{}  (current model)", summary(&c.model));
        }
        Err(f) => out.failure(s, &f),
    }
}

fn list(s: &Session, out: &mut Out) {
    let defs = s.effective(&s.defs);
    if defs.is_empty() {
        out.text.push_str("nothing defined yet\n");
    }
    let file_name = s.file.as_ref().map(|f| f.path.display().to_string());
    let mut seen = Vec::new();
    for d in defs {
        let span = super::session::item_span(&d.item);
        if seen.contains(&span) {
            continue;
        }
        seen.push(span);
        let mut text = define::source_text(s, d);
        if matches!(d.item, ast::Item::Param(_)) {
            text = format!("param {text}");
        }
        let first = text.lines().next().unwrap_or("").to_string();
        let more = if text.lines().count() > 1 { " …" } else { "" };
        let from_file = s.file.iter().flat_map(|f| &f.defs).any(|f| std::ptr::eq(f, d));
        let origin = match (&file_name, from_file) {
            (Some(name), true) => format!("  ({name})"),
            _ => String::new(),
        };
        let _ = writeln!(out.text, "{first}{more}{origin}");
    }
    for (_, o) in &s.overrides {
        let _ = writeln!(out.text, ":set {o}");
    }
}

fn timings(s: &Session, out: &mut Out) {
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
    match &s.timings {
        Some(t) => {
            let _ = writeln!(
                out.text,
                "last compile of the current model: {:.2} ms (parse {:.2}, check {:.2}, symbolic {:.2}, lower {:.2}, codegen {:.2})",
                ms(t.total()),
                ms(t.parse),
                ms(t.check),
                ms(t.symbolic),
                ms(t.lower),
                ms(t.codegen)
            );
        }
        None => out
            .text
            .push_str("no model compiled yet (`:run` compiles the current model)\n"),
    }
    if let Some((what, d)) = &s.last_wall {
        let _ = writeln!(out.text, "last command ({what}): {:.2} ms", ms(*d));
    }
}
