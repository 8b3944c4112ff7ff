//! What a commit does to one row, and every way the stored formats write it.
//!
//! One enum, three written forms, each fixed by a format already on
//! Discord:
//! - segments' `_op` column: a byte ([`Op::code`]);
//! - a row commit's lines: a prefix before the row's JSON, nothing for an
//!   insert, `~` for an upsert, `-` for a delete ([`Op::line_prefix`]);
//! - shard references and history archives: a sign, `+`, `~` or `-`
//!   ([`Op::sign`], and the serde form of `Op`).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::value::Value;

/// What a commit does to one row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// A new key: the commit is void if the key was written concurrently.
    Insert,
    /// A new version of an existing row.
    Upsert,
    /// The row is gone (a tombstone until compaction).
    Delete,
}

impl Op {
    /// The byte of a segment's `_op` column.
    pub fn code(self) -> u8 {
        match self {
            Op::Insert => 0,
            Op::Upsert => 1,
            Op::Delete => 2,
        }
    }

    pub fn from_code(code: u8) -> Option<Op> {
        Some(match code {
            0 => Op::Insert,
            1 => Op::Upsert,
            2 => Op::Delete,
            _ => return None,
        })
    }

    /// What comes before a row's JSON on a line of a row commit.
    pub fn line_prefix(self) -> &'static str {
        match self {
            Op::Insert => "",
            Op::Upsert => "~",
            Op::Delete => "-",
        }
    }

    /// A row commit's line split into its operation and its JSON.
    pub fn split_line(line: &str) -> (Op, &str) {
        match line.as_bytes().first() {
            Some(b'~') => (Op::Upsert, &line[1..]),
            Some(b'-') => (Op::Delete, &line[1..]),
            _ => (Op::Insert, line),
        }
    }

    /// The sign shard references and history archives write.
    pub fn sign(self) -> &'static str {
        match self {
            Op::Insert => "+",
            Op::Upsert => "~",
            Op::Delete => "-",
        }
    }

    pub fn from_sign(sign: &str) -> Option<Op> {
        [Op::Insert, Op::Upsert, Op::Delete]
            .into_iter()
            .find(|op| op.sign() == sign)
    }
}

/// One row change: for a delete, only the key columns are set.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    pub op: Op,
    pub values: Vec<Value>,
}

impl Change {
    /// An INSERT of each row.
    pub fn inserts(rows: Vec<Vec<Value>>) -> Vec<Change> {
        rows.into_iter()
            .map(|values| Change {
                op: Op::Insert,
                values,
            })
            .collect()
    }
}

impl Serialize for Op {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.sign())
    }
}

impl<'de> Deserialize<'de> for Op {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let sign = String::deserialize(d)?;
        Op::from_sign(&sign)
            .ok_or_else(|| serde::de::Error::custom(format!("{sign:?} is not +, ~ or -")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_reads_back_and_nothing_else_does() {
        for op in [Op::Insert, Op::Upsert, Op::Delete] {
            assert_eq!(Op::from_code(op.code()), Some(op));
            assert_eq!(Op::from_sign(op.sign()), Some(op));
            let line = format!("{}{{}}", op.line_prefix());
            assert_eq!(Op::split_line(&line), (op, "{}"));
            let json = serde_json::to_string(&op).unwrap();
            assert_eq!(serde_json::from_str::<Op>(&json).unwrap(), op);
        }
        assert_eq!(Op::from_code(3), None);
        assert!(serde_json::from_str::<Op>("\"*\"").is_err());
    }
}
