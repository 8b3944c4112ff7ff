//! The interactive shell: rustyline, multi-line statements until ';'.

use std::borrow::Cow;
use std::path::PathBuf;

use anyhow::Result;
use rustyline::completion::Completer;
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Editor, Helper};

use super::args::Format;
use super::dot::{DotCommand, help_text};
use super::exec::run_one;
use crate::session::Session;
use crate::sql::errors::user_message;

/// Says "incomplete" until a statement ends with ';' (dot-commands end at the line).
struct SqlHelper;

impl Validator for SqlHelper {
    fn validate(&self, ctx: &mut ValidationContext) -> rustyline::Result<ValidationResult> {
        let input = ctx.input().trim();
        if input.is_empty() || input.starts_with('.') || input.ends_with(';') {
            Ok(ValidationResult::Valid(None))
        } else {
            Ok(ValidationResult::Incomplete)
        }
    }
}

impl Completer for SqlHelper {
    type Candidate = String;
}

impl Hinter for SqlHelper {
    type Hint = String;
}

impl Highlighter for SqlHelper {
    fn highlight_prompt<'b, 's: 'b, 'p: 'b>(
        &'s self,
        prompt: &'p str,
        _default: bool,
    ) -> Cow<'b, str> {
        Cow::Borrowed(prompt)
    }
}

impl Helper for SqlHelper {}

/// Run the shell until .quit or Ctrl-D.
pub async fn run(session: &Session, mut format: Format, history: Option<PathBuf>) -> Result<()> {
    let mut editor: Editor<SqlHelper, DefaultHistory> = Editor::new()?;
    editor.set_helper(Some(SqlHelper));
    if let Some(h) = &history {
        let _ = editor.load_history(h);
    }
    println!(
        "dbcord {}: SQL on a Discord guild. .help for help, .quit to leave.",
        env!("CARGO_PKG_VERSION")
    );
    loop {
        let line = tokio::task::block_in_place(|| editor.readline("dbcord> "));
        let line = match line {
            Ok(l) => l,
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(e.into()),
        };
        let text = line.trim();
        if text.is_empty() {
            continue;
        }
        let _ = editor.add_history_entry(text);
        if text.starts_with('.') {
            match text.parse::<DotCommand>() {
                Ok(DotCommand::Quit) => break,
                Ok(DotCommand::Sql(sql)) => run_text(session, &sql, format).await,
                Ok(cmd) => dot(session, cmd, &mut format),
                Err(e) => eprintln!("error: {e}"),
            }
            continue;
        }
        run_text(session, text, format).await;
    }
    if let Some(h) = &history {
        let _ = editor.save_history(h);
    }
    Ok(())
}

/// Run statements typed at the prompt; Ctrl-C cancels.
async fn run_text(session: &Session, text: &str, format: Format) {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    match run_cancellable(session, text, format, ctrl_c).await {
        Ok(true) => {}
        Ok(false) => eprintln!(
            "cancelled: nothing of the statement was written, unless its commit message had \
             already been sent (then all of it was)"
        ),
        Err(msg) => eprintln!("error: {msg}"),
    }
}

/// Run the statements of `text` until one fails or `cancel` completes.
/// Cancelling drops the running statement with its pending requests: a
/// statement commits with one message, so it is then wholly written (its
/// commit had been sent) or not at all. Ok(false) if cancelled.
pub async fn run_cancellable(
    session: &Session,
    text: &str,
    format: Format,
    cancel: impl std::future::Future<Output = ()>,
) -> Result<bool, String> {
    let statements = session.engine.parse(text).map_err(|e| user_message(&e))?;
    tokio::pin!(cancel);
    for stmt in statements {
        tokio::select! {
            r = run_one(session, stmt, format) => r?,
            _ = &mut cancel => return Ok(false),
        }
    }
    Ok(true)
}

fn dot(session: &Session, cmd: DotCommand, format: &mut Format) {
    let store = session.engine.store();
    match cmd {
        DotCommand::Help => println!("{}", help_text()),
        DotCommand::Databases => store.database_names().iter().for_each(|d| println!("{d}")),
        DotCommand::Tables(db) => {
            let db = db.unwrap_or_else(|| crate::store::DEFAULT_DATABASE.to_string());
            if !store.has_database(&db) {
                return eprintln!("error: database \"{db}\" does not exist");
            }
            store.table_names(&db).iter().for_each(|t| println!("{t}"));
        }
        DotCommand::Stats => println!("{}", session.cost_report()),
        DotCommand::Format(f) => *format = f,
        DotCommand::Quit | DotCommand::Sql(_) => {}
    }
}
