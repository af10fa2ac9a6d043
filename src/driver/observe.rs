//! What a run records besides the state: the model's observables (one column
//! each in the chain files), particle trajectories (one `.npy` file per chain and
//! particle set, shape `(draws, N, k)`) and radial distribution functions
//! (accumulated over a chain's draws, written as `chain_C.NAME.csv`), and a
//! snapshot of every particle set at the chain's last draw
//! (`chain_C.NAME.final.csv`, one row per particle, for `sde plot`).
//!
//! [`Observed`] wraps a chain's file recorder: for every recorded draw it writes
//! the picked state components followed by the observables, appends the
//! trajectories, and adds the draw to the g(r) histograms. Observables are
//! evaluated by the compiled model ([`Observer`]) on the chain's own thread, so a
//! particle model uses that chain's neighbour lists.

use crate::model::{Domain, Model, ObservableKind};
use crate::output::npy::NpyRecorder;
use crate::runtime::particles::RadialDistribution;
use crate::runtime::{ChainState, Checkpoint, Recorder};
use std::io;
use std::path::{Path, PathBuf};

/// Evaluates a model's per-draw observables.
pub trait Observer: Sync {
    /// Writes the observables at state `x` and time `t` into `out` (one per
    /// observable kernel output); false if they cannot be computed.
    fn observe(&self, x: &[f64], t: f64, out: &mut [f64]) -> bool;
}

/// How an observable's kernel output becomes its recorded value.
#[derive(Clone, Debug, PartialEq)]
pub enum Transform {
    /// Recorded as computed.
    Value,
    /// The kernel gives the virial W; the pressure is N·T/V + W/(d·V).
    Pressure {
        /// N.
        count: usize,
        /// V.
        volume: f64,
        /// d.
        dim: usize,
    },
}

/// A particle set whose positions are written as a trajectory.
#[derive(Clone, Debug, PartialEq)]
pub struct Trajectory {
    /// The set's name (the file is `chain_C.NAME.npy`).
    pub name: String,
    /// Flat offset of its positions.
    pub offset: usize,
    /// Particles.
    pub count: usize,
    /// Coordinates per particle.
    pub dim: usize,
}

/// A radial distribution function to accumulate.
#[derive(Clone, Debug, PartialEq)]
pub struct RdfPlan {
    /// The observable's name (the file is `chain_C.NAME.csv`).
    pub name: String,
    /// The particle set's positions.
    pub set: Trajectory,
    /// The periodic box.
    pub lengths: Vec<f64>,
    /// Largest distance.
    pub r_max: f64,
    /// Number of bins.
    pub bins: usize,
}

/// What a run records besides the state, and which state components it keeps.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ObservePlan {
    /// The state components written to the chain files (`None`: all of them).
    pub pick: Option<Vec<usize>>,
    /// The observables, in the order of the model's observable kernel: name and transform.
    pub values: Vec<(String, Transform)>,
    /// Trajectories of particle sets.
    pub trajectories: Vec<Trajectory>,
    /// Radial distribution functions.
    pub rdfs: Vec<RdfPlan>,
    /// Particle sets whose last positions are written when a chain ends.
    pub snapshots: Vec<Trajectory>,
    /// The temperature (for pressures).
    pub temperature: f64,
}

impl ObservePlan {
    /// The plan for `model` with the run's `record` setting (flat state components):
    /// a particle set recorded whole becomes a trajectory; without `record`,
    /// particle positions are not written to the chain files (their observables
    /// are), other states are.
    pub fn for_model(model: &Model, record: Option<&[usize]>, temperature: f64) -> ObservePlan {
        let offsets = model.state_offsets();
        let sets: Vec<Trajectory> = model
            .particles
            .iter()
            .map(|p| Trajectory {
                name: p.name.clone(),
                offset: offsets.get(p.state.0 as usize).copied().unwrap_or(0),
                count: p.count,
                dim: p.dim,
            })
            .collect();
        let in_set = |c: usize| {
            sets.iter()
                .any(|s| (s.offset..s.offset + s.count * s.dim).contains(&c))
        };
        let n = model.state_size();
        let (pick, trajectories) = match record {
            Some(r) => {
                let whole = |s: &Trajectory| (s.offset..s.offset + s.count * s.dim).all(|c| r.contains(&c));
                let traj: Vec<Trajectory> = sets.iter().filter(|s| whole(s)).cloned().collect();
                let keep: Vec<usize> = r
                    .iter()
                    .copied()
                    .filter(|c| {
                        !traj
                            .iter()
                            .any(|s| (s.offset..s.offset + s.count * s.dim).contains(c))
                    })
                    .collect();
                (Some(keep), traj)
            }
            None if sets.is_empty() => (None, Vec::new()),
            None => (Some((0..n).filter(|c| !in_set(*c)).collect()), Vec::new()),
        };
        let mut values = Vec::new();
        let mut rdfs = Vec::new();
        for o in &model.observables {
            match &o.kind {
                ObservableKind::Value(_) => values.push((o.name.clone(), Transform::Value)),
                ObservableKind::Pressure {
                    volume, count, dim, ..
                } => values.push((
                    o.name.clone(),
                    Transform::Pressure {
                        count: *count,
                        volume: *volume,
                        dim: *dim,
                    },
                )),
                ObservableKind::Rdf { set, r_max, bins } => {
                    if let (Some(s), Domain::Periodic(l)) = (sets.get(*set as usize), &model.domain) {
                        rdfs.push(RdfPlan {
                            name: o.name.clone(),
                            set: s.clone(),
                            lengths: l.clone(),
                            r_max: *r_max,
                            bins: *bins,
                        });
                    }
                }
            }
        }
        ObservePlan {
            pick,
            values,
            trajectories,
            rdfs,
            snapshots: sets,
            temperature,
        }
    }

    /// Whether the plan changes nothing about what is recorded.
    pub fn is_trivial(&self) -> bool {
        self.pick.is_none()
            && self.values.is_empty()
            && self.trajectories.is_empty()
            && self.rdfs.is_empty()
            && self.snapshots.is_empty()
    }

    /// The chain files' columns: the picked state columns, then the observables.
    pub fn columns(&self, state_columns: &[String]) -> Vec<String> {
        let mut out: Vec<String> = match &self.pick {
            Some(p) => p.iter().filter_map(|c| state_columns.get(*c).cloned()).collect(),
            None => state_columns.to_vec(),
        };
        out.extend(self.values.iter().map(|(n, _)| n.clone()));
        out
    }
}

/// A chain's trajectory file.
fn trajectory_path(dir: &Path, chain: usize, name: &str) -> PathBuf {
    dir.join(format!("chain_{}.{name}.npy", chain + 1))
}

/// A chain's g(r) file.
pub fn rdf_path(dir: &Path, chain: usize, name: &str) -> PathBuf {
    dir.join(format!("chain_{}.{name}.csv", chain + 1))
}

/// A chain's snapshot of a particle set's last positions.
pub fn snapshot_path(dir: &Path, chain: usize, name: &str) -> PathBuf {
    dir.join(format!("chain_{}.{name}.final.csv", chain + 1))
}

/// A chain's recorder with observables, trajectories and g(r) (see the module header).
pub struct Observed<'a, R> {
    inner: R,
    plan: &'a ObservePlan,
    observer: &'a dyn Observer,
    dir: PathBuf,
    chain: usize,
    row: Vec<f64>,
    values: Vec<f64>,
    trajectories: Vec<NpyRecorder>,
    rdfs: Vec<RadialDistribution>,
    /// The snapshot sets' positions at the last draw, one after the other.
    last: Vec<f64>,
    draws: u64,
}

impl<'a, R: Recorder> Observed<'a, R> {
    /// Wraps `inner` for chain `chain`; `resume` continues its trajectories from a
    /// checkpoint taken after `draws` draws.
    pub fn new(
        inner: R,
        plan: &'a ObservePlan,
        observer: &'a dyn Observer,
        dir: &Path,
        chain: usize,
        resume_draws: Option<u64>,
    ) -> io::Result<Self> {
        let mut trajectories = Vec::with_capacity(plan.trajectories.len());
        for t in &plan.trajectories {
            let path = trajectory_path(dir, chain, &t.name);
            let shape = [t.count, t.dim];
            trajectories.push(match resume_draws {
                Some(d) => NpyRecorder::resume_at(path, &shape, NpyRecorder::length_of(&shape, d))?,
                None => NpyRecorder::create_at(path, &shape)?,
            });
        }
        let mut rdfs = Vec::with_capacity(plan.rdfs.len());
        for r in &plan.rdfs {
            let domain = crate::runtime::particles::Domain::periodic(&r.lengths).map_err(invalid)?;
            rdfs.push(RadialDistribution::new(domain, r.r_max, r.bins).map_err(invalid)?);
        }
        Ok(Observed {
            inner,
            plan,
            observer,
            dir: dir.to_path_buf(),
            chain,
            row: Vec::new(),
            values: vec![0.0; plan.values.len()],
            trajectories,
            rdfs,
            last: Vec::new(),
            draws: resume_draws.unwrap_or(0),
        })
    }

    /// The wrapped recorder.
    pub fn into_inner(self) -> R {
        self.inner
    }

    /// Builds the recorded row of state `x` and takes the draw's side outputs.
    fn observe(&mut self, t: f64, x: &[f64]) -> io::Result<()> {
        self.row.clear();
        match &self.plan.pick {
            Some(p) => self
                .row
                .extend(p.iter().map(|c| x.get(*c).copied().unwrap_or(f64::NAN))),
            None => self.row.extend_from_slice(x),
        }
        if !self.values.is_empty() {
            if !self.observer.observe(x, t, &mut self.values) {
                self.values.fill(f64::NAN);
            }
            for (v, (_, tr)) in self.values.iter().zip(&self.plan.values) {
                self.row.push(match tr {
                    Transform::Value => *v,
                    Transform::Pressure { count, volume, dim } => {
                        (*count as f64 * self.plan.temperature + v / *dim as f64) / volume
                    }
                });
            }
        }
        for (w, t) in self.trajectories.iter_mut().zip(&self.plan.trajectories) {
            let pos = x.get(t.offset..t.offset + t.count * t.dim).unwrap_or_default();
            w.record(0, 0.0, pos)?;
        }
        for (g, r) in self.rdfs.iter_mut().zip(&self.plan.rdfs) {
            let pos = x
                .get(r.set.offset..r.set.offset + r.set.count * r.set.dim)
                .unwrap_or_default();
            g.add(pos).map_err(invalid)?;
        }
        self.last.clear();
        for s in &self.plan.snapshots {
            let pos = x.get(s.offset..s.offset + s.count * s.dim).unwrap_or_default();
            self.last.extend_from_slice(pos);
        }
        self.draws += 1;
        Ok(())
    }

    /// Writes each snapshot set's last positions as CSV (`NAME.1,…,NAME.k`).
    fn write_snapshots(&self) -> io::Result<()> {
        if self.last.is_empty() {
            return Ok(());
        }
        let mut at = 0;
        for s in &self.plan.snapshots {
            let header: Vec<String> = (1..=s.dim).map(|d| format!("{}.{d}", s.name)).collect();
            let mut text = header.join(",");
            text.push('\n');
            for p in self
                .last
                .get(at..at + s.count * s.dim)
                .unwrap_or_default()
                .chunks(s.dim.max(1))
            {
                let row: Vec<String> = p.iter().map(|v| v.to_string()).collect();
                text.push_str(&row.join(","));
                text.push('\n');
            }
            at += s.count * s.dim;
            let mut file =
                crate::output::file::PartialFile::create(snapshot_path(&self.dir, self.chain, &s.name))?;
            file.write(text.as_bytes())?;
            file.finish()?;
        }
        Ok(())
    }

    fn write_rdfs(&self) -> io::Result<()> {
        for (g, r) in self.rdfs.iter().zip(&self.plan.rdfs) {
            let mut text = String::from("r,g\n");
            if let Some(values) = g.g() {
                for (c, v) in g.centers().iter().zip(values) {
                    text.push_str(&format!("{c},{v}\n"));
                }
            }
            std::fs::write(rdf_path(&self.dir, self.chain, &r.name), text)?;
        }
        Ok(())
    }
}

fn invalid(e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, e.to_string())
}

impl<R: Recorder> Recorder for Observed<'_, R> {
    fn record(&mut self, step: u64, t: f64, x: &[f64]) -> io::Result<()> {
        self.observe(t, x)?;
        self.inner.record(step, t, &self.row)
    }

    fn wants_stats(&self) -> bool {
        self.inner.wants_stats()
    }

    fn record_stats(&mut self, step: u64, t: f64, x: &[f64], stats: &[f64]) -> io::Result<()> {
        self.observe(t, x)?;
        self.inner.record_stats(step, t, &self.row, stats)
    }

    fn finish(&mut self) -> io::Result<()> {
        for w in &mut self.trajectories {
            w.finish()?;
        }
        self.write_rdfs()?;
        self.write_snapshots()?;
        self.inner.finish()
    }

    fn poll(&mut self, step: u64) -> io::Result<()> {
        self.inner.poll(step)
    }

    fn checkpoint_due(&mut self, step: u64) -> Checkpoint {
        self.inner.checkpoint_due(step)
    }

    fn checkpoint(&mut self, state: &ChainState) -> io::Result<()> {
        for w in &mut self.trajectories {
            w.flush()?;
        }
        self.inner.checkpoint(state)
    }

    fn checkpoint_at_end(&self) -> bool {
        self.inner.checkpoint_at_end()
    }

    fn resume_from(&mut self) -> Option<ChainState> {
        self.inner.resume_from()
    }
}
