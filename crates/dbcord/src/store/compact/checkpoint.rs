//! Compaction: a table's commits folded into a new manifest, rewriting only
//! what changed.
//!
//! A manifest lists sorted runs (see `codec::manifest`): a bottom run
//! (level 1) holding most of the table, and newer runs (level 0), each the
//! fold of a stretch of commits. Compacting writes the commits since the
//! last manifest as new level-0 runs (a staged statement's run is taken as
//! it is), and names every older run unchanged. When the level-0 runs grow
//! too many, or their bytes (times `level0_ratio`) reach the bottom run's,
//! they merge into it: only the bottom segments whose key ranges they
//! overlap are rewritten, the rest named unchanged. So a hundred one-row
//! commits rewrite a hundred rows, not the table (leveled compaction, as
//! RocksDB and SlateDB do it). Each run carries, per index, its rows again
//! in covering index segments in (value, key) order, in the index's own
//! channel; a merged bottom run's are built anew, by an external sort.
//!
//! The manifest is one commit like any other: commits made while the
//! compaction ran stay after it, and a manifest that raced another counts
//! for no reader (see `log::table_log`). So the compaction reads the log
//! again before it posts, and gives up if another manifest came first.

use std::collections::BTreeMap;
use std::sync::Arc;

use discord_api::{NewMessage, Snowflake};

use super::merge::{Merge, Source};
use super::sort::{IndexSorter, SORT_BUDGET};
use super::writer::{RunKind, RunWriter, index_channel, row_bytes};
use crate::error::{Error, Result};
use crate::store::codec::key::Key;
use crate::store::codec::manifest::{DirHeader, Directory, Part, RunDir, Stage, directory_message};
use crate::store::codec::meta::CommitMeta;
use crate::store::codec::op::Change;
use crate::store::codec::op::Op;
use crate::store::log::commit::{KeyedBatch, SegmentRef, SortedRun};
use crate::store::log::validity::{Run, RunBody};
use crate::store::read::stats::ReadStats;
use crate::store::schema::{IndexDef, TableDef};
use crate::store::state::Store;
use crate::store::write::options::WriteOptions;

/// What a compaction is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Goal {
    /// Fold the commits; merge into the bottom run when the policy says.
    Fold,
    /// Fold, and merge every run into one (VACUUM).
    Full,
    /// Fold, and write index segments for these indexes over every run
    /// (CREATE INDEX, reindex), leaving the data segments as they are.
    Index(Vec<String>),
}

/// A run of the manifest being made, as it will be listed.
struct Planned {
    dir: RunDir,
    /// Its rows as readers see them (to read them again for an index).
    run: Arc<SortedRun>,
    /// Written by this compaction, its index runs with it.
    fresh: bool,
}

impl Store {
    /// Fold `table`'s commits into a new manifest; `None` if there was
    /// nothing to fold.
    pub async fn compact(
        &self,
        table: &Arc<TableDef>,
        options: &WriteOptions,
    ) -> Result<Option<Snowflake>> {
        self.compact_for(table, options, Goal::Fold).await
    }

    /// Compact `table` for `goal`; the manifest posted, if any.
    pub async fn compact_for(
        &self,
        table: &Arc<TableDef>,
        options: &WriteOptions,
        goal: Goal,
    ) -> Result<Option<Snowflake>> {
        let mut stats = ReadStats::default();
        let snap = self.snapshot(table, &mut stats).await?;
        let Some(synced) = snap.synced else {
            return Ok(None);
        };
        let log = self.log_of(table.channel_id);
        // A transaction's part whose fate is not settled for good cannot
        // be folded either way: the compaction waits (see `store::txn`).
        if self.parts_unsettled(&log) {
            tracing::info!(
                "{}: a transaction is being decided; compaction put off",
                table.qualified_name()
            );
            return Ok(None);
        }
        let checkpoint = log.checkpoint.as_ref().map(|c| c.id);
        // Commits that count for nobody (void, or parts of a transaction
        // that did not commit) are worth a manifest too: only what a
        // checkpoint covers can vacuum delete.
        let uncovered = !log.commits.is_empty();
        let (base, tail): (Vec<Run>, Vec<Run>) = snap
            .runs
            .iter()
            .cloned()
            .partition(|r| Some(r.id) == checkpoint);
        let compaction = Compaction {
            store: self,
            def: Arc::clone(table),
            indexes: self.indexes_of(&table.database, &table.name),
            options: *options,
            stage: Stage {
                txn: discord_api::nonce::new_nonce(),
                since_ms: self.clock.now_ms(),
            },
            uploaded: 0,
        };
        compaction.run(base, tail, uncovered, goal, synced).await
    }
}

/// One compaction under way.
struct Compaction<'a> {
    store: &'a Store,
    def: Arc<TableDef>,
    indexes: Vec<Arc<IndexDef>>,
    options: WriteOptions,
    stage: Stage,
    /// Bytes of segments staged so far.
    uploaded: u64,
}

/// A run the new manifest will list: one written already (named as it
/// is), or a stretch of commits not written yet (merged into a run of its
/// own, or into the bottom run).
enum Input {
    Written(Planned),
    Stretch {
        sources: Vec<Source>,
        /// The key ranges its commits span, and about their bytes.
        ranges: Vec<(Key, Key)>,
        bytes: u64,
    },
}

impl Input {
    fn level(&self) -> u8 {
        match self {
            Input::Written(p) => p.dir.level,
            Input::Stretch { .. } => 0,
        }
    }

    fn bytes(&self) -> u64 {
        match self {
            Input::Written(p) => p.dir.bytes(),
            Input::Stretch { bytes, .. } => *bytes,
        }
    }
}

impl Compaction<'_> {
    async fn run(
        mut self,
        base: Vec<Run>,
        tail: Vec<Run>,
        uncovered: bool,
        goal: Goal,
        synced: Snowflake,
    ) -> Result<Option<Snowflake>> {
        let folded = !tail.is_empty() || uncovered;
        let mut inputs: Vec<Input> = self
            .base_runs(&base)
            .into_iter()
            .map(Input::Written)
            .collect();
        inputs.extend(fold(&tail));
        let newer = inputs.iter().filter(|r| r.level() == 0).count();
        let merge = match goal {
            Goal::Full => newer > 0 || inputs.len() > 1,
            _ => self.wants_merge(&inputs),
        };
        let mut runs = if merge {
            self.merge(inputs).await?
        } else {
            self.write_level0(inputs).await?
        };
        if let Goal::Index(names) = &goal {
            // Runs written just now have their index runs already.
            for run in runs.iter_mut().filter(|r| !r.fresh) {
                for name in names {
                    run.dir.indexes.remove(name);
                }
                self.index_run(run, names).await?;
            }
        }
        if !folded && !merge && !matches!(goal, Goal::Index(_)) {
            return Ok(None);
        }
        self.post_manifest(runs, synced).await
    }

    /// The runs of the manifest being replaced (or the checkpoint of the
    /// first format, as a run of its one segment), oldest first.
    fn base_runs(&self, base: &[Run]) -> Vec<Planned> {
        base.iter()
            .filter_map(|r| match &r.body {
                RunBody::Sorted(run) => {
                    // Index runs of an index dropped since are left out,
                    // and so are those of a dropped index whose name a new
                    // one took (they are in the old one's channel).
                    let mut planned = planned_of(run);
                    planned.dir.indexes.retain(|name, _| {
                        self.indexes
                            .iter()
                            .any(|i| i.name == *name && run.index_segments(&self.def, i).is_some())
                    });
                    Some(planned)
                }
                RunBody::Segment(seg) => {
                    let run = SortedRun {
                        level: 1,
                        segments: vec![Arc::clone(seg)],
                        indexes: BTreeMap::new(),
                    };
                    Some(planned_of(&Arc::new(run)))
                }
                RunBody::Rows(_) => None, // a checkpoint is never rows
            })
            .collect()
    }

    /// Whether the newer runs should merge into the bottom run: too many
    /// of them, or too many bytes next to it.
    fn wants_merge(&self, inputs: &[Input]) -> bool {
        let newer: Vec<&Input> = inputs.iter().filter(|r| r.level() == 0).collect();
        let bottom: u64 = inputs
            .iter()
            .filter(|r| r.level() > 0)
            .map(Input::bytes)
            .sum();
        let recent: u64 = newer.iter().map(|r| r.bytes()).sum();
        newer.len() > self.options.level0_runs
            || (!newer.is_empty() && recent.saturating_mul(self.options.level0_ratio) >= bottom)
    }

    /// Each stretch of commits written as a run of level 0.
    async fn write_level0(&mut self, inputs: Vec<Input>) -> Result<Vec<Planned>> {
        let mut out = Vec::new();
        for input in inputs {
            match input {
                Input::Written(p) => out.push(p),
                Input::Stretch { sources, .. } => {
                    let run = self.write_run(sources, 0, false, Vec::new(), true).await?;
                    if !run.dir.segments.is_empty() {
                        out.push(run);
                    }
                }
            }
        }
        Ok(out)
    }

    /// Merge every run into one bottom run: the bottom segments whose key
    /// ranges the newer runs overlap are rewritten with them, the others
    /// kept as they are. Tombstones end here.
    async fn merge(&mut self, inputs: Vec<Input>) -> Result<Vec<Planned>> {
        let (bottoms, newer): (Vec<Input>, Vec<Input>) =
            inputs.into_iter().partition(|r| r.level() > 0);
        let ranges: Vec<(Key, Key)> = newer
            .iter()
            .flat_map(|r| match r {
                Input::Written(p) => p
                    .run
                    .segments
                    .iter()
                    .filter_map(|s| s.range.clone())
                    .collect(),
                Input::Stretch { ranges, .. } => ranges.clone(),
            })
            .collect();
        // Several bottom runs (a first-format checkpoint's) all merge.
        let several = bottoms.len() > 1;
        let overlaps = |s: &SegmentRef| {
            s.range
                .as_ref()
                .is_some_and(|(lo, hi)| several || ranges.iter().any(|(a, b)| lo <= b && a <= hi))
        };
        let (mut kept, mut rewritten) = (Vec::new(), Vec::new());
        for run in &bottoms {
            let Input::Written(run) = run else { continue };
            for (seg, part) in run.run.segments.iter().zip(&run.dir.segments) {
                if overlaps(seg) {
                    rewritten.push(Arc::clone(seg));
                } else {
                    kept.push((Arc::clone(seg), part.clone()));
                }
            }
        }
        let mut sources = vec![Source::segments(rewritten)];
        for input in newer {
            match input {
                Input::Written(p) => sources.push(Source::segments(p.run.segments.clone())),
                Input::Stretch { sources: s, .. } => sources.extend(s),
            }
        }
        let fences: Vec<Key> = kept
            .iter()
            .filter_map(|(s, _)| s.range.as_ref().map(|(lo, _)| lo.clone()))
            .collect();
        // With nothing kept, the merge's own rows are the whole bottom
        // run: its index runs come from them; else they are written anew
        // from the whole run below.
        let whole = kept.is_empty();
        let mut merged = self.write_run(sources, 1, true, fences, whole).await?;
        // The bottom run: what was kept and what was written, in key order.
        let mut parts: Vec<Part> = kept.into_iter().map(|(_, p)| p).collect();
        parts.append(&mut merged.dir.segments);
        parts.sort_by(|a, b| a.header.keys.0.cmp(&b.header.keys.0));
        if parts.is_empty() {
            return Ok(Vec::new());
        }
        let indexes = std::mem::take(&mut merged.dir.indexes);
        let mut bottom = planned_of(&Arc::new(SortedRun::new(
            &RunDir {
                level: 1,
                segments: parts,
                indexes,
            },
            self.def.channel_id,
        )));
        if !whole {
            let names: Vec<String> = self.indexes.iter().map(|i| i.name.clone()).collect();
            self.index_run(&mut bottom, &names).await?;
        }
        bottom.fresh = true;
        Ok(vec![bottom])
    }

    /// Merge `sources` (oldest first) into one run of level `level`,
    /// cutting segments at `fences`; with `bottom`, tombstones are left
    /// out. With `indexed`, its index runs are written from the same rows.
    async fn write_run(
        &mut self,
        sources: Vec<Source>,
        level: u8,
        bottom: bool,
        fences: Vec<Key>,
        indexed: bool,
    ) -> Result<Planned> {
        let mut merge = Merge::new(Arc::clone(&self.def), sources, bottom);
        let table = self.def.channel_id;
        let mut data = self.writer(RunKind::Data, table).with_fences(fences);
        let indexes = if indexed {
            self.indexes.clone()
        } else {
            Vec::new()
        };
        let mut sorters = self.sorters(&indexes);
        while let Some((key, mut change)) = merge.next(self.store).await? {
            if change.op != Op::Delete {
                for (_, sorter) in sorters.iter_mut() {
                    sorter
                        .push(change.values.clone())
                        .map_err(|e| self.sort_error(e))?;
                }
            }
            // Above the bottom run, a row replaces whatever older runs
            // hold of its key: the commits it came from may have deleted
            // and inserted it again.
            if !bottom && change.op == Op::Insert {
                change.op = Op::Upsert;
            }
            data.push(key, change).await?;
        }
        let (segments, bytes) = data.finish().await?;
        self.uploaded += bytes;
        let mut dir = RunDir {
            level,
            segments,
            indexes: BTreeMap::new(),
        };
        for (index, sorter) in sorters {
            let parts = self.write_index(&index, sorter).await?;
            dir.indexes.insert(index.name.clone(), parts);
        }
        Ok(Planned {
            run: Arc::new(SortedRun::new(&dir, self.def.channel_id)),
            dir,
            fresh: indexed,
        })
    }

    /// Write the index runs `names` of `run` from its rows (read again).
    async fn index_run(&mut self, run: &mut Planned, names: &[String]) -> Result<()> {
        let wanted: Vec<Arc<IndexDef>> = self
            .indexes
            .iter()
            .filter(|i| names.contains(&i.name) && !run.dir.indexes.contains_key(&i.name))
            .cloned()
            .collect();
        if wanted.is_empty() {
            return Ok(());
        }
        let mut sorters = self.sorters(&wanted);
        let mut merge = Merge::new(
            Arc::clone(&self.def),
            vec![Source::segments(run.run.segments.clone())],
            true,
        );
        while let Some((_, change)) = merge.next(self.store).await? {
            for (_, sorter) in sorters.iter_mut() {
                sorter
                    .push(change.values.clone())
                    .map_err(|e| self.sort_error(e))?;
            }
        }
        for (index, sorter) in sorters {
            let parts = self.write_index(&index, sorter).await?;
            run.dir.indexes.insert(index.name.clone(), parts);
        }
        run.run = Arc::new(SortedRun::new(&run.dir, self.def.channel_id));
        Ok(())
    }

    fn sorters(&self, indexes: &[Arc<IndexDef>]) -> Vec<(Arc<IndexDef>, IndexSorter)> {
        indexes
            .iter()
            .filter_map(|i| {
                let col = self.def.index_column(i)?;
                let budget = SORT_BUDGET / indexes.len().max(1);
                Some((
                    Arc::clone(i),
                    IndexSorter::new(Arc::clone(&self.def), col, budget),
                ))
            })
            .collect()
    }

    /// Post an index's sorted rows as covering index segments.
    async fn write_index(&mut self, index: &IndexDef, sorter: IndexSorter) -> Result<Vec<Part>> {
        let mut sorted = sorter.finish().map_err(|e| self.sort_error(e))?;
        let channel = index_channel(&self.def, index);
        let mut writer = self.writer(RunKind::Index, channel);
        while let Some((order, change)) = sorted.next_row().map_err(|e| self.sort_error(e))? {
            writer.push(order, change).await?;
        }
        let (parts, bytes) = writer.finish().await?;
        self.uploaded += bytes;
        Ok(parts)
    }

    fn writer(&self, kind: RunKind, channel: Snowflake) -> RunWriter<'_> {
        RunWriter::new(
            self.store,
            Arc::clone(&self.def),
            kind,
            channel,
            self.stage.clone(),
            self.options,
        )
    }

    fn sort_error(&self, e: impl std::fmt::Display) -> Error {
        Error::SegmentNotEncoded {
            table: self.def.qualified_name(),
            why: format!("sorting an index's rows: {e}"),
        }
    }

    /// Post the manifest of `runs` (oldest first) covering `synced`, unless
    /// another manifest came first (then this one would count for no
    /// reader, and its staged segments are left for vacuum).
    async fn post_manifest(
        self,
        runs: Vec<Planned>,
        synced: Snowflake,
    ) -> Result<Option<Snowflake>> {
        let store = self.store;
        let mut stats = ReadStats::default();
        store.snapshot(&self.def, &mut stats).await?;
        if store
            .log_of(self.def.channel_id)
            .newest_checkpoint
            .is_some_and(|c| c > synced)
        {
            tracing::info!(
                "{}: another compaction came first; this one stops",
                self.def.qualified_name()
            );
            return Ok(None);
        }
        let dir = Directory {
            runs: runs.into_iter().rev().map(|r| r.dir).collect(),
        };
        let header = DirHeader::of(dir, Some(synced));
        let meta = CommitMeta {
            base: Some(synced),
            txn: Some(self.stage.txn.clone()),
            ..Default::default()
        };
        let (content, file) = directory_message(&header, &meta);
        let message = NewMessage::idempotent(content).with_files(file.into_iter().collect());
        let sent = store
            .discord
            .create_message(self.def.channel_id, &message)
            .await?;
        store.note_head(self.def.channel_id, sent.id);
        tracing::info!(
            "compacted {} ({} rows in {} segments, {} bytes staged) into manifest {}",
            self.def.qualified_name(),
            header.rows - header.deletes,
            header.segments,
            self.uploaded,
            sent.id
        );
        Ok(Some(sent.id))
    }
}

/// A run already written, listed again as it is.
fn planned_of(run: &Arc<SortedRun>) -> Planned {
    let part = |s: &Arc<SegmentRef>| Part {
        message: s.id,
        channel: None,
        header: s.header.clone(),
    };
    let mut dir = RunDir {
        level: run.level,
        segments: run.segments.iter().map(part).collect(),
        indexes: BTreeMap::new(),
    };
    for (name, segs) in &run.indexes {
        let parts = segs
            .iter()
            .map(|s| Part {
                channel: Some(s.channel),
                ..part(s)
            })
            .collect();
        dir.indexes.insert(name.clone(), parts);
    }
    Planned {
        dir,
        run: Arc::clone(run),
        fresh: false,
    }
}

/// The commits after the manifest as inputs of the new one, oldest first:
/// each stretch of row and segment commits as sources to merge (tombstones
/// kept: older runs may hold their keys), a staged statement's runs as they
/// are, at level 0.
fn fold(tail: &[Run]) -> Vec<Input> {
    let mut out = Vec::new();
    let mut stretch = (Vec::new(), Vec::new(), 0u64);
    let flush = |out: &mut Vec<Input>, stretch: &mut (Vec<Source>, Vec<(Key, Key)>, u64)| {
        let (sources, ranges, bytes) = std::mem::take(stretch);
        if !sources.is_empty() {
            out.push(Input::Stretch {
                sources,
                ranges,
                bytes,
            });
        }
    };
    for run in tail {
        match &run.body {
            RunBody::Rows(rows) => {
                let changes = changes(rows);
                if let (Some(lo), Some(hi)) = (changes.first(), changes.last()) {
                    stretch.1.push((lo.0.clone(), hi.0.clone()));
                }
                stretch.2 += changes
                    .iter()
                    .map(|(k, c)| row_bytes(k, &c.values) as u64)
                    .sum::<u64>();
                stretch.0.push(Source::rows(changes));
            }
            RunBody::Segment(seg) => {
                stretch.1.extend(seg.range.clone());
                stretch.2 += seg.data_bytes();
                stretch.0.push(Source::segments(vec![Arc::clone(seg)]));
            }
            RunBody::Sorted(sorted) => {
                flush(&mut out, &mut stretch);
                let mut planned = planned_of(sorted);
                planned.dir.level = 0;
                out.push(Input::Written(planned));
            }
        }
    }
    flush(&mut out, &mut stretch);
    out
}

/// A row commit's changes, each key once (the last change of a key in a
/// commit is its newest).
fn changes(rows: &KeyedBatch) -> Vec<(Key, Change)> {
    let mut last: BTreeMap<Key, Change> = BTreeMap::new();
    for (k, c) in rows.iter() {
        last.insert(k.clone(), c.clone());
    }
    last.into_iter().collect()
}
