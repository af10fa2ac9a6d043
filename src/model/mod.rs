//! The checked model: what the resolve/check stage hands to the symbolic stage.
//!
//! Vocabulary:
//! - Every name is resolved to an id ([`ParamId`], [`StateId`], [`IndexVar`]).
//! - Every expression is a *scalar* [`Expr`]: vector expressions are desugared by
//!   the checker into indexed forms (`norm(x)` becomes `sqrt(sum(k in 0..n, x[k]^2))`),
//!   user functions and `let`s are inlined (shared through `Rc`, so a chain of lets
//!   stays a DAG), integer params are substituted as constants.
//! - Indices are affine integer forms over index variables ([`Index`]); the checker
//!   has proved every access in bounds, so generated code needs no bound checks.
//! - Reductions (`sum`, `prod`, `max`, `min`) over index ranges stay loops.

pub mod exact;
pub mod math;
mod method;
pub mod particles;

pub use method::{
    signature, ArgDefault, ArgKind, ArgSig, MethodArg, MethodKind, MethodSpec, ScheduleKind, ScheduleSpec,
};
pub use particles::{Domain, List, ListKind, Observable, ObservableKind, PairTerm, ParticleSet};

use crate::source::Span;
use std::rc::Rc;

/// A parameter, by position in [`Model::params`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ParamId(pub u32);

/// A state variable, by position in [`Model::states`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StateId(pub u32);

/// An index variable bound by exactly one reduction or per-component equation.
/// Ids are unique within a model (two `sum(i in …)` get two ids).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IndexVar(pub u32);

/// An affine integer expression `constant + Σ coeff·var`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Index {
    /// The constant term.
    pub constant: i64,
    /// `(var, coefficient)` pairs, sorted by var, no zero coefficients.
    pub terms: Vec<(IndexVar, i64)>,
}

impl Index {
    /// A constant index.
    pub fn constant(c: i64) -> Index {
        Index {
            constant: c,
            terms: Vec::new(),
        }
    }

    /// The bare variable `v`.
    pub fn var(v: IndexVar) -> Index {
        Index {
            constant: 0,
            terms: vec![(v, 1)],
        }
    }

    /// The constant value, if the index has no variable terms.
    pub fn as_constant(&self) -> Option<i64> {
        self.terms.is_empty().then_some(self.constant)
    }
}

/// A run-time list of indices, by position in [`Model::lists`]: the neighbour
/// list of a pair term, the bonds of a bonded term, random batches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ListId(pub u32);

/// Which values of its range `[lo, hi)` a loop visits.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Over {
    /// Every value.
    #[default]
    Range,
    /// Every particle of a set (the range is `0..count`): a loop the lowering may
    /// split into blocks for parallel evaluation.
    Particles(u32),
    /// The values in `[lo, hi)` that also lie in the run-time block of group `g`
    /// (a particle set's index, or [`Over::UNIT`] for terms outside particle loops):
    /// one piece of a kernel evaluated block by block.
    Block(u32),
    /// The entries of row `row` of run-time list `list` (all within `[lo, hi)`).
    List {
        /// The list.
        list: ListId,
        /// Its row (affine in the enclosing loops; proved in range by the checker).
        row: Index,
    },
}

impl Over {
    /// The block group of the unit range `0..1`, for terms that are not sums over
    /// particles: only the first block evaluates them.
    pub const UNIT: u32 = u32::MAX;

    /// The variables the row of a list loop depends on.
    pub fn index(&self) -> Option<&Index> {
        match self {
            Over::List { row, .. } => Some(row),
            _ => None,
        }
    }
}

/// Scalar functions of one argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum UnaryFn {
    /// −a
    Neg,
    /// eᵃ
    Exp,
    /// ln a
    Log,
    /// ln(1 + a)
    Log1p,
    /// eᵃ − 1
    Expm1,
    /// √a
    Sqrt,
    /// ∛a
    Cbrt,
    /// sin a
    Sin,
    /// cos a
    Cos,
    /// tan a
    Tan,
    /// tanh a
    Tanh,
    /// |a|
    Abs,
    /// 1 / (1 + e⁻ᵃ)
    Sigmoid,
    /// ln(1 + eᵃ), computed stably
    Softplus,
    /// the error function
    Erf,
    /// the nearest integer, ties to even (derivative 0)
    Round,
    /// the largest integer ≤ a (derivative 0)
    Floor,
}

/// Scalar functions of two arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum BinaryFn {
    /// a + b
    Add,
    /// a − b
    Sub,
    /// a · b
    Mul,
    /// a / b
    Div,
    /// aᵇ
    Pow,
    /// atan2(a, b)
    Atan2,
    /// min(a, b)
    Min,
    /// max(a, b)
    Max,
}

/// Comparisons (yield a boolean).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum CmpOp {
    /// ==
    Eq,
    /// !=
    Ne,
    /// <
    Lt,
    /// <=
    Le,
    /// >
    Gt,
    /// >=
    Ge,
}

/// Loop reductions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReduceOp {
    /// Σ
    Sum,
    /// Π
    Prod,
    /// max
    Max,
    /// min
    Min,
}

/// A checked scalar expression (real-valued unless it is a condition).
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// A real constant.
    Const(f64),
    /// A scalar real parameter (lives in the parameter buffer).
    Param(ParamId),
    /// An element of a vector parameter.
    ParamElem(ParamId, Index),
    /// An element of a parameter table picked by entries of integer tables: element
    /// `base + Σ stride·key` of `param`'s flat storage, each key an entry `type[i]` of an
    /// integer parameter (`eps[type[i], type[j]]`). The checker proved every key value in range.
    Lookup {
        /// The table read.
        param: ParamId,
        /// The affine part of the flat index.
        base: Index,
        /// Each key (an integer-valued expression) with its stride.
        keys: Vec<(Rc<Expr>, i64)>,
    },
    /// A scalar state.
    State(StateId),
    /// An element of a vector state.
    StateElem(StateId, Index),
    /// Time `t`.
    Time,
    /// An index expression used as a real number (`sum(i in 0..n, i * x[i])`).
    IndexValue(Index),
    /// f(a).
    Unary(UnaryFn, Rc<Expr>),
    /// f(a, b).
    Binary(BinaryFn, Rc<Expr>, Rc<Expr>),
    /// A comparison of two reals (a condition).
    Compare(CmpOp, Rc<Expr>, Rc<Expr>),
    /// Both conditions.
    And(Rc<Expr>, Rc<Expr>),
    /// Either condition.
    Or(Rc<Expr>, Rc<Expr>),
    /// The negated condition.
    Not(Rc<Expr>),
    /// `if cond then a else b`.
    Select(Rc<Expr>, Rc<Expr>, Rc<Expr>),
    /// A reduction of `body` over `var` in `[lo, hi)`.
    Reduce {
        /// Σ, Π, max or min.
        op: ReduceOp,
        /// The bound variable (unique in the model).
        var: IndexVar,
        /// Inclusive lower bound.
        lo: Index,
        /// Exclusive upper bound.
        hi: Index,
        /// Which values of the range are visited.
        over: Over,
        /// The reduced expression; `var` is free in it.
        body: Rc<Expr>,
    },
    /// The value of the inner expression with a zero derivative (used for the
    /// stabilising shift of `logsumexp`, whose derivative cancels exactly).
    NoGrad(Rc<Expr>),
    /// A placeholder argument; it only occurs inside a [`Expr::Subst`].
    Arg(u32),
    /// ∂body/∂Arg(arg).
    Deriv {
        /// The differentiated expression.
        body: Rc<Expr>,
        /// The placeholder it is differentiated by.
        arg: u32,
    },
    /// `body` with placeholders replaced by values.
    Subst {
        /// An expression with placeholders.
        body: Rc<Expr>,
        /// (placeholder, value) pairs.
        args: Vec<(u32, Rc<Expr>)>,
    },
}

/// The value of a parameter after defaults and `--set` overrides.
#[derive(Clone, Debug, PartialEq)]
pub enum ParamValue {
    /// A real scalar.
    Real(f64),
    /// An integer (a compile-time constant: sizes, ranges).
    Int(i64),
    /// A real vector.
    Vector(Vec<f64>),
    /// A real matrix, row-major.
    Matrix {
        /// Number of rows.
        rows: usize,
        /// Number of columns.
        cols: usize,
        /// The `rows · cols` elements, row by row.
        data: Vec<f64>,
    },
    /// An integer array of one or two dimensions (`int[n]`, `int[n, k]`), row-major.
    Ints {
        /// The size of each dimension.
        dims: Vec<usize>,
        /// The elements.
        data: Vec<i64>,
    },
}

impl ParamValue {
    /// The values as they are stored in the parameter buffer.
    pub fn flat(&self) -> Vec<f64> {
        match self {
            ParamValue::Real(x) => vec![*x],
            ParamValue::Int(i) => vec![*i as f64],
            ParamValue::Vector(v) | ParamValue::Matrix { data: v, .. } => v.clone(),
            ParamValue::Ints { data, .. } => data.iter().map(|i| *i as f64).collect(),
        }
    }

    /// The shape as the language writes it: `real`, `int`, `real[3]`, `real[2, 2]`, `int[4]`.
    pub fn shape(&self) -> String {
        match self {
            ParamValue::Real(_) => "real".into(),
            ParamValue::Int(_) => "int".into(),
            ParamValue::Vector(v) => format!("real[{}]", v.len()),
            ParamValue::Matrix { rows, cols, .. } => format!("real[{rows}, {cols}]"),
            ParamValue::Ints { dims, .. } => {
                let d: Vec<String> = dims.iter().map(|d| d.to_string()).collect();
                format!("int[{}]", d.join(", "))
            }
        }
    }
}

/// A checked parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    /// Its name (model-local params shadow global ones).
    pub name: String,
    /// Its value.
    pub value: ParamValue,
    /// Whether it is a `data` declaration (its value came from a data file).
    pub data: bool,
    /// Where it was declared.
    pub span: Span,
}

/// A checked state variable.
#[derive(Clone, Debug, PartialEq)]
pub struct State {
    /// Its name.
    pub name: String,
    /// `None` for a scalar, `Some(n)` for `real[n]`, the flat size for a matrix.
    pub len: Option<usize>,
    /// `Some(k)` for a matrix state `real[n, k]` (`len` is then `n·k`).
    pub cols: Option<usize>,
    /// The declared initial value (flattened), if any.
    pub init: Option<Vec<f64>>,
    /// Where it was declared.
    pub span: Span,
}

impl State {
    /// Number of scalar components.
    pub fn size(&self) -> usize {
        self.len.unwrap_or(1)
    }
}

/// One `energy` term.
#[derive(Clone, Debug, PartialEq)]
pub struct EnergyTerm {
    /// The term's name.
    pub name: String,
    /// Its value.
    pub expr: Rc<Expr>,
    /// Where it was declared.
    pub span: Span,
}

/// How the stochastic integral of an SDE is read: the α-convention
/// ∫ g(X) ∘_α dW = lim Σ g((1 − α)X(tₖ) + αX(tₖ₊₁)) ΔWₖ.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Convention {
    /// Itô, α = 0 (the default).
    Ito,
    /// Stratonovich, α = ½.
    Stratonovich,
    /// Anti-Itô (Hänggi–Klimontovich, isothermal), α = 1.
    AntiIto,
    /// Any α in [0, 1], written `alpha(a)`.
    Alpha(f64),
}

impl Convention {
    /// The α of the convention.
    pub fn alpha(self) -> f64 {
        match self {
            Convention::Ito => 0.0,
            Convention::Stratonovich => 0.5,
            Convention::AntiIto => 1.0,
            Convention::Alpha(a) => a,
        }
    }

    /// A name for messages and `sde derive`: `Itô`, `Stratonovich`, `anti-Itô`, `α = 0.25`.
    pub fn describe(self) -> String {
        match self {
            Convention::Ito => "Itô".to_string(),
            Convention::Stratonovich => "Stratonovich".to_string(),
            Convention::AntiIto => "anti-Itô".to_string(),
            Convention::Alpha(a) => format!("α = {a}"),
        }
    }
}

/// Which components an SDE equation defines.
#[derive(Clone, Debug, PartialEq)]
pub enum SdeComponents {
    /// A scalar state: one equation.
    Scalar,
    /// A vector state: `var` runs over every component, `0..len`.
    Each(IndexVar),
    /// A matrix state (a particle set) written row by row, `dp[i] = …`: `row` runs
    /// over the rows, `col` over the `cols` columns; the component is `row·cols + col`.
    Rows {
        /// The row (particle) variable, bound by the equation's index.
        row: IndexVar,
        /// The column (coordinate) variable.
        col: IndexVar,
        /// Number of columns.
        cols: usize,
    },
}

impl SdeComponents {
    /// The flat component an equation defines, relative to its state's offset.
    pub fn flat(&self) -> Index {
        match self {
            SdeComponents::Scalar => Index::constant(0),
            SdeComponents::Each(v) => Index::var(*v),
            SdeComponents::Rows { row, col, cols } => {
                let mut terms = vec![(*row, *cols as i64), (*col, 1)];
                terms.sort();
                Index { constant: 0, terms }
            }
        }
    }

    /// The variable an equation's index (`i` in `dx[i]`) binds.
    pub fn bound_var(&self) -> Option<IndexVar> {
        match self {
            SdeComponents::Scalar => None,
            SdeComponents::Each(v) => Some(*v),
            SdeComponents::Rows { row, .. } => Some(*row),
        }
    }
}

/// Which Wiener processes drive an equation's noise term.
#[derive(Clone, Debug, PartialEq)]
pub enum NoiseKind {
    /// No noise term.
    None,
    /// Each component its own independent Wiener process: `dx[i] = … dW[i]`,
    /// `dx = … dW` (elementwise) or a scalar state's `dW`, with no `noise` declared.
    Own,
    /// One Wiener process of its own, shared by every component: `dx[i] = … dW`.
    Shared,
    /// The declared scalar noise `W` (`noise W: real`), or component 0 of nothing else.
    Declared,
    /// Component i of the declared noise drives component i: `dx[i] = … dW[i]`.
    DeclaredDiagonal,
    /// `dx[i] = … g(i, j) dW[j]`: Σⱼ g(i, j) dWⱼ over the declared noise, `j` bound to `0..m`.
    DeclaredSum(IndexVar),
    /// `dp[i] = … G dW[i]` with a k×k matrix G in a row equation: coordinate a of
    /// particle i gets Σ_b G[a, b] dW[i, b], k Wiener processes of its own per
    /// particle. The diffusion is G[col, b] with `b` bound to `0..k` (block-diagonal
    /// noise: N blocks of k×k).
    RowMatrix(IndexVar),
}

/// `noise W: real[m]`: the model's own Wiener process.
#[derive(Clone, Debug, PartialEq)]
pub struct NoiseDecl {
    /// `None` for `real`, `Some(m)` for `real[m]`.
    pub len: Option<usize>,
    /// Where it was declared.
    pub span: Span,
}

impl NoiseDecl {
    /// The number of Wiener processes.
    pub fn size(&self) -> usize {
        self.len.unwrap_or(1)
    }
}

/// `dx = langevin(D = …, kT = …)`: overdamped Langevin dynamics in the model's
/// energy U with diffusion D(x); the symbolic stage derives the drift
/// −D ∂U/∂x / kT + (1 − α) ∂D/∂x (the second term only when `consistent`) and the
/// noise coefficient √(2D).
#[derive(Clone, Debug, PartialEq)]
pub struct Langevin {
    /// The diffusion coefficient D (per component for a vector state).
    pub diffusion: Rc<Expr>,
    /// kT (the temperature in energy units).
    pub kt: Rc<Expr>,
    /// Whether to add the (1 − α) ∂D/∂x term that makes exp(−U/kT) stationary.
    pub consistent: bool,
}

/// One checked SDE `dX = drift dt + diffusion dW`.
#[derive(Clone, Debug, PartialEq)]
pub struct Sde {
    /// The state it drives.
    pub state: StateId,
    /// Scalar, or every component through an index variable.
    pub components: SdeComponents,
    /// The drift (zero if no `dt` term was written, or for `langevin`).
    pub drift: Rc<Expr>,
    /// The diffusion coefficient (zero if no `dW` term was written); for
    /// [`NoiseKind::DeclaredSum`] it depends on the sum's index too.
    pub diffusion: Rc<Expr>,
    /// How the noise term is wired to Wiener processes.
    pub noise: NoiseKind,
    /// The convention, as written (Itô if nothing was written).
    pub convention: Convention,
    /// `Some` for `dx = langevin(…)`.
    pub langevin: Option<Langevin>,
    /// The equation.
    pub span: Span,
}

/// Run settings after validation. `None` means "not written": the CLI fills defaults.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct RunSettings {
    /// The integrator.
    pub method: Option<MethodSpec>,
    /// Number of independent chains / paths.
    pub chains: Option<u64>,
    /// Recorded steps after warmup.
    pub steps: Option<u64>,
    /// Warmup steps (not recorded).
    pub warmup: Option<u64>,
    /// Record every `thin`-th step.
    pub thin: Option<u64>,
    /// Base seed of all random streams.
    pub seed: Option<u64>,
    /// Temperature T of the Gibbs target exp(−U/T).
    pub temperature: Option<f64>,
    /// Time step of SDE solvers (also accepted as a method argument).
    pub dt: Option<f64>,
    /// Initial time of SDE solvers.
    pub t0: Option<f64>,
    /// Initial values per state (flattened).
    pub init: Vec<(StateId, Vec<f64>)>,
    /// States whose initial components are drawn at random, per chain.
    pub init_draws: Vec<(StateId, InitLaw)>,
    /// End time of SDE runs (instead of counting steps).
    pub t_end: Option<f64>,
    /// Record SDE paths exactly at these times.
    pub save_at: Option<Vec<f64>>,
    /// Record SDE paths every `save_every` time units from t0.
    pub save_every: Option<f64>,
    /// Record only these flat state components (`record = [x, y[0]]`).
    pub record: Option<Vec<usize>>,
    /// Blocks the particles are split into for parallel force evaluation.
    pub blocks: Option<u64>,
    /// The format of the per-chain files (`output = "cmdstan"`); `--format` overrides it.
    pub output: Option<OutputFormat>,
}

/// The per-chain file formats a run block may name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    /// sdelang CSV.
    Csv,
    /// CmdStan CSV.
    CmdStan,
    /// NumPy `.npy`.
    Npy,
}

impl OutputFormat {
    /// Every format with its spelling in `output = "…"`.
    pub const NAMES: [(&'static str, OutputFormat); 3] = [
        ("csv", OutputFormat::Csv),
        ("cmdstan", OutputFormat::CmdStan),
        ("npy", OutputFormat::Npy),
    ];
}

/// The law of randomly drawn initial components (`init x ~ normal(0, 1)`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum InitLaw {
    /// Normal with this mean and standard deviation (> 0).
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        sd: f64,
    },
    /// Uniform on [lo, hi), lo < hi.
    Uniform {
        /// Lower end.
        lo: f64,
        /// Upper end.
        hi: f64,
    },
}

/// A fully checked model, ready for the symbolic stage.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    /// The model's name.
    pub name: String,
    /// All parameters visible to the model (globals first), by [`ParamId`].
    pub params: Vec<Param>,
    /// States by [`StateId`].
    pub states: Vec<State>,
    /// Energy terms (summed); empty for a pure SDE model.
    pub energy: Vec<EnergyTerm>,
    /// SDE equations, at most one per state.
    pub sdes: Vec<Sde>,
    /// The declared Wiener process (`noise W: real[m]`), if any.
    pub noise: Option<NoiseDecl>,
    /// Number of index variables allocated (ids are `0..index_vars`).
    pub index_vars: u32,
    /// Run settings from the `run` block.
    pub run: RunSettings,
    /// Particle sets (each also a state).
    pub particles: Vec<ParticleSet>,
    /// The space the particles live in.
    pub domain: Domain,
    /// Run-time lists, by [`ListId`].
    pub lists: Vec<List>,
    /// Pair and bond terms (each also an energy term).
    pub pairs: Vec<PairTerm>,
    /// `observe` declarations.
    pub observables: Vec<Observable>,
    /// Exact marginal laws of state components (`exact` items; for plots only).
    pub exact: Vec<exact::Exact>,
    /// Where the model was declared.
    pub span: Span,
}

impl Model {
    /// Whether the model is sampled from its energy (no SDEs).
    pub fn is_gibbs(&self) -> bool {
        self.sdes.is_empty()
    }

    /// Total number of scalar state components.
    pub fn state_size(&self) -> usize {
        self.states.iter().map(State::size).sum()
    }

    /// Offset of each state in the flat state vector.
    pub fn state_offsets(&self) -> Vec<usize> {
        let mut off = 0;
        self.states
            .iter()
            .map(|s| {
                let o = off;
                off += s.size();
                o
            })
            .collect()
    }

    /// Column names of the flat state: `x` for scalars, `x.1`, `x.2`, … (1-based) for
    /// vectors, `p.1.1`, `p.1.2`, … (row by row) for matrices.
    pub fn state_columns(&self) -> Vec<String> {
        let mut cols = Vec::new();
        for s in &self.states {
            match (s.len, s.cols) {
                (None, _) => cols.push(s.name.clone()),
                (Some(n), Some(k)) if k > 0 => {
                    cols.extend((0..n).map(|f| format!("{}.{}.{}", s.name, f / k + 1, f % k + 1)));
                }
                (Some(n), _) => cols.extend((1..=n).map(|k| format!("{}.{k}", s.name))),
            }
        }
        cols
    }

    /// The particle set whose positions are state `s`, if any.
    pub fn particle_set(&self, s: StateId) -> Option<&ParticleSet> {
        self.particles.iter().find(|p| p.state == s)
    }
}
