//! PostgreSQL's catalog functions that clients call (psql's `\d`, drivers,
//! tools), answered from dbcord's catalog: `format_type`,
//! `pg_table_is_visible`, `pg_get_indexdef`, `pg_get_constraintdef`,
//! `pg_get_expr`, `pg_get_userbyid`, `current_database`, `version`, and
//! the casts `compat` turns `::regclass` into.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Int64Array, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature,
    Volatility,
};
use datafusion::prelude::SessionContext;

use super::oids;
use super::tables::{Object, class_name, class_namespace, class_oid, object};
use crate::store::Store;

/// What a function computes from its arguments (as arrays of one length)
/// and the session's current database.
type Body = dyn Fn(&[ArrayRef], &str) -> Result<ArrayRef> + Send + Sync;

struct PgFunction {
    name: &'static str,
    signature: Signature,
    returns: DataType,
    body: Box<Body>,
}

impl std::fmt::Debug for PgFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

impl PartialEq for PgFunction {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for PgFunction {}

impl std::hash::Hash for PgFunction {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

impl ScalarUDFImpl for PgFunction {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(self.returns.clone())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let db = args.config_options.catalog.default_schema.clone();
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let arrays = if arrays.is_empty() {
            vec![Arc::new(Int64Array::from(vec![0; args.number_rows])) as ArrayRef]
        } else {
            arrays
        };
        Ok(ColumnarValue::Array((self.body)(&arrays, &db)?))
    }
}

fn add(ctx: &SessionContext, name: &'static str, returns: DataType, body: Box<Body>) {
    let f = PgFunction {
        name,
        signature: Signature::one_of(
            vec![TypeSignature::Nullary, TypeSignature::VariadicAny],
            Volatility::Stable,
        ),
        returns,
        body,
    };
    ctx.register_udf(ScalarUDF::new_from_impl(f));
}

/// An argument as OIDs (NULL where it is not one).
fn oids_of(a: &ArrayRef) -> Result<Int64Array> {
    Ok(cast(a, &DataType::Int64)?.as_primitive().clone())
}

fn texts_of(a: &ArrayRef) -> Result<StringArray> {
    Ok(cast(a, &DataType::Utf8)?.as_string::<i32>().clone())
}

/// A text function of the first argument read as OIDs.
fn by_oid(f: impl Fn(i64) -> Option<String> + Send + Sync + 'static) -> Box<Body> {
    Box::new(move |args, _| {
        let oids = oids_of(&args[0])?;
        let out: StringArray = oids.iter().map(|o| o.and_then(&f)).collect();
        Ok(Arc::new(out))
    })
}

/// The same text (or NULL) for every row.
fn constant(v: Option<&'static str>) -> Box<Body> {
    Box::new(move |args, _| {
        let out: StringArray = (0..args[0].len()).map(|_| v).collect();
        Ok(Arc::new(out))
    })
}

/// Register the functions on a session.
pub fn register(ctx: &SessionContext, store: &Arc<Store>) {
    let s = Arc::clone(store);
    add(
        ctx,
        "pg_table_is_visible",
        DataType::Boolean,
        Box::new(move |args, db| {
            let oids = oids_of(&args[0])?;
            let ns = oids::schema(db);
            let visible: BooleanArray = oids
                .iter()
                .map(|o| o.map(|o| class_namespace(&s, o) == Some(ns)))
                .collect();
            Ok(Arc::new(visible))
        }),
    );
    add(
        ctx,
        "format_type",
        DataType::Utf8,
        by_oid(|o| oids::type_name(o).map(str::to_string)),
    );
    add(
        ctx,
        "pg_get_userbyid",
        DataType::Utf8,
        by_oid(|_| Some("dbcord".into())),
    );
    add(
        ctx,
        "pg_encoding_to_char",
        DataType::Utf8,
        by_oid(|_| Some("UTF8".into())),
    );
    let s = Arc::clone(store);
    add(
        ctx,
        "pg_get_indexdef",
        DataType::Utf8,
        by_oid(move |o| match object(&s, o)? {
            Object::Index {
                name,
                table,
                unique,
                columns,
                ..
            } => Some(format!(
                "CREATE {}INDEX {name} ON {} USING btree ({})",
                if unique { "UNIQUE " } else { "" },
                table.qualified_name(),
                columns.join(", ")
            )),
            Object::Check(_) => None,
        }),
    );
    let s = Arc::clone(store);
    add(
        ctx,
        "pg_get_constraintdef",
        DataType::Utf8,
        by_oid(move |o| match object(&s, o)? {
            Object::Index {
                primary: true,
                columns,
                ..
            } => Some(format!("PRIMARY KEY ({})", columns.join(", "))),
            Object::Index { columns, .. } => Some(format!("UNIQUE ({})", columns.join(", "))),
            Object::Check(expr) => Some(format!("CHECK ({expr})")),
        }),
    );
    add(
        ctx,
        "pg_get_expr",
        DataType::Utf8,
        Box::new(|args, _| Ok(Arc::new(texts_of(&args[0])?))),
    );
    let s = Arc::clone(store);
    add(
        ctx,
        "pg_oid_to_name",
        DataType::Utf8,
        by_oid(move |o| class_name(&s, o).or_else(|| oids::type_name(o).map(str::to_string))),
    );
    let s = Arc::clone(store);
    add(
        ctx,
        "pg_name_to_oid",
        DataType::Int64,
        Box::new(move |args, db| {
            let names = texts_of(&args[0])?;
            let out: Int64Array = names
                .iter()
                .map(|n| {
                    let n = n?;
                    class_oid(&s, db, n).or_else(|| {
                        oids::TYPES
                            .iter()
                            .find(|t| t.1 == n || t.3 == n)
                            .map(|t| t.0)
                    })
                })
                .collect();
            Ok(Arc::new(out))
        }),
    );
    add(
        ctx,
        "current_database",
        DataType::Utf8,
        Box::new(|args, db| {
            let out: StringArray = (0..args[0].len()).map(|_| Some(db)).collect();
            Ok(Arc::new(out))
        }),
    );
    add(
        ctx,
        "current_schema",
        DataType::Utf8,
        Box::new(|args, db| {
            let out: StringArray = (0..args[0].len()).map(|_| Some(db)).collect();
            Ok(Arc::new(out))
        }),
    );
    add(ctx, "version", DataType::Utf8, constant(Some(VERSION)));
    for name in ["obj_description", "col_description", "shobj_description"] {
        add(ctx, name, DataType::Utf8, constant(None));
    }
    for name in [
        "has_database_privilege",
        "has_table_privilege",
        "has_schema_privilege",
    ] {
        add(
            ctx,
            name,
            DataType::Boolean,
            Box::new(|args, _| Ok(Arc::new(BooleanArray::from(vec![true; args[0].len()])))),
        );
    }
    // Sizes are not kept per table: psql's `\dt+` shows them empty.
    add(
        ctx,
        "pg_table_size",
        DataType::Int64,
        Box::new(|args, _| Ok(Arc::new(Int64Array::from(vec![None::<i64>; args[0].len()])))),
    );
    add(
        ctx,
        "pg_size_pretty",
        DataType::Utf8,
        Box::new(|args, _| {
            let bytes = oids_of(&args[0])?;
            let out: StringArray = bytes
                .iter()
                .map(|b| b.map(|b| format!("{b} bytes")))
                .collect();
            Ok(Arc::new(out))
        }),
    );
    // DataFusion's array functions are not built in (trimmed features);
    // the catalog's ACL columns are NULL text, which this passes through.
    add(
        ctx,
        "array_to_string",
        DataType::Utf8,
        Box::new(|args, _| Ok(Arc::new(texts_of(&args[0])?))),
    );
    add(
        ctx,
        "pg_relation_is_publishable",
        DataType::Boolean,
        Box::new(|args, _| Ok(Arc::new(BooleanArray::from(vec![false; args[0].len()])))),
    );
}

/// What `version()` says: PostgreSQL 15's form (clients parse it), then dbcord's.
pub const VERSION: &str = concat!(
    "PostgreSQL 15.0 (dbcord ",
    env!("CARGO_PKG_VERSION"),
    ", a SQL database on a Discord guild)"
);
