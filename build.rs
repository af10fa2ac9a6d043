//! Build script of the `compiler` feature:
//! 1. compiles the LALRPOP grammar in `grammar/` into the parser module;
//! 2. builds the runtime of standalone sampler binaries (the `rt` workspace
//!    member, a static library of this crate without its compiler) with a nested
//!    `cargo build --profile standalone`, and copies the archive into `OUT_DIR`,
//!    where `src/aot/link.rs` embeds it with `include_bytes!`. So `sde build`
//!    needs nothing but a C linker at run time, also after `cargo install`.
//!
//! The nested build has its own target directory next to the profile
//! directories (`target/sdelang-rt`), so it never waits for the outer build's
//! lock, is shared by debug and release builds, and is incremental. The rt
//! build itself turns the `compiler` feature off, so this script does nothing
//! there: no recursion.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    #[cfg(feature = "compiler")]
    {
        grammar();
        if let Err(e) = runtime_archive() {
            eprintln!("error: cannot build the standalone runtime library: {e}");
            std::process::exit(1);
        }
    }
}

#[cfg(feature = "compiler")]
fn grammar() {
    println!("cargo:rerun-if-changed=grammar");
    if let Err(err) = lalrpop::Configuration::new()
        .set_in_dir("grammar")
        .set_out_dir(std::env::var("OUT_DIR").unwrap_or_else(|_| "target".into()))
        .process()
    {
        eprintln!("grammar error: {err}");
        std::process::exit(1);
    }
}

#[cfg(feature = "compiler")]
fn runtime_archive() -> Result<(), String> {
    use std::path::PathBuf;
    use std::process::Command;
    for path in ["src", "rt", "Cargo.toml", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={path}");
    }
    let var = |k: &str| std::env::var(k).map_err(|_| format!("{k} is not set"));
    let manifest = PathBuf::from(var("CARGO_MANIFEST_DIR")?);
    let out = PathBuf::from(var("OUT_DIR")?);
    // A development shortcut: skip the nested build (a fat-LTO link on every
    // change) and embed an empty archive; `sde build` then reports that it is
    // unavailable. Never set for releases or the test suite.
    println!("cargo:rerun-if-env-changed=SDELANG_NO_RUNTIME_ARCHIVE");
    if std::env::var_os("SDELANG_NO_RUNTIME_ARCHIVE").is_some() {
        let empty = out.join("empty-runtime.a");
        std::fs::write(&empty, b"").map_err(|e| format!("cannot write {}: {e}", empty.display()))?;
        println!("cargo:rustc-env=SDELANG_RT_ARCHIVE={}", empty.display());
        return Ok(());
    }
    // OUT_DIR is <target>/<profile>/build/<pkg>-<hash>/out; one directory per
    // checkout, so checkouts sharing a target directory never swap archives.
    let checkout = {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        manifest.hash(&mut h);
        format!("{:016x}", h.finish())
    };
    let target = out
        .ancestors()
        .nth(4)
        .map(|t| t.join("sdelang-rt").join(checkout))
        .unwrap_or_else(|| out.join("rt-target"));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .arg("build")
        .arg("--manifest-path")
        .arg(manifest.join("Cargo.toml"))
        .args(["-p", "sdelang-rt", "--profile", "standalone", "--quiet"])
        .arg("--target-dir")
        .arg(&target)
        // The outer build's settings that must not leak into the nested one:
        // its target directory, and clippy (which `cargo clippy` installs as a
        // wrapper); the jobserver is inherited, so both share the same cores.
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("CARGO_BUILD_TARGET")
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "nested cargo build failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let name = if cfg!(windows) {
        "sdelang_rt.lib"
    } else {
        "libsdelang_rt.a"
    };
    let built = target.join("standalone").join(name);
    let copy = out.join(name);
    std::fs::copy(&built, &copy).map_err(|e| format!("cannot copy {}: {e}", built.display()))?;
    // The standard library's debug information is over half of the archive
    // (5 of 9 MB on x86-64 Linux) and none of it reaches a stripped sampler
    // binary; drop it where a `strip` tool exists, keep the archive elsewhere.
    let flag = if cfg!(target_os = "macos") {
        "-S"
    } else {
        "--strip-debug"
    };
    let _ = Command::new("strip").arg(flag).arg(&copy).output();
    println!("cargo:rustc-env=SDELANG_RT_ARCHIVE={}", copy.display());
    Ok(())
}
