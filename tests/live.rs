//! Against a live guild: runs only with DBCORD_LIVE_TEST=1 and
//! DISCORD_BOT_TOKEN and DBCORD_GUILD_ID set (a .env file works too);
//! otherwise it reports itself skipped. It creates a database named after
//! the run, writes and reads a few rows, and drops what it made.

use std::sync::Arc;

use dbcord::discord::http::{DiscordConfig, HttpDiscord};
use dbcord::discord::{Discord, RealClock, SharedClock};
use dbcord::sql::Engine;
use dbcord::store::Store;

#[tokio::test]
async fn live_guild_round_trip() {
    let _ = dotenvy::dotenv();
    if std::env::var("DBCORD_LIVE_TEST").as_deref() != Ok("1") {
        eprintln!(
            "skipped: set DBCORD_LIVE_TEST=1 with DISCORD_BOT_TOKEN and DBCORD_GUILD_ID to run against a live guild"
        );
        return;
    }
    let config = DiscordConfig::from_env().expect("DISCORD_BOT_TOKEN and DBCORD_GUILD_ID");
    let clock: SharedClock = Arc::new(RealClock);
    let http = HttpDiscord::connect(config, Arc::clone(&clock))
        .await
        .expect("the start-up check passes");
    let store = Store::open(Arc::new(http) as Arc<dyn Discord>, clock)
        .await
        .unwrap();
    let engine = Engine::new(Arc::new(store));
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
        panic!()
    };
    let text = datafusion::arrow::util::pretty::pretty_format_batches(batches)
        .unwrap()
        .to_string();
    engine.execute(&format!("DROP TABLE {db}.t")).await.unwrap();
    engine.execute(&format!("DROP SCHEMA {db}")).await.unwrap();
    assert!(text.contains("| 3 |"), "{text}");
}
