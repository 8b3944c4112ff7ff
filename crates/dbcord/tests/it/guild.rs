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
        days: SHAPE_DAYS,
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
    let made = generate(&emulator, discord, clock.as_ref(), &shape)
        .await
        .unwrap();
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

/// The IDs the MemTable finds for `sql` (written against `discord.messages`).
async fn memtable_ids(memtable: &SessionContext, sql: &str) -> Vec<i64> {
    let sql = sql.replace("discord.messages", "messages");
    ids(&memtable.sql(&sql).await.unwrap().collect().await.unwrap())
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
const SHAPE_DAYS: u64 = 30;

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
            let ms = now_ms - rng.below(SHAPE_DAYS * 86_400_000);
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
            _ => "has_word(content, 'deploy')".to_string(),
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
        let expected = memtable_ids(&memtable, &sql).await;
        assert_eq!(by_search, expected, "query {i}, by search: {sql}");
        assert_eq!(by_history, expected, "query {i}, by history: {sql}");
        nonempty += usize::from(!expected.is_empty());
    }
    assert!(
        searched >= 100,
        "search was asked in {searched} of 200 queries"
    );
    assert!(nonempty >= 60, "only {nonempty} of 200 queries found rows");
}

/// Requests on routes that change the guild, so far.
fn writes(emulator: &Emulator) -> u64 {
    let c = emulator.counters();
    Route::ALL
        .iter()
        .filter(|r| r.is_write())
        .map(|r| c.route(*r).requests)
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_posted_seconds_ago_are_found_although_search_lags() {
    // Discord's search as the emulator has it by default: a heavy-tailed
    // lag of up to two minutes, phrases, short and empty pages, a 202 first.
    let g = guild(SearchConfig::strict(), 1_500).await;
    let author = g.made.rare_author().clone();
    let channel = g.made.channels[3].id;
    let mut fresh = Vec::new();
    for i in 0..5 {
        g.clock.advance(Duration::from_millis(300));
        let m = g
            .emulator
            .import_message(discord_emulator::PersonPost {
                channel,
                author: Some(author.clone()),
                content: format!("just now {i} zeppelin"),
                ..Default::default()
            })
            .unwrap();
        fresh.push(m.id.0 as i64);
    }
    let memtable = oracle(&g.emulator);
    for filter in [
        format!("author_id = {}", author.id),
        "has_word(content, 'zeppelin')".to_string(),
        format!(
            "author_id = {} AND has_word(content, 'zeppelin')",
            author.id
        ),
    ] {
        let sql = format!("SELECT id FROM discord.messages WHERE {filter}");
        let found = dbcord_ids(&g.session, &sql).await;
        assert!(
            fresh.iter().all(|id| found.contains(id)),
            "{sql}: the fresh messages {fresh:?} missing from {found:?}"
        );
        let expected = memtable_ids(&memtable, &sql).await;
        assert_eq!(found, expected, "{sql}");
    }
    let analyzed = text(
        &g.session,
        &format!(
            "EXPLAIN ANALYZE SELECT count(*) FROM discord.messages WHERE author_id = {}",
            author.id
        ),
    )
    .await;
    assert!(analyzed.contains("search_requests="), "{analyzed}");
    assert!(analyzed.contains("history_requests="), "{analyzed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_names_the_search_parameters_and_the_post_filters() {
    let g = guild(SearchConfig::strict_with_lag(Duration::ZERO), 300).await;
    let author = g.made.authors[0].id;
    let sql = format!(
        "EXPLAIN SELECT count(*) FROM discord.messages WHERE author_id = '{author}' \
         AND content LIKE '%deploy%' AND created_at > now() - INTERVAL '7 days'"
    );
    let plan = text(&g.session, &sql).await;
    assert!(plan.contains("access=search"), "{plan}");
    assert!(plan.contains(&format!("author_id={author}")), "{plan}");
    assert!(plan.contains("min_id="), "{plan}");
    assert!(plan.contains("fresh_window="), "{plan}");
    assert!(
        plan.contains("post_filters=[") && plan.contains("%deploy%"),
        "{plan}"
    );
    // The same count as the MemTable's.
    let count = sql.trim_start_matches("EXPLAIN ");
    let ours = text(&g.session, count).await;
    let memtable = oracle(&g.emulator);
    let theirs = memtable
        .sql(&count.replace("discord.messages", "messages"))
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let theirs = datafusion::arrow::util::pretty::pretty_format_batches(&theirs)
        .unwrap()
        .to_string();
    assert_eq!(
        ours.lines().nth(3),
        theirs.lines().nth(3),
        "{ours}\n{theirs}"
    );
    // Filters search cannot narrow read history, and EXPLAIN says so.
    let plan = text(
        &g.session,
        "EXPLAIN SELECT * FROM discord.messages WHERE content LIKE '%deploy%'",
    )
    .await;
    assert!(
        plan.contains("access=history (every readable channel"),
        "{plan}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_newest_rows_stop_the_requests_once_the_limit_is_met() {
    let g = guild(SearchConfig::strict_with_lag(Duration::ZERO), 3_000).await;
    let busiest = g.made.authors[0].id;
    let sql = format!(
        "SELECT id FROM discord.messages WHERE author_id = {busiest} ORDER BY created_at DESC LIMIT 5"
    );
    let before = g.emulator.counters().route(Route::Search).requests;
    let newest = match g.session.engine.execute(&sql).await.unwrap().pop() {
        Some(Outcome::Rows { batches, .. }) => {
            let mut v = ids(&batches);
            v.reverse();
            v
        }
        other => panic!("{other:?}"),
    };
    let asked = g.emulator.counters().route(Route::Search).requests - before;
    let all = dbcord_ids(
        &g.session,
        &format!("SELECT id FROM discord.messages WHERE author_id = {busiest}"),
    )
    .await;
    assert!(
        all.len() > 100,
        "the busiest author has {} messages",
        all.len()
    );
    let mut expected: Vec<i64> = all.iter().rev().take(5).copied().collect();
    expected.sort();
    expected.reverse();
    assert_eq!(newest, expected);
    assert!(asked <= 3, "{asked} search requests for 5 rows");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_write_to_the_discord_schema_is_refused_and_sends_nothing() {
    let g = guild(SearchConfig::strict_with_lag(Duration::ZERO), 50).await;
    let before = writes(&g.emulator);
    for sql in [
        "INSERT INTO discord.messages (content) VALUES ('hi')",
        "INSERT INTO discord.channels SELECT * FROM discord.channels",
        "UPDATE discord.messages SET content = 'x'",
        "DELETE FROM discord.messages WHERE pinned",
        "DROP TABLE discord.members",
        "CREATE TABLE discord.notes (a INT)",
        "ALTER TABLE discord.messages ADD COLUMN x INT",
        "VACUUM discord.messages",
        "CREATE INDEX by_author ON discord.messages (author_id)",
        "CREATE DATABASE discord",
        "DROP SCHEMA discord",
    ] {
        let out = text(&g.session, sql).await;
        assert!(out.starts_with("error:"), "{sql}: {out}");
        assert!(
            out.contains("read-only") || out.contains("discord is refused"),
            "{sql}: {out}"
        );
    }
    assert_eq!(writes(&g.emulator), before, "a write request was sent");
    // Reading works beside: every list table answers.
    for t in ["channels", "threads", "members", "roles"] {
        let out = text(&g.session, &format!("SELECT count(*) FROM discord.{t}")).await;
        assert!(!out.starts_with("error"), "{t}: {out}");
    }
    let people = text(
        &g.session,
        "SELECT count(*) AS n FROM discord.channels WHERE NOT dbcord",
    )
    .await;
    assert!(
        people.contains("| 10 |"),
        "2 categories of 4 channels: {people}"
    );
    let ours = text(&g.session, "SELECT name FROM discord.channels WHERE dbcord").await;
    assert!(
        ours.contains("dbcord-main") && ours.contains("dbc-catalog"),
        "{ours}"
    );
    let members = text(&g.session, "SELECT count(*) AS n FROM discord.members").await;
    assert!(
        members.contains("43"),
        "40 people, 2 bots and dbcord: {members}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_http_search_and_history_agree_with_the_memtable() {
    use discord_api::{ScaledClock, Waiting};
    use discord_emulator::serve::ServeOptions;
    let scale = 50.0;
    let clock = Arc::new(ScaledClock::starting_at(
        wall_ms() - SHAPE_DAYS * 86_400_000,
        scale,
    ));
    let config = EmulatorConfig {
        search: SearchConfig::strict_with_lag(Duration::ZERO),
        ..EmulatorConfig::in_memory()
    };
    let options = ServeOptions {
        token: None,
        time_scale: scale,
        ..Default::default()
    };
    let (emulator, addr) = crate::common::serve(config, clock.clone(), options).await;
    let bot = Waiting::new(Arc::clone(&emulator), clock.clone(), Default::default());
    let shape = GuildShape {
        categories: 1,
        channels_per_category: 3,
        members: 20,
        messages: 600,
        days: SHAPE_DAYS,
        seed: 11,
    };
    let made = generate(&emulator, &bot, clock.as_ref(), &shape)
        .await
        .unwrap();
    let session = Session::over_http(
        crate::common::http_config(&emulator, addr),
        Arc::new(discord_api::RealClock),
    )
    .await
    .unwrap();
    let memtable = oracle(&emulator);
    let mut rng = SeededRng::new(77);
    let writes_before = writes(&emulator);
    for _ in 0..12 {
        let filter = random_filter(&mut rng, &made, wall_ms());
        let sql = format!("SELECT id FROM discord.messages WHERE {filter}");
        let expected = memtable_ids(&memtable, &sql).await;
        for mode in ["search", "history"] {
            let set = format!("SET dbcord.guild_scan = '{mode}'");
            session.engine.execute(&set).await.unwrap();
            assert_eq!(dbcord_ids(&session, &sql).await, expected, "{mode}: {sql}");
        }
    }
    let roles = text(&session, "SELECT name FROM discord.roles ORDER BY position").await;
    assert!(
        roles.contains("@everyone") && roles.contains("regular"),
        "{roles}"
    );
    assert_eq!(
        writes(&emulator),
        writes_before,
        "reading wrote to the guild"
    );
}

/// The rows a query finds, and the MemTable's.
async fn both(g: &Guild, sql: &str) -> (Vec<i64>, Vec<i64>) {
    let memtable = oracle(&g.emulator);
    let expected = memtable_ids(&memtable, sql).await;
    (dbcord_ids(&g.session, sql).await, expected)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_index_that_stays_unready_sends_the_query_to_history_and_says_so() {
    // Search answers 202 for ten minutes: longer than the 30 s dbcord waits.
    let search = SearchConfig {
        warmup: Duration::from_secs(600),
        ..SearchConfig::strict_with_lag(Duration::ZERO)
    };
    let g = guild(search, 800).await;
    g.emulator.restart_search_index();
    let sql = format!(
        "SELECT id FROM discord.messages WHERE author_id = {}",
        g.made.authors[2].id
    );
    let (found, expected) = both(&g, &sql).await;
    assert!(!expected.is_empty());
    assert_eq!(found, expected);
    let analyzed = text(&g.session, &format!("EXPLAIN ANALYZE {sql}")).await;
    assert!(analyzed.contains("fallbacks=1"), "{analyzed}");
    assert!(!analyzed.contains("search_202s=0"), "{analyzed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_and_short_pages_and_a_rebuilding_index_lose_no_row() {
    // Half the pages come back empty or short although hits remain.
    let search = SearchConfig {
        empty_pages: 0.3,
        short_pages: 0.5,
        ..SearchConfig::strict_with_lag(Duration::ZERO)
    };
    let g = guild(search, 2_000).await;
    for author in [0, 1, 7] {
        let sql = format!(
            "SELECT id FROM discord.messages WHERE author_id = {}",
            g.made.authors[author].id
        );
        let (found, expected) = both(&g, &sql).await;
        assert_eq!(found, expected, "{sql}");
    }
    // A deep historical index hides old messages: such answers are not used.
    let search = SearchConfig {
        deep_index: Some(discord_emulator::DeepIndex {
            every: Duration::from_secs(1),
            lasting: Duration::from_secs(1),
            hides_older_than: Duration::from_secs(86_400),
        }),
        ..SearchConfig::strict_with_lag(Duration::ZERO)
    };
    let g = guild(search, 600).await;
    let sql = format!(
        "SELECT id FROM discord.messages WHERE author_id = {}",
        g.made.authors[0].id
    );
    let (found, expected) = both(&g, &sql).await;
    assert_eq!(found, expected);
    let analyzed = text(&g.session, &format!("EXPLAIN ANALYZE {sql}")).await;
    assert!(analyzed.contains("deep_index=1"), "{analyzed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_without_the_intent_is_a_clear_error() {
    let config = EmulatorConfig {
        server_members_intent: false,
        ..EmulatorConfig::in_memory()
    };
    let clock = Arc::new(ManualClock::new(wall_ms()));
    let session = Session::embedded(config, clock, Default::default())
        .await
        .unwrap();
    let out = text(&session, "SELECT * FROM discord.members").await;
    assert!(out.contains("Server Members intent"), "{out}");
    let names = text(&session, "SHOW TABLES").await;
    assert!(
        names.contains("discord") && names.contains("messages"),
        "{names}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guild_bench_agrees_both_ways_and_search_asks_less() {
    let runs = dbcord::bench::guild::run(3_000).await.unwrap();
    assert_eq!(runs.len(), 14);
    assert!(
        runs.iter().all(|r| r.agree),
        "{}",
        dbcord::bench::guild::markdown(&runs)
    );
    for (i, pair) in runs.chunks(2).enumerate() {
        let (search, history) = (&pair[0], &pair[1]);
        // A channel's week is a few history pages at this size: search
        // may cost a request or two more there, and nowhere else.
        let slack = if i == 2 { 2 } else { 0 };
        assert!(
            search.api_requests <= history.api_requests + slack,
            "{}: {} by search, {} by history",
            search.question,
            search.api_requests,
            history.api_requests
        );
    }
    let word = &runs[6];
    assert!(word.question.contains("rare word"));
    assert!(
        runs[7].api_requests >= 5 * word.api_requests,
        "{}",
        dbcord::bench::guild::markdown(&runs)
    );
}
