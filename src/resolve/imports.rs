//! `use`: loading stdlib modules and files, in dependency order.
//!
//! `use a.b` reads `<stdlib>/a/b.sde`; `use "x.sde"` reads a path relative to the
//! importing file (the base directory for the main program). Each file is loaded
//! once; a file that imports itself through a chain is an import cycle (E0504).
//! The modules come back imports-first, the main program last.

use crate::diagnostic::Diagnostic;
use crate::source::{SourceId, SourceMap, Span};
use crate::syntax::ast::{self, Item, UseTarget};
use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Longest chain of imports followed.
const MAX_IMPORT_DEPTH: usize = 64;

/// One loaded file.
pub(super) struct Module<'a> {
    /// Its syntax tree.
    pub(super) program: Cow<'a, ast::Program>,
    /// The modules it imports, by position in the module list.
    pub(super) imports: Vec<usize>,
}

/// Parses an imported file.
fn parse_file(id: SourceId, text: &str) -> Result<ast::Program, Vec<Diagnostic>> {
    crate::syntax::parse_program(id, text)
}

struct Loader<'s> {
    sources: &'s mut SourceMap,
    stdlib: Option<&'s Path>,
    modules: Vec<Module<'static>>,
    by_path: HashMap<PathBuf, Option<usize>>,
    stack: Vec<PathBuf>,
    diags: Vec<Diagnostic>,
}

/// Loads every module `main` imports, transitively; the main program comes last.
pub(super) fn load<'a>(
    main: &'a ast::Program,
    sources: &mut SourceMap,
    stdlib: Option<&Path>,
    base: Option<&Path>,
) -> (Vec<Module<'a>>, Vec<Diagnostic>) {
    let main_path = main
        .items
        .first()
        .and_then(|i| sources.get(item_span(i).source))
        .and_then(|f| f.path.clone())
        .and_then(|p| p.canonicalize().ok());
    let mut loader = Loader {
        sources,
        stdlib,
        modules: Vec::new(),
        by_path: HashMap::new(),
        stack: main_path.into_iter().collect(),
        diags: Vec::new(),
    };
    let imports = loader.imports(main, base);
    let mut modules: Vec<Module<'a>> = loader
        .modules
        .into_iter()
        .map(|m| Module {
            program: m.program,
            imports: m.imports,
        })
        .collect();
    modules.push(Module {
        program: Cow::Borrowed(main),
        imports,
    });
    (modules, loader.diags)
}

fn item_span(item: &Item) -> Span {
    match item {
        Item::Use(u) => u.span,
        Item::Param(ps) => ps.first().map(|p| p.span).unwrap_or_default(),
        Item::Fn(f) => f.span,
        Item::Let(l) => l.span,
        Item::Model(m) => m.span,
        Item::Run(r) => r.span,
    }
}

impl Loader<'_> {
    fn imports(&mut self, program: &ast::Program, dir: Option<&Path>) -> Vec<usize> {
        let mut out = Vec::new();
        for item in &program.items {
            if let Item::Use(u) = item {
                if let Some(k) = self.load(u, dir) {
                    if !out.contains(&k) {
                        out.push(k);
                    }
                }
            }
        }
        out
    }

    fn resolve(&mut self, u: &ast::UseDecl, dir: Option<&Path>) -> Option<PathBuf> {
        let (path, shown) = match &u.target {
            UseTarget::Path(p) => (
                dir.map_or_else(|| PathBuf::from(p), |d| d.join(p)),
                format!("\"{p}\""),
            ),
            UseTarget::Module(parts) => {
                let name = parts
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(".");
                let Some(root) = self.stdlib else {
                    self.diags.push(
                        Diagnostic::error(
                            "E0503",
                            format!("cannot import `{name}`: no standard library directory"),
                        )
                        .with_label(u.span, "imported here")
                        .with_help("set SDELANG_STDLIB to the stdlib directory"),
                    );
                    return None;
                };
                let mut p = root.to_path_buf();
                parts.iter().for_each(|part| p.push(&part.name));
                p.set_extension("sde");
                (p, format!("`{name}`"))
            }
        };
        if path.is_file() {
            return Some(path);
        }
        self.diags.push(
            Diagnostic::error("E0503", format!("import {shown} not found"))
                .with_label(u.span, "imported here")
                .with_note(format!("looked for {}", path.display())),
        );
        None
    }

    fn load(&mut self, u: &ast::UseDecl, dir: Option<&Path>) -> Option<usize> {
        let path = self.resolve(u, dir)?;
        let canon = path.canonicalize().unwrap_or_else(|_| path.clone());
        if let Some(pos) = self.stack.iter().position(|p| *p == canon) {
            let chain: Vec<String> = self
                .stack
                .iter()
                .skip(pos)
                .chain(std::iter::once(&canon))
                .map(|p| file_name(p))
                .collect();
            self.diags.push(
                Diagnostic::error("E0504", format!("import cycle: {}", chain.join(" → ")))
                    .with_label(u.span, "this import closes the cycle"),
            );
            return None;
        }
        if let Some(known) = self.by_path.get(&canon) {
            return *known;
        }
        if self.stack.len() >= MAX_IMPORT_DEPTH {
            self.diags.push(
                Diagnostic::error("E0504", "imports nested too deeply").with_label(u.span, "imported here"),
            );
            return None;
        }
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(err) => {
                self.diags.push(
                    Diagnostic::error("E0503", format!("cannot read {}: {err}", path.display()))
                        .with_label(u.span, "imported here"),
                );
                return None;
            }
        };
        self.by_path.insert(canon.clone(), None);
        let id = self
            .sources
            .add(path.display().to_string(), Some(&path), text.clone());
        let program = match parse_file(id, &text) {
            Ok(p) => p,
            Err(diags) => {
                self.diags.extend(diags);
                return None;
            }
        };
        self.stack.push(canon.clone());
        let imports = self.imports(&program, canon.parent());
        self.stack.pop();
        self.modules.push(Module {
            program: Cow::Owned(program),
            imports,
        });
        let k = self.modules.len() - 1;
        self.by_path.insert(canon, Some(k));
        Some(k)
    }
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map_or_else(|| p.display().to_string(), |f| f.to_string_lossy().into_owned())
}
