//! Readable math for `sde derive`: expressions in infix form, derivative
//! programs as indented loops.

use super::arena::{Arena, Node, NodeId};
use super::program::Stmt;
use crate::model::{BinaryFn, CmpOp, Index, IndexVar, Over, ReduceOp, UnaryFn};
use std::fmt::Write;

/// Names used when printing: parameters, states, index variables.
pub struct Names<'a> {
    /// Parameter names by id, with their vector-ness.
    pub params: &'a [(String, bool)],
    /// State names by id, with their vector-ness.
    pub states: &'a [(String, bool)],
    /// Flat offsets of the states, to name output components.
    pub state_offsets: &'a [usize],
}

/// The names of a model's parameters and states, owned, from which [`Names`] borrows.
#[derive(Clone, Debug, Default)]
pub struct ModelNames {
    /// Parameters: name and whether it is a vector.
    pub params: Vec<(String, bool)>,
    /// States: name and whether it is a vector.
    pub states: Vec<(String, bool)>,
    /// Flat offsets of the states.
    pub state_offsets: Vec<usize>,
}

impl ModelNames {
    /// The names of `model`.
    pub fn of(model: &crate::model::Model) -> ModelNames {
        ModelNames {
            params: model
                .params
                .iter()
                .map(|p| {
                    (
                        p.name.clone(),
                        !matches!(
                            p.value,
                            crate::model::ParamValue::Real(_) | crate::model::ParamValue::Int(_)
                        ),
                    )
                })
                .collect(),
            states: model
                .states
                .iter()
                .map(|s| (s.name.clone(), s.len.is_some()))
                .collect(),
            state_offsets: model.state_offsets(),
        }
    }

    /// The borrowed view used for printing.
    pub fn names(&self) -> Names<'_> {
        Names {
            params: &self.params,
            states: &self.states,
            state_offsets: &self.state_offsets,
        }
    }
}

/// Longest printed expression before it is elided.
const MAX_CHARS: usize = 4000;

fn var_name(v: IndexVar) -> String {
    const LETTERS: [&str; 6] = ["i", "j", "k", "l", "m", "n"];
    match LETTERS.get(v.0 as usize) {
        Some(l) => (*l).to_string(),
        None => format!("i{}", v.0),
    }
}

/// Prints an affine index, e.g. `i + 1`, `2*j - 3`.
pub fn index_str(ix: &Index) -> String {
    let mut s = String::new();
    for (v, c) in &ix.terms {
        let name = var_name(*v);
        let sign = if *c < 0 { "-" } else { "+" };
        let mag = c.unsigned_abs();
        let term = if mag == 1 { name } else { format!("{mag}*{name}") };
        if s.is_empty() {
            s = if *c < 0 { format!("-{term}") } else { term };
        } else {
            let _ = write!(s, " {sign} {term}");
        }
    }
    if s.is_empty() {
        return ix.constant.to_string();
    }
    if ix.constant != 0 {
        let sign = if ix.constant < 0 { "-" } else { "+" };
        let _ = write!(s, " {sign} {}", ix.constant.unsigned_abs());
    }
    s
}

fn unary_name(f: UnaryFn) -> &'static str {
    match f {
        UnaryFn::Neg => "-",
        UnaryFn::Exp => "exp",
        UnaryFn::Log => "log",
        UnaryFn::Log1p => "log1p",
        UnaryFn::Expm1 => "expm1",
        UnaryFn::Sqrt => "sqrt",
        UnaryFn::Cbrt => "cbrt",
        UnaryFn::Sin => "sin",
        UnaryFn::Cos => "cos",
        UnaryFn::Tan => "tan",
        UnaryFn::Tanh => "tanh",
        UnaryFn::Abs => "abs",
        UnaryFn::Sigmoid => "sigmoid",
        UnaryFn::Softplus => "softplus",
        UnaryFn::Erf => "erf",
        UnaryFn::Round => "round",
        UnaryFn::Floor => "floor",
    }
}

fn cmp_name(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Eq => "==",
        CmpOp::Ne => "!=",
        CmpOp::Lt => "<",
        CmpOp::Le => "<=",
        CmpOp::Gt => ">",
        CmpOp::Ge => ">=",
    }
}

/// Precedence levels for parenthesisation.
fn prec(node: &Node) -> u8 {
    match node {
        Node::Select(..) => 0,
        Node::Or(..) => 1,
        Node::And(..) => 2,
        Node::Compare(..) => 3,
        Node::Binary(BinaryFn::Add | BinaryFn::Sub, ..) => 4,
        Node::Binary(BinaryFn::Mul | BinaryFn::Div, ..) => 5,
        Node::Unary(UnaryFn::Neg, _) | Node::Not(_) => 6,
        Node::Binary(BinaryFn::Pow, ..) => 7,
        Node::Const(bits) if f64::from_bits(*bits) < 0.0 => 6,
        _ => 9,
    }
}

impl Names<'_> {
    /// The printed form of a node.
    pub fn expr(&self, arena: &Arena, id: NodeId) -> String {
        let mut s = String::new();
        self.write(arena, id, &mut s);
        if s.len() > MAX_CHARS {
            let mut cut = MAX_CHARS;
            while !s.is_char_boundary(cut) {
                cut -= 1;
            }
            s.truncate(cut);
            s.push_str(" …");
        }
        s
    }

    fn child(&self, arena: &Arena, id: NodeId, min_prec: u8, out: &mut String) {
        if prec(arena.node(id)) < min_prec {
            out.push('(');
            self.write(arena, id, out);
            out.push(')');
        } else {
            self.write(arena, id, out);
        }
    }

    fn write(&self, arena: &Arena, id: NodeId, out: &mut String) {
        if out.len() > MAX_CHARS {
            return;
        }
        let node = arena.node(id).clone();
        let p = prec(&node);
        match node {
            Node::Const(bits) => {
                let _ = write!(out, "{}", f64::from_bits(bits));
            }
            Node::Arg(a) => {
                let _ = write!(out, "arg{a}");
            }
            Node::Param(pid, ix) => {
                let (name, vector) = self
                    .params
                    .get(pid.0 as usize)
                    .map_or(("?", true), |(n, v)| (n.as_str(), *v));
                let _ = write!(out, "{name}");
                if vector {
                    let _ = write!(out, "[{}]", index_str(&ix));
                }
            }
            Node::Lookup { param, base, keys } => {
                let name = self.params.get(param.0 as usize).map_or("?", |(n, _)| n.as_str());
                let _ = write!(out, "{name}[");
                let mut first = true;
                if base.as_constant() != Some(0) {
                    out.push_str(&index_str(&base));
                    first = false;
                }
                for (key, stride) in keys {
                    if !first {
                        out.push_str(" + ");
                    }
                    first = false;
                    if stride != 1 {
                        let _ = write!(out, "{stride}*");
                    }
                    self.write(arena, key, out);
                }
                out.push(']');
            }
            Node::State(sid, ix) => {
                let (name, vector) = self
                    .states
                    .get(sid.0 as usize)
                    .map_or(("?", true), |(n, v)| (n.as_str(), *v));
                let _ = write!(out, "{name}");
                if vector {
                    let _ = write!(out, "[{}]", index_str(&ix));
                }
            }
            Node::Table(t, ix) => {
                let _ = write!(out, "table{}[{}]", t.0, index_str(&ix));
            }
            Node::Time => out.push('t'),
            Node::IndexValue(ix) => out.push_str(&index_str(&ix)),
            Node::Unary(UnaryFn::Neg, a) => {
                // −(a·b) reads as −a·b; only sums need parentheses.
                out.push('-');
                self.child(arena, a, p - 1, out);
            }
            Node::Unary(f, a) => {
                let _ = write!(out, "{}(", unary_name(f));
                self.write(arena, a, out);
                out.push(')');
            }
            Node::Binary(f @ (BinaryFn::Atan2 | BinaryFn::Min | BinaryFn::Max), a, b) => {
                let name = match f {
                    BinaryFn::Atan2 => "atan2",
                    BinaryFn::Min => "min",
                    _ => "max",
                };
                let _ = write!(out, "{name}(");
                self.write(arena, a, out);
                out.push_str(", ");
                self.write(arena, b, out);
                out.push(')');
            }
            Node::Binary(f, a, b) => {
                let (sym, right_min, left_min) = match f {
                    BinaryFn::Add => (" + ", p, p),
                    BinaryFn::Sub => (" - ", p + 1, p),
                    BinaryFn::Mul => ("*", p, p),
                    BinaryFn::Div => ("/", p + 1, p),
                    _ => ("^", p, p + 1),
                };
                self.child(arena, a, left_min, out);
                out.push_str(sym);
                self.child(arena, b, right_min, out);
            }
            Node::Compare(op, a, b) => {
                self.child(arena, a, p + 1, out);
                let _ = write!(out, " {} ", cmp_name(op));
                self.child(arena, b, p + 1, out);
            }
            Node::And(a, b) | Node::Or(a, b) => {
                let sym = if matches!(node, Node::And(..)) {
                    " && "
                } else {
                    " || "
                };
                self.child(arena, a, p, out);
                out.push_str(sym);
                self.child(arena, b, p + 1, out);
            }
            Node::Not(a) => {
                out.push('!');
                self.child(arena, a, p + 1, out);
            }
            Node::Select(c, a, b) => {
                out.push_str("if ");
                self.write(arena, c, out);
                out.push_str(" then ");
                self.write(arena, a, out);
                out.push_str(" else ");
                self.write(arena, b, out);
            }
            Node::NoGrad(a) => self.write(arena, a, out),
            Node::Reduce {
                op,
                var,
                lo,
                hi,
                over,
                body,
            } => {
                let name = match op {
                    ReduceOp::Sum => "sum",
                    ReduceOp::Prod => "prod",
                    ReduceOp::Max => "max",
                    ReduceOp::Min => "min",
                };
                let _ = write!(
                    out,
                    "{name}({} in {}, ",
                    var_name(var),
                    range_str(&lo, &hi, &over)
                );
                self.write(arena, body, out);
                out.push(')');
            }
        }
    }

    /// Names the flat output component `ix` of a vector over the state, such as
    /// `x[i + 1]` (the state is found from the constant part of the index).
    pub fn component(&self, ix: &Index) -> String {
        let base = ix.constant.max(0) as usize;
        let pos = self.state_offsets.iter().rposition(|o| *o <= base).unwrap_or(0);
        let off = self.state_offsets.get(pos).copied().unwrap_or(0) as i64;
        let (name, vector) = self
            .states
            .get(pos)
            .map_or(("?", true), |(n, v)| (n.as_str(), *v));
        let local = Index {
            constant: ix.constant - off,
            terms: ix.terms.clone(),
        };
        if vector {
            format!("{name}[{}]", index_str(&local))
        } else {
            name.to_string()
        }
    }

    /// Prints a derivative program, one line per accumulation, loops indented.
    /// `label` turns an output index into a left-hand side, e.g. `∂U/∂x[i]`.
    pub fn program(&self, arena: &Arena, stmts: &[Stmt], label: &dyn Fn(&Index) -> String) -> String {
        let mut out = String::new();
        self.program_into(arena, stmts, label, 0, &mut out);
        out
    }

    fn program_into(
        &self,
        arena: &Arena,
        stmts: &[Stmt],
        label: &dyn Fn(&Index) -> String,
        depth: usize,
        out: &mut String,
    ) {
        let pad = "  ".repeat(depth);
        for s in stmts {
            match s {
                Stmt::Accumulate { index, value } => {
                    let _ = writeln!(out, "{pad}{} += {}", label(index), self.expr(arena, *value));
                }
                Stmt::Loop {
                    var,
                    lo,
                    hi,
                    over,
                    body,
                } => {
                    let _ = writeln!(out, "{pad}for {} in {}:", var_name(*var), range_str(lo, hi, over));
                    self.program_into(arena, body, label, depth + 1, out);
                }
            }
        }
    }
}

/// A loop's range as printed: `0..n`, `block(0..n)`, `list2[i]`.
pub fn range_str(lo: &Index, hi: &Index, over: &Over) -> String {
    let range = format!("{}..{}", index_str(lo), index_str(hi));
    match over {
        Over::Range | Over::Particles(_) => range,
        Over::Block(_) => format!("block({range})"),
        Over::List { list, row } => format!("list{}[{}]", list.0, index_str(row)),
    }
}
