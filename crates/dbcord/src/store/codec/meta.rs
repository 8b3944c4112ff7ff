//! A commit's metadata on its marker line: the snapshot its writer read
//! (`base`), the statement's ID (`txn`), whether it is one table's part of
//! a transaction over several (`part`), and the CRC-32 of its text (`sum`).

use discord_api::Snowflake;

/// Who wrote a commit and from which snapshot.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CommitMeta {
    /// The newest message of the channel the writer had read; `None` for
    /// rows of the first format, which knew no concurrency.
    pub base: Option<Snowflake>,
    /// The statement's ID, to recognise its commit after a cancellation;
    /// a transaction's ID for a part.
    pub txn: Option<String>,
    /// One table's part of a transaction over several tables: it counts
    /// only once the transaction's commit point says so (see `txn`).
    pub part: bool,
}

impl CommitMeta {
    /// ` base <id> txn <txn> sum <crc>`, for a marker line; `sum` is the
    /// CRC-32 of `body`, everything after the marker line.
    pub(crate) fn words(&self, body: &str) -> String {
        let mut out = String::new();
        if let Some(b) = self.base {
            out.push_str(&format!(" base {b}"));
        }
        if let Some(t) = &self.txn {
            out.push_str(&format!(" txn {t}"));
        }
        if self.part {
            out.push_str(" part");
        }
        out.push_str(&format!(" sum {:08x}", crc32fast::hash(body.as_bytes())));
        out
    }

    /// Read `base` and `txn` from the words of a marker line, and check
    /// `sum` against `body`: a commit Discord altered is not a commit.
    pub(crate) fn parse<'a>(
        words: impl Iterator<Item = &'a str>,
        body: &str,
    ) -> Result<CommitMeta, NotACommit> {
        let mut meta = CommitMeta::default();
        let mut words = words.peekable();
        while let Some(w) = words.next() {
            match w {
                "base" => meta.base = words.next().and_then(|b| b.parse().ok()),
                "txn" => meta.txn = words.next().map(str::to_string),
                "part" => meta.part = true,
                "sum" => {
                    let want = words.next().and_then(|s| u32::from_str_radix(s, 16).ok());
                    if want != Some(crc32fast::hash(body.as_bytes())) {
                        return Err(NotACommit("its checksum does not match its text".into()));
                    }
                }
                _ => {}
            }
        }
        Ok(meta)
    }
}

/// Why a message is not a commit of this table.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct NotACommit(pub String);
