//! Cutting a script into its pieces: SQL statements and dot-commands, each
//! with the line it starts on.
//!
//! A statement ends at a `;` outside quotes and comments, as SQL's own
//! tokenizer sees it (sqlparser's, the one DataFusion parses with), so a
//! `;` in a string, a comment or a quoted name does not end it. A line that
//! starts with `.` between statements is a dot-command. The shell's
//! validator asks the same question: is what was typed complete?

use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};

/// One piece of a script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece {
    /// SQL text up to and including its `;` (or the end of the script).
    Sql { text: String, line: usize },
    /// A dot-command line.
    Dot { text: String, line: usize },
}

/// The pieces of `text`, in order. Lines count from 1.
pub fn pieces(text: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut buffer = String::new();
    let mut start = 0;
    for (i, line) in text.lines().enumerate() {
        if is_blank(&buffer) && line.trim_start().starts_with('.') {
            buffer.clear();
            out.push(Piece::Dot {
                text: line.trim().to_string(),
                line: i + 1,
            });
            continue;
        }
        if is_blank(&buffer) {
            buffer.clear();
            start = i + 1;
        }
        buffer.push_str(line);
        buffer.push('\n');
        if complete(&buffer) {
            out.push(Piece::Sql {
                text: std::mem::take(&mut buffer),
                line: start,
            });
        }
    }
    if !is_blank(&buffer) {
        out.push(Piece::Sql {
            text: buffer,
            line: start,
        });
    }
    out
}

/// Whether SQL text ends with a `;` that ends a statement (not one in a
/// string or comment, and not inside an unclosed one).
pub fn complete(sql: &str) -> bool {
    match Tokenizer::new(&GenericDialect {}, sql).tokenize() {
        Ok(tokens) => tokens
            .iter()
            .rev()
            .find(|t| !matches!(t, Token::Whitespace(_)))
            .is_some_and(|t| *t == Token::SemiColon),
        Err(_) => false, // an unclosed string or comment: more to come
    }
}

/// Whether SQL text holds nothing but whitespace and comments.
fn is_blank(sql: &str) -> bool {
    match Tokenizer::new(&GenericDialect {}, sql).tokenize() {
        Ok(tokens) => tokens.iter().all(|t| matches!(t, Token::Whitespace(_))),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<(char, usize)> {
        pieces(text)
            .iter()
            .map(|p| match p {
                Piece::Sql { line, .. } => ('s', *line),
                Piece::Dot { line, .. } => ('.', *line),
            })
            .collect()
    }

    #[test]
    fn statements_end_at_a_semicolon_outside_strings_and_comments() {
        let script = "-- a comment; not an end\n\
                      SELECT 'a;b'\n\
                      ,  /* ; */ 2;\n\
                      .timing on\n\
                      \n\
                      SELECT \"x;y\" FROM t; SELECT 3;\n\
                      SELECT 4";
        assert_eq!(lines(script), [('s', 2), ('.', 4), ('s', 6), ('s', 7)]);
        let Piece::Sql { text, .. } = &pieces(script)[0] else {
            panic!()
        };
        assert!(text.contains("'a;b'") && text.trim_end().ends_with("2;"));
    }

    #[test]
    fn an_open_string_or_comment_is_incomplete() {
        assert!(!complete("SELECT 'a;"));
        assert!(!complete("SELECT 1 /* ;"));
        assert!(!complete("SELECT 1 -- ;"));
        assert!(complete("SELECT 1; -- done\n"));
        assert!(complete("SELECT ';';"));
    }

    #[test]
    fn a_dot_inside_a_statement_is_sql() {
        assert_eq!(lines("SELECT\n.5;\n"), [('s', 1)]);
    }
}
