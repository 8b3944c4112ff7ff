//! What the shell and the script runner share: the settings dot-commands
//! change, running SQL and dot-commands, and reporting errors with the
//! file and line they come from.

use std::fs::File;
use std::future::Future;
use std::io::Write;

use datafusion::sql::parser::Statement;
use datafusion::sql::sqlparser::ast::Spanned;

use super::describe::{index_lines, schema_sql};
use super::dot::{DotCommand, help_text};
use super::output::{self, Style};
use super::script::{Piece, pieces};
use super::timing::Meter;
use crate::session::Session;
use crate::sql::errors::user_message;

/// Whether to go on after a piece of a script.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    Go,
    Quit,
}

/// A session with the shell's settings.
pub struct Shell<'a> {
    pub session: &'a Session,
    pub style: Style,
    /// Print each statement's cost (`.timing`, `--timing`).
    pub timing: bool,
    /// Show plans instead of running queries (`.explain`).
    pub explain: bool,
    /// Stop a script at its first failure (not with `--no-bail`).
    pub bail: bool,
    /// Statements and commands that failed so far.
    pub failures: usize,
    /// Where results go (`.output`); `None` is standard output.
    out: Option<(String, File)>,
    /// Page long results (the interactive shell, on a terminal).
    pub pager: bool,
}

impl<'a> Shell<'a> {
    pub fn new(session: &'a Session, style: Style) -> Shell<'a> {
        Shell {
            session,
            style,
            timing: false,
            explain: false,
            bail: true,
            failures: 0,
            out: None,
            pager: false,
        }
    }

    /// The database unqualified names are in.
    pub fn database(&self) -> String {
        self.session.engine.database()
    }

    /// Run a script's SQL and dot-commands, reporting each failure with
    /// `source` and its line. Stops at the first failure unless `bail` is off.
    pub async fn run_script(&mut self, text: &str, source: &str) -> Flow {
        for piece in pieces(text) {
            let (result, line) = match piece {
                Piece::Sql { text, line } => {
                    let r = self
                        .run_sql(&text, source, line, std::future::pending())
                        .await;
                    (r.map(|_| Flow::Go), line)
                }
                Piece::Dot { text, line } => (Box::pin(self.dot(&text)).await, line),
            };
            match result {
                Ok(Flow::Go) => {}
                Ok(Flow::Quit) => return Flow::Quit,
                Err(msg) => {
                    self.failures += 1;
                    eprintln!("error: {source}:{line}: {msg}");
                    if self.bail {
                        return Flow::Quit;
                    }
                }
            }
        }
        Flow::Go
    }

    /// Run the statements of `text` (which starts on `line` of `source`)
    /// until one fails or `cancel` completes. Cancelling drops the running
    /// statement with its pending requests: a statement commits with one
    /// message, so it is then wholly written (its commit had been sent) or
    /// not at all. Ok(false) if cancelled. A failure names its statement's
    /// own line when it is not the first of the text.
    pub async fn run_sql(
        &mut self,
        text: &str,
        source: &str,
        line: usize,
        cancel: impl Future<Output = ()>,
    ) -> Result<bool, String> {
        let statements = self
            .session
            .engine
            .parse(text)
            .map_err(|e| user_message(&e))?;
        tokio::pin!(cancel);
        for (i, stmt) in statements.into_iter().enumerate() {
            let at = line + statement_line(&stmt).saturating_sub(1);
            let stmt = self.explained(stmt)?;
            let result = tokio::select! {
                r = self.run_one(stmt) => r,
                _ = &mut cancel => return Ok(false),
            };
            if let Err(msg) = result {
                return Err(if i == 0 || at == line {
                    msg
                } else {
                    format!("(the statement on line {at} of {source}) {msg}")
                });
            }
        }
        Ok(true)
    }

    /// With `.explain on`, a query's plan instead of its rows.
    fn explained(&self, stmt: Statement) -> Result<Statement, String> {
        let is_query = matches!(&stmt, Statement::Statement(s)
            if matches!(s.as_ref(), datafusion::sql::sqlparser::ast::Statement::Query(_)));
        if !self.explain || !is_query {
            return Ok(stmt);
        }
        let text = format!("EXPLAIN {stmt}");
        let mut parsed = self
            .session
            .engine
            .parse(&text)
            .map_err(|e| user_message(&e))?;
        Ok(parsed.remove(0))
    }

    /// Run one statement and print its outcome (and cost, with `.timing`).
    async fn run_one(&mut self, stmt: Statement) -> Result<(), String> {
        let meter = self.timing.then(|| Meter::start(self.session));
        let outcome = self
            .session
            .engine
            .run(stmt)
            .await
            .map_err(|e| user_message(&e));
        // The cost is measured now, printed after the result.
        let returned = match &outcome {
            Ok(crate::sql::Outcome::Rows { batches, .. }) => {
                Some(batches.iter().map(|b| b.num_rows()).sum::<usize>())
            }
            _ => None,
        };
        let cost = meter.map(|m| {
            let mut report = m.report(self.session);
            if let Some(n) = returned {
                report.push_str(&format!("\nRows returned: {n}"));
            }
            report
        });
        let printed = match &outcome {
            Ok(o) => self.print(o),
            Err(_) => Ok(()),
        };
        if let Some(cost) = cost {
            eprintln!("{cost}");
        }
        outcome.map(|_| ()).and(printed)
    }

    /// Print an outcome where results go.
    fn print(&mut self, outcome: &crate::sql::Outcome) -> Result<(), String> {
        let style = self.style;
        let printed = match &mut self.out {
            Some((_, file)) => output::print(file, outcome, style).and_then(|_| Ok(file.flush()?)),
            None if self.pager => {
                let mut text = Vec::new();
                output::print(&mut text, outcome, style).map(|_| super::pager::show(&text))
            }
            None => {
                let stdout = std::io::stdout();
                let mut out = stdout.lock();
                output::print(&mut out, outcome, style).and_then(|_| Ok(out.flush()?))
            }
        };
        printed.map_err(|e| format!("printing the result: {e}"))
    }

    /// Run one dot-command line.
    pub async fn dot(&mut self, line: &str) -> Result<Flow, String> {
        let cmd: DotCommand = line.parse()?;
        let store = self.session.engine.store();
        match cmd {
            DotCommand::Quit => return Ok(Flow::Quit),
            DotCommand::Help => self.say(&help_text()),
            DotCommand::Databases => self.say(&store.database_names().join("\n")),
            DotCommand::Tables(db) => {
                let db = db.unwrap_or_else(|| self.database());
                if !store.has_database(&db) {
                    return Err(format!("database \"{db}\" does not exist"));
                }
                self.say(&store.table_names(&db).join("\n"));
            }
            DotCommand::Schema(table) => {
                let text = self.describe(table, |def, idx| vec![schema_sql(def, idx)])?;
                self.say(&text.join("\n\n"));
            }
            DotCommand::Indexes(table) => {
                let text = self.describe(table, index_lines)?;
                self.say(&text.join("\n"));
            }
            DotCommand::Use(db) => self
                .session
                .engine
                .use_database(&db)
                .map_err(|e| user_message(&e))?,
            DotCommand::Stats => self.say(&self.session.cost_report()),
            DotCommand::Format(f) => self.style.format = f,
            DotCommand::MaxRows(n) => self.style.maxrows = n,
            DotCommand::Timing(on) => self.timing = on,
            DotCommand::Explain(on) => self.explain = on,
            DotCommand::Output(None) => self.out = None,
            DotCommand::Output(Some(path)) => {
                let file = File::options()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .map_err(|e| format!("cannot write {path}: {e}"))?;
                self.out = Some((path, file));
            }
            DotCommand::Read(path) => {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| format!("cannot read {path}: {e}"))?;
                let failures = self.failures;
                let flow = Box::pin(self.run_script(&text, &path)).await;
                if self.failures > failures && self.bail {
                    return Err(format!("{path} stopped at its first error"));
                }
                return Ok(flow);
            }
            DotCommand::Sql(sql) => {
                self.run_sql(&sql, "the command", 1, std::future::pending())
                    .await?;
            }
        }
        Ok(Flow::Go)
    }

    /// Text about one table (or every table of the current database).
    fn describe(
        &self,
        table: Option<String>,
        f: impl Fn(&crate::store::TableDef, &[std::sync::Arc<crate::store::IndexDef>]) -> Vec<String>,
    ) -> Result<Vec<String>, String> {
        let store = self.session.engine.store();
        let current = self.database();
        let names: Vec<(String, String)> = match table {
            Some(t) => match t.split_once('.') {
                Some((db, name)) => vec![(db.to_string(), name.to_string())],
                None => vec![(current, t)],
            },
            None => store
                .table_names(&current)
                .into_iter()
                .map(|t| (current.clone(), t))
                .collect(),
        };
        let mut out = Vec::new();
        for (db, name) in names {
            let def = store
                .table(&db, &name)
                .ok_or_else(|| format!("table \"{db}.{name}\" does not exist"))?;
            out.extend(f(&def, &store.indexes_of(&db, &name)));
        }
        Ok(out)
    }

    /// Print a dot-command's answer where results go.
    fn say(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        match &mut self.out {
            Some((path, file)) => {
                if let Err(e) = writeln!(file, "{text}") {
                    eprintln!("error: writing {path}: {e}");
                }
            }
            None => println!("{text}"),
        }
    }
}

/// The line (1-based) a statement starts on within its text; 1 if unknown.
fn statement_line(stmt: &Statement) -> usize {
    match stmt {
        Statement::Statement(s) => (s.span().start.line as usize).max(1),
        _ => 1,
    }
}
