//! Particle sets and pair terms.
//!
//! `particles p[N]: real[k] in periodic(L), mass = m` declares N particles in
//! R^k: a state of shape [N, k] (a vector of N when the type is `real`). The
//! domain is open space or a periodic box; every set of a model shares it.
//!
//! `pair name(r, i, j) = φ, cutoff = rc, shift = true` is the energy term
//! Σ_{i<j} φ over the unordered pairs of a set. Its binders are, by count, `(r)`,
//! `(i, j)` or `(r, i, j)`: the distance (minimum image in a periodic box) and the
//! particle indices; inside the body `p[i] - p[j]` is the minimum-image
//! displacement. With a cutoff the inner loop runs over the set's neighbour list
//! (a run-time [`ListKind::Neighbors`] list holding every j > i within cutoff +
//! skin) and pairs farther than the cutoff contribute 0; without one it runs over
//! every j > i. `bond name(r) = φ, pairs = b` sums over the pairs listed by the
//! integer matrix `b` (a fixed list).
//!
//! The body is checked with placeholders for the displacement components z, so
//! the virial Σ −z·∇_z φ (the pressure's pair part) is a symbolic derivative too.

use super::cx::{Checker, Mode, PairCx};
use super::pair_options::{unknown_option, PairOptions};
use super::params::Const;
use super::scope::with_suggestions;
use super::val::{Val, VecExpr};
use crate::diagnostic::Diagnostic;
use crate::model::{
    BinaryFn, CmpOp, Domain, EnergyTerm, Expr, Index, IndexVar, List, ListId, ListKind, Over, PairTerm,
    ParticleSet, ReduceOp, StateId, UnaryFn,
};
use crate::source::Span;
use crate::syntax::ast::{self, ModelItem, TypeExpr};
use std::rc::Rc;

/// Options of a particle declaration.
const PARTICLE_OPTIONS: &[&str] = &["mass"];
/// Default Verlet skin, as a fraction of the cutoff.
const SKIN_FRACTION: f64 = 0.12;

/// The three binders of a pair term, as names.
struct Binders<'m> {
    r: Option<&'m ast::Ident>,
    i: Option<&'m ast::Ident>,
    j: Option<&'m ast::Ident>,
}

impl<'m> Checker<'m> {
    /// `(len, cols)` of a particle set's state: N (type `real`) or N·k (`real[k]`).
    pub(super) fn size_particles(
        &mut self,
        name: &ast::Ident,
        ty: &'m TypeExpr,
        decl: &'m ast::ParticlesDecl,
    ) -> (Option<usize>, Option<usize>) {
        let count = self.size(&decl.count).unwrap_or(0);
        match ty {
            TypeExpr::Real(_) => (Some(count), None),
            TypeExpr::Array { int: false, dims, .. } if dims.len() == 1 => {
                let k = dims.first().and_then(|d| self.size(d)).unwrap_or(0);
                (Some(count * k), Some(k))
            }
            other => {
                self.report(
                    Diagnostic::error(
                        "E0801",
                        format!(
                            "each particle of `{}` must have `real` or `real[k]` coordinates",
                            name.name
                        ),
                    )
                    .with_label(other.span(), "not a position type")
                    .with_help("write e.g. `particles p[N]: real[3]`"),
                );
                (Some(0), None)
            }
        }
    }

    /// The particle sets (by state slot) and their common domain.
    pub(super) fn particle_sets(&mut self) {
        let mut sets = Vec::new();
        let mut domain: Option<(Domain, Span)> = None;
        for k in 0..self.states.len() {
            let Some((decl, len, cols)) = self
                .states
                .get(k)
                .and_then(|s| Some((s.particles?, s.len?, s.cols)))
            else {
                continue;
            };
            if len == 0 {
                continue;
            }
            let dim = cols.unwrap_or(1);
            let count = len / dim.max(1);
            let mut mass = vec![1.0];
            for (name, value) in &decl.options {
                match name.name.as_str() {
                    "mass" => mass = self.mass_option(value, count).unwrap_or(mass),
                    other => self.report(unknown_option(
                        other,
                        name.span,
                        "a particle set",
                        PARTICLE_OPTIONS,
                    )),
                }
            }
            let here = match &decl.domain {
                Some(e) => self.domain(e, dim),
                None => Some(Domain::Open),
            };
            if let Some(here) = here {
                match &domain {
                    Some((first, span)) if *first != here => self.report(
                        Diagnostic::error("E0801", "particle sets of one model live in different domains")
                            .with_label(decl.span, "this set's domain")
                            .with_label(*span, "differs from this one")
                            .with_note("all particle sets share one space"),
                    ),
                    Some(_) => {}
                    None => domain = Some((here, decl.span)),
                }
            }
            sets.push(ParticleSet {
                name: decl.name.name.clone(),
                state: StateId(k as u32),
                count,
                dim,
                mass,
                span: decl.span,
            });
        }
        let dims: Vec<usize> = sets.iter().map(|s| s.dim).collect();
        if let (Some((Domain::Periodic(l), span)), Some(d)) = (
            &domain,
            dims.first().and_then(|first| dims.iter().find(|d| *d != first)),
        ) {
            let _ = (l, d);
            self.report(
                Diagnostic::error(
                    "E0801",
                    "particle sets in one periodic box have different dimensions",
                )
                .with_label(*span, "the box"),
            );
        }
        self.domain = domain.map(|(d, _)| d).unwrap_or_default();
        self.sets = sets;
    }

    /// `mass = m` (one positive constant) or one per particle.
    fn mass_option(&mut self, e: &'m ast::Expr, count: usize) -> Option<Vec<f64>> {
        let values = match self.constant(e)? {
            Const::Int(i) => vec![i as f64],
            Const::Real(x) => vec![x],
            Const::Vector(v) if v.len() == count => v,
            other => {
                self.report(
                    Diagnostic::error("E0801", format!("`mass` is one number or real[{count}]"))
                        .with_label(e.span, format!("this is {}", other.shape())),
                );
                return None;
            }
        };
        if let Some(bad) = values.iter().find(|m| not_positive(**m)) {
            self.report(
                Diagnostic::error("E0801", format!("masses must be positive, found {bad}"))
                    .with_label(e.span, "not positive"),
            );
            return None;
        }
        Some(values)
    }

    /// `periodic(L)`, `periodic([Lx, Ly, …])` or `open`.
    fn domain(&mut self, e: &'m ast::Expr, dim: usize) -> Option<Domain> {
        let bad = |cx: &mut Self| {
            cx.report(
                Diagnostic::error(
                    "E0801",
                    "a domain is `open`, `periodic(L)` or `periodic([Lx, Ly, …])`",
                )
                .with_label(e.span, "not a domain"),
            );
            None
        };
        match &e.kind {
            ast::ExprKind::Name(n) if n == "open" => Some(Domain::Open),
            ast::ExprKind::Call { func, args } if func.name == "periodic" => {
                let [ast::CallArg::Positional(len)] = args.as_slice() else {
                    return bad(self);
                };
                let lengths = match self.constant(len)? {
                    Const::Int(i) => vec![i as f64; dim],
                    Const::Real(x) => vec![x; dim],
                    Const::Vector(v) if v.len() == dim => v,
                    other => {
                        self.report(
                            Diagnostic::error("E0801", format!("the box needs one length or {dim}"))
                                .with_label(len.span, format!("this is {}", other.shape())),
                        );
                        return None;
                    }
                };
                if let Some(l) = lengths.iter().find(|l| not_positive(**l)) {
                    self.report(
                        Diagnostic::error("E0801", format!("box lengths must be positive, found {l}"))
                            .with_label(len.span, "not positive"),
                    );
                    return None;
                }
                Some(Domain::Periodic(lengths))
            }
            _ => bad(self),
        }
    }

    /// The particle set named `name`, by index.
    pub(super) fn set_named(&self, name: &str) -> Option<u32> {
        self.sets.iter().position(|s| s.name == name).map(|k| k as u32)
    }

    /// The set a `j in p` binder or a pair term refers to, from an expression
    /// naming it.
    pub(super) fn set_of_expr(&self, e: &ast::Expr) -> Option<u32> {
        match &e.kind {
            ast::ExprKind::Name(n) if !self.locals.iter().any(|(l, _)| l == n) => self.set_named(n),
            _ => None,
        }
    }

    /// Inside a pair term's body, `p[i] - p[j]` of the pair's own particles is the
    /// minimum-image displacement.
    pub(super) fn pair_displacement(&self, f: BinaryFn, a: &Val, b: &Val) -> Option<Rc<VecExpr>> {
        let pair = self.pair.as_ref()?;
        if f != BinaryFn::Sub {
            return None;
        }
        let row = |v: &Val| match v {
            Val::Vector(v) => match &**v {
                VecExpr::Row(m, ix) => match &**m {
                    super::val::MatExpr::State(s, _, _) if *s == pair.state => {
                        ix.terms.first().map(|t| t.0).filter(|_| {
                            ix.constant == 0
                                && ix.terms.len() == 1
                                && ix.terms.first().map(|t| t.1) == Some(1)
                        })
                    }
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        };
        (row(a) == Some(pair.i) && row(b) == Some(pair.j)).then(|| pair.disp.clone())
    }

    /// Checks every `pair` and `bond` term: their energy terms and descriptions.
    pub(super) fn pair_terms(&mut self, decl: &'m ast::ModelDecl) -> (Vec<EnergyTerm>, Vec<PairTerm>) {
        let mut energies = Vec::new();
        let mut pairs = Vec::new();
        for item in &decl.items {
            let ModelItem::Pair(p) = item else {
                continue;
            };
            if let Some((e, t)) = self.in_mode(Mode::Model, |cx| cx.pair_term(p)) {
                energies.push(e);
                pairs.push(t);
            }
        }
        (energies, pairs)
    }

    fn pair_term(&mut self, p: &'m ast::PairDecl) -> Option<(EnergyTerm, PairTerm)> {
        let binders = self.binders(p)?;
        let set = self.pair_set(p)?;
        let mut opts = self.pair_options(p)?;
        let info = self.sets.get(set as usize)?.clone();
        let (n, dim) = (info.count as i64, info.dim);
        if let Some(b) = opts.batches {
            let why = if opts.cutoff.is_some() {
                Some("`batches` applies to pair terms without a cutoff (mean-field sums)".to_string())
            } else if n % b as i64 != 0 || b as i64 > n {
                Some(format!(
                    "`batches = {b}` must divide the number of particles ({n})"
                ))
            } else {
                None
            };
            if let Some(why) = why {
                self.report(Diagnostic::error("E0802", why).with_label(p.span, "this pair term"));
                return None;
            }
        }
        if let (Some(rc), Domain::Periodic(lengths)) = (opts.cutoff, &self.domain) {
            let half = 0.5 * lengths.iter().copied().fold(f64::INFINITY, f64::min);
            // The default skin shrinks to fit a small box; a skin given must fit.
            let skin = opts.skin.unwrap_or((SKIN_FRACTION * rc).min(half - rc).max(0.0));
            opts.skin = Some(skin);
            let reach = rc + skin;
            if reach > half {
                let what = if skin > 0.0 {
                    format!("cutoff plus skin ({rc} + {skin})")
                } else {
                    format!("the cutoff ({rc})")
                };
                self.report(
                    Diagnostic::error(
                        "E0802",
                        format!("{what} exceeds half the box length, L/2 = {half}"),
                    )
                    .with_label(p.span, "this pair term")
                    .with_note("minimum-image distances need cutoff + skin ≤ L/2"),
                );
                return None;
            }
        }
        let i = self.fresh_var(&Index::constant(0), &Index::constant(n));
        let (j, over_j, list) = self.inner_loop(p, set, &opts, i, n)?;
        let zs: Vec<u32> = (0..dim).map(|_| self.fresh_arg()).collect();
        let disp = self.displacement(info.state, dim, i, j);
        let placeholders: Vec<Rc<Expr>> = zs.iter().map(|z| self.mk(Expr::Arg(*z))).collect();
        let r_of_z = self.norm_of(&placeholders);
        let body_z = self.pair_body(p, &binders, (i, j), info.state, (Some(r_of_z), &placeholders))?;
        let values: Vec<(u32, Rc<Expr>)> = zs.iter().copied().zip(disp.iter().cloned()).collect();
        let phi = self.mk(Expr::Subst {
            body: body_z.clone(),
            args: values.clone(),
        });
        let r2 = self.sum_of_squares(&disp);
        let shifted = match (opts.cutoff, opts.shift) {
            (Some(rc), true) => {
                let rc_e = self.mk(Expr::Const(rc));
                let at_rc = self.pair_body(p, &binders, (i, j), info.state, (Some(rc_e), &placeholders))?;
                if mentions_args_or_state(&at_rc) {
                    self.report(
                        Diagnostic::error("E0802", "`shift` needs a potential of the distance only")
                            .with_label(p.body.span, "this depends on the displacement, not only on `r`"),
                    );
                    return None;
                }
                self.mk(Expr::Binary(BinaryFn::Sub, phi, at_rc))
            }
            _ => phi,
        };
        // −Σ_a z_a ∂φ/∂z_a at z = d: the pair's contribution to the virial.
        let mut virial_z: Option<Rc<Expr>> = None;
        for (z, arg) in zs.iter().zip(&placeholders) {
            let d = self.mk(Expr::Deriv {
                body: body_z.clone(),
                arg: *z,
            });
            let term = self.mk(Expr::Binary(BinaryFn::Mul, arg.clone(), d));
            virial_z = Some(match virial_z {
                None => term,
                Some(acc) => self.mk(Expr::Binary(BinaryFn::Add, acc, term)),
            });
        }
        let virial_z = virial_z.unwrap_or_else(|| self.mk(Expr::Const(0.0)));
        let neg = self.mk(Expr::Unary(UnaryFn::Neg, virial_z));
        let virial_pair = self.mk(Expr::Subst {
            body: neg,
            args: values,
        });
        let (value, virial) = match opts.cutoff {
            Some(rc) => {
                let rc2 = self.mk(Expr::Const(rc * rc));
                let inside = self.mk(Expr::Compare(CmpOp::Lt, r2, rc2));
                let zero = self.mk(Expr::Const(0.0));
                (
                    self.mk(Expr::Select(inside.clone(), shifted, zero.clone())),
                    self.mk(Expr::Select(inside, virial_pair, zero)),
                )
            }
            None => (shifted, virial_pair),
        };
        // Random batches: each pair of a batch stands for (N − 1)/(p − 1) pairs, so
        // the batch sum is an unbiased estimate of the full one (Jin, Li & Liu 2020).
        let (value, virial) = match opts.batches {
            Some(b) => {
                let w = self.mk(Expr::Const((n - 1) as f64 / (b - 1) as f64));
                (
                    self.mk(Expr::Binary(BinaryFn::Mul, w.clone(), value)),
                    self.mk(Expr::Binary(BinaryFn::Mul, w, virial)),
                )
            }
            None => (value, virial),
        };
        let lo_j = match over_j {
            Over::Range => crate::resolve::index::add(&Index::var(i), &Index::constant(1))?,
            _ => Index::constant(0),
        };
        let sum_pairs = |cx: &mut Self, body: Rc<Expr>| {
            let inner = cx.mk(Expr::Reduce {
                op: ReduceOp::Sum,
                var: j,
                lo: lo_j.clone(),
                hi: Index::constant(n),
                over: over_j.clone(),
                body,
            });
            cx.mk(Expr::Reduce {
                op: ReduceOp::Sum,
                var: i,
                lo: Index::constant(0),
                hi: Index::constant(n),
                over: Over::Particles(set),
                body: inner,
            })
        };
        let energy = sum_pairs(self, value);
        let virial = sum_pairs(self, virial);
        Some((
            EnergyTerm {
                name: p.name.name.clone(),
                expr: energy,
                span: p.span,
            },
            PairTerm {
                name: p.name.name.clone(),
                set,
                list,
                cutoff: opts.cutoff,
                virial,
                span: p.span,
            },
        ))
    }

    /// The pair's inner variable j, how it runs, and the list it runs over.
    fn inner_loop(
        &mut self,
        p: &'m ast::PairDecl,
        set: u32,
        opts: &PairOptions,
        i: IndexVar,
        n: i64,
    ) -> Option<(IndexVar, Over, Option<ListId>)> {
        let list = match (&opts.pairs, opts.cutoff) {
            (Some(pairs), _) => Some(self.fixed_list(pairs, n as usize)),
            (None, Some(rc)) => {
                let skin = opts.skin.unwrap_or(SKIN_FRACTION * rc);
                Some(self.add_list(List {
                    kind: ListKind::Neighbors {
                        set,
                        cutoff: rc,
                        skin,
                    },
                    rows: n as usize,
                    bound: n as usize,
                }))
            }
            (None, None) => opts.batches.map(|size| {
                self.add_list(List {
                    kind: ListKind::RandomBatches { set, size },
                    rows: n as usize,
                    bound: n as usize,
                })
            }),
        };
        let _ = p;
        match list {
            Some(l) => {
                let j = self.fresh_var(&Index::constant(0), &Index::constant(n));
                let over = Over::List {
                    list: l,
                    row: Index::var(i),
                };
                Some((j, over, Some(l)))
            }
            None => {
                let lo = crate::resolve::index::add(&Index::var(i), &Index::constant(1))?;
                let j = self.fresh_var(&lo, &Index::constant(n));
                Some((j, Over::Range, None))
            }
        }
    }

    fn add_list(&mut self, list: List) -> ListId {
        self.lists.push(list);
        ListId(self.lists.len() as u32 - 1)
    }

    /// The fixed list of bonds: row min(a, b) holds max(a, b), each pair once.
    fn fixed_list(&mut self, pairs: &[(usize, usize)], n: usize) -> ListId {
        let mut rows: Vec<Vec<u32>> = vec![Vec::new(); n];
        for &(a, b) in pairs {
            let (lo, hi) = (a.min(b), a.max(b));
            if let Some(r) = rows.get_mut(lo) {
                if !r.contains(&(hi as u32)) {
                    r.push(hi as u32);
                }
            }
        }
        let mut start = vec![0u32];
        let mut idx = Vec::new();
        for mut r in rows {
            r.sort_unstable();
            idx.extend(r);
            start.push(idx.len() as u32);
        }
        self.add_list(List {
            kind: ListKind::Fixed { start, idx },
            rows: n,
            bound: n,
        })
    }

    /// The minimum-image displacement p[i] − p[j], component by component.
    fn displacement(&mut self, state: StateId, dim: usize, i: IndexVar, j: IndexVar) -> Vec<Rc<Expr>> {
        let lengths = match &self.domain {
            Domain::Periodic(l) => Some(l.clone()),
            Domain::Open => None,
        };
        (0..dim)
            .map(|a| {
                let at = |v: IndexVar| Index {
                    constant: a as i64,
                    terms: vec![(v, dim as i64)],
                };
                let xi = self.mk(Expr::StateElem(state, at(i)));
                let xj = self.mk(Expr::StateElem(state, at(j)));
                let d = self.mk(Expr::Binary(BinaryFn::Sub, xi, xj));
                match lengths.as_ref().and_then(|l| l.get(a)) {
                    // d − L·round(d/L), the rounding without a derivative.
                    Some(l) => {
                        let inv = self.mk(Expr::Const(1.0 / l));
                        let scaled = self.mk(Expr::Binary(BinaryFn::Mul, d.clone(), inv));
                        let k = self.mk(Expr::Unary(UnaryFn::Round, scaled));
                        let len = self.mk(Expr::Const(*l));
                        let shift = self.mk(Expr::Binary(BinaryFn::Mul, len, k));
                        let shift = self.mk(Expr::NoGrad(shift));
                        self.mk(Expr::Binary(BinaryFn::Sub, d, shift))
                    }
                    None => d,
                }
            })
            .collect()
    }

    fn sum_of_squares(&mut self, xs: &[Rc<Expr>]) -> Rc<Expr> {
        let mut acc: Option<Rc<Expr>> = None;
        for x in xs {
            let sq = self.mk(Expr::Binary(BinaryFn::Mul, x.clone(), x.clone()));
            acc = Some(match acc {
                None => sq,
                Some(a) => self.mk(Expr::Binary(BinaryFn::Add, a, sq)),
            });
        }
        acc.unwrap_or_else(|| self.mk(Expr::Const(0.0)))
    }

    fn norm_of(&mut self, xs: &[Rc<Expr>]) -> Rc<Expr> {
        let s = self.sum_of_squares(xs);
        self.mk(Expr::Unary(UnaryFn::Sqrt, s))
    }

    /// A placeholder argument id not used before.
    pub(super) fn fresh_arg(&mut self) -> u32 {
        self.next_arg += 1;
        self.next_arg
    }

    /// The body, with `r` bound to `r` and `p[i] - p[j]` to `disp`.
    fn pair_body(
        &mut self,
        p: &'m ast::PairDecl,
        b: &Binders<'m>,
        (i, j): (IndexVar, IndexVar),
        state: StateId,
        (r, disp): (Option<Rc<Expr>>, &[Rc<Expr>]),
    ) -> Option<Rc<Expr>> {
        let saved = self.pair.replace(PairCx {
            state,
            i,
            j,
            disp: Rc::new(VecExpr::Literal(disp.to_vec())),
        });
        let mut bound = 0;
        if let (Some(name), Some(r)) = (b.r, r) {
            self.locals.push((&name.name, Val::Real(r)));
            bound += 1;
        }
        for (name, v) in [(b.i, i), (b.j, j)] {
            if let Some(name) = name {
                self.locals.push((&name.name, Val::Int(Index::var(v))));
                bound += 1;
            }
        }
        let v = self.expr(&p.body);
        for _ in 0..bound {
            self.locals.pop();
        }
        self.pair = saved;
        self.real(v, p.body.span)
    }

    /// `(r)`, `(i, j)` or `(r, i, j)`.
    fn binders(&mut self, p: &'m ast::PairDecl) -> Option<Binders<'m>> {
        let names: Vec<&'m ast::Ident> = p.binders.iter().map(|b| &b.name).collect();
        let b = match names.as_slice() {
            [r] => Binders {
                r: Some(r),
                i: None,
                j: None,
            },
            [i, j] => Binders {
                r: None,
                i: Some(i),
                j: Some(j),
            },
            [r, i, j] => Binders {
                r: Some(r),
                i: Some(i),
                j: Some(j),
            },
            _ => {
                self.report(
                    Diagnostic::error(
                        "E0802",
                        format!("`{}` binds `(r)`, `(i, j)` or `(r, i, j)`", p.name.name),
                    )
                    .with_label(p.name.span, format!("{} names given", names.len()))
                    .with_note("r is the distance of the pair, i and j are its particles"),
                );
                return None;
            }
        };
        if let Some(first) = p
            .binders
            .first()
            .filter(|_| names.len() != 2)
            .and_then(|b| b.set.as_ref())
        {
            self.report(
                Diagnostic::error("E0802", "the distance is not a particle index")
                    .with_label(first.span, "write `in p` after `i` and `j`"),
            );
            return None;
        }
        Some(b)
    }

    /// The particle set of a pair term: from `i in p` / `j in p`, or the model's only set.
    fn pair_set(&mut self, p: &'m ast::PairDecl) -> Option<u32> {
        let named: Vec<&ast::Ident> = p.binders.iter().filter_map(|b| b.set.as_ref()).collect();
        let mut found: Option<u32> = None;
        for n in &named {
            let Some(s) = self.set_named(&n.name) else {
                let d = with_suggestions(
                    Diagnostic::error("E0802", format!("`{}` is not a particle set", n.name))
                        .with_label(n.span, "no particle set with this name"),
                    &n.name,
                    self.sets.iter().map(|s| s.name.as_str()),
                );
                self.report(d);
                return None;
            };
            if found.is_some_and(|f| f != s) {
                self.report(
                    Diagnostic::error("E0802", "pair terms between two particle sets are not supported")
                        .with_label(n.span, "a second set")
                        .with_help(
                            "write the interaction as a sum: `energy e = sum(i in a, sum(j in b, …))`",
                        ),
                );
                return None;
            }
            found = Some(s);
        }
        if let Some(s) = found {
            return Some(s);
        }
        match self.sets.len() {
            1 => Some(0),
            0 => {
                self.report(
                    Diagnostic::error("E0802", format!("`{}` needs particles", p.name.name))
                        .with_label(p.span, "this model declares no `particles`"),
                );
                None
            }
            _ => {
                self.report(
                    Diagnostic::error(
                        "E0802",
                        format!("which particle set does `{}` act on?", p.name.name),
                    )
                    .with_label(p.name.span, "the model has several particle sets")
                    .with_help("name it: `pair lj(r, i in p, j in p) = …`"),
                );
                None
            }
        }
    }
}

/// Whether an expression still depends on a placeholder or a state.
fn mentions_args_or_state(e: &Rc<Expr>) -> bool {
    let mut stack = vec![e.clone()];
    let mut seen = std::collections::HashSet::new();
    while let Some(e) = stack.pop() {
        if !seen.insert(Rc::as_ptr(&e)) {
            continue;
        }
        match &*e {
            Expr::Arg(_) | Expr::State(_) | Expr::StateElem(..) => return true,
            Expr::Const(_) | Expr::Param(_) | Expr::ParamElem(..) | Expr::Time | Expr::IndexValue(_) => {}
            Expr::Lookup { keys, .. } => stack.extend(keys.iter().map(|(k, _)| k.clone())),
            Expr::Unary(_, a) | Expr::Not(a) | Expr::NoGrad(a) | Expr::Deriv { body: a, .. } => {
                stack.push(a.clone())
            }
            Expr::Binary(_, a, b) | Expr::Compare(_, a, b) | Expr::And(a, b) | Expr::Or(a, b) => {
                stack.push(a.clone());
                stack.push(b.clone());
            }
            Expr::Select(c, a, b) => stack.extend([c.clone(), a.clone(), b.clone()]),
            Expr::Reduce { body, .. } => stack.push(body.clone()),
            Expr::Subst { body, args } => {
                stack.push(body.clone());
                stack.extend(args.iter().map(|(_, v)| v.clone()));
            }
        }
    }
    false
}

/// Whether `x` is not a positive number (NaN included).
fn not_positive(x: f64) -> bool {
    x.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater)
}
