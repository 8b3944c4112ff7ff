//! Running one slash command on the engine: every command becomes the
//! plan or store call its SQL would, with the same atomicity, pushdown
//! and errors. Values never travel inside SQL text: rows are typed
//! values, filters and updates are DataFusion expressions, and the two
//! statements built as text (the ALTER of `/dbc_schema_set`, the CREATE
//! INDEX) hold only names that passed dbcord's name check (`[a-z_][a-z0-9_]*`)
//! and dbcord's own type names.

use std::sync::Arc;

use datafusion::common::ScalarValue;
use datafusion::prelude::{Expr, col, lit};
use serde_json::{Map, Value as Json};

use super::commands::{Access, access};
use super::documents::{self, Schema};
use super::invocation::Invocation;
use super::reply::Answer;
use super::where_json::{self, quoted};
use crate::error::NameKind;
use crate::sql::admin::AdminOp;
use crate::sql::{Engine, Outcome};
use crate::store::{Column, ColumnType, LargeRows, NewTable, TableDef, WriteOptions};

/// Rows a `/dbc_find` returns without a `limit`.
pub const DEFAULT_FIND_LIMIT: usize = 1000;
/// The column a table made by `/dbc_table_create` keeps its documents in
/// until a schema gives them columns.
pub const DOC_COLUMN: &str = "doc";

/// Who may read: anyone, or members with one of these roles.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    pub read_roles: Vec<discord_api::Snowflake>,
}

/// Whether the member may run the command, or why not.
pub fn allowed(inv: &Invocation, policy: &Policy) -> Result<(), String> {
    use discord_api::interactions::permission::{ADMINISTRATOR, MANAGE_GUILD};
    let manager = inv.permissions & (MANAGE_GUILD | ADMINISTRATOR) != 0;
    match access(&inv.name) {
        None => Err(format!("/{} is not a dbcord command", inv.name)),
        Some(Access::Write) if !manager => Err(format!(
            "/{} changes the database: it needs the Manage Guild permission; nothing was written",
            inv.name
        )),
        Some(Access::Read)
            if !manager
                && !policy.read_roles.is_empty()
                && !inv.roles.iter().any(|r| policy.read_roles.contains(r)) =>
        {
            Err(format!(
                "/{} is open to members with a reader role",
                inv.name
            ))
        }
        Some(_) => Ok(()),
    }
}

/// What can be checked before anything is read: JSON options parse.
pub fn precheck(inv: &Invocation) -> Result<(), String> {
    for (option, what) in [
        ("value_json", "a JSON object"),
        ("patch_json", "a JSON object"),
        ("where_json", "a JSON object"),
        ("schema_json", "a JSON object"),
    ] {
        if let Some(text) = inv.text(option).filter(|t| !t.trim().is_empty()) {
            match serde_json::from_str::<Json>(text) {
                Ok(Json::Object(_)) => {}
                Ok(other) => {
                    return Err(format!(
                        "{option}: expected {what}, not {other}; nothing was written"
                    ));
                }
                Err(e) => {
                    return Err(format!(
                        "{option}: not valid JSON ({e}); nothing was written"
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Run the command.
pub async fn run(engine: &Engine, inv: &Invocation) -> Answer {
    match dispatch(engine, inv).await {
        Ok(a) => a,
        Err(e) => Answer::Error(e),
    }
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

async fn dispatch(engine: &Engine, inv: &Invocation) -> Result<Answer, String> {
    let store = engine.store();
    store.refresh().await.map_err(err)?;
    match inv.name.as_str() {
        "dbc_init" => {
            let db = inv.need("database")?;
            let made = store.create_database(db, true).await.map_err(err)?;
            Ok(Answer::Text(if made {
                format!("database {db} created")
            } else {
                format!("database {db} already exists")
            }))
        }
        "dbc_table_create" => table_create(engine, inv).await,
        "dbc_schema_set" => schema_set(engine, inv).await,
        "dbc_index_create" => index_create(engine, inv).await,
        "dbc_insert" => insert(engine, inv).await,
        "dbc_find" => find(engine, inv).await,
        "dbc_update" => update(engine, inv).await,
        "dbc_delete" => {
            let (db, def) = table(engine, inv)?;
            let tag = engine
                .delete(&db, &def.name, key_filter(&def, inv.need("key")?)?)
                .await
                .map_err(err)?;
            Ok(Answer::Text(tag))
        }
        "dbc_inspect" => {
            let (db, def) = table(engine, inv)?;
            let key = key_value(&def, inv.need("key")?)?;
            admin(
                engine,
                AdminOp::Inspect,
                vec![name_arg(&db, &def.name), key],
            )
            .await
        }
        "dbc_export" => export(engine, inv).await,
        "dbc_verify" | "dbc_vacuum" | "dbc_snapshot" => {
            let (db, def) = table(engine, inv)?;
            let op = match inv.name.as_str() {
                "dbc_verify" => AdminOp::Verify,
                "dbc_vacuum" => AdminOp::Vacuum,
                _ => AdminOp::Snapshot,
            };
            admin(engine, op, vec![name_arg(&db, &def.name)]).await
        }
        "dbc_reindex" => {
            let db = inv.need("database")?;
            admin(
                engine,
                AdminOp::Reindex,
                vec![name_arg(db, inv.need("index")?)],
            )
            .await
        }
        "dbc_restore" => {
            // restore() reads the ID and names a bad one.
            let (db, def) = table(engine, inv)?;
            let id = ScalarValue::Utf8(Some(inv.need("snapshot_id")?.trim().to_string()));
            admin(engine, AdminOp::Restore, vec![name_arg(&db, &def.name), id]).await
        }
        "dbc_sql" => sql(engine, inv.need("query")?).await,
        other => Err(format!("/{other} is not a dbcord command")),
    }
}

/// The database and table the options name.
fn table(engine: &Engine, inv: &Invocation) -> Result<(String, Arc<TableDef>), String> {
    let db = inv.need("database")?;
    let name = inv.need("table")?;
    let def = engine
        .store()
        .table(db, name)
        .ok_or_else(|| format!("no table {db}.{name} (create it with /dbc_table_create)"))?;
    Ok((db.to_string(), def))
}

/// A name checked as dbcord checks every name, fit to stand in SQL text.
fn ident(kind: crate::error::NameKind, name: &str) -> Result<&str, String> {
    crate::store::check_name(kind, name).map_err(err)?;
    Ok(name)
}

fn name_arg(db: &str, name: &str) -> ScalarValue {
    ScalarValue::Utf8(Some(format!("{db}.{name}")))
}

async fn admin(engine: &Engine, op: AdminOp, args: Vec<ScalarValue>) -> Result<Answer, String> {
    outcome(engine.admin(op, args).await.map_err(err)?)
}

fn outcome(o: Outcome) -> Result<Answer, String> {
    Ok(match o {
        Outcome::Rows { schema, batches } => Answer::Rows { schema, batches },
        Outcome::Status(tag) => Answer::Text(tag),
    })
}

async fn table_create(engine: &Engine, inv: &Invocation) -> Result<Answer, String> {
    let db = inv.need("database")?;
    let name = inv.need("table")?;
    let pk = inv.need("pk")?;
    if pk == DOC_COLUMN {
        return Err(format!(
            "pk: {DOC_COLUMN} is the documents' column; choose another key name"
        ));
    }
    let new = NewTable {
        name: name.to_string(),
        columns: vec![
            Column::new(pk, ColumnType::Text, false),
            Column::new(DOC_COLUMN, ColumnType::Json, true),
        ],
        primary_key: vec![pk.to_string()],
        checks: Vec::new(),
        large_rows: LargeRows::default(),
    };
    engine
        .store()
        .create_table(db, new, false)
        .await
        .map_err(err)?;
    Ok(Answer::Text(format!(
        "table {db}.{name} created, keyed by {pk}; documents go in its {DOC_COLUMN} column until /dbc_schema_set gives them columns"
    )))
}

/// One ALTER TABLE of every change the schema asks: new columns, NOT NULL
/// set and dropped; the rows are checked first, and a row that breaks a
/// rule is named (nothing changes then).
async fn schema_set(engine: &Engine, inv: &Invocation) -> Result<Answer, String> {
    let (db, def) = table(engine, inv)?;
    let schema = Schema::parse(inv.need("schema_json")?).map_err(err)?;
    let key = |n: &str| def.primary_key.iter().any(|k| k == n);
    // Rules on existing columns first (checked against the rows, nothing
    // changed if one breaks), then new columns, then their NOT NULL.
    let (mut rules, mut added, mut new_rules) = (Vec::new(), Vec::new(), Vec::new());
    for (name, ty) in &schema.properties {
        match def.columns.iter().find(|c| &c.name == name) {
            Some(c) if c.ty != *ty && !(key(name) && c.ty == ColumnType::Text) => {
                return Err(format!(
                    "schema_json: {name} is {} in {db}.{}, not {}; nothing was changed",
                    c.ty.sql_name(),
                    def.name,
                    ty.sql_name()
                ));
            }
            Some(_) => {}
            None => added.push(format!(
                "ADD COLUMN {} {}",
                ident(NameKind::Column, name)?,
                ty.sql_name()
            )),
        }
    }
    for c in &def.columns {
        if key(&c.name) {
            continue;
        }
        let required = schema.required.contains(&c.name);
        if required && c.nullable {
            rules.push(format!(
                "ALTER COLUMN {} SET NOT NULL",
                ident(NameKind::Column, &c.name)?
            ));
        } else if !required && !c.nullable {
            rules.push(format!(
                "ALTER COLUMN {} DROP NOT NULL",
                ident(NameKind::Column, &c.name)?
            ));
        }
    }
    for r in &schema.required {
        if !def.columns.iter().any(|c| &c.name == r) && !key(r) {
            new_rules.push(format!(
                "ALTER COLUMN {} SET NOT NULL",
                ident(NameKind::Column, r)?
            ));
        }
    }
    if !new_rules.is_empty() {
        let any = engine
            .find(&db, &def.name, lit(true), Some(1))
            .await
            .map_err(err)?;
        let rows = any.collect().await.map_err(err)?;
        if let Some(row) = crate::sql::convert::text_cells(&rows).map_err(err)?.first() {
            return Err(format!(
                "schema_json: the row {} has no value for a newly required field; nothing was changed",
                row.first().cloned().unwrap_or_default()
            ));
        }
    }
    let table = format!(
        "{}.{}",
        ident(NameKind::Database, &db)?,
        ident(NameKind::Table, &def.name)?
    );
    let mut ops = Vec::new();
    for step in [rules, added, new_rules] {
        if !step.is_empty() {
            engine
                .execute(&format!("ALTER TABLE {table} {}", step.join(", ")))
                .await
                .map_err(err)?;
            ops.extend(step);
        }
    }
    if ops.is_empty() {
        return Ok(Answer::Text(format!(
            "{db}.{} already has this schema",
            def.name
        )));
    }
    Ok(Answer::Text(format!(
        "{db}.{}: {}",
        def.name,
        ops.join(", ")
    )))
}

async fn index_create(engine: &Engine, inv: &Invocation) -> Result<Answer, String> {
    let (db, def) = table(engine, inv)?;
    let field = inv.need("field")?;
    if def.column_index(field).is_none() {
        return Err(format!("{db}.{} has no field {field}", def.name));
    }
    let unique = inv.options.get("unique") == Some(&Json::Bool(true));
    let index = format!("{}_{}_idx", def.name, field);
    let statement = format!(
        "CREATE {}INDEX {} ON {}.{} ({})",
        if unique { "UNIQUE " } else { "" },
        ident(NameKind::Index, &index)?,
        ident(NameKind::Database, &db)?,
        ident(NameKind::Table, &def.name)?,
        ident(NameKind::Column, field)?
    );
    engine.execute(&statement).await.map_err(err)?;
    Ok(Answer::Text(format!(
        "{}index {index} on {db}.{} ({field}) created",
        if unique { "unique " } else { "" },
        def.name
    )))
}

/// Whether the table keeps whole documents (its key and `doc` only).
fn is_document_table(def: &TableDef) -> bool {
    def.columns.len() == 2
        && def
            .columns
            .iter()
            .any(|c| c.name == DOC_COLUMN && c.ty == ColumnType::Json)
}

async fn insert(engine: &Engine, inv: &Invocation) -> Result<Answer, String> {
    let (_, def) = table(engine, inv)?;
    let key = inv.need("key")?;
    let value_json = inv.need("value_json")?;
    let row = if is_document_table(&def) {
        let doc: Json = serde_json::from_str(value_json).map_err(err)?;
        let mut values = vec![crate::store::Value::Null; 2];
        let pk = def.column_index(&def.primary_key[0]).unwrap_or(0);
        values[pk] = crate::store::Value::Text(key.to_string());
        values[1 - pk] = crate::store::Value::Text(doc.to_string());
        values
    } else {
        let mut doc: Map<String, Json> = serde_json::from_str(value_json).map_err(err)?;
        if let [pk] = def.primary_key.as_slice() {
            let typed = key_json(&def, pk, key)?;
            match doc.get(pk) {
                Some(v) if *v != typed => {
                    return Err(format!(
                        "value_json: {pk} is {v} but the key is {key:?}; nothing was written"
                    ));
                }
                _ => {
                    doc.insert(pk.clone(), typed);
                }
            }
        }
        documents::row(&def, None, &Json::Object(doc).to_string()).map_err(err)?
    };
    crate::sql::rules::enforce_checks(&def, std::iter::once(row.as_slice())).map_err(err)?;
    let options = WriteOptions::default();
    engine
        .store()
        .insert(&def, vec![row], &options)
        .await
        .map_err(err)?;
    Ok(Answer::Text(format!(
        "inserted {key} into {}",
        def.qualified_name()
    )))
}

/// The key option as the key column's JSON value (an integer key parsed).
fn key_json(def: &TableDef, pk: &str, key: &str) -> Result<Json, String> {
    let ty = def.columns[def.column_index(pk).unwrap_or(0)].ty;
    match ty {
        ColumnType::BigInt | ColumnType::Int => key
            .trim()
            .parse::<i64>()
            .map(Json::from)
            .map_err(|_| format!("key: {pk} is an integer, and {key:?} is not one")),
        _ => Ok(Json::String(key.to_string())),
    }
}

fn key_value(def: &TableDef, key: &str) -> Result<ScalarValue, String> {
    let [pk] = def.primary_key.as_slice() else {
        return Err(format!(
            "{} has a composite key; use /dbc_sql",
            def.qualified_name()
        ));
    };
    Ok(match key_json(def, pk, key)? {
        Json::Number(n) => ScalarValue::Int64(n.as_i64()),
        _ => ScalarValue::Utf8(Some(key.to_string())),
    })
}

fn key_filter(def: &TableDef, key: &str) -> Result<Expr, String> {
    let pk = &def.primary_key[0];
    Ok(col(quoted(pk)).eq(lit(key_value(def, key)?)))
}

async fn find(engine: &Engine, inv: &Invocation) -> Result<Answer, String> {
    let (db, def) = table(engine, inv)?;
    let filter = match inv.text("where_json").filter(|t| !t.trim().is_empty()) {
        Some(w) => where_json::filter(&def, w).map_err(err)?,
        None => lit(true),
    };
    let limit = match inv.options.get("limit").and_then(Json::as_i64) {
        Some(n) if n <= 0 => return Err(format!("limit: {n} is not a positive number")),
        Some(n) => n as usize,
        None => DEFAULT_FIND_LIMIT,
    };
    let df = engine
        .find(&db, &def.name, filter, Some(limit))
        .await
        .map_err(err)?;
    let schema = Arc::new(df.schema().as_arrow().clone());
    let batches = df.collect().await.map_err(err)?;
    Ok(Answer::Rows { schema, batches })
}

/// A partial update: each field of `patch_json` set (a JSON field merged
/// as RFC 7396 says); on a document table, the patch merged into `doc`.
async fn update(engine: &Engine, inv: &Invocation) -> Result<Answer, String> {
    let (db, def) = table(engine, inv)?;
    let key = inv.need("key")?;
    let patch: Map<String, Json> = serde_json::from_str(inv.need("patch_json")?).map_err(err)?;
    let set = if is_document_table(&def) {
        let doc = col(quoted(DOC_COLUMN));
        let merged =
            crate::sql::json_patch::merge_patch_expr(doc, lit(Json::Object(patch).to_string()));
        vec![(DOC_COLUMN.to_string(), merged)]
    } else {
        assignments(&def, &patch)?
    };
    let tag = engine
        .update(&db, &def.name, key_filter(&def, key)?, set)
        .await
        .map_err(err)?;
    if tag.ends_with(" 0") {
        return Err(format!(
            "no row of {} has the key {key:?}; nothing was written",
            def.qualified_name()
        ));
    }
    Ok(Answer::Text(tag))
}

fn assignments(def: &TableDef, patch: &Map<String, Json>) -> Result<Vec<(String, Expr)>, String> {
    let mut set = Vec::new();
    for (field, value) in patch {
        let Some(i) = def.column_index(field) else {
            let names: Vec<&str> = def.columns.iter().map(|c| c.name.as_str()).collect();
            return Err(format!(
                "patch_json: {} has no field {field} (its fields: {}); nothing was written",
                def.qualified_name(),
                names.join(", ")
            ));
        };
        let c = &def.columns[i];
        if def.primary_key.contains(field) {
            return Err(format!(
                "patch_json: {field} is the key; delete and insert to change it"
            ));
        }
        let expr = match (c.ty, value) {
            (_, Json::Null) => {
                return Err(format!(
                    "patch_json: {field}: null is not a value here; nothing was written"
                ));
            }
            (ColumnType::Json, v) => {
                crate::sql::json_patch::merge_patch_expr(col(quoted(field)), lit(v.to_string()))
            }
            (ty, v) => where_json::literal(field, ty, v).map_err(err)?,
        };
        set.push((field.clone(), expr));
    }
    Ok(set)
}

/// The table as a JSON-lines file.
async fn export(engine: &Engine, inv: &Invocation) -> Result<Answer, String> {
    use datafusion::arrow::json::LineDelimitedWriter;
    let (db, def) = table(engine, inv)?;
    let df = engine
        .find(&db, &def.name, lit(true), None)
        .await
        .map_err(err)?;
    let batches = df.collect().await.map_err(err)?;
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    let mut bytes = Vec::new();
    {
        let mut w = LineDelimitedWriter::new(&mut bytes);
        for b in &batches {
            w.write(b).map_err(err)?;
        }
        w.finish().map_err(err)?;
    }
    if bytes.len() > discord_api::limits::MAX_FILE_BYTES {
        return Err(format!(
            "{}: {rows} rows make {} bytes, more than a Discord file holds; use `dbcord -c \"SELECT export(...)\"`",
            def.qualified_name(),
            bytes.len()
        ));
    }
    Ok(Answer::File {
        line: format!("{rows} rows of {}", def.qualified_name()),
        name: format!("{}.jsonl", def.name),
        bytes,
    })
}

/// `/dbc_sql`: each statement on a session of its own; the last result shown.
async fn sql(engine: &Engine, query: &str) -> Result<Answer, String> {
    let session = Engine::new(Arc::clone(engine.store()));
    let mut outcomes = session.execute(query).await.map_err(err)?;
    let last = outcomes.pop().ok_or("the query holds no statement")?;
    let tags: Vec<String> = outcomes
        .into_iter()
        .filter_map(|o| match o {
            Outcome::Status(t) => Some(t),
            Outcome::Rows { .. } => None,
        })
        .collect();
    match last {
        Outcome::Status(t) if !tags.is_empty() => {
            Ok(Answer::Text(format!("{}\n{t}", tags.join("\n"))))
        }
        other => outcome(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn invocation(name: &str, permissions: u64, roles: Vec<u64>) -> Invocation {
        let v = json!({
            "id": "1", "application_id": "2", "type": 2, "token": "t",
            "data": {"name": name, "options": []},
            "member": {"user": {"id": "3"}, "permissions": permissions.to_string(),
                       "roles": roles.iter().map(|r| r.to_string()).collect::<Vec<_>>()},
        });
        Invocation::read(&v).unwrap()
    }

    /// The bot checks again what Discord's client checks, since a guild's
    /// admins may open a command to everyone.
    #[test]
    fn writes_need_manage_guild_and_reads_may_be_kept_to_a_role() {
        let open = Policy::default();
        assert!(allowed(&invocation("dbc_insert", 0, vec![]), &open).is_err());
        assert!(allowed(&invocation("dbc_insert", 32, vec![]), &open).is_ok());
        assert!(allowed(&invocation("dbc_insert", 8, vec![]), &open).is_ok());
        assert!(allowed(&invocation("dbc_find", 0, vec![]), &open).is_ok());
        let readers = Policy {
            read_roles: vec![discord_api::Snowflake(77)],
        };
        assert!(allowed(&invocation("dbc_find", 0, vec![]), &readers).is_err());
        assert!(allowed(&invocation("dbc_find", 0, vec![77]), &readers).is_ok());
        assert!(allowed(&invocation("nope", 32, vec![]), &open).is_err());
    }
}
