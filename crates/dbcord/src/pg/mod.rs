//! `dbcord serve --pg ADDR`: dbcord over PostgreSQL's wire protocol, so
//! that psql, drivers and tools connect as to a Postgres server.
//!
//! | file | its one job |
//! | --- | --- |
//! | `server` | the listener: loopback unless a password is set, TLS, a bound on connections |
//! | `auth` | SCRAM-SHA-256 with the server's password, or loopback only; refusals are FATAL |
//! | `handler` | one connection: its own engine and transaction, simple and extended queries |
//! | `params` | a prepared statement's parameters: their types, their values bound as literals |
//! | `compat` | PostgreSQL's dialect of client queries (psql's `\d`) made plannable |
//! | `copy` | COPY FROM STDIN and TO STDOUT, text and CSV |
//! | `results` | rows in wire types, command tags, errors with their SQLSTATE |
//!
//! `pg_catalog` itself, generated from dbcord's catalog, is in
//! `sql::pg_catalog`: the shell can read it too.

mod auth;
mod compat;
mod copy;
mod handler;
mod params;
mod results;
mod server;

pub use server::{PgOptions, PgServer, ServeError, start};
