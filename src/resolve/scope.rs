//! Names: declaring module and model items, looking names up, "did you mean".
//!
//! Lookup order: locals (innermost first: reduction variables, `let … in`, fn
//! arguments), the current scope and its parents (model → module → nothing),
//! the time `t`, builtins. Items of one scope see each other whatever their order
//! (cycles are reported where they are followed). Model items shadow module items;
//! a module's own items shadow imported ones.

use super::cx::{Checker, Def, FnSlot, LetSlot, ParamSlot, Scope, ScopeId, Slot, StateSlot};
use super::val::Val;
use crate::diagnostic::{did_you_mean, Diagnostic};
use crate::source::Span;
use crate::syntax::ast;

/// Builtin functions (names only; see `calls.rs` for their meaning).
pub const BUILTINS: &[&str] = &[
    "exp",
    "log",
    "log1p",
    "expm1",
    "sqrt",
    "cbrt",
    "sin",
    "cos",
    "tan",
    "tanh",
    "abs",
    "sigmoid",
    "softplus",
    "erf",
    "round",
    "floor",
    "atan2",
    "min",
    "max",
    "logsumexp",
    "norm",
    "dot",
    "sum",
    "prod",
    "mean",
    "cov",
    "wmean",
    "softmax_mean",
    "matvec",
    "outer",
    "transpose",
    "trace",
    "chol",
    "grad",
    "len",
    "fcc",
    "lattice",
    "zeros",
    "ones",
    "fill",
    "linspace",
    "logspace",
];

/// The predefined time name.
pub(super) const TIME: &str = "t";

/// What a name resolved to.
pub(super) enum Found {
    Local(Val),
    Def(Def),
    Time,
    Builtin,
    Missing,
}

impl<'m> Checker<'m> {
    /// A new empty scope under `parent`.
    pub(super) fn new_scope(&mut self, parent: Option<ScopeId>) -> ScopeId {
        self.scopes.push(Scope {
            parent,
            ..Scope::default()
        });
        ScopeId(self.scopes.len() - 1)
    }

    /// Declares `name` in `scope`, reporting a duplicate (E0102) with both spans.
    pub(super) fn declare(&mut self, scope: ScopeId, name: &'m ast::Ident, def: Def) {
        let Some(s) = self.scopes.get_mut(scope.0) else {
            return;
        };
        match s.names.get(name.name.as_str()) {
            Some((old, first)) => {
                let d = duplicate(&name.name, old.kind(), *first, name.span);
                self.report(d);
            }
            None => {
                s.names.insert(&name.name, (def, name.span));
            }
        }
    }

    /// Makes the items of module scope `from` visible in `to` (own items win).
    pub(super) fn import_names(&mut self, to: ScopeId, from_items: &[(&'m str, Def, Span)]) {
        if let Some(s) = self.scopes.get_mut(to.0) {
            for (name, def, span) in from_items {
                s.names.entry(name).or_insert((*def, *span));
            }
        }
    }

    /// Declares a `param` group; returns the new slots' (name, def, span).
    pub(super) fn declare_params(&mut self, scope: ScopeId, decls: &'m [ast::ParamDecl]) {
        for decl in decls {
            self.params.push(ParamSlot {
                decl,
                scope,
                over: None,
                value: Slot::Todo,
            });
            self.declare(scope, &decl.name, Def::Param(self.params.len() - 1));
        }
    }

    /// Declares a `let`.
    pub(super) fn declare_let(&mut self, scope: ScopeId, decl: &'m ast::LetDecl) {
        self.lets.push(LetSlot {
            decl,
            scope,
            value: [Slot::Todo, Slot::Todo],
        });
        self.declare(scope, &decl.name, Def::Let(self.lets.len() - 1));
    }

    /// Declares a `fn`, checking its parameter names are distinct.
    pub(super) fn declare_fn(&mut self, scope: ScopeId, decl: &'m ast::FnDecl) {
        for (k, p) in decl.params.iter().enumerate() {
            if let Some(first) = decl.params.iter().take(k).find(|q| q.name == p.name) {
                self.report(duplicate(&p.name, "function parameter", first.span, p.span));
            }
        }
        self.fns.push(FnSlot {
            decl,
            scope,
            recursive: false,
        });
        self.declare(scope, &decl.name, Def::Fn(self.fns.len() - 1));
    }

    /// Declares a state (its size is computed later).
    pub(super) fn declare_state(&mut self, scope: ScopeId, decl: &'m ast::StateDecl) {
        self.states.push(StateSlot {
            name: &decl.name,
            ty: &decl.ty,
            init: decl.init.as_ref(),
            span: decl.span,
            particles: None,
            len: None,
            cols: None,
        });
        self.declare(scope, &decl.name, Def::State(self.states.len() - 1));
    }

    /// Declares a particle set: a state of shape [count, k] (sized later).
    pub(super) fn declare_particles(&mut self, scope: ScopeId, decl: &'m ast::ParticlesDecl) {
        self.states.push(StateSlot {
            name: &decl.name,
            ty: &decl.ty,
            init: None,
            span: decl.span,
            particles: Some(decl),
            len: None,
            cols: None,
        });
        self.declare(scope, &decl.name, Def::State(self.states.len() - 1));
    }

    /// Resolves a name.
    pub(super) fn lookup(&self, name: &str) -> Found {
        if let Some((_, v)) = self.locals.iter().rev().find(|(n, _)| *n == name) {
            return Found::Local(v.clone());
        }
        if let Some(def) = self.lookup_def(name) {
            return Found::Def(def);
        }
        if name == TIME {
            Found::Time
        } else if BUILTINS.contains(&name) {
            Found::Builtin
        } else {
            Found::Missing
        }
    }

    /// Resolves a name among definitions only (no locals).
    pub(super) fn lookup_def(&self, name: &str) -> Option<Def> {
        let mut scope = self.scope;
        while let Some(id) = scope {
            let s = self.scopes.get(id.0)?;
            if let Some((def, _)) = s.names.get(name) {
                return Some(*def);
            }
            scope = s.parent;
        }
        None
    }

    /// Every name visible here (for suggestions), filtered by `keep`.
    pub(super) fn visible_names(&self, keep: impl Fn(Option<Def>) -> bool) -> Vec<&str> {
        let mut out: Vec<&str> = self
            .locals
            .iter()
            .filter(|_| keep(None))
            .map(|(n, _)| *n)
            .collect();
        let mut scope = self.scope;
        while let Some(s) = scope.and_then(|id| self.scopes.get(id.0)) {
            out.extend(
                s.names
                    .iter()
                    .filter(|(_, (d, _))| keep(Some(*d)))
                    .map(|(n, _)| *n),
            );
            scope = s.parent;
        }
        out.sort_unstable();
        out
    }

    /// E0101 for an unknown name, with suggestions over everything visible.
    pub(super) fn unknown_name(&mut self, name: &str, span: Span) -> Val {
        let mut cands = self.visible_names(|_| true);
        cands.push(TIME);
        cands.extend(BUILTINS);
        let d = with_suggestions(
            Diagnostic::error("E0101", format!("unknown name `{name}`"))
                .with_label(span, "not found in this scope"),
            name,
            cands,
        );
        self.report(d);
        Val::Error
    }
}

/// E0102: `name` defined twice.
pub(super) fn duplicate(name: &str, kind: &str, first: Span, second: Span) -> Diagnostic {
    Diagnostic::error("E0102", format!("`{name}` is defined more than once"))
        .with_label(second, "defined again here")
        .with_label(first, format!("first defined here (as a {kind})"))
}

/// Adds a "did you mean" help line when close names exist.
pub(super) fn with_suggestions<'c>(
    d: Diagnostic,
    name: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Diagnostic {
    let close = did_you_mean(name, candidates);
    match close.as_slice() {
        [] => d,
        [one] => d.with_help(format!("did you mean `{one}`?")),
        many => d.with_help(format!(
            "did you mean one of {}?",
            many.iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}
