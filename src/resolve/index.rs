//! Affine index arithmetic and interval bounds.
//!
//! Indices are `constant + Σ coeff·var` ([`Index`]). Every index variable is bound
//! over a half-open range whose bounds are affine in outer variables; its interval
//! `[min lo, max hi − 1]` is computed once, when the variable is created, so the
//! interval of any index is a linear walk over its terms.

use crate::model::{Index, IndexVar};
use std::collections::BTreeMap;

/// `a + b`, `None` on overflow.
pub(super) fn add(a: &Index, b: &Index) -> Option<Index> {
    let mut terms: BTreeMap<IndexVar, i64> = BTreeMap::new();
    for (v, c) in a.terms.iter().chain(b.terms.iter()) {
        let slot = terms.entry(*v).or_insert(0);
        *slot = slot.checked_add(*c)?;
    }
    Some(Index {
        constant: a.constant.checked_add(b.constant)?,
        terms: terms.into_iter().filter(|(_, c)| *c != 0).collect(),
    })
}

/// `k · a`, `None` on overflow.
pub(super) fn scale(a: &Index, k: i64) -> Option<Index> {
    let mut terms = Vec::with_capacity(a.terms.len());
    for (v, c) in &a.terms {
        let c = c.checked_mul(k)?;
        if c != 0 {
            terms.push((*v, c));
        }
    }
    Some(Index {
        constant: a.constant.checked_mul(k)?,
        terms,
    })
}

/// `a − b`, `None` on overflow.
pub(super) fn sub(a: &Index, b: &Index) -> Option<Index> {
    add(a, &scale(b, -1)?)
}

/// A closed integer interval; `None` where an enclosing loop can never run.
pub(super) type Interval = Option<(i128, i128)>;

/// The intervals of all index variables of one model, by [`IndexVar`] id.
#[derive(Default)]
pub(super) struct Ranges {
    vars: Vec<Interval>,
}

impl Ranges {
    /// Registers the next variable, bound over `[lo, hi)`, and returns its id.
    pub(super) fn push(&mut self, lo: &Index, hi: &Index) -> IndexVar {
        let lo_iv = self.interval(lo);
        let hi_iv = self.interval(hi);
        let iv = match (lo_iv, hi_iv) {
            (Some((min, _)), Some((_, max))) if max > min => Some((min, max - 1)),
            _ => None,
        };
        let id = IndexVar(self.vars.len() as u32);
        self.vars.push(iv);
        id
    }

    /// Number of variables allocated.
    pub(super) fn count(&self) -> u32 {
        self.vars.len() as u32
    }

    /// The interval an index can take. Unknown variables give a huge interval,
    /// so that any bound check against them fails (conservative).
    pub(super) fn interval(&self, idx: &Index) -> Interval {
        let (mut lo, mut hi) = (i128::from(idx.constant), i128::from(idx.constant));
        for (v, c) in &idx.terms {
            let (vmin, vmax) = match self.vars.get(v.0 as usize) {
                Some(Some(iv)) => *iv,
                Some(None) => return None,
                None => (-(1i128 << 80), 1i128 << 80),
            };
            let c = i128::from(*c);
            let (a, b) = (c * vmin, c * vmax);
            lo += a.min(b);
            hi += a.max(b);
        }
        Some((lo, hi))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn affine_ops_merge_terms() {
        let i = Index::var(IndexVar(0));
        let two_i = scale(&i, 2).unwrap();
        let s = sub(&add(&two_i, &Index::constant(3)).unwrap(), &i).unwrap();
        assert_eq!(s.constant, 3);
        assert_eq!(s.terms, vec![(IndexVar(0), 1)]);
        assert!(sub(&i, &i).unwrap().terms.is_empty());
        assert!(scale(&Index::constant(i64::MAX), 2).is_none());
    }

    #[test]
    fn intervals_follow_outer_variables() {
        let mut r = Ranges::default();
        let i = r.push(&Index::constant(0), &Index::constant(5));
        // j in i+1 .. 5: j ∈ [1, 4]
        let j = r.push(
            &add(&Index::var(i), &Index::constant(1)).unwrap(),
            &Index::constant(5),
        );
        assert_eq!(r.interval(&Index::var(j)), Some((1, 4)));
        let d = sub(&Index::var(j), &Index::var(i)).unwrap();
        assert_eq!(r.interval(&d), Some((-3, 4)));
        let empty = r.push(&Index::constant(3), &Index::constant(3));
        assert_eq!(r.interval(&Index::var(empty)), None);
        assert_eq!(r.count(), 3);
    }
}
