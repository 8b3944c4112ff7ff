//! The model: DataFusion `MemTable`s holding what the statements that
//! took effect wrote (each indeterminate one resolved as the checker
//! found it), asked the same queries as dbcord with pushdown on and off.
//! All three must give the same answer.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Int32Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;

use discord_api::SeededRng;

use super::client::{Cells, cells, cells_of};
use super::history::History;
use super::workload::{ACCOUNTS, lit};
use crate::sql::Engine;

/// Ask every query of [`queries`] three ways; returns how many agreed.
pub async fn compare(engine: &Engine, h: &History) -> Result<u64, String> {
    let model = model_of(h).map_err(|e| format!("building the model: {e}"))?;
    let mut n = 0;
    for sql in queries(h) {
        let mut answers = Vec::new();
        for pushdown in [true, false] {
            cells(engine, &format!("SET dbcord.pushdown = {pushdown}"))
                .await
                .ok();
            answers.push(sorted(cells(engine, &sql).await?));
        }
        let df = model
            .sql(&sql)
            .await
            .map_err(|e| format!("model: {sql}: {e}"))?;
        let batches = df
            .collect()
            .await
            .map_err(|e| format!("model: {sql}: {e}"))?;
        answers.push(sorted(cells_of(&batches)));
        if answers[0] != answers[1] || answers[1] != answers[2] {
            return Err(format!(
                "{sql}\n    pushdown:  {:?}\n    full scan: {:?}\n    model:     {:?}",
                answers[0], answers[1], answers[2]
            ));
        }
        n += 1;
    }
    Ok(n)
}

fn sorted(mut cells: Cells) -> Cells {
    cells.sort();
    cells
}

/// Queries over every access path: keys, UNIQUE and plain indexes,
/// ranges, IN lists, columns without an index, aggregates.
fn queries(h: &History) -> Vec<String> {
    let mut rng = SeededRng::new(h.final_ledger.len() as u64 ^ h.statements.len() as u64);
    let mut q = vec![
        "SELECT k, v, tag FROM accounts".to_string(),
        format!(
            "SELECT k, v FROM accounts WHERE k = {}",
            rng.range(0, ACCOUNTS)
        ),
        "SELECT k, v FROM accounts WHERE k BETWEEN 2 AND 5".into(),
        "SELECT count(*), sum(id), min(code), max(body) FROM ledger".into(),
        "SELECT client, count(*) FROM ledger GROUP BY client".into(),
        "SELECT id, code FROM ledger WHERE client = 1".into(),
        "SELECT id FROM ledger WHERE id > 200 AND id <= 900".into(),
    ];
    if let Some(row) = h.final_accounts.get(rng.range(0, ACCOUNTS) as usize) {
        q.push(format!(
            "SELECT k FROM accounts WHERE tag = {}",
            lit(&row[2])
        ));
    }
    for _ in 0..3 {
        let Some(r) = rng.pick(&h.final_ledger) else {
            break;
        };
        q.push(format!(
            "SELECT id, code, body FROM ledger WHERE stmt = {}",
            r.stmt
        ));
        q.push(format!(
            "SELECT id, stmt FROM ledger WHERE code = {}",
            lit(&r.code)
        ));
        q.push(format!("SELECT stmt, body FROM ledger WHERE id = {}", r.id));
        q.push(format!(
            "SELECT id FROM ledger WHERE alias = {}",
            lit(&r.alias)
        ));
        q.push(format!(
            "SELECT id FROM ledger WHERE stmt IN ({}, {}, 9999999)",
            r.stmt,
            r.stmt + 1
        ));
    }
    q.push("SELECT id FROM ledger WHERE stmt = -1".into());
    q
}

/// A session holding `accounts` and `ledger` as MemTables.
fn model_of(h: &History) -> datafusion::error::Result<SessionContext> {
    let ctx = SessionContext::new();
    let text = |v: Vec<&str>| Arc::new(StringArray::from(v)) as ArrayRef;
    let schema = Arc::new(Schema::new(vec![
        Field::new("k", DataType::Int32, false),
        Field::new("v", DataType::Int64, false),
        Field::new("tag", DataType::Utf8, true),
    ]));
    let a = &h.final_accounts;
    let columns = vec![
        Arc::new(Int32Array::from_iter_values(
            a.iter().map(|r| r[0].parse().unwrap_or(-1)),
        )) as ArrayRef,
        Arc::new(Int64Array::from_iter_values(
            a.iter().map(|r| r[1].parse().unwrap_or(-1)),
        )),
        text(a.iter().map(|r| r[2].as_str()).collect()),
    ];
    let batch = RecordBatch::try_new(Arc::clone(&schema), columns)?;
    ctx.register_table(
        "accounts",
        Arc::new(MemTable::try_new(schema, vec![vec![batch]])?),
    )?;

    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("stmt", DataType::Int64, false),
        Field::new("client", DataType::Int32, false),
        Field::new("code", DataType::Utf8, true),
        Field::new("body", DataType::Utf8, true),
        Field::new("alias", DataType::Utf8, true),
    ]));
    let l = &h.final_ledger;
    let columns = vec![
        Arc::new(Int64Array::from_iter_values(l.iter().map(|r| r.id))) as ArrayRef,
        Arc::new(Int64Array::from_iter_values(l.iter().map(|r| r.stmt))),
        Arc::new(Int32Array::from_iter_values(
            l.iter().map(|r| r.client as i32),
        )),
        text(l.iter().map(|r| r.code.as_str()).collect()),
        text(l.iter().map(|r| r.body.as_str()).collect()),
        text(l.iter().map(|r| r.alias.as_str()).collect()),
    ];
    let batch = RecordBatch::try_new(Arc::clone(&schema), columns)?;
    ctx.register_table(
        "ledger",
        Arc::new(MemTable::try_new(schema, vec![vec![batch]])?),
    )?;
    Ok(ctx)
}
