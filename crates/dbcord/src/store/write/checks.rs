//! The checks a statement passes before its commit is posted: every row
//! whole and within dbcord's size, no key or UNIQUE value twice in the
//! statement, and none held by another live row of its snapshot (point
//! lookups, not a scan).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::store::codec::key::{Key, row_key};
use crate::store::codec::op::Change;
use crate::store::codec::op::Op;
use crate::store::codec::row::{KeyNames, decode_json, row_json, row_text};
use crate::store::codec::value::Value;
use crate::store::read::snapshot::Snapshot;
use crate::store::read::stats::ReadStats;
use crate::store::schema::{IndexDef, TableDef};
use crate::store::state::Store;

impl Store {
    /// A statement's changes against `snap`: no key or UNIQUE value twice
    /// among them, none that another live row holds.
    pub(crate) async fn check_statement(
        &self,
        snap: &Snapshot,
        indexes: &[Arc<IndexDef>],
        changes: &[Change],
        stats: &mut ReadStats,
    ) -> Result<()> {
        check_within(&snap.def, indexes, changes)?;
        self.check_against(snap, indexes, changes, stats).await
    }

    /// Refuse a change whose key or UNIQUE value another live row holds.
    pub(super) async fn check_against(
        &self,
        snap: &Snapshot,
        indexes: &[Arc<IndexDef>],
        changes: &[Change],
        stats: &mut ReadStats,
    ) -> Result<()> {
        let def = &snap.def;
        self.refuse_taken_keys(snap, changes, stats).await?;
        let mine: HashSet<Key> = changes
            .iter()
            .filter_map(|c| row_key(def, &c.values))
            .collect();
        for index in indexes.iter().filter(|i| i.unique) {
            self.check_unique(snap, index, changes, &mine, stats)
                .await?;
        }
        Ok(())
    }

    /// Refuse an inserted key that a live row of `snap` already holds.
    pub(super) async fn refuse_taken_keys(
        &self,
        snap: &Snapshot,
        changes: &[Change],
        stats: &mut ReadStats,
    ) -> Result<()> {
        let def = &snap.def;
        for c in changes.iter().filter(|c| c.op == Op::Insert) {
            let key = row_key(def, &c.values).expect("checked");
            if let Some(held) = self.newest(snap, &key, snap.runs.len(), stats).await?
                && held.change.op != Op::Delete
            {
                let pk = &def.primary_key;
                return Err(duplicate(def, "primary key".into(), pk, &c.values, true));
            }
        }
        Ok(())
    }

    /// No other live row (one this statement does not rewrite) may hold a
    /// value this statement writes into a UNIQUE index.
    async fn check_unique(
        &self,
        snap: &Snapshot,
        index: &IndexDef,
        changes: &[Change],
        mine: &HashSet<Key>,
        stats: &mut ReadStats,
    ) -> Result<()> {
        let def = &snap.def;
        let Some(col) = def.index_column(index) else {
            return Ok(());
        };
        let written: Vec<&Change> = changes
            .iter()
            .filter(|c| c.op != Op::Delete && c.values[col] != Value::Null)
            .collect();
        let values: Vec<Value> = written.iter().map(|c| c.values[col].clone()).collect();
        if values.is_empty() {
            return Ok(());
        }
        let holders = self.by_index(snap, index, &values, stats).await?;
        for holder in holders {
            let key = row_key(def, &holder.values);
            if key.is_some_and(|k| mine.contains(&k)) {
                continue;
            }
            let c = written
                .iter()
                .find(|c| c.values[col] == holder.values[col])
                .expect("a holder of a written value");
            return Err(unique_duplicate(def, index, &c.values, true));
        }
        Ok(())
    }
}

/// The changes as they will be stored: every row whole (arity, types, NOT
/// NULL, a key), its values as they will read back, none over
/// [`MAX_ROW_BYTES`].
pub(crate) fn checked_rows(def: &TableDef, changes: Vec<Change>) -> Result<Vec<Change>> {
    let changes = normalise(def, changes)?;
    check_row_sizes(def, &changes)?;
    Ok(changes)
}

/// Every row whole, its values as they will read back (so keys and
/// tokens are computed from what is stored).
fn normalise(def: &TableDef, changes: Vec<Change>) -> Result<Vec<Change>> {
    changes
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            // row_json checks the row whole (arity, types, NOT NULL).
            let values = match c.op {
                Op::Delete => c.values,
                _ => {
                    let json = row_json(def, &c.values, i + 1)?;
                    decode_json(def, &json).expect("a row's own JSON decodes")
                }
            };
            if row_key(def, &values).is_none() {
                return Err(null_key(def, &values, i + 1));
            }
            Ok(Change { op: c.op, values })
        })
        .collect()
}

fn null_key(def: &TableDef, values: &[Value], row: usize) -> Error {
    let column = def
        .primary_key
        .iter()
        .find(|k| {
            def.column_index(k)
                .is_some_and(|i| values[i] == Value::Null)
        })
        .cloned()
        .unwrap_or_default();
    Error::NullValue {
        table: def.qualified_name(),
        column,
        row,
    }
}

/// No key, and no value of a UNIQUE index, twice in one statement.
pub(super) fn check_within(
    def: &TableDef,
    indexes: &[Arc<IndexDef>],
    changes: &[Change],
) -> Result<()> {
    let mut keys = HashSet::new();
    for c in changes {
        if !keys.insert(row_key(def, &c.values)) {
            return Err(duplicate(
                def,
                "primary key".into(),
                &def.primary_key,
                &c.values,
                false,
            ));
        }
    }
    for index in indexes.iter().filter(|i| i.unique) {
        let Some(col) = def.index_column(index) else {
            continue;
        };
        let mut seen: HashMap<Key, ()> = HashMap::new();
        for c in changes.iter().filter(|c| c.op != Op::Delete) {
            if let Some(v) = Key::of([&c.values[col]])
                && seen.insert(v, ()).is_some()
            {
                return Err(unique_duplicate(def, index, &c.values, false));
            }
        }
    }
    Ok(())
}

/// The duplicate error of a UNIQUE index.
fn unique_duplicate(def: &TableDef, index: &IndexDef, values: &[Value], existing: bool) -> Error {
    let label = format!("UNIQUE index {}", index.name);
    let column = def
        .index_column(index)
        .map(|i| def.columns[i].name.clone())
        .unwrap_or_else(|| index.column.clone());
    duplicate(def, label, &[column], values, existing)
}

fn duplicate(
    def: &TableDef,
    constraint: String,
    columns: &[String],
    values: &[Value],
    existing: bool,
) -> Error {
    let key: Vec<String> = columns
        .iter()
        .filter_map(|c| {
            def.column_index(c)
                .map(|i| format!("{c} = {}", values[i].show()))
        })
        .collect();
    Error::Duplicate {
        table: def.qualified_name(),
        constraint,
        key: key.join(", "),
        whence: if existing {
            "already has a row with"
        } else {
            "would get two rows with"
        },
    }
}

/// The largest row dbcord stores, as its JSON: 10 MiB.
pub const MAX_ROW_BYTES: usize = 10 << 20;

/// Refuse a row larger than [`MAX_ROW_BYTES`], naming it. Only rows whose
/// text alone could come near the limit are encoded to be measured.
fn check_row_sizes(def: &TableDef, changes: &[Change]) -> Result<()> {
    for (i, c) in changes.iter().enumerate() {
        let text: usize = c
            .values
            .iter()
            .map(|v| match v {
                Value::Text(s) => s.len(),
                _ => 24,
            })
            .sum();
        if text < MAX_ROW_BYTES / 2 {
            continue;
        }
        let bytes = row_text(def, &c.values, KeyNames::Stored).len();
        if bytes > MAX_ROW_BYTES {
            return Err(Error::RowOverLimit {
                table: def.qualified_name(),
                row: i + 1,
                bytes,
            });
        }
    }
    Ok(())
}
