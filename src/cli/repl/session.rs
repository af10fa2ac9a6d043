//! The session: the definitions typed so far (and those of a loaded file), kept
//! as an ordered list of items, each parsed from its own source so diagnostics
//! point into the line it was typed on. Every change re-checks the whole
//! program; code is generated per generation, on demand, through
//! `sdelang::pipeline` like `sde run` does.

use super::runcmd::LastRun;
use sdelang::diagnostic::Diagnostic;
use sdelang::driver::Overrides;
use sdelang::lower::KernelKind;
use sdelang::model::MethodKind;
use sdelang::model::Model;
use sdelang::pipeline::{self, Compilation, CompileOptions, Failure, Timings};
use sdelang::source::{SourceId, SourceMap, Span};
use sdelang::symbolic::BuildOptions;
use sdelang::syntax::{self, ast};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

/// Prefix of the names the REPL generates (wrapper models, probes).
pub const HIDDEN: &str = "__repl_";

/// What a definition defines: redefining the same key replaces it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Key {
    /// A param, let or fn (they share one namespace).
    Value(String),
    /// A model.
    Model(String),
    /// A run block, for the model it was written with ("" for any model).
    Run(String),
    /// A `use`, by what it names.
    Use(String),
}

impl Key {
    /// The defined name, if any.
    pub fn name(&self) -> Option<&str> {
        match self {
            Key::Value(n) | Key::Model(n) => Some(n),
            Key::Run(_) | Key::Use(_) => None,
        }
    }
}

/// One definition: an item (a `param` declaring several names is split).
#[derive(Clone, Debug)]
pub struct Def {
    /// What it defines.
    pub key: Key,
    /// The item, with spans into the source it was typed in.
    pub item: ast::Item,
}

/// A file loaded with `:load`.
pub struct LoadedFile {
    /// Its path.
    pub path: PathBuf,
    /// Its definitions.
    pub defs: Vec<Def>,
}

/// The model a compilation is for.
pub enum Target {
    /// A model of the session, by name.
    Model(String),
    /// The only model of the program (after `use` of a module with one).
    Auto,
    /// A model the REPL wrote (expression wrapper, derivative target), checked
    /// together with the session's global definitions, without run blocks.
    Synthetic(ast::ModelDecl),
}

/// Everything the REPL remembers between inputs.
pub struct Session {
    /// Every text typed (and the loaded file).
    pub sources: SourceMap,
    /// The loaded file, if any.
    pub file: Option<LoadedFile>,
    /// The path of the last `:load`, kept for `:reload` even when loading failed.
    pub file_path: Option<PathBuf>,
    /// Definitions typed, in order (they hide the file's with the same key).
    pub defs: Vec<Def>,
    /// `:set name=value` parameter overrides: (name, `name=value`).
    pub overrides: Vec<(String, String)>,
    /// Run settings set with `:set` (steps, chains, method …).
    pub run_settings: Overrides,
    /// Data files given with `:data FILE`, searched before a run block's (as `--data`).
    pub data_files: Vec<PathBuf>,
    /// The model `:run`, `:derive` and `:plot` work on.
    pub current: Option<String>,
    /// Bumped on every change of definitions or overrides.
    pub generation: u64,
    /// Code for the current model, for the generation it was made in.
    pub cache: Option<(u64, Option<String>, Rc<Compilation>)>,
    /// The last finished run.
    pub last_run: Option<LastRun>,
    /// Stage times of the last compilation.
    pub timings: Option<Timings>,
    /// Wall time of the last command.
    pub last_wall: Option<(String, Duration)>,
    /// Colour diagnostics.
    pub color: bool,
    /// Inputs read so far (names the sources `<input N>`).
    pub inputs: usize,
    /// Set by Ctrl-C; a running command stops when it sees it.
    pub interrupt: Arc<AtomicBool>,
    /// Where runs write their CSV files unless told otherwise.
    pub out_root: PathBuf,
    /// `:set out=DIR`: where runs write instead.
    pub out_dir: Option<PathBuf>,
    /// The value last printed for each name (to show what a redefinition changed).
    pub shown: std::collections::HashMap<String, String>,
}

impl Session {
    /// A fresh session.
    pub fn new(color: bool, interrupt: Arc<AtomicBool>) -> Session {
        let out_root = std::env::temp_dir().join(format!("sdelang-repl-{}", std::process::id()));
        Session {
            sources: SourceMap::new(),
            file: None,
            file_path: None,
            defs: Vec::new(),
            overrides: Vec::new(),
            data_files: Vec::new(),
            run_settings: Overrides::default(),
            current: None,
            generation: 0,
            cache: None,
            last_run: None,
            timings: None,
            last_wall: None,
            color,
            inputs: 0,
            interrupt,
            out_root,
            out_dir: None,
            shown: std::collections::HashMap::new(),
        }
    }

    /// Adds the text of one input as a source; returns its id.
    pub fn add_input(&mut self, text: &str) -> SourceId {
        self.inputs += 1;
        self.sources.add(format!("<input {}>", self.inputs), None, text)
    }

    /// Renders diagnostics as the compiler does.
    pub fn render(&self, diags: &[Diagnostic], sources: &SourceMap) -> String {
        sdelang::render::render(diags, sources, self.color)
    }

    /// The directory `use "file.sde"` resolves from: the loaded file's, else the working directory.
    pub fn base_dir(&self) -> PathBuf {
        self.file
            .as_ref()
            .and_then(|f| f.path.parent().map(Path::to_path_buf))
            .unwrap_or_else(|| PathBuf::from("."))
    }

    /// The definitions in effect for `typed` (the file's, unless typed again, then the typed ones).
    pub fn effective<'a>(&'a self, typed: &'a [Def]) -> Vec<&'a Def> {
        let hidden = |d: &Def| typed.iter().any(|t| t.key == d.key);
        let file = self.file.iter().flat_map(|f| f.defs.iter());
        file.filter(|d| !hidden(d)).chain(typed).collect()
    }

    /// Every model name defined, in order.
    pub fn model_names(&self, typed: &[Def]) -> Vec<String> {
        self.effective(typed)
            .iter()
            .filter_map(|d| match &d.key {
                Key::Model(n) => Some(n.clone()),
                _ => None,
            })
            .collect()
    }

    /// The program for `target`: the definitions, then the target's model.
    fn assemble(&self, typed: &[Def], target: &Target) -> ast::Program {
        let mut items: Vec<ast::Item> = self
            .effective(typed)
            .into_iter()
            .filter(|d| match (&d.key, target) {
                (Key::Run(_), Target::Synthetic(_)) => false,
                (Key::Run(owner), Target::Model(name)) => owner.is_empty() || owner == name,
                _ => true,
            })
            .map(|d| d.item.clone())
            .collect();
        if let Target::Synthetic(m) = target {
            items.push(ast::Item::Model(m.clone()));
        }
        ast::Program { items }
    }

    /// Names of the global params of the definitions.
    fn global_params(&self, typed: &[Def]) -> Vec<String> {
        self.effective(typed)
            .iter()
            .filter_map(|d| match (&d.key, &d.item) {
                (Key::Value(n), ast::Item::Param(_)) => Some(n.clone()),
                _ => None,
            })
            .collect()
    }

    /// Compile options for `target`: the `:set` overrides that apply to it.
    fn options(&self, typed: &[Def], target: &Target) -> CompileOptions {
        let all = || self.overrides.iter().map(|(_, s)| s.clone()).collect();
        let (model, overrides) = match target {
            Target::Model(name) => (Some(name.clone()), all()),
            Target::Auto => (None, all()),
            Target::Synthetic(m) => {
                let globals = self.global_params(typed);
                let ov = self
                    .overrides
                    .iter()
                    .filter(|(n, _)| globals.contains(n))
                    .map(|(_, s)| s.clone())
                    .collect();
                (Some(m.name.name.clone()), ov)
            }
        };
        CompileOptions {
            overrides,
            model,
            data: self.data_files.clone(),
            ..CompileOptions::default()
        }
    }

    /// Checks the program for `target` with the typed definitions `typed`.
    pub fn check(&self, typed: &[Def], target: &Target) -> Result<(SourceMap, Model), Failure> {
        let program = self.assemble(typed, target);
        let options = self.options(typed, target);
        pipeline::check_program(self.sources.clone(), &program, Some(&self.base_dir()), &options)
    }

    /// Compiles the program for `target` to machine code.
    pub fn compile(
        &self,
        typed: &[Def],
        target: &Target,
        build: BuildOptions,
        kernels: &[KernelKind],
    ) -> Result<Compilation, Failure> {
        let program = self.assemble(typed, target);
        let mut options = self.options(typed, target);
        options.build = build;
        options.kernels = kernels.to_vec();
        pipeline::compile_program(self.sources.clone(), &program, Some(&self.base_dir()), &options)
    }

    /// The code for the current model's runs, compiled once per generation and per
    /// method that needs derivatives of its own (`method`, the `:run` method if any: the
    /// Hessian of Newton–Langevin, the minibatch gradient of SGLD and SGHMC).
    pub fn current_code(&mut self, method: Option<&str>) -> Result<Rc<Compilation>, Failure> {
        let Some(name) = self.current.clone() else {
            return Err(no_model());
        };
        let special = method
            .filter(|m| {
                let head = m.split('(').next().unwrap_or("").trim();
                MethodKind::from_name(head).is_some_and(|k| k.needs_hessian() || k.needs_minibatch())
            })
            .map(str::to_string);
        if let Some((generation, m, c)) = &self.cache {
            if *generation == self.generation && *m == special {
                return Ok(Rc::clone(c));
            }
        }
        self.cache = None;
        let kernels = [
            KernelKind::Energy,
            KernelKind::EnergyGrad,
            KernelKind::Grad,
            KernelKind::DriftDiffusion,
            KernelKind::DriftDiffusionDg,
        ];
        let program = self.assemble(&self.defs, &Target::Model(name.clone()));
        let mut options = self.options(&self.defs, &Target::Model(name));
        options.build = BuildOptions::default();
        options.kernels = kernels.to_vec();
        options.method = special.clone();
        let c = pipeline::compile_program(self.sources.clone(), &program, Some(&self.base_dir()), &options)?;
        self.timings = Some(c.timings.clone());
        let c = Rc::new(c);
        self.cache = Some((self.generation, special, Rc::clone(&c)));
        Ok(c)
    }

    /// A model the REPL writes: parsed from `text` (in a source of its own, so a
    /// diagnostic pointing there still renders), for [`Target::Synthetic`].
    pub fn synthetic(&mut self, text: &str) -> Option<ast::ModelDecl> {
        let id = self.synthetic_source(text);
        let program = syntax::parse_program(id, text).ok()?;
        program.items.into_iter().find_map(|i| match i {
            ast::Item::Model(m) => Some(m),
            _ => None,
        })
    }

    /// The source holding generated text, reused when the text is the same.
    fn synthetic_source(&mut self, text: &str) -> SourceId {
        let found = self
            .sources
            .files()
            .find(|(_, f)| f.name == "<repl>" && f.text == text)
            .map(|(id, _)| id);
        found.unwrap_or_else(|| self.sources.add("<repl>", None, text))
    }

    /// The model that checks global definitions when the session has none.
    pub fn check_model(&mut self) -> Option<ast::ModelDecl> {
        let text = format!("model {HIDDEN}check {{ state {HIDDEN}z: real  d{HIDDEN}z = 0 dt }}");
        self.synthetic(&text)
    }

    /// Marks a change: code and derived facts are stale.
    pub fn bump(&mut self) {
        self.generation += 1;
        self.cache = None;
    }
}

/// The failure "no current model".
pub fn no_model() -> Failure {
    Failure {
        sources: SourceMap::new(),
        diagnostics: vec![Diagnostic::error("E0305", "no model in this session")
            .with_help("define one (`model m { state x: real  energy U = x^2 / 2 }`) or `:load` a file")],
    }
}

/// Splits items into definitions (one per name of a multi-name `param`). A
/// run block belongs to the models defined with it, else to `current`.
pub fn split(items: Vec<ast::Item>, current: Option<&str>) -> Vec<Def> {
    let mut models: Vec<String> = items
        .iter()
        .filter_map(|i| match i {
            ast::Item::Model(m) => Some(m.name.name.clone()),
            _ => None,
        })
        .collect();
    if models.is_empty() {
        models.push(current.unwrap_or("").to_string());
    }
    let mut out = Vec::new();
    for item in items {
        match item {
            ast::Item::Param(ps) => {
                for p in ps {
                    out.push(Def {
                        key: Key::Value(p.name.name.clone()),
                        item: ast::Item::Param(vec![p]),
                    });
                }
            }
            ast::Item::Fn(f) => out.push(Def {
                key: Key::Value(f.name.name.clone()),
                item: ast::Item::Fn(f),
            }),
            ast::Item::Let(l) => out.push(Def {
                key: Key::Value(l.name.name.clone()),
                item: ast::Item::Let(l),
            }),
            ast::Item::Model(m) => out.push(Def {
                key: Key::Model(m.name.name.clone()),
                item: ast::Item::Model(m),
            }),
            ast::Item::Run(r) => out.extend(models.iter().map(|m| Def {
                key: Key::Run(m.clone()),
                item: ast::Item::Run(r.clone()),
            })),
            ast::Item::Use(u) => {
                let what = match &u.target {
                    ast::UseTarget::Module(path) => {
                        path.iter().map(|i| i.name.as_str()).collect::<Vec<_>>().join(".")
                    }
                    ast::UseTarget::Path(p) => p.clone(),
                };
                out.push(Def {
                    key: Key::Use(what),
                    item: ast::Item::Use(u),
                });
            }
        }
    }
    out
}

/// `defs` with `new` applied: a definition with an existing key replaces it in place.
pub fn with_defs(defs: &[Def], new: &[Def]) -> Vec<Def> {
    let mut out = defs.to_vec();
    for d in new {
        match out.iter_mut().find(|o| o.key == d.key) {
            Some(slot) => *slot = d.clone(),
            None => out.push(d.clone()),
        }
    }
    out
}

/// The span of a definition's item.
pub fn item_span(item: &ast::Item) -> Option<Span> {
    match item {
        ast::Item::Use(u) => Some(u.span),
        ast::Item::Param(ps) => ps.first().map(|p| p.span),
        ast::Item::Fn(f) => Some(f.span),
        ast::Item::Let(l) => Some(l.span),
        ast::Item::Model(m) => Some(m.span),
        ast::Item::Run(r) => Some(r.span),
    }
}
