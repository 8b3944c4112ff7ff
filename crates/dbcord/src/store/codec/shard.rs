//! Storcord's shards: a row too large for one message, kept as readable
//! text across several messages (tables made `WITH (large_rows = 'shards')`).
//!
//! ```text
//! dbcshard qhxkzpwmfaqrtlb _type=shard _shard=2/28 _range=1800-3600 of 50012 sum 5c1e09a4
//! ...1800 characters of the row's JSON...
//! ```
//!
//! Each shard carries the row's key token (so a search for the key finds
//! every shard, and from any shard the others), its place (`_shard`), the
//! characters of the row it holds (`_range`) and a CRC-32 of them. The
//! shards are posted first; the statement's commit then names them in a
//! line of its own, `*{"op":"+","key":{...},"shards":[ids],"len":..,"sum":..}`
//! (`op` is `+` for an insert, `~` for an upsert; see [`super::op`]),
//! so a row whose commit was never posted has shards no commit names
//! (leftovers that vacuum deletes), and a committed row is whole.

use discord_api::Snowflake;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

use super::ascii_json;
use super::op::Op;

pub const SHARD_MARKER: &str = "dbcshard";
/// Characters of row text one shard carries (with its marker line, well
/// within Discord's 2,000).
pub const SHARD_CHARS: usize = 1800;
/// A row whose text is longer than this is sharded (in a shards table).
pub const SHARD_OVER: usize = 1500;

/// A message ID of as many digits as Discord's IDs will have for a
/// century: a commit measured with it in place of the shards' real IDs is
/// never shorter than the commit that names them.
pub const LONGEST_ID: Snowflake = Snowflake(9_999_999_999_999_999_999);

/// A row stored in shards, as its commit names it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShardRef {
    /// An insert (`+`) or an upsert (`~`); a delete has no row to shard.
    pub op: Op,
    /// The key columns, by stored name.
    pub key: Map<String, Json>,
    /// The shard messages, in order.
    pub shards: Vec<Snowflake>,
    /// Characters of the row's text, and their CRC-32.
    pub len: usize,
    pub sum: String,
}

impl ShardRef {
    /// The commit line naming the shards.
    pub fn line(&self) -> String {
        format!("*{}", ascii_json::to_string(self))
    }

    /// The reference a commit line starting with `*` holds; an error says
    /// why the line is no reference (an ID that is no number, a delete).
    pub fn parse(line: &str) -> Option<Result<ShardRef, String>> {
        let json = line.strip_prefix('*')?;
        Some(match serde_json::from_str::<ShardRef>(json) {
            Ok(r) if r.op == Op::Delete => Err("a shard reference of a delete".into()),
            Ok(r) => Ok(r),
            Err(e) => Err(format!("a shard reference is unreadable: {e}")),
        })
    }

    /// The row's text from its shards' contents, in order, checked.
    pub fn join(&self, contents: &[String]) -> Result<String, String> {
        let mut text = String::with_capacity(self.len);
        for (i, c) in contents.iter().enumerate() {
            let (n, of, chunk) = parse_shard(c)
                .ok_or_else(|| format!("shard {} of {} is damaged", i + 1, self.shards.len()))?;
            if n != i + 1 || of != self.shards.len() {
                return Err(format!("shard {} says it is {n} of {of}", i + 1));
            }
            text.push_str(chunk);
        }
        if text.len() != self.len || checksum(&text) != self.sum {
            return Err("the shards do not add up to the row their commit names".into());
        }
        Ok(text)
    }
}

/// CRC-32 of text, as shards and their commits write it.
pub fn checksum(text: &str) -> String {
    format!("{:08x}", crc32fast::hash(text.as_bytes()))
}

/// The shard messages of a row's text (ASCII JSON, so one byte a character).
pub fn contents(text: &str, key_token: &str) -> Vec<String> {
    let chunks: Vec<&str> = text
        .as_bytes()
        .chunks(SHARD_CHARS)
        .map(|c| std::str::from_utf8(c).expect("row text is ASCII"))
        .collect();
    let n = chunks.len();
    let mut at = 0;
    chunks
        .iter()
        .enumerate()
        .map(|(i, chunk)| {
            let end = at + chunk.len();
            let content = format!(
                "{SHARD_MARKER} {key_token} _type=shard _shard={}/{n} _range={at}-{end} of {} sum {}\n{chunk}",
                i + 1,
                text.len(),
                checksum(chunk)
            );
            at = end;
            content
        })
        .collect()
}

/// (place, count, text) of a shard message, if it is one and whole.
pub fn parse_shard(content: &str) -> Option<(usize, usize, &str)> {
    let (head, chunk) = content.split_once('\n')?;
    let mut words = head.split(' ');
    if words.next()? != SHARD_MARKER {
        return None;
    }
    let words: Vec<&str> = words.collect();
    let place = words.iter().find_map(|w| w.strip_prefix("_shard="))?;
    let (n, of) = place.split_once('/')?;
    let sum = words
        .iter()
        .position(|w| *w == "sum")
        .and_then(|i| words.get(i + 1))?;
    if checksum(chunk) != *sum {
        return None;
    }
    Some((n.parse().ok()?, of.parse().ok()?, chunk))
}

/// Whether a message's content is a shard (whole or not).
pub fn is_shard(content: &str) -> bool {
    content.starts_with(SHARD_MARKER)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_join_back_to_the_row_and_refuse_damage() {
        let text: String = (0..5000).map(|i| format!("{},", i % 10)).collect();
        let parts = contents(&text, "qtoken");
        assert_eq!(parts.len(), text.len().div_ceil(SHARD_CHARS));
        assert!(parts.iter().all(|p| p.len() <= 2000));
        assert!(parts[1].starts_with("dbcshard qtoken _type=shard _shard=2/"));
        let r = ShardRef {
            op: Op::Insert,
            key: Map::new(),
            shards: (0..parts.len() as u64).map(Snowflake).collect(),
            len: text.len(),
            sum: checksum(&text),
        };
        assert_eq!(r.join(&parts).unwrap(), text);
        assert_eq!(ShardRef::parse(&r.line()), Some(Ok(r.clone())));
        let bad_id = r.line().replace("\"1\"", "\"one\"");
        assert!(ShardRef::parse(&bad_id).unwrap().is_err(), "{bad_id}");
        assert!(ShardRef::parse("{}").is_none(), "no star, no reference");
        let mut damaged = parts.clone();
        damaged[1] = damaged[1].replace("5,", "6,");
        assert!(r.join(&damaged).is_err());
        let mut swapped = parts.clone();
        swapped.swap(0, 1);
        assert!(r.join(&swapped).is_err());
    }
}
