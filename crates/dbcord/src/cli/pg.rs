//! `dbcord serve --pg ADDR`: the guild to Postgres clients until stopped.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Result;

use super::args::{Args, PgServeArgs};
use super::backend;
use crate::pg::{PgOptions, start};

pub async fn run(args: &Args, s: &PgServeArgs) -> Result<ExitCode> {
    let session = backend::open(args).await?;
    let options = PgOptions {
        addr: s.pg,
        password: s.password.clone().filter(|p| !p.is_empty()),
        tls: s.tls_cert.clone().zip(s.tls_key.clone()),
        max_connections: s.max_connections.max(1),
        max_statement: s.max_statement.max(1024),
    };
    let secured = if options.password.is_some() {
        "SCRAM-SHA-256 password"
    } else {
        "no password: this machine only"
    };
    let server = start(Arc::clone(session.engine.store()), options).await?;
    println!(
        "dbcord: PostgreSQL protocol on {} ({secured}); e.g. psql -h {} -p {} -d main",
        server.addr,
        server.addr.ip(),
        server.addr.port()
    );
    std::io::stdout().flush()?;
    super::bot::stop_signal().await;
    server.task.abort();
    eprintln!("stopped");
    if args.stats {
        eprintln!("{}", session.cost_report());
    }
    Ok(ExitCode::SUCCESS)
}
