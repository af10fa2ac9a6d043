//! Resolve and check: `ast::Program` (+ imports, + `--set` overrides) → [`model::Model`].
//!
//! What this stage does, in order:
//! 1. loads `use`d modules (`imports.rs`), imports first;
//! 2. declares every module's params, lets and fns in a scope per module, and the
//!    chosen model's params, lets, fns and states in a scope under its module's
//!    (`scope.rs`; duplicates are E0102), then rejects call cycles (`fns.rs`);
//! 3. computes parameter values from defaults or overrides in dependency order
//!    (`params.rs`), then state sizes and initial values;
//! 4. checks energies and SDE equations (`model.rs`), turning every expression
//!    into a scalar [`model::Expr`] (`expr.rs`, `calls.rs`, `vector.rs`), and the
//!    exact marginal laws declared for plots (`exact.rs`);
//! 5. checks the `run` block (`run.rs`).
//!
//! Vocabulary: a *slot* is a declared param/let/fn/state, referred to by a
//! [`cx::Def`]; a *scope* maps names to defs and falls back to its parent;
//! *locals* are fn arguments, `let … in` names and reduction variables; a
//! [`val::Val`] is a checked value: an affine int, a real or bool [`model::Expr`],
//! or a symbolic vector [`val::VecExpr`] that exists only until it is indexed or
//! reduced. *Constant mode* computes values now (params substituted, states
//! and `t` rejected); *model mode* keeps states, `t` and real params symbolic.
//!
//! Errors are collected (an error yields [`val::Val::Error`], which later steps
//! accept silently) and returned sorted by position. Codes: E01xx names, E02xx
//! shapes, E03xx models, E04xx run settings, E05xx params and imports; see
//! `docs/errors.md`.

mod calls;
mod cx;
mod data;
mod ensemble;
mod eval;
mod exact;
mod expr;
mod fns;
mod imports;
mod index;
mod lattice;
mod lookup;
mod matrix;
mod method;
mod model;
mod observables;
mod pair_options;
mod params;
mod particles;
mod run;
mod run_sde;
mod scope;
mod sde;
mod val;
mod vector;

use crate::diagnostic::{sort_by_position, Diagnostic, Severity};
use crate::model::{MethodKind, MethodSpec, Model, Param, ParamValue};
use crate::source::{SourceMap, Span};
use crate::syntax::ast::{self, Item};
use cx::{Checker, Def, ScopeId};
use imports::Module;
use scope::{duplicate, with_suggestions};
use std::path::Path;

/// Everything the checker needs.
pub struct CheckInput<'a> {
    /// The main program.
    pub program: &'a ast::Program,
    /// All sources; imported files are added here.
    pub sources: &'a mut SourceMap,
    /// Where `use name` looks for `name.sde`.
    pub stdlib_dir: Option<&'a Path>,
    /// Where `use "file.sde"` of the main program is resolved from.
    pub base_dir: Option<&'a Path>,
    /// `--set name=value` overrides, replacing defaults before checking.
    pub overrides: &'a [ParamOverride],
    /// `--model name`: which model to check when there are several.
    pub model_name: Option<&'a str>,
    /// The data files binding the program's `data` declarations.
    pub data: Option<&'a crate::data::DataSet>,
}

/// One `--set name=value`.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamOverride {
    /// The parameter's name.
    pub name: String,
    /// The value, parsed with `parse_expr`.
    pub value: ast::Expr,
    /// The whole `name=value` text (on the command line source).
    pub span: Span,
}

/// Facts about a checked model that ahead-of-time compilation needs.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct CheckFacts {
    /// Per parameter (by [`crate::model::ParamId`]): whether its value was used at
    /// compile time (an int, or a real read by another parameter's default, a
    /// size, an initial value or a run setting). Only the others live purely in
    /// the parameter buffer, so only they may change without recompiling.
    pub compile_time: Vec<bool>,
    /// The parameter each name denotes in the model's scope, i.e. what
    /// `--set name=…` sets, sorted by name.
    pub settable: Vec<(String, crate::model::ParamId)>,
}

/// The names of the builtin functions and vector constructors.
pub use scope::BUILTINS;

/// Checks a program and returns its model, or every error found (sorted by position).
pub fn check(input: CheckInput) -> Result<Model, Vec<Diagnostic>> {
    check_with_facts(input).map(|(model, _)| model)
}

/// [`check`], also returning the [`CheckFacts`].
pub fn check_with_facts(input: CheckInput) -> Result<(Model, CheckFacts), Vec<Diagnostic>> {
    let (modules, diags) = imports::load(input.program, input.sources, input.stdlib_dir, input.base_dir);
    let mut cx = Checker::new();
    cx.diags = diags;
    cx.data = input.data;
    let model = check_modules(&mut cx, &modules, input.overrides, input.model_name);
    let mut diags = cx.diags;
    if diags.iter().any(|d| d.severity != Severity::Warning) {
        sort_by_position(&mut diags);
        return Err(diags);
    }
    let model =
        model.ok_or_else(|| vec![Diagnostic::bug("the checker failed without reporting an error")])?;
    let facts = CheckFacts {
        compile_time: (0..model.params.len())
            .map(|slot| {
                cx.compile_time.contains(&slot)
                    || matches!(model.params.get(slot).map(|p| &p.value), Some(ParamValue::Int(_)))
            })
            .collect(),
        settable: cx
            .settable
            .into_iter()
            .map(|(name, slot)| (name, crate::model::ParamId(slot as u32)))
            .collect(),
    };
    Ok((model, facts))
}

/// Checks a `--method` value such as `mala(step = 0.1)`.
pub fn check_method(expr: &ast::Expr) -> Result<MethodSpec, Vec<Diagnostic>> {
    let mut cx = Checker::new();
    let spec = cx.method_spec(expr);
    match spec {
        Some(s) if cx.diags.is_empty() => Ok(s),
        _ => {
            let mut d = cx.diags;
            sort_by_position(&mut d);
            Err(d)
        }
    }
}

/// Evaluates a constant expression (literals, arithmetic, builtins, vector
/// constructors; no names) for a value of `len` components (1 for a scalar), as
/// `--init x=[1, 2]` needs. A scalar fills a vector.
pub fn check_constant(expr: &ast::Expr, len: usize, what: &str) -> Result<Vec<f64>, Vec<Diagnostic>> {
    let mut cx = Checker::new();
    let value = cx.constant(expr);
    if !cx.diags.is_empty() {
        let mut d = cx.diags;
        sort_by_position(&mut d);
        return Err(d);
    }
    let values = match value {
        Some(params::Const::Int(i)) => vec![i as f64; len],
        Some(params::Const::Real(x)) => vec![x; len],
        Some(params::Const::Vector(v) | params::Const::Matrix(_, _, v)) if v.len() == len => v,
        Some(params::Const::Vector(v) | params::Const::Matrix(_, _, v)) => {
            return Err(vec![Diagnostic::error(
                "E0202",
                format!(
                    "{what} has {len} component{}, but the value has {}",
                    if len == 1 { "" } else { "s" },
                    v.len()
                ),
            )
            .with_label(expr.span, format!("a vector of length {}", v.len()))]);
        }
        None => {
            return Err(vec![Diagnostic::error(
                "E0206",
                format!("{what} must be a constant"),
            )
            .with_label(expr.span, "not a constant")])
        }
    };
    Ok(values)
}

/// The integration methods `method = …` accepts, with their argument names in
/// positional order.
pub fn methods() -> impl Iterator<Item = (MethodKind, Vec<&'static str>)> {
    MethodKind::all()
        .iter()
        .map(|k| (*k, crate::model::signature(*k).iter().map(|a| a.name).collect()))
}

/// E0403 if `method` (e.g. from `--method`) does not fit `model` or its noise; E0402 if its `mass` vector
/// fits neither a diagonal nor a dense matrix for the model's state.
pub fn check_method_fits(model: &Model, method: &MethodSpec) -> Result<(), Diagnostic> {
    if let Some(d) = method::method_mismatch(method, model.is_gibbs()) {
        return Err(d);
    }
    if let Some(d) = method::noise_mismatch(method, &model.sdes) {
        return Err(d);
    }
    method::mass_mismatch(method, model.state_size()).map_or(Ok(()), Err)
}

/// A model found in some module.
struct Candidate<'m> {
    module: usize,
    decl: &'m ast::ModelDecl,
}

fn check_modules<'m>(
    cx: &mut Checker<'m>,
    modules: &'m [Module<'_>],
    overrides: &'m [ParamOverride],
    model_name: Option<&str>,
) -> Option<Model> {
    let (scopes, models) = declare_modules(cx, modules);
    let main = modules.len().checked_sub(1)?;
    let chosen = choose_model(cx, &models, main, model_name)?;
    let module_scope = *scopes.get(chosen.module)?;
    let model_scope = cx.declare_model(chosen.decl, module_scope);
    cx.check_fn_cycles();
    cx.scope = Some(model_scope);
    record_settable(cx);
    apply_overrides(cx, overrides);
    cx.size_states();
    cx.particle_sets();
    let params = build_params(cx);
    let states = cx.build_states();
    let mut energy = cx.energies(chosen.decl);
    let (pair_energies, pairs) = cx.pair_terms(chosen.decl);
    energy.extend(pair_energies);
    let noise = cx.noise_decl(chosen.decl);
    let sdes = cx.sdes(chosen.decl, noise.as_ref());
    cx.kind_rules(chosen.decl, &energy, &sdes);
    let observables = cx.observables(chosen.decl, &energy, &pairs);
    let exact = cx.exact_laws(chosen.decl, &params);
    let run_items = run_items(modules, main, chosen.module);
    // The model's kind as written: an SDE that failed to check still makes it an
    // SDE model, so its method is not reported as misfitting on top of the error.
    let declares_sdes = chosen
        .decl
        .items
        .iter()
        .any(|i| matches!(i, crate::syntax::ast::ModelItem::Sde(_)));
    let mut run = cx.run_settings(&run_items, &states, sdes.is_empty() && !declares_sdes);
    if let Some(d) = run.method.as_ref().and_then(|m| method::noise_mismatch(m, &sdes)) {
        cx.report(d);
        run.method = None;
    }
    Some(Model {
        name: chosen.decl.name.name.clone(),
        params,
        states,
        energy,
        sdes,
        noise,
        index_vars: cx.ranges.count(),
        run,
        particles: std::mem::take(&mut cx.sets),
        domain: std::mem::take(&mut cx.domain),
        lists: std::mem::take(&mut cx.lists),
        pairs,
        observables,
        exact,
        span: chosen.decl.span,
    })
}

/// One scope per module (own items, then imported modules' own items) and all models.
fn declare_modules<'m>(
    cx: &mut Checker<'m>,
    modules: &'m [Module<'_>],
) -> (Vec<ScopeId>, Vec<Candidate<'m>>) {
    let mut scopes = Vec::with_capacity(modules.len());
    let mut own: Vec<Vec<(&'m str, Def, Span)>> = Vec::with_capacity(modules.len());
    let mut models = Vec::new();
    for (k, m) in modules.iter().enumerate() {
        let scope = cx.new_scope(None);
        let mut names: Vec<(&'m str, Span)> = Vec::new();
        for item in &m.program.items {
            match item {
                Item::Param(ps) => cx.declare_params(scope, ps),
                Item::Fn(f) => cx.declare_fn(scope, f),
                Item::Let(l) => cx.declare_let(scope, l),
                Item::Model(decl) => {
                    if let Some((_, first)) = names.iter().find(|(n, _)| *n == decl.name.name) {
                        cx.report(duplicate(&decl.name.name, "model", *first, decl.name.span));
                    } else {
                        names.push((&decl.name.name, decl.name.span));
                        models.push(Candidate { module: k, decl });
                    }
                }
                Item::Use(_) | Item::Run(_) => {}
            }
        }
        let items: Vec<(&'m str, Def, Span)> = cx
            .scopes
            .get(scope.0)
            .map(|s| s.names.iter().map(|(n, (d, sp))| (*n, *d, *sp)).collect())
            .unwrap_or_default();
        for i in &m.imports {
            if let Some(imported) = own.get(*i) {
                let imported = imported.clone();
                cx.import_names(scope, &imported);
            }
        }
        own.push(items);
        scopes.push(scope);
    }
    (scopes, models)
}

/// `--model name`, the main file's only model, or an imported file's only model.
fn choose_model<'c, 'm>(
    cx: &mut Checker<'m>,
    models: &'c [Candidate<'m>],
    main: usize,
    name: Option<&str>,
) -> Option<&'c Candidate<'m>> {
    if let Some(name) = name {
        let found = models
            .iter()
            .filter(|c| c.decl.name.name == name)
            .max_by_key(|c| c.module);
        if found.is_none() {
            let d = with_suggestions(
                Diagnostic::error("E0101", format!("no model named `{name}`")),
                name,
                models.iter().map(|c| c.decl.name.name.as_str()),
            );
            cx.report(d);
        }
        return found;
    }
    let own: Vec<&Candidate> = models.iter().filter(|c| c.module == main).collect();
    let pool: Vec<&Candidate> = if own.is_empty() {
        models.iter().collect()
    } else {
        own
    };
    match pool.as_slice() {
        [one] => Some(one),
        [] => {
            cx.report(
                Diagnostic::error("E0305", "no model in this program")
                    .with_help("declare one: `model name { state x: real … }`"),
            );
            None
        }
        many => {
            let names: Vec<&str> = many.iter().map(|c| c.decl.name.name.as_str()).collect();
            let mut d = Diagnostic::error(
                "E0306",
                format!("several models ({}); pick one", names.join(", ")),
            )
            .with_help(format!(
                "run with `--model {}`",
                names.first().copied().unwrap_or("name")
            ));
            for c in many {
                d = d.with_label(c.decl.name.span, "a model");
            }
            cx.report(d);
            None
        }
    }
}

/// Points the named params at their `--set` values (E0502 for unknown names).
fn apply_overrides<'m>(cx: &mut Checker<'m>, overrides: &'m [ParamOverride]) {
    for (k, ov) in overrides.iter().enumerate() {
        if overrides.iter().take(k).any(|o| o.name == ov.name) {
            cx.report(
                Diagnostic::error("E0502", format!("`--set {}` is given more than once", ov.name))
                    .with_label(ov.span, "given again here"),
            );
            continue;
        }
        match cx.lookup_def(&ov.name) {
            Some(Def::Param(slot)) if cx.params.get(slot).is_some_and(|p| p.decl.data.is_some()) => {
                let decl = cx.params.get(slot).map(|p| p.decl.name.span);
                let mut d = Diagnostic::error("E0502", format!("`{}` is data, not a parameter", ov.name))
                    .with_label(ov.span, "in this --set")
                    .with_help(
                        "data values come from files: `--data FILE` or `data = \"FILE\"` in the run block",
                    );
                if let Some(span) = decl {
                    d = d.with_label(span, "declared as data here");
                }
                cx.report(d);
            }
            Some(Def::Param(slot)) => {
                if let Some(p) = cx.params.get_mut(slot) {
                    p.over = Some(&ov.value);
                }
            }
            other => {
                let what = match other {
                    Some(d) => format!("`{}` is a {}, not a parameter", ov.name, d.kind()),
                    None => format!("`--set {}`: no parameter named `{}`", ov.name, ov.name),
                };
                let cands = cx.visible_names(|d| matches!(d, Some(Def::Param(_))));
                let d = with_suggestions(
                    Diagnostic::error("E0502", what).with_label(ov.span, "in this --set"),
                    &ov.name,
                    cands.to_vec(),
                );
                cx.report(d);
            }
        }
    }
}

/// Records what each visible parameter name denotes in the current scope.
fn record_settable(cx: &mut Checker<'_>) {
    let mut names: Vec<String> = cx
        .visible_names(|d| matches!(d, Some(Def::Param(_))))
        .into_iter()
        .map(str::to_string)
        .collect();
    names.dedup();
    cx.settable = names
        .into_iter()
        .filter_map(|n| match cx.lookup_def(&n) {
            // data come from files, never from `--set`
            Some(Def::Param(slot)) if cx.params.get(slot).is_some_and(|p| p.decl.data.is_none()) => {
                Some((n, slot))
            }
            _ => None,
        })
        .collect();
}

/// Every parameter's value, globals first.
fn build_params(cx: &mut Checker<'_>) -> Vec<Param> {
    (0..cx.params.len())
        .filter_map(|slot| {
            let value = cx.param_value(slot).unwrap_or(ParamValue::Real(f64::NAN));
            cx.params.get(slot).map(|p| Param {
                name: p.decl.name.name.clone(),
                value,
                data: p.decl.data.is_some(),
                span: p.decl.span,
            })
        })
        .collect()
}

/// The main program's run blocks, or the chosen model's module's when the main has none.
fn run_items<'m>(modules: &'m [Module<'_>], main: usize, model_module: usize) -> Vec<&'m ast::RunItem> {
    let items = |k: usize| -> Vec<&'m ast::RunItem> {
        modules
            .get(k)
            .map(|m| {
                m.program
                    .items
                    .iter()
                    .filter_map(|i| match i {
                        Item::Run(r) => Some(r.items.iter()),
                        _ => None,
                    })
                    .flatten()
                    .collect()
            })
            .unwrap_or_default()
    };
    let own = items(main);
    if own.is_empty() && model_module != main {
        items(model_module)
    } else {
        own
    }
}

#[cfg(test)]
mod tests;
