//! Running scripts: -c strings, -f files, standard input.

use std::io::Write;

use datafusion::sql::parser::Statement;

use super::args::Format;
use super::output;
use crate::session::Session;
use crate::sql::errors::user_message;

/// Run every statement of `text`; stop at the first failure and report it on
/// stderr naming `source` and the statement. Returns whether all succeeded.
pub async fn run_script(session: &Session, text: &str, source: &str, format: Format) -> bool {
    let statements = match session.engine.parse(text) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {source}: {}", user_message(&e));
            return false;
        }
    };
    for (i, stmt) in statements.into_iter().enumerate() {
        let label = snippet(&stmt);
        if let Err(msg) = run_one(session, stmt, format).await {
            eprintln!("error: {source}, statement {} ({label}): {msg}", i + 1);
            return false;
        }
    }
    true
}

/// Run one statement and print its outcome; the error is returned as text for people.
pub async fn run_one(session: &Session, stmt: Statement, format: Format) -> Result<(), String> {
    let outcome = session
        .engine
        .run(stmt)
        .await
        .map_err(|e| user_message(&e))?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    output::print(&mut out, &outcome, format).map_err(|e| format!("printing the result: {e}"))?;
    out.flush().map_err(|e| format!("printing the result: {e}"))
}

/// The statement's start, for error messages.
fn snippet(stmt: &Statement) -> String {
    let text = stmt.to_string();
    let mut s: String = text.chars().take(48).collect();
    if text.chars().count() > 48 {
        s.push_str("...");
    }
    s
}
