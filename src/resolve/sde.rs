//! SDE equations: conventions, noise wiring, the `noise` declaration and the
//! `langevin(…)` right-hand side.
//!
//! Noise wiring (see [`NoiseKind`]): without a `noise` declaration every
//! equation has Wiener processes of its own — `dW[i]` (or `dW` on a scalar
//! state or an unindexed vector equation) is diagonal, `dW` in `dx[i] = …` is one
//! process shared by all components. With `noise W: real[m]` every `dW` is that
//! process: `dW[j]` with a fresh index `j` sums over its m components. In a
//! particle equation `dp[i] = … G dW[i]` a k×k matrix G multiplies particle i's
//! own k processes ([`NoiseKind::RowMatrix`]).

use super::cx::{Checker, Mode};
use super::params::Const;
use super::scope::with_suggestions;
use super::val::{MatExpr, Val};
use crate::diagnostic::Diagnostic;
use crate::model::{BinaryFn, StateId, UnaryFn};
use crate::model::{Convention, Expr, Index, IndexVar, Langevin, NoiseDecl, NoiseKind, Sde, SdeComponents};
use crate::source::Span;
use crate::syntax::ast::{self, CallArg, ExprKind, ModelItem, TypeExpr};
use std::rc::Rc;

/// Convention words accepted before an equation besides `ito` and `stratonovich`.
const CONVENTION_WORDS: &[&str] = &["anti_ito", "hanggi", "klimontovich", "alpha"];

/// The arguments `langevin(…)` takes.
const LANGEVIN_ARGS: &[&str] = &["D", "kT", "consistent"];

/// How an equation's noise term is written, relative to its index.
enum Written<'a> {
    Plain,
    Same,
    Other(&'a ast::Ident),
}

impl<'m> Checker<'m> {
    /// The model's `noise W: real[m]` declaration (E0308 for a bad one).
    pub(super) fn noise_decl(&mut self, decl: &'m ast::ModelDecl) -> Option<NoiseDecl> {
        let mut found: Option<NoiseDecl> = None;
        for item in &decl.items {
            let ModelItem::Noise(n) = item else {
                continue;
            };
            if let Some(first) = &found {
                self.report(
                    Diagnostic::error("E0308", "a model declares at most one `noise`")
                        .with_label(n.span, "second declaration")
                        .with_label(first.span, "first declared here")
                        .with_help("declare one vector `noise W: real[m]` and index it"),
                );
                continue;
            }
            if n.name.name != "W" {
                self.report(
                    Diagnostic::error("E0308", format!("the noise is named `{}`, not `W`", n.name.name))
                        .with_label(n.name.span, "rename this to `W`")
                        .with_note("equations write the increments of the noise as `dW`"),
                );
            }
            let len = match &n.ty {
                TypeExpr::Real(_) => None,
                TypeExpr::Array { int: false, dims, .. } if dims.len() == 1 => {
                    Some(self.size(dims.first()?)?)
                }
                TypeExpr::Array { span, int: false, .. } => {
                    self.report(
                        Diagnostic::error("E0308", "the noise is a scalar or a vector")
                            .with_label(*span, "write `real` or `real[m]`"),
                    );
                    continue;
                }
                TypeExpr::Int(span) | TypeExpr::Array { span, .. } => {
                    self.report(
                        Diagnostic::error("E0308", "a Wiener process is real")
                            .with_label(*span, "write `real` or `real[m]`"),
                    );
                    continue;
                }
            };
            found = Some(NoiseDecl { len, span: n.span });
        }
        found
    }

    /// Checks one equation for state `k`.
    pub(super) fn sde(
        &mut self,
        k: usize,
        eq: &'m ast::SdeEquation,
        decl: Option<&NoiseDecl>,
        has_energy: bool,
    ) -> Option<Sde> {
        let len = self.states.get(k)?.len;
        let convention = self.convention(eq);
        if let (None, Some(i)) = (len, &eq.index) {
            self.report(
                Diagnostic::error(
                    "E0201",
                    format!(
                        "`{}` is a scalar state; it has no components",
                        strip_d(&eq.lhs.name)
                    ),
                )
                .with_label(i.span, "remove this index"),
            );
            return None;
        }
        if len == Some(0) {
            return None;
        }
        let cols = self.states.get(k).and_then(|s| s.cols).filter(|c| *c > 0);
        let components = match (len, cols) {
            (None, _) => SdeComponents::Scalar,
            (Some(n), None) => {
                SdeComponents::Each(self.fresh_var(&Index::constant(0), &Index::constant(n as i64)))
            }
            (Some(n), Some(c)) => SdeComponents::Rows {
                row: self.fresh_var(&Index::constant(0), &Index::constant((n / c) as i64)),
                col: self.fresh_var(&Index::constant(0), &Index::constant(c as i64)),
                cols: c,
            },
        };
        if let (SdeComponents::Rows { .. }, Some(term)) = (&components, &eq.noise) {
            if !self.row_noise_ok(eq, term, decl) {
                return None;
            }
        }
        let (drift, diffusion, noise, langevin) = match &eq.langevin {
            Some(l) => self.langevin(eq, l, len, &components, has_energy)?,
            None => {
                let noise = self.noise_kind(eq, len, decl)?;
                let (f, g, noise) = self.sde_terms(eq, len, &components, noise)?;
                (f, g, noise, None)
            }
        };
        Some(Sde {
            state: StateId(k as u32),
            components,
            drift,
            diffusion,
            noise,
            convention: convention?,
            langevin,
            span: eq.span,
        })
    }

    /// The α-convention written before an equation (E0307 for an unknown one).
    fn convention(&mut self, eq: &'m ast::SdeEquation) -> Option<Convention> {
        let Some((conv, span)) = &eq.convention else {
            return Some(Convention::Ito);
        };
        match conv {
            ast::Convention::Ito => Some(Convention::Ito),
            ast::Convention::Stratonovich => Some(Convention::Stratonovich),
            ast::Convention::Named(w)
                if matches!(w.name.as_str(), "anti_ito" | "hanggi" | "klimontovich") =>
            {
                Some(Convention::AntiIto)
            }
            ast::Convention::Named(w) if w.name == "alpha" => {
                self.report(
                    Diagnostic::error("E0307", "`alpha` needs its value")
                        .with_label(w.span, "write e.g. `alpha(0.5)`"),
                );
                None
            }
            ast::Convention::Named(w) => {
                self.report(unknown_convention(&w.name, w.span));
                None
            }
            ast::Convention::Call(name, args) if name.name == "alpha" => self.alpha(args, *span),
            ast::Convention::Call(name, _) => {
                self.report(unknown_convention(&name.name, name.span));
                None
            }
        }
    }

    /// `alpha(a)` with a constant a in [0, 1].
    fn alpha(&mut self, args: &'m [CallArg], span: Span) -> Option<Convention> {
        let [CallArg::Positional(e)] = args else {
            self.report(
                Diagnostic::error("E0307", "`alpha` takes one number in [0, 1]")
                    .with_label(span, "write e.g. `alpha(0.5)`"),
            );
            return None;
        };
        let a = match self.constant(e)? {
            Const::Int(i) => i as f64,
            Const::Real(x) => x,
            Const::Vector(_) | Const::Matrix(..) => f64::NAN,
        };
        if (0.0..=1.0).contains(&a) {
            return Some(Convention::Alpha(a));
        }
        self.report(
            Diagnostic::error("E0307", "α must lie in [0, 1]")
                .with_label(e.span, "this is not in [0, 1]")
                .with_note("0 is Itô, 0.5 Stratonovich, 1 anti-Itô (Hänggi–Klimontovich)"),
        );
        None
    }

    /// How the noise term of `eq` is wired (E0304 when it does not fit).
    fn noise_kind(
        &mut self,
        eq: &'m ast::SdeEquation,
        len: Option<usize>,
        decl: Option<&NoiseDecl>,
    ) -> Option<NoiseKind> {
        let Some(term) = &eq.noise else {
            return Some(NoiseKind::None);
        };
        let written = match (&term.index, &eq.index) {
            (None, _) => Written::Plain,
            (Some(j), Some(i)) if i.name == j.name => Written::Same,
            (Some(j), _) => Written::Other(j),
        };
        let m = decl.map(|d| d.len);
        let kind = match (written, m) {
            (Written::Plain, None) if eq.index.is_some() => NoiseKind::Shared,
            (Written::Plain, None) => NoiseKind::Own,
            (Written::Plain, Some(None)) => NoiseKind::Declared,
            (Written::Plain, Some(Some(m))) if eq.index.is_none() && len == Some(m) => {
                NoiseKind::DeclaredDiagonal
            }
            (Written::Same, None) => NoiseKind::Own,
            (Written::Same, Some(Some(m))) if len == Some(m) => NoiseKind::DeclaredDiagonal,
            (Written::Other(_), Some(Some(m))) => {
                NoiseKind::DeclaredSum(self.fresh_var(&Index::constant(0), &Index::constant(m as i64)))
            }
            (w, m) => {
                self.report(noise_mismatch(eq, term, &w, len, m));
                return None;
            }
        };
        Some(kind)
    }

    /// Checks drift and diffusion (zero when absent); `j` of `dW[j]` is bound
    /// in the diffusion only. A k×k matrix coefficient of a row equation's own
    /// noise turns the noise into [`NoiseKind::RowMatrix`].
    fn sde_terms(
        &mut self,
        eq: &'m ast::SdeEquation,
        len: Option<usize>,
        components: &SdeComponents,
        mut noise: NoiseKind,
    ) -> Option<(Rc<Expr>, Rc<Expr>, NoiseKind)> {
        let mut bound = 0;
        if let (Some(var), Some(i)) = (components.bound_var(), &eq.index) {
            self.locals.push((&i.name, Val::Int(Index::var(var))));
            bound += 1;
        }
        let f = self.term(eq.drift.as_ref(), len, components, eq.index.is_some());
        if let (NoiseKind::DeclaredSum(var), Some(j)) =
            (&noise, eq.noise.as_ref().and_then(|n| n.index.as_ref()))
        {
            self.locals.push((&j.name, Val::Int(Index::var(*var))));
            bound += 1;
        }
        let g = match (components, &noise, &eq.noise, &eq.index) {
            (SdeComponents::Rows { row, col, cols }, NoiseKind::Own, Some(term), Some(_)) => {
                let v = self.in_mode(Mode::Model, |cx| cx.expr(&term.coeff));
                match v {
                    Val::Matrix(m) => self.row_matrix(&m, *col, *cols, term.coeff.span).map(|(g, b)| {
                        noise = NoiseKind::RowMatrix(b);
                        g
                    }),
                    other => self.row_component(other, (*row, *col, *cols), true, term.coeff.span),
                }
            }
            _ => self.term(
                eq.noise.as_ref().map(|n| &n.coeff),
                len,
                components,
                eq.index.is_some(),
            ),
        };
        for _ in 0..bound {
            self.locals.pop();
        }
        Some((f?, g?, noise))
    }

    /// Entry (col, b) of the k×k noise matrix of a row equation, with `b` a fresh
    /// variable over `0..k` (E0202 for a matrix of another shape).
    fn row_matrix(
        &mut self,
        m: &MatExpr,
        col: IndexVar,
        cols: usize,
        span: Span,
    ) -> Option<(Rc<Expr>, IndexVar)> {
        if m.rows() != cols || m.cols() != cols {
            self.report(
                Diagnostic::error(
                    "E0202",
                    format!(
                        "the noise matrix of a particle equation must be real[{cols}, {cols}], found real[{}, {}]",
                        m.rows(),
                        m.cols()
                    ),
                )
                .with_label(span, format!("this is real[{}, {}]", m.rows(), m.cols()))
                .with_note(format!(
                    "`G dW[i]` is the product of G with the {cols} Wiener processes of particle i"
                )),
            );
            return None;
        }
        let b = self.fresh_var(&Index::constant(0), &Index::constant(cols as i64));
        Some((self.mat_element(m, &Index::var(col), &Index::var(b)), b))
    }

    /// One term: a scalar for scalar states and indexed equations, a component of
    /// a vector (or a broadcast scalar) for unindexed vector equations.
    fn term(
        &mut self,
        e: Option<&'m ast::Expr>,
        len: Option<usize>,
        components: &SdeComponents,
        indexed: bool,
    ) -> Option<Rc<Expr>> {
        let Some(e) = e else {
            return Some(self.mk(Expr::Const(0.0)));
        };
        let v = self.in_mode(Mode::Model, |cx| cx.expr(e));
        match (components, len) {
            (SdeComponents::Each(var), Some(n)) if !indexed => self.component(v, n, *var, e.span),
            (SdeComponents::Rows { row, col, cols }, _) => {
                self.row_component(v, (*row, *col, *cols), indexed, e.span)
            }
            _ => self.real(v, e.span),
        }
    }

    /// Component `(row, col)` of a term of a row equation `dp[i] = …` (a row
    /// vector or a broadcast scalar) or of an unindexed one `dp = …` (a matrix).
    fn row_component(
        &mut self,
        v: Val,
        (row, col, cols): (IndexVar, IndexVar, usize),
        indexed: bool,
        span: Span,
    ) -> Option<Rc<Expr>> {
        match (v, indexed) {
            (Val::Vector(vec), true) if vec.len() == cols => Some(self.element(&vec, &Index::var(col))),
            (Val::Matrix(m), false) if m.cols() == cols => {
                Some(self.mat_element(&m, &Index::var(row), &Index::var(col)))
            }
            (Val::Vector(_) | Val::Matrix(_), _) => {
                let want = if indexed {
                    format!("real[{cols}] (one row)")
                } else {
                    "the shape of the state".to_string()
                };
                self.report(
                    Diagnostic::error("E0202", format!("this term must be {want}"))
                        .with_label(span, "wrong shape for this equation"),
                );
                None
            }
            (other, _) => self.real(other, span),
        }
    }

    /// Row equations take noise of their own (`dW[i]`, or `dW` on an unindexed
    /// equation), per coordinate or through a k×k matrix; E0304 otherwise.
    fn row_noise_ok(
        &mut self,
        eq: &'m ast::SdeEquation,
        term: &'m ast::NoiseTerm,
        decl: Option<&NoiseDecl>,
    ) -> bool {
        let own = decl.is_none()
            && match (&term.index, &eq.index) {
                (None, None) => true,
                (Some(j), Some(i)) => i.name == j.name,
                _ => false,
            };
        if !own {
            self.report(
                Diagnostic::error("E0304", "a particle equation takes noise of its own: `dW[i]`")
                    .with_label(
                        term.dw_span,
                        "each coordinate of each particle needs its own Wiener process here",
                    )
                    .with_note("shared and declared noise are not supported for particle sets"),
            );
        }
        own
    }

    /// Component `var` of a term of a vector equation (scalars broadcast).
    fn component(&mut self, v: Val, n: usize, var: IndexVar, span: Span) -> Option<Rc<Expr>> {
        match v {
            Val::Vector(vec) if vec.len() == n => Some(self.element(&vec, &Index::var(var))),
            Val::Vector(vec) => {
                self.report(
                    Diagnostic::error(
                        "E0202",
                        format!("this term is real[{}] but the state is real[{n}]", vec.len()),
                    )
                    .with_label(span, format!("this is real[{}]", vec.len())),
                );
                None
            }
            other => self.real(other, span),
        }
    }

    /// `langevin(D = …, kT = …, consistent = …)`: the diffusion √(2D) and the
    /// Langevin data the symbolic stage turns into the drift.
    #[allow(clippy::type_complexity)]
    fn langevin(
        &mut self,
        eq: &'m ast::SdeEquation,
        call: &'m ast::LangevinRhs,
        len: Option<usize>,
        components: &SdeComponents,
        has_energy: bool,
    ) -> Option<(Rc<Expr>, Rc<Expr>, NoiseKind, Option<Langevin>)> {
        if call.func.name != "langevin" {
            let d = Diagnostic::error(
                "E0309",
                format!("`{}(…)` is not an SDE right-hand side", call.func.name),
            )
            .with_label(call.span, "expected `… dt + … dW` or `langevin(D = …)`")
            .with_help("a drift needs `dt` after it: `dx = f(x) dt + g dW`");
            self.report(d);
            return None;
        }
        if !has_energy {
            self.report(
                Diagnostic::error("E0309", "`langevin` needs an energy")
                    .with_label(call.func.span, "overdamped Langevin dynamics in which energy?")
                    .with_help("declare `energy U = …` in the model"),
            );
            return None;
        }
        let args = self.langevin_args(call)?;
        let Some(d_expr) = args.first().copied().flatten() else {
            self.report(
                Diagnostic::error("E0309", "`langevin` needs the diffusion `D`")
                    .with_label(call.span, "add `D = …`, e.g. `langevin(D = 1)`"),
            );
            return None;
        };
        let consistent = self.consistent_arg(args.get(2).copied().flatten())?;
        let mut bound = false;
        if let (Some(var), Some(i)) = (components.bound_var(), &eq.index) {
            self.locals.push((&i.name, Val::Int(Index::var(var))));
            bound = true;
        }
        let d = self.term(Some(d_expr), len, components, eq.index.is_some());
        let kt = match args.get(1).copied().flatten() {
            Some(e) => self.term(Some(e), None, &SdeComponents::Scalar, true),
            None => Some(self.mk(Expr::Const(1.0))),
        };
        if bound {
            self.locals.pop();
        }
        let (d, kt) = (d?, kt?);
        let two = self.mk(Expr::Const(2.0));
        let twice = self.mk(Expr::Binary(BinaryFn::Mul, two, d.clone()));
        let g = self.mk(Expr::Unary(UnaryFn::Sqrt, twice));
        let zero = self.mk(Expr::Const(0.0));
        let lang = Langevin {
            diffusion: d,
            kt,
            consistent,
        };
        Some((zero, g, NoiseKind::Own, Some(lang)))
    }

    /// `consistent = true | false` (true when absent).
    fn consistent_arg(&mut self, e: Option<&ast::Expr>) -> Option<bool> {
        let Some(e) = e else {
            return Some(true);
        };
        if let ExprKind::Bool(b) = e.kind {
            return Some(b);
        }
        self.report(
            Diagnostic::error("E0309", "`consistent` is `true` or `false`")
                .with_label(e.span, "not a boolean literal"),
        );
        None
    }

    /// The named arguments of `langevin`, in [`LANGEVIN_ARGS`] order.
    fn langevin_args(&mut self, call: &'m ast::LangevinRhs) -> Option<Vec<Option<&'m ast::Expr>>> {
        let mut out: Vec<Option<&'m ast::Expr>> = vec![None; LANGEVIN_ARGS.len()];
        let mut ok = true;
        for arg in &call.args {
            let CallArg::Named(name, value) = arg else {
                self.report(
                    Diagnostic::error("E0309", "`langevin` takes named arguments")
                        .with_label(arg.span(), "write `D = …`, `kT = …` or `consistent = …`"),
                );
                ok = false;
                continue;
            };
            let Some(k) = LANGEVIN_ARGS.iter().position(|a| *a == name.name) else {
                let d = with_suggestions(
                    Diagnostic::error("E0401", format!("`langevin` has no argument `{}`", name.name))
                        .with_label(name.span, "unknown argument")
                        .with_note(format!("`langevin` takes: {}", LANGEVIN_ARGS.join(", "))),
                    &name.name,
                    LANGEVIN_ARGS.iter().copied(),
                );
                self.report(d);
                ok = false;
                continue;
            };
            match out.get_mut(k) {
                Some(slot @ None) => *slot = Some(value),
                _ => {
                    self.report(
                        Diagnostic::error(
                            "E0102",
                            format!("argument `{}` is given more than once", name.name),
                        )
                        .with_label(name.span, "given again here"),
                    );
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }
}

/// `x` for `dx`.
fn strip_d(lhs: &str) -> &str {
    lhs.strip_prefix('d').unwrap_or(lhs)
}

fn unknown_convention(name: &str, span: Span) -> Diagnostic {
    with_suggestions(
        Diagnostic::error("E0307", format!("unknown convention `{name}`"))
            .with_label(span, "not a stochastic-integral convention")
            .with_note("conventions: ito, stratonovich, anti_ito (or hanggi), alpha(a) with a in [0, 1]"),
        name,
        ["ito", "stratonovich"]
            .into_iter()
            .chain(CONVENTION_WORDS.iter().copied()),
    )
}

/// E0304: a noise term that does not fit the equation or the declared noise.
fn noise_mismatch(
    eq: &ast::SdeEquation,
    term: &ast::NoiseTerm,
    written: &Written,
    len: Option<usize>,
    m: Option<Option<usize>>,
) -> Diagnostic {
    let state = strip_d(&eq.lhs.name);
    match (written, m) {
        (Written::Other(j), None) => {
            let d = match &eq.index {
                Some(i) => Diagnostic::error(
                    "E0304",
                    format!(
                        "noise index `{}` does not match the equation index `{}`",
                        j.name, i.name
                    ),
                )
                .with_label(j.span, format!("expected `{}`", i.name))
                .with_label(i.span, "the equation is indexed by this"),
                None => Diagnostic::error("E0304", format!("noise `dW[{}]` with no declared noise", j.name))
                    .with_label(j.span, "this index is not bound"),
            };
            d.with_help("to drive the equation by a matrix of noise, declare `noise W: real[m]` in the model")
        }
        (Written::Other(_), Some(None)) | (Written::Same, Some(None)) => {
            Diagnostic::error("E0304", "the declared noise `W` is a single Wiener process")
                .with_label(term.dw_span, "write plain `dW`")
        }
        (_, Some(Some(m))) => {
            let n = len.map_or("a scalar".to_string(), |n| format!("real[{n}]"));
            Diagnostic::error(
                "E0304",
                format!("the declared noise has {m} components but `{state}` is {n}"),
            )
            .with_label(term.dw_span, "which component?")
            .with_help("sum over the noise: `… g(i, j) dW[j]` with an index `j` of its own")
        }
        _ => Diagnostic::error("E0304", "this noise term does not fit the equation")
            .with_label(term.dw_span, "here"),
    }
}
