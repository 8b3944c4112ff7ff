//! The shell's dot-commands. One table, [`COMMANDS`], lists them with
//! their arguments and help; parsing and `.help` both read it, so the help
//! cannot drift from what the shell accepts.

use std::str::FromStr;

use super::args::Format;
use crate::sql::admin::AdminOp;

/// A line starting with '.'.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DotCommand {
    Help,
    Databases,
    Tables(Option<String>),
    Schema(Option<String>),
    Indexes(Option<String>),
    Use(String),
    Stats,
    Format(Format),
    MaxRows(usize),
    Timing(bool),
    Explain(bool),
    Read(String),
    /// A file to print into, or `None` for standard output.
    Output(Option<String>),
    /// An admin operation, as the SQL that runs it (`.verify users` is
    /// `SELECT * FROM verify('users')`): one implementation for both.
    Sql(String),
    Quit,
}

/// Which command a [`DotSpec`] describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Help,
    Databases,
    Tables,
    Schema,
    Indexes,
    Use,
    Stats,
    Format,
    MaxRows,
    Timing,
    Explain,
    Read,
    Output,
    Admin(AdminOp),
    Quit,
}

/// One dot-command: its names (the first is the one shown), its arguments
/// as help writes them, and what it does.
#[derive(Debug)]
pub struct DotSpec {
    pub names: &'static [&'static str],
    pub args: &'static str,
    pub help: &'static str,
    kind: Kind,
}

pub const COMMANDS: [DotSpec; 23] = [
    DotSpec {
        names: &[".help", ".h", ".?"],
        args: "",
        help: "this text",
        kind: Kind::Help,
    },
    DotSpec {
        names: &[".databases"],
        args: "",
        help: "list databases (Discord categories)",
        kind: Kind::Databases,
    },
    DotSpec {
        names: &[".tables"],
        args: "[db]",
        help: "list the tables (Discord channels) of a database",
        kind: Kind::Tables,
    },
    DotSpec {
        names: &[".stats"],
        args: "",
        help: "what this session has cost on Discord so far",
        kind: Kind::Stats,
    },
    DotSpec {
        names: &[".schema"],
        args: "[table]",
        help: "the CREATE statements of a table (or of every table)",
        kind: Kind::Schema,
    },
    DotSpec {
        names: &[".indexes"],
        args: "[table]",
        help: "indexes: name, table, column, unique, ready",
        kind: Kind::Indexes,
    },
    DotSpec {
        names: &[".use"],
        args: "db",
        help: "the database unqualified names are in",
        kind: Kind::Use,
    },
    DotSpec {
        names: &[".mode", ".format"],
        args: "table|csv|tsv|json|ndjson|markdown",
        help: "how result sets are printed",
        kind: Kind::Format,
    },
    DotSpec {
        names: &[".maxrows"],
        args: "n",
        help: "rows a table shows at most (0: all)",
        kind: Kind::MaxRows,
    },
    DotSpec {
        names: &[".timing"],
        args: "on|off",
        help: "after each statement: time, Discord requests, CDN bytes, waits",
        kind: Kind::Timing,
    },
    DotSpec {
        names: &[".explain"],
        args: "on|off",
        help: "show each query's plan instead of running it",
        kind: Kind::Explain,
    },
    DotSpec {
        names: &[".read"],
        args: "file",
        help: "run the SQL and dot-commands of a file",
        kind: Kind::Read,
    },
    DotSpec {
        names: &[".output"],
        args: "file|stdout",
        help: "print results into a file (appending), or back to the terminal",
        kind: Kind::Output,
    },
    DotSpec {
        names: &[".history"],
        args: "table key...",
        help: "every version of a row: history('table', key...)",
        kind: Kind::Admin(AdminOp::History),
    },
    DotSpec {
        names: &[".verify"],
        args: "table",
        help: "check a table's messages, rows and index data",
        kind: Kind::Admin(AdminOp::Verify),
    },
    DotSpec {
        names: &[".vacuum"],
        args: "table [foreign]",
        help: "compact, archive history, delete replaced messages",
        kind: Kind::Admin(AdminOp::Vacuum),
    },
    DotSpec {
        names: &[".reindex"],
        args: "index",
        help: "rebuild an index from its table's rows",
        kind: Kind::Admin(AdminOp::Reindex),
    },
    DotSpec {
        names: &[".snapshot"],
        args: "table",
        help: "save a table into #dbc-snapshots",
        kind: Kind::Admin(AdminOp::Snapshot),
    },
    DotSpec {
        names: &[".restore"],
        args: "table snapshot_id",
        help: "make a table from a snapshot",
        kind: Kind::Admin(AdminOp::Restore),
    },
    DotSpec {
        names: &[".export"],
        args: "table file",
        help: "write a table to a .csv or .jsonl file",
        kind: Kind::Admin(AdminOp::Export),
    },
    DotSpec {
        names: &[".import"],
        args: "table file",
        help: "insert a .csv or .jsonl file's rows as one statement",
        kind: Kind::Admin(AdminOp::Import),
    },
    DotSpec {
        names: &[".inspect"],
        args: "table key...",
        help: "where a row is in Discord",
        kind: Kind::Admin(AdminOp::Inspect),
    },
    DotSpec {
        names: &[".quit", ".exit", ".q"],
        args: "",
        help: "leave (Ctrl-D works too; Ctrl-C cancels a running statement)",
        kind: Kind::Quit,
    },
];

const INTRO: &str = "\
Statements end with ';' and may span lines. SQL: CREATE DATABASE, CREATE TABLE
(with a PRIMARY KEY), DROP TABLE, CREATE [UNIQUE] INDEX, DROP INDEX,
INSERT INTO ... VALUES / SELECT, UPDATE, DELETE, VACUUM, SELECT, SHOW TABLES,
EXPLAIN [ANALYZE], SET. Column types: TEXT, BIGINT, INT, DOUBLE, REAL, BOOLEAN,
TIMESTAMP, JSON; rules: NOT NULL, DEFAULT, CHECK. The admin operations are
table functions too: SELECT * FROM verify('users') WHERE NOT ok.
Tables are named [database.]table; the default database is main (.use).
Dot-commands also work in scripts and the rc file (~/.dbcordrc).";

/// The text `.help` prints, made from [`COMMANDS`].
pub fn help_text() -> String {
    let mut out = format!("{INTRO}\n\nDot-commands:\n");
    for spec in &COMMANDS {
        let usage = format!("{} {}", spec.names[0], spec.args);
        let aliases = match &spec.names[1..] {
            [] => String::new(),
            more => format!(" (also {})", more.join(", ")),
        };
        out.push_str(&format!("  {:<20} {}{aliases}\n", usage.trim(), spec.help));
    }
    out.trim_end().to_string()
}

impl FromStr for DotCommand {
    type Err = String;

    fn from_str(line: &str) -> Result<Self, String> {
        let mut words = line.trim().trim_end_matches(';').split_whitespace();
        let name = words.next().unwrap_or_default();
        let rest: Vec<&str> = words.collect();
        let arg = rest.first().map(|a| a.to_string());
        let spec = COMMANDS
            .iter()
            .find(|s| s.names.contains(&name))
            .ok_or_else(|| format!("unknown command {name}; .help lists them"))?;
        let need = |what: &str| -> Result<String, String> {
            arg.clone()
                .ok_or_else(|| format!("{} takes {what}", spec.names[0]))
        };
        let switch = || -> Result<bool, String> {
            match arg.as_deref() {
                Some("on") => Ok(true),
                Some("off") => Ok(false),
                _ => Err(format!("{} takes on or off", spec.names[0])),
            }
        };
        Ok(match spec.kind {
            Kind::Help => DotCommand::Help,
            Kind::Databases => DotCommand::Databases,
            Kind::Tables => DotCommand::Tables(arg),
            Kind::Schema => DotCommand::Schema(arg),
            Kind::Indexes => DotCommand::Indexes(arg),
            Kind::Use => DotCommand::Use(need("a database")?),
            Kind::Stats => DotCommand::Stats,
            Kind::Quit => DotCommand::Quit,
            Kind::Timing => DotCommand::Timing(switch()?),
            Kind::Explain => DotCommand::Explain(switch()?),
            Kind::Read => {
                need("a file")?;
                DotCommand::Read(rest.join(" "))
            }
            Kind::Output => match need("a file or stdout")?.as_str() {
                "stdout" => DotCommand::Output(None),
                _ => DotCommand::Output(Some(rest.join(" "))),
            },
            Kind::MaxRows => DotCommand::MaxRows(
                need("a number")?
                    .parse()
                    .map_err(|_| format!("{} takes a number (0: all rows)", spec.names[0]))?,
            ),
            Kind::Admin(_) if rest.is_empty() => {
                return Err(format!("{} takes {}", spec.names[0], spec.args));
            }
            Kind::Admin(op) => DotCommand::Sql(admin_sql(op, &rest)),
            Kind::Format => DotCommand::Format(
                need(spec.args)?
                    .parse()
                    .map_err(|_| format!("{} takes {}", spec.names[0], spec.args))?,
            ),
        })
    }
}

/// `SELECT * FROM op('a', 'b')`, each argument a SQL string (the
/// function reads each as the type it needs).
fn admin_sql(op: AdminOp, args: &[&str]) -> String {
    let args: Vec<String> = args
        .iter()
        .map(|a| format!("'{}'", a.replace('\'', "''")))
        .collect();
    format!("SELECT * FROM {}({})", op.name(), args.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        assert_eq!(
            ".tables shop".parse(),
            Ok(DotCommand::Tables(Some("shop".into())))
        );
        assert_eq!(".format csv".parse(), Ok(DotCommand::Format(Format::Csv)));
        assert!(".format xml".parse::<DotCommand>().is_err());
        assert_eq!(
            ".mode ndjson".parse(),
            Ok(DotCommand::Format(Format::Ndjson))
        );
        assert_eq!(".timing on".parse(), Ok(DotCommand::Timing(true)));
        assert!(".timing maybe".parse::<DotCommand>().is_err());
        assert_eq!(".maxrows 5".parse(), Ok(DotCommand::MaxRows(5)));
        assert_eq!(".output stdout".parse(), Ok(DotCommand::Output(None)));
        assert!(".use".parse::<DotCommand>().is_err());
        assert!(".bogus".parse::<DotCommand>().is_err());
        assert_eq!(
            ".history users u_1".parse(),
            Ok(DotCommand::Sql(
                "SELECT * FROM history('users', 'u_1')".into()
            ))
        );
        assert_eq!(
            ".export t it's.csv".parse(),
            Ok(DotCommand::Sql(
                "SELECT * FROM export('t', 'it''s.csv')".into()
            ))
        );
        assert!(".verify".parse::<DotCommand>().is_err());
    }

    /// Regression: the help was a hand-written string that had drifted from
    /// what the shell accepted.
    #[test]
    fn dot_command_help_lists_exactly_the_commands_the_shell_accepts() {
        let help = help_text();
        for spec in &COMMANDS {
            for name in spec.names {
                assert!(help.contains(name), "{name} missing from the help");
                let line = match spec.kind {
                    Kind::Format => format!("{name} table"),
                    Kind::Timing | Kind::Explain => format!("{name} on"),
                    Kind::MaxRows => format!("{name} 10"),
                    Kind::Admin(_) | Kind::Use | Kind::Read | Kind::Output => format!("{name} t"),
                    _ => name.to_string(),
                };
                assert!(line.parse::<DotCommand>().is_ok(), "{line} is refused");
            }
        }
        let shown: Vec<&str> = help
            .lines()
            .filter_map(|l| l.trim_start().strip_prefix('.'))
            .collect();
        assert_eq!(shown.len(), COMMANDS.len(), "{help}");
    }
}
