//! Transactions: BEGIN ... COMMIT over any number of statements and tables,
//! all or nothing for every reader, with no lock service.
//!
//! | file | its one job |
//! | --- | --- |
//! | `transaction` | a transaction under way: its snapshot, its writes, savepoints |
//! | `commit` | COMMIT: one commit, or parts and the commit point that decides them |
//! | `point_log` | the commit points read so far, as data, and when one counts |
//! | `points` | reading `#dbc-transactions`, and which parts its points make count |
//! | `view` | how one statement reads: which points count, in which transaction |
//!
//! The isolation is snapshot isolation: every read of a transaction sees
//! the guild as of its first statement plus its own writes; a write that a
//! concurrent transaction or statement committed first (same key, same
//! UNIQUE value) makes the later one fail at COMMIT with nothing written.
//! Write skew is possible (two transactions that read each other's rows
//! and write different ones both commit), as in PostgreSQL's REPEATABLE
//! READ.

pub(crate) mod commit;
pub(crate) mod point_log;
pub(crate) mod points;
pub(crate) mod transaction;
pub(crate) mod view;
