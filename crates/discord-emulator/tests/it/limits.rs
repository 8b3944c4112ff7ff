//! The emulator is as strict as Discord: one test per documented limit, each
//! asserting Discord's HTTP status and JSON error code.

use std::sync::Arc;
use std::time::Duration;

use discord_api::{
    Discord, DiscordError, HistoryAnchor, HistoryQuery, ManualClock, NewChannel, NewFile,
    NewMessage, RateLimitScope, Route, SearchQuery, Snowflake, channel_type,
};
use discord_emulator::{Emulator, EmulatorConfig, SearchConfig};

/// An emulator on virtual time, without rate limits unless a test asks for them.
pub fn emulator(config: EmulatorConfig) -> (Arc<ManualClock>, Emulator) {
    let clock = Arc::new(ManualClock::fixed());
    (Arc::clone(&clock), Emulator::in_memory(config, clock))
}

pub fn unlimited() -> EmulatorConfig {
    EmulatorConfig {
        buckets: vec![],
        global_per_second: u32::MAX,
        search: quiet_search(),
        ..EmulatorConfig::in_memory()
    }
}

/// Search that sees every write at once and answers straight: for tests
/// that are about something else.
pub fn quiet_search() -> SearchConfig {
    SearchConfig {
        first_search_202: false,
        inexact_totals: 0.0,
        short_pages: 0.0,
        empty_pages: 0.0,
        ..SearchConfig::strict_with_lag(Duration::ZERO)
    }
}

pub async fn text_channel(
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

pub fn assert_discord_error<T: std::fmt::Debug>(
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
        retry_after, scope, ..
    } = e
    else {
        unreachable!()
    };
    assert_eq!(scope, RateLimitScope::User);
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
        matches!(
            e,
            DiscordError::RateLimited {
                scope: RateLimitScope::Global,
                ..
            }
        ),
        "{e}"
    );
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
        d.download_attachment(ch, m.id, &m.attachments[0], None)
            .await
            .unwrap(),
        vec![7; 3]
    );
    clock.advance(Duration::from_secs(25 * 3600));
    assert_discord_error(
        d.download_attachment(ch, m.id, &m.attachments[0], None)
            .await,
        404,
        Some(10046),
    );
    let fresh = d.get_message(ch, m.id).await.unwrap();
    assert_eq!(
        d.download_attachment(ch, m.id, &fresh.attachments[0], None)
            .await
            .unwrap()
            .len(),
        3
    );
}

#[tokio::test]
async fn a_range_read_sends_the_range_and_a_deleted_message_takes_its_files() {
    let dir = tempfile::tempdir().unwrap();
    let on_disk = EmulatorConfig {
        data_dir: Some(dir.path().to_path_buf()),
        ..unlimited()
    };
    for config in [unlimited(), on_disk] {
        let clock = Arc::new(ManualClock::fixed());
        let d = Emulator::open(config, clock).unwrap();
        let ch = text_channel(&d, "t", None).await.unwrap();
        let m = d
            .create_message(
                ch,
                &NewMessage {
                    files: vec![NewFile {
                        filename: "f.bin".into(),
                        bytes: (0..=255).collect(),
                    }],
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let a = &m.attachments[0];
        let range = discord_api::ByteRange { start: 10, end: 14 };
        let before = d.counters().cdn_bytes;
        assert_eq!(
            d.download_attachment(ch, m.id, a, Some(range))
                .await
                .unwrap(),
            vec![10, 11, 12, 13]
        );
        assert_eq!(d.counters().cdn_bytes - before, 4, "only the range is sent");
        d.delete_message(ch, m.id).await.unwrap();
        assert_discord_error(
            d.download_attachment(ch, m.id, a, None).await,
            404,
            Some(10046),
        );
    }
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
        d.download_attachment(ch, m.id, &again.attachments[0], None)
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
async fn nonces_are_remembered_per_author_and_a_deleted_first_is_404() {
    let (_, d) = emulator(unlimited());
    let a = text_channel(&d, "a", None).await.unwrap();
    let b = text_channel(&d, "b", None).await.unwrap();
    let msg = NewMessage {
        nonce: Some("same".into()),
        enforce_nonce: true,
        ..NewMessage::text("row")
    };
    let first = d.create_message(a, &msg).await.unwrap();
    let again = d.create_message(b, &msg).await.unwrap();
    assert_eq!(
        again.id, first.id,
        "the same author's nonce, in another channel"
    );
    d.delete_message(a, first.id).await.unwrap();
    assert_discord_error(d.create_message(b, &msg).await, 404, Some(10008));
}

#[tokio::test]
async fn some_characters_are_stripped_from_content() {
    let (_, d) = emulator(unlimited());
    let ch = text_channel(&d, "t", None).await.unwrap();
    let m = d
        .create_message(ch, &NewMessage::text("a\u{0}b\u{202e}c\nd"))
        .await
        .unwrap();
    assert_eq!(m.content, "abc\nd");
}

#[tokio::test]
async fn threads_archive_when_idle_and_the_active_ones_are_capped() {
    let config = EmulatorConfig {
        max_active_threads: 2,
        ..unlimited()
    };
    let (clock, d) = emulator(config);
    let ch = text_channel(&d, "t", None).await.unwrap();
    let mut rows = Vec::new();
    for i in 0..3 {
        rows.push(
            d.create_message(ch, &NewMessage::text(format!("row {i}")))
                .await
                .unwrap()
                .id,
        );
    }
    let t0 = d
        .start_thread_archiving_after(ch, rows[0], "h0", 60)
        .await
        .unwrap();
    d.start_thread(ch, rows[1], "h1").await.unwrap();
    assert_discord_error(d.start_thread(ch, rows[2], "h2").await, 400, Some(160006));
    clock.advance(Duration::from_secs(61 * 60));
    let archived = d.get_channel(t0.id).await.unwrap();
    assert!(archived.thread_metadata.unwrap().archived);
    d.start_thread(ch, rows[2], "h2").await.unwrap();
    assert_discord_error(
        d.create_message(t0.id, &NewMessage::text("v1")).await,
        400,
        Some(160006),
    );
}

#[tokio::test]
async fn thread_creation_answers_minutes_long_shared_429s() {
    let (_, d) = emulator(EmulatorConfig {
        global_per_second: u32::MAX,
        ..EmulatorConfig::in_memory()
    });
    let ch = text_channel(&d, "t", None).await.unwrap();
    let mut refused = None;
    for i in 0..20 {
        let row = d.post_as_person(ch, &format!("row {i}")).unwrap();
        if let Err(e) = d.start_thread(ch, row.id, "h").await {
            refused = Some(e);
            break;
        }
    }
    match refused.expect("thread creation is limited") {
        DiscordError::RateLimited {
            retry_after, scope, ..
        } => {
            assert_eq!(scope, RateLimitScope::Shared);
            assert!(retry_after > 60.0, "{retry_after}");
        }
        e => panic!("{e}"),
    }
}

#[tokio::test]
async fn a_tampered_attachment_url_is_refused() {
    let (_, d) = emulator(unlimited());
    let ch = text_channel(&d, "t", None).await.unwrap();
    let m = d
        .create_message(
            ch,
            &NewMessage {
                files: vec![NewFile {
                    filename: "f.bin".into(),
                    bytes: vec![1, 2],
                }],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let a = &m.attachments[0];
    for part in ["ex=", "is=", "hm="] {
        assert!(a.url.contains(part), "{}", a.url);
    }
    let later = a.url.replace("ex=", "ex=f");
    let tampered = discord_api::Attachment {
        url: later,
        ..a.clone()
    };
    assert_discord_error(
        d.download_attachment(ch, m.id, &tampered, None).await,
        404,
        Some(10046),
    );
    assert_eq!(
        d.download_attachment(ch, m.id, a, None).await.unwrap(),
        vec![1, 2]
    );
}
