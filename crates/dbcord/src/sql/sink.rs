//! INSERT: the DataSink that writes rows as messages.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::datasource::sink::DataSink;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::{DisplayAs, DisplayFormatType};
use futures::TryStreamExt;

use super::convert::batch_to_rows;
use super::rules::enforce_checks;
use crate::store::{Change, Store, TableDef, Txn, WriteOptions};

/// Writes every row of the input as one commit.
///
/// The whole input is gathered and every row checked before the commit is
/// sent, so a statement with one bad row writes nothing.
#[derive(Debug)]
pub struct DiscordSink {
    store: Arc<Store>,
    table: Arc<TableDef>,
    schema: SchemaRef,
    options: WriteOptions,
    /// The transaction the INSERT runs in: its rows are kept there.
    txn: Option<Arc<Txn>>,
}

impl DiscordSink {
    pub fn new(
        store: Arc<Store>,
        table: Arc<TableDef>,
        schema: SchemaRef,
        options: WriteOptions,
    ) -> Self {
        DiscordSink {
            store,
            table,
            schema,
            options,
            txn: None,
        }
    }

    /// Keep the rows in `txn` instead of committing them.
    pub fn in_txn(mut self, txn: Option<Arc<Txn>>) -> Self {
        self.txn = txn;
        self
    }
}

impl DisplayAs for DiscordSink {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "DiscordSink: table={}", self.table.qualified_name())
    }
}

#[async_trait]
impl DataSink for DiscordSink {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    async fn write_all(
        &self,
        data: SendableRecordBatchStream,
        _ctx: &Arc<TaskContext>,
    ) -> Result<u64> {
        let batches: Vec<_> = data.try_collect().await?;
        let mut rows = Vec::new();
        for b in &batches {
            rows.extend(batch_to_rows(&self.table, b)?);
        }
        enforce_checks(&self.table, rows.iter().map(Vec::as_slice))?;
        let written = match &self.txn {
            Some(txn) => {
                let changes = Change::inserts(rows);
                self.store.write_in(txn, &self.table, changes).await
            }
            None => self.store.insert(&self.table, rows, &self.options).await,
        };
        written.map_err(|e| DataFusionError::External(Box::new(e)))
    }
}
