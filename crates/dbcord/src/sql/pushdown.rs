//! Planning a scan: which filters Discord search can narrow, and which path.
//!
//! Pushdown narrows candidates and never decides the answer: the scan
//! re-checks every filter on every row, so the result is the same with
//! pushdown on or off. Candidates: `=` and `IN` on a column with literal
//! values. Everything else (ranges, LIKE, `<>`, IS NULL, functions, OR
//! across columns) is only a post-filter. Paths, most selective first:
//! primary key, UNIQUE index, index, tokens in the table channel, full scan.

use std::fmt;
use std::sync::Arc;

use datafusion::common::ScalarValue;
use datafusion::logical_expr::{BinaryExpr, Expr, Operator};

use super::types::MESSAGE_ID;
use discord_api::Snowflake;

use crate::store::codec::token::{key_token, token};
use crate::store::lookup::Access;
use crate::store::{ColumnType, IndexDef, TableDef, Value};

/// At most this many searches for one scan (IN lists multiply); past it, fewer predicates drive.
const MAX_SEARCHES: usize = 64;

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
    /// The predicates that became search words, as SQL.
    pub searched: Vec<String>,
    /// Why a cheaper path was not taken, if one could have been.
    pub note: Option<String>,
}

impl ScanPlan {
    pub fn full(note: Option<String>) -> Self {
        ScanPlan {
            access: Access::FullScan,
            strategy: "full history scan".into(),
            searched: vec![],
            note,
        }
    }

    /// One GET per message ID: the cheapest path there is.
    pub fn fetch(table: &TableDef, ids: Vec<Snowflake>) -> Self {
        let shown: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
        ScanPlan {
            access: Access::Fetch {
                channel: table.channel_id,
                ids,
            },
            strategy: format!("message-ID fetch (#table-{})", table.name),
            searched: vec![format!("{MESSAGE_ID} IN ({})", shown.join(", "))],
            note: None,
        }
    }
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
            ColumnType::Text,
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

/// Choose the path for a scan with these equalities and indexes. Every
/// search is one token: Discord matches several words only as a phrase,
/// so one equality (or one composite-key token) drives, and the other
/// equalities are re-checked on the rows like any filter.
pub fn choose(table: &TableDef, eqs: &[Equality], indexes: &[Arc<IndexDef>]) -> ScanPlan {
    if eqs.is_empty() {
        return ScanPlan::full(None);
    }
    if let Some(plan) = key_search(table, eqs) {
        return plan;
    }
    let mut stale = None;
    for unique in [true, false] {
        for index in indexes.iter().filter(|i| i.unique == unique) {
            let Some(eq) = eqs
                .iter()
                .find(|e| table.columns[e.column].name == index.column)
            else {
                continue;
            };
            if eq.values.len() > MAX_SEARCHES {
                continue;
            }
            if !index.ready {
                stale = Some(format!(
                    "index {} is not ready (being built); not used",
                    index.name
                ));
                continue;
            }
            let kind = if unique {
                "unique index search"
            } else {
                "index search"
            };
            return index_search(table, index, eq, kind);
        }
    }
    let mut plan = token_search(table, eqs);
    plan.note = stale;
    plan
}

/// A search by the primary key when every key column has an equality: its
/// own token for a one-column key, the composite key token otherwise (one
/// per combination of the IN lists, within the cap).
fn key_search(table: &TableDef, eqs: &[Equality]) -> Option<ScanPlan> {
    let parts: Vec<&Equality> = table
        .primary_key
        .iter()
        .map(|k| {
            let col = table.column_index(k)?;
            eqs.iter().find(|e| e.column == col)
        })
        .collect::<Option<_>>()?;
    if let [one] = parts.as_slice() {
        return (one.values.len() <= MAX_SEARCHES)
            .then(|| table_search(table, &[one], tokens_of(table, one), "primary key search"));
    }
    let combinations: usize = parts.iter().map(|e| e.values.len()).product();
    if combinations > MAX_SEARCHES {
        return None;
    }
    let mut keys: Vec<Vec<(&str, &Value)>> = vec![Vec::new()];
    for eq in &parts {
        let name = table.columns[eq.column].name.as_str();
        keys = keys
            .iter()
            .flat_map(|k| {
                eq.values.iter().map(move |v| {
                    let mut k = k.clone();
                    k.push((name, v));
                    k
                })
            })
            .collect();
    }
    let contents = keys.iter().filter_map(|k| key_token(k)).collect();
    Some(table_search(table, &parts, contents, "primary key search"))
}

fn index_search(table: &TableDef, index: &IndexDef, eq: &Equality, kind: &str) -> ScanPlan {
    ScanPlan {
        access: Access::Search {
            channel: index.channel_id,
            index: true,
            contents: tokens_of(table, eq),
        },
        strategy: format!(
            "{kind} ({}, #idx-{}-{})",
            index.name, index.table, index.column
        ),
        searched: vec![describe(table, eq)],
        note: None,
    }
}

/// A search of the table channel for the tokens of the equality with the
/// fewest values (the one that makes the fewest searches).
fn token_search(table: &TableDef, eqs: &[Equality]) -> ScanPlan {
    match eqs
        .iter()
        .filter(|e| e.values.len() <= MAX_SEARCHES)
        .min_by_key(|e| e.values.len())
    {
        Some(eq) => table_search(table, &[eq], tokens_of(table, eq), "token search"),
        None => ScanPlan::full(Some(format!(
            "IN lists longer than {MAX_SEARCHES} values are not searched"
        ))),
    }
}

/// The search token of each value of an equality (one search each: Discord has no OR).
fn tokens_of(table: &TableDef, eq: &Equality) -> Vec<String> {
    let name = &table.columns[eq.column].name;
    eq.values.iter().filter_map(|v| token(name, v)).collect()
}

fn table_search(
    table: &TableDef,
    used: &[&Equality],
    contents: Vec<String>,
    kind: &str,
) -> ScanPlan {
    ScanPlan {
        access: Access::Search {
            channel: table.channel_id,
            index: false,
            contents,
        },
        strategy: format!("{kind} (#table-{})", table.name),
        searched: used.iter().map(|e| describe(table, e)).collect(),
        note: None,
    }
}

fn describe(table: &TableDef, eq: &Equality) -> String {
    let name = &table.columns[eq.column].name;
    let vals: Vec<String> = eq.values.iter().map(Value::show).collect();
    match vals.as_slice() {
        [one] => format!("{name} = {one}"),
        _ => format!("{name} IN ({})", vals.join(", ")),
    }
}

impl fmt::Display for ScanPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "strategy={}", self.strategy)?;
        if !self.searched.is_empty() {
            write!(f, ", search=[{}]", self.searched.join(", "))?;
        }
        if let Access::Search { contents, .. } = &self.access {
            let shown: Vec<&str> = contents.iter().take(3).map(String::as_str).collect();
            let more = contents.len().saturating_sub(3);
            let tail = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            write!(f, ", search_content=[{}{tail}]", shown.join(" | "))?;
        }
        if let Some(n) = &self.note {
            write!(f, ", note={n}")?;
        }
        Ok(())
    }
}

/// Whether the plan's search words came from this equality.
pub fn plan_uses(table: &TableDef, plan: &ScanPlan, eq: &Equality) -> bool {
    plan.searched.contains(&describe(table, eq))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Column;

    fn users() -> TableDef {
        let col = |n: &str, ty| Column {
            name: n.into(),
            ty,
            nullable: true,
        };
        TableDef {
            database: "main".into(),
            name: "users".into(),
            columns: vec![
                col("id", ColumnType::Text),
                col("role", ColumnType::Text),
                col("age", ColumnType::BigInt),
            ],
            primary_key: vec!["id".into()],
            channel_id: Snowflake(10),
        }
    }

    fn index(ready: bool, unique: bool) -> Arc<IndexDef> {
        Arc::new(IndexDef {
            database: "main".into(),
            name: "users_role".into(),
            table: "users".into(),
            column: "role".into(),
            unique,
            channel_id: Snowflake(20),
            ready,
        })
    }

    fn eq(column: usize, values: &[&str]) -> Equality {
        Equality {
            column,
            values: values.iter().map(|v| Value::Text(v.to_string())).collect(),
        }
    }

    #[test]
    fn the_primary_key_wins_over_an_index() {
        let p = choose(
            &users(),
            &[eq(1, &["admin"]), eq(0, &["u1"])],
            &[index(true, true)],
        );
        assert!(p.strategy.starts_with("primary key search"), "{p}");
        let Access::Search {
            channel, contents, ..
        } = &p.access
        else {
            panic!()
        };
        assert_eq!(*channel, Snowflake(10));
        assert_eq!(contents.len(), 1);
        assert_eq!(
            contents[0].split(' ').count(),
            1,
            "one token per search: the other equality is re-checked"
        );
        assert_eq!(p.searched, vec!["id = 'u1'".to_string()]);
    }

    #[test]
    fn a_ready_index_is_used_and_a_stale_one_is_not() {
        let p = choose(
            &users(),
            &[eq(1, &["admin", "editor"])],
            &[index(true, false)],
        );
        assert!(p.strategy.starts_with("index search"), "{p}");
        let Access::Search {
            channel,
            index: true,
            contents,
        } = &p.access
        else {
            panic!("{p}")
        };
        assert_eq!(
            (*channel, contents.len()),
            (Snowflake(20), 2),
            "one search per IN value"
        );
        let p = choose(&users(), &[eq(1, &["admin"])], &[index(false, false)]);
        assert!(p.strategy.starts_with("token search"), "{p}");
        assert!(
            p.note.as_deref().unwrap_or_default().contains("not ready"),
            "{p}"
        );
    }

    #[test]
    fn an_or_of_equalities_on_one_column_is_an_in_list() {
        use datafusion::prelude::{col, lit};
        let e = col("role")
            .eq(lit("a"))
            .or(col("role").eq(lit("b")).or(col("role").eq(lit("a"))));
        assert_eq!(equality(&users(), &e), Some(eq(1, &["a", "b"])));
        let mixed = col("role").eq(lit("a")).or(col("id").eq(lit("b")));
        assert_eq!(equality(&users(), &mixed), None);
    }

    #[test]
    fn no_equality_means_a_full_scan() {
        assert_eq!(
            choose(&users(), &[], &[index(true, false)]).access,
            Access::FullScan
        );
    }
}
