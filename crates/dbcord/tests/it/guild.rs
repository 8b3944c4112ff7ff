//! The `discord` schema: the guild's own messages by search and by
//! history give the same rows, and the same as a MemTable of the guild;
//! the newest messages are found although search lags; EXPLAIN names the
//! search; nothing is ever written.

use std::sync::Arc;
use std::time::Duration;

use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::datatypes::Int64Type;
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use dbcord::bench::guild_data::{Generated, GuildShape, generate};
use dbcord::session::Session;
use dbcord::sql::Outcome;
use dbcord::sql::guild::{Placed, messages_batch, messages_schema};
use discord_api::{ManualClock, Route, SeededRng, channel_type};
use discord_emulator::{Emulator, EmulatorConfig, SearchConfig};

struct Guild {
    clock: Arc<ManualClock>,
    emulator: Arc<Emulator>,
    session: Session,
    made: Generated,
}

fn wall_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// A small generated guild whose life ended now, searched as `search` says.
async fn guild(search: SearchConfig, messages: usize) -> Guild {
    let shape = GuildShape {
        categories: 2,
        channels_per_category: 4,
        members: 40,
        messages,
        days: 30,
        seed: 7,
    };
    let clock = Arc::new(ManualClock::new(wall_ms() - shape.days * 86_400_000));
    let config = EmulatorConfig {
        search,
        ..EmulatorConfig::in_memory()
    };
    let session = Session::embedded(config, clock.clone(), Default::default())
        .await
        .unwrap();
    let emulator = Arc::clone(session.emulator().unwrap());
    let discord = session.engine.store().discord().as_ref();
    let made = generate(&emulator, discord, &clock, &shape).await.unwrap();
    Guild {
        clock,
        emulator,
        session,
        made,
    }
}

/// Every message of the guild as the emulator holds it, in a MemTable.
fn oracle(emulator: &Emulator) -> SessionContext {
    let channels = emulator.channels();
    let mut placed = Vec::new();
    for c in channels
        .iter()
        .filter(|c| channel_type::holds_messages(c.kind))
    {
        let thread = channel_type::is_thread(c.kind);
        for m in emulator.messages_of(c.id) {
            placed.push(Placed {
                message: m,
                channel: if thread {
                    c.parent_id.unwrap().0
                } else {
                    c.id.0
                },
                thread: thread.then_some(c.id.0),
            });
        }
    }
    let all: Vec<usize> = (0..messages_schema().fields().len()).collect();
    let batch = messages_batch(&placed, &all).unwrap();
    let ctx = SessionContext::new();
    dbcord::sql::guild::words::register(&ctx);
    let table = MemTable::try_new(messages_schema(), vec![vec![batch]]).unwrap();
    ctx.register_table("messages", Arc::new(table)).unwrap();
    ctx
}

fn ids(batches: &[RecordBatch]) -> Vec<i64> {
    let mut out: Vec<i64> = batches
        .iter()
        .flat_map(|b| {
            let a = b.column(0).as_primitive::<Int64Type>().clone();
            (0..a.len()).map(move |i| a.value(i))
        })
        .collect();
    out.sort();
    out
}

async fn dbcord_ids(s: &Session, sql: &str) -> Vec<i64> {
    match s.engine.execute(sql).await.unwrap().pop() {
        Some(Outcome::Rows { batches, .. }) => ids(&batches),
        other => panic!("{sql}: {other:?}"),
    }
}

async fn text(s: &Session, sql: &str) -> String {
    match s.engine.execute(sql).await {
        Ok(mut out) => match out.pop() {
            Some(Outcome::Rows { batches, .. }) => {
                datafusion::arrow::util::pretty::pretty_format_batches(&batches)
                    .unwrap()
                    .to_string()
            }
            Some(Outcome::Status(s)) => s,
            None => String::new(),
        },
        Err(e) => format!("error: {e}"),
    }
}

/// A random filter of the pushable kinds, ranges and LIKE, in ANDs and ORs.
fn random_filter(rng: &mut SeededRng, g: &Generated, now_ms: u64) -> String {
    let atom = |rng: &mut SeededRng| -> String {
        let author = |rng: &mut SeededRng| {
            let i = if rng.chance(0.5) {
                rng.below(5)
            } else {
                rng.below(g.authors.len() as u64)
            };
            g.authors[i as usize].id.to_string()
        };
        let word = |rng: &mut SeededRng| {
            let i = if rng.chance(0.5) {
                rng.below(60)
            } else {
                rng.below(g.words.len() as u64)
            };
            g.words[i as usize].clone()
        };
        let ts = |rng: &mut SeededRng| {
            let ms = now_ms - rng.below(30 * 86_400_000);
            format!("to_timestamp_millis({ms})")
        };
        match rng.below(13) {
            0 => format!("author_id = {}", author(rng)),
            1 => format!("author_id IN ({}, '{}')", author(rng), author(rng)),
            2 => format!(
                "channel_id = {}",
                g.channels[rng.below(g.channels.len() as u64) as usize].id
            ),
            3 if !g.threads.is_empty() => format!(
                "thread_id = {}",
                g.threads[rng.below(g.threads.len() as u64) as usize].id
            ),
            4 => ["pinned", "NOT pinned", "pinned = true"][rng.below(3) as usize].into(),
            5 => ["author_is_bot", "NOT author_is_bot"][rng.below(2) as usize].into(),
            6 => ["has_link", "NOT has_link", "has_embed"][rng.below(3) as usize].into(),
            7 => format!("has_word(content, '{}')", word(rng)),
            8 => format!("mentions_user(mentions, '{}')", author(rng)),
            9 => format!(
                "content LIKE '%{}%'",
                ["deploy", &word(rng)][rng.below(2) as usize]
            ),
            10 => format!("created_at >= {}", ts(rng)),
            11 => format!("created_at < {}", ts(rng)),
            _ => format!("has_word(content, 'deploy')"),
        }
    };
    let conj = |rng: &mut SeededRng| {
        let n = 1 + rng.below(3);
        (0..n).map(|_| atom(rng)).collect::<Vec<_>>().join(" AND ")
    };
    if rng.chance(0.3) {
        format!("({}) OR ({})", conj(rng), conj(rng))
    } else {
        conj(rng)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_history_and_a_memtable_agree_on_200_random_queries() {
    let g = guild(SearchConfig::strict_with_lag(Duration::ZERO), 2_500).await;
    let memtable = oracle(&g.emulator);
    let now_ms = wall_ms();
    let mut rng = SeededRng::new(2121);
    let (mut searched, mut nonempty) = (0, 0);
    for i in 0..200 {
        let filter = random_filter(&mut rng, &g.made, now_ms);
        let sql = format!("SELECT id FROM discord.messages WHERE {filter}");
        let before = g.emulator.counters().route(Route::Search).requests;
        g.session
            .engine
            .execute("SET dbcord.guild_scan = 'search'")
            .await
            .unwrap();
        let by_search = dbcord_ids(&g.session, &sql).await;
        if g.emulator.counters().route(Route::Search).requests > before {
            searched += 1;
        }
        g.session
            .engine
            .execute("SET dbcord.guild_scan = 'history'")
            .await
            .unwrap();
        let by_history = dbcord_ids(&g.session, &sql).await;
        let oracle_sql = sql.replace("discord.messages", "messages");
        let expected = ids(&memtable
            .sql(&oracle_sql)
            .await
            .unwrap()
            .collect()
            .await
            .unwrap());
        assert_eq!(by_search, expected, "query {i}, by search: {sql}");
        assert_eq!(by_history, expected, "query {i}, by history: {sql}");
        nonempty += usize::from(!expected.is_empty());
    }
    eprintln!(
        "searched {searched}, nonempty {nonempty}, counters {:?}",
        g.emulator.counters().by_route
    );
    assert!(
        searched >= 100,
        "search was asked in {searched} of 200 queries"
    );
    assert!(nonempty >= 60, "only {nonempty} of 200 queries found rows");
}
