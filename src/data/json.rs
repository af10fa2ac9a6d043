//! Reading a JSON data file: one object whose members are numbers, arrays of
//! numbers, or arrays of equally long arrays of numbers (CmdStan's JSON data
//! format). Members are looked up by name; their shapes are checked against the
//! declarations later.

use super::DataError;
use crate::source::{SourceId, Span};
use serde_json::Value;

/// The members of the file's object, in file order.
pub type Members = Vec<(String, Value)>;

/// Parses the text of a JSON file registered as source `id`.
pub fn parse(id: SourceId, file: &str, text: &str) -> Result<Members, DataError> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map.into_iter().collect()),
        Ok(_) => Err(DataError::new(
            file,
            "the file must hold one JSON object such as {\"n\": 3, \"y\": [1, 0, 1]}".to_string(),
        )),
        Err(e) => {
            let at = offset(text, e.line(), e.column());
            Err(DataError::new(
                file,
                format!("invalid JSON at line {}, column {}: {e}", e.line(), e.column()),
            )
            .at(Span::new(id, at, (at + 1).min(text.len()).max(at)), "here"))
        }
    }
}

/// The byte offset of a 1-based line and column.
fn offset(text: &str, line: usize, column: usize) -> usize {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    (start + column.saturating_sub(1)).min(text.len())
}

/// A member's dimensions and elements (row-major), or what is wrong with it.
pub fn array(name: &str, value: &Value) -> Result<(Vec<usize>, Vec<f64>), String> {
    let mut dims = Vec::new();
    let mut probe = value;
    while let Value::Array(items) = probe {
        dims.push(items.len());
        match items.first() {
            Some(first) => probe = first,
            None => break,
        }
    }
    let mut out = Vec::new();
    flatten(value, &dims, name.to_string(), &mut out)?;
    Ok((dims, out))
}

fn flatten(value: &Value, dims: &[usize], path: String, out: &mut Vec<f64>) -> Result<(), String> {
    match (value, dims.split_first()) {
        (Value::Number(x), None) => match x.as_f64() {
            Some(x) if x.is_finite() => {
                out.push(x);
                Ok(())
            }
            _ => Err(format!("`{path}` is not a finite number")),
        },
        (Value::Array(items), Some((n, rest))) if items.len() == *n => {
            for (k, item) in items.iter().enumerate() {
                flatten(item, rest, format!("{path}[{k}]"), out)?;
            }
            Ok(())
        }
        (Value::Array(items), Some((n, _))) => Err(format!(
            "`{path}` has {} elements where {n} are expected (rows of different lengths)",
            items.len()
        )),
        (other, _) => Err(format!("`{path}` is {}, not a number", kind(other))),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_of_members() {
        let v: Value =
            serde_json::from_str(r#"{"s": 2.5, "y": [1, 0], "X": [[1, 2, 3], [4, 5, 6]]}"#).unwrap();
        assert_eq!(array("s", &v["s"]).unwrap(), (vec![], vec![2.5]));
        assert_eq!(array("y", &v["y"]).unwrap(), (vec![2], vec![1.0, 0.0]));
        assert_eq!(
            array("X", &v["X"]).unwrap(),
            (vec![2, 3], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
        );
    }

    #[test]
    fn ragged_and_non_numeric_members_are_named() {
        let v: Value = serde_json::from_str(r#"{"X": [[1, 2], [3]], "z": [1, "a"]}"#).unwrap();
        assert!(array("X", &v["X"]).unwrap_err().contains("`X[1]` has 1 elements"));
        assert!(array("z", &v["z"]).unwrap_err().contains("`z[1]` is a string"));
        let e = parse(SourceId(0), "d.json", "{\"a\": [1,\n 2,,]}").unwrap_err();
        assert!(e.message.contains("line 2"), "{}", e.message);
    }
}
