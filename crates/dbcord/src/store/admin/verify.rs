//! `verify`: a table checked against itself, read whole from Discord.
//!
//! Every message of the table's channel is read. Findings are of two
//! kinds: damage (a foreign or unreadable message, a missing attachment, a
//! duplicate key, a NULL where the schema forbids one, index data that
//! does not match its rows) and leftovers that vacuum removes (commits a
//! manifest replaced, void commits of statements that lost a race or
//! were cut short, staged segments nothing names). Each check also reports itself when it found nothing,
//! so `WHERE NOT ok` lists exactly the problems.
//!
//! Rows "search cannot find" are not a check: dbcord's reads never use
//! Discord's search, so a row search misses is still read.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use discord_api::attachments::download;
use discord_api::{ByteRange, Message, Snowflake};

use crate::error::{Error, Result};
use crate::store::codec::commit;
use crate::store::codec::key::{Key, row_key};
use crate::store::codec::manifest::is_staged;
use crate::store::codec::op::Change;
use crate::store::codec::op::Op;
use crate::store::codec::segment::FileDir;
use crate::store::codec::shard;
use crate::store::codec::value::{Value, key_text};
use crate::store::log::commit::{SegmentRef, parse};
use crate::store::log::pager::HistoryPager;
use crate::store::log::validity::{Run, RunBody};
use crate::store::read::stats::ReadStats;
use crate::store::schema::{IndexDef, TableDef};
use crate::store::state::Store;

/// The checks, in the order they are reported.
pub const CHECKS: [&str; 10] = [
    "foreign message",
    "unreadable message",
    "missing attachment",
    "broken shard",
    "leftover",
    "duplicate key",
    "not null",
    "orphan index entry",
    "missing index entry",
    "index ready",
];

/// Problems reported per check at most; the count is always given.
const MAX_REPORTED: usize = 20;

/// One finding: a problem, or a check that found none.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    pub check: &'static str,
    pub ok: bool,
    /// The message the problem is in.
    pub message: Option<Snowflake>,
    pub detail: String,
}

#[derive(Default)]
struct Findings {
    problems: Vec<Finding>,
    counts: HashMap<&'static str, usize>,
}

impl Findings {
    fn problem(&mut self, check: &'static str, message: Option<Snowflake>, detail: String) {
        let n = self.counts.entry(check).or_default();
        *n += 1;
        if *n <= MAX_REPORTED {
            self.problems.push(Finding {
                check,
                ok: false,
                message,
                detail,
            });
        }
    }

    /// The problems, then a line per check: "none" or how many there were.
    fn finish(mut self, messages: usize) -> Vec<Finding> {
        for check in CHECKS {
            let n = self.counts.get(check).copied().unwrap_or(0);
            let detail = match n {
                0 => format!("none among {messages} messages"),
                n if n > MAX_REPORTED => format!("{n} in all; the first {MAX_REPORTED} are listed"),
                n => format!("{n} in all"),
            };
            self.problems.push(Finding {
                check,
                ok: n == 0,
                message: None,
                detail,
            });
        }
        self.problems
    }
}

impl Store {
    /// Check `def`'s channel, rows and index data.
    pub async fn verify(&self, def: &Arc<TableDef>) -> Result<Vec<Finding>> {
        let bot = self.discord.bot_user_id();
        let messages = HistoryPager::new(Arc::clone(&self.discord), def.channel_id)
            .read_all()
            .await?;
        let mut f = Findings::default();
        for m in &messages {
            check_message(def, bot, m, &mut f);
        }
        let mut stats = ReadStats::default();
        let snap = self.snapshot(def, &mut stats).await?;
        // Every segment the table's runs name, its attachments checked.
        let indexes = self.indexes_of(&def.database, &def.name);
        let mut broken = HashSet::new();
        for seg in snap.runs.iter().flat_map(|r| segments_of(def, r, &indexes)) {
            if !self
                .attachments_whole(def, &seg, &mut f, &mut stats)
                .await?
            {
                broken.insert(seg.id);
            }
        }
        self.leftovers(def, &messages, &snap.runs, bot, &mut f)
            .await?;
        for index in indexes.iter().filter(|i| !i.ready) {
            f.problem(
                "index ready",
                None,
                format!(
                    "index {} was left half built; reindex rebuilds it",
                    index.name
                ),
            );
        }
        let mut live: HashMap<Key, Vec<Value>> = HashMap::new();
        for run in &snap.runs {
            let mut changes = Vec::new();
            if let RunBody::Rows(c) = &run.body {
                changes.extend(c.iter().map(|(_, c)| c.clone()));
            }
            for seg in run
                .body
                .segments()
                .iter()
                .filter(|s| !broken.contains(&s.id))
            {
                let rows = self.all_changes(def, seg, &mut stats).await?;
                for index in &indexes {
                    if let Some(file) = seg.index_file(index) {
                        let entries = [(Arc::clone(seg), file.clone())];
                        self.index_matches(def, index, &entries, &rows, seg.id, &mut f, &mut stats)
                            .await?;
                    }
                }
                changes.extend(rows);
            }
            if let RunBody::Sorted(sorted) = &run.body {
                for index in &indexes {
                    let Some(segs) = sorted.index_segments(def, index) else {
                        continue;
                    };
                    let files: Vec<_> = segs
                        .iter()
                        .filter(|s| !broken.contains(&s.id))
                        .map(|s| (Arc::clone(s), s.header.data.clone()))
                        .collect();
                    self.index_matches(def, index, &files, &changes, run.id, &mut f, &mut stats)
                        .await?;
                }
            }
            apply(def, run.id, changes, &mut live, &mut f);
        }
        not_null(def, &live, &mut f);
        Ok(f.finish(messages.len()))
    }

    /// Whether every file a segment's header names is attached and can be
    /// read (one byte of each, from the CDN).
    async fn attachments_whole(
        &self,
        def: &TableDef,
        seg: &SegmentRef,
        f: &mut Findings,
        stats: &mut ReadStats,
    ) -> Result<bool> {
        let m = match self.segment_message(def, seg, stats).await {
            Ok(m) => m,
            Err(Error::SegmentUnreadable { why, .. }) => {
                f.problem("missing attachment", Some(seg.id), why);
                return Ok(false);
            }
            Err(e) => return Err(e),
        };
        let files: Vec<usize> = std::iter::once(&seg.header.data)
            .chain(seg.header.indexes.values())
            .flat_map(|d| d.attachments())
            .collect();
        let mut whole = true;
        for file in files {
            let Some(a) = m.attachments.get(file) else {
                f.problem(
                    "missing attachment",
                    Some(m.id),
                    format!("the header names attachment {file}, which the message lacks"),
                );
                whole = false;
                continue;
            };
            let one = ByteRange { start: 0, end: 1 };
            if let Err(e) = download(&*self.discord, m.channel_id, m.id, a, Some(one)).await {
                f.problem(
                    "missing attachment",
                    Some(m.id),
                    format!("attachment {} cannot be read: {e}", a.filename),
                );
                whole = false;
            }
        }
        Ok(whole)
    }

    /// The bot's messages that no reader uses any more: commits and
    /// manifests the current manifest replaced, void commits, shards and
    /// staged segments nothing names.
    async fn leftovers(
        &self,
        def: &TableDef,
        messages: &[Message],
        runs: &[Run],
        bot: Snowflake,
        f: &mut Findings,
    ) -> Result<()> {
        let log = self.log_of(def.channel_id);
        let cover = log.cover();
        let checkpoint = log.checkpoint.as_ref().map(|c| c.id);
        let counted: HashSet<Snowflake> = runs.iter().map(|r| r.id).collect();
        let indexes = self.indexes_of(&def.database, &def.name);
        let used: HashSet<Snowflake> = runs
            .iter()
            .flat_map(|r| segments_of(def, r, &indexes))
            .map(|s| s.id)
            .collect();
        let live: HashSet<Snowflake> = log.commits.iter().flat_map(|c| c.shards.clone()).collect();
        let named: HashSet<Snowflake> = messages
            .iter()
            .filter_map(|m| parse(def, bot, m.clone()))
            .flat_map(|c| c.shards)
            .collect();
        let broken: HashSet<Snowflake> = log
            .commits
            .iter()
            .filter(|c| c.broken.is_some())
            .map(|c| c.id)
            .collect();
        for c in log.commits.iter().filter(|c| c.broken.is_some()) {
            f.problem(
                "broken shard",
                Some(c.id),
                format!(
                    "{}; the commit counts for no reader (its rows read as before it), \
                     vacuum deletes it",
                    c.broken.as_deref().unwrap_or_default()
                ),
            );
        }
        for m in messages
            .iter()
            .filter(|m| m.author.id == bot && shard::is_shard(&m.content))
        {
            if cover.is_some_and(|c| m.id <= c) && !live.contains(&m.id) {
                f.problem(
                    "leftover",
                    Some(m.id),
                    "a shard replaced by the manifest; vacuum deletes it".into(),
                );
            } else if !named.contains(&m.id) {
                f.problem(
                    "leftover",
                    Some(m.id),
                    "a shard no commit names (its statement was cut short); vacuum deletes it"
                        .into(),
                );
            }
        }
        let mut staged: Vec<&Message> = messages
            .iter()
            .filter(|m| m.author.id == bot && is_staged(&m.content))
            .collect();
        let others = self.index_channel_messages(def).await?;
        staged.extend(
            others
                .iter()
                .filter(|m| m.author.id == bot && is_staged(&m.content)),
        );
        for m in staged.into_iter().filter(|m| !used.contains(&m.id)) {
            f.problem(
                "leftover",
                Some(m.id),
                "a staged segment no manifest or commit names (replaced, or its statement or \
                 compaction was cut short); vacuum deletes it"
                    .into(),
            );
        }
        for m in messages.iter().filter(|m| m.author.id == bot) {
            let readable = commit::decode(def, &m.content).is_ok();
            if !readable || Some(m.id) == checkpoint || used.contains(&m.id) {
                continue;
            }
            if cover.is_some_and(|c| m.id <= c) {
                f.problem(
                    "leftover",
                    Some(m.id),
                    "replaced by the manifest; vacuum deletes it".into(),
                );
            } else if !counted.contains(&m.id) && !broken.contains(&m.id) {
                f.problem(
                    "leftover",
                    Some(m.id),
                    "a void commit (its statement lost a race or raced a compaction); \
                     vacuum deletes it"
                        .into(),
                );
            }
        }
        Ok(())
    }

    /// Every message of the table's index channels.
    async fn index_channel_messages(&self, def: &TableDef) -> Result<Vec<Message>> {
        let mut out = Vec::new();
        for index in self.indexes_of(&def.database, &def.name) {
            if let Some(channel) = index.channel_id.filter(|c| *c != def.channel_id) {
                out.extend(
                    HistoryPager::new(Arc::clone(&self.discord), channel)
                        .read_all()
                        .await?,
                );
            }
        }
        Ok(out)
    }

    /// Index files for `index` (each with its segment) against the rows
    /// they index.
    #[allow(clippy::too_many_arguments)]
    async fn index_matches(
        &self,
        def: &TableDef,
        index: &IndexDef,
        files: &[(Arc<SegmentRef>, FileDir)],
        rows: &[Change],
        at: Snowflake,
        f: &mut Findings,
        stats: &mut ReadStats,
    ) -> Result<()> {
        let Some(col) = def.index_column(index) else {
            return Ok(());
        };
        let mut actual = BTreeSet::new();
        for (seg, file) in files {
            for i in 0..file.batches.len() {
                let batch = self.index_batch(def, index, seg, file, i, stats).await?;
                actual.extend(batch.iter().map(|e| (e.value.clone(), e.key.clone())));
            }
        }
        let expected: BTreeSet<(Key, Key)> = rows
            .iter()
            .filter(|c| c.op != Op::Delete)
            .filter_map(|c| Some((Key::of([&c.values[col]])?, row_key(def, &c.values)?)))
            .collect();
        let id = Some(at);
        for (v, k) in actual.difference(&expected) {
            f.problem(
                "orphan index entry",
                id,
                format!(
                    "index {} has value {} for key {} that no row has",
                    index.name,
                    v.to_hex(),
                    k.to_hex()
                ),
            );
        }
        for (v, k) in expected.difference(&actual) {
            f.problem(
                "missing index entry",
                id,
                format!(
                    "index {} lacks value {} of key {}",
                    index.name,
                    v.to_hex(),
                    k.to_hex()
                ),
            );
        }
        Ok(())
    }
}

/// Every segment a run reads: its data segments, and its index segments
/// of the table's `indexes` (an index dropped since, or the runs of a
/// dropped index of the same name, are read no more).
fn segments_of(def: &TableDef, run: &Run, indexes: &[Arc<IndexDef>]) -> Vec<Arc<SegmentRef>> {
    let mut out = run.body.segments().to_vec();
    if let RunBody::Sorted(sorted) = &run.body {
        for index in indexes {
            out.extend(
                sorted
                    .index_segments(def, index)
                    .unwrap_or_default()
                    .iter()
                    .cloned(),
            );
        }
    }
    out
}

/// Foreign and unreadable messages.
fn check_message(def: &TableDef, bot: Snowflake, m: &Message, f: &mut Findings) {
    if m.author.id != bot {
        f.problem(
            "foreign message",
            Some(m.id),
            format!(
                "posted by {} ({}); scans skip it, vacuum deletes it only when told to",
                m.author.username, m.author.id
            ),
        );
    } else if shard::is_shard(&m.content) || is_staged(&m.content) {
        // Judged with what names them (see `leftovers`).
    } else if let Err(e) = commit::decode(def, &m.content) {
        f.problem("unreadable message", Some(m.id), e.0);
    }
}

/// One run's changes into the live rows, noting inserts of live keys.
fn apply(
    def: &TableDef,
    run: Snowflake,
    changes: Vec<Change>,
    live: &mut HashMap<Key, Vec<Value>>,
    f: &mut Findings,
) {
    for c in changes {
        let Some(key) = row_key(def, &c.values) else {
            continue;
        };
        match c.op {
            Op::Delete => {
                live.remove(&key);
            }
            Op::Insert if live.contains_key(&key) => {
                f.problem(
                    "duplicate key",
                    Some(run),
                    format!(
                        "inserts {} that an older commit already holds",
                        key_text(def, &c.values)
                    ),
                );
                live.insert(key, c.values);
            }
            _ => {
                live.insert(key, c.values);
            }
        }
    }
}

/// Live rows with NULL in a NOT NULL column.
fn not_null(def: &TableDef, live: &HashMap<Key, Vec<Value>>, f: &mut Findings) {
    for (i, col) in def.columns.iter().enumerate().filter(|(_, c)| !c.nullable) {
        for row in live.values() {
            if row[i] == Value::Null {
                f.problem(
                    "not null",
                    None,
                    format!(
                        "row {} has NULL in NOT NULL column {}",
                        key_text(def, row),
                        col.name
                    ),
                );
            }
        }
    }
}
