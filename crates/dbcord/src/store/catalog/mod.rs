//! The catalog: which databases, tables and indexes exist, and the DDL
//! that changes them. Each database's `#dbc-catalog` channel is an
//! append-only log of entries, one per DDL statement (see
//! `codec::catalog_entry`).
//!
//! | file | its one job |
//! | --- | --- |
//! | `model` | the catalog as read: databases, tables, indexes, from the catalog channels (from their newest checkpoint) |
//! | `checkpoint` | folding a catalog: writing a checkpoint |
//! | `refresh` | staying current at one request a statement |
//! | `ddl` | CREATE, ALTER and DROP of databases and tables; posting entries |
//! | `index` | CREATE and DROP INDEX, reindex, the UNIQUE checks they need |

pub(crate) mod checkpoint;
pub(crate) mod ddl;
pub(crate) mod index;
pub(crate) mod model;
pub(crate) mod refresh;
