//! dbcord's integration tests, in one binary so that DataFusion is linked
//! once. `common` builds stacks and reads results; each other module tests
//! one side of dbcord.

mod alter;
mod bad_input;
mod bot;
mod bot_cli;
mod cli;
mod common;
mod concurrency;
mod crash;
mod documents;
mod guild;
mod http;
mod journal;
mod limits;
mod live;
mod model;
mod pg;
mod properties;
mod pushdown;
mod regressions;
mod repl;
mod shell;
mod sim;
mod slt;
mod sql;
mod strict;
mod txn;
mod txn_kills;
mod verify;
mod where_json;
