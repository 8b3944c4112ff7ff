//! The shell's dot-commands.

use std::str::FromStr;

use super::args::Format;

pub const HELP: &str = "\
Statements end with ';' and may span lines. SQL: CREATE DATABASE, CREATE TABLE
(with a PRIMARY KEY), DROP TABLE, INSERT INTO ... VALUES / SELECT, SELECT, SHOW
TABLES, EXPLAIN [ANALYZE], SET. Tables are named [database.]table; the default
database is main.

Dot-commands:
  .help              this text
  .databases         list databases (Discord categories)
  .tables [db]       list tables (Discord channels) of a database
  .stats             what this session has cost on Discord so far
  .format table|csv  how result sets are printed
  .quit / .exit      leave (Ctrl-D works too; Ctrl-C cancels a running query)";

/// A line starting with '.'.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DotCommand {
    Help,
    Databases,
    Tables(Option<String>),
    Stats,
    Format(Format),
    Quit,
}

impl FromStr for DotCommand {
    type Err = String;

    fn from_str(line: &str) -> Result<Self, String> {
        let mut words = line.trim().trim_end_matches(';').split_whitespace();
        let cmd = words.next().unwrap_or_default();
        let arg = words.next().map(str::to_string);
        Ok(match cmd {
            ".help" | ".h" | ".?" => DotCommand::Help,
            ".databases" => DotCommand::Databases,
            ".tables" => DotCommand::Tables(arg),
            ".stats" => DotCommand::Stats,
            ".quit" | ".exit" | ".q" => DotCommand::Quit,
            ".format" => match arg.as_deref() {
                Some("table") => DotCommand::Format(Format::Table),
                Some("csv") => DotCommand::Format(Format::Csv),
                _ => return Err(".format takes table or csv".into()),
            },
            other => return Err(format!("unknown command {other}; .help lists them")),
        })
    }
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
        assert!(".bogus".parse::<DotCommand>().is_err());
    }
}
