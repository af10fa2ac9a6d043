//! Small dense linear algebra on row-major n×n matrices stored in flat slices: Cholesky
//! factorization and triangular solves, in place and without allocation. A malformed input
//! (wrong lengths) makes the functions return `false` or leave outputs unchanged rather than
//! panic.

/// Σ aᵢbᵢ.
#[inline]
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Overwrites the lower triangle of the symmetric matrix `a` (n×n) with its Cholesky factor L
/// (a = LLᵀ) and zeroes the strict upper triangle. Returns false if `a` is not numerically
/// positive definite (or has the wrong length); `a` is then garbage.
pub(crate) fn cholesky(a: &mut [f64], n: usize) -> bool {
    if a.len() != n * n {
        return false;
    }
    for i in 0..n {
        let (done, rest) = a.split_at_mut(i * n);
        let Some(row) = rest.get_mut(..n) else {
            return false;
        };
        for (j, prev) in done.chunks_exact(n).enumerate() {
            let s = row.get(j).copied().unwrap_or(0.0)
                - dot(row.get(..j).unwrap_or(&[]), prev.get(..j).unwrap_or(&[]));
            let pivot = prev.get(j).copied().unwrap_or(0.0);
            if let Some(r) = row.get_mut(j) {
                *r = s / pivot;
            }
        }
        let head = row.get(..i).unwrap_or(&[]);
        let s = row.get(i).copied().unwrap_or(0.0) - dot(head, head);
        if !(s > 0.0 && s.is_finite()) {
            return false;
        }
        if let Some(d) = row.get_mut(i) {
            *d = s.sqrt();
        }
        row.iter_mut().skip(i + 1).for_each(|v| *v = 0.0);
    }
    true
}

/// Solves L y = b in place (`b` becomes y) for the lower-triangular factor `l`.
pub(crate) fn solve_lower(l: &[f64], n: usize, b: &mut [f64]) {
    for (i, row) in l.chunks_exact(n).enumerate().take(b.len()) {
        let (prev, cur) = b.split_at_mut(i);
        let s = dot(row.get(..i).unwrap_or(&[]), prev);
        if let (Some(x), Some(d)) = (cur.first_mut(), row.get(i)) {
            *x = (*x - s) / d;
        }
    }
}

/// Solves Lᵀ x = b in place (`b` becomes x) for the lower-triangular factor `l`.
pub(crate) fn solve_lower_t(l: &[f64], n: usize, b: &mut [f64]) {
    for i in (0..n.min(b.len())).rev() {
        let (head, tail) = b.split_at_mut(i + 1);
        // Σ_{k>i} L[k][i] x[k]
        let s: f64 = tail
            .iter()
            .enumerate()
            .map(|(k, x)| l.get((i + 1 + k) * n + i).copied().unwrap_or(0.0) * x)
            .sum();
        if let (Some(x), Some(d)) = (head.last_mut(), l.get(i * n + i)) {
            *x = (*x - s) / d;
        }
    }
}

/// out = L x for the lower-triangular factor `l`.
pub(crate) fn lower_mul(l: &[f64], n: usize, x: &[f64], out: &mut [f64]) {
    for ((row, o), i) in l.chunks_exact(n).zip(out.iter_mut()).zip(0..) {
        *o = dot(row.get(..=i).unwrap_or(&[]), x);
    }
}

/// |Lᵀ r|² = rᵀ L Lᵀ r for the lower-triangular factor `l`.
pub(crate) fn lower_t_norm2(l: &[f64], n: usize, r: &[f64]) -> f64 {
    (0..n)
        .map(|i| {
            let s: f64 = r
                .iter()
                .enumerate()
                .skip(i)
                .map(|(k, rk)| l.get(k * n + i).copied().unwrap_or(0.0) * rk)
                .sum();
            s * s
        })
        .sum()
}

/// log det(LLᵀ) = 2 Σ log Lᵢᵢ.
pub(crate) fn log_det_from_cholesky(l: &[f64], n: usize) -> f64 {
    (0..n)
        .map(|i| 2.0 * l.get(i * n + i).copied().unwrap_or(f64::NAN).ln())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_solves_and_multiplies() {
        let a = [4.0, 2.0, 0.6, 2.0, 5.0, 1.0, 0.6, 1.0, 3.0];
        let mut l = a;
        assert!(cholesky(&mut l, 3));
        // L Lᵀ = a
        for i in 0..3 {
            for j in 0..3 {
                let s: f64 = (0..3).map(|k| l[i * 3 + k] * l[j * 3 + k]).sum();
                assert!((s - a[i * 3 + j]).abs() < 1e-12);
            }
        }
        // a x = b via L then Lᵀ
        let b = [1.0, -2.0, 0.5];
        let mut x = b;
        solve_lower(&l, 3, &mut x);
        solve_lower_t(&l, 3, &mut x);
        for i in 0..3 {
            let s: f64 = (0..3).map(|k| a[i * 3 + k] * x[k]).sum();
            assert!((s - b[i]).abs() < 1e-12);
        }
        let quad: f64 = (0..3)
            .map(|i| (0..3).map(|k| b[i] * a[i * 3 + k] * b[k]).sum::<f64>())
            .sum();
        assert!((lower_t_norm2(&l, 3, &b) - quad).abs() < 1e-12);
        let mut y = [0.0; 3];
        lower_mul(&l, 3, &b, &mut y);
        assert!((y[0] - l[0] * b[0]).abs() < 1e-15);
        let mut bad = [1.0, 2.0, 2.0, 1.0];
        assert!(!cholesky(&mut bad, 2));
    }
}
