//! Commit messages: every message dbcord writes into a table's channel is
//! one commit, a statement's whole effect, visible at once or not at all.
//!
//! A small commit is a readable row message (the seeds' model):
//!
//! ```text
//! dbcrow qhxkzpwmfaqrtlb qbnvuzeoyqfcmha base 1300000000000000123 txn 19a3f2c07e1d0b2 sum 5c1e09a4
//! {"id":"u_1","email":"a@example.com","age":31}
//! ~{"id":"u_2","email":"b@example.com","age":40}
//! -{"id":"u_3"}
//! ```
//!
//! Line 1: the marker, the search tokens of every row (see
//! [`super::token`]), then `base` (the newest message the writer had read:
//! the snapshot its statement saw), `txn` (the statement's own ID) and
//! `sum` (a CRC-32 of the lines below: a message whose text Discord
//! changed is not read as a commit).
//! Nothing before the tokens holds a digit. Each further line is one row
//! change in ASCII JSON: a bare object inserts a new row, `~` writes a new
//! version of an existing one, `-` deletes one (its key columns only).
//! Rows of the first format (`dbc1`, one insert, no base) read the same.
//!
//! A large commit is a segment (see [`super::segment`]): `dbcseg base ...
//! txn ...`, then a JSON header with the segment's statistics and the byte
//! directory of its attachments.

use std::collections::HashMap;

use discord_api::discord_len;
use discord_api::limits::MAX_CONTENT_LEN;
use serde_json::{Map, Value as Json};

use super::manifest::{DirHeader, MANIFEST_MARKER, STAGED_COMMIT_MARKER};
use super::meta::{CommitMeta, NotACommit};
use super::op::{Change, Op};
use super::row::{
    ROW_MARKER, ROW_MARKER_V1, composite_key_token, decode_json, decode_object, row_json,
    row_tokens,
};
use super::shard::ShardRef;
use super::token::token;
use super::value::Value;
use crate::error::Result;
use crate::store::schema::TableDef;

pub const SEGMENT_MARKER: &str = "dbcseg";

/// The content of a row commit, or `None` if it does not fit in one message.
pub fn encode_rows(
    def: &TableDef,
    changes: &[Change],
    meta: &CommitMeta,
) -> Result<Option<String>> {
    encode_rows_sharded(def, changes, meta, &HashMap::new())
}

/// [`encode_rows`], where the changes at the positions of `sharded` are
/// written as the lines that name their shards.
pub fn encode_rows_sharded(
    def: &TableDef,
    changes: &[Change],
    meta: &CommitMeta,
    sharded: &HashMap<usize, ShardRef>,
) -> Result<Option<String>> {
    let mut tokens: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut lines = Vec::with_capacity(changes.len());
    // Stop as soon as the text is too long: a large statement becomes a
    // segment, and encoding all of it here would be wasted work.
    let mut len = 0;
    for (i, c) in changes.iter().enumerate() {
        let (json, row_tokens) = match (c.op, sharded.get(&i)) {
            (_, Some(r)) => (r.line(), key_tokens(def, &c.values)),
            (Op::Delete, None) => (key_json(def, &c.values), key_tokens(def, &c.values)),
            _ => (row_json(def, &c.values, i + 1)?, row_tokens(def, &c.values)),
        };
        for t in row_tokens {
            if seen.insert(t.clone()) {
                len += t.len() + 1;
                tokens.push(t);
            }
        }
        len += json.len() + 2;
        if len > MAX_CONTENT_LEN {
            return Ok(None);
        }
        if sharded.contains_key(&i) {
            lines.push(json);
            continue;
        }
        lines.push(format!("{}{json}", c.op.line_prefix()));
    }
    let body = lines.join("\n");
    let content = format!(
        "{ROW_MARKER} {}{}\n{body}",
        tokens.join(" "),
        meta.words(&body)
    );
    Ok((discord_len(&content) <= MAX_CONTENT_LEN).then_some(content))
}

/// The key columns of a row as a JSON object.
pub fn key_json(def: &TableDef, values: &[Value]) -> String {
    let mut obj = Map::new();
    for k in &def.primary_key {
        if let Some(i) = def.column_index(k)
            && let Some(j) = values[i].to_json(def.columns[i].ty)
        {
            obj.insert(def.columns[i].stored().to_string(), j);
        }
    }
    super::ascii_json::to_string(&Json::Object(obj))
}

/// The tokens that find a row by its key: each key cell's, and the
/// composite key's own.
pub fn key_tokens(def: &TableDef, values: &[Value]) -> Vec<String> {
    let mut out: Vec<String> = def
        .primary_key
        .iter()
        .filter_map(|k| def.column_index(k))
        .filter_map(|i| token(def.columns[i].stored(), &values[i]))
        .collect();
    if def.primary_key.len() > 1 {
        out.extend(composite_key_token(def, values));
    }
    out
}

/// The content of a segment commit whose header is `header_json`.
pub fn segment_content(header_json: &str, meta: &CommitMeta) -> String {
    segment_content_with_tokens(header_json, meta, &[])
}

/// [`segment_content`] with search tokens on the marker line (the keys of
/// a segment of few rows, so that a search for a key finds its message).
pub fn segment_content_with_tokens(
    header_json: &str,
    meta: &CommitMeta,
    tokens: &[String],
) -> String {
    let tokens: String = tokens.iter().map(|t| format!(" {t}")).collect();
    format!(
        "{SEGMENT_MARKER}{tokens}{}\n{header_json}",
        meta.words(header_json)
    )
}

/// Which row (1-based) and what of it Discord changed, comparing a row
/// commit's content with its echo.
pub fn altered(def: &TableDef, sent: &str, echoed: &str) -> (usize, String) {
    // The bodies, past the marker line: the echo's checksum no longer
    // matches, which is the point.
    let rows = |s: &str| changes(def, s.split_once('\n')?.1).ok().map(|(c, _)| c);
    let (Some(a), Some(b)) = (rows(sent), rows(echoed)) else {
        return (1, "the row's text".to_string());
    };
    for (n, (x, y)) in a.iter().zip(&b).enumerate() {
        if let Some((c, _)) = def
            .columns
            .iter()
            .zip(x.values.iter().zip(&y.values))
            .find(|(_, (u, v))| u != v)
        {
            return (n + 1, format!("column \"{}\"", c.name));
        }
    }
    (1, "the search tokens".to_string())
}

/// What a row or segment message holds, before its attachments are read.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// The changes, and the rows among them kept in shards: those changes
    /// hold only their key until the shards are read.
    Rows(Vec<Change>, Vec<ShardRef>),
    Segment(String),
    /// A manifest's or staged commit's header (see [`super::manifest`]).
    Directory(DirHeader),
}

/// Decode a commit message's content: its metadata and its body.
pub fn decode(def: &TableDef, content: &str) -> Result<(CommitMeta, Body), NotACommit> {
    let (first, rest) = content
        .split_once('\n')
        .ok_or_else(|| NotACommit("no commit marker".into()))?;
    let mut words = first.split(' ');
    match words.next() {
        Some(ROW_MARKER_V1) => {
            let values = decode_json(def, rest).map_err(|e| NotACommit(e.0))?;
            let change = Change {
                op: Op::Insert,
                values,
            };
            Ok((CommitMeta::default(), Body::Rows(vec![change], Vec::new())))
        }
        Some(ROW_MARKER) => {
            let meta = CommitMeta::parse(words, rest)?;
            let (changes, sharded) = changes(def, rest)?;
            Ok((meta, Body::Rows(changes, sharded)))
        }
        Some(SEGMENT_MARKER) => Ok((
            CommitMeta::parse(words, rest)?,
            Body::Segment(rest.to_string()),
        )),
        Some(MANIFEST_MARKER | STAGED_COMMIT_MARKER) => {
            let meta = CommitMeta::parse(words, rest)?;
            let header = serde_json::from_str(rest)
                .map_err(|e| NotACommit(format!("its directory header is unreadable: {e}")))?;
            Ok((meta, Body::Directory(header)))
        }
        _ => Err(NotACommit("no commit marker".into())),
    }
}

fn changes(def: &TableDef, lines: &str) -> Result<(Vec<Change>, Vec<ShardRef>), NotACommit> {
    let mut sharded = Vec::new();
    let changes = lines
        .lines()
        .map(|line| {
            if let Some(r) = ShardRef::parse(line) {
                let r = r.map_err(NotACommit)?;
                let values = decode_object(def, &r.key).map_err(|e| NotACommit(e.0))?;
                let change = Change { op: r.op, values };
                sharded.push(r);
                return Ok(change);
            }
            let (op, json) = Op::split_line(line);
            let values = decode_json(def, json).map_err(|e| NotACommit(e.0))?;
            Ok(Change { op, values })
        })
        .collect::<Result<Vec<_>, NotACommit>>()?;
    Ok((changes, sharded))
}

#[cfg(test)]
mod tests {
    use discord_api::Snowflake;

    use super::*;
    use crate::store::schema::{ColumnType, test_table};

    fn def() -> TableDef {
        test_table("t", &[("id", ColumnType::Text), ("n", ColumnType::BigInt)])
    }

    #[test]
    fn a_row_commit_round_trips_with_its_snapshot_and_ops() {
        let d = def();
        let changes = vec![
            Change {
                op: Op::Insert,
                values: vec![Value::Text("a".into()), Value::Int(1)],
            },
            Change {
                op: Op::Upsert,
                values: vec![Value::Text("b".into()), Value::Int(2)],
            },
            Change {
                op: Op::Delete,
                values: vec![Value::Text("c".into()), Value::Null],
            },
        ];
        let meta = CommitMeta {
            base: Some(Snowflake(77)),
            txn: Some("abc".into()),
            ..Default::default()
        };
        let content = encode_rows(&d, &changes, &meta).unwrap().unwrap();
        let head = content.lines().next().unwrap();
        assert!(
            head.starts_with("dbcrow q") && head.contains(" base 77 txn abc sum "),
            "{head}"
        );
        assert_eq!(
            decode(&d, &content).unwrap(),
            (meta, Body::Rows(changes, Vec::new()))
        );
        let altered = content.replace("\"b\"", "\"B\"");
        let e = decode(&d, &altered).unwrap_err();
        assert!(e.0.contains("checksum"), "{e}");
    }

    #[test]
    fn a_first_format_row_is_an_insert_without_a_snapshot() {
        let (meta, body) = decode(&def(), "dbc1 qabc\n{\"id\":\"a\",\"n\":1}").unwrap();
        assert_eq!(meta, CommitMeta::default());
        assert_eq!(
            body,
            Body::Rows(
                vec![Change {
                    op: Op::Insert,
                    values: vec![Value::Text("a".into()), Value::Int(1)]
                }],
                Vec::new()
            )
        );
        assert!(decode(&def(), "hello").is_err());
    }
}
