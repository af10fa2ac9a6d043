//! Linking a standalone binary with the system C compiler driver: the model's
//! object file plus the runtime library this `sde` carries inside itself.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The runtime library (`rt/`, built by build.rs), embedded so that an
/// installed `sde` needs nothing from its build tree.
pub const RUNTIME: &[u8] = include_bytes!(env!("SDELANG_RT_ARCHIVE"));

/// Why linking failed.
#[derive(Debug)]
pub enum LinkError {
    /// No C compiler driver was found; the names tried.
    NoLinker(Vec<String>),
    /// A file could not be written.
    Io(PathBuf, std::io::Error),
    /// The linker ran and failed: the command and what it printed.
    Failed(String, String),
    /// This `sde` was built without the runtime library (`SDELANG_NO_RUNTIME_ARCHIVE`).
    NoRuntime,
}

impl std::fmt::Display for LinkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LinkError::NoLinker(tried) => write!(
                f,
                "no C compiler to link with (tried {}); `sde build` links the sampler with the system's \
                 C compiler driver: install one (Debian/Ubuntu: `apt-get install gcc`, Fedora: \
                 `dnf install gcc`, macOS: `xcode-select --install`) or point $CC at it",
                tried.join(", ")
            ),
            LinkError::Io(path, e) => write!(f, "cannot write `{}`: {e}", path.display()),
            LinkError::Failed(cmd, out) => write!(f, "linking failed: `{cmd}`\n{out}"),
            LinkError::NoRuntime => write!(
                f,
                "this `sde` was built without the standalone runtime library \
                 (SDELANG_NO_RUNTIME_ARCHIVE was set); rebuild it without that variable"
            ),
        }
    }
}

/// The C compiler driver: `$CC` (a program, possibly followed by arguments),
/// else the first of `cc`, `gcc`, `clang` found on `PATH`.
pub fn find_cc() -> Result<Vec<String>, LinkError> {
    if let Some(cc) = std::env::var("CC").ok().filter(|s| !s.trim().is_empty()) {
        let words: Vec<String> = cc.split_whitespace().map(str::to_string).collect();
        return match words.first() {
            Some(prog) if on_path(prog).is_some() => Ok(words),
            _ => Err(LinkError::NoLinker(vec![format!("$CC = `{cc}`")])),
        };
    }
    let names = ["cc", "gcc", "clang"];
    names
        .iter()
        .find(|n| on_path(n).is_some())
        .map(|n| vec![n.to_string()])
        .ok_or_else(|| LinkError::NoLinker(names.iter().map(|n| n.to_string()).collect()))
}

/// Where `prog` is: itself if it names a file, else its first match on `PATH`.
fn on_path(prog: &str) -> Option<PathBuf> {
    if prog.contains(std::path::MAIN_SEPARATOR) {
        let p = PathBuf::from(prog);
        return p.is_file().then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(prog))
        .find(|p| p.is_file())
}

/// Libraries the Rust standard library needs when linked statically (what
/// `rustc --print native-static-libs` lists for the runtime archive), and the
/// flags that drop unreferenced code and strip symbols.
fn platform_flags() -> &'static [&'static str] {
    if cfg!(target_os = "macos") {
        &["-lSystem", "-lc", "-lm", "-Wl,-dead_strip"]
    } else {
        &[
            "-lgcc_s",
            "-lutil",
            "-lrt",
            "-lpthread",
            "-lm",
            "-ldl",
            "-lc",
            "-Wl,--gc-sections",
            "-Wl,-O1",
            "-s",
        ]
    }
}

/// Links `object` (the model) with the runtime into the executable `output`,
/// using the scratch directory `dir`.
pub fn link(cc: &[String], object: &[u8], dir: &Path, output: &Path) -> Result<(), LinkError> {
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, bytes).map_err(|e| LinkError::Io(path.clone(), e))?;
        Ok::<PathBuf, LinkError>(path)
    };
    let obj = write("model.o", object)?;
    if RUNTIME.is_empty() {
        return Err(LinkError::NoRuntime);
    }
    let lib = write("libsdelang_rt.a", RUNTIME)?;
    let Some((prog, pre)) = cc.split_first() else {
        return Err(LinkError::NoLinker(Vec::new()));
    };
    let mut cmd = Command::new(prog);
    cmd.args(pre)
        .arg("-o")
        .arg(output)
        .arg(&obj)
        .arg(&lib)
        .args(platform_flags());
    let shown = format!("{cmd:?}").replace('"', "");
    let out = cmd.output().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => LinkError::NoLinker(vec![prog.clone()]),
        _ => LinkError::Failed(shown.clone(), e.to_string()),
    })?;
    if !out.status.success() {
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        return Err(LinkError::Failed(shown, text));
    }
    Ok(())
}
