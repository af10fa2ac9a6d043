//! Reading a CSV data file: a header line of column names, then one line of
//! numbers per row. Lines starting with `#` (CmdStan's comments) and blank lines
//! are skipped; names and numbers may be quoted; cells are trimmed. Every cell
//! keeps its byte span, so a bad value can be pointed at in the file.

use super::DataError;
use crate::source::{SourceId, Span};

/// A parsed CSV file.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// Column names, with their spans in the header.
    pub header: Vec<(String, Span)>,
    /// Data rows.
    pub rows: Vec<Row>,
}

/// One data row.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// Its line number in the file (1-based).
    pub line: usize,
    /// One value per column, with its span.
    pub cells: Vec<(f64, Span)>,
}

impl Table {
    /// The index of column `name`.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|(n, _)| n == name)
    }
}

/// Splits one line into trimmed cells with their byte ranges (relative to `base`).
fn cells(line: &str, base: usize) -> Vec<(&str, usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    for piece in line.split(',') {
        let lead = piece.len() - piece.trim_start().len();
        let t = piece.trim();
        let s = base + start + lead;
        let t = t.strip_prefix('"').and_then(|x| x.strip_suffix('"')).unwrap_or(t);
        out.push((t, s, s + piece.trim().len()));
        start += piece.len() + 1;
    }
    out
}

/// Parses the text of a CSV file registered as source `id`.
pub fn parse(id: SourceId, file: &str, text: &str) -> Result<Table, DataError> {
    let mut header: Option<Vec<(String, Span)>> = None;
    let mut rows = Vec::new();
    let mut offset = 0;
    for (k, raw) in text.split_inclusive('\n').enumerate() {
        let base = offset;
        offset += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let parts = cells(line, base);
        let Some(names) = &header else {
            let mut names: Vec<(String, Span)> = Vec::with_capacity(parts.len());
            for (name, s, e) in parts {
                let span = Span::new(id, s, e);
                if name.is_empty() {
                    return Err(
                        DataError::new(file, format!("line {}: a column has no name", k + 1))
                            .at(span, "empty column name"),
                    );
                }
                if let Some((_, first)) = names.iter().find(|(n, _)| n == name) {
                    return Err(DataError::new(file, format!("column `{name}` appears twice"))
                        .at(span, "again here")
                        .at(*first, "first here"));
                }
                names.push((name.to_string(), span));
            }
            header = Some(names);
            continue;
        };
        if parts.len() != names.len() {
            let span = Span::new(id, base, base + line.len());
            return Err(DataError::new(
                file,
                format!(
                    "line {} has {} cells, the header has {} columns",
                    k + 1,
                    parts.len(),
                    names.len()
                ),
            )
            .at(span, format!("{} cells", parts.len())));
        }
        let mut row = Vec::with_capacity(parts.len());
        for ((cell, s, e), (name, _)) in parts.into_iter().zip(names) {
            let span = Span::new(id, s, e);
            match cell.parse::<f64>() {
                Ok(x) if x.is_finite() => row.push((x, span)),
                _ => {
                    return Err(DataError::new(
                        file,
                        format!("line {}, column `{name}`: `{cell}` is not a finite number", k + 1),
                    )
                    .at(span, "not a number"))
                }
            }
        }
        rows.push(Row {
            line: k + 1,
            cells: row,
        });
    }
    let Some(header) = header else {
        return Err(DataError::new(file, "the file has no header line".to_string()));
    };
    Ok(Table { header, rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> Result<Table, DataError> {
        parse(SourceId(0), "t.csv", text)
    }

    #[test]
    fn reads_header_rows_comments_and_quotes() {
        let t = table("# a comment\n\"y\", x.1 ,x.2\n1,2.5,-3e-1\n\n0, 4 ,\"5\"\n").unwrap();
        let names: Vec<&str> = t.header.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["y", "x.1", "x.2"]);
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[1].line, 5);
        let values: Vec<f64> = t.rows[1].cells.iter().map(|c| c.0).collect();
        assert_eq!(values, [0.0, 4.0, 5.0]);
        let text = "# a comment\n\"y\", x.1 ,x.2\n1,2.5,-3e-1\n\n0, 4 ,\"5\"\n";
        let s = t.rows[1].cells[1].1;
        assert_eq!(&text[s.start..s.end], "4");
    }

    #[test]
    fn rejects_bad_cells_ragged_rows_and_duplicate_names() {
        let e = table("a,b\n1,x\n").unwrap_err();
        assert!(e.message.contains("line 2, column `b`"), "{}", e.message);
        let e = table("a,b\n1,2,3\n").unwrap_err();
        assert!(e.message.contains("3 cells"), "{}", e.message);
        let e = table("a,a\n").unwrap_err();
        assert!(e.message.contains("twice"), "{}", e.message);
        let e = table("a,b\n1,nan\n").unwrap_err();
        assert!(e.message.contains("not a finite number"), "{}", e.message);
        assert!(table("").is_err());
    }
}
