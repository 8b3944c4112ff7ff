//! The access paths a scan can take, and the source that walks one of them
//! a page at a time, lazily: nothing is asked of Discord until the first
//! page is wanted, and nothing more once the consumer stops asking (a
//! LIMIT met, a cancelled statement).

use std::sync::Arc;

use discord_api::Snowflake;

use super::rows::RowPage;
use super::scan::{Prune, ScanCursor};
use super::snapshot::Snapshot;
use super::stats::ReadStats;
use crate::error::Result;
use crate::store::codec::key::Key;
use crate::store::codec::value::Value;
use crate::store::schema::{IndexDef, TableDef};
use crate::store::state::Store;
use crate::store::txn::view::ReadView;

/// Where a scan's rows come from.
#[derive(Clone, Debug, PartialEq)]
pub enum Access {
    /// Every live row, skipping the segments whose statistics exclude the bounds.
    Scan(Vec<Prune>),
    /// The rows with these primary keys.
    Keys(Vec<Key>),
    /// The rows whose indexed column holds one of these values.
    Index {
        index: Arc<IndexDef>,
        values: Vec<Value>,
    },
    /// The rows whose current version is in these messages (Storcord's ObjectID).
    Commits(Vec<Snowflake>),
}

enum State {
    Start,
    Scanning(Box<Snapshot>, Box<ScanCursor>),
    Done,
}

/// Rows along one access path.
pub struct RowSource {
    store: Arc<Store>,
    table: Arc<TableDef>,
    access: Access,
    /// How the statement reads (its transaction, the points that count).
    view: ReadView,
    state: State,
    pub stats: ReadStats,
}

impl RowSource {
    pub fn new(store: Arc<Store>, table: Arc<TableDef>, access: Access) -> Self {
        RowSource {
            store,
            table,
            access,
            view: ReadView::latest(),
            state: State::Start,
            stats: ReadStats::default(),
        }
    }

    /// Read as a statement with `view` does.
    pub fn with_view(mut self, view: ReadView) -> Self {
        self.view = view;
        self
    }

    /// The next page of rows, or `None` at the end.
    pub async fn next_page(&mut self) -> Result<Option<RowPage>> {
        match std::mem::replace(&mut self.state, State::Done) {
            State::Done => Ok(None),
            State::Start => self.start().await,
            State::Scanning(snap, mut cursor) => {
                let page = self
                    .store
                    .scan_page(&snap, &mut cursor, &mut self.stats)
                    .await?;
                if page.is_some() {
                    self.state = State::Scanning(snap, cursor);
                }
                Ok(page)
            }
        }
    }

    async fn start(&mut self) -> Result<Option<RowPage>> {
        let store = Arc::clone(&self.store);
        let snap = store
            .snapshot_in(&self.table, &self.view, &mut self.stats)
            .await?;
        let rows = match &self.access {
            Access::Scan(prune) => {
                let depth = store.read_ahead();
                let cursor = store.scan(&snap, prune).with_arrow().with_read_ahead(
                    Arc::clone(&store),
                    Arc::clone(&self.table),
                    depth,
                );
                self.state = State::Scanning(Box::new(snap), Box::new(cursor));
                return Box::pin(self.next_page()).await;
            }
            Access::Keys(keys) => store.get(&snap, keys, &mut self.stats).await?,
            Access::Index { index, values } => {
                store
                    .by_index(&snap, index, values, &mut self.stats)
                    .await?
            }
            Access::Commits(ids) => store.in_commits(&snap, ids, &mut self.stats).await?,
        };
        Ok(Some(RowPage { rows, arrow: None }))
    }
}
