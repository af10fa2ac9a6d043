//! Command-line values of standalone binaries, read without the language's
//! parser: numbers (`2`, `-0.5`, `1e-3`, `10_000`), lists (`[1, 2, 3]`) and
//! methods (`mala`, `mala(step=0.1)`, `baoab(0.1, friction=2)`). These are the
//! values people write on a command line; `sde run` also accepts constant
//! expressions such as `linspace(0, 1, 5)`, and the messages here say so.

/// A parsed value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A number.
    Number(f64),
    /// A list of numbers.
    List(Vec<f64>),
}

/// A parsed method: its name and its arguments (named or positional).
#[derive(Clone, Debug, PartialEq)]
pub struct MethodCall {
    /// The method's name.
    pub name: String,
    /// `(Some(name), value)` or `(None, value)` for a positional argument.
    pub args: Vec<(Option<String>, f64)>,
}

const NEED: &str = "a standalone binary accepts numbers and lists of numbers (`2`, `-0.5`, `[1, 2.5]`); \
                    compute other values beforehand or use `sde run`";

/// A number as the language writes it (underscores ignored), finite.
pub fn number(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let digits: String = t.chars().filter(|c| *c != '_').collect();
    let body = digits.strip_prefix(['-', '+']).unwrap_or(&digits);
    let numeric = body.starts_with(|c: char| c.is_ascii_digit())
        && body
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'));
    match digits.parse::<f64>() {
        Ok(x) if numeric && x.is_finite() => Ok(x),
        _ => Err(format!("`{t}` is not a number: {NEED}")),
    }
}

/// A number or a list of numbers.
pub fn value(text: &str) -> Result<Value, String> {
    let t = text.trim();
    let Some(inner) = t.strip_prefix('[') else {
        return number(t).map(Value::Number);
    };
    let Some(inner) = inner.strip_suffix(']') else {
        return Err(format!("`{t}`: a list ends with `]`"));
    };
    let inner = inner.trim();
    let inner = inner.strip_suffix(',').unwrap_or(inner);
    if inner.trim().is_empty() {
        return Err(format!("`{t}`: the list is empty"));
    }
    inner
        .split(',')
        .map(number)
        .collect::<Result<Vec<_>, _>>()
        .map(Value::List)
}

/// `name` or `name(arg, key=value, …)`.
pub fn method(text: &str) -> Result<MethodCall, String> {
    let t = text.trim();
    let (name, args) = match t.split_once('(') {
        None => (t, None),
        Some((name, rest)) => match rest.trim_end().strip_suffix(')') {
            Some(args) => (name.trim(), Some(args)),
            None => return Err(format!("`{t}`: missing `)`")),
        },
    };
    if !is_ident(name) {
        return Err(format!(
            "`{t}` is not a method: write for example `mala(step=0.1)`"
        ));
    }
    let mut out = Vec::new();
    for arg in args.map(str::trim).filter(|a| !a.is_empty()).into_iter() {
        let arg = arg.strip_suffix(',').unwrap_or(arg);
        for part in arg.split(',') {
            match part.split_once('=') {
                Some((k, v)) if is_ident(k.trim()) => out.push((Some(k.trim().to_string()), number(v)?)),
                Some(_) => return Err(format!("`{}` is not an argument name", part.trim())),
                None => out.push((None, number(part)?)),
            }
        }
    }
    Ok(MethodCall {
        name: name.to_string(),
        args: out,
    })
}

/// Splits `name=value`, checking the name.
pub fn assignment(text: &str) -> Result<(&str, &str), String> {
    match text.split_once('=') {
        Some((name, value)) if is_ident(name.trim()) => Ok((name.trim(), value)),
        _ => Err(format!(
            "expected `name=value`, found `{text}`: write for example `--set beta=2` or `--set s=[1, 2, 3]`"
        )),
    }
}

fn is_ident(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_the_language_reads_them() {
        for (text, x) in [
            ("2", 2.0),
            ("-0.5", -0.5),
            ("1e-3", 1e-3),
            ("10_000", 1e4),
            ("2.5E+4", 2.5e4),
        ] {
            assert_eq!(number(text), Ok(x), "{text}");
        }
        for text in ["", "inf", "NaN", "1e999", "x", "2*3", "-", ".5"] {
            assert!(number(text).is_err(), "{text}");
        }
    }

    #[test]
    fn lists_and_methods() {
        assert_eq!(value("[1, 2.5,]"), Ok(Value::List(vec![1.0, 2.5])));
        assert_eq!(value(" 3 "), Ok(Value::Number(3.0)));
        assert!(value("[]").is_err());
        assert!(value("[1, 2").is_err());
        assert!(value("linspace(0, 1, 3)").is_err());
        let m = method("baoab(0.1, friction = 2)").map_err(|e| e.to_string());
        assert_eq!(
            m,
            Ok(MethodCall {
                name: "baoab".into(),
                args: vec![(None, 0.1), (Some("friction".into()), 2.0)],
            })
        );
        assert_eq!(method("mala").map(|m| m.args.len()), Ok(0));
        assert_eq!(method("mala()").map(|m| m.args.len()), Ok(0));
        assert!(method("mala(step=0.1").is_err());
        assert!(method("2(step=1)").is_err());
        assert_eq!(assignment("beta=2"), Ok(("beta", "2")));
        assert!(assignment("2x=1").is_err());
    }
}
