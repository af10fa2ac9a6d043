//! Definitions: adding, replacing and forgetting items, each change checked
//! against the whole session before it is kept. A definition that would break
//! the session (its own error, or one it causes in the current model) is not
//! kept, and the session stays as it was.

use super::eval::{self, format_param, Value};
use super::session::{item_span, no_model, split, with_defs, Def, Key, Session, Target};
use super::Out;
use sdelang::diagnostic::{Diagnostic, Severity};
use sdelang::model::Model;
use sdelang::pipeline::Failure;
use sdelang::syntax::ast;
use std::fmt::Write as _;

/// What a successful check found out.
pub struct Checked {
    /// The checked model the definitions were checked with.
    pub model: Model,
    /// The values of the new `let`s.
    pub lets: Vec<(String, Value)>,
    /// The new models, checked.
    pub models: Vec<Model>,
}

/// Checks the session with definitions `typed` (of which `new` are new) and
/// current model `current`.
pub fn validate(
    s: &mut Session,
    typed: &[Def],
    new: &[Def],
    current: Option<&str>,
) -> Result<Checked, Failure> {
    let target = match current {
        Some(name) => Target::Model(name.to_string()),
        None => Target::Synthetic(s.check_model().ok_or_else(no_model)?),
    };
    let (_, model) = s.check(typed, &target)?;
    let mut lets = Vec::new();
    let mut models = Vec::new();
    for d in new {
        match &d.item {
            ast::Item::Let(l) => {
                let name = ast::Expr {
                    kind: ast::ExprKind::Name(l.name.name.clone()),
                    span: l.name.span,
                };
                lets.push((l.name.name.clone(), eval::evaluate(s, typed, &name)?));
            }
            ast::Item::Fn(f) => probe_fn(s, typed, f)?,
            ast::Item::Model(m) if Some(m.name.name.as_str()) != current => {
                models.push(s.check(typed, &Target::Model(m.name.name.clone()))?.1);
            }
            _ => {}
        }
    }
    Ok(Checked { model, lets, models })
}

/// Calls a new function with zeros, and reports the unknown names and
/// functions in its body (other errors may come from the zeros).
fn probe_fn(s: &mut Session, typed: &[Def], f: &ast::FnDecl) -> Result<(), Failure> {
    let zero = ast::Expr {
        kind: ast::ExprKind::Int(0),
        span: f.name.span,
    };
    let call = ast::Expr {
        kind: ast::ExprKind::Call {
            func: f.name.clone(),
            args: f
                .params
                .iter()
                .map(|_| ast::CallArg::Positional(zero.clone()))
                .collect(),
        },
        span: f.name.span,
    };
    let Err(failure) = eval::shape(s, typed, &call) else {
        return Ok(());
    };
    let inside = |d: &Diagnostic| {
        d.labels.first().is_some_and(|l| {
            l.span.source == f.span.source
                && l.span.start >= f.body.span.start
                && l.span.end <= f.body.span.end
        })
    };
    let real: Vec<Diagnostic> = failure
        .diagnostics
        .iter()
        .filter(|d| {
            d.severity == Severity::Bug || (matches!(d.code, "E0101" | "E0104" | "E0105") && inside(d))
        })
        .cloned()
        .collect();
    if real.is_empty() {
        Ok(())
    } else {
        Err(Failure {
            sources: failure.sources,
            diagnostics: real,
        })
    }
}

/// Adds (or replaces) the definitions of one input.
pub fn define(s: &mut Session, out: &mut Out, items: Vec<ast::Item>) {
    let new = split(items, s.current.as_deref());
    let typed = with_defs(&s.defs, &new);
    let current = new
        .iter()
        .rev()
        .find_map(|d| match &d.key {
            Key::Model(n) => Some(n.clone()),
            _ => None,
        })
        .or_else(|| s.current.clone());
    let kept_overrides = s.overrides.clone();
    s.overrides
        .retain(|(n, _)| !new.iter().any(|d| d.key == Key::Value(n.clone())));
    let checked = match validate(s, &typed, &new, current.as_deref()) {
        Ok(c) => c,
        Err(f) => {
            s.overrides = kept_overrides;
            out.failure(s, &f);
            out.text.push_str("(not defined: the session is unchanged)\n");
            return;
        }
    };
    let existed: Vec<bool> = new
        .iter()
        .map(|d| s.effective(&s.defs).iter().any(|e| e.key == d.key))
        .collect();
    s.defs = typed;
    s.current = current;
    s.bump();
    for (d, redefined) in new.iter().zip(existed) {
        report(s, out, d, &checked, redefined);
    }
    if new.iter().any(|d| matches!(d.key, Key::Use(_))) && s.current.is_none() {
        adopt_imported_model(s, out);
    }
}

/// After `use`, with no model of its own, the session runs the imported one.
fn adopt_imported_model(s: &mut Session, out: &mut Out) {
    let defs = s.defs.clone();
    let program_check = s.check(&defs, &Target::Auto);
    if let Ok((_, m)) = program_check {
        let _ = writeln!(out.text, "current model: {}", summary(&m));
        s.current = Some(m.name);
    }
}

/// One line about a new definition.
fn report(s: &mut Session, out: &mut Out, d: &Def, checked: &Checked, redefined: bool) {
    let line = match &d.item {
        ast::Item::Param(ps) => ps.first().and_then(|p| {
            let found = checked
                .model
                .params
                .iter()
                .find(|q| q.name == p.name.name && q.span == p.span);
            found.map(|q| value_line(s, &q.name, &format_param(&q.value)))
        }),
        ast::Item::Let(l) => checked
            .lets
            .iter()
            .find(|(n, _)| *n == l.name.name)
            .map(|(n, v)| value_line(s, n, &eval::format(v))),
        ast::Item::Fn(f) => {
            let params: Vec<&str> = f.params.iter().map(|p| p.name.as_str()).collect();
            Some(format!("defined {}({})", f.name.name, params.join(", ")))
        }
        ast::Item::Model(m) => {
            let model = if checked.model.name == m.name.name {
                Some(&checked.model)
            } else {
                checked.models.iter().find(|x| x.name == m.name.name)
            };
            model.map(|m| {
                let current = s.current.as_deref() == Some(m.name.as_str());
                format!("{}{}", summary(m), if current { "  (current model)" } else { "" })
            })
        }
        ast::Item::Run(_) => Some("run settings updated".to_string()),
        ast::Item::Use(_) => match &d.key {
            Key::Use(what) => Some(format!("using {what}")),
            _ => None,
        },
    };
    if let Some(mut line) = line {
        if redefined && !line.contains("(was ") {
            line.push_str("  (redefined)");
        }
        let _ = writeln!(out.text, "{line}");
    }
}

/// `name = value`, with the previous value when it changed.
fn value_line(s: &mut Session, name: &str, value: &str) -> String {
    let old = s.shown.insert(name.to_string(), value.to_string());
    match old {
        Some(old) if old != value => format!("{name} = {value}  (was {old})"),
        _ => format!("{name} = {value}"),
    }
}

/// `model m: energy model, state x: real[2]; params beta`.
pub fn summary(m: &Model) -> String {
    let kind = if m.is_gibbs() { "energy model" } else { "SDE model" };
    let states: Vec<String> = m
        .states
        .iter()
        .map(|st| match st.len {
            Some(n) => format!("{}: real[{n}]", st.name),
            None => format!("{}: real", st.name),
        })
        .collect();
    let mut text = format!("model {}: {kind}, state {}", m.name, states.join(", "));
    let params: Vec<&str> = m
        .params
        .iter()
        .map(|p| p.name.as_str())
        .filter(|n| !n.starts_with(super::session::HIDDEN))
        .collect();
    if !params.is_empty() {
        let _ = write!(text, "; params {}", params.join(", "));
    }
    text
}

/// `:forget NAME`: drops a typed definition (the loaded file's, if any, applies again).
pub fn forget(s: &mut Session, out: &mut Out, name: &str) {
    let matches = |k: &Key| k.name() == Some(name);
    if !s.defs.iter().any(|d| matches(&d.key)) {
        let known: Vec<String> = s
            .defs
            .iter()
            .filter_map(|d| d.key.name().map(str::to_string))
            .collect();
        let mut msg = format!("no typed definition of `{name}`");
        if let Some(best) = sdelang::diagnostic::did_you_mean(name, known.iter().map(String::as_str)).first()
        {
            let _ = write!(msg, "; did you mean `{best}`?");
        }
        return out.error(&msg);
    }
    let typed: Vec<Def> = s.defs.iter().filter(|d| !matches(&d.key)).cloned().collect();
    let models = s.model_names(&typed);
    let current = s
        .current
        .clone()
        .filter(|c| models.contains(c))
        .or_else(|| models.last().cloned());
    match validate(s, &typed, &[], current.as_deref()) {
        Ok(_) => {
            let from_file = s.effective(&typed).iter().any(|d| matches(&d.key));
            s.defs = typed;
            s.current = current;
            s.shown.remove(name);
            s.bump();
            let note = if from_file {
                " (the loaded file's definition applies again)"
            } else {
                ""
            };
            let _ = writeln!(out.text, "forgot {name}{note}");
        }
        Err(f) => {
            out.failure(s, &f);
            out.text.push_str("(not forgotten: other definitions need it)\n");
        }
    }
}

/// The text of a definition as typed.
pub fn source_text(s: &Session, d: &Def) -> String {
    item_span(&d.item)
        .and_then(|sp| {
            let file = s.sources.get(sp.source)?;
            let text = file.text.get(sp.start..sp.end)?;
            Some(text.to_string())
        })
        .unwrap_or_default()
}
