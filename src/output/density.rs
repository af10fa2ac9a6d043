//! Known densities drawn over histograms: normalisation by quadrature and the curve over a
//! plot's range.
//!
//! An unnormalised density e^{ℓ(x)} (a Gibbs law exp(−U/T), or a model's `exact x = …`) is
//! normalised by composite Simpson quadrature over the draws' range widened by its own width on
//! each side, so that it covers the draws generously; the largest ℓ is factored out first, so
//! energies of any size neither overflow nor underflow. Non-finite ℓ counts as density 0.

/// Intervals of the normalising quadrature.
pub const QUADRATURE_INTERVALS: usize = 4000;

/// Points of a drawn curve.
pub const CURVE_POINTS: usize = 400;

fn finite_or_zero_density(v: f64) -> f64 {
    if v.is_nan() {
        f64::NEG_INFINITY
    } else {
        v
    }
}

/// ln ∫ₗₒʰⁱ e^{ℓ(x)} dx by composite Simpson on `n` intervals (made even); `None` when the
/// integral is not a positive finite number (the density vanishes there, or is infinite).
pub fn log_normaliser(log_f: &dyn Fn(f64) -> f64, lo: f64, hi: f64, n: usize) -> Option<f64> {
    if !(lo.is_finite() && hi.is_finite() && hi > lo) {
        return None;
    }
    let n = (n.max(2) + 1) & !1;
    let h = (hi - lo) / n as f64;
    let values: Vec<f64> = (0..=n)
        .map(|i| finite_or_zero_density(log_f(lo + i as f64 * h)))
        .collect();
    let top = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !top.is_finite() {
        return None;
    }
    let sum: f64 = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let w = if i == 0 || i == n {
                1.0
            } else if i % 2 == 1 {
                4.0
            } else {
                2.0
            };
            w * (v - top).exp()
        })
        .sum();
    let integral = sum * h / 3.0;
    (integral > 0.0 && integral.is_finite()).then(|| top + integral.ln())
}

/// The range over which a density is normalised for draws spanning `[lo, hi]`.
pub fn quadrature_range(lo: f64, hi: f64) -> (f64, f64) {
    let w = (hi - lo).max(1e-12);
    (lo - w, hi + w)
}

/// `points` points (x, density) over `[lo, hi]` of e^{ℓ}, normalised by quadrature over
/// [`quadrature_range`]`(lo, hi)` unless `normalised` already; `None` when it cannot be
/// normalised.
pub fn curve(
    log_f: &dyn Fn(f64) -> f64,
    normalised: bool,
    (lo, hi): (f64, f64),
    points: usize,
) -> Option<Vec<(f64, f64)>> {
    let log_z = if normalised {
        0.0
    } else {
        let (qlo, qhi) = quadrature_range(lo, hi);
        log_normaliser(log_f, qlo, qhi, QUADRATURE_INTERVALS)?
    };
    let n = points.max(2);
    let step = (hi - lo) / (n - 1) as f64;
    let pts = (0..n)
        .map(|i| {
            let x = lo + i as f64 * step;
            (x, (finite_or_zero_density(log_f(x)) - log_z).exp())
        })
        .filter(|(_, y)| y.is_finite())
        .collect();
    Some(pts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normal_pdf(x: f64, mean: f64, sd: f64) -> f64 {
        let z = (x - mean) / sd;
        (-0.5 * z * z).exp() / (sd * (2.0 * std::f64::consts::PI).sqrt())
    }

    /// An unnormalised Gaussian e^{−(x−1)²/8 + 700} (the shift would overflow without
    /// factoring out the maximum), normalised over a range covering draws in [−5, 7]: it
    /// integrates to 1 and matches N(1, 2) to 1e-6.
    #[test]
    fn quadrature_normalised_density_integrates_to_one_and_matches_the_normal() {
        let log_f = |x: f64| -(x - 1.0) * (x - 1.0) / 8.0 + 700.0;
        let (lo, hi) = quadrature_range(-5.0, 7.0);
        let log_z = log_normaliser(&log_f, lo, hi, QUADRATURE_INTERVALS).unwrap();
        let normalised = |x: f64| log_f(x) - log_z;
        let total = log_normaliser(&normalised, lo, hi, QUADRATURE_INTERVALS)
            .unwrap()
            .exp();
        assert!((total - 1.0).abs() < 1e-9, "integral {total}");
        let pts = curve(&log_f, false, (-5.0, 7.0), 7).unwrap();
        assert_eq!(pts.len(), 7);
        for (x, y) in pts {
            let want = normal_pdf(x, 1.0, 2.0);
            assert!((y - want).abs() < 1e-6, "at {x}: {y} vs {want}");
        }
    }

    #[test]
    fn vanishing_or_undefined_densities_are_not_normalised() {
        assert_eq!(log_normaliser(&|_| f64::NEG_INFINITY, 0.0, 1.0, 10), None);
        assert_eq!(log_normaliser(&|_| f64::NAN, 0.0, 1.0, 10), None);
        // a density that is undefined (NaN) on part of the range counts as 0 there
        let half = |x: f64| if x < 0.0 { f64::NAN } else { 0.0 };
        let z = log_normaliser(&half, -1.0, 1.0, 1000).unwrap().exp();
        assert!((z - 1.0).abs() < 1e-2, "{z}");
    }
}
