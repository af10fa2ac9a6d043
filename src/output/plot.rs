//! Plots of saved chains (plotters), each written as SVG and PNG: trace plots, marginal
//! histograms (with a known density drawn over them, [`Overlay`]), a pair plot of two
//! quantities, and energy (`energy__`, else −`lp__`) per draw.
//!
//! Text needs a TrueType font: `$SDELANG_FONT` (alone, when set), else DejaVu Sans where
//! Debian puts it. Without
//! one the plots are drawn without text (no titles, tick labels or axis names). Long runs are
//! thinned to at most [`MAX_POINTS`] points per chain for traces and the pair plot.

use std::io;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::density::{curve, CURVE_POINTS};
use super::read::{chain_files, columns, header, FileFormat};

/// Points per chain drawn in traces and pair plots.
pub const MAX_POINTS: usize = 5000;

/// Registers a font for text once; false when none was found.
pub fn font_available() -> bool {
    static FONT: OnceLock<bool> = OnceLock::new();
    *FONT.get_or_init(|| {
        // $SDELANG_FONT alone when set (so `SDELANG_FONT=none` draws without text)
        let candidates = match std::env::var_os("SDELANG_FONT") {
            Some(f) => vec![PathBuf::from(f)],
            None => vec![PathBuf::from("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")],
        };
        for path in candidates {
            if let Ok(bytes) = std::fs::read(&path) {
                let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                if plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).is_ok() {
                    return true;
                }
            }
        }
        false
    })
}

/// What to plot.
#[derive(Debug, Clone, Default)]
pub struct PlotOptions {
    /// Columns for traces and histograms (default: the first four state columns).
    pub columns: Vec<String>,
    /// The two columns of the pair plot (default: the first two).
    pub pair: Option<(String, String)>,
    /// Image width and height in pixels.
    pub size: (u32, u32),
    /// Known densities to draw over histograms.
    pub overlays: Vec<Overlay>,
}

/// The colour of a known density drawn over a histogram.
pub const EXACT_COLOR: RGBColor = RGBColor(214, 39, 40);

/// A known density of one column, drawn over its histogram.
#[derive(Clone)]
pub struct Overlay {
    /// The column.
    pub column: String,
    /// What it is, for the caption (`exact x ~ normal(0, 1)`).
    pub label: String,
    /// ln of the density; up to a constant unless `normalised` (then normalised by quadrature
    /// over a range covering the draws, see [`super::density`]).
    pub log_density: Rc<dyn Fn(f64) -> f64>,
    /// Whether `log_density` is normalised already.
    pub normalised: bool,
}

impl std::fmt::Debug for Overlay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Overlay")
            .field("column", &self.column)
            .field("label", &self.label)
            .field("normalised", &self.normalised)
            .finish_non_exhaustive()
    }
}

/// One quantity's draws, per chain.
struct Series {
    name: String,
    chains: Vec<Vec<f64>>,
}

type PlotResult = Result<(), Box<dyn std::error::Error>>;

fn err(e: Box<dyn std::error::Error>) -> io::Error {
    io::Error::other(e.to_string())
}

/// Draws the plots of `dir` into `dir/plots/`, returning the files written.
pub fn plot_dir(dir: &Path, opts: &PlotOptions) -> io::Result<Vec<PathBuf>> {
    let (format, files) = chain_files(dir)?;
    let first = files.first().cloned().unwrap_or_default();
    let head = header(&first, format)?;
    let state: Vec<&String> = head
        .iter()
        .filter(|h| !h.ends_with("__") && h.as_str() != "t")
        .collect();
    let pick: Vec<String> = if opts.columns.is_empty() {
        state.iter().take(4).map(|s| s.to_string()).collect()
    } else {
        opts.columns.clone()
    };
    let load = |name: &str| -> io::Result<Option<Series>> {
        let Some(k) = head.iter().position(|h| h == name) else {
            return Ok(None);
        };
        let chains = files
            .iter()
            .map(|f| columns(f, format, &[k]).map(|mut c| c.pop().unwrap_or_default()))
            .collect::<io::Result<Vec<_>>>()?;
        Ok(Some(Series {
            name: name.to_string(),
            chains,
        }))
    };
    let mut series = Vec::new();
    for name in &pick {
        let s = load(name)?.ok_or_else(|| io::Error::other(format!("no column `{name}`")))?;
        series.push(s);
    }
    let out = dir.join("plots");
    std::fs::create_dir_all(&out)?;
    let size = if opts.size.0 == 0 {
        (1000, 250 * series.len().max(1) as u32)
    } else {
        opts.size
    };
    let mut written = Vec::new();
    let mut both = |name: &str,
                    size: (u32, u32),
                    f: &dyn Fn(&DrawingArea<SVGBackend, Shift>) -> PlotResult,
                    g: &dyn Fn(&DrawingArea<BitMapBackend, Shift>) -> PlotResult|
     -> io::Result<()> {
        let svg = out.join(format!("{name}.svg"));
        let png = out.join(format!("{name}.png"));
        {
            let root = SVGBackend::new(&svg, size).into_drawing_area();
            f(&root).map_err(err)?;
            root.present().map_err(|e| io::Error::other(e.to_string()))?;
        }
        {
            let root = BitMapBackend::new(&png, size).into_drawing_area();
            g(&root).map_err(err)?;
            root.present().map_err(|e| io::Error::other(e.to_string()))?;
        }
        written.push(svg);
        written.push(png);
        Ok(())
    };
    both("trace", size, &|r| traces(r, &series), &|r| traces(r, &series))?;
    let overlays = &opts.overlays;
    both("hist", size, &|r| histograms(r, &series, overlays), &|r| {
        histograms(r, &series, overlays)
    })?;
    let (pa, pb) = opts.pair.clone().unwrap_or_else(|| {
        let a = state.first().map(|s| s.to_string()).unwrap_or_default();
        let b = state.get(1).map(|s| s.to_string()).unwrap_or_else(|| a.clone());
        (a, b)
    });
    if let (Some(a), Some(b)) = (load(&pa)?, load(&pb)?) {
        both("pair", (700, 700), &|r| pair(r, &a, &b), &|r| pair(r, &a, &b))?;
    }
    let energy = match format {
        FileFormat::CmdStan => load("energy__")?,
        _ => None,
    };
    if let Some(e) = energy {
        let e = [e];
        both("energy", (1000, 300), &|r| traces(r, &e), &|r| traces(r, &e))?;
    }
    for (set, (a, b)) in snapshots(dir)? {
        let name = format!("{set}-snapshot");
        both(&name, (700, 700), &|r| pair(r, &a, &b), &|r| pair(r, &a, &b))?;
    }
    Ok(written)
}

/// The particle snapshots of `dir` (`chain_C.SET.final.csv`, written when a chain of a
/// particle model ends), per set: its first two coordinates over the chains (for a set
/// of one coordinate, the coordinate against the particle index).
fn snapshots(dir: &Path) -> io::Result<Vec<(String, (Series, Series))>> {
    let mut files: Vec<(String, usize, PathBuf)> = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some(rest) = name
            .strip_prefix("chain_")
            .and_then(|r| r.strip_suffix(".final.csv"))
        else {
            continue;
        };
        if let Some((chain, set)) = rest.split_once('.') {
            if let Ok(c) = chain.parse::<usize>() {
                files.push((set.to_string(), c, path.clone()));
            }
        }
    }
    files.sort();
    let mut out: Vec<(String, (Series, Series))> = Vec::new();
    for (set, _, path) in files {
        let text = std::fs::read_to_string(&path)?;
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
        let rows: Vec<Vec<f64>> = lines
            .map(|l| l.split(',').filter_map(|v| v.parse().ok()).collect())
            .collect();
        let (xs, ys, xn, yn): (Vec<f64>, Vec<f64>, String, String) = if header.len() >= 2 {
            (
                rows.iter()
                    .map(|r| r.first().copied().unwrap_or(f64::NAN))
                    .collect(),
                rows.iter()
                    .map(|r| r.get(1).copied().unwrap_or(f64::NAN))
                    .collect(),
                header.first().copied().unwrap_or_default().to_string(),
                header.get(1).copied().unwrap_or_default().to_string(),
            )
        } else {
            (
                (0..rows.len()).map(|i| i as f64).collect(),
                rows.iter()
                    .map(|r| r.first().copied().unwrap_or(f64::NAN))
                    .collect(),
                "particle".to_string(),
                header.first().copied().unwrap_or_default().to_string(),
            )
        };
        match out.iter_mut().find(|(s, _)| *s == set) {
            Some((_, (a, b))) => {
                a.chains.push(xs);
                b.chains.push(ys);
            }
            None => out.push((
                set,
                (
                    Series {
                        name: xn,
                        chains: vec![xs],
                    },
                    Series {
                        name: yn,
                        chains: vec![ys],
                    },
                ),
            )),
        }
    }
    Ok(out)
}

const COLORS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

fn color(k: usize) -> RGBColor {
    COLORS.get(k % COLORS.len()).copied().unwrap_or(BLACK)
}

fn range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
            (l.min(v), h.max(v))
        });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.05).max(1e-12);
    (lo - pad, hi + pad)
}

/// Trace plots: one panel per quantity, one line per chain.
fn traces<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, series: &[Series]) -> PlotResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let text = font_available();
    for (panel, s) in root.split_evenly((series.len().max(1), 1)).iter().zip(series) {
        let n = s.chains.iter().map(Vec::len).max().unwrap_or(0);
        let (lo, hi) = range(s.chains.iter().flatten().copied());
        let mut b = ChartBuilder::on(panel);
        b.margin(8)
            .x_label_area_size(if text { 24 } else { 0 })
            .y_label_area_size(if text { 60 } else { 0 });
        if text {
            b.caption(format!("trace of {}", s.name), ("sans-serif", 16));
        }
        let mut chart = b.build_cartesian_2d(0f64..n.max(1) as f64, lo..hi)?;
        let mut mesh = chart.configure_mesh();
        if !text {
            mesh.x_labels(0).y_labels(0);
        }
        mesh.light_line_style(WHITE.mix(0.0)).draw()?;
        for (k, c) in s.chains.iter().enumerate() {
            let stride = (c.len() / MAX_POINTS).max(1);
            let pts = c.iter().enumerate().step_by(stride).map(|(i, v)| (i as f64, *v));
            chart.draw_series(LineSeries::new(pts, color(k).mix(0.8)))?;
        }
    }
    Ok(())
}

/// Marginal histograms of the pooled draws, as densities, with any known density over them.
fn histograms<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    series: &[Series],
    overlays: &[Overlay],
) -> PlotResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let text = font_available();
    for (panel, s) in root.split_evenly((series.len().max(1), 1)).iter().zip(series) {
        let all: Vec<f64> = s
            .chains
            .iter()
            .flatten()
            .copied()
            .filter(|v| v.is_finite())
            .collect();
        let (lo, hi) = range(all.iter().copied());
        let (counts, width) = bin(&all, lo, hi, 60);
        let scale = 1.0 / (all.len().max(1) as f64 * width);
        let overlay = overlays.iter().find(|o| o.column == s.name);
        let exact = overlay.and_then(|o| curve(&*o.log_density, o.normalised, (lo, hi), CURVE_POINTS));
        let exact_top = exact.iter().flatten().map(|p| p.1).fold(0.0, f64::max);
        let hist_top = counts.iter().max().copied().unwrap_or(1) as f64 * scale;
        let top = hist_top.max(exact_top) * 1.05;
        let mut b = ChartBuilder::on(panel);
        b.margin(8)
            .x_label_area_size(if text { 24 } else { 0 })
            .y_label_area_size(if text { 60 } else { 0 });
        if text {
            let caption = match (overlay, &exact) {
                (Some(o), Some(_)) => format!("density of {} and {}", s.name, o.label),
                _ => format!("density of {}", s.name),
            };
            b.caption(caption, ("sans-serif", 16));
        }
        let mut chart = b.build_cartesian_2d(lo..hi, 0f64..top.max(1e-12))?;
        let mut mesh = chart.configure_mesh();
        if !text {
            mesh.x_labels(0).y_labels(0);
        }
        mesh.light_line_style(WHITE.mix(0.0)).draw()?;
        chart.draw_series(counts.iter().enumerate().map(|(i, c)| {
            let x0 = lo + i as f64 * width;
            Rectangle::new(
                [(x0, 0.0), (x0 + width, *c as f64 * scale)],
                color(0).mix(0.6).filled(),
            )
        }))?;
        if let Some(pts) = exact {
            chart.draw_series(LineSeries::new(pts, EXACT_COLOR.stroke_width(2)))?;
        }
    }
    Ok(())
}

/// Counts of `values` in `bins` equal bins over `[lo, hi]`, and the bins' width.
fn bin(values: &[f64], lo: f64, hi: f64, bins: usize) -> (Vec<usize>, f64) {
    let width = (hi - lo) / bins as f64;
    let mut counts = vec![0usize; bins];
    for v in values {
        let b = (((v - lo) / width) as usize).min(bins - 1);
        if let Some(c) = counts.get_mut(b) {
            *c += 1;
        }
    }
    (counts, width)
}

/// A scatter plot of two quantities, one colour per chain.
fn pair<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, a: &Series, b: &Series) -> PlotResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let text = font_available();
    let (xl, xh) = range(a.chains.iter().flatten().copied());
    let (yl, yh) = range(b.chains.iter().flatten().copied());
    let mut builder = ChartBuilder::on(root);
    builder
        .margin(10)
        .x_label_area_size(if text { 30 } else { 0 })
        .y_label_area_size(if text { 60 } else { 0 });
    if text {
        builder.caption(format!("{} vs {}", b.name, a.name), ("sans-serif", 18));
    }
    let mut chart = builder.build_cartesian_2d(xl..xh, yl..yh)?;
    let mut mesh = chart.configure_mesh();
    if text {
        mesh.x_desc(a.name.as_str()).y_desc(b.name.as_str());
    } else {
        mesh.x_labels(0).y_labels(0);
    }
    mesh.light_line_style(WHITE.mix(0.0)).draw()?;
    for (k, (xs, ys)) in a.chains.iter().zip(&b.chains).enumerate() {
        let stride = (xs.len() / MAX_POINTS).max(1);
        let pts = xs.iter().zip(ys).step_by(stride).map(|(x, y)| (*x, *y));
        chart.draw_series(pts.map(|p| Circle::new(p, 2, color(k).mix(0.5).filled())))?;
    }
    Ok(())
}
