//! `:plot NAME [hist|trace] [svg=FILE]`: a histogram or a trace of the last
//! run's draws, drawn in the terminal with Unicode block characters and
//! optionally written as an SVG file.
//!
//! A histogram pools every draw of every chain (for an SDE run: the state at
//! the final time over all paths); a trace follows chain 1 (for an SDE run:
//! the mean over paths at each recorded time).

use super::runcmd::LastRun;
use super::session::Session;
use super::Out;
use std::fmt::Write as _;

/// Columns of a terminal plot.
const WIDTH: usize = 60;
/// Rows of a terminal plot.
const HEIGHT: usize = 8;
/// Eighth blocks, from empty to full.
const BLOCKS: [char; 9] = [' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// What to draw.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Hist,
    Trace,
}

/// `:plot`.
pub fn plot(s: &mut Session, out: &mut Out, args: &str) {
    let Some(run) = &s.last_run else {
        return out.error("nothing to plot yet: `:run` first");
    };
    let mut name = None;
    let mut kind = if run.gibbs { Kind::Hist } else { Kind::Trace };
    let mut svg = None;
    for word in args.split_whitespace() {
        match word {
            "hist" | "histogram" => kind = Kind::Hist,
            "trace" => kind = Kind::Trace,
            w if w.starts_with("svg=") => svg = w.get(4..).map(str::to_string),
            w if name.is_none() => name = Some(w.to_string()),
            w => {
                return out.error(&format!(
                    "unexpected `{w}`: usage: :plot NAME [hist|trace] [svg=FILE]"
                ))
            }
        }
    }
    let Some(name) = name else {
        let cols = run.columns.join(", ");
        return out.error(&format!(
            "usage: :plot NAME [hist|trace] [svg=FILE]  (columns: {cols})"
        ));
    };
    let picked = columns(run, &name);
    if picked.is_empty() {
        let mut msg = format!("no column `{name}` in the last run of `{}`", run.model);
        let close = sdelang::diagnostic::did_you_mean(&name, run.columns.iter().map(String::as_str));
        match close.first() {
            Some(best) => {
                let _ = write!(msg, "; did you mean `{best}`?");
            }
            None => {
                let _ = write!(msg, " (columns: {})", run.columns.join(", "));
            }
        }
        return out.error(&msg);
    }
    let mut svgs = Vec::new();
    for &k in &picked {
        let label = run.columns.get(k).cloned().unwrap_or_default();
        let series = match kind {
            Kind::Hist => Series::Hist(hist_values(run, k)),
            Kind::Trace => Series::Trace(trace(run, k)),
        };
        out.text.push_str(&terminal(&label, &series, run));
        svgs.push((label, series));
    }
    if run.truncated {
        out.text
            .push_str("(the plot uses the draws kept in memory; the CSV files have all of them)\n");
    }
    if let Some(path) = svg {
        match std::fs::write(&path, svg_text(&svgs)) {
            Ok(()) => {
                let _ = writeln!(out.text, "wrote {path}");
            }
            Err(e) => out.error(&format!("cannot write `{path}`: {e}")),
        }
    }
}

/// The column indices `name` refers to: `x.1`, `x[0]` or every component of `x`.
fn columns(run: &LastRun, name: &str) -> Vec<usize> {
    let wanted = match name.strip_suffix(']').and_then(|n| n.split_once('[')) {
        Some((base, ix)) => match ix.trim().parse::<usize>() {
            Ok(i) => format!("{base}.{}", i + 1),
            Err(_) => return Vec::new(),
        },
        None => name.to_string(),
    };
    let exact: Vec<usize> = run
        .columns
        .iter()
        .position(|c| *c == wanted)
        .into_iter()
        .collect();
    if !exact.is_empty() {
        return exact;
    }
    let prefix = format!("{wanted}.");
    (0..run.columns.len())
        .filter(|k| run.columns.get(*k).is_some_and(|c| c.starts_with(&prefix)))
        .collect()
}

/// What a plot shows.
enum Series {
    /// Values to bin.
    Hist(Vec<f64>),
    /// (time or draw number, value) points.
    Trace(Vec<(f64, f64)>),
}

/// Every draw of column `k` (sampler), or its value at the final time of every path (SDE).
fn hist_values(run: &LastRun, k: usize) -> Vec<f64> {
    if run.gibbs {
        run.chains.iter().flat_map(|c| c.column(k)).collect()
    } else {
        run.chains.iter().filter_map(|c| c.column(k).last()).collect()
    }
}

/// Chain 1's draws (sampler), or the mean over paths at each time (SDE).
fn trace(run: &LastRun, k: usize) -> Vec<(f64, f64)> {
    if run.gibbs {
        let Some(first) = run.chains.first() else {
            return Vec::new();
        };
        return first
            .column(k)
            .enumerate()
            .map(|(i, v)| ((i + 1) as f64, v))
            .collect();
    }
    let Some(first) = run.chains.first() else {
        return Vec::new();
    };
    let paths: Vec<Vec<f64>> = run.chains.iter().map(|c| c.column(k).collect()).collect();
    let count = run.chains.len().max(1) as f64;
    first
        .times
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let sum: f64 = paths.iter().filter_map(|p| p.get(i)).sum();
            (*t, sum / count)
        })
        .collect()
}

/// Finite minimum and maximum.
fn range(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values.filter(|v| v.is_finite()).fold(None, |acc, v| match acc {
        None => Some((v, v)),
        Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
    })
}

/// Counts of `values` in `bins` equal bins over [lo, hi].
fn bin(values: &[f64], bins: usize, lo: f64, hi: f64) -> Vec<usize> {
    let mut counts = vec![0usize; bins];
    let width = (hi - lo) / bins as f64;
    for v in values.iter().filter(|v| v.is_finite()) {
        let k = if width > 0.0 {
            (((v - lo) / width) as usize).min(bins - 1)
        } else {
            bins / 2
        };
        if let Some(c) = counts.get_mut(k) {
            *c += 1;
        }
    }
    counts
}

/// Rows of block characters for bar heights in [0, 1], top row first.
fn bars(heights: &[f64]) -> Vec<String> {
    (0..HEIGHT)
        .rev()
        .map(|row| {
            heights
                .iter()
                .map(|h| {
                    let eighths = (h.clamp(0.0, 1.0) * (HEIGHT * 8) as f64).round() as usize;
                    let fill = eighths.saturating_sub(row * 8).min(8);
                    BLOCKS.get(fill).copied().unwrap_or(' ')
                })
                .collect()
        })
        .collect()
}

/// Means of `points`' values in `WIDTH` equal buckets of their order.
fn buckets(points: &[(f64, f64)]) -> Vec<f64> {
    let n = points.len();
    let cols = WIDTH.min(n.max(1));
    (0..cols)
        .map(|c| {
            let (a, b) = (c * n / cols, ((c + 1) * n / cols).max(c * n / cols + 1));
            let slice = points.get(a..b.min(n)).unwrap_or(&[]);
            slice.iter().map(|p| p.1).sum::<f64>() / slice.len().max(1) as f64
        })
        .collect()
}

/// A plot for the terminal.
fn terminal(label: &str, series: &Series, run: &LastRun) -> String {
    match series {
        Series::Hist(values) => terminal_hist(label, values, run.gibbs),
        Series::Trace(points) => terminal_trace(label, points, run),
    }
}

fn terminal_hist(label: &str, values: &[f64], gibbs: bool) -> String {
    let mut out = String::new();
    let Some((lo, hi)) = range(values.iter().copied()) else {
        return format!("{label}: no finite values\n");
    };
    let counts = bin(values, WIDTH, lo, hi);
    let top = counts.iter().copied().max().unwrap_or(1).max(1) as f64;
    let what = if gibbs { "draws" } else { "paths at the final time" };
    let _ = writeln!(out, "{label}: histogram of {} {what}", values.len());
    let heights: Vec<f64> = counts.iter().map(|c| *c as f64 / top).collect();
    for row in bars(&heights) {
        let _ = writeln!(out, "  │{row}");
    }
    let _ = writeln!(out, "  └{}", "─".repeat(counts.len()));
    let (l, h) = (number_short(lo), number_short(hi));
    let pad = counts.len().saturating_sub(l.chars().count() + h.chars().count());
    let _ = writeln!(out, "   {l}{}{h}", " ".repeat(pad));
    out
}

fn terminal_trace(label: &str, points: &[(f64, f64)], run: &LastRun) -> String {
    let mut out = String::new();
    let Some((lo, hi)) = range(points.iter().map(|p| p.1)) else {
        return format!("{label}: no finite values\n");
    };
    let what = if run.gibbs {
        "chain 1".to_string()
    } else {
        format!("mean of {} paths", run.chains.len())
    };
    let _ = writeln!(out, "{label}: trace of {what}, {} points", points.len());
    let span = if hi > lo { hi - lo } else { 1.0 };
    let heights: Vec<f64> = buckets(points)
        .iter()
        .map(|v| 0.02 + 0.98 * (v - lo) / span)
        .collect();
    let (top, bottom) = (number_short(hi), number_short(lo));
    let w = top.chars().count().max(bottom.chars().count());
    for (i, row) in bars(&heights).iter().enumerate() {
        let axis = match i {
            0 => format!("{top:>w$}"),
            i if i + 1 == HEIGHT => format!("{bottom:>w$}"),
            _ => " ".repeat(w),
        };
        let _ = writeln!(out, "{axis} │{row}");
    }
    let _ = writeln!(out, "{} └{}", " ".repeat(w), "─".repeat(heights.len()));
    if let (Some(a), Some(b)) = (points.first(), points.last()) {
        let unit = if run.gibbs { "draw" } else { "t" };
        let (l, h) = (format!("{unit} = {}", number_short(a.0)), number_short(b.0));
        let used = l.chars().count() + h.chars().count();
        let line = if heights.len() > used {
            format!("{l}{}{h}", " ".repeat(heights.len() - used))
        } else {
            format!("{l} … {h}")
        };
        let _ = writeln!(out, "{}  {line}", " ".repeat(w));
    }
    out
}

/// A number with at most 4 significant digits, for axes.
fn number_short(v: f64) -> String {
    let a = v.abs();
    if a != 0.0 && !(1e-3..1e5).contains(&a) {
        format!("{v:.2e}")
    } else {
        let s = format!("{v:.4}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        if s == "-0" {
            "0".into()
        } else {
            s.into()
        }
    }
}

/// One SVG file with a panel per series.
fn svg_text(panels: &[(String, Series)]) -> String {
    let (w, h, pad) = (640.0, 240.0, 40.0);
    let total = h * panels.len().max(1) as f64;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{total}" viewBox="0 0 {w} {total}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(out, r#"<rect width="{w}" height="{total}" fill="white"/>"#);
    for (p, (label, series)) in panels.iter().enumerate() {
        let y0 = p as f64 * h;
        let (pw, ph) = (w - 2.0 * pad, h - 2.0 * pad);
        let _ = writeln!(
            out,
            r#"<text x="{pad}" y="{}">{}</text>"#,
            y0 + 20.0,
            escape(label)
        );
        let _ = writeln!(
            out,
            r##"<rect x="{pad}" y="{}" width="{pw}" height="{ph}" fill="none" stroke="#888"/>"##,
            y0 + pad
        );
        let frame = Frame {
            x: pad,
            y: y0 + pad,
            w: pw,
            h: ph,
        };
        match series {
            Series::Hist(values) => svg_hist(&mut out, &frame, values),
            Series::Trace(points) => svg_trace(&mut out, &frame, points),
        }
    }
    out.push_str("</svg>\n");
    out
}

/// Where a panel's plot area lies.
struct Frame {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

fn svg_hist(out: &mut String, f: &Frame, values: &[f64]) {
    let Some((lo, hi)) = range(values.iter().copied()) else {
        return;
    };
    let counts = bin(values, 50, lo, hi);
    let top = counts.iter().copied().max().unwrap_or(1).max(1) as f64;
    let bw = f.w / counts.len() as f64;
    for (i, c) in counts.iter().enumerate() {
        let bh = f.h * *c as f64 / top;
        let _ = writeln!(
            out,
            r##"<rect x="{:.2}" y="{:.2}" width="{:.2}" height="{bh:.2}" fill="#4878a8"/>"##,
            f.x + i as f64 * bw,
            f.y + f.h - bh,
            bw * 0.95
        );
    }
    axis_labels(out, f.x, f.y + f.h + 15.0, f.w, lo, hi);
}

fn svg_trace(out: &mut String, f: &Frame, points: &[(f64, f64)]) {
    let (Some((lo, hi)), Some((t0, t1))) = (
        range(points.iter().map(|q| q.1)),
        range(points.iter().map(|q| q.0)),
    ) else {
        return;
    };
    let (sy, sx) = (
        if hi > lo { hi - lo } else { 1.0 },
        if t1 > t0 { t1 - t0 } else { 1.0 },
    );
    let step = (points.len() / 2000).max(1);
    let coords: Vec<String> = points
        .iter()
        .step_by(step)
        .map(|(t, v)| {
            let x = f.x + f.w * (t - t0) / sx;
            let y = f.y + f.h * (1.0 - (v - lo) / sy);
            format!("{x:.2},{y:.2}")
        })
        .collect();
    let _ = writeln!(
        out,
        r##"<polyline fill="none" stroke="#4878a8" stroke-width="1" points="{}"/>"##,
        coords.join(" ")
    );
    axis_labels(out, f.x, f.y + f.h + 15.0, f.w, t0, t1);
    let _ = writeln!(
        out,
        r#"<text x="2" y="{}">{}</text>"#,
        f.y + 10.0,
        number_short(hi)
    );
    let _ = writeln!(
        out,
        r#"<text x="2" y="{}">{}</text>"#,
        f.y + f.h,
        number_short(lo)
    );
}

fn axis_labels(out: &mut String, x: f64, y: f64, width: f64, lo: f64, hi: f64) {
    let _ = writeln!(out, r#"<text x="{x}" y="{y}">{}</text>"#, number_short(lo));
    let _ = writeln!(
        out,
        r#"<text x="{}" y="{y}" text-anchor="end">{}</text>"#,
        x + width,
        number_short(hi)
    );
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Used by `:plot` completion and messages: the plottable names.
pub fn names(s: &Session) -> Vec<String> {
    s.last_run.as_ref().map(|r| r.columns.clone()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_blocks() {
        let rows = bars(&[0.0, 1.0, 0.5, 1.0 / 64.0]);
        assert_eq!(rows.len(), HEIGHT);
        assert_eq!(rows.first().map(String::as_str), Some(" █  "));
        assert_eq!(rows.last().map(String::as_str), Some(" ██▁"));
        assert_eq!(bin(&[0.0, 0.5, 1.0, 1.0], 2, 0.0, 1.0), vec![1, 3]);
        assert_eq!(number_short(0.25), "0.25");
        assert_eq!(number_short(-2.0), "-2");
        assert_eq!(number_short(123456.0), "1.23e5");
    }
}
