//! Numerical helpers for the diagnostics: the normal and Beta quantile
//! functions and an FFT for autocovariances.

use std::f64::consts::{PI, SQRT_2};

/// Φ(x), the standard normal CDF.
pub fn norm_cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x / SQRT_2)
}

/// Φ⁻¹(p), the standard normal quantile, to full double precision: Acklam's
/// rational approximation refined by one Halley step.
pub fn norm_ppf(p: f64) -> f64 {
    if p.is_nan() || !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    const A: [f64; 6] = [
        -3.969683028665376e1,
        2.209460984245205e2,
        -2.759285104469687e2,
        1.38357751867269e2,
        -3.066479806614716e1,
        2.506628277459239,
    ];
    const B: [f64; 5] = [
        -5.447609879822406e1,
        1.615858368580409e2,
        -1.556989798598866e2,
        6.680131188771972e1,
        -1.328068155288572e1,
    ];
    const C: [f64; 6] = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    ];
    const D: [f64; 4] = [
        7.784695709041462e-3,
        3.224671290700398e-1,
        2.445134137142996,
        3.754408661907416,
    ];
    let poly = |c: &[f64], x: f64| c.iter().fold(0.0, |acc, k| acc * x + k);
    let low = 0.02425;
    let x = if p < low {
        let q = (-2.0 * p.ln()).sqrt();
        poly(&C, q) / (poly(&D, q) * q + 1.0)
    } else if p <= 1.0 - low {
        let q = p - 0.5;
        let r = q * q;
        poly(&A, r) * q / (poly(&B, r) * r + 1.0)
    } else {
        let q = (-2.0 * (1.0 - p).ln()).sqrt();
        -poly(&C, q) / (poly(&D, q) * q + 1.0)
    };
    // Halley refinement: e = Φ(x) − p, u = e·√(2π)·exp(x²/2).
    let e = norm_cdf(x) - p;
    let u = e * (2.0 * PI).sqrt() * (x * x / 2.0).exp();
    x - u / (1.0 + x * u / 2.0)
}

/// ln Γ(x) for x > 0.
pub fn ln_gamma(x: f64) -> f64 {
    libm::lgamma(x)
}

/// The regularised incomplete Beta function I_x(a, b).
pub fn beta_cdf(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    // The continued fraction converges fast for x < (a+1)/(a+b+2); use symmetry otherwise.
    if x < (a + 1.0) / (a + b + 2.0) {
        ln_front.exp() * beta_fraction(x, a, b) / a
    } else {
        1.0 - ln_front.exp() * beta_fraction(1.0 - x, b, a) / b
    }
}

/// Lentz's continued fraction for the incomplete Beta function.
fn beta_fraction(x: f64, a: f64, b: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..=10_000 {
        let m = m as f64;
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < 1e-16 {
            break;
        }
    }
    h
}

/// The p-quantile of Beta(a, b), by bisection on the CDF to machine precision.
pub fn beta_ppf(p: f64, a: f64, b: f64) -> f64 {
    if !((0.0..=1.0).contains(&p) && a > 0.0 && b > 0.0) {
        return f64::NAN;
    }
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if beta_cdf(mid, a, b) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// In-place radix-2 FFT of (re, im); the length must be a power of two.
/// `inverse` computes the unnormalised inverse transform.
pub fn fft(re: &mut [f64], im: &mut [f64], inverse: bool) {
    let n = re.len().min(im.len());
    if n < 2 || !n.is_power_of_two() {
        return;
    }
    let bits = n.trailing_zeros();
    for i in 0..n {
        let j = i.reverse_bits() >> (usize::BITS - bits);
        if j > i {
            re.swap(i, j);
            im.swap(i, j);
        }
    }
    let sign = if inverse { 1.0 } else { -1.0 };
    let mut len = 2;
    // One stage's twiddle factors, computed once per stage rather than per butterfly
    // (the same values: the summary's ESS runs many long transforms).
    let mut twiddles: Vec<(f64, f64)> = Vec::with_capacity(n / 2);
    while len <= n {
        let angle = sign * 2.0 * PI / len as f64;
        twiddles.clear();
        twiddles.extend((0..len / 2).map(|k| (angle * k as f64).sin_cos()));
        for start in (0..n).step_by(len) {
            for (k, &(s, c)) in twiddles.iter().enumerate() {
                let (a, b) = (start + k, start + k + len / 2);
                let (Some(&br), Some(&bi), Some(&ar), Some(&ai)) =
                    (re.get(b), im.get(b), re.get(a), im.get(a))
                else {
                    continue;
                };
                let tr = br * c - bi * s;
                let ti = br * s + bi * c;
                if let (Some(x), Some(y)) = (re.get_mut(b), im.get_mut(b)) {
                    *x = ar - tr;
                    *y = ai - ti;
                }
                if let (Some(x), Some(y)) = (re.get_mut(a), im.get_mut(a)) {
                    *x = ar + tr;
                    *y = ai + ti;
                }
            }
        }
        len <<= 1;
    }
}

/// Biased autocovariances (divided by n) of a series at every lag, by FFT.
pub fn autocov(x: &[f64]) -> Vec<f64> {
    let n = x.len();
    if n == 0 {
        return Vec::new();
    }
    let mean = x.iter().sum::<f64>() / n as f64;
    let m = (2 * n).next_power_of_two();
    let mut re = vec![0.0; m];
    let mut im = vec![0.0; m];
    for (r, v) in re.iter_mut().zip(x) {
        *r = v - mean;
    }
    fft(&mut re, &mut im, false);
    for (r, i) in re.iter_mut().zip(im.iter_mut()) {
        *r = *r * *r + *i * *i;
        *i = 0.0;
    }
    fft(&mut re, &mut im, true);
    re.iter().take(n).map(|v| v / (m as f64 * n as f64)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_quantiles_round_trip() {
        for p in [1e-10, 0.001, 0.02, 0.3, 0.5, 0.77, 0.975, 0.999_999] {
            assert!((norm_cdf(norm_ppf(p)) - p).abs() < 1e-15 * p.max(1e-3), "{p}");
        }
        assert!((norm_ppf(0.975) - 1.959_963_984_540_054).abs() < 1e-14);
    }

    #[test]
    fn beta_quantiles_match_known_values() {
        // Beta(2, 3): CDF(x) = 6x² − 8x³ + 3x⁴.
        let x = beta_ppf(0.4, 2.0, 3.0);
        assert!((6.0 * x * x - 8.0 * x.powi(3) + 3.0 * x.powi(4) - 0.4).abs() < 1e-13);
        assert!((beta_ppf(0.5, 7.0, 7.0) - 0.5).abs() < 1e-13);
    }

    #[test]
    fn fft_autocovariance_matches_the_direct_sum() {
        let x: Vec<f64> = (0..37).map(|k| ((k * k) as f64 * 0.37).sin()).collect();
        let n = x.len();
        let mean = x.iter().sum::<f64>() / n as f64;
        let fast = autocov(&x);
        for lag in [0, 1, 5, 36] {
            let direct: f64 = (0..n - lag)
                .map(|t| (x[t] - mean) * (x[t + lag] - mean))
                .sum::<f64>()
                / n as f64;
            assert!((fast[lag] - direct).abs() < 1e-13, "lag {lag}");
        }
    }
}
