//! Data files: the values of a model's `data` declarations, read from JSON and
//! CSV files before the model is checked.
//!
//! Vocabulary: a [`DataSet`] is the ordered list of files given (`--data` files
//! first, then the run block's `data = …`); a [`Binding`] is what one file holds
//! for one declaration: its dimensions, its elements row by row, and where each
//! element came from (a CSV cell's span, or a JSON path), so the checker can say
//! which row and column of which file does not fit the declaration.
//!
//! Matching rules: a JSON file binds a declaration through the member of the
//! same name. A CSV file binds a scalar or vector `y` through column `y`, a
//! matrix `X` through the columns `X.1`, `X.2`, … (CmdStan's names) or the
//! columns the declaration lists (`= columns("x0".."x30")`). The first file
//! that has a declaration's name binds it.
//!
//! Every file is added to the [`SourceMap`], so diagnostics can point into it.
//! Codes: E0901 (a file cannot be read or parsed), E0905 (a bad column list).

pub mod csv;
pub mod json;

use crate::diagnostic::Diagnostic;
use crate::source::{SourceMap, Span};
use crate::syntax::ast::{ColumnSpec, DataSpec};
use std::path::{Path, PathBuf};

/// Largest data file read, in bytes.
pub const MAX_FILE: u64 = 1 << 30;

/// A problem reading one data file (E0901).
#[derive(Clone, Debug, PartialEq)]
pub struct DataError {
    /// The file, as given.
    pub file: String,
    /// What is wrong, with the place in the file when known.
    pub message: String,
    /// Spans in the file.
    pub labels: Vec<(Span, String)>,
}

impl DataError {
    pub(crate) fn new(file: &str, message: String) -> DataError {
        DataError {
            file: file.to_string(),
            message,
            labels: Vec::new(),
        }
    }

    pub(crate) fn at(mut self, span: Span, message: impl Into<String>) -> DataError {
        self.labels.push((span, message.into()));
        self
    }

    /// The diagnostic.
    pub fn diagnostic(&self) -> Diagnostic {
        let mut d = Diagnostic::error("E0901", format!("data file `{}`: {}", self.file, self.message));
        for (span, m) in &self.labels {
            d = d.with_label(*span, m.clone());
        }
        d
    }
}

/// What a file holds.
#[derive(Clone, Debug, PartialEq)]
pub enum Content {
    /// A JSON object's members.
    Json(json::Members),
    /// A CSV table.
    Csv(csv::Table),
}

/// One data file.
#[derive(Clone, Debug, PartialEq)]
pub struct DataFile {
    /// The path as given (for messages).
    pub name: String,
    /// Its contents.
    pub content: Content,
}

/// The data files of a run, in lookup order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DataSet {
    /// The files.
    pub files: Vec<DataFile>,
}

/// What one file holds for one declaration.
#[derive(Clone, Debug, PartialEq)]
pub struct Binding<'d> {
    /// The file.
    pub file: &'d str,
    /// What was matched: "member `X`", "column `y`", "columns `x0` … `x30`".
    pub what: String,
    /// The dimensions (empty for a JSON number; rows first for CSV).
    pub dims: Vec<usize>,
    /// The elements, row by row.
    pub values: Vec<f64>,
    /// Per element: its CSV cell (empty for JSON).
    cells: Vec<Span>,
    /// Per CSV row: its line; per CSV column: its name.
    lines: Vec<usize>,
    columns: Vec<String>,
}

impl Binding<'_> {
    /// Where element `k` (row-major) is in the file, and its cell's span for CSV.
    pub fn locate(&self, k: usize) -> (String, Option<Span>) {
        if self.cells.is_empty() {
            let mut path = String::new();
            let mut rest = k;
            let mut stride: usize = self.dims.iter().product();
            for d in &self.dims {
                stride /= (*d).max(1);
                path.push_str(&format!("[{}]", rest / stride.max(1)));
                rest %= stride.max(1);
            }
            return (format!("element {path}"), None);
        }
        let cols = self.columns.len().max(1);
        let line = self.lines.get(k / cols).copied().unwrap_or(0);
        let col = self.columns.get(k % cols).map_or("?", String::as_str);
        (format!("line {line}, column `{col}`"), self.cells.get(k).copied())
    }
}

impl DataSet {
    /// Reads the files, adding each to `sources`. Paths are opened as given.
    pub fn load(paths: &[PathBuf], sources: &mut SourceMap) -> Result<DataSet, Vec<Diagnostic>> {
        let mut files = Vec::new();
        let mut errors = Vec::new();
        for path in paths {
            match read(path, sources) {
                Ok(f) => files.push(f),
                Err(e) => errors.push(e.diagnostic()),
            }
        }
        if errors.is_empty() {
            Ok(DataSet { files })
        } else {
            Err(errors)
        }
    }

    /// The names each file offers (JSON members, CSV columns), for suggestions.
    pub fn names(&self) -> Vec<&str> {
        self.files
            .iter()
            .flat_map(|f| -> Vec<&str> {
                match &f.content {
                    Content::Json(m) => m.iter().map(|(n, _)| n.as_str()).collect(),
                    Content::Csv(t) => t.header.iter().map(|(n, _)| n.as_str()).collect(),
                }
            })
            .collect()
    }

    /// The first file's binding of declaration `name` (with its column list), if any.
    pub fn find(&self, name: &str, spec: &DataSpec) -> Result<Option<Binding<'_>>, Diagnostic> {
        for f in &self.files {
            let found = match &f.content {
                Content::Json(members) => from_json(f, members, name)?,
                Content::Csv(table) => from_csv(f, table, name, spec)?,
            };
            if found.is_some() {
                return Ok(found);
            }
        }
        Ok(None)
    }
}

fn read(path: &Path, sources: &mut SourceMap) -> Result<DataFile, DataError> {
    let name = path.display().to_string();
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let json = match ext.as_deref() {
        Some("json") => true,
        Some("csv") => false,
        _ => {
            return Err(DataError::new(
                &name,
                "unknown format: data files end in `.json` or `.csv`".to_string(),
            ))
        }
    };
    let too_big = std::fs::metadata(path)
        .map(|m| m.len() > MAX_FILE)
        .unwrap_or(false);
    if too_big {
        return Err(DataError::new(&name, format!("larger than {MAX_FILE} bytes")));
    }
    let text =
        std::fs::read_to_string(path).map_err(|e| DataError::new(&name, format!("cannot read it: {e}")))?;
    let id = sources.add(name.clone(), Some(path), text.clone());
    let content = if json {
        Content::Json(json::parse(id, &name, &text)?)
    } else {
        Content::Csv(csv::parse(id, &name, &text)?)
    };
    Ok(DataFile { name, content })
}

fn from_json<'d>(
    f: &'d DataFile,
    members: &json::Members,
    name: &str,
) -> Result<Option<Binding<'d>>, Diagnostic> {
    let Some((_, value)) = members.iter().find(|(n, _)| n == name) else {
        return Ok(None);
    };
    let (dims, values) = json::array(name, value).map_err(|m| DataError::new(&f.name, m).diagnostic())?;
    Ok(Some(Binding {
        file: &f.name,
        what: format!("member `{name}`"),
        dims,
        values,
        cells: Vec::new(),
        lines: Vec::new(),
        columns: Vec::new(),
    }))
}

fn from_csv<'d>(
    f: &'d DataFile,
    table: &csv::Table,
    name: &str,
    spec: &DataSpec,
) -> Result<Option<Binding<'d>>, Diagnostic> {
    let (names, what, matrix) = if spec.columns.is_empty() {
        if table.column(name).is_some() {
            (vec![name.to_string()], format!("column `{name}`"), false)
        } else {
            let cols: Vec<String> = (1..)
                .map(|k| format!("{name}.{k}"))
                .take_while(|c| table.column(c).is_some())
                .collect();
            if cols.is_empty() {
                return Ok(None);
            }
            let what = format!(
                "columns `{}` … `{}`",
                cols.first().map_or("", String::as_str),
                cols.last().map_or("", String::as_str)
            );
            (cols, what, true)
        }
    } else {
        let cols = expand(&spec.columns)?;
        let Some(first) = cols.first() else {
            return Ok(None);
        };
        if table.column(&first.0).is_none() {
            return Ok(None);
        }
        if let Some((missing, span)) = cols.iter().find(|(c, _)| table.column(c).is_none()) {
            return Err(Diagnostic::error(
                "E0905",
                format!("data file `{}` has no column `{missing}`", f.name),
            )
            .with_label(*span, format!("`{missing}` is not in the file's header")));
        }
        let what = match cols.as_slice() {
            [one] => format!("column `{}`", one.0),
            _ => format!(
                "columns `{}` … `{}`",
                first.0,
                cols.last().map_or("", |c| c.0.as_str())
            ),
        };
        (cols.into_iter().map(|c| c.0).collect(), what, true)
    };
    let idx: Vec<usize> = names.iter().filter_map(|c| table.column(c)).collect();
    let mut values = Vec::with_capacity(idx.len() * table.rows.len());
    let mut cells = Vec::with_capacity(values.capacity());
    for row in &table.rows {
        for &j in &idx {
            if let Some((x, span)) = row.cells.get(j) {
                values.push(*x);
                cells.push(*span);
            }
        }
    }
    let dims = if matrix {
        vec![table.rows.len(), idx.len()]
    } else {
        vec![table.rows.len()]
    };
    Ok(Some(Binding {
        file: &f.name,
        what,
        dims,
        values,
        cells,
        lines: table.rows.iter().map(|r| r.line).collect(),
        columns: names,
    }))
}

/// The column names a `columns(…)` list denotes, each with the span it came from.
pub fn expand(specs: &[ColumnSpec]) -> Result<Vec<(String, Span)>, Diagnostic> {
    let mut out = Vec::new();
    for s in specs {
        match s {
            ColumnSpec::One(name, span) => out.push((name.clone(), *span)),
            ColumnSpec::Range(a, b, span) => {
                let bad = |why: &str| {
                    Diagnostic::error("E0905", format!("bad column range \"{a}\"..\"{b}\""))
                        .with_label(*span, why.to_string())
                        .with_help(
                            "a range joins two names with the same prefix and numbers: \"x0\"..\"x30\"",
                        )
                };
                let (pa, na) =
                    split_number(a).ok_or_else(|| bad("the first name does not end in a number"))?;
                let (pb, nb) =
                    split_number(b).ok_or_else(|| bad("the last name does not end in a number"))?;
                if pa != pb {
                    return Err(bad("the two names have different prefixes"));
                }
                if na > nb {
                    return Err(bad("the first number is larger than the last"));
                }
                if nb - na >= 1 << 20 {
                    return Err(bad("too many columns"));
                }
                out.extend((na..=nb).map(|k| (format!("{pa}{k}"), *span)));
            }
        }
    }
    Ok(out)
}

/// `"x12"` → (`"x"`, 12).
fn split_number(s: &str) -> Option<(&str, u64)> {
    let digits = s.len() - s.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    let (prefix, number) = s.split_at(s.len() - digits);
    Some((prefix, number.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceId;

    fn sp() -> Span {
        Span::new(SourceId(0), 0, 0)
    }

    fn csv_set(text: &str) -> DataSet {
        DataSet {
            files: vec![DataFile {
                name: "d.csv".into(),
                content: Content::Csv(csv::parse(SourceId(0), "d.csv", text).unwrap()),
            }],
        }
    }

    #[test]
    fn csv_columns_by_name_cmdstan_names_and_ranges() {
        let set = csv_set("y,X.1,X.2,x0,x1,x2\n1,2,3,4,5,6\n0,7,8,9,10,11\n");
        let y = set.find("y", &DataSpec::default()).unwrap().unwrap();
        assert_eq!((y.dims.clone(), y.values.clone()), (vec![2], vec![1.0, 0.0]));
        let x = set.find("X", &DataSpec::default()).unwrap().unwrap();
        assert_eq!(
            (x.dims.clone(), x.values.clone()),
            (vec![2, 2], vec![2.0, 3.0, 7.0, 8.0])
        );
        assert_eq!(x.locate(3).0, "line 3, column `X.2`");
        let spec = DataSpec {
            columns: vec![
                ColumnSpec::Range("x1".into(), "x2".into(), sp()),
                ColumnSpec::One("x0".into(), sp()),
            ],
            columns_span: None,
        };
        let z = set.find("Z", &spec).unwrap().unwrap();
        assert_eq!(
            (z.dims.clone(), z.values.clone()),
            (vec![2, 3], vec![5.0, 6.0, 4.0, 10.0, 11.0, 9.0])
        );
        assert!(set.find("w", &DataSpec::default()).unwrap().is_none());
    }

    #[test]
    fn bad_ranges_and_missing_columns_are_e0905() {
        let bad = |a: &str, b: &str| {
            expand(&[ColumnSpec::Range(a.into(), b.into(), sp())])
                .unwrap_err()
                .code
        };
        assert_eq!(bad("x0", "y3"), "E0905");
        assert_eq!(bad("x", "x3"), "E0905");
        assert_eq!(bad("x5", "x3"), "E0905");
        let set = csv_set("x0,x1\n1,2\n");
        let spec = DataSpec {
            columns: vec![ColumnSpec::Range("x0".into(), "x2".into(), sp())],
            columns_span: None,
        };
        assert_eq!(set.find("X", &spec).unwrap_err().code, "E0905");
    }

    #[test]
    fn json_paths_locate_elements() {
        let v: serde_json::Value = serde_json::from_str(r#"{"X": [[1, 2, 3], [4, 5, 6]]}"#).unwrap();
        let members: json::Members = v.as_object().unwrap().clone().into_iter().collect();
        let set = DataSet {
            files: vec![DataFile {
                name: "d.json".into(),
                content: Content::Json(members),
            }],
        };
        let x = set.find("X", &DataSpec::default()).unwrap().unwrap();
        assert_eq!(x.locate(4).0, "element [1][1]");
    }
}
