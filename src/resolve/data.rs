//! `data` declarations: parameters whose values come from data files.
//!
//! A declaration takes the binding the [`DataSet`] finds for its name and checks
//! it against the declared type: the dimensions (E0903), integer elements for
//! `int` types (E0904). An `int` scalar that no file binds but that sizes an
//! array declaration (`data n: int`, `data y: real[n]`) is inferred from that
//! array's binding, so `n` is the number of rows of a CSV file. A declaration
//! that nothing binds is E0902.

use super::cx::Checker;
use crate::data::{Binding, DataSet};
use crate::diagnostic::Diagnostic;
use crate::model::ParamValue;
use crate::syntax::ast::{self, DataSpec, ExprKind, TypeExpr};

impl<'m> Checker<'m> {
    /// The value of data declaration `decl`.
    pub(super) fn compute_data(
        &mut self,
        decl: &'m ast::ParamDecl,
        spec: &'m DataSpec,
    ) -> Option<ParamValue> {
        let name = decl.name.name.as_str();
        let set: &'m DataSet = self.data.unwrap_or(&EMPTY);
        let found = match set.find(name, spec) {
            Ok(f) => f,
            Err(d) => {
                self.report(d);
                return None;
            }
        };
        let ty = decl.ty.as_ref()?;
        match found {
            Some(b) => self.fit_binding(decl, ty, &b),
            None => match self.inferred_size(decl, set) {
                Some(n) => Some(ParamValue::Int(n as i64)),
                None => {
                    self.report(missing(decl, set));
                    None
                }
            },
        }
    }

    /// Checks a binding against the declared type and converts it.
    fn fit_binding(
        &mut self,
        decl: &'m ast::ParamDecl,
        ty: &'m TypeExpr,
        b: &Binding<'_>,
    ) -> Option<ParamValue> {
        let name = &decl.name.name;
        let (int, dims): (bool, &'m [ast::Expr]) = match ty {
            TypeExpr::Real(_) => (false, &[]),
            TypeExpr::Int(_) => (true, &[]),
            TypeExpr::Array { int, dims, .. } => (*int, dims.as_slice()),
        };
        let sizes: Vec<usize> = dims.iter().map(|d| self.size(d)).collect::<Option<_>>()?;
        let fits = sizes == b.dims || (sizes.is_empty() && b.dims == [1]);
        if !fits {
            let declared = shape(int, &sizes);
            let holds = match b.dims.as_slice() {
                [] => "a single number".to_string(),
                [n] => format!("{n} value{}", if *n == 1 { "" } else { "s" }),
                [r, c] if b.what.starts_with("column") => format!("{r} rows × {c} columns"),
                d => format!("an array of shape [{}]", join(d)),
            };
            let mut diag = Diagnostic::error(
                "E0903",
                format!(
                    "data `{name}` is declared {declared}, but `{}` holds {holds} ({})",
                    b.file, b.what
                ),
            )
            .with_label(ty.span(), format!("declared {declared} here"));
            if let Some(note) = size_note(&sizes, &b.dims, dims) {
                diag = diag.with_note(note);
            }
            self.report(diag);
            return None;
        }
        if int {
            if let Some(k) = b.values.iter().position(|x| x.fract() != 0.0 || x.abs() > 9.0e15) {
                let (place, cell) = b.locate(k);
                let bad = b.values.get(k).copied().unwrap_or(f64::NAN);
                let mut d = Diagnostic::error(
                    "E0904",
                    format!(
                        "data `{name}` is declared {}, but `{}` has {bad} at {place}",
                        shape(true, &sizes),
                        b.file
                    ),
                );
                if let Some(span) = cell {
                    d = d.with_label(span, "not an integer");
                }
                self.report(d.with_label(ty.span(), "declared with integer elements here"));
                return None;
            }
        }
        let v = b.values.clone();
        Some(match (int, sizes.as_slice()) {
            (true, []) => ParamValue::Int(v.first().copied().unwrap_or(0.0) as i64),
            (false, []) => ParamValue::Real(v.first().copied().unwrap_or(0.0)),
            (true, _) => ParamValue::Ints {
                dims: sizes,
                data: v.iter().map(|x| *x as i64).collect(),
            },
            (false, [rows, cols]) => ParamValue::Matrix {
                rows: *rows,
                cols: *cols,
                data: v,
            },
            (false, _) => ParamValue::Vector(v),
        })
    }

    /// `n` of `data n: int` from the first data declaration sized by `n` whose
    /// array a file binds; `None` when there is none. (A bad column list is
    /// reported by the declaration that has it.)
    fn inferred_size(&mut self, decl: &'m ast::ParamDecl, set: &'m DataSet) -> Option<usize> {
        if !matches!(decl.ty, Some(TypeExpr::Int(_))) {
            return None;
        }
        let name = decl.name.name.as_str();
        let others: Vec<&'m ast::ParamDecl> = self.params.iter().map(|p| p.decl).collect();
        for other in others {
            let (Some(spec), Some(TypeExpr::Array { dims, .. })) = (&other.data, &other.ty) else {
                continue;
            };
            let Some(k) = dims
                .iter()
                .position(|d| matches!(&d.kind, ExprKind::Name(n) if n == name))
            else {
                continue;
            };
            if let Ok(Some(b)) = set.find(&other.name.name, spec) {
                if let Some(n) = b.dims.get(k) {
                    return Some(*n);
                }
            }
        }
        None
    }
}

static EMPTY: DataSet = DataSet { files: Vec::new() };

/// E0902: nothing binds `decl`.
fn missing(decl: &ast::ParamDecl, set: &DataSet) -> Diagnostic {
    let name = &decl.name.name;
    let mut d = Diagnostic::error("E0902", format!("no value for data `{name}`"))
        .with_label(decl.name.span, "declared here");
    if set.files.is_empty() {
        return d.with_help(
            "give a data file: `sde run model.sde --data FILE`, or `data = \"FILE\"` in the run block",
        );
    }
    let files: Vec<&str> = set.files.iter().map(|f| f.name.as_str()).collect();
    d = d.with_note(format!(
        "searched {} for a JSON member `{name}`, a CSV column `{name}` or columns `{name}.1`, `{name}.2`, …",
        files.join(", ")
    ));
    if let Some(best) = crate::diagnostic::did_you_mean(name, set.names()).first() {
        d = d.with_help(format!(
            "did you mean `{best}`? A CSV column of another name is bound with `= columns(\"{best}\")`"
        ));
    } else if matches!(decl.ty, Some(TypeExpr::Int(_))) {
        d = d.with_help(format!(
            "a size no file holds is counted from the arrays it sizes: declare them together, \
             `data {name}: int, y: real[{name}]`"
        ));
    }
    d
}

fn join(d: &[usize]) -> String {
    d.iter().map(usize::to_string).collect::<Vec<_>>().join(", ")
}

fn shape(int: bool, sizes: &[usize]) -> String {
    let base = if int { "int" } else { "real" };
    if sizes.is_empty() {
        base.to_string()
    } else {
        format!("{base}[{}]", join(sizes))
    }
}

/// Which declared size disagrees, when it is a name (`n` is 500 but the file has 569 rows).
fn size_note(sizes: &[usize], found: &[usize], dims: &[ast::Expr]) -> Option<String> {
    let k = sizes.iter().zip(found).position(|(a, b)| a != b)?;
    let ExprKind::Name(n) = &dims.get(k)?.kind else {
        return None;
    };
    let what = if k == 0 { "rows" } else { "columns" };
    Some(format!(
        "`{n}` is {}, the file has {} {what}",
        sizes.get(k)?,
        found.get(k)?
    ))
}
