//! Names of databases and tables, and of the Discord channels that hold them.
//!
//! Discord lower-cases text channel names, so dbcord accepts only names that
//! survive that unchanged: `[a-z_][a-z0-9_]*`. Hyphens are kept out so that
//! channel names like `idx-<table>-<column>` split unambiguously.

use crate::error::{Error, NameKind, Result};

/// Longest database, table or column name (channel names stop at 100 characters).
pub const MAX_NAME_LEN: usize = 40;

/// The category that holds database `db`.
pub fn category_name(db: &str) -> String {
    format!("dbcord-{db}")
}

/// The database a category holds, if it is one of dbcord's.
pub fn database_of_category(name: &str) -> Option<&str> {
    name.strip_prefix("dbcord-").filter(|n| valid(n))
}

pub const CATALOG_CHANNEL: &str = "dbc-catalog";
/// Where `snapshot` puts a database's snapshots.
pub const SNAPSHOTS_CHANNEL: &str = "dbc-snapshots";

pub fn table_channel_name(table: &str) -> String {
    format!("table-{table}")
}

/// The channel of an index's segments (the seeds' `#idx-<table>-<index>`).
pub fn index_channel_name(table: &str, index: &str) -> String {
    format!("idx-{table}-{index}")
}

/// Topics mark the channels dbcord owns; it touches no other channel.
pub fn catalog_topic(db: &str) -> String {
    format!("dbcord catalog of database {db}. Managed by dbcord: do not post here.")
}

pub fn table_topic(db: &str, table: &str) -> String {
    format!("dbcord table {db}.{table}. Managed by dbcord: do not post here.")
}

pub fn index_topic(db: &str, table: &str, index: &str) -> String {
    format!("dbcord index {db}.{index} of table {table}. Managed by dbcord: do not post here.")
}

/// Whether a topic is that of an index channel of `db.table` (any index).
pub fn is_index_topic_of(topic: Option<&str>, db: &str, table: &str) -> bool {
    topic.is_some_and(|t| {
        t.starts_with(&format!("dbcord index {db}."))
            && t.ends_with(&format!(
                " of table {table}. Managed by dbcord: do not post here."
            ))
    })
}

/// The topic of a table's channel made by `restore`: a killed restore's
/// channel is known by it, and deleted by the next restore.
pub fn restore_topic(db: &str, table: &str, snapshot: discord_api::Snowflake) -> String {
    format!(
        "dbcord table {db}.{table}, restored from snapshot {snapshot}. Managed by dbcord: do not post here."
    )
}

/// The guild's `#dbc-audit` channel: who ran which write command.
pub const AUDIT_CHANNEL: &str = "dbc-audit";

pub fn audit_topic() -> String {
    "dbcord audit log: who changed what through the bot. Managed by dbcord: do not post here."
        .into()
}

/// The guild's `#dbc-transactions` channel: the commit points of
/// transactions over several tables (see `store::txn`).
pub const TXN_CHANNEL: &str = "dbc-transactions";

pub fn txn_topic() -> String {
    "dbcord commit points of transactions over several tables. Managed by dbcord: do not post here."
        .into()
}

pub fn snapshots_topic(db: &str) -> String {
    format!("dbcord snapshots of database {db}. Managed by dbcord: do not post here.")
}

pub fn is_dbcord_topic(topic: Option<&str>) -> bool {
    topic.is_some_and(|t| t.starts_with("dbcord "))
}

fn valid(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.len() <= MAX_NAME_LEN
}

/// Check a database, table, column or index name. A column may not start
/// with `_`: such names are dbcord's (the hidden ObjectID columns).
pub fn check(kind: NameKind, name: &str) -> Result<()> {
    if !valid(name) {
        return Err(Error::InvalidName {
            kind,
            name: name.to_string(),
            max: MAX_NAME_LEN,
        });
    }
    if kind == NameKind::Column && name.starts_with('_') {
        return Err(Error::ReservedColumnName(name.to_string()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(check(NameKind::Table, "users_2").is_ok());
        assert!(check(NameKind::Table, "_staging").is_ok());
        assert!(check(NameKind::Table, "Users").is_err());
        assert!(check(NameKind::Table, "2users").is_err());
        assert!(check(NameKind::Table, "a-b").is_err());
        assert!(check(NameKind::Table, &"x".repeat(41)).is_err());
        assert!(matches!(
            check(NameKind::Column, "_message_id"),
            Err(Error::ReservedColumnName(_))
        ));
        assert_eq!(database_of_category("dbcord-shop"), Some("shop"));
        assert_eq!(database_of_category("general"), None);
    }
}
