//! Iterative depth measurement and teardown of expression trees.
//!
//! Recursion over an expression is only safe when its depth is bounded. The
//! parser already cuts trees off at [`MAX_DEPTH`](super::ctx::MAX_DEPTH) while
//! building them; these helpers check a finished tree without recursing, and
//! take apart a tree of any depth without a deep recursive `Drop`.

use super::ast::{CallArg, Expr, ExprKind, Item, ModelItem, Program, RunItem, TypeExpr};

/// The direct sub-expressions of `e`.
fn children(e: &Expr) -> Vec<&Expr> {
    match &e.kind {
        ExprKind::Unary(_, a) => vec![a],
        ExprKind::Binary(_, a, b) | ExprKind::Index(a, b) => vec![a, b],
        ExprKind::If(a, b, c) => vec![a, b, c],
        ExprKind::Let { value, body, .. } => vec![value, body],
        ExprKind::Vector(items) => items.iter().collect(),
        ExprKind::Call { args, .. } => args.iter().flat_map(CallArg::exprs).collect(),
        ExprKind::Int(_) | ExprKind::Real(_) | ExprKind::Bool(_) | ExprKind::Name(_) | ExprKind::Error => {
            Vec::new()
        }
    }
}

/// The number of nodes on the longest root-to-leaf path of `e` (a leaf has depth 1).
pub fn expr_depth(e: &Expr) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(e, 1usize)];
    while let Some((e, d)) = stack.pop() {
        deepest = deepest.max(d);
        stack.extend(children(e).into_iter().map(|c| (c, d + 1)));
    }
    deepest
}

/// The first expression of `program` deeper than `limit`, if any.
pub fn first_too_deep(program: &Program, limit: usize) -> Option<&Expr> {
    program_exprs(program).into_iter().find(|e| expr_depth(e) > limit)
}

/// Every top-level expression of a program (defaults, bodies, values, settings).
fn program_exprs(program: &Program) -> Vec<&Expr> {
    let mut out = Vec::new();
    for item in &program.items {
        match item {
            Item::Use(_) => {}
            Item::Param(ps) => param_exprs(ps, &mut out),
            Item::Fn(f) => out.push(&f.body),
            Item::Let(l) => out.push(&l.value),
            Item::Model(m) => {
                for mi in &m.items {
                    model_item_exprs(mi, &mut out);
                }
            }
            Item::Run(r) => out.extend(r.items.iter().filter_map(|ri| match ri {
                RunItem::Setting { value, .. } | RunItem::Init { value, .. } => Some(value),
                RunItem::InitDraw { law, .. } => Some(law),
                RunItem::Data { .. } | RunItem::Text { .. } => None,
            })),
        }
    }
    out
}

fn param_exprs<'a>(ps: &'a [crate::syntax::ast::ParamDecl], out: &mut Vec<&'a Expr>) {
    for p in ps {
        out.extend(p.ty.iter().flat_map(TypeExpr::dims));
        out.extend(p.default.as_ref());
    }
}

fn model_item_exprs<'a>(mi: &'a ModelItem, out: &mut Vec<&'a Expr>) {
    match mi {
        ModelItem::Param(ps) => param_exprs(ps, out),
        ModelItem::Let(l) => out.push(&l.value),
        ModelItem::Fn(f) => out.push(&f.body),
        ModelItem::State(s) => {
            out.extend(s.ty.dims());
            out.extend(s.init.as_ref());
        }
        ModelItem::Energy(e) => out.push(&e.value),
        ModelItem::Sde(s) => {
            out.extend(s.drift.as_ref());
            out.extend(s.noise.as_ref().map(|n| &n.coeff));
            let conv_args = match &s.convention {
                Some((super::ast::Convention::Call(_, args), _)) => args.as_slice(),
                _ => &[],
            };
            let lang_args = s.langevin.as_ref().map_or(&[][..], |l| l.args.as_slice());
            out.extend(conv_args.iter().chain(lang_args).flat_map(CallArg::exprs));
        }
        ModelItem::Noise(n) => out.extend(n.ty.dims()),
        ModelItem::Particles(p) => {
            out.push(&p.count);
            out.extend(p.ty.dims());
            out.extend(p.domain.as_ref());
            out.extend(p.options.iter().map(|(_, e)| e));
        }
        ModelItem::Pair(p) => {
            out.push(&p.body);
            out.extend(p.options.iter().map(|(_, e)| e));
        }
        ModelItem::Observe(o) => out.push(&o.value),
        ModelItem::Exact(x) => {
            out.extend(x.index.as_ref());
            match &x.law {
                super::ast::ExactLaw::Density(e) => out.push(e),
                super::ast::ExactLaw::Family { args, .. } => {
                    out.extend(args.iter().flat_map(CallArg::exprs));
                }
            }
        }
    }
}

/// Moves a boxed child out, leaving an error placeholder.
fn take(b: &mut Expr) -> Expr {
    let span = b.span;
    std::mem::replace(
        b,
        Expr {
            kind: ExprKind::Error,
            span,
        },
    )
}

/// Drops an expression of any depth without recursion: children are moved out
/// onto an explicit stack before each node is dropped.
pub fn dismantle(expr: Expr) {
    let mut stack = vec![expr];
    while let Some(mut e) = stack.pop() {
        match &mut e.kind {
            ExprKind::Unary(_, a) => stack.push(take(a)),
            ExprKind::Binary(_, a, b) | ExprKind::Index(a, b) => {
                stack.push(take(a));
                stack.push(take(b));
            }
            ExprKind::If(a, b, c) => {
                stack.push(take(a));
                stack.push(take(b));
                stack.push(take(c));
            }
            ExprKind::Let { value, body, .. } => {
                stack.push(take(value));
                stack.push(take(body));
            }
            ExprKind::Vector(items) => stack.append(items),
            ExprKind::Call { args, .. } => {
                for arg in std::mem::take(args) {
                    stack.extend(arg.into_exprs());
                }
            }
            ExprKind::Int(_)
            | ExprKind::Real(_)
            | ExprKind::Bool(_)
            | ExprKind::Name(_)
            | ExprKind::Error => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::ast::{BinOp, UnOp};

    #[test]
    fn deep_tree_is_measured_and_dropped_without_recursion() {
        let leaf = |i| Expr {
            kind: ExprKind::Int(i),
            span: Default::default(),
        };
        let mut e = leaf(0);
        for i in 0..1_000_000 {
            let kind = if i % 2 == 0 {
                ExprKind::Unary(UnOp::Neg, Box::new(e))
            } else {
                ExprKind::Binary(BinOp::Add, Box::new(e), Box::new(leaf(i)))
            };
            e = Expr {
                kind,
                span: Default::default(),
            };
        }
        assert_eq!(expr_depth(&e), 1_000_001);
        dismantle(e);
    }
}
