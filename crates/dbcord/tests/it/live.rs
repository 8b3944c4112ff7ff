//! Against a live guild. Ignored by default, because no machine without a
//! bot token can run it; run it with
//! `DISCORD_BOT_TOKEN=... DBCORD_GUILD_ID=... cargo test -p dbcord --test it live -- --ignored`
//! (a .env file works too). It creates a database named after the run,
//! writes and reads a few rows, and drops what it made.

use std::sync::Arc;

use dbcord::session::Session;
use discord_api::RealClock;
use discord_http::DiscordConfig;

use crate::common::{cells, table};

#[tokio::test]
#[ignore = "needs a live guild: DISCORD_BOT_TOKEN and DBCORD_GUILD_ID"]
async fn live_guild_round_trip() {
    let config = DiscordConfig::from_env().expect("DISCORD_BOT_TOKEN and DBCORD_GUILD_ID");
    let session = Session::over_http(config, Arc::new(RealClock))
        .await
        .expect("the start-up check passes");
    let engine = &session.engine;
    let db = format!("live_{}", std::process::id());
    for sql in [
        format!("CREATE DATABASE {db}"),
        format!("CREATE TABLE {db}.t (id TEXT PRIMARY KEY, n BIGINT)"),
        format!("INSERT INTO {db}.t VALUES ('a', 1), ('b', 2)"),
    ] {
        engine.execute(&sql).await.unwrap();
    }
    let out = engine
        .execute(&format!("SELECT sum(n) AS s FROM {db}.t"))
        .await
        .unwrap();
    let dbcord::sql::Outcome::Rows { batches, .. } = &out[0] else {
        panic!("a query returns rows")
    };
    let sum = cells(batches);
    engine.execute(&format!("DROP TABLE {db}.t")).await.unwrap();
    engine.execute(&format!("DROP SCHEMA {db}")).await.unwrap();
    assert_eq!(sum, table(&[&["3"]]));
}
