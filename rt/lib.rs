//! The runtime library of standalone sampler binaries (`sde build`): sdelang
//! without its compiler, plus the C entry point that the model object's `main`
//! calls. `sde` embeds this archive (see the crate's build.rs) and links it
//! with each model. Only this front door prints.
//!
//! The library also exports, from `sdelang::native::libm`, the unmangled
//! `sdelang_*` functions that generated kernels call.

use std::ffi::{c_char, c_int, CStr, OsString};
use std::io::Write;

pub use sdelang::native::libm;

/// Runs the sampler: reads the command line, runs the model, prints the
/// summary or the error, and returns the exit code.
///
/// # Safety
/// `argv` must hold `argc` valid NUL-terminated strings (as C's `main`
/// receives them) and `image` must be the model image linked into this
/// executable by `sde build`.
#[no_mangle]
pub unsafe extern "C" fn sdelang_standalone_main(
    argc: c_int,
    argv: *const *const c_char,
    image: *const sdelang::native::image::ModelImage,
) -> c_int {
    let n = usize::try_from(argc).unwrap_or(0);
    let mut args = Vec::with_capacity(n);
    for k in 0..n {
        // SAFETY: the caller guarantees argv[0..argc] are valid C strings.
        let arg = unsafe { *argv.add(k) };
        if arg.is_null() {
            break;
        }
        // SAFETY: as above.
        let bytes = unsafe { CStr::from_ptr(arg) }.to_bytes();
        args.push(os_string(bytes));
    }
    // SAFETY: forwarded to the caller.
    let exit = unsafe { sdelang::standalone::main(image, args) };
    let _ = std::io::stdout().write_all(exit.stdout.as_bytes());
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().write_all(exit.stderr.as_bytes());
    exit.code
}

#[cfg(unix)]
fn os_string(bytes: &[u8]) -> OsString {
    use std::os::unix::ffi::OsStringExt;
    OsString::from_vec(bytes.to_vec())
}

#[cfg(not(unix))]
fn os_string(bytes: &[u8]) -> OsString {
    OsString::from(String::from_utf8_lossy(bytes).into_owned())
}
