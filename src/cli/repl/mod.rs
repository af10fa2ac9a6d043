//! `sde repl`: an interactive session. Definitions are entered incrementally
//! (redefining a name replaces it), expressions are evaluated through the
//! compiler, and `:commands` derive, run and plot. Errors are rendered like
//! the compiler's and never end the session.
//!
//! Layout: `input` sorts what was typed; `session` keeps the definitions and
//! compiles through `sdelang::pipeline`; `define`, `eval`, `calculus`,
//! `runcmd` and `plot` implement the inputs and commands, writing into an
//! [`Out`]; `commands` dispatches; `helper` is the line editor's completion
//! and multi-line validation. Only this file reads the terminal and prints.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::todo,
        clippy::unimplemented
    )
)]

mod calculus;
mod commands;
mod define;
mod eval;
mod helper;
mod input;
mod plot;
mod runcmd;
mod session;

use super::EXIT_USER;
use clap::Args;
use commands::Flow;
use rustyline::config::Config;
use rustyline::error::ReadlineError;
use rustyline::history::DefaultHistory;
use rustyline::{CompletionType, Editor};
use sdelang::diagnostic::{Diagnostic, Severity};
use sdelang::pipeline::Failure;
use sdelang::source::SourceMap;
use session::Session;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Arguments of `sde repl`.
#[derive(Args, Debug)]
pub struct ReplArgs {
    /// A model file to load first
    file: Option<PathBuf>,
    /// Read the inputs from FILE instead of the terminal (as does piping them in)
    #[arg(long, value_name = "FILE")]
    script: Option<PathBuf>,
    /// Without a terminal: print each input after a prompt, like a transcript
    #[arg(long)]
    echo: bool,
    /// Without a terminal: stop at the first error with exit code 2
    #[arg(long)]
    strict: bool,
    /// Neither read nor write the history file
    #[arg(long)]
    no_history: bool,
}

/// What one input printed, and whether it failed.
#[derive(Default)]
pub struct Out {
    /// The text to print.
    pub text: String,
    /// Whether an error was reported.
    pub failed: bool,
}

impl Out {
    /// A one-line error.
    pub fn error(&mut self, msg: &str) {
        self.text.push_str("Error: ");
        self.text.push_str(msg);
        self.text.push('\n');
        self.failed = true;
    }

    /// Diagnostics rendered as the compiler renders them.
    pub fn diags(&mut self, s: &Session, diags: &[Diagnostic], sources: &SourceMap) {
        self.text.push_str(&s.render(diags, sources));
        self.failed |= diags.iter().any(|d| d.severity != Severity::Warning);
    }

    /// A failed compilation.
    pub fn failure(&mut self, s: &Session, f: &Failure) {
        self.diags(s, &f.diagnostics, &f.sources);
    }
}

const PROMPT: &str = "sde> ";
const MORE: &str = "...> ";

/// Runs `sde repl`; returns the exit code.
pub fn repl(args: &ReplArgs) -> i32 {
    let interactive = args.script.is_none() && std::io::stdin().is_terminal();
    let color = interactive && std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let interrupt = Arc::new(AtomicBool::new(false));
    let mut s = Session::new(color, Arc::clone(&interrupt));
    if interactive {
        println!(
            "sdelang {} — type definitions or expressions; :help for commands, Ctrl-D to quit",
            env!("CARGO_PKG_VERSION")
        );
    }
    if let Some(file) = &args.file {
        let mut out = Out::default();
        commands::handle(&mut s, &mut out, &format!(":load {}", file.display()));
        print!("{}", out.text);
        if out.failed && args.strict {
            return EXIT_USER;
        }
    }
    let code = if interactive {
        interactive_loop(&mut s, args, &interrupt)
    } else {
        script_loop(&mut s, args)
    };
    // Runs wrote under a directory of this process only: remove it.
    let _ = std::fs::remove_dir_all(&s.out_root);
    code
}

/// Reads inputs from `--script FILE` or standard input.
fn script_loop(s: &mut Session, args: &ReplArgs) -> i32 {
    let mut text = String::new();
    let read = match &args.script {
        Some(path) => std::fs::read(path).map(|b| text = String::from_utf8_lossy(&b).into_owned()),
        None => std::io::stdin().read_to_string(&mut text).map(|_| ()),
    };
    if let Err(e) = read {
        let what = args
            .script
            .as_ref()
            .map_or("standard input".to_string(), |p| format!("`{}`", p.display()));
        eprintln!("error: cannot read {what}: {e}");
        return EXIT_USER;
    }
    let mut pending = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if args.echo {
            println!("{}{line}", if pending.is_empty() { PROMPT } else { MORE });
        }
        if !pending.is_empty() {
            pending.push('\n');
        }
        pending.push_str(line);
        if input::is_incomplete(&pending) && lines.peek().is_some() {
            continue;
        }
        let input = std::mem::take(&mut pending);
        let mut out = Out::default();
        let flow = commands::handle(s, &mut out, &input);
        print!("{}", out.text);
        let _ = std::io::stdout().flush();
        if out.failed && args.strict {
            return EXIT_USER;
        }
        if flow == Flow::Quit {
            break;
        }
    }
    0
}

/// The history file: `$XDG_STATE_HOME/sdelang/history`, else `~/.local/state/sdelang/history`.
fn history_path() -> Option<PathBuf> {
    let base = match std::env::var_os("XDG_STATE_HOME").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(std::env::var_os("HOME")?)
            .join(".local")
            .join("state"),
    };
    Some(base.join("sdelang").join("history"))
}

fn interactive_loop(s: &mut Session, args: &ReplArgs, interrupt: &Arc<AtomicBool>) -> i32 {
    let config = Config::builder()
        .completion_type(CompletionType::List)
        .auto_add_history(false)
        .max_history_size(5000)
        .and_then(|b| b.history_ignore_dups(true))
        .map(|b| b.build());
    let editor = config.and_then(Editor::<helper::ReplHelper, DefaultHistory>::with_config);
    let mut editor = match editor {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: cannot start the line editor: {e}");
            return EXIT_USER;
        }
    };
    editor.set_helper(Some(helper::ReplHelper::new()));
    let flag = Arc::clone(interrupt);
    if let Err(e) = ctrlc::set_handler(move || flag.store(true, Ordering::Relaxed)) {
        eprintln!("warning: Ctrl-C will end the REPL instead of the running command: {e}");
    }
    let history = if args.no_history { None } else { history_path() };
    if let Some(path) = &history {
        // A missing history file is normal on the first run.
        let _ = editor.load_history(path);
    }
    loop {
        update_helper(s, &mut editor);
        match editor.readline(PROMPT) {
            Ok(line) => {
                if !line.trim().is_empty() {
                    let _ = editor.add_history_entry(line.as_str());
                }
                let mut out = Out::default();
                let flow = commands::handle(s, &mut out, &line);
                if interrupt.swap(false, Ordering::Relaxed) {
                    // The terminal echoed ^C: start on a fresh line.
                    println!();
                }
                print!("{}", out.text);
                let _ = std::io::stdout().flush();
                if flow == Flow::Quit {
                    break;
                }
            }
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                eprintln!("error: {e}");
                break;
            }
        }
    }
    if let Some(path) = &history {
        save_history(&mut editor, path);
    }
    0
}

fn save_history(editor: &mut Editor<helper::ReplHelper, DefaultHistory>, path: &Path) {
    let dir_ok = path.parent().is_none_or(|d| std::fs::create_dir_all(d).is_ok());
    if !dir_ok || editor.save_history(path).is_err() {
        eprintln!("warning: could not save the history to `{}`", path.display());
    }
}

/// Gives the completer the session's current names.
fn update_helper(s: &mut Session, editor: &mut Editor<helper::ReplHelper, DefaultHistory>) {
    let mut names: Vec<String> = s
        .effective(&s.defs)
        .iter()
        .filter_map(|d| d.key.name().map(str::to_string))
        .collect();
    if let Some(current) = s.current.clone() {
        let defs = s.defs.clone();
        if let Ok((_, m)) = s.check(&defs, &session::Target::Model(current)) {
            names.extend(m.states.iter().map(|st| st.name.clone()));
            names.extend(m.params.iter().map(|p| p.name.clone()));
        }
    }
    let columns = plot::names(s);
    if let Some(h) = editor.helper_mut() {
        h.names = names;
        h.columns = columns;
    }
}
