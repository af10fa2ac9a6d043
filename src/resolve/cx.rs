//! The checker's state: scopes, definition slots, locals, index ranges, limits.

use super::index::Ranges;
use super::val::Val;
use crate::diagnostic::Diagnostic;
use crate::model::{Expr, Index, IndexVar, ParamValue};
use crate::source::Span;
use crate::syntax::ast;
use std::collections::HashMap;
use std::rc::Rc;

/// Most user-function calls nested inside one another.
pub(super) const MAX_INLINE_DEPTH: usize = 64;
/// Most expression nodes one model may create.
pub(super) const MAX_NODES: usize = 5_000_000;

/// Whether names of states and time are allowed (model) or not (constants).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Mode {
    /// Param defaults, sizes, initial values, run settings: everything known now.
    Const,
    /// Energies and SDE terms: states, time and real params stay symbolic.
    Model,
}

impl Mode {
    pub(super) fn slot(self) -> usize {
        match self {
            Mode::Const => 0,
            Mode::Model => 1,
        }
    }
}

/// A scope, by position in [`Checker::scopes`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct ScopeId(pub(super) usize);

/// What a name refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Def {
    /// A parameter slot.
    Param(usize),
    /// A `let` slot.
    Let(usize),
    /// A `fn` slot.
    Fn(usize),
    /// A state, by position in the model.
    State(usize),
}

impl Def {
    pub(super) fn kind(self) -> &'static str {
        match self {
            Def::Param(_) => "parameter",
            Def::Let(_) => "let binding",
            Def::Fn(_) => "function",
            Def::State(_) => "state",
        }
    }
}

/// Names of one module or model, with the scope they fall back to.
#[derive(Default)]
pub(super) struct Scope<'m> {
    pub(super) names: HashMap<&'m str, (Def, Span)>,
    pub(super) parent: Option<ScopeId>,
}

/// Progress of a lazily computed definition.
#[derive(Clone, Debug)]
pub(super) enum Slot<T> {
    Todo,
    Busy,
    Done(T),
}

pub(super) struct LetSlot<'m> {
    pub(super) decl: &'m ast::LetDecl,
    pub(super) scope: ScopeId,
    /// One cache per [`Mode`].
    pub(super) value: [Slot<Val>; 2],
}

pub(super) struct FnSlot<'m> {
    pub(super) decl: &'m ast::FnDecl,
    pub(super) scope: ScopeId,
    /// Part of a call cycle (already reported): calls yield an error value.
    pub(super) recursive: bool,
}

pub(super) struct ParamSlot<'m> {
    pub(super) decl: &'m ast::ParamDecl,
    pub(super) scope: ScopeId,
    /// The `--set` value replacing the default.
    pub(super) over: Option<&'m ast::Expr>,
    /// `None` inside `Done` when the value could not be computed (reported).
    pub(super) value: Slot<Option<ParamValue>>,
}

pub(super) struct StateSlot<'m> {
    /// The state's name.
    pub(super) name: &'m ast::Ident,
    /// Its declared type (per particle, for a particle set).
    pub(super) ty: &'m ast::TypeExpr,
    /// Its declared initial value.
    pub(super) init: Option<&'m ast::Expr>,
    /// The whole declaration.
    pub(super) span: Span,
    /// The particle declaration, when the state is the positions of a particle set.
    pub(super) particles: Option<&'m ast::ParticlesDecl>,
    /// `None` scalar, `Some(n)` vector (the flat size of a matrix); `Some(0)` marks
    /// an invalid size (reported).
    pub(super) len: Option<usize>,
    /// `Some(k)` for a matrix `real[n, k]`.
    pub(super) cols: Option<usize>,
}

/// The pair being summed over while a pair term's body is checked: inside it,
/// `p[i] - p[j]` is the minimum-image displacement.
#[derive(Clone)]
pub(super) struct PairCx {
    /// The particle positions.
    pub(super) state: crate::model::StateId,
    /// The two particle indices.
    pub(super) i: IndexVar,
    /// The second index.
    pub(super) j: IndexVar,
    /// The minimum-image displacement `p[i] - p[j]`.
    pub(super) disp: Rc<super::val::VecExpr>,
}

/// The checker.
pub(super) struct Checker<'m> {
    pub(super) scopes: Vec<Scope<'m>>,
    pub(super) lets: Vec<LetSlot<'m>>,
    pub(super) fns: Vec<FnSlot<'m>>,
    pub(super) params: Vec<ParamSlot<'m>>,
    pub(super) states: Vec<StateSlot<'m>>,
    /// The scope names are looked up in (`None`: builtins only).
    pub(super) scope: Option<ScopeId>,
    /// Innermost last: fn arguments, `let … in`, reduction variables.
    pub(super) locals: Vec<(&'m str, Val)>,
    pub(super) mode: Mode,
    pub(super) ranges: Ranges,
    pub(super) inline_depth: usize,
    pub(super) nodes: usize,
    pub(super) too_big_reported: bool,
    pub(super) diags: Vec<Diagnostic>,
    /// Param slots whose value was read in constant mode (see [`super::CheckFacts`]).
    pub(super) compile_time: std::collections::BTreeSet<usize>,
    /// What `--set name` refers to in the chosen model's scope: (name, slot).
    pub(super) settable: Vec<(String, usize)>,
    /// The pair whose term is being checked.
    pub(super) pair: Option<PairCx>,
    /// The particle sets found so far (by state slot).
    pub(super) sets: Vec<crate::model::ParticleSet>,
    /// The model's domain.
    pub(super) domain: crate::model::Domain,
    /// Run-time lists created by pair terms.
    pub(super) lists: Vec<crate::model::List>,
    /// The last placeholder argument id handed out.
    pub(super) next_arg: u32,
    /// The data files binding `data` declarations.
    pub(super) data: Option<&'m crate::data::DataSet>,
}

impl<'m> Checker<'m> {
    pub(super) fn new() -> Checker<'m> {
        Checker {
            scopes: Vec::new(),
            lets: Vec::new(),
            fns: Vec::new(),
            params: Vec::new(),
            states: Vec::new(),
            scope: None,
            locals: Vec::new(),
            mode: Mode::Const,
            ranges: Ranges::default(),
            inline_depth: 0,
            nodes: 0,
            too_big_reported: false,
            diags: Vec::new(),
            compile_time: std::collections::BTreeSet::new(),
            settable: Vec::new(),
            pair: None,
            sets: Vec::new(),
            domain: crate::model::Domain::Open,
            lists: Vec::new(),
            next_arg: 0,
            data: None,
        }
    }

    /// Records a diagnostic.
    pub(super) fn report(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    /// Creates a node, folding constants and counting it against [`MAX_NODES`].
    pub(super) fn mk(&mut self, e: Expr) -> Rc<Expr> {
        self.nodes += 1;
        Rc::new(super::eval::fold(e))
    }

    /// Whether the node budget is spent (reports once, at `span`).
    pub(super) fn over_budget(&mut self, span: Span) -> bool {
        if self.nodes <= MAX_NODES {
            return false;
        }
        if !self.too_big_reported {
            self.too_big_reported = true;
            self.report(
                Diagnostic::error("E0208", "the model expands to too many expression nodes")
                    .with_label(span, format!("expansion passed {MAX_NODES} nodes here"))
                    .with_help(
                        "use indexed reductions (`sum(i in 0..n, …)`) instead of long literal vectors",
                    ),
            );
        }
        true
    }

    /// A fresh index variable over `[lo, hi)`.
    pub(super) fn fresh_var(&mut self, lo: &Index, hi: &Index) -> IndexVar {
        self.ranges.push(lo, hi)
    }

    /// Runs `f` in `scope` with no locals (lexical scoping of lets, fns, params).
    pub(super) fn in_scope<T>(
        &mut self,
        scope: Option<ScopeId>,
        locals: Vec<(&'m str, Val)>,
        f: impl FnOnce(&mut Self) -> T,
    ) -> T {
        let saved_scope = std::mem::replace(&mut self.scope, scope);
        let saved_locals = std::mem::replace(&mut self.locals, locals);
        let out = f(self);
        self.scope = saved_scope;
        self.locals = saved_locals;
        out
    }

    /// Runs `f` in `mode`.
    pub(super) fn in_mode<T>(&mut self, mode: Mode, f: impl FnOnce(&mut Self) -> T) -> T {
        let saved = std::mem::replace(&mut self.mode, mode);
        let out = f(self);
        self.mode = saved;
        out
    }
}
