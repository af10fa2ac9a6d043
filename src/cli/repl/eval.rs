//! Evaluating an expression through the real pipeline: the checker finds its
//! shape (as the default of a hidden parameter), then a hidden SDE model whose
//! drift is the expression is compiled to machine code and its drift kernel is
//! called once. Scalars print as numbers, vectors as `[a, b, …]`.

use super::session::{with_defs, Def, Key, Session, Target, HIDDEN};
use sdelang::diagnostic::Diagnostic;
use sdelang::lower::KernelKind;
use sdelang::model::ParamValue;
use sdelang::pipeline::Failure;
use sdelang::symbolic::BuildOptions;
use sdelang::syntax::ast;

/// The shape of a value.
#[derive(Clone, Debug, PartialEq)]
pub enum Shape {
    /// An integer (a compile-time constant).
    Int,
    /// A real scalar.
    Real,
    /// A real vector of this length.
    Vector(usize),
}

impl Shape {
    /// As the language writes the type.
    pub fn type_name(&self) -> String {
        match self {
            Shape::Int => "int".into(),
            Shape::Real => "real".into(),
            Shape::Vector(n) => format!("real[{n}]"),
        }
    }
}

/// A computed value.
#[derive(Clone, Debug, PartialEq)]
pub struct Value {
    /// Its shape.
    pub shape: Shape,
    /// Its components (one for a scalar).
    pub values: Vec<f64>,
}

/// A hidden parameter whose default is `expr`.
fn probe_def(expr: &ast::Expr) -> Def {
    let name = format!("{HIDDEN}value");
    let ident = ast::Ident {
        name: name.clone(),
        span: expr.span,
    };
    Def {
        key: Key::Value(name),
        item: ast::Item::Param(vec![ast::ParamDecl {
            name: ident,
            ty: None,
            default: Some(expr.clone()),
            data: None,
            span: expr.span,
        }]),
    }
}

/// The shape of `expr` (and its value as the checker's constant evaluator computes it).
pub fn shape(s: &mut Session, typed: &[Def], expr: &ast::Expr) -> Result<(Shape, ParamValue), Failure> {
    let defs = with_defs(typed, &[probe_def(expr)]);
    let decl = s.check_model().ok_or_else(internal)?;
    let (_, model) = s.check(&defs, &Target::Synthetic(decl))?;
    let name = format!("{HIDDEN}value");
    let value = model
        .params
        .iter()
        .find(|p| p.name == name)
        .map(|p| p.value.clone())
        .ok_or_else(internal)?;
    let shape = match &value {
        ParamValue::Int(_) => Shape::Int,
        ParamValue::Real(_) => Shape::Real,
        other => Shape::Vector(other.flat().len()),
    };
    Ok((shape, value))
}

/// Evaluates `expr` with the definitions `typed`, by compiling it.
pub fn evaluate(s: &mut Session, typed: &[Def], expr: &ast::Expr) -> Result<Value, Failure> {
    let (shape, _) = shape(s, typed, expr)?;
    let (ty, n) = match shape {
        Shape::Vector(n) => (format!("real[{n}]"), n),
        Shape::Int | Shape::Real => ("real".to_string(), 1),
    };
    let text = format!("model {HIDDEN}eval {{ state {HIDDEN}v: {ty}  d{HIDDEN}v = 0 dt }}");
    let mut decl = s.synthetic(&text).ok_or_else(internal)?;
    for item in &mut decl.items {
        if let ast::ModelItem::Sde(eq) = item {
            eq.drift = Some(expr.clone());
        }
    }
    let kernels = [KernelKind::DriftDiffusion];
    let c = s.compile(typed, &Target::Synthetic(decl), BuildOptions::default(), &kernels)?;
    let zeros = vec![0.0; n];
    let mut out = vec![0.0; 2 * n];
    c.compiled
        .call(KernelKind::DriftDiffusion, &zeros, 0.0, &mut out)
        .ok_or_else(internal)?;
    out.truncate(n);
    Ok(Value { shape, values: out })
}

fn internal() -> Failure {
    Failure {
        sources: sdelang::source::SourceMap::new(),
        diagnostics: vec![Diagnostic::bug("the REPL could not build its evaluation model")],
    }
}

/// A number as the REPL prints it: integers without a decimal point, the
/// shortest form that reads back exactly, exponent form when very small or large.
pub fn number(v: f64) -> String {
    let a = v.abs();
    if v.is_finite() && a != 0.0 && !(1e-5..1e16).contains(&a) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

/// Most vector components printed before eliding the middle.
const MAX_SHOWN: usize = 12;

/// A value as the REPL prints it.
pub fn format(v: &Value) -> String {
    match v.shape {
        Shape::Vector(n) => {
            let parts: Vec<String> = if n <= MAX_SHOWN {
                v.values.iter().map(|x| number(*x)).collect()
            } else {
                let head = v.values.iter().take(MAX_SHOWN - 3).map(|x| number(*x));
                let tail = v.values.iter().skip(n - 2).map(|x| number(*x));
                head.chain(std::iter::once("…".to_string())).chain(tail).collect()
            };
            let text = format!("[{}]", parts.join(", "));
            if n > MAX_SHOWN {
                format!("{text}  ({n} components)")
            } else {
                text
            }
        }
        Shape::Int | Shape::Real => v.values.first().map_or_else(String::new, |x| number(*x)),
    }
}

/// A checked parameter value as the REPL prints it.
pub fn format_param(v: &ParamValue) -> String {
    match v {
        ParamValue::Int(i) => i.to_string(),
        ParamValue::Real(x) => number(*x),
        ParamValue::Vector(xs) => format(&Value {
            shape: Shape::Vector(xs.len()),
            values: xs.clone(),
        }),
        ParamValue::Matrix { rows, cols, data } => {
            let rows: Vec<String> = (0..*rows)
                .map(|r| {
                    let row = data.get(r * cols..(r + 1) * cols).unwrap_or_default();
                    format(&Value {
                        shape: Shape::Vector(row.len()),
                        values: row.to_vec(),
                    })
                })
                .collect();
            format!("[{}]", rows.join(", "))
        }
        ParamValue::Ints { data, .. } => {
            let items: Vec<String> = data.iter().map(|i| i.to_string()).collect();
            format!("[{}]", items.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_numbers_readably() {
        assert_eq!(number(5.0), "5");
        assert_eq!(number(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(number(1e-20), "1e-20");
        assert_eq!(number(-2.5), "-2.5");
        let v = Value {
            shape: Shape::Vector(3),
            values: vec![1.0, 2.5, 3.0],
        };
        assert_eq!(format(&v), "[1, 2.5, 3]");
        let long = Value {
            shape: Shape::Vector(20),
            values: (0..20).map(f64::from).collect(),
        };
        assert_eq!(
            format(&long),
            "[0, 1, 2, 3, 4, 5, 6, 7, 8, …, 18, 19]  (20 components)"
        );
    }
}
