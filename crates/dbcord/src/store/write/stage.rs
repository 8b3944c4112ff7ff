//! A statement too large for one message: its rows staged as segments in
//! messages of their own (each within every Discord limit, checked before
//! it is uploaded), then one commit (`dbcset`) whose directory names them.
//! The commit is the statement's one commit point: until it is posted, the
//! staged segments count for no reader, and if the statement dies they are
//! garbage that vacuum removes. So a bulk INSERT of any size is still all
//! or nothing.

use std::sync::Arc;

use discord_api::NewMessage;

use crate::error::Result;
use crate::store::codec::key::{Key, row_key};
use crate::store::codec::manifest::{DirHeader, Directory, RunDir, Stage, directory_message};
use crate::store::codec::meta::CommitMeta;
use crate::store::codec::op::Change;
use crate::store::compact::writer::{RunKind, RunWriter, row_bytes};
use crate::store::schema::{IndexDef, TableDef};
use crate::store::state::Store;
use crate::store::write::options::WriteOptions;

/// About the bytes a change takes in a segment, before compression.
pub(crate) fn change_bytes(def: &TableDef, change: &Change) -> usize {
    let key = row_key(def, &change.values).unwrap_or_default();
    row_bytes(&key, &change.values)
}

impl Store {
    /// Stage `changes` as segments (each with covering files of
    /// `indexes`) and make the commit that names them.
    pub(crate) async fn stage_statement(
        &self,
        def: &Arc<TableDef>,
        indexes: &[Arc<IndexDef>],
        changes: &[Change],
        meta: &CommitMeta,
        options: &WriteOptions,
    ) -> Result<NewMessage> {
        let mut order: Vec<(Key, usize)> = changes
            .iter()
            .enumerate()
            .filter_map(|(i, c)| Some((row_key(def, &c.values)?, i)))
            .collect();
        order.sort_unstable();
        let stage = Stage {
            txn: meta.txn.clone().unwrap_or_default(),
            since_ms: self.clock.now_ms(),
        };
        let total: usize = changes.iter().map(|c| change_bytes(def, c)).sum();
        let step = self.step(
            &format!("staging {}", def.qualified_name()),
            total.div_ceil(options.segment_bytes.max(1)) as u64,
            None,
        );
        let mut writer = RunWriter::new(
            self,
            Arc::clone(def),
            RunKind::Data,
            def.channel_id,
            stage,
            *options,
        )
        .with_inline_indexes(indexes.to_vec())
        .with_progress(step);
        for (key, i) in order {
            writer.push(key, changes[i].clone()).await?;
        }
        let (segments, _) = writer.finish().await?;
        let dir = Directory {
            runs: vec![RunDir {
                level: 0,
                segments,
                indexes: Default::default(),
            }],
        };
        let (content, file) = directory_message(&DirHeader::of(dir, None), meta);
        Ok(NewMessage::idempotent(content).with_files(file.into_iter().collect()))
    }
}
