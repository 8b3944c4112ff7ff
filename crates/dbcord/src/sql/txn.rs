//! A session's transaction block: BEGIN, COMMIT, ROLLBACK and savepoints,
//! as PostgreSQL runs them, over the store's transactions (`store::txn`).
//!
//! Outside a block every statement commits on its own, as before. Inside,
//! statements read the transaction's snapshot and keep their writes until
//! COMMIT. A statement that fails inside a block fails the block: every
//! later statement is refused until ROLLBACK (COMMIT then rolls back too),
//! as in PostgreSQL, so a client never commits half of what it meant.
//! DDL inside a block takes effect at once and is not undone by ROLLBACK.

use std::sync::{Arc, Mutex};

use datafusion::error::{DataFusionError, Result};
use datafusion::execution::config::SessionConfig;
use datafusion::sql::parser::Statement;
use datafusion::sql::sqlparser::ast::Statement as SqlStatement;

use crate::store::{ReadView, Store, Txn, WriteOptions};

/// A transaction-control statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Control {
    Begin,
    Commit,
    Rollback,
    Savepoint(String),
    RollbackTo(String),
    Release(String),
}

impl Control {
    pub fn of(stmt: &Statement) -> Option<Control> {
        let Statement::Statement(s) = stmt else {
            return None;
        };
        Some(match s.as_ref() {
            SqlStatement::StartTransaction { .. } => Control::Begin,
            SqlStatement::Commit { .. } => Control::Commit,
            SqlStatement::Rollback {
                savepoint: Some(name),
                ..
            } => Control::RollbackTo(name.value.clone()),
            SqlStatement::Rollback { .. } => Control::Rollback,
            SqlStatement::Savepoint { name } => Control::Savepoint(name.value.clone()),
            SqlStatement::ReleaseSavepoint { name } => Control::Release(name.value.clone()),
            _ => return None,
        })
    }
}

/// Where a session's transaction block stands.
#[derive(Debug, Default)]
enum Block {
    /// No block: each statement commits on its own.
    #[default]
    Idle,
    Open(Arc<Txn>),
    /// A statement failed inside the block: only its end, or a rollback
    /// to a savepoint, is accepted.
    Failed(Arc<Txn>),
}

/// The PostgreSQL transaction status of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxnStatus {
    Idle,
    InBlock,
    Failed,
}

/// What a statement refused in a failed block is told.
pub const IN_FAILED_BLOCK: &str =
    "current transaction is aborted, commands ignored until end of transaction block";

/// A session's transaction block.
#[derive(Debug, Default)]
pub struct Session {
    block: Mutex<Block>,
}

impl Session {
    fn block(&self) -> std::sync::MutexGuard<'_, Block> {
        self.block.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn status(&self) -> TxnStatus {
        match &*self.block() {
            Block::Idle => TxnStatus::Idle,
            Block::Open(_) => TxnStatus::InBlock,
            Block::Failed(_) => TxnStatus::Failed,
        }
    }

    /// The view a statement beginning now reads with (after its refresh).
    pub fn view(&self, store: &Store) -> ReadView {
        match &*self.block() {
            Block::Open(txn) => ReadView {
                upto: txn.upto,
                txn: Some(Arc::clone(txn)),
            },
            _ => store.view_now(),
        }
    }

    /// Refuse any statement but the block's end in a failed block.
    pub fn check_not_failed(&self) -> Result<()> {
        match &*self.block() {
            Block::Failed(_) => Err(state_error("25P02", IN_FAILED_BLOCK)),
            _ => Ok(()),
        }
    }

    /// A statement inside the block failed.
    pub fn fail(&self) {
        let mut block = self.block();
        if let Block::Open(txn) = &*block {
            *block = Block::Failed(Arc::clone(txn));
        }
    }

    /// Carry out a transaction-control statement; its command tag.
    pub async fn control(
        &self,
        control: Control,
        store: &Store,
        options: &WriteOptions,
    ) -> Result<String> {
        let current = std::mem::take(&mut *self.block());
        let (next, tag) = match (control, current) {
            (Control::Begin, Block::Idle) => (Block::Open(store.begin()), Ok("BEGIN")),
            (Control::Begin, other) => {
                tracing::warn!("there is already a transaction in progress");
                (other, Ok("BEGIN"))
            }
            (Control::Commit, Block::Open(txn)) => match store.commit_txn(&txn, options).await {
                Ok(_) => (Block::Idle, Ok("COMMIT")),
                Err(e) => (Block::Idle, Err(external(e))),
            },
            (Control::Commit, Block::Failed(_)) | (Control::Rollback, _) => {
                (Block::Idle, Ok("ROLLBACK"))
            }
            (Control::Commit, Block::Idle) => {
                tracing::warn!("there is no transaction in progress");
                (Block::Idle, Ok("COMMIT"))
            }
            (Control::Savepoint(name), Block::Open(txn)) => {
                txn.savepoint(&name);
                (Block::Open(txn), Ok("SAVEPOINT"))
            }
            (Control::RollbackTo(name), Block::Open(txn) | Block::Failed(txn)) => {
                if txn.rollback_to(&name) {
                    (Block::Open(txn), Ok("ROLLBACK"))
                } else {
                    (Block::Failed(txn), Err(no_savepoint(&name)))
                }
            }
            (Control::Release(name), Block::Open(txn)) => {
                if txn.release(&name) {
                    (Block::Open(txn), Ok("RELEASE"))
                } else {
                    (Block::Failed(txn), Err(no_savepoint(&name)))
                }
            }
            (_, Block::Failed(txn)) => (
                Block::Failed(txn),
                Err(state_error("25P02", IN_FAILED_BLOCK)),
            ),
            (_, Block::Idle) => (
                Block::Idle,
                Err(state_error(
                    "25P01",
                    "savepoints can only be used in transaction blocks",
                )),
            ),
        };
        *self.block() = next;
        tag.map(str::to_string)
    }
}

fn state_error(sqlstate: &'static str, message: &str) -> DataFusionError {
    external(crate::Error::TxnState {
        sqlstate,
        message: message.into(),
    })
}

fn no_savepoint(name: &str) -> DataFusionError {
    state_error("3B001", &format!("savepoint \"{name}\" does not exist"))
}

fn external(e: crate::Error) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}

/// The view a statement reads with, as its engine set it on the session.
pub fn view_of(config: &SessionConfig) -> ReadView {
    config
        .get_extension::<ReadView>()
        .map(|v| (*v).clone())
        .unwrap_or_else(ReadView::latest)
}
