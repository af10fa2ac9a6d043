//! Compiles the LALRPOP grammar in `grammar/` into the parser module.
fn main() {
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
