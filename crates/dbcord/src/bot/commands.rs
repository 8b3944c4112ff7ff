//! The slash commands, with the seeds' names and options: what the bot
//! registers in the guild (a bulk overwrite at every start) and what each
//! command needs of the member.

use serde_json::{Value, json};

use discord_api::interactions::option_type::{BOOLEAN, INTEGER, STRING};
use discord_api::interactions::permission::MANAGE_GUILD;

/// Who may run a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Reads: anyone who can use the bot (or a role, by the bot's setting).
    Read,
    /// Writes and administration: Manage Guild by default.
    Write,
}

/// One option: name, type, whether required, autocompleted, description.
type Opt = (&'static str, u8, bool, bool, &'static str);

const DB: Opt = (
    "database",
    STRING,
    true,
    true,
    "The database (a category of the guild)",
);
const TABLE: Opt = ("table", STRING, true, true, "The table");
const KEY: Opt = ("key", STRING, true, false, "The row's primary key");

/// Every command: name, access, description, options.
pub const COMMANDS: &[(&str, Access, &str, &[Opt])] = &[
    ("dbc_init", Access::Write, "Create a database", &[DB]),
    (
        "dbc_table_create",
        Access::Write,
        "Create a table keyed by pk",
        &[
            DB,
            ("table", STRING, true, false, "The new table's name"),
            ("pk", STRING, true, false, "The primary key's name"),
        ],
    ),
    (
        "dbc_schema_set",
        Access::Write,
        "Set a table's columns and required fields from a JSON schema",
        &[
            DB,
            TABLE,
            (
                "schema_json",
                STRING,
                true,
                false,
                "{\"required\":[...],\"properties\":{\"name\":\"str\",...}}",
            ),
        ],
    ),
    (
        "dbc_index_create",
        Access::Write,
        "Create an index on a field",
        &[
            DB,
            TABLE,
            ("field", STRING, true, true, "The indexed field"),
            (
                "unique",
                BOOLEAN,
                false,
                false,
                "Refuse two rows with one value",
            ),
        ],
    ),
    (
        "dbc_insert",
        Access::Write,
        "Insert a document",
        &[
            DB,
            TABLE,
            KEY,
            (
                "value_json",
                STRING,
                true,
                false,
                "The document, a JSON object",
            ),
        ],
    ),
    (
        "dbc_find",
        Access::Read,
        "Find documents matching a filter",
        &[
            DB,
            TABLE,
            (
                "where_json",
                STRING,
                false,
                false,
                "{\"field\": value} or {\"field\": {\"$gt\": 3}}; empty: all",
            ),
            ("limit", INTEGER, false, false, "Rows at most"),
        ],
    ),
    (
        "dbc_update",
        Access::Write,
        "Change some fields of a document",
        &[
            DB,
            TABLE,
            KEY,
            (
                "patch_json",
                STRING,
                true,
                false,
                "The fields to change, a JSON object",
            ),
        ],
    ),
    (
        "dbc_delete",
        Access::Write,
        "Delete a document",
        &[DB, TABLE, KEY],
    ),
    (
        "dbc_inspect",
        Access::Read,
        "How a row is stored",
        &[DB, TABLE, KEY],
    ),
    (
        "dbc_export",
        Access::Read,
        "A table as a JSON-lines file",
        &[DB, TABLE],
    ),
    (
        "dbc_verify",
        Access::Write,
        "Check a table's storage",
        &[DB, TABLE],
    ),
    (
        "dbc_reindex",
        Access::Write,
        "Rebuild an index",
        &[DB, ("index", STRING, true, false, "The index's name")],
    ),
    (
        "dbc_vacuum",
        Access::Write,
        "Fold a table's history",
        &[DB, TABLE],
    ),
    (
        "dbc_snapshot",
        Access::Write,
        "Save a snapshot of a table",
        &[DB, TABLE],
    ),
    (
        "dbc_restore",
        Access::Write,
        "Restore a table from a snapshot",
        &[
            DB,
            TABLE,
            (
                "snapshot_id",
                STRING,
                true,
                false,
                "The snapshot's ID (from /dbc_snapshot)",
            ),
        ],
    ),
    (
        "dbc_sql",
        Access::Write,
        "Run SQL",
        &[("query", STRING, true, false, "One or more SQL statements")],
    ),
];

/// The access a command needs (`None`: not a dbcord command).
pub fn access(name: &str) -> Option<Access> {
    COMMANDS.iter().find(|c| c.0 == name).map(|c| c.1)
}

/// The bulk overwrite's body. Write commands carry Manage Guild as their
/// `default_member_permissions`, so Discord hides them from members
/// without it (the bot checks again: a server admin may override).
pub fn definitions() -> Value {
    let list: Vec<Value> = COMMANDS
        .iter()
        .map(|(name, access, description, options)| {
            let options: Vec<Value> = options
                .iter()
                .map(|(n, ty, required, auto, d)| {
                    let mut o =
                        json!({"name": n, "type": ty, "description": d, "required": required});
                    if *auto {
                        o["autocomplete"] = json!(true);
                    }
                    o
                })
                .collect();
            let perms = match access {
                Access::Write => json!(MANAGE_GUILD.to_string()),
                Access::Read => Value::Null,
            };
            json!({
                "name": name,
                "type": 1,
                "description": description,
                "options": options,
                "default_member_permissions": perms,
                "contexts": [0],
            })
        })
        .collect();
    Value::Array(list)
}
