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
use super::params::Const;
use super::scope::with_suggestions;
use super::val::{Val, VecExpr};
use crate::diagnostic::Diagnostic;
use crate::model::{
    BinaryFn, CmpOp, Domain, EnergyTerm, Expr, Index, IndexVar, List, ListId, ListKind, Over, PairTerm,
    ParticleSet, ReduceOp, StateId, UnaryFn,
};
use crate::source::Span;
use crate::syntax::ast::{self, ModelItem, PairKind, TypeExpr};
use std::rc::Rc;

/// Options of a particle declaration.
const PARTICLE_OPTIONS: &[&str] = &["mass"];
/// Options of a pair term.
const PAIR_OPTIONS: &[&str] = &["cutoff", "shift", "skin", "batches"];
/// Options of a bond term.
const BOND_OPTIONS: &[&str] = &["pairs"];

/// Default Verlet skin, as a fraction of the cutoff.
const SKIN_FRACTION: f64 = 0.12;

/// A pair term's options after checking.
struct PairOptions {
    cutoff: Option<f64>,
    shift: bool,
    skin: Option<f64>,
    pairs: Option<Vec<(usize, usize)>>,
    /// Random Batch Method: particles per batch.
    batches: Option<usize>,
}

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

    fn pair_options(&mut self, p: &'m ast::PairDecl) -> Option<PairOptions> {
        let mut o = PairOptions {
            cutoff: None,
            shift: false,
            skin: None,
            pairs: None,
            batches: None,
        };
        let allowed = match p.kind {
            PairKind::Pair => PAIR_OPTIONS,
            PairKind::Bond => BOND_OPTIONS,
        };
        let mut ok = true;
        for (name, value) in &p.options {
            if !allowed.contains(&name.name.as_str()) {
                let what = if p.kind == PairKind::Pair {
                    "a pair term"
                } else {
                    "a bond term"
                };
                self.report(unknown_option(&name.name, name.span, what, allowed));
                ok = false;
                continue;
            }
            match name.name.as_str() {
                "cutoff" => o.cutoff = self.positive(value, "the cutoff"),
                "skin" => o.skin = self.non_negative(value, "the skin"),
                "batches" => match self.number_const(value) {
                    Some(b) if b.fract() == 0.0 && b >= 2.0 => o.batches = Some(b as usize),
                    Some(_) => {
                        self.report(
                            Diagnostic::error("E0802", "`batches` is a whole number of particles ≥ 2")
                                .with_label(value.span, "here"),
                        );
                        ok = false;
                    }
                    None => ok = false,
                },
                "shift" => match value.kind {
                    ast::ExprKind::Bool(b) => o.shift = b,
                    _ => {
                        self.report(
                            Diagnostic::error("E0802", "`shift` is `true` or `false`")
                                .with_label(value.span, "here"),
                        );
                        ok = false;
                    }
                },
                _ => o.pairs = self.bond_pairs(value),
            }
        }
        if p.kind == PairKind::Bond && o.pairs.is_none() {
            self.report(
                Diagnostic::error("E0802", format!("bond term `{}` needs its pairs", p.name.name))
                    .with_label(p.span, "add `pairs = b` with an integer matrix b of shape [M, 2]"),
            );
            ok = false;
        }
        if o.shift && o.cutoff.is_none() {
            self.report(
                Diagnostic::error("E0802", "`shift` needs a `cutoff`").with_label(p.span, "no cutoff given"),
            );
            ok = false;
        }
        ok.then_some(o)
    }

    fn positive(&mut self, e: &'m ast::Expr, what: &str) -> Option<f64> {
        let x = self.number_const(e)?;
        if x > 0.0 {
            return Some(x);
        }
        self.report(
            Diagnostic::error("E0802", format!("{what} must be positive"))
                .with_label(e.span, format!("this is {x}")),
        );
        None
    }

    fn non_negative(&mut self, e: &'m ast::Expr, what: &str) -> Option<f64> {
        let x = self.number_const(e)?;
        if x >= 0.0 {
            return Some(x);
        }
        self.report(
            Diagnostic::error("E0802", format!("{what} must be ≥ 0"))
                .with_label(e.span, format!("this is {x}")),
        );
        None
    }

    /// A scalar constant.
    pub(super) fn number_const(&mut self, e: &'m ast::Expr) -> Option<f64> {
        match self.constant(e)? {
            Const::Int(i) => Some(i as f64),
            Const::Real(x) => Some(x),
            other => {
                self.report(
                    Diagnostic::error("E0201", format!("expected a number, found {}", other.shape()))
                        .with_label(e.span, format!("this is {}", other.shape())),
                );
                None
            }
        }
    }

    /// `pairs = b`: an [M, 2] matrix of particle indices.
    fn bond_pairs(&mut self, e: &'m ast::Expr) -> Option<Vec<(usize, usize)>> {
        let n = self.sets.first().map_or(0, |s| s.count);
        let (rows, data) = match self.constant(e)? {
            Const::Matrix(r, 2, v) => (r, v),
            other => {
                self.report(
                    Diagnostic::error("E0802", "`pairs` is an integer matrix of shape [M, 2]")
                        .with_label(e.span, format!("this is {}", other.shape())),
                );
                return None;
            }
        };
        let mut out = Vec::with_capacity(rows);
        for pair in data.chunks(2) {
            let [a, b] = pair else {
                continue;
            };
            let ok = |x: f64| x.fract() == 0.0 && x >= 0.0 && (x as usize) < n;
            if !ok(*a) || !ok(*b) || a == b {
                self.report(
                    Diagnostic::error(
                        "E0802",
                        format!("bond ({a}, {b}) is not a pair of two of the {n} particles"),
                    )
                    .with_label(e.span, "in these pairs"),
                );
                return None;
            }
            out.push((*a as usize, *b as usize));
        }
        Some(out)
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

/// E0802/E0801: an unknown option, with suggestions.
fn unknown_option(name: &str, span: Span, what: &str, allowed: &[&str]) -> Diagnostic {
    let code = if what == "a particle set" {
        "E0801"
    } else {
        "E0802"
    };
    with_suggestions(
        Diagnostic::error(code, format!("{what} has no option `{name}`"))
            .with_label(span, "unknown option")
            .with_note(format!("options: {}", allowed.join(", "))),
        name,
        allowed.iter().copied(),
    )
}

impl<'m> Checker<'m> {
    /// The `observe` declarations: scalar expressions (energy terms may be named
    /// in them), `pressure()` and `rdf(p, r_max = …, bins = …)`.
    pub(super) fn observables(
        &mut self,
        decl: &'m ast::ModelDecl,
        energy: &[EnergyTerm],
        pairs: &[PairTerm],
    ) -> Vec<crate::model::Observable> {
        let mut out: Vec<crate::model::Observable> = Vec::new();
        // Energy and pair terms, by name, for the observables' expressions.
        // A term that failed to check (its error already reported) is known by
        // name all the same, as an error value, so observables naming it add no
        // "unknown name" on top.
        let terms: Vec<(&'m str, Val)> = decl
            .items
            .iter()
            .filter_map(|item| match item {
                ModelItem::Energy(ast::EnergyDecl { name, .. })
                | ModelItem::Pair(ast::PairDecl { name, .. }) => {
                    let value = energy
                        .iter()
                        .find(|t| t.name == name.name)
                        .map_or(Val::Error, |t| Val::Real(t.expr.clone()));
                    Some((name.name.as_str(), value))
                }
                _ => None,
            })
            .collect();
        for item in &decl.items {
            let ModelItem::Observe(o) = item else {
                continue;
            };
            if let Some(first) = out.iter().find(|x| x.name == o.name.name) {
                self.report(super::scope::duplicate(
                    &o.name.name,
                    "observable",
                    first.span,
                    o.name.span,
                ));
                continue;
            }
            let kind = match &o.value.kind {
                ast::ExprKind::Call { func, args } if func.name == "rdf" && self.lookup_is_builtin("rdf") => {
                    self.rdf_observable(args, o.value.span)
                }
                ast::ExprKind::Call { func, args }
                    if func.name == "pressure" && self.lookup_is_builtin("pressure") =>
                {
                    if !args.is_empty() {
                        self.report(
                            Diagnostic::error("E0803", "`pressure()` takes no arguments")
                                .with_label(o.value.span, "remove the arguments"),
                        );
                    }
                    self.pressure_observable(pairs, o.value.span)
                }
                _ => self.value_observable(&o.value, &terms),
            };
            if let Some(kind) = kind {
                out.push(crate::model::Observable {
                    name: o.name.name.clone(),
                    kind,
                    span: o.span,
                });
            }
        }
        out
    }

    /// Whether `name` is not shadowed by a user definition.
    fn lookup_is_builtin(&self, name: &str) -> bool {
        matches!(
            self.lookup(name),
            super::scope::Found::Missing | super::scope::Found::Builtin
        )
    }

    fn value_observable(
        &mut self,
        e: &'m ast::Expr,
        terms: &[(&'m str, Val)],
    ) -> Option<crate::model::ObservableKind> {
        let depth = self.locals.len();
        self.locals.extend(terms.iter().map(|(n, v)| (*n, v.clone())));
        let v = self.in_mode(Mode::Model, |cx| cx.expr(e));
        self.locals.truncate(depth);
        self.real(v, e.span).map(crate::model::ObservableKind::Value)
    }

    fn pressure_observable(
        &mut self,
        pairs: &[PairTerm],
        span: Span,
    ) -> Option<crate::model::ObservableKind> {
        let Domain::Periodic(lengths) = self.domain.clone() else {
            self.report(
                Diagnostic::error("E0803", "the pressure needs a periodic box")
                    .with_label(span, "the particles live in open space"),
            );
            return None;
        };
        let Some(set) = self.sets.first().cloned() else {
            self.report(
                Diagnostic::error("E0803", "the pressure needs particles").with_label(span, "no particles"),
            );
            return None;
        };
        let mut virial = self.mk(Expr::Const(0.0));
        for p in pairs {
            virial = self.mk(Expr::Binary(BinaryFn::Add, virial, p.virial.clone()));
        }
        let count = self.sets.iter().map(|s| s.count).sum();
        Some(crate::model::ObservableKind::Pressure {
            virial,
            volume: lengths.iter().product(),
            count,
            dim: set.dim,
        })
    }

    fn rdf_observable(
        &mut self,
        args: &'m [ast::CallArg],
        span: Span,
    ) -> Option<crate::model::ObservableKind> {
        let usage = |cx: &mut Self| {
            cx.report(
                Diagnostic::error("E0803", "write `rdf(p, r_max = …, bins = …)`").with_label(
                    span,
                    "a particle set, the largest distance and (optionally) the number of bins",
                ),
            );
            None
        };
        let Some((ast::CallArg::Positional(set_e), rest)) = args.split_first() else {
            return usage(self);
        };
        let Some(set) = self.set_of_expr(set_e) else {
            return usage(self);
        };
        let (mut r_max, mut bins) = (None, 100usize);
        for a in rest {
            match a {
                ast::CallArg::Named(n, v) if n.name == "r_max" => r_max = self.positive(v, "`r_max`"),
                ast::CallArg::Named(n, v) if n.name == "bins" => {
                    let b = self.number_const(v)?;
                    if b.fract() != 0.0 || !(1.0..=1e6).contains(&b) {
                        self.report(
                            Diagnostic::error("E0803", "`bins` is an integer between 1 and 1000000")
                                .with_label(v.span, "here"),
                        );
                        return None;
                    }
                    bins = b as usize;
                }
                _ => return usage(self),
            }
        }
        let Some(r_max) = r_max else {
            return usage(self);
        };
        if let Domain::Periodic(l) = &self.domain {
            if let Some(l) = l.iter().find(|l| r_max > 0.5 * **l) {
                self.report(
                    Diagnostic::error("E0803", format!("`r_max` exceeds half the box length ({l})"))
                        .with_label(span, "g(r) is defined up to L/2 in a periodic box"),
                );
                return None;
            }
        }
        Some(crate::model::ObservableKind::Rdf { set, r_max, bins })
    }
}

impl<'m> Checker<'m> {
    /// `fcc(cells, a)`: the 4·cells³ sites of a face-centred cubic lattice of
    /// `cells` unit cells of side `a` per dimension, offset by a/4 (so none lies on
    /// the box boundary), as a [4·cells³, 3] matrix. `lattice(n, k, a)`: the nᵏ sites
    /// of a simple (hyper)cubic lattice of spacing `a` in k dimensions, offset by a/2.
    pub(super) fn lattice_builtin(&mut self, name: &str, args: &[&'m ast::Expr], span: Span) -> Val {
        let (count, dim, a) = match (name, args) {
            ("fcc", [cells, a]) => (self.size(cells), Some(3), self.number_const(a)),
            ("lattice", [n, k, a]) => (self.size(n), self.size(k), self.number_const(a)),
            _ => {
                let want = if name == "fcc" {
                    "`fcc(cells, a)`"
                } else {
                    "`lattice(n, k, a)`"
                };
                self.report(
                    Diagnostic::error(
                        "E0105",
                        format!("{want} takes {} arguments", if name == "fcc" { 2 } else { 3 }),
                    )
                    .with_label(span, format!("{} given", args.len())),
                );
                return Val::Error;
            }
        };
        let (Some(n), Some(k), Some(a)) = (count, dim, a) else {
            return Val::Error;
        };
        let sites = if name == "fcc" {
            4 * n.pow(3)
        } else {
            n.checked_pow(k as u32).unwrap_or(usize::MAX)
        };
        if sites > 1 << 22 {
            self.report(
                Diagnostic::error("E0204", format!("a lattice of {sites} sites is too large"))
                    .with_label(span, "at most 4194304 sites"),
            );
            return Val::Error;
        }
        let mut rows = Vec::with_capacity(sites);
        let basis: &[[f64; 3]] = &[[0.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.5, 0.0, 0.5], [0.0, 0.5, 0.5]];
        for s in 0..sites {
            let point: Vec<f64> = if name == "fcc" {
                let (cell, b) = (s / 4, s % 4);
                let c = [cell / (n * n), (cell / n) % n, cell % n];
                let off = basis.get(b).copied().unwrap_or_default();
                c.iter()
                    .zip(off)
                    .map(|(ci, o)| (*ci as f64 + o + 0.25) * a)
                    .collect()
            } else {
                let mut rest = s;
                let mut p = vec![0.0; k];
                for d in (0..k).rev() {
                    if let Some(x) = p.get_mut(d) {
                        *x = ((rest % n) as f64 + 0.5) * a;
                    }
                    rest /= n;
                }
                p
            };
            let items = point.into_iter().map(|x| self.mk(Expr::Const(x))).collect();
            rows.push(Rc::new(VecExpr::Literal(items)));
        }
        Val::Matrix(Rc::new(super::val::MatExpr::Rows(rows)))
    }
}

/// Whether `x` is not a positive number (NaN included).
fn not_positive(x: f64) -> bool {
    x.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater)
}
