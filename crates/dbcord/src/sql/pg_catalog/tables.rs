//! The `pg_catalog` relations, each built from the store's catalog when a
//! statement reads it: databases as schemas (and as databases), tables
//! and their primary keys and indexes as relations, columns as
//! attributes, DEFAULTs, CHECKs, keys and UNIQUE indexes as constraints.
//! What dbcord does not have (policies, triggers, inheritance,
//! publications, statistics objects) is an empty relation of the right
//! shape, which is the truth.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, BooleanArray, Int16Array, Int64Array, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;

use super::oids;
use crate::store::{Store, TableDef};

/// A relation under construction, column by column.
#[derive(Default)]
struct Rel {
    fields: Vec<Field>,
    columns: Vec<ArrayRef>,
}

impl Rel {
    fn oid(mut self, name: &str, v: Vec<i64>) -> Self {
        self.fields.push(Field::new(name, DataType::Int64, false));
        self.columns.push(Arc::new(Int64Array::from(v)));
        self
    }

    fn int2(mut self, name: &str, v: Vec<i16>) -> Self {
        self.fields.push(Field::new(name, DataType::Int16, false));
        self.columns.push(Arc::new(Int16Array::from(v)));
        self
    }

    fn text(mut self, name: &str, v: Vec<Option<String>>) -> Self {
        self.fields.push(Field::new(name, DataType::Utf8, true));
        self.columns.push(Arc::new(StringArray::from(v)));
        self
    }

    fn flag(mut self, name: &str, v: Vec<bool>) -> Self {
        self.fields.push(Field::new(name, DataType::Boolean, false));
        self.columns.push(Arc::new(BooleanArray::from(v)));
        self
    }

    fn done(self) -> RecordBatch {
        let schema: SchemaRef = Arc::new(Schema::new(self.fields));
        RecordBatch::try_new(schema, self.columns).expect("columns of one length")
    }
}

fn same<T: Clone>(n: usize, v: T) -> Vec<T> {
    vec![v; n]
}

fn texts(v: impl IntoIterator<Item = impl Into<String>>) -> Vec<Option<String>> {
    v.into_iter().map(|s| Some(s.into())).collect()
}

/// Every table of every database.
fn tables(store: &Store) -> Vec<Arc<TableDef>> {
    store
        .database_names()
        .iter()
        .flat_map(|db| {
            store
                .table_names(db)
                .into_iter()
                .filter_map(move |t| store.table(db, &t))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The relation `name`, if `pg_catalog` has it.
pub fn build(store: &Store, name: &str) -> Option<RecordBatch> {
    Some(match name {
        "pg_namespace" => namespaces(store),
        "pg_database" => databases(store),
        "pg_class" => classes(store),
        "pg_attribute" => attributes(store),
        "pg_attrdef" => defaults(store),
        "pg_index" => indexes(store),
        "pg_constraint" => constraints(store),
        "pg_type" => types(),
        "pg_am" => Rel::default()
            .oid("oid", vec![oids::HEAP, oids::BTREE])
            .text("amname", texts(["heap", "btree"]))
            .text("amtype", texts(["t", "i"]))
            .done(),
        "pg_roles" | "pg_user" => Rel::default()
            .oid("oid", vec![oids::OWNER])
            .text("rolname", texts(["dbcord"]))
            .text("usename", texts(["dbcord"]))
            .flag("rolsuper", vec![true])
            .done(),
        name => empty(name)?,
    })
}

/// The relations with no rows in dbcord, with the columns clients read.
fn empty(name: &str) -> Option<RecordBatch> {
    let columns: &[&str] = match name {
        "pg_policy" => &[
            "oid",
            "polname",
            "polrelid",
            "polcmd",
            "polpermissive",
            "polroles",
            "polqual",
            "polwithcheck",
        ],
        "pg_statistic_ext" => &[
            "oid",
            "stxrelid",
            "stxname",
            "stxnamespace",
            "stxkind",
            "stxstattarget",
        ],
        "pg_publication" => &["oid", "pubname", "puballtables"],
        "pg_publication_namespace" => &["oid", "pnpubid", "pnnspid"],
        "pg_publication_rel" => &["oid", "prpubid", "prrelid", "prqual", "prattrs"],
        "pg_inherits" => &["inhrelid", "inhparent", "inhseqno", "inhdetachpending"],
        "pg_trigger" => &[
            "oid",
            "tgrelid",
            "tgparentid",
            "tgname",
            "tgenabled",
            "tgisinternal",
        ],
        "pg_rewrite" => &["oid", "rulename", "ev_class", "ev_enabled"],
        "pg_description" => &["objoid", "classoid", "objsubid", "description"],
        "pg_collation" => &["oid", "collname", "collnamespace"],
        "pg_tablespace" => &["oid", "spcname"],
        "pg_range" => &["rngtypid", "rngsubtype"],
        "pg_enum" => &["oid", "enumtypid", "enumsortorder", "enumlabel"],
        "pg_proc" => &["oid", "proname", "pronamespace"],
        "pg_sequence" => &["seqrelid", "seqtypid"],
        "pg_foreign_table" => &["ftrelid", "ftserver"],
        "pg_extension" => &["oid", "extname", "extversion"],
        "pg_settings" => &["name", "setting"],
        _ => return None,
    };
    let mut rel = Rel::default();
    for c in columns {
        rel = rel.text(c, Vec::new());
    }
    Some(rel.done())
}

/// The relations that never have a row in dbcord.
pub const EMPTY: [&str; 18] = [
    "pg_policy",
    "pg_statistic_ext",
    "pg_publication",
    "pg_publication_namespace",
    "pg_publication_rel",
    "pg_inherits",
    "pg_trigger",
    "pg_rewrite",
    "pg_description",
    "pg_collation",
    "pg_tablespace",
    "pg_range",
    "pg_enum",
    "pg_proc",
    "pg_sequence",
    "pg_foreign_table",
    "pg_extension",
    "pg_settings",
];

/// The relations built from the catalog.
pub const LIVE: [&str; 11] = [
    "pg_namespace",
    "pg_database",
    "pg_class",
    "pg_attribute",
    "pg_attrdef",
    "pg_index",
    "pg_constraint",
    "pg_type",
    "pg_am",
    "pg_roles",
    "pg_user",
];

/// Whether `pg_catalog` has the relation `name`.
pub fn is_table(name: &str) -> bool {
    LIVE.contains(&name) || EMPTY.contains(&name)
}

fn namespaces(store: &Store) -> RecordBatch {
    let mut names = store.database_names();
    names.push(crate::sql::guild::SCHEMA.to_string());
    names.push("pg_catalog".into());
    names.push("information_schema".into());
    let n = names.len();
    Rel::default()
        .oid("oid", names.iter().map(|d| oids::schema(d)).collect())
        .text("nspname", texts(names))
        .oid("nspowner", same(n, oids::OWNER))
        .text("nspacl", same(n, None))
        .done()
}

fn databases(store: &Store) -> RecordBatch {
    let names = store.database_names();
    let n = names.len();
    Rel::default()
        .oid("oid", names.iter().map(|d| oids::database(d)).collect())
        .text("datname", texts(names))
        .oid("datdba", same(n, oids::OWNER))
        .oid("encoding", same(n, 6))
        .text("datcollate", same(n, Some("C".into())))
        .text("datctype", same(n, Some("C".into())))
        .text("daticulocale", same(n, None))
        .text("datlocprovider", same(n, Some("c".into())))
        .flag("datistemplate", same(n, false))
        .flag("datallowconn", same(n, true))
        .oid("dattablespace", same(n, 0))
        .text("datacl", same(n, None))
        .done()
}

/// One relation row: a table (`r`) or an index (`i`).
struct Class {
    oid: i64,
    name: String,
    namespace: i64,
    kind: &'static str,
    am: i64,
    checks: i16,
    has_index: bool,
}

fn class_rows(store: &Store) -> Vec<Class> {
    let mut out = Vec::new();
    for def in tables(store) {
        let namespace = oids::schema(&def.database);
        out.push(Class {
            oid: oids::table(&def),
            name: def.name.clone(),
            namespace,
            kind: "r",
            am: oids::HEAP,
            checks: def.checks.len() as i16,
            has_index: true,
        });
        out.push(Class {
            oid: oids::primary_key(&def),
            name: oids::pkey_name(&def),
            namespace,
            kind: "i",
            am: oids::BTREE,
            checks: 0,
            has_index: false,
        });
        for index in store.indexes_of(&def.database, &def.name) {
            out.push(Class {
                oid: oids::index(&def, &index),
                name: index.name.clone(),
                namespace,
                kind: "i",
                am: oids::BTREE,
                checks: 0,
                has_index: false,
            });
        }
    }
    out
}

fn classes(store: &Store) -> RecordBatch {
    let rows = class_rows(store);
    let n = rows.len();
    let no = || same(n, false);
    Rel::default()
        .oid("oid", rows.iter().map(|r| r.oid).collect())
        .text("relname", texts(rows.iter().map(|r| r.name.clone())))
        .oid("relnamespace", rows.iter().map(|r| r.namespace).collect())
        .text("relkind", texts(rows.iter().map(|r| r.kind)))
        .oid("relowner", same(n, oids::OWNER))
        .oid("relam", rows.iter().map(|r| r.am).collect())
        .int2("relchecks", rows.iter().map(|r| r.checks).collect())
        .flag("relhasindex", rows.iter().map(|r| r.has_index).collect())
        .flag("relhasrules", no())
        .flag("relhastriggers", no())
        .flag("relrowsecurity", no())
        .flag("relforcerowsecurity", no())
        .flag("relispartition", no())
        .oid("reltablespace", same(n, 0))
        .oid("reloftype", same(n, 0))
        .oid("reltoastrelid", same(n, 0))
        .text("relpersistence", same(n, Some("p".into())))
        .text("relreplident", same(n, Some("d".into())))
        .text("relpartbound", same(n, None))
        .text("reloptions", same(n, None))
        .done()
}

fn attributes(store: &Store) -> RecordBatch {
    let (mut rel, mut name, mut ty, mut num, mut notnull, mut hasdef) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    for def in tables(store) {
        for (i, c) in def.columns.iter().enumerate() {
            rel.push(oids::table(&def));
            name.push(Some(c.name.clone()));
            ty.push(oids::column_type(c.ty).0);
            num.push(i as i16 + 1);
            notnull.push(oids::not_null(&def, c));
            hasdef.push(c.default.is_some());
        }
    }
    let n = rel.len();
    Rel::default()
        .oid("attrelid", rel)
        .text("attname", name)
        .oid("atttypid", ty)
        .oid("atttypmod", same(n, -1))
        .int2("attnum", num)
        .flag("attnotnull", notnull)
        .flag("atthasdef", hasdef)
        .flag("attisdropped", same(n, false))
        .oid("attcollation", same(n, 0))
        .text("attidentity", same(n, Some(String::new())))
        .text("attgenerated", same(n, Some(String::new())))
        .text("attstorage", same(n, Some("x".into())))
        .text("attcompression", same(n, Some(String::new())))
        .oid("attstattarget", same(n, -1))
        .done()
}

fn defaults(store: &Store) -> RecordBatch {
    let (mut rel, mut num, mut expr) = (vec![], vec![], vec![]);
    for def in tables(store) {
        for (i, c) in def.columns.iter().enumerate() {
            if let Some(d) = &c.default {
                rel.push(oids::table(&def));
                num.push(i as i16 + 1);
                expr.push(Some(d.clone()));
            }
        }
    }
    Rel::default()
        .oid("adrelid", rel)
        .int2("adnum", num)
        .text("adbin", expr)
        .done()
}

/// (index OID, table OID, primary?, unique?, key column numbers).
fn index_rows(store: &Store) -> Vec<(i64, i64, bool, bool, String)> {
    let mut out = Vec::new();
    for def in tables(store) {
        let key: Vec<String> = def
            .primary_key
            .iter()
            .filter_map(|k| def.column_index(k).map(|i| (i + 1).to_string()))
            .collect();
        out.push((
            oids::primary_key(&def),
            oids::table(&def),
            true,
            true,
            key.join(" "),
        ));
        for index in store.indexes_of(&def.database, &def.name) {
            let col = def.index_column(&index).map(|i| (i + 1).to_string());
            out.push((
                oids::index(&def, &index),
                oids::table(&def),
                false,
                index.unique,
                col.unwrap_or_default(),
            ));
        }
    }
    out
}

fn indexes(store: &Store) -> RecordBatch {
    let rows = index_rows(store);
    let n = rows.len();
    Rel::default()
        .oid("indexrelid", rows.iter().map(|r| r.0).collect())
        .oid("indrelid", rows.iter().map(|r| r.1).collect())
        .flag("indisprimary", rows.iter().map(|r| r.2).collect())
        .flag("indisunique", rows.iter().map(|r| r.3).collect())
        .flag("indisclustered", same(n, false))
        .flag("indisvalid", same(n, true))
        .flag("indisreplident", same(n, false))
        .flag("indimmediate", same(n, true))
        .flag("indnullsnotdistinct", same(n, false))
        .text("indkey", texts(rows.iter().map(|r| r.4.clone())))
        .text("indpred", same(n, None))
        .done()
}

fn constraints(store: &Store) -> RecordBatch {
    let (mut oid, mut name, mut ns, mut kind, mut rel, mut index) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    for def in tables(store) {
        let table = oids::table(&def);
        let namespace = oids::schema(&def.database);
        let mut push = |o: i64, n: String, k: &str, i: i64| {
            oid.push(o);
            name.push(Some(n));
            ns.push(namespace);
            kind.push(Some(k.to_string()));
            rel.push(table);
            index.push(i);
        };
        let pkey = oids::primary_key(&def);
        push(pkey, oids::pkey_name(&def), "p", pkey);
        // A UNIQUE index is an index, not a constraint (as in PostgreSQL
        // for CREATE UNIQUE INDEX): `pg_index` lists it.
        for c in &def.checks {
            push(oids::check(&def, &c.name), c.name.clone(), "c", 0);
        }
    }
    let n = oid.len();
    Rel::default()
        .oid("oid", oid)
        .text("conname", name)
        .oid("connamespace", ns)
        .text("contype", kind)
        .oid("conrelid", rel)
        .oid("conindid", index)
        .oid("confrelid", same(n, 0))
        .oid("conparentid", same(n, 0))
        .flag("condeferrable", same(n, false))
        .flag("condeferred", same(n, false))
        .flag("convalidated", same(n, true))
        .done()
}

fn types() -> RecordBatch {
    let n = oids::TYPES.len();
    Rel::default()
        .oid("oid", oids::TYPES.iter().map(|t| t.0).collect())
        .text("typname", texts(oids::TYPES.iter().map(|t| t.1)))
        .oid("typnamespace", same(n, oids::PG_CATALOG))
        .int2("typlen", oids::TYPES.iter().map(|t| t.2).collect())
        .text("typtype", same(n, Some("b".into())))
        .oid("typelem", same(n, 0))
        .oid("typbasetype", same(n, 0))
        .oid("typrelid", same(n, 0))
        .oid("typarray", same(n, 0))
        .oid("typcollation", same(n, 0))
        .text("typdelim", same(n, Some(",".into())))
        .flag("typnotnull", same(n, false))
        .done()
}

/// Each relation's OID by its name within `db` (for `'t'::regclass`).
pub fn class_oid(store: &Store, db: &str, name: &str) -> Option<i64> {
    let (db, name) = match name.rsplit_once('.') {
        Some((d, n)) => (d.trim_matches('"').to_string(), n.trim_matches('"')),
        None => (db.to_string(), name.trim_matches('"')),
    };
    class_rows(store)
        .into_iter()
        .find(|c| c.name == name && c.namespace == oids::schema(&db))
        .map(|c| c.oid)
}

/// A relation's name by its OID (for `oid::regclass`).
pub fn class_name(store: &Store, oid: i64) -> Option<String> {
    class_rows(store)
        .into_iter()
        .find(|c| c.oid == oid)
        .map(|c| c.name)
}

/// What names an object: for `pg_get_indexdef` and `pg_get_constraintdef`.
pub enum Object {
    /// A table's primary key or index: the table, unique?, its columns.
    Index {
        name: String,
        table: Arc<TableDef>,
        unique: bool,
        primary: bool,
        columns: Vec<String>,
    },
    Check(String),
}

/// The index or constraint with this OID.
pub fn object(store: &Store, oid: i64) -> Option<Object> {
    for def in tables(store) {
        if oids::primary_key(&def) == oid {
            return Some(Object::Index {
                name: oids::pkey_name(&def),
                columns: def.primary_key.clone(),
                table: def,
                unique: true,
                primary: true,
            });
        }
        for ix in store.indexes_of(&def.database, &def.name) {
            if oids::index(&def, &ix) == oid {
                let column = def
                    .index_column(&ix)
                    .map(|i| def.columns[i].name.clone())
                    .unwrap_or_default();
                return Some(Object::Index {
                    name: ix.name.clone(),
                    table: Arc::clone(&def),
                    unique: ix.unique,
                    primary: false,
                    columns: vec![column],
                });
            }
        }
        if let Some(c) = def
            .checks
            .iter()
            .find(|c| oids::check(&def, &c.name) == oid)
        {
            return Some(Object::Check(c.expr.clone()));
        }
    }
    None
}

/// The schema a relation is in, by its OID.
pub fn class_namespace(store: &Store, oid: i64) -> Option<i64> {
    class_rows(store)
        .into_iter()
        .find(|c| c.oid == oid)
        .map(|c| c.namespace)
}
