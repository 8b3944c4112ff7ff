//! The emulator is as strict as Discord: one test per documented limit, each
//! asserting Discord's HTTP status and JSON error code.

use std::sync::Arc;
use std::time::Duration;

use discord_api::{
    Discord, DiscordError, HistoryAnchor, HistoryQuery, ManualClock, NewChannel, NewFile,
    NewMessage, Route, SearchQuery, Snowflake, channel_type,
};
use discord_emulator::{Emulator, EmulatorConfig};

/// An emulator on virtual time, without rate limits unless a test asks for them.
fn emulator(config: EmulatorConfig) -> (Arc<ManualClock>, Emulator) {
    let clock = Arc::new(ManualClock::fixed());
    (Arc::clone(&clock), Emulator::in_memory(config, clock))
}

fn unlimited() -> EmulatorConfig {
    EmulatorConfig {
        buckets: vec![],
        global_per_second: u32::MAX,
        ..EmulatorConfig::in_memory()
    }
}

async fn text_channel(
    d: &Emulator,
    name: &str,
    parent: Option<Snowflake>,
) -> Result<Snowflake, DiscordError> {
    let req = NewChannel {
        name: name.into(),
        kind: channel_type::TEXT,
        topic: None,
        parent_id: parent,
    };
    d.create_channel(&req).await.map(|c| c.id)
}

fn assert_discord_error<T: std::fmt::Debug>(
    r: Result<T, DiscordError>,
    status: u16,
    code: Option<u32>,
) {
    let e = r.expect_err("Discord would refuse this");
    assert_eq!((e.status(), e.code()), (status, code), "{e}");
}

#[tokio::test]
async fn content_over_2000_characters_is_refused() {
    let (_, d) = emulator(unlimited());
    let ch = text_channel(&d, "t", None).await.unwrap();
    d.create_message(ch, &NewMessage::text("x".repeat(2000)))
        .await
        .unwrap();
    let r = d
        .create_message(ch, &NewMessage::text("x".repeat(2001)))
        .await;
    assert_discord_error(r, 400, Some(50035));
    // Discord counts UTF-16 units: 1001 emoji are 2002 units.
    let r = d
        .create_message(ch, &NewMessage::text("😀".repeat(1001)))
        .await;
    assert_discord_error(r, 400, Some(50035));
}

#[tokio::test]
async fn history_limit_over_100_is_refused() {
    let (_, d) = emulator(unlimited());
    let ch = text_channel(&d, "t", None).await.unwrap();
    for limit in [0, 101] {
        let r = d
            .list_messages(
                ch,
                &HistoryQuery {
                    anchor: HistoryAnchor::Latest,
                    limit,
                },
            )
            .await;
        assert_discord_error(r, 400, Some(50035));
    }
}

#[tokio::test]
async fn search_limit_26_and_offset_9976_are_refused() {
    let (_, d) = emulator(unlimited());
    let r = d
        .search(&SearchQuery {
            limit: Some(26),
            ..Default::default()
        })
        .await;
    assert_discord_error(r, 400, Some(50035));
    let r = d
        .search(&SearchQuery {
            offset: Some(9976),
            ..Default::default()
        })
        .await;
    assert_discord_error(r, 400, Some(50035));
    d.search(&SearchQuery {
        offset: Some(9975),
        limit: Some(25),
        ..Default::default()
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn bulk_delete_takes_2_to_100_young_messages() {
    let (clock, d) = emulator(unlimited());
    let ch = text_channel(&d, "t", None).await.unwrap();
    let old = d
        .create_message(ch, &NewMessage::text("old"))
        .await
        .unwrap()
        .id;
    clock.advance(Duration::from_secs(15 * 24 * 3600));
    let mut ids = Vec::new();
    for i in 0..101 {
        ids.push(
            d.create_message(ch, &NewMessage::text(format!("m{i}")))
                .await
                .unwrap()
                .id,
        );
    }
    assert_discord_error(d.bulk_delete(ch, &ids[..1]).await, 400, Some(50016));
    assert_discord_error(d.bulk_delete(ch, &ids).await, 400, Some(50016));
    assert_discord_error(d.bulk_delete(ch, &[old, ids[0]]).await, 400, Some(50034));
    d.bulk_delete(ch, &ids[..2]).await.unwrap();
    assert_discord_error(d.get_message(ch, ids[0]).await, 404, Some(10008));
}

#[tokio::test]
async fn a_message_has_at_most_one_thread() {
    let (_, d) = emulator(unlimited());
    let ch = text_channel(&d, "t", None).await.unwrap();
    let m = d
        .create_message(ch, &NewMessage::text("row"))
        .await
        .unwrap();
    let thread = d.start_thread(ch, m.id, "history").await.unwrap();
    assert_eq!(thread.id, m.id, "a thread's ID is its message's");
    d.create_message(thread.id, &NewMessage::text("v1"))
        .await
        .unwrap();
    assert_discord_error(d.start_thread(ch, m.id, "again").await, 400, Some(160004));
}

#[tokio::test]
async fn a_guild_holds_500_channels() {
    let (_, d) = emulator(unlimited());
    for i in 0..500 {
        text_channel(&d, &format!("c{i}"), None).await.unwrap();
    }
    assert_discord_error(
        text_channel(&d, "one-too-many", None).await,
        400,
        Some(30013),
    );
}

#[tokio::test]
async fn a_category_holds_50_channels() {
    let (_, d) = emulator(unlimited());
    let cat = NewChannel {
        name: "cat".into(),
        kind: channel_type::CATEGORY,
        topic: None,
        parent_id: None,
    };
    let cat = d.create_channel(&cat).await.unwrap().id;
    for i in 0..50 {
        text_channel(&d, &format!("c{i}"), Some(cat)).await.unwrap();
    }
    assert_discord_error(text_channel(&d, "c50", Some(cat)).await, 400, Some(50035));
    text_channel(&d, "elsewhere", None).await.unwrap();
}

#[tokio::test]
async fn a_spent_bucket_answers_429_with_retry_after() {
    let (clock, d) = emulator(EmulatorConfig::in_memory());
    let ch = text_channel(&d, "t", None).await.unwrap();
    for i in 0..5 {
        d.create_message(ch, &NewMessage::text(format!("m{i}")))
            .await
            .unwrap();
    }
    let e = d
        .create_message(ch, &NewMessage::text("sixth"))
        .await
        .unwrap_err();
    assert_eq!(e.status(), 429);
    let DiscordError::RateLimited {
        retry_after,
        global,
        ..
    } = e
    else {
        unreachable!()
    };
    assert!(!global);
    assert!(
        retry_after > 4.9 && retry_after <= 5.0,
        "retry_after {retry_after}"
    );
    clock.advance(Duration::from_secs_f64(retry_after));
    d.create_message(ch, &NewMessage::text("sixth"))
        .await
        .unwrap();
    let c = d.counters().route(Route::CreateMessage);
    assert_eq!((c.requests, c.rate_limited), (7, 1));
}

#[tokio::test]
async fn the_global_limit_is_50_per_second() {
    let (_, d) = emulator(EmulatorConfig {
        buckets: vec![],
        ..EmulatorConfig::in_memory()
    });
    let ch = text_channel(&d, "t", None).await.unwrap();
    for _ in 0..49 {
        d.list_messages(
            ch,
            &HistoryQuery {
                anchor: HistoryAnchor::Latest,
                limit: 1,
            },
        )
        .await
        .unwrap();
    }
    let e = d.search(&SearchQuery::default()).await.unwrap_err();
    assert!(
        matches!(e, DiscordError::RateLimited { global: true, .. }),
        "{e}"
    );
}

#[tokio::test]
async fn search_misses_a_message_during_the_lag_and_finds_it_after() {
    let config = EmulatorConfig {
        search_lag: Duration::from_secs(10),
        ..unlimited()
    };
    let (clock, d) = emulator(config);
    let ch = text_channel(&d, "t", None).await.unwrap();
    d.create_message(ch, &NewMessage::text("Hello World"))
        .await
        .unwrap();
    let q = SearchQuery {
        content: Some("hello".into()),
        channel_ids: vec![ch],
        ..Default::default()
    };
    assert_eq!(d.search(&q).await.unwrap().total_results, 0);
    clock.advance(Duration::from_secs(10));
    let found = d.search(&q).await.unwrap();
    assert_eq!(found.total_results, 1);
    assert_eq!(found.hits().next().unwrap().hit, Some(true));
}

#[tokio::test]
async fn search_answers_202_during_warm_up() {
    let config = EmulatorConfig {
        search_warmup: Duration::from_secs(30),
        ..unlimited()
    };
    let (clock, d) = emulator(config);
    let e = d.search(&SearchQuery::default()).await.unwrap_err();
    assert_eq!((e.status(), e.code()), (202, Some(110000)));
    let DiscordError::IndexNotReady { retry_after, .. } = e else {
        unreachable!()
    };
    assert!(retry_after >= 1.0);
    clock.advance(Duration::from_secs(30));
    d.search(&SearchQuery::default()).await.unwrap();
}

#[tokio::test]
async fn deleted_messages_linger_in_search_until_the_lag_passes() {
    let config = EmulatorConfig {
        search_lag: Duration::from_secs(5),
        ..unlimited()
    };
    let (clock, d) = emulator(config);
    let ch = text_channel(&d, "t", None).await.unwrap();
    let m = d
        .create_message(ch, &NewMessage::text("ghost"))
        .await
        .unwrap();
    clock.advance(Duration::from_secs(5));
    d.delete_message(ch, m.id).await.unwrap();
    let q = SearchQuery {
        content: Some("ghost".into()),
        ..Default::default()
    };
    assert_eq!(
        d.search(&q).await.unwrap().total_results,
        1,
        "stale hit: a candidate, never proof"
    );
    clock.advance(Duration::from_secs(5));
    assert_eq!(d.search(&q).await.unwrap().total_results, 0);
}

#[tokio::test]
async fn history_pages_come_newest_first_even_after_an_anchor() {
    let (_, d) = emulator(unlimited());
    let ch = text_channel(&d, "t", None).await.unwrap();
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            d.create_message(ch, &NewMessage::text(format!("m{i}")))
                .await
                .unwrap()
                .id,
        );
    }
    let page = page_ids(&d, ch, HistoryAnchor::After(ids[0])).await;
    assert_eq!(
        page,
        vec![ids[2], ids[1]],
        "the oldest two after the anchor, newest first"
    );
    let page = page_ids(&d, ch, HistoryAnchor::Before(ids[4])).await;
    assert_eq!(page, vec![ids[3], ids[2]]);
}

/// The IDs of a two-message history page.
async fn page_ids(d: &Emulator, ch: Snowflake, anchor: HistoryAnchor) -> Vec<Snowflake> {
    let q = HistoryQuery { anchor, limit: 2 };
    d.list_messages(ch, &q)
        .await
        .unwrap()
        .iter()
        .map(|m| m.id)
        .collect()
}

#[tokio::test]
async fn a_repeated_nonce_returns_the_first_message() {
    let (_, d) = emulator(unlimited());
    let ch = text_channel(&d, "t", None).await.unwrap();
    let msg = NewMessage {
        nonce: Some("n1".into()),
        enforce_nonce: true,
        ..NewMessage::text("row")
    };
    let a = d.create_message(ch, &msg).await.unwrap();
    let b = d.create_message(ch, &msg).await.unwrap();
    assert_eq!(a.id, b.id);
    let page = d
        .list_messages(
            ch,
            &HistoryQuery {
                anchor: HistoryAnchor::Latest,
                limit: 100,
            },
        )
        .await
        .unwrap();
    assert_eq!(page.len(), 1);
    let long = NewMessage {
        nonce: Some("n".repeat(26)),
        ..NewMessage::text("row")
    };
    assert_discord_error(d.create_message(ch, &long).await, 400, Some(50035));
}

#[tokio::test]
async fn attachments_are_limited_and_their_urls_expire() {
    let (clock, d) = emulator(unlimited());
    let ch = text_channel(&d, "t", None).await.unwrap();
    let file = |n: usize| NewFile {
        filename: "f.bin".into(),
        bytes: vec![7; n],
    };
    let eleven = NewMessage {
        files: (0..11).map(|_| file(1)).collect(),
        ..Default::default()
    };
    assert_discord_error(d.create_message(ch, &eleven).await, 400, Some(30015));
    let big = NewMessage {
        files: vec![file(10 * 1024 * 1024 + 1)],
        ..Default::default()
    };
    assert_discord_error(d.create_message(ch, &big).await, 413, Some(40005));
    let m = d
        .create_message(
            ch,
            &NewMessage {
                files: vec![file(3)],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        d.download_attachment(ch, m.id, &m.attachments[0])
            .await
            .unwrap(),
        vec![7; 3]
    );
    clock.advance(Duration::from_secs(25 * 3600));
    assert_discord_error(
        d.download_attachment(ch, m.id, &m.attachments[0]).await,
        404,
        Some(10046),
    );
    let fresh = d.get_message(ch, m.id).await.unwrap();
    assert_eq!(
        d.download_attachment(ch, m.id, &fresh.attachments[0])
            .await
            .unwrap()
            .len(),
        3
    );
}

#[tokio::test]
async fn only_the_author_may_edit() {
    let (_, d) = emulator(unlimited());
    let ch = text_channel(&d, "t", None).await.unwrap();
    let theirs = d.post_as_person(ch, "mine").unwrap();
    assert_discord_error(
        d.edit_message(ch, theirs.id, "hacked").await,
        403,
        Some(50005),
    );
    assert_discord_error(
        d.get_message(Snowflake(42), theirs.id).await,
        404,
        Some(10003),
    );
}

#[tokio::test]
async fn state_survives_a_restart_from_the_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let config = EmulatorConfig {
        data_dir: Some(dir.path().into()),
        ..unlimited()
    };
    let clock = Arc::new(ManualClock::fixed());
    let (ch, m) = {
        let d = Emulator::open(config.clone(), clock.clone()).unwrap();
        let ch = text_channel(&d, "t", None).await.unwrap();
        let m = d
            .create_message(
                ch,
                &NewMessage {
                    files: vec![NewFile {
                        filename: "a".into(),
                        bytes: b"blob".to_vec(),
                    }],
                    ..NewMessage::text("kept")
                },
            )
            .await
            .unwrap();
        (ch, m)
    };
    let d = Emulator::open(config, clock).unwrap();
    let again = d.get_message(ch, m.id).await.unwrap();
    assert_eq!(again.content, "kept");
    assert_eq!(
        d.download_attachment(ch, m.id, &again.attachments[0])
            .await
            .unwrap(),
        b"blob"
    );
    let newer = d
        .create_message(ch, &NewMessage::text("after restart"))
        .await
        .unwrap();
    assert!(newer.id > m.id, "IDs keep growing across restarts");
}

#[tokio::test]
async fn a_search_page_may_be_short_although_more_hits_follow() {
    let (_, d) = emulator(unlimited());
    let ch = text_channel(&d, "t", None).await.unwrap();
    for i in 0..30 {
        d.create_message(ch, &NewMessage::text(format!("word {i}")))
            .await
            .unwrap();
    }
    let q = SearchQuery {
        content: Some("word".into()),
        ..Default::default()
    };
    let page = d.search(&q).await.unwrap();
    assert_eq!(page.total_results, 30);
    assert_eq!(page.messages.len(), 24, "one short, with 6 more to come");
    let last = d
        .search(&SearchQuery {
            offset: Some(24),
            ..q
        })
        .await
        .unwrap();
    assert_eq!(last.messages.len(), 6);
}
