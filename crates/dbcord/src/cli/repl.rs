//! The interactive shell: rustyline with history, a validator that knows
//! when a statement is complete, completion, and a prompt that shows the
//! current database.

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Result;
use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Editor, Helper};

use super::args::Format;
use super::dot::COMMANDS;
use super::output::Style;
use super::script::complete;
use super::shell::{Flow, Shell};
use crate::session::Session;
use crate::store::Store;

/// Validation, completion and the rest of rustyline's hooks.
pub struct SqlHelper {
    store: Arc<Store>,
    /// The current database, for completing its tables and columns.
    database: String,
}

impl SqlHelper {
    pub fn new(store: Arc<Store>, database: String) -> SqlHelper {
        SqlHelper { store, database }
    }

    /// Everything a word could complete to: keywords, dot-commands,
    /// databases, tables (bare and qualified) and columns.
    fn candidates(&self, dot: bool) -> Vec<String> {
        if dot {
            return COMMANDS
                .iter()
                .flat_map(|c| c.names.iter().map(|n| n.to_string()))
                .collect();
        }
        let mut out: Vec<String> = KEYWORDS.iter().map(|k| k.to_string()).collect();
        for db in self.store.database_names() {
            for t in self.store.table_names(&db) {
                out.push(format!("{db}.{t}"));
                if db == self.database {
                    if let Some(def) = self.store.table(&db, &t) {
                        out.extend(def.columns.iter().map(|c| c.name.clone()));
                    }
                    out.push(t);
                }
            }
            out.push(db);
        }
        out.extend(
            crate::sql::admin::AdminOp::ALL
                .iter()
                .map(|o| o.name().to_string()),
        );
        out.sort();
        out.dedup();
        out
    }

    /// Completions of the word that ends at `pos`: (its start, candidates).
    pub fn complete_at(&self, line: &str, pos: usize) -> (usize, Vec<String>) {
        let before = &line[..pos];
        let start = before
            .char_indices()
            .rev()
            .find(|(_, c)| !(c.is_alphanumeric() || *c == '_' || *c == '.'))
            .map_or(0, |(i, c)| i + c.len_utf8());
        let word = &before[start..];
        if word.is_empty() {
            return (start, Vec::new());
        }
        let dot = start == 0 && word.starts_with('.');
        let upper = word.chars().next().is_some_and(|c| c.is_ascii_uppercase());
        let lower = word.to_ascii_lowercase();
        let found = self
            .candidates(dot)
            .into_iter()
            .filter(|c| c.to_ascii_lowercase().starts_with(&lower))
            .map(|c| {
                if upper && KEYWORDS.contains(&c.as_str()) {
                    c
                } else if KEYWORDS.contains(&c.as_str()) {
                    c.to_ascii_lowercase()
                } else {
                    c
                }
            })
            .collect();
        (start, found)
    }
}

/// SQL words worth completing (upper case, as written in the help).
const KEYWORDS: &[&str] = &[
    "ALTER",
    "AND",
    "AS",
    "ASC",
    "BETWEEN",
    "BIGINT",
    "BOOLEAN",
    "BY",
    "CHECK",
    "COLUMN",
    "COUNT",
    "CREATE",
    "DATABASE",
    "DEFAULT",
    "DELETE",
    "DESC",
    "DISTINCT",
    "DOUBLE",
    "DROP",
    "EXISTS",
    "EXPLAIN",
    "FROM",
    "GROUP",
    "HAVING",
    "IF",
    "IN",
    "INDEX",
    "INSERT",
    "INT",
    "INTO",
    "IS",
    "JOIN",
    "JSON",
    "KEY",
    "LIKE",
    "LIMIT",
    "NOT",
    "NULL",
    "ON",
    "OR",
    "ORDER",
    "PRIMARY",
    "REAL",
    "RENAME",
    "SELECT",
    "SET",
    "SHOW",
    "TABLE",
    "TABLES",
    "TEXT",
    "TIMESTAMP",
    "UNIQUE",
    "UPDATE",
    "VACUUM",
    "VALUES",
    "WHERE",
    "WITH",
];

impl Validator for SqlHelper {
    /// A line is complete when it is a dot-command, or SQL ending in a `;`
    /// that SQL's tokenizer sees outside strings and comments.
    fn validate(&self, ctx: &mut ValidationContext) -> rustyline::Result<ValidationResult> {
        let input = ctx.input().trim();
        if input.is_empty() || input.starts_with('.') || complete(input) {
            Ok(ValidationResult::Valid(None))
        } else {
            Ok(ValidationResult::Incomplete)
        }
    }
}

impl Completer for SqlHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let (start, words) = self.complete_at(line, pos);
        let pairs = words
            .into_iter()
            .map(|w| Pair {
                display: w.clone(),
                replacement: w,
            })
            .collect();
        Ok((start, pairs))
    }
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

/// Run the shell until .quit or Ctrl-D; history is kept in `history`.
pub async fn run(shell: &mut Shell<'_>, history: Option<PathBuf>) -> Result<()> {
    let store = Arc::clone(shell.session.engine.store());
    let mut editor: Editor<SqlHelper, DefaultHistory> = Editor::new()?;
    editor.set_helper(Some(SqlHelper::new(Arc::clone(&store), shell.database())));
    if let Some(h) = &history {
        let _ = editor.load_history(h);
    }
    if !shell.style.quiet {
        println!(
            "dbcord {}: SQL on a Discord guild. .help for help, .quit to leave.",
            env!("CARGO_PKG_VERSION")
        );
    }
    loop {
        let db = shell.database();
        if let Some(h) = editor.helper_mut() {
            h.database = db.clone();
        }
        let prompt = format!("dbcord {db}> ");
        let line = tokio::task::block_in_place(|| editor.readline(&prompt));
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
        if let Some(h) = &history {
            let _ = editor.append_history(h);
        }
        if text.starts_with('.') {
            match shell.dot(text).await {
                Ok(Flow::Quit) => break,
                Ok(Flow::Go) => {}
                Err(e) => eprintln!("error: {e}"),
            }
            continue;
        }
        run_typed(shell, text).await;
    }
    Ok(())
}

/// Run statements typed at the prompt; Ctrl-C cancels.
async fn run_typed(shell: &mut Shell<'_>, text: &str) {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    match shell.run_sql(text, "input", 1, ctrl_c).await {
        Ok(true) => {}
        Ok(false) => eprintln!(
            "cancelled: nothing of the statement was written, unless its commit message had \
             already been sent (then all of it was)"
        ),
        Err(msg) => eprintln!("error: {msg}"),
    }
}

/// Run the statements of `text` until one fails or `cancel` completes, as
/// the shell does when Ctrl-C is pressed. Ok(false) if cancelled.
pub async fn run_cancellable(
    session: &Session,
    text: &str,
    format: Format,
    cancel: impl std::future::Future<Output = ()>,
) -> Result<bool, String> {
    let mut shell = Shell::new(session, Style::new(format));
    shell.run_sql(text, "input", 1, cancel).await
}
