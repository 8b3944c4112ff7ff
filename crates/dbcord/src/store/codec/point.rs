//! A transaction's commit point: the one message, in the guild's
//! `#dbc-transactions` channel, whose existence decides that every part of
//! a transaction over several tables counts (see `store::txn`).
//!
//! ```text
//! dbcpoint txn <id> sum <crc32>
//! part <table channel> <part message>
//! part <table channel> <part message>
//! ```
//!
//! A committer that finds one of its parts lost posts `dbcpoint txn <id>
//! abort sum <crc32>` instead: the transaction will never commit, so
//! readers need not wait out its deadline before writing over its parts.
//!
//! The parts are listed so that the point explains itself (verify, inspect
//! and vacuum read them); readers only need the transaction's ID.

use discord_api::Snowflake;

/// The first word of a commit point.
pub const POINT_MARKER: &str = "dbcpoint";

/// A commit point as read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Point {
    pub txn: String,
    /// The transaction gave up: its parts never count.
    pub aborted: bool,
    /// (table channel, part message), one per table.
    pub parts: Vec<(Snowflake, Snowflake)>,
}

impl Point {
    /// The message text.
    pub fn encode(&self) -> String {
        let body: String = self
            .parts
            .iter()
            .map(|(c, m)| format!("\npart {c} {m}"))
            .collect();
        let sum = crc32fast::hash(body.as_bytes());
        let abort = if self.aborted { " abort" } else { "" };
        format!("{POINT_MARKER} txn {}{abort} sum {sum:08x}{body}", self.txn)
    }

    /// The point a message holds, if it is one (and unaltered).
    pub fn decode(content: &str) -> Option<Point> {
        let (head, body) = match content.find('\n') {
            Some(i) => (&content[..i], &content[i..]),
            None => (content, ""),
        };
        let mut words = head.split(' ');
        if words.next() != Some(POINT_MARKER) || words.next() != Some("txn") {
            return None;
        }
        let txn = words.next()?.to_string();
        let mut word = words.next();
        let aborted = word == Some("abort");
        if aborted {
            word = words.next();
        }
        if word != Some("sum") {
            return None;
        }
        let sum = u32::from_str_radix(words.next()?, 16).ok()?;
        if sum != crc32fast::hash(body.as_bytes()) {
            return None;
        }
        let parts = body
            .lines()
            .filter(|l| !l.is_empty())
            .map(|l| {
                let mut w = l.split(' ');
                (w.next() == Some("part")).then_some(())?;
                let channel = w.next()?.parse().ok()?;
                let message = w.next()?.parse().ok()?;
                Some((channel, message))
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Point {
            txn,
            aborted,
            parts,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_point_reads_back_and_an_altered_one_does_not() {
        let abort = Point {
            txn: "t2".into(),
            aborted: true,
            parts: Vec::new(),
        };
        assert_eq!(Point::decode(&abort.encode()), Some(abort));
        let p = Point {
            txn: "t1".into(),
            aborted: false,
            parts: vec![
                (Snowflake(10), Snowflake(11)),
                (Snowflake(20), Snowflake(21)),
            ],
        };
        let text = p.encode();
        assert_eq!(Point::decode(&text), Some(p));
        assert_eq!(Point::decode(&text.replace("21", "22")), None);
        assert_eq!(Point::decode("dbcpoint txn"), None);
        assert_eq!(Point::decode("hello"), None);
    }
}
