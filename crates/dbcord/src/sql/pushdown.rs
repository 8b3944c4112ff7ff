//! Planning a scan: which path reads the rows, and what it can skip.
//!
//! Pushdown narrows what is read and never decides the answer: the scan
//! re-checks every filter on every row, so the result is the same with
//! pushdown on or off. Paths, cheapest first:
//! - `_message_id = ...`: the rows whose current version is in those messages;
//! - `=` / `IN` on every primary key column: key lookups, each reading at
//!   most one batch of each segment whose key range holds the key;
//! - `=` / `IN` on a ready index's column: its files give the keys;
//! - anything else: a scan, which skips the segments whose statistics
//!   (min, max, NULL count per column) exclude a comparison of a column
//!   with a literal (`=`, `IN`, `<`, `<=`, `>`, `>=`, BETWEEN).

use std::fmt;
use std::sync::Arc;

use datafusion::common::ScalarValue;
use datafusion::logical_expr::{Between, BinaryExpr, Expr, Operator};
use discord_api::Snowflake;

use super::types::MESSAGE_ID;
use crate::store::{Access, Bound, ColumnType, IndexDef, Key, Prune, TableDef, Value};

/// At most this many key lookups for one scan (IN lists multiply); past it, a scan.
const MAX_KEYS: usize = 1024;

/// `column = v` or `column IN (v, ...)`, with the values as the store has them.
#[derive(Clone, Debug, PartialEq)]
pub struct Equality {
    pub column: usize,
    pub values: Vec<Value>,
}

/// The chosen path and why, for the scan and for EXPLAIN.
#[derive(Clone, Debug, PartialEq)]
pub struct ScanPlan {
    pub access: Access,
    pub strategy: String,
    /// The predicates the path uses, as SQL.
    pub used: Vec<String>,
    /// Why a cheaper path was not taken, if one could have been.
    pub note: Option<String>,
}

impl ScanPlan {
    fn scan(table: &TableDef, prune: Vec<Prune>, note: Option<String>) -> Self {
        let used = prune.iter().map(|p| describe_bound(table, p)).collect();
        ScanPlan {
            access: Access::Scan(prune),
            strategy: "scan".into(),
            used,
            note,
        }
    }
}

/// The path for a scan of `table` with these filters.
pub fn plan(
    table: &TableDef,
    filters: &[Expr],
    indexes: &[Arc<IndexDef>],
    pushdown: bool,
) -> ScanPlan {
    if !pushdown {
        return ScanPlan::scan(table, vec![], Some("dbcord.pushdown = false".into()));
    }
    if let Some(ids) = filters.iter().find_map(message_ids) {
        let shown: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
        return ScanPlan {
            access: Access::Commits(ids),
            strategy: "message lookup".into(),
            used: vec![format!("{MESSAGE_ID} IN ({})", shown.join(", "))],
            note: None,
        };
    }
    let eqs: Vec<Equality> = filters.iter().filter_map(|f| equality(table, f)).collect();
    if let Some(p) = key_lookup(table, &eqs) {
        return p;
    }
    let mut note = None;
    for unique in [true, false] {
        for index in indexes.iter().filter(|i| i.unique == unique) {
            let Some(eq) = eqs
                .iter()
                .find(|e| table.columns[e.column].stored() == index.column)
            else {
                continue;
            };
            if !index.ready {
                note = Some(format!(
                    "index {} is not ready (being built); not used",
                    index.name
                ));
                continue;
            }
            return ScanPlan {
                access: Access::Index {
                    index: Arc::clone(index),
                    values: eq.values.clone(),
                },
                strategy: format!("index lookup ({})", index.name),
                used: vec![describe(table, eq)],
                note: None,
            };
        }
    }
    let prune = filters.iter().flat_map(|f| bounds(table, f)).collect();
    ScanPlan::scan(table, prune, note)
}

/// Key lookups when every primary key column has an equality.
fn key_lookup(table: &TableDef, eqs: &[Equality]) -> Option<ScanPlan> {
    let parts: Vec<&Equality> = table
        .primary_key
        .iter()
        .map(|k| {
            let col = table.column_index(k)?;
            eqs.iter().find(|e| e.column == col)
        })
        .collect::<Option<_>>()?;
    let combinations: usize = parts.iter().map(|e| e.values.len()).product();
    if combinations > MAX_KEYS {
        return None;
    }
    let mut keys: Vec<Vec<&Value>> = vec![Vec::new()];
    for eq in &parts {
        keys = keys
            .iter()
            .flat_map(|k| {
                eq.values.iter().map(move |v| {
                    let mut k = k.clone();
                    k.push(v);
                    k
                })
            })
            .collect();
    }
    let keys: Vec<Key> = keys.into_iter().filter_map(Key::of).collect();
    Some(ScanPlan {
        strategy: format!("key lookup ({} keys)", keys.len()),
        access: Access::Keys(keys),
        used: parts.iter().map(|e| describe(table, e)).collect(),
        note: None,
    })
}

/// The message IDs a filter on `_message_id` names (`=`, `IN`, or an OR of `=`).
pub fn message_ids(expr: &Expr) -> Option<Vec<Snowflake>> {
    let lit_id = |e: &Expr| match e {
        Expr::Literal(ScalarValue::Int64(Some(v)), _) if *v >= 0 => Some(Snowflake(*v as u64)),
        _ => None,
    };
    let is_col = |e: &Expr| matches!(e, Expr::Column(c) if c.name == MESSAGE_ID);
    match expr {
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::Eq,
            right,
        }) => {
            let (l, r) = (left.as_ref(), right.as_ref());
            let v = if is_col(l) {
                r
            } else if is_col(r) {
                l
            } else {
                return None;
            };
            lit_id(v).map(|id| vec![id])
        }
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::Or,
            right,
        }) => {
            let mut ids = message_ids(left)?;
            ids.extend(message_ids(right)?);
            Some(ids)
        }
        Expr::InList(list) if !list.negated && is_col(&list.expr) => {
            list.list.iter().map(lit_id).collect()
        }
        _ => None,
    }
}

/// The equality a filter expresses, if search can use it. DataFusion turns
/// short IN lists into `c = a OR c = b`, so such a disjunction counts too.
pub fn equality(table: &TableDef, expr: &Expr) -> Option<Equality> {
    if let Expr::BinaryExpr(BinaryExpr {
        left,
        op: Operator::Or,
        right,
    }) = expr
    {
        let (l, r) = (equality(table, left)?, equality(table, right)?);
        if l.column != r.column {
            return None;
        }
        let mut values = l.values;
        values.extend(
            r.values
                .into_iter()
                .filter(|v| !values.contains(v))
                .collect::<Vec<_>>(),
        );
        return Some(Equality {
            column: l.column,
            values,
        });
    }
    let (col, literals) = match expr {
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::Eq,
            right,
        }) => match (left.as_ref(), right.as_ref()) {
            (Expr::Column(c), Expr::Literal(v, _)) | (Expr::Literal(v, _), Expr::Column(c)) => {
                (c, vec![v])
            }
            _ => return None,
        },
        Expr::InList(list) if !list.negated => match list.expr.as_ref() {
            Expr::Column(c) => {
                let lits: Option<Vec<&ScalarValue>> = list
                    .list
                    .iter()
                    .map(|e| match e {
                        Expr::Literal(v, _) => Some(v),
                        _ => None,
                    })
                    .collect();
                (c, lits?)
            }
            _ => return None,
        },
        _ => return None,
    };
    let column = table.column_index(&col.name)?;
    let ty = table.columns[column].ty;
    let values: Option<Vec<Value>> = literals.into_iter().map(|v| value_of(ty, v)).collect();
    let mut values = values?;
    values.retain(|v| *v != Value::Null); // `= NULL` matches nothing
    Some(Equality { column, values })
}

/// A literal as the store's value for a column type, if it is one.
fn value_of(ty: ColumnType, v: &ScalarValue) -> Option<Value> {
    if v.is_null() {
        return Some(Value::Null);
    }
    Some(match (ty, v) {
        (
            ColumnType::Text | ColumnType::Json,
            ScalarValue::Utf8(Some(s))
            | ScalarValue::Utf8View(Some(s))
            | ScalarValue::LargeUtf8(Some(s)),
        ) => Value::Text(s.clone()),
        (ColumnType::BigInt, ScalarValue::Int64(Some(i))) => Value::Int(*i),
        (ColumnType::Int, ScalarValue::Int32(Some(i))) => Value::Int((*i).into()),
        (ColumnType::Double, ScalarValue::Float64(Some(f))) => Value::Float(*f),
        (ColumnType::Real, ScalarValue::Float32(Some(f))) => Value::Float((*f).into()),
        (ColumnType::Boolean, ScalarValue::Boolean(Some(b))) => Value::Bool(*b),
        (ColumnType::Timestamp, ScalarValue::TimestampNanosecond(Some(t), None)) => {
            Value::Timestamp(*t)
        }
        _ => return None,
    })
}

/// The bounds a filter puts on a column: an equality, a comparison of the
/// column with a literal, or a BETWEEN.
pub fn bounds(table: &TableDef, expr: &Expr) -> Vec<Prune> {
    if let Some(eq) = equality(table, expr) {
        return vec![Prune {
            column: eq.column,
            bound: Bound::In(eq.values),
        }];
    }
    match expr {
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
            let (col, lit, op) = match (left.as_ref(), right.as_ref()) {
                (Expr::Column(c), Expr::Literal(v, _)) => (c, v, *op),
                (Expr::Literal(v, _), Expr::Column(c)) => match op.swap() {
                    Some(swapped) => (c, v, swapped),
                    None => return vec![],
                },
                _ => return vec![],
            };
            comparison(table, &col.name, op, lit).into_iter().collect()
        }
        Expr::Between(Between {
            expr,
            negated: false,
            low,
            high,
        }) => match (expr.as_ref(), low.as_ref(), high.as_ref()) {
            (Expr::Column(c), Expr::Literal(lo, _), Expr::Literal(hi, _)) => [
                comparison(table, &c.name, Operator::GtEq, lo),
                comparison(table, &c.name, Operator::LtEq, hi),
            ]
            .into_iter()
            .flatten()
            .collect(),
            _ => vec![],
        },
        _ => vec![],
    }
}

fn comparison(table: &TableDef, column: &str, op: Operator, lit: &ScalarValue) -> Option<Prune> {
    let column = table.column_index(column)?;
    let v = value_of(table.columns[column].ty, lit)?;
    if v == Value::Null {
        return None;
    }
    let bound = match op {
        Operator::Lt => Bound::Lt(v),
        Operator::LtEq => Bound::Le(v),
        Operator::Gt => Bound::Gt(v),
        Operator::GtEq => Bound::Ge(v),
        _ => return None,
    };
    Some(Prune { column, bound })
}

fn describe(table: &TableDef, eq: &Equality) -> String {
    let name = &table.columns[eq.column].name;
    let vals: Vec<String> = eq.values.iter().map(Value::show).collect();
    match vals.as_slice() {
        [one] => format!("{name} = {one}"),
        _ => format!("{name} IN ({})", vals.join(", ")),
    }
}

fn describe_bound(table: &TableDef, p: &Prune) -> String {
    let name = &table.columns[p.column].name;
    match &p.bound {
        Bound::In(vs) => describe(
            table,
            &Equality {
                column: p.column,
                values: vs.clone(),
            },
        ),
        Bound::Lt(v) => format!("{name} < {}", v.show()),
        Bound::Le(v) => format!("{name} <= {}", v.show()),
        Bound::Gt(v) => format!("{name} > {}", v.show()),
        Bound::Ge(v) => format!("{name} >= {}", v.show()),
    }
}

impl fmt::Display for ScanPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "strategy={}", self.strategy)?;
        if !self.used.is_empty() {
            let what = if matches!(self.access, Access::Scan(_)) {
                "skip_segments_outside"
            } else {
                "lookup"
            };
            write!(f, ", {what}=[{}]", self.used.join(", "))?;
        }
        if let Some(n) = &self.note {
            write!(f, ", note={n}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use datafusion::prelude::{col, lit};

    use super::*;
    use crate::store::test_table;

    fn users() -> TableDef {
        let columns = [
            ("id", ColumnType::Text),
            ("role", ColumnType::Text),
            ("age", ColumnType::BigInt),
        ];
        test_table("users", &columns)
    }

    fn role_index(ready: bool) -> Arc<IndexDef> {
        Arc::new(IndexDef {
            database: "main".into(),
            name: "users_role".into(),
            table: "users".into(),
            column: "role".into(),
            unique: false,
            channel_id: None,
            ready,
        })
    }

    #[test]
    fn the_primary_key_wins_over_an_index() {
        let filters = [col("role").eq(lit("admin")), col("id").eq(lit("u1"))];
        let p = plan(&users(), &filters, &[role_index(true)], true);
        assert_eq!(p.strategy, "key lookup (1 keys)");
        let Access::Keys(keys) = &p.access else {
            panic!("{p}")
        };
        assert_eq!(keys, &[Key::of([&Value::Text("u1".into())]).unwrap()]);
        assert_eq!(p.used, ["id = 'u1'"]);
    }

    #[test]
    fn a_ready_index_is_used_and_one_being_built_is_not() {
        let filters = [col("role").in_list(vec![lit("admin"), lit("editor")], false)];
        let p = plan(&users(), &filters, &[role_index(true)], true);
        assert_eq!(p.strategy, "index lookup (users_role)");
        assert_eq!(p.used, ["role IN ('admin', 'editor')"]);
        let p = plan(&users(), &filters, &[role_index(false)], true);
        assert_eq!(p.strategy, "scan");
        assert!(
            p.note.as_deref().is_some_and(|n| n.contains("not ready")),
            "{p}"
        );
    }

    #[test]
    fn ranges_become_segment_bounds_and_others_are_only_rechecked() {
        let filters = [
            col("age").between(lit(30i64), lit(40i64)),
            col("role").not_eq(lit("x")),
        ];
        let p = plan(&users(), &filters, &[], true);
        assert_eq!(p.used, ["age >= 30", "age <= 40"]);
        let Access::Scan(prune) = &p.access else {
            panic!("{p}")
        };
        assert_eq!(prune.len(), 2);
    }

    #[test]
    fn pushdown_off_reads_everything() {
        let p = plan(&users(), &[col("id").eq(lit("u1"))], &[], false);
        assert_eq!(p.access, Access::Scan(vec![]));
        assert_eq!(p.note.as_deref(), Some("dbcord.pushdown = false"));
    }

    #[test]
    fn too_many_key_combinations_fall_back_to_a_scan() {
        let many: Vec<Expr> = (0..=MAX_KEYS as i64)
            .map(|i| lit(format!("k{i}")))
            .collect();
        let p = plan(&users(), &[col("id").in_list(many, false)], &[], true);
        assert_eq!(p.strategy, "scan");
    }

    #[test]
    fn message_ids_come_from_equalities_ors_and_in_lists() {
        let m = || col(MESSAGE_ID);
        assert_eq!(message_ids(&m().eq(lit(5i64))), Some(vec![Snowflake(5)]));
        let or = m().eq(lit(5i64)).or(m().eq(lit(6i64)));
        assert_eq!(message_ids(&or), Some(vec![Snowflake(5), Snowflake(6)]));
        assert_eq!(message_ids(&m().eq(lit(-1i64))), None);
        assert_eq!(message_ids(&col("id").eq(lit(5i64))), None);
    }
}
