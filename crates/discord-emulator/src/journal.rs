//! The emulator's durable state: an append-only journal of [`Record`]s and a
//! folder of attachment files, in a data directory.
//!
//! Each journal line is `<crc32 hex> <json>\n`. A record is acknowledged only
//! after its line is written (and, with `fsync`, synced), so every
//! acknowledged write survives a restart or `kill -9`. A torn last line (a
//! crash mid-write) is dropped on load with a warning; damage anywhere else
//! is an error, because silently skipping it would lose acknowledged data.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use discord_api::{ByteRange, Snowflake};

use crate::state::Record;

/// Why a data directory could not be used.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("data directory {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("data directory {0} is in use by another process")]
    Locked(PathBuf),
    #[error("journal {path} is damaged at line {line}: {reason}; refusing to load a partial guild")]
    Corrupt {
        path: PathBuf,
        line: usize,
        reason: String,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> JournalError + '_ {
    move |source| JournalError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// An open data directory: the journal, the attachment folder and a lock.
#[derive(Debug)]
pub struct Journal {
    dir: PathBuf,
    file: File,
    fsync: bool,
    /// Bytes of the journal known to be on disk (synced, or there at open):
    /// what a power cut cannot take away.
    synced_len: u64,
    _lock: File,
}

impl Journal {
    /// Open (or create) `dir`, returning the journal and the records it holds.
    pub fn open(dir: &Path, fsync: bool) -> Result<(Journal, Vec<Record>), JournalError> {
        fs::create_dir_all(dir.join("attachments")).map_err(io_err(dir))?;
        let lock = lock_dir(dir)?;
        let path = dir.join("guild.journal");
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&path)
            .map_err(io_err(&path))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io_err(&path))?;
        let (records, good_len) = parse(&path, &bytes)?;
        if good_len < bytes.len() {
            tracing::warn!(
                "journal {}: ignoring a torn last record ({} bytes) left by an interrupted write",
                path.display(),
                bytes.len() - good_len
            );
            file.set_len(good_len as u64).map_err(io_err(&path))?;
        }
        let journal = Journal {
            dir: dir.to_path_buf(),
            file,
            fsync,
            synced_len: good_len as u64,
            _lock: lock,
        };
        Ok((journal, records))
    }

    /// Write one record; when this returns Ok the record is durable.
    pub fn append(&mut self, rec: &Record) -> Result<(), JournalError> {
        let json = serde_json::to_string(rec).expect("records always serialise");
        let line = format!("{:08x} {json}\n", crc32fast::hash(json.as_bytes()));
        let path = self.dir.join("guild.journal");
        self.file
            .write_all(line.as_bytes())
            .map_err(io_err(&path))?;
        if self.fsync {
            self.file.sync_data().map_err(io_err(&path))?;
            self.synced_len = self.file.metadata().map_err(io_err(&path))?.len();
        }
        Ok(())
    }

    /// What a power cut does at the worst moment: every byte written since
    /// the last sync is gone. Tests use it to show that acknowledged
    /// records survive only because they were synced.
    #[cfg(test)]
    fn power_cut(self) {
        self.file.set_len(self.synced_len).unwrap();
    }

    /// Store an attachment's bytes before the record that refers to them.
    pub fn put_attachment(&self, id: Snowflake, bytes: &[u8]) -> Result<(), JournalError> {
        let path = self.attachment_path(id);
        let tmp = path.with_extension("tmp");
        let mut f = File::create(&tmp).map_err(io_err(&tmp))?;
        f.write_all(bytes).map_err(io_err(&tmp))?;
        if self.fsync {
            f.sync_data().map_err(io_err(&tmp))?;
        }
        fs::rename(&tmp, &path).map_err(io_err(&path))
    }

    /// An attachment's bytes, or only `range` of them (read from where it
    /// starts: a range read of a large file does not read the whole file).
    pub fn get_attachment(
        &self,
        id: Snowflake,
        range: Option<ByteRange>,
    ) -> Result<Vec<u8>, JournalError> {
        let path = self.attachment_path(id);
        let Some(r) = range else {
            return fs::read(&path).map_err(io_err(&path));
        };
        let mut f = File::open(&path).map_err(io_err(&path))?;
        let len = f.metadata().map_err(io_err(&path))?.len();
        let end = r.end.min(len);
        let start = r.start.min(end);
        f.seek(SeekFrom::Start(start)).map_err(io_err(&path))?;
        let mut out = vec![0; (end - start) as usize];
        f.read_exact(&mut out).map_err(io_err(&path))?;
        Ok(out)
    }

    /// Remove an attachment's file (its message was deleted, and that is
    /// journaled already: a crash before this leaves only an unused file).
    pub fn forget_attachment(&self, id: Snowflake) {
        let _ = fs::remove_file(self.attachment_path(id));
    }

    fn attachment_path(&self, id: Snowflake) -> PathBuf {
        self.dir.join("attachments").join(id.to_string())
    }
}

fn lock_dir(dir: &Path) -> Result<File, JournalError> {
    let path = dir.join("LOCK");
    let lock = File::create(&path).map_err(io_err(&path))?;
    match lock.try_lock() {
        Ok(()) => Ok(lock),
        Err(fs::TryLockError::WouldBlock) => Err(JournalError::Locked(dir.to_path_buf())),
        Err(fs::TryLockError::Error(e)) => Err(io_err(&path)(e)),
    }
}

/// Parse journal bytes into records and the length of the intact prefix.
fn parse(path: &Path, bytes: &[u8]) -> Result<(Vec<Record>, usize), JournalError> {
    let mut records = Vec::new();
    let mut offset = 0;
    let mut line_no = 0;
    while offset < bytes.len() {
        line_no += 1;
        let Some(nl) = bytes[offset..].iter().position(|b| *b == b'\n') else {
            break; // torn: no newline at the end
        };
        let line = &bytes[offset..offset + nl];
        let is_last = offset + nl + 1 == bytes.len();
        match decode_line(line) {
            Ok(rec) => records.push(rec),
            Err(_) if is_last => break,
            Err(reason) => {
                return Err(JournalError::Corrupt {
                    path: path.to_path_buf(),
                    line: line_no,
                    reason,
                });
            }
        }
        offset += nl + 1;
    }
    Ok((records, offset))
}

fn decode_line(line: &[u8]) -> Result<Record, String> {
    let text = std::str::from_utf8(line).map_err(|_| "not UTF-8".to_string())?;
    let (crc, json) = text.split_once(' ').ok_or("no checksum")?;
    let crc = u32::from_str_radix(crc, 16).map_err(|_| "bad checksum field".to_string())?;
    if crc32fast::hash(json.as_bytes()) != crc {
        return Err("checksum mismatch".into());
    }
    serde_json::from_str(json).map_err(|e| format!("unreadable record: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Event;

    fn rec(n: u64) -> Record {
        Record {
            at_us: n,
            event: Event::ChannelDeleted { id: Snowflake(n) },
        }
    }

    #[test]
    fn records_survive_reopen_and_torn_tail_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (mut j, recs) = Journal::open(dir.path(), false).unwrap();
            assert!(recs.is_empty());
            j.append(&rec(1)).unwrap();
            j.append(&rec(2)).unwrap();
        }
        let path = dir.path().join("guild.journal");
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"0badc0de {\"at_us\":3,\"ev").unwrap();
        drop(f);
        let (mut j, recs) = Journal::open(dir.path(), false).unwrap();
        assert_eq!(recs.len(), 2);
        j.append(&rec(4)).unwrap();
        drop(j);
        let (_j, recs) = Journal::open(dir.path(), false).unwrap();
        assert_eq!(
            recs.iter().map(|r| r.at_us).collect::<Vec<_>>(),
            vec![1, 2, 4]
        );
    }

    #[test]
    fn damage_in_the_middle_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (mut j, _) = Journal::open(dir.path(), false).unwrap();
            j.append(&rec(1)).unwrap();
            j.append(&rec(2)).unwrap();
        }
        let path = dir.path().join("guild.journal");
        let text = fs::read_to_string(&path)
            .unwrap()
            .replacen("\"at_us\":1", "\"at_us\":7", 1);
        fs::write(&path, text).unwrap();
        let err = Journal::open(dir.path(), false).unwrap_err();
        assert!(
            matches!(err, JournalError::Corrupt { line: 1, .. }),
            "{err}"
        );
    }

    /// Acknowledged records survive a power cut with fsync on; the twin
    /// below shows that without the sync they would not, so the check has teeth.
    #[test]
    fn synced_records_survive_a_power_cut() {
        let dir = tempfile::tempdir().unwrap();
        let (mut j, _) = Journal::open(dir.path(), true).unwrap();
        j.append(&rec(1)).unwrap();
        j.append(&rec(2)).unwrap();
        j.power_cut();
        let (_j, recs) = Journal::open(dir.path(), true).unwrap();
        assert_eq!(recs.len(), 2);
    }

    #[test]
    fn unsynced_records_are_lost_in_a_power_cut() {
        let dir = tempfile::tempdir().unwrap();
        let (mut j, _) = Journal::open(dir.path(), true).unwrap();
        j.append(&rec(1)).unwrap();
        drop(j);
        let (mut j, recs) = Journal::open(dir.path(), false).unwrap();
        assert_eq!(recs.len(), 1);
        j.append(&rec(2)).unwrap();
        j.power_cut();
        let (_j, recs) = Journal::open(dir.path(), false).unwrap();
        assert_eq!(
            recs.len(),
            1,
            "the record acknowledged without a sync is gone"
        );
    }

    #[test]
    fn a_second_process_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let _first = Journal::open(dir.path(), false).unwrap();
        let err = Journal::open(dir.path(), false).unwrap_err();
        assert!(matches!(err, JournalError::Locked(_)));
    }
}
