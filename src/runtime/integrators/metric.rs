//! A constant mass matrix M in the forms the samplers need: M⁻¹g (preconditioned drift,
//! velocities), M^{−1/2}ξ (Langevin noise, covariance M⁻¹), M^{1/2}ξ (momenta, covariance M),
//! rᵀMr and pᵀM⁻¹p (proposal densities, kinetic energy). Diagonal matrices are stored as
//! vectors; dense ones as their Cholesky factor M = LLᵀ. No method allocates.

use super::linalg::{cholesky, dot, lower_mul, lower_t_norm2, solve_lower, solve_lower_t};
use crate::runtime::checkpoint::{Mismatch, SamplerState, StateReader};
use crate::runtime::error::RunError;
use crate::runtime::method::Mass;

/// A mass matrix ready for use.
#[derive(Debug, Clone)]
pub(crate) enum Metric {
    /// diag(m): `inv` = 1/m, `inv_sqrt` = 1/√m, `sqrt` = √m.
    Diagonal {
        inv: Vec<f64>,
        inv_sqrt: Vec<f64>,
        sqrt: Vec<f64>,
    },
    /// Dense M = LLᵀ (L row-major, lower) and a scratch vector.
    Dense {
        l: Vec<f64>,
        n: usize,
        scratch: Vec<f64>,
    },
}

impl Metric {
    /// The metric of `mass` for a `dim`-dimensional state; fails (naming the `mass` setting) on a
    /// wrong length, an asymmetric or a non-positive-definite matrix.
    pub(crate) fn new(mass: &Mass, dim: usize) -> Result<Metric, RunError> {
        let bad = |reason: String| Err(RunError::invalid("mass", reason));
        match mass {
            Mass::Scalar(m) => Ok(Metric::diagonal(&vec![*m; dim])),
            Mass::Diagonal(v) if v.len() == dim => Ok(Metric::diagonal(v)),
            Mass::Dense(v) if v.len() == dim * dim => {
                let symmetric = (0..dim).all(|i| {
                    (0..i).all(|j| {
                        let (a, b) = (v.get(i * dim + j), v.get(j * dim + i));
                        matches!((a, b), (Some(a), Some(b)) if (a - b).abs() <= 1e-12 * (a.abs() + b.abs()))
                    })
                });
                if !symmetric {
                    return bad("a dense mass matrix must be symmetric".to_string());
                }
                let mut l = v.clone();
                if !cholesky(&mut l, dim) {
                    return bad("the dense mass matrix is not positive definite".to_string());
                }
                Ok(Metric::Dense {
                    l,
                    n: dim,
                    scratch: vec![0.0; dim],
                })
            }
            Mass::Diagonal(v) | Mass::Dense(v) => bad(format!(
                "has {} entries; the model has {dim} state components: give {dim} (diagonal) or {} \
                 (dense, by rows)",
                v.len(),
                dim * dim
            )),
        }
    }

    /// Whether this is the identity (M = I), so applying it can be skipped.
    pub(crate) fn is_identity(&self) -> bool {
        matches!(self, Metric::Diagonal { inv, .. } if inv.iter().all(|v| *v == 1.0))
    }

    /// diag(1/inverse) from the diagonal of M⁻¹ (what mass adaptation estimates).
    pub(crate) fn from_inv_diag(inv: &[f64]) -> Metric {
        let m: Vec<f64> = inv.iter().map(|v| 1.0 / v).collect();
        Metric::diagonal(&m)
    }

    fn diagonal(m: &[f64]) -> Metric {
        Metric::Diagonal {
            inv: m.iter().map(|v| 1.0 / v).collect(),
            inv_sqrt: m.iter().map(|v| 1.0 / v.sqrt()).collect(),
            sqrt: m.iter().map(|v| v.sqrt()).collect(),
        }
    }

    /// Writes the metric for a checkpoint: its form and its stored entries, bitwise (adaptation
    /// replaces the configured metric by a diagonal one, so it is not a function of the
    /// settings).
    pub(crate) fn save(&self, out: &mut SamplerState) {
        match self {
            Metric::Diagonal { inv, inv_sqrt, sqrt } => {
                out.flag(false);
                out.put_all(inv);
                out.put_all(inv_sqrt);
                out.put_all(sqrt);
            }
            Metric::Dense { l, .. } => {
                out.flag(true);
                out.put_all(l);
            }
        }
    }

    /// The metric written by [`Metric::save`] for a `dim`-dimensional state.
    pub(crate) fn restore(r: &mut StateReader<'_>, dim: usize) -> Result<Metric, Mismatch> {
        if r.flag()? {
            return Ok(Metric::Dense {
                l: r.floats(dim * dim)?,
                n: dim,
                scratch: vec![0.0; dim],
            });
        }
        Ok(Metric::Diagonal {
            inv: r.floats(dim)?,
            inv_sqrt: r.floats(dim)?,
            sqrt: r.floats(dim)?,
        })
    }

    /// Replaces a diagonal metric's entries by those of diag(M⁻¹) = `inv` (no allocation when
    /// already diagonal).
    pub(crate) fn set_inv_diag(&mut self, inv_new: &[f64]) {
        match self {
            Metric::Diagonal { inv, inv_sqrt, sqrt } => {
                for (((i, is), s), v) in inv
                    .iter_mut()
                    .zip(inv_sqrt.iter_mut())
                    .zip(sqrt.iter_mut())
                    .zip(inv_new)
                {
                    *i = *v;
                    *is = v.sqrt();
                    *s = 1.0 / v.sqrt();
                }
            }
            Metric::Dense { .. } => *self = Metric::from_inv_diag(inv_new),
        }
    }

    /// diag(M⁻¹) for diagonal metrics (reports), `None` for dense ones.
    pub(crate) fn inv_diag(&self) -> Option<&[f64]> {
        match self {
            Metric::Diagonal { inv, .. } => Some(inv),
            Metric::Dense { .. } => None,
        }
    }

    /// out = M⁻¹ g.
    #[inline]
    pub(crate) fn inv_mul(&self, g: &[f64], out: &mut [f64]) {
        match self {
            Metric::Diagonal { inv, .. } => {
                for ((o, gi), w) in out.iter_mut().zip(g).zip(inv) {
                    *o = gi * w;
                }
            }
            Metric::Dense { l, n, .. } => {
                out.copy_from_slice(g);
                solve_lower(l, *n, out);
                solve_lower_t(l, *n, out);
            }
        }
    }

    /// out = L⁻ᵀ z: for z ~ N(0, I), out ~ N(0, M⁻¹).
    #[inline]
    pub(crate) fn inv_sqrt_mul(&self, z: &[f64], out: &mut [f64]) {
        match self {
            Metric::Diagonal { inv_sqrt, .. } => {
                for ((o, zi), w) in out.iter_mut().zip(z).zip(inv_sqrt) {
                    *o = zi * w;
                }
            }
            Metric::Dense { l, n, .. } => {
                out.copy_from_slice(z);
                solve_lower_t(l, *n, out);
            }
        }
    }

    /// out = L z: for z ~ N(0, I), out ~ N(0, M).
    #[inline]
    pub(crate) fn sqrt_mul(&self, z: &[f64], out: &mut [f64]) {
        match self {
            Metric::Diagonal { sqrt, .. } => {
                for ((o, zi), w) in out.iter_mut().zip(z).zip(sqrt) {
                    *o = zi * w;
                }
            }
            Metric::Dense { l, n, .. } => lower_mul(l, *n, z, out),
        }
    }

    /// rᵀ M r.
    #[inline]
    pub(crate) fn quad(&self, r: &[f64]) -> f64 {
        match self {
            Metric::Diagonal { inv, .. } => r.iter().zip(inv).map(|(x, w)| x * x / w).sum(),
            Metric::Dense { l, n, .. } => lower_t_norm2(l, *n, r),
        }
    }

    /// pᵀ M⁻¹ p.
    #[inline]
    pub(crate) fn inv_quad(&mut self, p: &[f64]) -> f64 {
        match self {
            Metric::Diagonal { inv, .. } => p.iter().zip(inv.iter()).map(|(x, w)| x * x * w).sum(),
            Metric::Dense { l, n, scratch } => {
                scratch.copy_from_slice(p);
                solve_lower(l, *n, scratch);
                dot(scratch, scratch)
            }
        }
    }
}
