//! Exact increments of the Ornstein–Uhlenbeck part of underdamped Langevin in velocity form,
//! dx = v dt, dv = −γv dt + σ dW, over a time τ (Sanz-Serna & Zygalakis 2021):
//!
//! x(τ) = x + φ(τ)v + σK, v(τ) = e^{−γτ}v + σE, with the Brownian integrals
//! K = ∫₀^τ (1 − e^{−γ(τ−s)})/γ dW_s and E = ∫₀^τ e^{−γ(τ−s)} dW_s, jointly Gaussian:
//! Var E = (1 − e^{−2γτ})/(2γ), Cov(K, E) = (1 − e^{−γτ})²/(2γ²),
//! Var K = [γτ − 2(1 − e^{−γτ}) + (1 − e^{−2γτ})/2]/γ³.
//! A constant force f adds −ψ(τ)f to x and −φ(τ)f to v, with φ(τ) = (1 − e^{−γτ})/γ and
//! ψ(τ) = (τ − φ(τ))/γ. Every coefficient is computed without cancellation (power series when
//! γτ is small), and γ = 0 is allowed (Brownian velocities).

/// (1 − e^{−z})/z, 1 at z = 0.
fn p1(z: f64) -> f64 {
    if z == 0.0 {
        1.0
    } else {
        -(-z).exp_m1() / z
    }
}

/// Σ_{n≥0} cₙ zⁿ for the coefficients `c(n)`, up to n = 20 (for |z| < 0.5).
fn series(z: f64, c: impl Fn(i32) -> f64) -> f64 {
    let mut sum = 0.0;
    let mut power = 1.0;
    for n in 0..20 {
        sum += c(n) * power;
        power *= z;
    }
    sum
}

/// n! as a float.
fn factorial(n: i32) -> f64 {
    (1..=n).map(f64::from).product()
}

/// (z − (1 − e^{−z}))/z² = Σ_{n≥2} (−1)ⁿ z^{n−2}/n!.
fn p2(z: f64) -> f64 {
    if z < 0.5 {
        series(z, |k| {
            let n = k + 2;
            (-1f64).powi(n) / factorial(n)
        })
    } else {
        (z + (-z).exp_m1()) / (z * z)
    }
}

/// [z − 2(1 − e^{−z}) + (1 − e^{−2z})/2]/z³ = Σ_{n≥3} (−1)ⁿ (2 − 2^{n−1}) z^{n−3}/n!.
fn s3(z: f64) -> f64 {
    if z < 0.5 {
        series(z, |k| {
            let n = k + 3;
            (-1f64).powi(n) * (2.0 - 2f64.powi(n - 1)) / factorial(n)
        })
    } else {
        (z + 2.0 * (-z).exp_m1() - 0.5 * (-2.0 * z).exp_m1()) / (z * z * z)
    }
}

/// The OU flow's coefficients over one time τ.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OuStep {
    /// e^{−γτ}.
    pub(crate) eta: f64,
    /// φ(τ) = (1 − e^{−γτ})/γ.
    pub(crate) phi: f64,
    /// ψ(τ) = (τ − φ(τ))/γ.
    pub(crate) psi: f64,
    /// Cholesky factor [[a, 0], [b, c]] of Cov(K, E).
    a: f64,
    b: f64,
    c: f64,
}

impl OuStep {
    /// Coefficients for friction γ ≥ 0 over τ > 0.
    pub(crate) fn new(gamma: f64, tau: f64) -> Self {
        let z = gamma * tau;
        let var_k = tau * tau * tau * s3(z);
        let var_e = tau * p1(2.0 * z);
        let cov = 0.5 * tau * tau * p1(z) * p1(z);
        let a = var_k.max(0.0).sqrt();
        let b = if a > 0.0 { cov / a } else { 0.0 };
        let c = (var_e - b * b).max(0.0).sqrt();
        OuStep {
            eta: (-z).exp(),
            phi: tau * p1(z),
            psi: tau * tau * p2(z),
            a,
            b,
            c,
        }
    }

    /// (K, E) from two independent standard normals.
    #[inline]
    pub(crate) fn integrals(&self, z1: f64, z2: f64) -> (f64, f64) {
        (self.a * z1, self.b * z1 + self.c * z2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_match_closed_forms() {
        for z in [0.3f64, 0.49, 0.51, 0.7] {
            let direct_p2 = (z - (1.0 - (-z).exp())) / (z * z);
            let direct_s3 = (z - 2.0 * (1.0 - (-z).exp()) + (1.0 - (-2.0 * z).exp()) / 2.0) / z.powi(3);
            assert!((p2(z) - direct_p2).abs() < 1e-9, "p2({z})");
            assert!((s3(z) - direct_s3).abs() < 1e-8, "s3({z})");
        }
        // γ → 0 limits: Var K = τ³/3, Cov = τ²/2, Var E = τ
        let s = OuStep::new(0.0, 2.0);
        assert!((s.a * s.a - 8.0 / 3.0).abs() < 1e-12);
        assert!((s.a * s.b - 2.0).abs() < 1e-12);
        assert!((s.b * s.b + s.c * s.c - 2.0).abs() < 1e-12);
        assert!((s.psi - 2.0).abs() < 1e-12 && (s.phi - 2.0).abs() < 1e-12);
    }
}
