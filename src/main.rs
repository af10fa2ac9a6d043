//! The `sde` command: the terminal front door of sdelang.

mod cli;

fn main() {
    // Compilation recurses over expression trees; a large stack keeps deeply
    // nested (but accepted) models far from overflow. Only touched pages are used.
    let worker = std::thread::Builder::new()
        .name("sde".into())
        .stack_size(256 << 20)
        .spawn(cli::main);
    let code = match worker.map(|h| h.join()) {
        Ok(Ok(code)) => code,
        Ok(Err(_)) => {
            eprintln!("internal error: the compiler crashed; please report this with the model file");
            70
        }
        Err(e) => {
            eprintln!("error: cannot start: {e}");
            70
        }
    };
    std::process::exit(code);
}
