//! The abstract syntax tree produced by the parser.
//!
//! Every node carries the byte [`Span`] it was parsed from. Literals are already
//! parsed into numbers. Nothing here is resolved: names are plain strings.

use crate::source::Span;

/// A whole `.sde` file.
#[derive(Clone, Debug, PartialEq)]
pub struct Program {
    /// Top-level items in source order.
    pub items: Vec<Item>,
}

/// A name as written, with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    /// The identifier's text.
    pub name: String,
    /// Where it was written.
    pub span: Span,
}

/// A top-level item.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// `use double_well` or `use "path/to/file.sde"`.
    Use(UseDecl),
    /// `param beta = 4.0, gamma = 1`.
    Param(Vec<ParamDecl>),
    /// `fn softplus(z) = log1p(exp(z))`.
    Fn(FnDecl),
    /// `let c = 2 * beta`.
    Let(LetDecl),
    /// `model name { … }`.
    Model(ModelDecl),
    /// `run { … }`.
    Run(RunBlock),
}

/// What a `use` names.
#[derive(Clone, Debug, PartialEq)]
pub enum UseTarget {
    /// `use double_well` or `use physics.double_well`: a module of `stdlib/`.
    Module(Vec<Ident>),
    /// `use "relative/path.sde"`: a file relative to the importing file.
    Path(String),
}

/// `use …`.
#[derive(Clone, Debug, PartialEq)]
pub struct UseDecl {
    /// The imported module or file.
    pub target: UseTarget,
    /// The whole declaration.
    pub span: Span,
}

/// A type annotation: `real`, `int`, `real[n]`.
#[derive(Clone, Debug, PartialEq)]
pub enum TypeExpr {
    /// `real`.
    Real(Span),
    /// `int`.
    Int(Span),
    /// `real[n]`, `real[n, k]`, `int[n]`, `int[n, k]`: an array of one or two
    /// dimensions; each size is an integer expression of int params and literals.
    Array {
        /// Integer elements (`int[…]`) rather than real ones.
        int: bool,
        /// The size of each dimension (one or two).
        dims: Vec<Expr>,
        /// The whole annotation.
        span: Span,
    },
}

impl TypeExpr {
    /// The annotation's span.
    pub fn span(&self) -> Span {
        match self {
            TypeExpr::Real(s) | TypeExpr::Int(s) => *s,
            TypeExpr::Array { span, .. } => *span,
        }
    }

    /// The size expressions of an array type (none for scalars).
    pub fn dims(&self) -> &[Expr] {
        match self {
            TypeExpr::Array { dims, .. } => dims,
            _ => &[],
        }
    }

    /// Moves the size expressions out of an array type.
    pub fn into_dims(self) -> Vec<Expr> {
        match self {
            TypeExpr::Array { dims, .. } => dims,
            _ => Vec::new(),
        }
    }
}

/// One `name (: type)? (= default)?` of a `param` declaration.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamDecl {
    /// The parameter's name.
    pub name: Ident,
    /// Its declared type, if written.
    pub ty: Option<TypeExpr>,
    /// Its default value, if written.
    pub default: Option<Expr>,
    /// `Some` for a `data` declaration: the value comes from a data file.
    pub data: Option<DataSpec>,
    /// The whole binding.
    pub span: Span,
}

/// What a `data` declaration says about where its value comes from.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct DataSpec {
    /// `= columns("x0".."x30")`: the CSV columns holding it, in order (empty: by name).
    pub columns: Vec<ColumnSpec>,
    /// The `columns(…)` call, if written.
    pub columns_span: Option<Span>,
}

/// One argument of `columns(…)`.
#[derive(Clone, Debug, PartialEq)]
pub enum ColumnSpec {
    /// `"x0"`: one column.
    One(String, Span),
    /// `"x0".."x30"`: the columns from the first to the last, both included, whose
    /// names share a prefix and end in consecutive numbers.
    Range(String, String, Span),
}

/// `fn name(a, b) = body`.
#[derive(Clone, Debug, PartialEq)]
pub struct FnDecl {
    /// The function's name.
    pub name: Ident,
    /// Parameter names (all scalar or vector, decided at the call site).
    pub params: Vec<Ident>,
    /// The body expression.
    pub body: Expr,
    /// The whole declaration.
    pub span: Span,
}

/// `let name = value`.
#[derive(Clone, Debug, PartialEq)]
pub struct LetDecl {
    /// The bound name.
    pub name: Ident,
    /// The value.
    pub value: Expr,
    /// The whole declaration.
    pub span: Span,
}

/// `model name { items }`.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelDecl {
    /// The model's name.
    pub name: Ident,
    /// Its items in source order.
    pub items: Vec<ModelItem>,
    /// The whole model.
    pub span: Span,
}

/// An item inside a model.
// SDE equations are the largest items; boxing them would only add noise to every match.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum ModelItem {
    /// A model-local `param`.
    Param(Vec<ParamDecl>),
    /// A model-local `let`.
    Let(LetDecl),
    /// A model-local `fn`.
    Fn(FnDecl),
    /// `state x: real[2] (= init)?`.
    State(StateDecl),
    /// `energy U = …`.
    Energy(EnergyDecl),
    /// `dX = f dt + g dW`.
    Sde(SdeEquation),
    /// `noise W: real[m]`.
    Noise(NoiseDecl),
    /// `particles p[N]: real[3] in periodic(L), mass = m`.
    Particles(ParticlesDecl),
    /// `pair lj(r) = …, cutoff = 2.5` or `bond spring(r) = …, pairs = b`.
    Pair(PairDecl),
    /// `observe name = expression`.
    Observe(ObserveDecl),
    /// `exact x[k] ~ family(args)` or `exact x[k] = density`.
    Exact(ExactDecl),
}

/// `particles name[count]: real[k] (in domain)? (, option = value)*`: a set of
/// `count` particles, each with a position in R^k (a state of shape [count, k]).
#[derive(Clone, Debug, PartialEq)]
pub struct ParticlesDecl {
    /// The set's name (also the name of its position state).
    pub name: Ident,
    /// The number of particles.
    pub count: Expr,
    /// `real` (one coordinate) or `real[k]`.
    pub ty: TypeExpr,
    /// `periodic(L)` or `periodic([Lx, Ly, Lz])`; open space when absent.
    pub domain: Option<Expr>,
    /// `mass = …` and other named options.
    pub options: Vec<(Ident, Expr)>,
    /// The whole declaration.
    pub span: Span,
}

/// Which kind of pair term a [`PairDecl`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PairKind {
    /// `pair`: every unordered pair of particles (within the cutoff, if any).
    Pair,
    /// `bond`: the pairs listed by the `pairs` option.
    Bond,
}

/// One name bound by a pair term: the distance `r`, or a particle index
/// `i` (optionally `i in p`).
#[derive(Clone, Debug, PartialEq)]
pub struct PairBinder {
    /// The bound name.
    pub name: Ident,
    /// `p` in `i in p`: the particle set the index runs over.
    pub set: Option<Ident>,
}

/// `pair name(binders) = body (, option = value)*`: an energy term summed over
/// pairs of particles.
#[derive(Clone, Debug, PartialEq)]
pub struct PairDecl {
    /// `pair` or `bond`.
    pub kind: PairKind,
    /// The term's name.
    pub name: Ident,
    /// `(r)`, `(i, j)` or `(r, i, j)`.
    pub binders: Vec<PairBinder>,
    /// The pair energy.
    pub body: Expr,
    /// `cutoff = …`, `shift = …`, `skin = …`, `pairs = …`.
    pub options: Vec<(Ident, Expr)>,
    /// The whole declaration.
    pub span: Span,
}

/// `observe name = value`: a quantity recorded with every draw, or a special
/// observable such as `rdf(p, r_max = 4)`.
#[derive(Clone, Debug, PartialEq)]
pub struct ObserveDecl {
    /// The observable's name (its column).
    pub name: Ident,
    /// Its value.
    pub value: Expr,
    /// The whole declaration.
    pub span: Span,
}

/// `state name: type (= init)?`.
#[derive(Clone, Debug, PartialEq)]
pub struct StateDecl {
    /// The state's name.
    pub name: Ident,
    /// `real` or `real[n]`.
    pub ty: TypeExpr,
    /// Initial value, if written.
    pub init: Option<Expr>,
    /// The whole declaration.
    pub span: Span,
}

/// `energy name = value`: a term of the Gibbs energy U (target ∝ exp(−U/T)).
#[derive(Clone, Debug, PartialEq)]
pub struct EnergyDecl {
    /// The term's name.
    pub name: Ident,
    /// The energy expression (a scalar).
    pub value: Expr,
    /// The whole declaration.
    pub span: Span,
}

/// How the stochastic integral of an SDE is read: the marker written before an
/// equation (the checker turns it into an α in [0, 1]).
#[derive(Clone, Debug, PartialEq)]
pub enum Convention {
    /// `ito` (α = 0, the default).
    Ito,
    /// `stratonovich` (α = ½, ∘dW).
    Stratonovich,
    /// A named convention such as `anti_ito` or `hanggi` (α = 1).
    Named(Ident),
    /// `alpha(a)`: any α in [0, 1].
    Call(Ident, Vec<CallArg>),
}

/// `(convention)? dX([i])? = drift dt + coeff dW([i|j])?`, or `dX = langevin(…)`.
#[derive(Clone, Debug, PartialEq)]
pub struct SdeEquation {
    /// The explicit convention marker and its span, if written.
    pub convention: Option<(Convention, Span)>,
    /// The left-hand side as written, e.g. `dS` (the checker strips the `d`).
    pub lhs: Ident,
    /// `i` in `dx[i] = …`, if written.
    pub index: Option<Ident>,
    /// The `… dt` term, if any.
    pub drift: Option<Expr>,
    /// The `… dW` term, if any.
    pub noise: Option<NoiseTerm>,
    /// `langevin(D = …, kT = …)` in place of the drift and noise terms.
    pub langevin: Option<LangevinRhs>,
    /// The whole equation.
    pub span: Span,
}

/// `langevin(args)`: overdamped Langevin dynamics in the model's energy.
#[derive(Clone, Debug, PartialEq)]
pub struct LangevinRhs {
    /// The name as written (`langevin`; anything else is reported by the checker).
    pub func: Ident,
    /// Its arguments (`D = …`, `kT = …`, `consistent = …`).
    pub args: Vec<CallArg>,
    /// The whole call.
    pub span: Span,
}

/// `noise W: real[m]`: the model's Wiener process, shared by every equation
/// that writes `dW`.
#[derive(Clone, Debug, PartialEq)]
pub struct NoiseDecl {
    /// Its name (`W`).
    pub name: Ident,
    /// `real` (one Wiener process) or `real[m]`.
    pub ty: TypeExpr,
    /// The whole declaration.
    pub span: Span,
}

/// `exact x[k] ~ family(args)` or `exact x[k] = density`: the exact marginal law of one
/// state component (drawn over its histogram by `sde plot`).
#[derive(Clone, Debug, PartialEq)]
pub struct ExactDecl {
    /// The state.
    pub state: Ident,
    /// `k` in `x[k]`, if written.
    pub index: Option<Expr>,
    /// The law.
    pub law: ExactLaw,
    /// The whole item.
    pub span: Span,
}

/// The right-hand side of an `exact` item.
#[derive(Clone, Debug, PartialEq)]
pub enum ExactLaw {
    /// `~ family(args)`: a named distribution.
    Family {
        /// The family's name as written.
        name: Ident,
        /// Its arguments.
        args: Vec<CallArg>,
        /// The call.
        span: Span,
    },
    /// `= expr`: an unnormalised density written in terms of the component.
    Density(Expr),
}

/// `coeff dW([i])?` (a leading `-` is folded into `coeff` as a negation).
#[derive(Clone, Debug, PartialEq)]
pub struct NoiseTerm {
    /// The diffusion coefficient.
    pub coeff: Expr,
    /// `i` in `dW[i]`, if written.
    pub index: Option<Ident>,
    /// The span of the `dW` (or `dW[i]`) token(s).
    pub dw_span: Span,
    /// The whole term.
    pub span: Span,
}

/// `run { items }`.
#[derive(Clone, Debug, PartialEq)]
pub struct RunBlock {
    /// Settings in source order.
    pub items: Vec<RunItem>,
    /// The whole block.
    pub span: Span,
}

/// One setting of a `run` block.
#[derive(Clone, Debug, PartialEq)]
pub enum RunItem {
    /// `name = value` (value is an expression; `method = mala(step = 0.05)` is a call).
    Setting {
        /// The setting's name (`dt` is accepted here although it is a keyword).
        name: Ident,
        /// Its value.
        value: Expr,
        /// The whole setting.
        span: Span,
    },
    /// `init x = [0, 0]`.
    Init {
        /// The state being initialised.
        name: Ident,
        /// Its initial value.
        value: Expr,
        /// The whole setting.
        span: Span,
    },
    /// `init x ~ normal(0, 1)`: every component drawn independently, per chain.
    InitDraw {
        /// The state being initialised.
        name: Ident,
        /// The law, a call `normal(mean, sd)` or `uniform(lo, hi)`.
        law: Expr,
        /// The whole setting.
        span: Span,
    },
    /// `name = "text"`: a setting whose value is a word (`output = "cmdstan"`).
    Text {
        /// The setting's name.
        name: Ident,
        /// The text between the quotes, with its span.
        value: (String, Span),
        /// The whole setting.
        span: Span,
    },
    /// `data = "file.csv"` or `data = ["a.json", "b.csv"]`: files binding `data` declarations.
    Data {
        /// The paths as written (relative to the model file), each with its span.
        files: Vec<(String, Span)>,
        /// The whole setting.
        span: Span,
    },
}

/// An expression with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// What kind of expression.
    pub kind: ExprKind,
    /// Where it was written.
    pub span: Span,
}

/// Unary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    /// `-a`.
    Neg,
    /// `!a`.
    Not,
}

/// Binary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `^` (right-associative, binds tighter than unary minus)
    Pow,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `&&`
    And,
    /// `||`
    Or,
}

/// The kinds of expression.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// An integer literal such as `10_000`.
    Int(i64),
    /// A real literal such as `1e-3` or `0.5`.
    Real(f64),
    /// `true` / `false`.
    Bool(bool),
    /// A name: param, state, let, index variable, `t`, a user function's argument.
    Name(String),
    /// `-a`, `!a`.
    Unary(UnOp, Box<Expr>),
    /// `a + b` etc.
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `a[i]`.
    Index(Box<Expr>, Box<Expr>),
    /// `f(args)`: builtins, user functions, `sum(i in 0..d, …)`, `mala(step = 0.1)`.
    Call {
        /// The called name.
        func: Ident,
        /// Arguments in order.
        args: Vec<CallArg>,
    },
    /// `[a, b, c]`.
    Vector(Vec<Expr>),
    /// `if cond then a else b`.
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `let name = value in body`.
    Let {
        /// The bound name.
        name: Ident,
        /// Its value.
        value: Box<Expr>,
        /// Where it is visible.
        body: Box<Expr>,
    },
    /// A placeholder left by the parser's error recovery.
    Error,
}

/// One argument of a call.
#[derive(Clone, Debug, PartialEq)]
pub enum CallArg {
    /// `f(e)`.
    Positional(Expr),
    /// `f(name = e)`.
    Named(Ident, Expr),
    /// `sum(j in p, …)`: binds `var` over the particles of set `p` (or, for any
    /// other value, its first dimension).
    Each {
        /// The bound index variable.
        var: Ident,
        /// What it runs over.
        over: Expr,
        /// The whole binder.
        span: Span,
    },
    /// `sum(i in lo..hi, …)`: binds `var` over the half-open range `[lo, hi)`.
    Binder {
        /// The bound index variable.
        var: Ident,
        /// Lower bound (inclusive).
        lo: Expr,
        /// Upper bound (exclusive).
        hi: Expr,
        /// The whole binder.
        span: Span,
    },
}

impl CallArg {
    /// The expressions inside the argument.
    pub fn exprs(&self) -> Vec<&Expr> {
        match self {
            CallArg::Positional(e) | CallArg::Named(_, e) => vec![e],
            CallArg::Each { over, .. } => vec![over],
            CallArg::Binder { lo, hi, .. } => vec![lo, hi],
        }
    }

    /// Moves the expressions out of the argument.
    pub fn into_exprs(self) -> Vec<Expr> {
        match self {
            CallArg::Positional(e) | CallArg::Named(_, e) => vec![e],
            CallArg::Each { over, .. } => vec![over],
            CallArg::Binder { lo, hi, .. } => vec![lo, hi],
        }
    }

    /// The argument's span.
    pub fn span(&self) -> Span {
        match self {
            CallArg::Positional(e) => e.span,
            CallArg::Named(n, e) => n.span.to(e.span),
            CallArg::Binder { span, .. } | CallArg::Each { span, .. } => *span,
        }
    }
}
