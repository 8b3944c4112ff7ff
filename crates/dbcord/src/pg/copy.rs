//! COPY ... FROM STDIN and COPY ... TO STDOUT, in PostgreSQL's text and CSV
//! formats (what psql's `\copy` and drivers' copy helpers send).
//!
//! COPY FROM STDIN is one statement: the data is gathered, every line
//! parsed, and the rows go in as one INSERT (in the session's transaction,
//! if one is open), so a bad line writes nothing. A column the COPY does
//! not name takes its DEFAULT; a column the table does not have is an
//! error naming it, as in an INSERT.

use std::sync::Arc;

use datafusion::arrow::array::{Array, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::sql::parser::Statement;
use datafusion::sql::sqlparser::ast::{
    self, CopyLegacyCsvOption, CopyLegacyOption, CopyOption, CopySource, CopyTarget, Expr,
    ObjectName, SetExpr, Value, ValueWithSpan, Values,
};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::Parser;
use futures::stream;
use pgwire::api::results::{CopyResponse, Response};
use pgwire::error::PgWireResult;
use pgwire::messages::copy::CopyData;

use super::results::{statement_error, user_error};
use crate::sql::{Engine, Outcome};

/// A parsed COPY to or from the client.
#[derive(Clone, Debug)]
pub struct CopyCommand {
    /// The table (FROM STDIN, or TO STDOUT of a table).
    table: Option<ObjectName>,
    columns: Vec<String>,
    /// The query of `COPY (query) TO STDOUT`.
    query: Option<String>,
    pub to_stdout: bool,
    csv: bool,
    delimiter: char,
    null: String,
    header: bool,
}

impl CopyCommand {
    /// The COPY `sql` is, if it is one.
    pub fn parse(sql: &str) -> Option<PgWireResult<CopyCommand>> {
        let head = sql.trim_start();
        if !head.get(..4)?.eq_ignore_ascii_case("copy") {
            return None;
        }
        Some(Self::parse_copy(sql))
    }

    fn parse_copy(sql: &str) -> PgWireResult<CopyCommand> {
        let bad = |why: String| user_error("42601", why);
        let mut statements =
            Parser::parse_sql(&PostgreSqlDialect {}, sql).map_err(|e| bad(format!("COPY: {e}")))?;
        let Some(ast::Statement::Copy {
            source,
            to,
            target,
            options,
            legacy_options,
            ..
        }) = statements.pop()
        else {
            return Err(bad("not a COPY statement".into()));
        };
        match (&target, to) {
            (CopyTarget::Stdin, false) | (CopyTarget::Stdout, true) => {}
            _ => {
                return Err(user_error(
                    "0A000",
                    "COPY to or from a file on the server is not supported; use FROM STDIN or \
                     TO STDOUT (psql: \\copy)",
                ));
            }
        }
        let mut c = CopyCommand {
            table: None,
            columns: Vec::new(),
            query: None,
            to_stdout: to,
            csv: false,
            delimiter: '\t',
            null: "\\N".into(),
            header: false,
        };
        match source {
            CopySource::Table {
                table_name,
                columns,
            } => {
                c.table = Some(table_name);
                c.columns = columns.into_iter().map(|i| i.value).collect();
            }
            CopySource::Query(q) if to => c.query = Some(q.to_string()),
            CopySource::Query(_) => return Err(bad("COPY FROM needs a table".into())),
        }
        for o in options {
            c.option(o)?;
        }
        for o in legacy_options {
            c.legacy(o)?;
        }
        Ok(c)
    }

    fn option(&mut self, o: CopyOption) -> PgWireResult<()> {
        match o {
            CopyOption::Format(f) => match f.value.to_ascii_lowercase().as_str() {
                "csv" => self.set_csv(),
                "text" => {}
                other => {
                    return Err(user_error(
                        "0A000",
                        format!("COPY format {other} is not supported: use text or csv"),
                    ));
                }
            },
            CopyOption::Delimiter(d) => self.delimiter = d,
            CopyOption::Null(n) => self.null = n,
            CopyOption::Header(h) => self.header = h,
            CopyOption::Encoding(_) | CopyOption::Freeze(_) => {}
            other => {
                return Err(user_error(
                    "0A000",
                    format!("COPY option {other} is not supported"),
                ));
            }
        }
        Ok(())
    }

    fn legacy(&mut self, o: CopyLegacyOption) -> PgWireResult<()> {
        match o {
            CopyLegacyOption::Csv(options) => {
                self.set_csv();
                for o in options {
                    match o {
                        CopyLegacyCsvOption::Header => self.header = true,
                        other => {
                            return Err(user_error(
                                "0A000",
                                format!("COPY option {other} is not supported"),
                            ));
                        }
                    }
                }
            }
            CopyLegacyOption::Delimiter(d) => self.delimiter = d,
            CopyLegacyOption::Null(n) => self.null = n,
            CopyLegacyOption::Header => self.header = true,
            other => {
                return Err(user_error(
                    "0A000",
                    format!("COPY option {other} is not supported"),
                ));
            }
        }
        Ok(())
    }

    fn set_csv(&mut self) {
        self.csv = true;
        if self.delimiter == '\t' {
            self.delimiter = ',';
        }
        if self.null == "\\N" {
            self.null = String::new();
        }
    }

    /// The query whose rows COPY TO sends.
    fn select(&self) -> String {
        if let Some(q) = &self.query {
            return q.clone();
        }
        let columns = if self.columns.is_empty() {
            "*".to_string()
        } else {
            self.columns.join(", ")
        };
        let table = self
            .table
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        format!("SELECT {columns} FROM {table}")
    }
}

/// The number of columns a COPY FROM takes: those it names, or the table's.
pub fn columns_in(engine: &Engine, c: &CopyCommand) -> PgWireResult<usize> {
    if !c.columns.is_empty() {
        return Ok(c.columns.len());
    }
    let name = c
        .table
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    let (db, table) = match name.rsplit_once('.') {
        Some((db, t)) => (db.to_string(), t.to_string()),
        None => (engine.database(), name.clone()),
    };
    engine
        .store()
        .table(&db, &table)
        .map(|def| def.columns.len())
        .ok_or_else(|| user_error("42P01", format!("table \"{name}\" does not exist")))
}

/// The response that starts a COPY FROM STDIN.
pub fn copy_in_response(columns: usize) -> Response {
    Response::CopyIn(CopyResponse::new(0, columns, stream::empty()))
}

/// COPY TO STDOUT: run its query and send each row as one line.
pub async fn copy_out(engine: &Engine, c: &CopyCommand) -> PgWireResult<Response> {
    let stmt = match engine.parse(&c.select()).map(|mut v| v.pop()) {
        Ok(Some(s)) => s,
        Ok(None) => return Err(user_error("42601", "COPY needs a query")),
        Err(e) => return Ok(Response::Error(Box::new(statement_error(&e)))),
    };
    let batches = match engine.run(stmt).await {
        Ok(Outcome::Rows { batches, .. }) => batches,
        Ok(Outcome::Status(s)) => {
            return Err(user_error("42601", format!("COPY: {s} returns no rows")));
        }
        Err(e) => return Ok(Response::Error(Box::new(statement_error(&e)))),
    };
    let mut lines = Vec::new();
    let mut width = 0;
    for b in &batches {
        width = b.num_columns();
        let texts = b
            .columns()
            .iter()
            .map(text_column)
            .collect::<PgWireResult<Vec<_>>>()?;
        for r in 0..b.num_rows() {
            let cells: Vec<Option<&str>> = texts
                .iter()
                .map(|t| (!t.is_null(r)).then(|| t.value(r)))
                .collect();
            lines.push(Ok(CopyData::new(c.line(&cells).into())));
        }
    }
    Ok(Response::CopyOut(CopyResponse::new(
        0,
        width,
        stream::iter(lines),
    )))
}

/// A column as PostgreSQL's text: booleans as t and f.
fn text_column(col: &Arc<dyn Array>) -> PgWireResult<StringArray> {
    let text = if col.data_type() == &DataType::Boolean {
        let b = col
            .as_any()
            .downcast_ref::<datafusion::arrow::array::BooleanArray>()
            .expect("a boolean column");
        b.iter()
            .map(|v| v.map(|v| if v { "t" } else { "f" }))
            .collect()
    } else {
        let t = cast(col, &DataType::Utf8).map_err(|e| user_error("XX000", e.to_string()))?;
        t.as_any()
            .downcast_ref::<StringArray>()
            .expect("a cast to Utf8 gives strings")
            .clone()
    };
    Ok(text)
}

impl CopyCommand {
    /// One row as a line of this COPY's format.
    fn line(&self, cells: &[Option<&str>]) -> String {
        let d = self.delimiter.to_string();
        let mut out: Vec<String> = Vec::with_capacity(cells.len());
        for cell in cells {
            out.push(match cell {
                None => self.null.clone(),
                Some(v) if self.csv => csv_quote(v, self.delimiter),
                Some(v) => text_escape(v, self.delimiter),
            });
        }
        let mut line = out.join(&d);
        line.push('\n');
        line
    }

    /// One line of data as its cells.
    fn cells(&self, line: &str) -> Vec<Option<String>> {
        if self.csv {
            return csv_cells(line, self.delimiter, &self.null);
        }
        line.split(self.delimiter)
            .map(|f| (f != self.null).then(|| text_unescape(f)))
            .collect()
    }
}

fn text_escape(v: &str, delimiter: char) -> String {
    let mut out = String::with_capacity(v.len());
    for ch in v.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == delimiter => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

fn text_unescape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut chars = v.chars();
    while let Some(ch) = chars.next() {
        if ch != '\\' {
            out.push(ch);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('v') => out.push('\u{b}'),
            Some(c) => out.push(c),
            None => out.push('\\'),
        }
    }
    out
}

fn csv_quote(v: &str, delimiter: char) -> String {
    if v.is_empty() || v.contains([delimiter, '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v.to_string()
    }
}

/// The cells of one CSV record: an unquoted field equal to `null` is NULL.
fn csv_cells(line: &str, delimiter: char, null: &str) -> Vec<Option<String>> {
    let mut out = Vec::new();
    let mut field = String::new();
    let (mut quoted, mut in_quotes, mut chars) = (false, false, line.chars().peekable());
    while let Some(ch) = chars.next() {
        match ch {
            '"' if in_quotes && chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            '"' => {
                in_quotes = !in_quotes;
                quoted = true;
            }
            c if c == delimiter && !in_quotes => {
                out.push(csv_field(std::mem::take(&mut field), quoted, null));
                quoted = false;
            }
            c => field.push(c),
        }
    }
    out.push(csv_field(field, quoted, null));
    out
}

fn csv_field(field: String, quoted: bool, null: &str) -> Option<String> {
    (quoted || field != null).then_some(field)
}

/// A COPY FROM STDIN receiving its data.
#[derive(Debug)]
pub struct CopyIn {
    command: CopyCommand,
    data: Vec<u8>,
}

impl CopyIn {
    pub fn new(command: CopyCommand) -> CopyIn {
        CopyIn {
            command,
            data: Vec::new(),
        }
    }

    /// Take a chunk of data, refusing more than `max` bytes in all.
    pub fn take(&mut self, chunk: &[u8], max: usize) -> PgWireResult<()> {
        if self.data.len() + chunk.len() > max {
            return Err(user_error(
                "54000",
                format!("COPY data over {max} bytes (--pg-max-statement); nothing was written"),
            ));
        }
        self.data.extend_from_slice(chunk);
        Ok(())
    }

    /// Insert every row as one statement; how many.
    pub async fn finish(self, engine: &Engine) -> PgWireResult<usize> {
        let text = String::from_utf8(self.data)
            .map_err(|_| user_error("22021", "COPY data is not UTF-8; nothing was written"))?;
        let c = &self.command;
        let rows: Vec<Vec<Option<String>>> = records(&text, c.csv)
            .into_iter()
            .take_while(|l| *l != "\\.")
            .skip(usize::from(c.header))
            .map(|l| c.cells(l))
            .collect();
        if rows.is_empty() {
            return Ok(0);
        }
        let n = rows.len();
        let stmt = insert(c, rows)?;
        match engine.run(stmt).await {
            Ok(_) => Ok(n),
            Err(e) => Err(pgwire::error::PgWireError::UserError(Box::new(
                statement_error(&e),
            ))),
        }
    }
}

/// The records of COPY data: lines, except that a CSV field in quotes may
/// hold line breaks.
fn records(text: &str, csv: bool) -> Vec<&str> {
    if !csv {
        return text.lines().collect();
    }
    let mut out = Vec::new();
    let (mut start, mut in_quotes) = (0, false);
    for (i, b) in text.bytes().enumerate() {
        match b {
            b'"' => in_quotes = !in_quotes,
            b'\n' if !in_quotes => {
                out.push(text[start..i].trim_end_matches('\r'));
                start = i + 1;
            }
            _ => {}
        }
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

/// `INSERT INTO table (columns) VALUES ...` with each cell as a string
/// literal (cast to its column's type by the INSERT) or NULL.
fn insert(c: &CopyCommand, rows: Vec<Vec<Option<String>>>) -> PgWireResult<Statement> {
    let table = c.table.clone().expect("COPY FROM has a table");
    let width = rows[0].len();
    if let Some((i, r)) = rows.iter().enumerate().find(|(_, r)| r.len() != width) {
        return Err(user_error(
            "22P04",
            format!(
                "COPY line {}: {} fields, the first line has {width}; nothing was written",
                i + 1,
                r.len()
            ),
        ));
    }
    let literal = |v: Option<String>| {
        Expr::Value(ValueWithSpan {
            value: v.map_or(Value::Null, Value::SingleQuotedString),
            span: datafusion::sql::sqlparser::tokenizer::Span::empty(),
        })
    };
    let values = Values {
        explicit_row: false,
        value_keyword: false,
        rows: rows
            .into_iter()
            .map(|r| ast::Parens::with_empty_span(r.into_iter().map(literal).collect()))
            .collect(),
    };
    let sql = format!(
        "INSERT INTO {table}{} VALUES (NULL)",
        if c.columns.is_empty() {
            String::new()
        } else {
            format!(" ({})", c.columns.join(", "))
        }
    );
    let mut parsed = Parser::parse_sql(&PostgreSqlDialect {}, &sql)
        .map_err(|e| user_error("42601", format!("COPY: {e}")))?;
    let mut stmt = parsed.pop().expect("one statement");
    if let ast::Statement::Insert(i) = &mut stmt
        && let Some(source) = i.source.as_mut()
    {
        *source.body = SetExpr::Values(values);
    }
    Ok(Statement::Statement(Box::new(stmt)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_csv_lines_read_back() {
        let mut c = CopyCommand::parse("COPY t FROM STDIN").unwrap().unwrap();
        let line = c.line(&[Some("a\tb\\c"), None, Some("x")]);
        assert_eq!(line, "a\\tb\\\\c\t\\N\tx\n");
        assert_eq!(
            c.cells(line.trim_end()),
            vec![Some("a\tb\\c".to_string()), None, Some("x".to_string())]
        );
        c.set_csv();
        let line = c.line(&[Some("a,\"b\""), None, Some("")]);
        assert_eq!(line, "\"a,\"\"b\"\"\",,\"\"\n");
        assert_eq!(
            c.cells(line.trim_end()),
            vec![Some("a,\"b\"".to_string()), None, Some(String::new())]
        );
    }

    #[test]
    fn psql_copy_commands_parse() {
        let c = CopyCommand::parse("COPY  t ( a,b ) FROM STDIN with (format csv)")
            .unwrap()
            .unwrap();
        assert!(c.csv && !c.to_stdout);
        assert_eq!(c.columns, ["a", "b"]);
        let c = CopyCommand::parse("COPY  main.t TO STDOUT csv header")
            .unwrap()
            .unwrap();
        assert!(c.csv && c.header && c.to_stdout);
        assert!(
            CopyCommand::parse("COPY t FROM '/etc/passwd'")
                .unwrap()
                .is_err()
        );
        assert!(CopyCommand::parse("SELECT 1").is_none());
    }
}
