//! Directories of staged segments: manifests (a table's folded state) and
//! staged commits (a statement larger than one message).
//!
//! A segment too large to describe itself in a commit's 2,000 characters,
//! or one of many, is *staged*: posted first as a message of its own,
//!
//! ```text
//! dbcpart txn 19a3f2c07e1d0b2 since 1767225600000
//! {"table":"main.users","rows":8192,"keys":["01800000000000000001","01800000000000002000"]}
//! ```
//!
//! (the stage's ID and when it began: vacuum leaves a stage still being
//! written alone), its rows in the attachments. It counts only once a
//! directory names it. A *manifest* is the table's checkpoint, a commit like
//! any other:
//!
//! ```text
//! dbcman base 1300000000000000123 txn 19a3f2c07e1d0b3 sum 5c1e09a4
//! {"covers":"1300000000000000123","rows":10000000,"segments":57,"runs":1}
//! ```
//!
//! with its directory inline (`"dir"`) when it fits, else as the attachment
//! `manifest.json`. The directory lists sorted runs, newest first: each a
//! list of segments in key order with disjoint key ranges (and, per index,
//! a run of covering index segments in (value, key) order, kept in the
//! index's own channel), each segment with its message, statistics and
//! batch directories. A *staged commit* (`dbcset`) is the same for one
//! statement's rows. So a reader needs the manifest and the commits after
//! it, nothing more, whatever the table's size; what no directory names is
//! garbage that readers never read and vacuum removes.

use std::collections::BTreeMap;

use discord_api::limits::MAX_CONTENT_LEN;
use discord_api::{NewFile, Snowflake, discord_len};
use serde::{Deserialize, Serialize};

use super::ascii_json;
use super::meta::CommitMeta;
use super::segment::SegmentHeader;

pub const MANIFEST_MARKER: &str = "dbcman";
pub const STAGED_COMMIT_MARKER: &str = "dbcset";
pub const STAGED_MARKER: &str = "dbcpart";
/// The attachment a directory too large for the message's text goes in.
pub const DIRECTORY_FILE: &str = "manifest.json";

/// A staged segment, as a directory names it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Part {
    /// The message that holds its files.
    #[serde(rename = "m")]
    pub message: Snowflake,
    /// Its channel, when not the table's (an index segment's is the index's).
    #[serde(rename = "c", default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Snowflake>,
    #[serde(rename = "h")]
    pub header: SegmentHeader,
}

/// A sorted run: segments in key order, their key ranges disjoint.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunDir {
    /// 0 for a run folded from commits, 1 for the bottom run they merge into.
    pub level: u8,
    pub segments: Vec<Part>,
    /// Per index, the run's rows again as covering index segments, in
    /// (value, key) order; an index missing here is read from the
    /// segments' own index files, or from their rows.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub indexes: BTreeMap<String, Vec<Part>>,
}

impl RunDir {
    /// Data bytes of the run's segments.
    pub fn bytes(&self) -> u64 {
        self.segments.iter().map(|p| p.header.data.bytes()).sum()
    }
}

/// The runs of a manifest (newest first) or of a staged commit.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Directory {
    pub runs: Vec<RunDir>,
}

impl Directory {
    /// Every staged message the directory names, data and index segments.
    pub fn parts(&self) -> impl Iterator<Item = &Part> {
        self.runs
            .iter()
            .flat_map(|r| r.segments.iter().chain(r.indexes.values().flatten()))
    }
}

/// What a manifest's or staged commit's content says.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DirHeader {
    /// A manifest: everything up to and including this message is folded
    /// into it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub covers: Option<Snowflake>,
    /// Rows and tombstones its segments hold.
    pub rows: u64,
    #[serde(default)]
    pub deletes: u64,
    pub segments: usize,
    pub runs: usize,
    /// The directory, when it fits in the message's text; else it is the
    /// attachment [`DIRECTORY_FILE`], whose CRC-32 is `file_sum`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dir: Option<Directory>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_sum: Option<String>,
}

impl DirHeader {
    pub fn of(dir: Directory, covers: Option<Snowflake>) -> DirHeader {
        let segs = dir.runs.iter().flat_map(|r| &r.segments);
        DirHeader {
            covers,
            rows: segs.clone().map(|p| p.header.rows).sum(),
            deletes: segs.clone().map(|p| p.header.deletes).sum(),
            segments: segs.count(),
            runs: dir.runs.len(),
            dir: Some(dir),
            file_sum: None,
        }
    }
}

/// The content of a manifest (with `covers`) or a staged commit, and the
/// attachment that holds its directory when the content cannot.
pub fn directory_message(header: &DirHeader, meta: &CommitMeta) -> (String, Option<NewFile>) {
    let marker = match header.covers {
        Some(_) => MANIFEST_MARKER,
        None => STAGED_COMMIT_MARKER,
    };
    let content = |h: &DirHeader| {
        let json = ascii_json::to_string(h);
        format!("{marker}{}\n{json}", meta.words(&json))
    };
    let inline = content(header);
    if discord_len(&inline) <= MAX_CONTENT_LEN {
        return (inline, None);
    }
    let dir = header.dir.as_ref().map(ascii_json::to_string);
    let bytes = dir.unwrap_or_default().into_bytes();
    let short = DirHeader {
        dir: None,
        file_sum: Some(format!("{:08x}", crc32fast::hash(&bytes))),
        ..header.clone()
    };
    let file = NewFile {
        filename: DIRECTORY_FILE.into(),
        bytes,
    };
    (content(&short), Some(file))
}

/// The directory in a manifest's or staged commit's attachment, checked
/// against the CRC-32 its header names.
pub fn read_directory(header: &DirHeader, bytes: &[u8]) -> Result<Directory, String> {
    let sum = format!("{:08x}", crc32fast::hash(bytes));
    if header.file_sum.as_deref() != Some(sum.as_str()) {
        return Err(format!(
            "its directory has checksum {sum}, the header says {}",
            header.file_sum.as_deref().unwrap_or("none")
        ));
    }
    serde_json::from_slice(bytes).map_err(|e| format!("its directory is unreadable: {e}"))
}

/// Who staged a segment, and since when (Unix ms): a stage younger than
/// `timing::STAGE_GRACE` may still be named by the commit or manifest it
/// was staged for.
#[derive(Clone, Debug, PartialEq)]
pub struct Stage {
    pub txn: String,
    pub since_ms: u64,
}

/// The content of a staged segment's message.
pub fn staged_content(stage: &Stage, table: &str, header: &SegmentHeader) -> String {
    let about = serde_json::json!({
        "table": table,
        "rows": header.rows,
        "keys": [&header.keys.0, &header.keys.1],
    });
    let text = format!(
        "{STAGED_MARKER} txn {} since {}\n{}",
        stage.txn,
        stage.since_ms,
        ascii_json::to_string(&about)
    );
    // Long keys are bounded to 48 bytes in headers, so this always fits;
    // if a table's name made it not, the summary is what gives way.
    if discord_len(&text) <= MAX_CONTENT_LEN {
        text
    } else {
        format!("{STAGED_MARKER} txn {} since {}", stage.txn, stage.since_ms)
    }
}

/// The stage a staged segment's content names, if it is one.
pub fn parse_staged(content: &str) -> Option<Stage> {
    let first = content.lines().next()?;
    let mut words = first.split(' ');
    if words.next()? != STAGED_MARKER {
        return None;
    }
    let mut stage = Stage {
        txn: String::new(),
        since_ms: 0,
    };
    while let Some(w) = words.next() {
        match w {
            "txn" => stage.txn = words.next()?.to_string(),
            "since" => stage.since_ms = words.next()?.parse().ok()?,
            _ => {}
        }
    }
    Some(stage)
}

/// Whether a message's content is a staged segment's.
pub fn is_staged(content: &str) -> bool {
    content.starts_with(STAGED_MARKER)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::codec::segment::FileDir;

    fn part(m: u64) -> Part {
        Part {
            message: Snowflake(m),
            channel: None,
            header: SegmentHeader {
                rows: 10,
                deletes: 1,
                covers: None,
                keys: ("00".into(), "ff".into()),
                stats: BTreeMap::new(),
                data: FileDir {
                    file: 0,
                    batches: Vec::new(),
                    parts: None,
                    covering: false,
                },
                indexes: BTreeMap::new(),
                cols: None,
            },
        }
    }

    #[test]
    fn a_large_directory_goes_in_an_attachment_and_reads_back() {
        let meta = CommitMeta {
            base: Some(Snowflake(5)),
            txn: Some("t".into()),
            ..Default::default()
        };
        let small = DirHeader::of(
            Directory {
                runs: vec![RunDir {
                    level: 1,
                    segments: vec![part(1)],
                    indexes: BTreeMap::new(),
                }],
            },
            Some(Snowflake(4)),
        );
        assert_eq!((small.rows, small.deletes, small.segments), (10, 1, 1));
        let (content, file) = directory_message(&small, &meta);
        assert!(content.starts_with("dbcman base 5 txn t sum "), "{content}");
        assert!(file.is_none());
        let big = DirHeader::of(
            Directory {
                runs: vec![RunDir {
                    level: 1,
                    segments: (0..100).map(part).collect(),
                    indexes: BTreeMap::new(),
                }],
            },
            None,
        );
        let (content, file) = directory_message(&big, &meta);
        assert!(content.starts_with("dbcset "), "{content}");
        assert!(discord_len(&content) <= MAX_CONTENT_LEN);
        let file = file.expect("the directory as an attachment");
        let json = content.split_once('\n').unwrap().1;
        let short: DirHeader = serde_json::from_str(json).unwrap();
        assert_eq!(read_directory(&short, &file.bytes).ok(), big.dir);
        let mut damaged = file.bytes.clone();
        damaged[3] ^= 1;
        assert!(
            read_directory(&short, &damaged)
                .unwrap_err()
                .contains("checksum")
        );
    }

    #[test]
    fn a_staged_segment_names_its_stage() {
        let stage = Stage {
            txn: "abc".into(),
            since_ms: 77,
        };
        let text = staged_content(&stage, "main.t", &part(1).header);
        assert!(is_staged(&text));
        assert_eq!(parse_staged(&text), Some(stage));
        assert_eq!(parse_staged("dbcrow x"), None);
    }
}
