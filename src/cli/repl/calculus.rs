//! `:grad EXPR wrt x, y [at x=1, y=2]`, `:hess …` and `:derive`.
//!
//! The variables become the states of a hidden energy model whose energy is
//! the expression, so the symbolic stage derives it exactly as it derives a
//! model's energy (reverse mode, simplified, hash-consed); the result prints
//! with the names the user wrote. With `at`, the compiled gradient and Hessian
//! kernels are evaluated at that point.

use super::eval::{self, number, Shape};
use super::session::{Session, Target, HIDDEN};
use super::Out;
use sdelang::lower::KernelKind;
use sdelang::model::Index;
use sdelang::pipeline::Compilation;
use sdelang::source::SourceId;
use sdelang::symbolic::display::ModelNames;
use sdelang::symbolic::{Arena, BuildOptions, NodeId, Stmt};
use sdelang::syntax;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// First or second derivatives.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// ∂/∂x
    Grad,
    /// ∂²/∂x∂y
    Hess,
}

/// The byte offset of the last whole word `word` in `text` at bracket depth 0.
fn find_word(text: &str, word: &str) -> Option<usize> {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut depth = 0i32;
    let mut found = None;
    for (i, c) in text.char_indices() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            _ => {}
        }
        if depth == 0 && text.get(i..).is_some_and(|r| r.starts_with(word)) {
            let before = text.get(..i).and_then(|b| b.chars().next_back());
            let after = text.get(i + word.len()..).and_then(|a| a.chars().next());
            if !before.is_some_and(ident) && !after.is_some_and(ident) {
                found = Some(i);
            }
        }
    }
    found
}

/// Splits at commas of bracket depth 0, with the byte offset of each part.
pub fn split_top(text: &str, base: usize) -> Vec<(usize, &str)> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, c) in text.char_indices() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push((base + start, text.get(start..i).unwrap_or("")));
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push((base + start, text.get(start..).unwrap_or("")));
    parts
}

/// Parses `text` (a slice of source `id` starting at byte `at`) as an
/// expression whose spans point into the whole line.
pub fn parse_at(
    id: SourceId,
    at: usize,
    text: &str,
) -> Result<syntax::ast::Expr, Vec<sdelang::diagnostic::Diagnostic>> {
    syntax::parse_expr(id, &format!("{}{}", " ".repeat(at), text))
}

/// `:grad` / `:hess`: `args` is the text after the command, at byte `at` of source `id`.
pub fn derivative(s: &mut Session, out: &mut Out, order: Order, id: SourceId, at: usize, args: &str) {
    let usage = match order {
        Order::Grad => "usage: :grad EXPR wrt x, y [at x=1, y=2]  (a vector: wrt v[3])",
        Order::Hess => "usage: :hess EXPR wrt x, y [at x=1, y=2]  (a vector: wrt v[3])",
    };
    let Some(wrt) = find_word(args, "wrt") else {
        return out.error(usage);
    };
    let expr_text = args.get(..wrt).unwrap_or("");
    let rest = args.get(wrt + 3..).unwrap_or("");
    let (vars_text, point) = match find_word(rest, "at") {
        Some(k) => (
            rest.get(..k).unwrap_or(""),
            rest.get(k + 2..).map(|p| (wrt + 3 + k + 2, p)),
        ),
        None => (rest, None),
    };
    let mut vars = Vec::new();
    for v in vars_text.split(',') {
        match parse_var(v) {
            Some(var) => vars.push(var),
            None => return out.error(usage),
        }
    }
    if expr_text.trim().is_empty() || vars.is_empty() {
        return out.error(usage);
    }
    let expr = match parse_at(id, at, expr_text) {
        Ok(e) => e,
        Err(d) => return out.diags(s, &d, &s.sources),
    };
    let inferred: Vec<(String, Option<usize>)> = vars
        .iter()
        .map(|(v, len)| (v.clone(), len.map_or_else(|| var_len(s, v), Some)))
        .collect();
    let build = BuildOptions {
        hessian: order == Order::Hess,
        jacobian: false,
        ..Default::default()
    };
    let first = compile_for(s, &inferred, &expr, build);
    // A name that is a vector in the session may be meant as a scalar here: try that too.
    let c = match first {
        Ok(c) => c,
        Err(f)
            if inferred
                .iter()
                .zip(&vars)
                .any(|((_, a), (_, b))| a.is_some() && b.is_none()) =>
        {
            let scalars: Vec<(String, Option<usize>)> = vars.clone();
            match compile_for(s, &scalars, &expr, build) {
                Ok(c) => c,
                Err(_) => return out.failure(s, &f),
            }
        }
        Err(f) => return out.failure(s, &f),
    };
    out.text.push_str(&formulas(&c, order));
    if let Some((offset, text)) = point {
        evaluate_at(s, out, &c, order, id, offset + at, text);
    }
}

/// `x` or `x[3]` (a vector of 3 components).
fn parse_var(text: &str) -> Option<(String, Option<usize>)> {
    let text = text.trim();
    let (name, len) = match text.strip_suffix(']').and_then(|t| t.split_once('[')) {
        Some((n, len)) => (
            n.trim(),
            Some(len.trim().parse::<usize>().ok().filter(|n| *n > 0)?),
        ),
        None => (text, None),
    };
    let valid = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    valid.then(|| (name.to_string(), len))
}

/// Compiles the hidden model for variables `vars` and expression `expr`.
fn compile_for(
    s: &mut Session,
    vars: &[(String, Option<usize>)],
    expr: &syntax::ast::Expr,
    build: BuildOptions,
) -> Result<Compilation, sdelang::pipeline::Failure> {
    let Some(mut decl) = s.synthetic(&wrapper_text(vars)) else {
        return Err(sdelang::pipeline::Failure {
            sources: sdelang::source::SourceMap::new(),
            diagnostics: vec![sdelang::diagnostic::Diagnostic::bug(
                "cannot build the derivative model",
            )],
        });
    };
    for item in &mut decl.items {
        if let syntax::ast::ModelItem::Energy(e) = item {
            if e.name.name == "expression" {
                e.value = expr.clone();
            }
        }
    }
    let kernels = [KernelKind::EnergyGrad, KernelKind::Hessian];
    let defs = s.defs.clone();
    s.compile(&defs, &Target::Synthetic(decl), build, &kernels)
}

/// The hidden model: one state per variable and the expression as its energy.
fn wrapper_text(vars: &[(String, Option<usize>)]) -> String {
    let mut t = format!("model {HIDDEN}d {{ ");
    let mut uses = Vec::new();
    for (v, len) in vars {
        match len {
            Some(n) => {
                let _ = write!(t, "state {v}: real[{n}]  ");
                uses.push(format!("sum({v})"));
            }
            None => {
                let _ = write!(t, "state {v}: real  ");
                uses.push(v.clone());
            }
        }
    }
    // Every state must appear in the energy; this term does, and is zero.
    let _ = write!(
        t,
        "energy {HIDDEN}zero = 0 * ({})  energy expression = 0 }}",
        uses.join(" + ")
    );
    t
}

/// The length of variable `v`: a vector state of the current model or a vector
/// param or let of the session keeps its length; anything else is a scalar.
fn var_len(s: &mut Session, v: &str) -> Option<usize> {
    if let Some(name) = s.current.clone() {
        let defs = s.defs.clone();
        if let Ok((_, m)) = s.check(&defs, &Target::Model(name)) {
            if let Some(st) = m.states.iter().find(|st| st.name == v) {
                return st.len;
            }
        }
    }
    let id = s.sources.add("<repl>", None, v.to_string());
    let expr = syntax::parse_expr(id, v).ok()?;
    let defs = s.defs.clone();
    match eval::shape(s, &defs, &expr) {
        Ok((Shape::Vector(n), _)) => Some(n),
        _ => None,
    }
}

/// Sums the accumulations into constant outputs; returns them and the rest (loops).
fn group(arena: &mut Arena, stmts: &[Stmt]) -> (BTreeMap<i64, NodeId>, Vec<Stmt>) {
    let mut sums: BTreeMap<i64, NodeId> = BTreeMap::new();
    let mut rest = Vec::new();
    for st in stmts {
        match st {
            Stmt::Accumulate { index, value } if index.as_constant().is_some() => {
                let k = index.constant;
                let v = match sums.get(&k) {
                    Some(prev) => arena.add(*prev, *value),
                    None => *value,
                };
                sums.insert(k, v);
            }
            other => rest.push(other.clone()),
        }
    }
    (sums, rest)
}

/// Splits a flat Hessian index row·n + col into its two components.
fn split_index(ix: &Index, n: i64) -> (Index, Index) {
    let mut row = Index::constant(ix.constant.div_euclid(n));
    let mut col = Index::constant(ix.constant.rem_euclid(n));
    for (v, c) in &ix.terms {
        if c.abs() >= n && c % n == 0 {
            row.terms.push((*v, c / n));
        } else {
            col.terms.push((*v, *c));
        }
    }
    (row, col)
}

/// The derivatives in readable math.
fn formulas(c: &Compilation, order: Order) -> String {
    let owned = ModelNames::of(&c.model);
    let names = owned.names();
    let n = c.system.state_size as i64;
    let mut arena = c.system.arena.clone();
    let stmts = match order {
        Order::Grad => c.system.gradient.clone(),
        Order::Hess => c.system.hessian.clone().unwrap_or_default(),
    };
    let label = |ix: &Index| match order {
        Order::Grad => format!("∂/∂{}", names.component(ix)),
        Order::Hess => {
            let (r, col) = split_index(ix, n.max(1));
            let (a, b) = (names.component(&r), names.component(&col));
            if a == b {
                format!("∂²/∂{a}²")
            } else {
                format!("∂²/∂{a}∂{b}")
            }
        }
    };
    let (sums, loops) = group(&mut arena, &stmts);
    let mut out = String::new();
    let outputs: Vec<i64> = match order {
        Order::Grad => (0..n).collect(),
        // The upper triangle: the Hessian is symmetric.
        Order::Hess => (0..n).flat_map(|r| (r..n).map(move |col| r * n + col)).collect(),
    };
    for k in outputs {
        match sums.get(&k) {
            Some(v) => {
                let _ = writeln!(out, "{} = {}", label(&Index::constant(k)), names.expr(&arena, *v));
            }
            None if loops.is_empty() => {
                let _ = writeln!(out, "{} = 0", label(&Index::constant(k)));
            }
            None => {}
        }
    }
    let program = names.program(&arena, &loops, &|ix: &Index| label(ix));
    out.push_str(&program);
    out
}

/// `at x=1, y=[1,2]`: the values, then the compiled kernels' results there.
fn evaluate_at(
    s: &mut Session,
    out: &mut Out,
    c: &Compilation,
    order: Order,
    id: SourceId,
    at: usize,
    text: &str,
) {
    let Some(x) = point(s, out, c, id, at, text) else {
        return;
    };
    let n = x.len();
    let mut grad = vec![0.0; n];
    let Some(f) = c.compiled.call(KernelKind::EnergyGrad, &x, 0.0, &mut grad) else {
        return out.error("internal error: no gradient kernel");
    };
    let cols = c.model.state_columns();
    let _ = writeln!(out.text, "at this point:");
    let _ = writeln!(out.text, "  value = {}", number(f));
    match order {
        Order::Grad => {
            for (name, g) in cols.iter().zip(&grad) {
                let _ = writeln!(out.text, "  ∂/∂{name} = {}", number(*g));
            }
        }
        Order::Hess => {
            let mut h = vec![0.0; n * n];
            if c.compiled.call(KernelKind::Hessian, &x, 0.0, &mut h).is_none() {
                return out.error("internal error: no Hessian kernel");
            }
            let _ = writeln!(out.text, "  Hessian ({}):", cols.join(", "));
            for row in h.chunks(n.max(1)) {
                let cells: Vec<String> = row.iter().map(|v| format!("{:>12}", number(*v))).collect();
                let _ = writeln!(out.text, "  {}", cells.join(" "));
            }
        }
    }
}

/// The point of `at x=1, y=[1,2]` as a flat state (values are evaluated), or
/// `None` after reporting an error.
fn point(
    s: &mut Session,
    out: &mut Out,
    c: &Compilation,
    id: SourceId,
    at: usize,
    text: &str,
) -> Option<Vec<f64>> {
    let offsets = c.model.state_offsets();
    let mut x = vec![0.0; c.model.state_size()];
    for (start, part) in split_top(text, at) {
        let Some((name, value)) = part.split_once('=') else {
            out.error(&format!(
                "expected `name=value` after `at`, found `{}`",
                part.trim()
            ));
            return None;
        };
        let name = name.trim();
        let Some(k) = c.model.states.iter().position(|st| st.name == name) else {
            out.error(&format!("`{name}` is not one of the variables after `wrt`"));
            return None;
        };
        let value_at = start + part.len() - value.len();
        let values = match parse_at(id, value_at, value) {
            Ok(expr) => {
                let defs = s.defs.clone();
                match eval::evaluate(s, &defs, &expr) {
                    Ok(v) => v.values,
                    Err(f) => {
                        out.failure(s, &f);
                        return None;
                    }
                }
            }
            Err(d) => {
                out.diags(s, &d, &s.sources);
                return None;
            }
        };
        let size = c.model.states.get(k).map_or(1, |st| st.size());
        let fill: Vec<f64> = match values.as_slice() {
            [one] => vec![*one; size],
            all if all.len() == size => all.to_vec(),
            all => {
                let plural = if size == 1 { "" } else { "s" };
                out.error(&format!(
                    "`{name}` has {size} component{plural}, the value has {}",
                    all.len()
                ));
                return None;
            }
        };
        let off = offsets.get(k).copied().unwrap_or(0);
        for (d, v) in x.iter_mut().skip(off).zip(fill) {
            *d = v;
        }
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_keywords_outside_brackets() {
        assert_eq!(find_word("x^2 wrt x", "wrt"), Some(4));
        assert_eq!(find_word("f(wrt) wrt x", "wrt"), Some(7));
        assert_eq!(find_word("wrtx + 1", "wrt"), None);
        assert_eq!(find_word("x wrt x at x=1", "at"), Some(8));
        let parts = split_top("x=[1, 2], y=3", 10);
        assert_eq!(parts, vec![(10, "x=[1, 2]"), (19, " y=3")]);
    }
}
