//! `inspect`: where a row is in Discord, and what it costs there.

use std::sync::Arc;

use crate::error::Result;
use crate::store::codec::key::{Key, row_key};
use crate::store::codec::op::Op;
use crate::store::codec::row::row_tokens;
use crate::store::codec::value::key_text;
use crate::store::log::validity::RunBody;
use crate::store::read::stats::ReadStats;
use crate::store::schema::TableDef;
use crate::store::state::Store;

/// One fact about a row: (property, value), in a fixed order.
pub type Fact = (&'static str, String);

impl Store {
    /// The facts of the row with `key` (also of a deleted one: its history).
    pub async fn inspect(&self, def: &Arc<TableDef>, key: &Key) -> Result<Vec<Fact>> {
        let mut stats = ReadStats::default();
        let snap = self.snapshot(def, &mut stats).await?;
        let newest = self.newest(&snap, key, snap.runs.len(), &mut stats).await?;
        let versions = self.row_history(def, key).await?;
        let mut facts: Vec<Fact> = vec![("table", def.qualified_name())];
        let Some(found) = newest else {
            facts.push(("state", absent(versions.len())));
            facts.push(("versions", versions.len().to_string()));
            facts.extend(self.thread_facts(def));
            return Ok(facts);
        };
        let change = &found.change;
        let live = change.op != Op::Delete;
        let channel = found.segment.as_ref().map_or(def.channel_id, |s| s.channel);
        facts.push(("key", key_text(def, &change.values)));
        facts.push(("state", if live { "live" } else { "deleted" }.into()));
        facts.push(("message_id", found.message.to_string()));
        facts.push(("channel_id", channel.to_string()));
        facts.push((
            "link",
            format!(
                "https://discord.com/channels/{}/{channel}/{}",
                self.discord.guild_id(),
                found.message
            ),
        ));
        match &found.segment {
            None => {
                let rows = match &snap.runs[found.run].body {
                    RunBody::Rows(changes) => changes.len(),
                    _ => 1,
                };
                facts.push((
                    "stored_as",
                    "row commit (the row is in the message's text)".into(),
                ));
                facts.push(("rows_in_message", rows.to_string()));
            }
            Some(seg) => {
                let kind = match &snap.runs[found.run].body {
                    RunBody::Sorted(run) if run.level > 0 => "segment of the manifest's bottom run",
                    RunBody::Sorted(_) => "segment of a manifest's or statement's newer run",
                    _ if seg.header.covers.is_some() => "checkpoint segment",
                    _ => "segment",
                };
                facts.push(("stored_as", format!("{kind} (the row is in an attachment)")));
                facts.push(("rows_in_message", seg.header.rows.to_string()));
                let message = self.segment_message(def, seg, &mut stats).await?;
                facts.push(("message_chars", message.content.chars().count().to_string()));
                if let Some(a) = message.attachments.get(seg.header.data.file) {
                    facts.push(("attachment", format!("{} ({} bytes)", a.filename, a.size)));
                }
                if let Some(b) = seg.batch_for(key) {
                    let dir = &seg.header.data.batches[b];
                    facts.push((
                        "batch",
                        format!(
                            "{b} of {}, bytes {}..{}",
                            seg.header.data.batches.len(),
                            dir.offset(),
                            dir.offset() + dir.len()
                        ),
                    ));
                }
            }
        }
        facts.push(("tokens", row_tokens(def, &change.values).join(" ")));
        facts.push((
            "row_key_hex",
            row_key(def, &change.values)
                .map(|k| k.to_hex())
                .unwrap_or_default(),
        ));
        facts.push(("versions", versions.len().to_string()));
        facts.extend(self.thread_facts(def));
        Ok(facts)
    }

    fn thread_facts(&self, def: &TableDef) -> Vec<Fact> {
        match self.history_thread(def) {
            Some((_, thread)) => vec![(
                "history_thread",
                format!(
                    "{thread} (on the table's catalog message; vacuum archives old versions there)"
                ),
            )],
            None => Vec::new(),
        }
    }
}

fn absent(versions: usize) -> String {
    if versions == 0 {
        "no such row, now or before".into()
    } else {
        "deleted; its commits were vacuumed, its versions are in the history thread".into()
    }
}
