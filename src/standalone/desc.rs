//! The model description embedded in a standalone binary: everything about the
//! model that a run needs besides its kernels — names, sizes, parameter values
//! and which of them may change, the run block's settings, the initial state, the
//! method table. `sde build` writes it ([`ModelDesc::encode`]); the binary reads
//! it ([`ModelDesc::decode`]).
//!
//! Encoding: a flat little-endian byte stream (u64 counts and lengths, f64 as
//! IEEE bits, strings as length + UTF-8), read with bounds checks. Optional
//! values carry a presence byte.

use crate::model::{
    MethodArg, MethodKind, MethodSpec, OutputFormat, RunSettings, ScheduleKind, ScheduleSpec,
};
use crate::native::KernelKind;
use crate::runtime::NoiseShape;
use crate::source::{SourceId, Span};

/// A state variable, for `--init`.
#[derive(Clone, Debug, PartialEq)]
pub struct StateDesc {
    /// Its name.
    pub name: String,
    /// Offset in the flat state.
    pub offset: usize,
    /// `None` for a scalar, `Some(n)` for `real[n]`.
    pub len: Option<usize>,
}

/// A parameter name `--set` may address.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamDesc {
    /// Its name.
    pub name: String,
    /// Offset of its value in `env`.
    pub offset: usize,
    /// `None` for a scalar, `Some(n)` for `real[n]`.
    pub len: Option<usize>,
    /// An integer parameter.
    pub int: bool,
    /// Its value was compiled in (an int, or used by other compile-time values):
    /// changing it needs `sde build --set`.
    pub fixed: bool,
}

/// Everything a standalone binary knows about its model.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelDesc {
    /// The model's name.
    pub name: String,
    /// What it was built from (file and build-time `--set`s), for `--help`.
    pub origin: String,
    /// An energy model (sampled), or an SDE model (integrated).
    pub gibbs: bool,
    /// Length of the flat state.
    pub state_len: usize,
    /// Column names of the flat state.
    pub columns: Vec<String>,
    /// The states.
    pub states: Vec<StateDesc>,
    /// The parameter buffer before the prelude: parameter values, then zeros.
    pub env: Vec<f64>,
    /// The parameters `--set` may name.
    pub params: Vec<ParamDesc>,
    /// The method unless `--method` is given.
    pub method: MethodSpec,
    /// The run block's settings (its method and initial values are in
    /// `method` and `init`).
    pub run: RunSettings,
    /// The initial state unless `--init` is given.
    pub init: Vec<f64>,
    /// The methods `--method` accepts, with their argument names.
    pub methods: Vec<(MethodKind, Vec<String>)>,
    /// Output length of each kernel in the binary.
    pub kernels: Vec<(KernelKind, usize)>,
    /// The Wiener processes of an SDE model.
    pub noise: NoiseShape,
    /// What `run.json` records for `sde plot` (the model file and its exact laws), as the
    /// JSON of [`crate::driver::PlotFacts`].
    pub plot: String,
}

/// A span for values that come from the description rather than a source.
pub fn no_span() -> Span {
    Span::new(SourceId(0), 0, 0)
}

#[derive(Default)]
struct Writer(Vec<u8>);

impl Writer {
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn usize(&mut self, v: usize) {
        self.u64(v as u64);
    }
    fn f64(&mut self, v: f64) {
        self.u64(v.to_bits());
    }
    fn bool(&mut self, v: bool) {
        self.0.push(u8::from(v));
    }
    fn str(&mut self, s: &str) {
        self.usize(s.len());
        self.0.extend_from_slice(s.as_bytes());
    }
    fn f64s(&mut self, v: &[f64]) {
        self.usize(v.len());
        v.iter().for_each(|x| self.f64(*x));
    }
    fn opt_len(&mut self, v: Option<usize>) {
        self.opt_u64(v.map(|n| n as u64));
    }
    fn opt_u64(&mut self, v: Option<u64>) {
        self.bool(v.is_some());
        self.u64(v.unwrap_or(0));
    }
    fn opt_f64(&mut self, v: Option<f64>) {
        self.bool(v.is_some());
        self.f64(v.unwrap_or(0.0));
    }
    fn method(&mut self, m: &MethodSpec) {
        self.str(m.kind.name());
        self.usize(m.args.len());
        for (k, v) in &m.args {
            self.str(k);
            self.method_arg(v);
        }
    }
    fn method_arg(&mut self, v: &MethodArg) {
        match v {
            MethodArg::Real(x) => {
                self.u64(0);
                self.f64(*x);
            }
            MethodArg::Int(n) => {
                self.u64(1);
                self.u64(*n);
            }
            MethodArg::Bool(b) => {
                self.u64(2);
                self.bool(*b);
            }
            MethodArg::Vector(v) => {
                self.u64(3);
                self.f64s(v);
            }
            MethodArg::Schedule(sch) => {
                self.u64(4);
                self.bool(sch.kind == ScheduleKind::Linear);
                self.f64(sch.from);
                self.f64(sch.to);
            }
        }
    }
}

struct Reader<'a>(&'a [u8]);

type Res<T> = Result<T, String>;

impl Reader<'_> {
    fn bytes(&mut self, n: usize) -> Res<&[u8]> {
        if self.0.len() < n {
            return Err("the model description is truncated".into());
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    fn u64(&mut self) -> Res<u64> {
        let b = self.bytes(8)?;
        let a: [u8; 8] = b.try_into().map_err(|_| "bad word".to_string())?;
        Ok(u64::from_le_bytes(a))
    }
    fn usize(&mut self) -> Res<usize> {
        usize::try_from(self.u64()?).map_err(|_| "a length does not fit".to_string())
    }
    /// A count of items each at least `min` bytes long (guards allocations).
    fn count(&mut self, min: usize) -> Res<usize> {
        let n = self.usize()?;
        if n.saturating_mul(min) > self.0.len() {
            return Err("the model description is truncated".into());
        }
        Ok(n)
    }
    fn f64(&mut self) -> Res<f64> {
        Ok(f64::from_bits(self.u64()?))
    }
    fn bool(&mut self) -> Res<bool> {
        match self.bytes(1)? {
            [0] => Ok(false),
            [1] => Ok(true),
            _ => Err("bad flag in the model description".into()),
        }
    }
    fn str(&mut self) -> Res<String> {
        let n = self.count(1)?;
        String::from_utf8(self.bytes(n)?.to_vec()).map_err(|_| "bad text in the model description".into())
    }
    fn f64s(&mut self) -> Res<Vec<f64>> {
        let n = self.count(8)?;
        (0..n).map(|_| self.f64()).collect()
    }
    fn opt_len(&mut self) -> Res<Option<usize>> {
        self.opt_u64()?
            .map(|v| usize::try_from(v).map_err(|_| "a length does not fit".to_string()))
            .transpose()
    }
    fn opt_u64(&mut self) -> Res<Option<u64>> {
        let some = self.bool()?;
        let v = self.u64()?;
        Ok(some.then_some(v))
    }
    fn opt_f64(&mut self) -> Res<Option<f64>> {
        let some = self.bool()?;
        let v = self.f64()?;
        Ok(some.then_some(v))
    }
    fn method_kind(&mut self) -> Res<MethodKind> {
        let name = self.str()?;
        MethodKind::from_name(&name)
            .ok_or_else(|| format!("unknown method `{name}` in the model description"))
    }
    fn method_arg(&mut self) -> Res<MethodArg> {
        Ok(match self.u64()? {
            0 => MethodArg::Real(self.f64()?),
            1 => MethodArg::Int(self.u64()?),
            2 => MethodArg::Bool(self.bool()?),
            3 => MethodArg::Vector(self.f64s()?),
            4 => {
                let kind = if self.bool()? {
                    ScheduleKind::Linear
                } else {
                    ScheduleKind::Geometric
                };
                MethodArg::Schedule(ScheduleSpec {
                    kind,
                    from: self.f64()?,
                    to: self.f64()?,
                })
            }
            tag => {
                return Err(format!(
                    "unknown method argument tag {tag} in the model description"
                ))
            }
        })
    }
    fn method(&mut self) -> Res<MethodSpec> {
        let kind = self.method_kind()?;
        let n = self.count(16)?;
        let args = (0..n)
            .map(|_| Ok((self.str()?, self.method_arg()?)))
            .collect::<Res<Vec<_>>>()?;
        Ok(MethodSpec {
            kind,
            args,
            span: no_span(),
        })
    }
}

impl ModelDesc {
    /// The byte encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.str(&self.name);
        w.str(&self.origin);
        w.bool(self.gibbs);
        w.usize(self.state_len);
        w.usize(self.columns.len());
        self.columns.iter().for_each(|c| w.str(c));
        w.usize(self.states.len());
        for s in &self.states {
            w.str(&s.name);
            w.usize(s.offset);
            w.opt_len(s.len);
        }
        w.f64s(&self.env);
        w.usize(self.params.len());
        for p in &self.params {
            w.str(&p.name);
            w.usize(p.offset);
            w.opt_len(p.len);
            w.bool(p.int);
            w.bool(p.fixed);
        }
        w.method(&self.method);
        let r = &self.run;
        for v in [r.chains, r.steps, r.warmup, r.thin, r.seed] {
            w.opt_u64(v);
        }
        for v in [r.temperature, r.dt, r.t0, r.t_end, r.save_every] {
            w.opt_f64(v);
        }
        w.bool(r.save_at.is_some());
        w.f64s(r.save_at.as_deref().unwrap_or(&[]));
        w.bool(r.record.is_some());
        let record: Vec<u64> = r.record.iter().flatten().map(|k| *k as u64).collect();
        w.usize(record.len());
        record.iter().for_each(|k| w.u64(*k));
        let output = r
            .output
            .and_then(|f| OutputFormat::NAMES.iter().position(|(_, g)| *g == f));
        w.opt_u64(output.map(|k| k as u64));
        w.f64s(&self.init);
        w.usize(self.methods.len());
        for (kind, args) in &self.methods {
            w.str(kind.name());
            w.usize(args.len());
            args.iter().for_each(|a| w.str(a));
        }
        w.usize(self.kernels.len());
        for (kind, len) in &self.kernels {
            w.usize(kind.slot());
            w.usize(*len);
        }
        w.usize(self.noise.dim);
        w.bool(self.noise.diagonal);
        w.bool(self.noise.additive);
        w.usize(self.noise.block);
        w.str(&self.plot);
        w.0
    }

    /// Decodes [`ModelDesc::encode`]'s output.
    pub fn decode(bytes: &[u8]) -> Result<ModelDesc, String> {
        let mut r = Reader(bytes);
        let name = r.str()?;
        let origin = r.str()?;
        let gibbs = r.bool()?;
        let state_len = r.usize()?;
        let n = r.count(8)?;
        let columns = (0..n).map(|_| r.str()).collect::<Res<Vec<_>>>()?;
        let n = r.count(25)?;
        let states = (0..n)
            .map(|_| {
                Ok(StateDesc {
                    name: r.str()?,
                    offset: r.usize()?,
                    len: r.opt_len()?,
                })
            })
            .collect::<Res<Vec<_>>>()?;
        let env = r.f64s()?;
        let n = r.count(27)?;
        let params = (0..n)
            .map(|_| {
                Ok(ParamDesc {
                    name: r.str()?,
                    offset: r.usize()?,
                    len: r.opt_len()?,
                    int: r.bool()?,
                    fixed: r.bool()?,
                })
            })
            .collect::<Res<Vec<_>>>()?;
        let method = r.method()?;
        let run = RunSettings {
            chains: r.opt_u64()?,
            steps: r.opt_u64()?,
            warmup: r.opt_u64()?,
            thin: r.opt_u64()?,
            seed: r.opt_u64()?,
            temperature: r.opt_f64()?,
            dt: r.opt_f64()?,
            t0: r.opt_f64()?,
            t_end: r.opt_f64()?,
            save_every: r.opt_f64()?,
            ..RunSettings::default()
        };
        let has_save_at = r.bool()?;
        let save_at = r.f64s()?;
        let mut run = run;
        run.save_at = has_save_at.then_some(save_at);
        let has_record = r.bool()?;
        let n = r.count(8)?;
        let record = (0..n).map(|_| Ok(r.u64()? as usize)).collect::<Res<Vec<_>>>()?;
        run.record = has_record.then_some(record);
        run.output = r
            .opt_u64()?
            .and_then(|k| OutputFormat::NAMES.get(usize::try_from(k).ok()?))
            .map(|(_, f)| *f);
        let init = r.f64s()?;
        let n = r.count(16)?;
        let methods = (0..n)
            .map(|_| {
                let kind = r.method_kind()?;
                let k = r.count(8)?;
                Ok((kind, (0..k).map(|_| r.str()).collect::<Res<Vec<_>>>()?))
            })
            .collect::<Res<Vec<_>>>()?;
        let n = r.count(16)?;
        let kernels = (0..n)
            .map(|_| {
                let slot = r.usize()?;
                let kind = KernelKind::ALL
                    .get(slot)
                    .copied()
                    .ok_or_else(|| "bad kernel slot in the model description".to_string())?;
                Ok((kind, r.usize()?))
            })
            .collect::<Res<Vec<_>>>()?;
        let noise = NoiseShape {
            dim: r.usize()?,
            diagonal: r.bool()?,
            additive: r.bool()?,
            block: r.usize()?,
        };
        let plot = r.str()?;
        if !r.0.is_empty() {
            return Err("trailing bytes after the model description".into());
        }
        Ok(ModelDesc {
            name,
            origin,
            gibbs,
            state_len,
            columns,
            states,
            env,
            params,
            method,
            run,
            init,
            methods,
            kernels,
            noise,
            plot,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_round_trips() {
        let desc = ModelDesc {
            name: "m".into(),
            origin: "m.sde --set n=3".into(),
            gibbs: true,
            state_len: 3,
            columns: vec!["x.1".into(), "x.2".into(), "y".into()],
            states: vec![
                StateDesc {
                    name: "x".into(),
                    offset: 0,
                    len: Some(2),
                },
                StateDesc {
                    name: "y".into(),
                    offset: 2,
                    len: None,
                },
            ],
            env: vec![4.0, -0.0, f64::MIN_POSITIVE, 0.0],
            params: vec![ParamDesc {
                name: "beta".into(),
                offset: 0,
                len: None,
                int: false,
                fixed: false,
            }],
            method: MethodSpec {
                kind: MethodKind::Baoab,
                args: vec![
                    ("step".into(), MethodArg::Real(0.1)),
                    ("adapt".into(), MethodArg::Bool(true)),
                    ("mass".into(), MethodArg::Vector(vec![1.0, 2.0])),
                    ("steps".into(), MethodArg::Int(7)),
                    (
                        "schedule".into(),
                        MethodArg::Schedule(ScheduleSpec {
                            kind: ScheduleKind::Linear,
                            from: 3.0,
                            to: 1.0,
                        }),
                    ),
                ],
                span: no_span(),
            },
            run: RunSettings {
                chains: Some(8),
                dt: Some(1e-3),
                ..RunSettings::default()
            },
            init: vec![0.5, 0.25, 1.0],
            methods: vec![(MethodKind::Mala, vec!["step".into()])],
            noise: NoiseShape {
                dim: 3,
                diagonal: false,
                additive: true,
                block: 2,
            },
            kernels: vec![(KernelKind::Prelude, 4), (KernelKind::EnergyGrad, 3)],
            plot: "{\"source\":null,\"exact\":[]}".into(),
        };
        let bytes = desc.encode();
        assert_eq!(ModelDesc::decode(&bytes), Ok(desc));
        for cut in [0, 1, bytes.len() / 2, bytes.len() - 1] {
            assert!(ModelDesc::decode(&bytes[..cut]).is_err());
        }
    }
}
