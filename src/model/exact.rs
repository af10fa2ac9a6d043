//! Exact marginal laws declared by `exact` model items, for plots of the draws.
//!
//! `exact x[0] ~ normal(0, 1)` names a distribution [`Family`] with constant arguments;
//! `exact x = exp(-x^4/4)` gives an unnormalised density in the component itself, kept as a
//! [`Formula`]: a straight-line program in one variable with every parameter replaced by its
//! value and every reduction unrolled, so it can be stored (in `run.json`) and evaluated
//! without the model. Neither affects the compiled kernels.

use std::collections::{BTreeSet, HashMap};
use std::rc::Rc;

use serde::{Deserialize, Serialize};

use super::math::{eval_binary, eval_cmp, eval_unary};
use super::{BinaryFn, CmpOp, Expr, Index, IndexVar, Param, ParamId, ParamValue, ReduceOp, StateId, UnaryFn};
use crate::source::Span;

/// The distribution families `exact … ~ family(args)` accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    /// `normal(mean, sd)`.
    Normal,
    /// `lognormal(mu, sigma)`: ln x ~ normal(mu, sigma).
    Lognormal,
    /// `exponential(rate)`.
    Exponential,
    /// `gamma(shape, rate)`.
    Gamma,
    /// `uniform(lo, hi)`.
    Uniform,
    /// `beta(a, b)`.
    Beta,
    /// `laplace(mu, b)`: density e^{−|x−μ|/b}/(2b).
    Laplace,
    /// `student_t(nu, mu, sigma)`: μ + σ·T with T Student's t with ν degrees of freedom.
    StudentT,
}

impl Family {
    /// Every family, in the order the documentation lists them.
    pub const ALL: [Family; 8] = [
        Family::Normal,
        Family::Lognormal,
        Family::Exponential,
        Family::Gamma,
        Family::Uniform,
        Family::Beta,
        Family::Laplace,
        Family::StudentT,
    ];

    /// The name as the language spells it.
    pub fn name(self) -> &'static str {
        match self {
            Family::Normal => "normal",
            Family::Lognormal => "lognormal",
            Family::Exponential => "exponential",
            Family::Gamma => "gamma",
            Family::Uniform => "uniform",
            Family::Beta => "beta",
            Family::Laplace => "laplace",
            Family::StudentT => "student_t",
        }
    }

    /// The family called `name`.
    pub fn from_name(name: &str) -> Option<Family> {
        Family::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The arguments' names, in positional order.
    pub fn arg_names(self) -> &'static [&'static str] {
        match self {
            Family::Normal => &["mean", "sd"],
            Family::Lognormal => &["mu", "sigma"],
            Family::Exponential => &["rate"],
            Family::Gamma => &["shape", "rate"],
            Family::Uniform => &["lo", "hi"],
            Family::Beta => &["a", "b"],
            Family::Laplace => &["mu", "b"],
            Family::StudentT => &["nu", "mu", "sigma"],
        }
    }

    /// What is wrong with `args` (in positional order), if anything.
    pub fn check(self, args: &[f64]) -> Result<(), String> {
        let positive = |k: usize| -> Result<(), String> {
            match args.get(k) {
                Some(v) if *v > 0.0 => Ok(()),
                Some(v) => Err(format!(
                    "`{}` must be > 0, got {v}",
                    self.arg_names().get(k).unwrap_or(&"?")
                )),
                None => Err("missing argument".to_string()),
            }
        };
        match self {
            Family::Normal | Family::Lognormal | Family::Laplace => positive(1),
            Family::Exponential => positive(0),
            Family::Gamma | Family::Beta => positive(0).and(positive(1)),
            Family::StudentT => positive(0).and(positive(2)),
            Family::Uniform => match args {
                [lo, hi] if lo < hi => Ok(()),
                [lo, hi] => Err(format!("`lo` must be below `hi`, got {lo} and {hi}")),
                _ => Err("missing argument".to_string()),
            },
        }
    }

    /// The normalised log density at `x` (−∞ outside the support).
    pub fn log_pdf(self, args: &[f64], x: f64) -> f64 {
        let a = |k: usize| args.get(k).copied().unwrap_or(f64::NAN);
        let half_ln_2pi = 0.5 * (2.0 * std::f64::consts::PI).ln();
        let inside = |ok: bool, v: f64| if ok { v } else { f64::NEG_INFINITY };
        match self {
            Family::Normal => {
                let z = (x - a(0)) / a(1);
                -0.5 * z * z - a(1).ln() - half_ln_2pi
            }
            Family::Lognormal => {
                let z = (x.ln() - a(0)) / a(1);
                inside(x > 0.0, -0.5 * z * z - a(1).ln() - half_ln_2pi - x.ln())
            }
            Family::Exponential => inside(x >= 0.0, a(0).ln() - a(0) * x),
            Family::Gamma => {
                let (k, rate) = (a(0), a(1));
                let v = k * rate.ln() - libm::lgamma(k) + (k - 1.0) * x.ln() - rate * x;
                inside(
                    x > 0.0 || (x == 0.0 && k == 1.0),
                    if x == 0.0 { rate.ln() } else { v },
                )
            }
            Family::Uniform => inside(x >= a(0) && x <= a(1), -(a(1) - a(0)).ln()),
            Family::Beta => {
                let (p, q) = (a(0), a(1));
                let ln_beta = libm::lgamma(p) + libm::lgamma(q) - libm::lgamma(p + q);
                let v = (p - 1.0) * x.ln() + (q - 1.0) * (1.0 - x).ln() - ln_beta;
                inside(x > 0.0 && x < 1.0, v)
            }
            Family::Laplace => -(2.0 * a(1)).ln() - (x - a(0)).abs() / a(1),
            Family::StudentT => {
                let (nu, mu, sigma) = (a(0), a(1), a(2));
                let z = (x - mu) / sigma;
                libm::lgamma(0.5 * (nu + 1.0))
                    - libm::lgamma(0.5 * nu)
                    - 0.5 * (nu * std::f64::consts::PI).ln()
                    - sigma.ln()
                    - 0.5 * (nu + 1.0) * (z * z / nu).ln_1p()
            }
        }
    }
}

/// One instruction of a [`Formula`]; operands are earlier instructions' results. Conditions
/// evaluate to 1 (true) or 0 (false).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// A number.
    Const(f64),
    /// The component's value.
    X,
    /// f(a).
    Unary(UnaryFn, u32),
    /// f(a, b).
    Binary(BinaryFn, u32, u32),
    /// a op b, as 1 or 0.
    Compare(CmpOp, u32, u32),
    /// Both conditions.
    And(u32, u32),
    /// Either condition.
    Or(u32, u32),
    /// The negated condition.
    Not(u32),
    /// `if c then a else b`.
    Select(u32, u32, u32),
}

/// A function of one variable as a straight-line program; the last instruction is the value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Formula {
    /// The instructions, in evaluation order.
    pub ops: Vec<Op>,
}

/// Why a density expression cannot be a function of its component alone.
#[derive(Clone, Debug, PartialEq)]
pub enum FormulaError {
    /// It reads another state or another component (named, e.g. `y` or `x[1]`).
    OtherState(String),
    /// It reads the time `t`.
    Time,
    /// It unrolls to more than [`MAX_OPS`] instructions.
    TooLarge,
}

/// The largest formula accepted.
pub const MAX_OPS: usize = 1_000_000;

/// The state component a formula is a function of: a scalar state, or element `k` of a vector.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Component {
    /// The state.
    pub state: StateId,
    /// The element of a vector state.
    pub index: Option<i64>,
}

impl Formula {
    /// The formula computing `expr` as a function of `component`, with parameters from `params`
    /// and `names` (the states' names, for messages), and the parameters whose values it
    /// took.
    pub fn from_expr(
        expr: &Rc<Expr>,
        component: Component,
        params: &[Param],
        names: &[String],
    ) -> Result<(Formula, Vec<ParamId>), FormulaError> {
        let mut b = Builder {
            ops: Vec::new(),
            memo: HashMap::new(),
            env: Vec::new(),
            read: BTreeSet::new(),
            component,
            params,
            names,
        };
        b.node(expr)?;
        Ok((Formula { ops: b.ops }, b.read.into_iter().collect()))
    }

    /// The formula's value at `x` (NaN for a malformed program).
    pub fn eval(&self, x: f64) -> f64 {
        let mut v: Vec<f64> = Vec::with_capacity(self.ops.len());
        for op in &self.ops {
            let at = |k: &u32| v.get(*k as usize).copied().unwrap_or(f64::NAN);
            let truth = |b: bool| if b { 1.0 } else { 0.0 };
            let r = match op {
                Op::Const(c) => *c,
                Op::X => x,
                Op::Unary(f, a) => eval_unary(*f, at(a)),
                Op::Binary(f, a, b) => eval_binary(*f, at(a), at(b)),
                Op::Compare(c, a, b) => truth(eval_cmp(*c, at(a), at(b))),
                Op::And(a, b) => truth(at(a) != 0.0 && at(b) != 0.0),
                Op::Or(a, b) => truth(at(a) != 0.0 || at(b) != 0.0),
                Op::Not(a) => truth(at(a) == 0.0),
                Op::Select(c, a, b) => {
                    if at(c) != 0.0 {
                        at(a)
                    } else {
                        at(b)
                    }
                }
            };
            v.push(r);
        }
        v.last().copied().unwrap_or(f64::NAN)
    }
}

/// Turns a checked expression DAG into a [`Formula`], sharing repeated nodes.
struct Builder<'p> {
    ops: Vec<Op>,
    /// Node (by address) and the index variables' values → its instruction.
    memo: HashMap<(usize, Vec<(IndexVar, i64)>), u32>,
    env: Vec<(IndexVar, i64)>,
    /// The parameters read.
    read: BTreeSet<ParamId>,
    component: Component,
    params: &'p [Param],
    names: &'p [String],
}

impl Builder<'_> {
    fn push(&mut self, op: Op) -> Result<u32, FormulaError> {
        if self.ops.len() >= MAX_OPS {
            return Err(FormulaError::TooLarge);
        }
        self.ops.push(op);
        u32::try_from(self.ops.len() - 1).map_err(|_| FormulaError::TooLarge)
    }

    fn index(&self, idx: &Index) -> i64 {
        idx.terms.iter().fold(idx.constant, |v, (var, c)| {
            let x = self
                .env
                .iter()
                .rev()
                .find(|(w, _)| w == var)
                .map_or(0, |(_, x)| *x);
            v.saturating_add(c.saturating_mul(x))
        })
    }

    fn param(&mut self, id: ParamId, k: Option<i64>) -> f64 {
        self.read.insert(id);
        let value = self.params.get(id.0 as usize).map(|p| &p.value);
        match (value, k) {
            (Some(ParamValue::Real(x)), None) => *x,
            (Some(ParamValue::Int(i)), None) => *i as f64,
            (Some(ParamValue::Vector(v)), Some(k)) => usize::try_from(k)
                .ok()
                .and_then(|k| v.get(k))
                .copied()
                .unwrap_or(f64::NAN),
            _ => f64::NAN,
        }
    }

    fn state(&mut self, s: StateId, k: Option<i64>) -> Result<u32, FormulaError> {
        if s == self.component.state && k == self.component.index {
            return self.push(Op::X);
        }
        let name = self.names.get(s.0 as usize).cloned().unwrap_or_default();
        Err(FormulaError::OtherState(match k {
            Some(k) => format!("{name}[{k}]"),
            None => name,
        }))
    }

    fn node(&mut self, e: &Rc<Expr>) -> Result<u32, FormulaError> {
        let key = (Rc::as_ptr(e) as usize, self.env.clone());
        if let Some(k) = self.memo.get(&key) {
            return Ok(*k);
        }
        let k = self.build(e)?;
        self.memo.insert(key, k);
        Ok(k)
    }

    fn build(&mut self, e: &Rc<Expr>) -> Result<u32, FormulaError> {
        let op = match &**e {
            Expr::Const(c) => Op::Const(*c),
            Expr::Param(p) => Op::Const(self.param(*p, None)),
            Expr::ParamElem(p, idx) => {
                let k = self.index(idx);
                Op::Const(self.param(*p, Some(k)))
            }
            Expr::Lookup { param, base, keys } => {
                // Keys are entries of integer parameters: constants here.
                let mut k = self.index(base);
                for (key, stride) in keys {
                    let v = match &**key {
                        Expr::ParamElem(q, ix) => {
                            let at = self.index(ix);
                            self.param(*q, Some(at))
                        }
                        _ => f64::NAN,
                    };
                    k = k.saturating_add(stride.saturating_mul(v as i64));
                }
                Op::Const(self.param(*param, Some(k)))
            }
            Expr::State(s) => return self.state(*s, None),
            Expr::StateElem(s, idx) => return self.state(*s, Some(self.index(idx))),
            Expr::Time => return Err(FormulaError::Time),
            Expr::IndexValue(idx) => Op::Const(self.index(idx) as f64),
            Expr::Unary(f, a) => Op::Unary(*f, self.node(a)?),
            Expr::Binary(f, a, b) => Op::Binary(*f, self.node(a)?, self.node(b)?),
            Expr::Compare(c, a, b) => Op::Compare(*c, self.node(a)?, self.node(b)?),
            Expr::And(a, b) => Op::And(self.node(a)?, self.node(b)?),
            Expr::Or(a, b) => Op::Or(self.node(a)?, self.node(b)?),
            Expr::Not(a) => Op::Not(self.node(a)?),
            Expr::Select(c, a, b) => Op::Select(self.node(c)?, self.node(a)?, self.node(b)?),
            Expr::NoGrad(a) => return self.node(a),
            Expr::Reduce {
                op,
                var,
                lo,
                hi,
                over: super::Over::Range | super::Over::Particles(_),
                body,
            } => return self.reduce(*op, *var, (lo, hi), body),
            // Loops over run-time lists and placeholders have no closed form here.
            Expr::Reduce { .. } | Expr::Arg(_) | Expr::Deriv { .. } | Expr::Subst { .. } => {
                return Err(FormulaError::TooLarge)
            }
        };
        self.push(op)
    }

    /// Unrolls a reduction into a chain of binary operations, in the evaluator's order.
    fn reduce(
        &mut self,
        op: ReduceOp,
        var: IndexVar,
        (lo, hi): (&Index, &Index),
        body: &Rc<Expr>,
    ) -> Result<u32, FormulaError> {
        let (start, f) = match op {
            ReduceOp::Sum => (0.0, BinaryFn::Add),
            ReduceOp::Prod => (1.0, BinaryFn::Mul),
            ReduceOp::Max => (f64::NEG_INFINITY, BinaryFn::Max),
            ReduceOp::Min => (f64::INFINITY, BinaryFn::Min),
        };
        let (lo, hi) = (self.index(lo), self.index(hi));
        if hi.saturating_sub(lo) > MAX_OPS as i64 {
            return Err(FormulaError::TooLarge);
        }
        let mut acc = self.push(Op::Const(start))?;
        for k in lo..hi {
            self.env.push((var, k));
            let v = self.node(body);
            self.env.pop();
            acc = self.push(Op::Binary(f, acc, v?))?;
        }
        Ok(acc)
    }
}

/// A declared exact law.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Law {
    /// A named family with its (checked) arguments.
    Family {
        /// The family.
        family: Family,
        /// Its arguments, in positional order.
        args: Vec<f64>,
    },
    /// An unnormalised density of the component.
    Density(Formula),
}

impl Law {
    /// ln of the density at `x`; normalised exactly when [`Law::is_normalised`], else up to a
    /// constant. Where an unnormalised density is not a positive number the result is −∞.
    pub fn log_density(&self, x: f64) -> f64 {
        match self {
            Law::Family { family, args } => family.log_pdf(args, x),
            Law::Density(f) => {
                let v = f.eval(x);
                if v > 0.0 {
                    v.ln()
                } else {
                    f64::NEG_INFINITY
                }
            }
        }
    }

    /// Whether [`Law::log_density`] is normalised (named families are).
    pub fn is_normalised(&self) -> bool {
        matches!(self, Law::Family { .. })
    }
}

/// `exact x[k] ~ …` or `exact x[k] = …`: the exact marginal law of one state component.
#[derive(Clone, Debug, PartialEq)]
pub struct Exact {
    /// The component's position in the flat state.
    pub component: usize,
    /// Its law.
    pub law: Law,
    /// The item.
    pub span: Span,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ∫ e^{log_pdf} over [lo, hi] by composite Simpson on `n` intervals.
    fn integral(f: Family, args: &[f64], lo: f64, hi: f64, n: usize) -> f64 {
        let h = (hi - lo) / n as f64;
        let w = |i: usize| match i {
            0 => 1.0,
            i if i == n => 1.0,
            i if i % 2 == 1 => 4.0,
            _ => 2.0,
        };
        (0..=n)
            .map(|i| w(i) * f.log_pdf(args, lo + i as f64 * h).exp())
            .sum::<f64>()
            * h
            / 3.0
    }

    #[test]
    fn every_family_integrates_to_one() {
        let cases: [(Family, &[f64], f64, f64); 8] = [
            (Family::Normal, &[1.0, 2.0], -25.0, 27.0),
            (Family::Lognormal, &[0.2, 0.5], 1e-12, 60.0),
            (Family::Exponential, &[1.5], 0.0, 40.0),
            (Family::Gamma, &[3.0, 2.0], 0.0, 40.0),
            (Family::Uniform, &[-1.0, 3.0], -1.0, 3.0),
            (Family::Beta, &[2.0, 3.5], 0.0, 1.0),
            (Family::Laplace, &[0.5, 0.7], -40.0, 41.0),
            (Family::StudentT, &[30.0, 1.0, 0.5], -60.0, 62.0),
        ];
        for (f, args, lo, hi) in cases {
            assert_eq!(f.check(args), Ok(()));
            let z = integral(f, args, lo, hi, 200_000);
            assert!((z - 1.0).abs() < 1e-6, "{} integrates to {z}", f.name());
        }
    }

    #[test]
    fn closed_forms_at_known_points() {
        // N(0, 1) at 0 is 1/√(2π); Exp(2) at 1 is 2e⁻²; t₁ (Cauchy) at 0 is 1/π
        let pdf = |f: Family, a: &[f64], x: f64| f.log_pdf(a, x).exp();
        assert!((pdf(Family::Normal, &[0.0, 1.0], 0.0) - 0.398_942_280_401_432_7).abs() < 1e-15);
        assert!((pdf(Family::Exponential, &[2.0], 1.0) - 2.0 * (-2.0f64).exp()).abs() < 1e-15);
        assert!((pdf(Family::StudentT, &[1.0, 0.0, 1.0], 0.0) - 1.0 / std::f64::consts::PI).abs() < 1e-14);
        assert_eq!(Family::Beta.log_pdf(&[2.0, 2.0], 1.5), f64::NEG_INFINITY);
        assert!(Family::Normal.check(&[0.0, 0.0]).is_err());
        assert!(Family::Uniform.check(&[1.0, 1.0]).is_err());
    }

    #[test]
    fn formulas_unroll_reductions_and_read_only_their_component() {
        let x = StateId(0);
        let c = |v| Rc::new(Expr::Const(v));
        let var = IndexVar(0);
        // Σ_{k<3} (k + 1)·x[1] = 6 x[1]
        let body = Rc::new(Expr::Binary(
            BinaryFn::Mul,
            Rc::new(Expr::Binary(
                BinaryFn::Add,
                Rc::new(Expr::IndexValue(Index::var(var))),
                c(1.0),
            )),
            Rc::new(Expr::StateElem(x, Index::constant(1))),
        ));
        let sum = Rc::new(Expr::Reduce {
            op: ReduceOp::Sum,
            var,
            lo: Index::constant(0),
            hi: Index::constant(3),
            over: super::super::Over::Range,
            body,
        });
        let names = vec!["x".to_string()];
        let at = |k| Component {
            state: x,
            index: Some(k),
        };
        let (f, read) = Formula::from_expr(&sum, at(1), &[], &names).unwrap();
        assert!(read.is_empty());
        assert_eq!(f.eval(2.0), 12.0);
        let back: Formula = serde_json::from_str(&serde_json::to_string(&f).unwrap()).unwrap();
        assert_eq!(back.eval(0.5), 3.0);
        assert_eq!(
            Formula::from_expr(&sum, at(0), &[], &names),
            Err(FormulaError::OtherState("x[1]".to_string()))
        );
        let t = Rc::new(Expr::Time);
        assert_eq!(
            Formula::from_expr(&t, at(0), &[], &names),
            Err(FormulaError::Time)
        );
    }
}
