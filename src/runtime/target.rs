//! What integrators need from a compiled model.
//!
//! The compiler's `CompiledModel` implements these traits with JIT kernels; tests
//! implement them with hand-written Rust. Integrators never know which.

/// A Gibbs target π(x) ∝ exp(−U(x)/T) over a flat state vector.
pub trait GibbsTarget: Sync {
    /// Number of scalar state components.
    fn dim(&self) -> usize;

    /// U(x).
    fn energy(&self, x: &[f64]) -> f64;

    /// Returns U(x) and writes ∇U(x) into `grad` (`grad.len() == dim()`).
    fn energy_grad(&self, x: &[f64], grad: &mut [f64]) -> f64;

    /// Writes ∇U(x) into `grad`; the default computes U too.
    fn grad(&self, x: &[f64], grad: &mut [f64]) {
        self.energy_grad(x, grad);
    }

    /// Writes the Hessian ∇²U(x) into `out` (n×n, row-major) and returns true, or returns
    /// false if the target has no Hessian (the default). Needed by Hessian-preconditioned
    /// samplers only.
    fn hessian(&self, _x: &[f64], _out: &mut [f64]) -> bool {
        false
    }

    /// Replaces a state by its canonical representative after every step (a particle
    /// model wraps periodic positions into its box); the default keeps it.
    fn canonicalize(&self, _x: &mut [f64]) {}

    /// The number R of data rows that [`GibbsTarget::batch_grad`] subsamples, or `None`
    /// if the target has no minibatch gradient (the default).
    fn data_rows(&self) -> Option<usize> {
        None
    }

    /// Writes the minibatch estimate of ∇U into `grad` and returns true: every sum over the
    /// R data rows is replaced by (R/B)·Σ over the B rows in `rows` (repeats allowed), so
    /// its expectation over uniformly drawn rows is ∇U. False if the target has no such
    /// gradient or `rows` is not the compiled batch size.
    fn batch_grad(&self, _x: &[f64], _rows: &[u32], _grad: &mut [f64]) -> bool {
        false
    }
}

thread_local! {
    /// The chain whose task this thread is running (see [`ChainScope`]).
    static CHAIN: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
}

/// Marks the current thread as running chain `chain` until dropped, restoring
/// the previous mark then. Targets that keep per-chain caches (the neighbour lists
/// of particle models) find their chain's cache with [`current_chain`]: a rayon
/// job runs on one thread from start to end, and a thread that runs another
/// chain's job while it waits does so inside a scope of its own, so the mark is
/// always the chain whose code is calling.
pub struct ChainScope {
    previous: Option<usize>,
}

impl ChainScope {
    /// Enters chain `chain`.
    pub fn enter(chain: usize) -> ChainScope {
        let previous = CHAIN.with(|c| c.replace(Some(chain)));
        ChainScope { previous }
    }
}

impl Drop for ChainScope {
    fn drop(&mut self) {
        CHAIN.with(|c| c.set(self.previous));
    }
}

/// The chain the current thread is running, if any.
pub fn current_chain() -> Option<usize> {
    CHAIN.with(|c| c.get())
}

/// How an SDE's Wiener processes drive its components.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NoiseShape {
    /// Number of independent Wiener processes m.
    pub dim: usize,
    /// Diagonal noise: m = n and process k drives component k only.
    pub diagonal: bool,
    /// The diffusion does not depend on the state (it may depend on time).
    pub additive: bool,
    /// Block-diagonal noise with blocks of this size k (0 for none): m = n, and
    /// component i is driven by the k processes of its block, `i − i mod k` to
    /// `i − i mod k + k − 1` (a particle's k coordinates by its own k processes).
    /// G is then stored as n×k: row i holds its k entries within the block.
    pub block: usize,
}

impl NoiseShape {
    /// Diagonal noise for `n` components.
    pub fn diagonal(n: usize) -> NoiseShape {
        NoiseShape {
            dim: n,
            diagonal: true,
            additive: false,
            block: 0,
        }
    }

    /// Entries per component in the buffer of G that [`SdeSystem::drift_noise`]
    /// writes: 1 (diagonal), k (blocks of k) or m (dense).
    pub fn row_len(&self) -> usize {
        match (self.diagonal, self.block) {
            (true, _) => 1,
            (false, 0) => self.dim,
            (false, k) => k,
        }
    }
}

/// An SDE dX = b(X,t) dt + G(X,t) dW over a flat state vector, with diagonal noise
/// (G = diag(g), the default) or a general n×m matrix G ([`SdeSystem::noise`]).
/// Equations in any α-convention are converted by the compiler: `drift_*` give
/// the Itô drift, `strat_*` the Stratonovich drift of the same process.
pub trait SdeSystem: Sync {
    /// Number of scalar state components.
    fn dim(&self) -> usize;

    /// Writes the Itô drift b(x,t) and the diagonal diffusion g(x,t) (diagonal noise).
    fn drift_diffusion(&self, x: &[f64], t: f64, drift: &mut [f64], diffusion: &mut [f64]);

    /// As [`SdeSystem::drift_diffusion`], plus ∂gᵢ/∂xᵢ into `dg` (for Milstein).
    fn drift_diffusion_dg(&self, x: &[f64], t: f64, drift: &mut [f64], diffusion: &mut [f64], dg: &mut [f64]);

    /// The noise layout; the default is diagonal, state-dependent noise.
    fn noise(&self) -> NoiseShape {
        NoiseShape::diagonal(self.dim())
    }

    /// Writes the Stratonovich drift b − ½ g ∂g/∂x and the diagonal diffusion
    /// (diagonal noise). The default derives it from [`SdeSystem::drift_diffusion_dg`].
    fn strat_drift_diffusion(&self, x: &[f64], t: f64, drift: &mut [f64], diffusion: &mut [f64]) {
        with_scratch(x.len(), |dg| {
            self.drift_diffusion_dg(x, t, drift, diffusion, dg);
            for ((b, g), d) in drift.iter_mut().zip(diffusion.iter()).zip(dg.iter()) {
                *b -= 0.5 * g * d;
            }
        });
    }

    /// Writes the Itô drift and the diffusion matrix G: n×m row-major, or n×k for
    /// block-diagonal noise ([`NoiseShape::block`]). The default embeds the diagonal
    /// diffusion.
    fn drift_noise(&self, x: &[f64], t: f64, drift: &mut [f64], g: &mut [f64]) {
        with_scratch(x.len(), |diag| {
            self.drift_diffusion(x, t, drift, diag);
            embed_diagonal(diag, g);
        });
    }

    /// Replaces a state by its canonical representative after every step (a particle
    /// model wraps periodic positions into its box); the default keeps it.
    fn canonicalize(&self, _x: &mut [f64]) {}

    /// Writes the Stratonovich drift and G (laid out as by [`SdeSystem::drift_noise`]).
    /// The default embeds the diagonal form of [`SdeSystem::strat_drift_diffusion`].
    fn strat_drift_noise(&self, x: &[f64], t: f64, drift: &mut [f64], g: &mut [f64]) {
        with_scratch(x.len(), |diag| {
            self.strat_drift_diffusion(x, t, drift, diag);
            embed_diagonal(diag, g);
        });
    }
}

/// Writes diag(`d`) into the square row-major matrix `g`.
fn embed_diagonal(d: &[f64], g: &mut [f64]) {
    let n = d.len();
    g.fill(0.0);
    for (k, v) in d.iter().enumerate() {
        if let Some(e) = g.get_mut(k * n + k) {
            *e = *v;
        }
    }
}

thread_local! {
    /// Scratch of the default methods: grown once per thread, then reused.
    static SCRATCH: std::cell::RefCell<Vec<f64>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `f` on a zeroed per-thread scratch buffer of length `n` (a fresh one if
/// the scratch is already in use).
fn with_scratch(n: usize, f: impl FnOnce(&mut [f64])) {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => {
            if buf.len() < n {
                buf.resize(n, 0.0);
            }
            let s = buf.get_mut(..n).unwrap_or_default();
            s.fill(0.0);
            f(s);
        }
        Err(_) => f(&mut vec![0.0; n]),
    });
}
