//! Golden tests of `sde derive`: the printed formulas for each example. Set
//! SDELANG_BLESS=1 to rewrite the files after reviewing a change.

use std::path::Path;
use std::process::Command;

fn golden(example: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(env!("CARGO_BIN_EXE_sde"))
        .args(["derive", &format!("examples/{example}.sde")])
        .current_dir(root)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let path = root.join(format!("tests/golden/derive/{example}.txt"));
    if std::env::var_os("SDELANG_BLESS").is_some() {
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(
        text, want,
        "derive output of {example} changed (SDELANG_BLESS=1 to accept)"
    );
}

#[test]
fn double_well() {
    golden("double_well");
}

#[test]
fn gauss_1k() {
    golden("gauss_1k");
}

#[test]
fn gbm() {
    golden("gbm");
}

#[test]
fn ou() {
    golden("ou");
}
