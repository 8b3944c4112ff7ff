//! Uniqueness: the primary key and UNIQUE indexes refuse a duplicate,
//! including against rows that search has not indexed yet.
//!
//! A small insert looks each key up by search (one request per key and
//! constraint) plus one read of the history newer than the freshness window;
//! a large one reads the whole table once, which is then cheaper. Either way
//! the check runs before anything is written.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use super::Store;
use super::codec::row::composite_key_token;
use super::codec::token::token;
use super::codec::value::Value;
use super::lookup::{Access, Freshness};
use super::recent::RecentPager;
use super::schema::TableDef;
use super::table::{StoredRow, decode_page};
use crate::error::{Error, Result};

/// Above this many (row, constraint) lookups a full scan is cheaper.
const SEARCH_CHECK_LIMIT: usize = 20;

/// A set of columns whose values must be unique together.
struct Constraint {
    label: String,
    columns: Vec<usize>,
}

impl Constraint {
    /// The key of a row, one canonical value per column; `None` if any part
    /// is NULL (NULLs never collide). The parts stay apart: joined into one
    /// string, ('a\0b', 'c') and ('a', 'b\0c') could read the same.
    fn key(&self, values: &[Value]) -> Option<Vec<String>> {
        self.columns
            .iter()
            .map(|&c| values[c].canonical())
            .collect()
    }

    fn error(&self, table: &TableDef, values: &[Value], existing: bool) -> Error {
        let cols: Vec<String> = self
            .columns
            .iter()
            .map(|&c| format!("{} = {}", table.columns[c].name, values[c].show()))
            .collect();
        Error::Duplicate {
            table: table.qualified_name(),
            constraint: self.label.clone(),
            key: cols.join(", "),
            whence: if existing {
                "already has a row with"
            } else {
                "would get two rows with"
            },
        }
    }
}

impl Store {
    /// Refuse `rows` if any repeats a key among themselves or in the table.
    pub(super) async fn check_unique(
        &self,
        table: &Arc<TableDef>,
        rows: &[Vec<Value>],
        window: Duration,
    ) -> Result<()> {
        let constraints = self.constraints(table);
        check_within(table, &constraints, rows)?;
        if rows.len() * constraints.len() > SEARCH_CHECK_LIMIT {
            let existing = self.all_rows(table).await?;
            return check_against(table, &constraints, rows, &existing);
        }
        let mut existing = self.recent_rows(table, window).await?;
        for row in rows {
            for c in &constraints {
                let Some(contents) = search_content(table, c, row) else {
                    continue;
                };
                let access = Access::Search {
                    channel: table.channel_id,
                    index: false,
                    contents: vec![contents],
                };
                let mut source = self.row_source(table, &access, Freshness::Eventual);
                while let Some(page) = source.next_page().await? {
                    existing.extend(page.rows);
                }
                if source.fell_back() {
                    // Search is not available: the source read the whole table.
                    return check_against(table, &constraints, rows, &existing);
                }
            }
        }
        check_against(table, &constraints, rows, &existing)
    }

    fn constraints(&self, table: &TableDef) -> Vec<Constraint> {
        let pk = table
            .primary_key
            .iter()
            .filter_map(|k| table.column_index(k))
            .collect();
        let mut out = vec![Constraint {
            label: "primary key".into(),
            columns: pk,
        }];
        for index in self
            .indexes_of(&table.database, &table.name)
            .iter()
            .filter(|i| i.unique)
        {
            if let Some(col) = table.column_index(&index.column) {
                out.push(Constraint {
                    label: format!("UNIQUE index {}", index.name),
                    columns: vec![col],
                });
            }
        }
        out
    }

    /// Rows newer than the freshness window: written, maybe not yet searchable.
    /// The same window, from Discord's clock, as a fresh read uses.
    async fn recent_rows(&self, table: &Arc<TableDef>, window: Duration) -> Result<Vec<StoredRow>> {
        let window = self.lag.window(window);
        let mut pager = RecentPager::new(Arc::clone(&self.discord), table.channel_id, window);
        let bot = self.discord.bot_user_id();
        let mut rows = Vec::new();
        while let Some(page) = pager.next_page().await? {
            rows.extend(decode_page(table, bot, &page).rows);
        }
        Ok(rows)
    }
}

/// The one search word that finds rows with this row's key: the column's
/// token, or the composite key's own token (several words in one search
/// would be a phrase to Discord, and match nothing).
fn search_content(table: &TableDef, c: &Constraint, row: &[Value]) -> Option<String> {
    match c.columns.as_slice() {
        [one] => token(&table.columns[*one].name, &row[*one]),
        _ => composite_key_token(table, row),
    }
}

fn check_within(table: &TableDef, constraints: &[Constraint], rows: &[Vec<Value>]) -> Result<()> {
    for c in constraints {
        let mut seen = HashSet::new();
        for row in rows {
            if let Some(key) = c.key(row)
                && !seen.insert(key)
            {
                return Err(c.error(table, row, false));
            }
        }
    }
    Ok(())
}

fn check_against(
    table: &TableDef,
    constraints: &[Constraint],
    rows: &[Vec<Value>],
    existing: &[StoredRow],
) -> Result<()> {
    for c in constraints {
        let taken: HashSet<Vec<String>> =
            existing.iter().filter_map(|r| c.key(&r.values)).collect();
        if let Some(row) = rows
            .iter()
            .find(|r| c.key(r).is_some_and(|k| taken.contains(&k)))
        {
            return Err(c.error(table, row, true));
        }
    }
    Ok(())
}
