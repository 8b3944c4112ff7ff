//! Search is as unkind as Discord's by default: each test pins one way.

use std::sync::Arc;
use std::time::Duration;

use discord_api::{
    Discord, DiscordError, ManualClock, NewMessage, SearchQuery, SearchResults, Snowflake,
};
use discord_emulator::{DeepIndex, Emulator, EmulatorConfig, LagModel, Matching, SearchConfig};

use crate::limits::{emulator, quiet_search, text_channel, unlimited};

fn with_search(search: SearchConfig) -> EmulatorConfig {
    EmulatorConfig {
        search,
        ..unlimited()
    }
}

fn query(content: &str, ch: Snowflake) -> SearchQuery {
    SearchQuery {
        content: Some(content.into()),
        channel_ids: vec![ch],
        ..Default::default()
    }
}

async fn post(d: &Emulator, ch: Snowflake, text: &str) -> Snowflake {
    d.create_message(ch, &NewMessage::text(text))
        .await
        .unwrap()
        .id
}

fn ids(r: &SearchResults) -> Vec<Snowflake> {
    r.hits().map(|m| m.id).collect()
}

#[tokio::test]
async fn several_words_match_only_as_a_phrase_in_order() {
    let (_, d) = emulator(unlimited());
    let ch = text_channel(&d, "t", None).await.unwrap();
    let adjacent = post(&d, ch, "row alpha beta").await;
    let reversed = post(&d, ch, "row beta alpha").await;
    let apart = post(&d, ch, "alpha one two three beta").await;
    let found = d.search(&query("alpha beta", ch)).await.unwrap();
    assert_eq!(ids(&found), vec![adjacent], "only the phrase in order");
    let kind = EmulatorConfig {
        search: SearchConfig {
            matching: Matching::AllWords,
            ..quiet_search()
        },
        ..unlimited()
    };
    let (_, k) = emulator(kind);
    let ch = text_channel(&k, "t", None).await.unwrap();
    for text in [
        "row alpha beta",
        "row beta alpha",
        "alpha one two three beta",
    ] {
        post(&k, ch, text).await;
    }
    let all = k.search(&query("alpha beta", ch)).await.unwrap();
    assert_eq!(all.total_results, 3, "the kinder option ANDs the words");
    let _ = (reversed, apart);
}

#[tokio::test]
async fn the_lag_is_drawn_per_message_and_heavy_tailed() {
    let search = SearchConfig {
        lag: LagModel::HeavyTailed {
            scale: Duration::from_secs(1),
            alpha: 1.0,
            max: Duration::from_secs(300),
        },
        ..quiet_search()
    };
    let (clock, d) = emulator(with_search(search));
    let ch = text_channel(&d, "t", None).await.unwrap();
    for i in 0..400 {
        post(&d, ch, &format!("lagword n{i}")).await;
    }
    let count = |r: SearchResults| r.total_results;
    assert_eq!(count(d.search(&query("lagword", ch)).await.unwrap()), 0);
    clock.advance(Duration::from_secs(10));
    let after_10 = count(d.search(&query("lagword", ch)).await.unwrap());
    assert!(
        (300..400).contains(&after_10),
        "most within seconds: {after_10}"
    );
    clock.advance(Duration::from_secs(50));
    let after_60 = count(d.search(&query("lagword", ch)).await.unwrap());
    assert!(after_60 < 400, "a tail longer than a minute: {after_60}");
    clock.advance(Duration::from_secs(240));
    assert_eq!(count(d.search(&query("lagword", ch)).await.unwrap()), 400);
}

#[tokio::test]
async fn the_first_search_of_a_guild_answers_202_sometimes_with_retry_after_0() {
    let mut zero = false;
    for seed in 0..20 {
        let search = SearchConfig {
            seed,
            ..SearchConfig::strict()
        };
        let (_, d) = emulator(with_search(search));
        let e = d.search(&SearchQuery::default()).await.unwrap_err();
        let DiscordError::IndexNotReady { retry_after, .. } = e else {
            panic!("{e}")
        };
        zero |= retry_after == 0.0;
        d.search(&SearchQuery::default()).await.unwrap();
    }
    assert!(zero, "some first 202s ask to retry at once");
}

#[tokio::test]
async fn search_answers_202_during_warm_up() {
    let search = SearchConfig {
        warmup: Duration::from_secs(30),
        ..quiet_search()
    };
    let (clock, d) = emulator(with_search(search));
    let e = d.search(&SearchQuery::default()).await.unwrap_err();
    assert_eq!((e.status(), e.code()), (202, Some(110000)));
    clock.advance(Duration::from_secs(30));
    d.search(&SearchQuery::default()).await.unwrap();
}

#[tokio::test]
async fn totals_are_inexact_both_ways_and_stop_at_10000() {
    let search = SearchConfig {
        inexact_totals: 0.3,
        ..quiet_search()
    };
    let (_, d) = emulator(with_search(search));
    let ch = text_channel(&d, "t", None).await.unwrap();
    for i in 0..10_050 {
        post(&d, ch, &format!("many w{}", i % 40)).await;
    }
    let big = d.search(&query("many", ch)).await.unwrap();
    assert!(big.total_results <= 10_000, "{}", big.total_results);
    let mut totals = Vec::new();
    for i in 0..40 {
        totals.push(
            d.search(&query(&format!("w{i}"), ch))
                .await
                .unwrap()
                .total_results,
        );
    }
    // Each word is in 251 or 252 messages.
    assert!(
        totals.iter().any(|t| *t < 251) && totals.iter().any(|t| *t > 252),
        "{totals:?}"
    );
}

#[tokio::test]
async fn pages_come_back_empty_or_short_while_hits_remain() {
    let search = SearchConfig {
        empty_pages: 0.3,
        short_pages: 0.5,
        ..quiet_search()
    };
    let (_, d) = emulator(with_search(search));
    let ch = text_channel(&d, "t", None).await.unwrap();
    for _ in 0..60 {
        post(&d, ch, "paged").await;
    }
    let (mut empty, mut short) = (0, 0);
    for _ in 0..40 {
        let page = d.search(&query("paged", ch)).await.unwrap();
        assert!(page.total_results > 0);
        match page.messages.len() {
            0 => empty += 1,
            n if n < 25 => short += 1,
            _ => {}
        }
    }
    assert!(empty > 0 && short > 0, "{empty} empty, {short} short");
}

#[tokio::test]
async fn hits_are_looked_up_in_the_message_store() {
    let search = SearchConfig::strict_with_lag(Duration::from_secs(5));
    let search = SearchConfig {
        first_search_202: false,
        empty_pages: 0.0,
        short_pages: 0.0,
        ..search
    };
    let (clock, d) = emulator(with_search(search));
    let ch = text_channel(&d, "t", None).await.unwrap();
    let edited = post(&d, ch, "before").await;
    let deleted = post(&d, ch, "before").await;
    clock.advance(Duration::from_secs(5));
    d.edit_message(ch, edited, "after").await.unwrap();
    d.delete_message(ch, deleted).await.unwrap();
    let hits = d.search(&query("before", ch)).await.unwrap();
    let contents: Vec<&str> = hits.hits().map(|m| m.content.as_str()).collect();
    assert_eq!(
        contents,
        vec!["after"],
        "the edit is not indexed yet, but the hit carries it; the deleted one is gone"
    );
}

#[tokio::test]
async fn a_deep_historical_index_hides_older_messages() {
    let search = SearchConfig {
        deep_index: Some(DeepIndex {
            every: Duration::from_secs(1000),
            lasting: Duration::from_secs(100),
            hides_older_than: Duration::from_secs(60),
        }),
        ..quiet_search()
    };
    let clock = Arc::new(ManualClock::new(1_767_225_600_000 + 500_000));
    let d = Emulator::in_memory(with_search(search), clock.clone());
    let ch = text_channel(&d, "t", None).await.unwrap();
    post(&d, ch, "deep").await;
    clock.advance(Duration::from_secs(120));
    post(&d, ch, "deep").await;
    let calm = d.search(&query("deep", ch)).await.unwrap();
    assert_eq!(
        (calm.total_results, calm.doing_deep_historical_index),
        (2, false)
    );
    clock.advance(Duration::from_secs(800)); // into the next period
    let during = d.search(&query("deep", ch)).await.unwrap();
    assert!(during.doing_deep_historical_index);
    assert_eq!(during.total_results, 0, "both are now older than a minute");
}

#[tokio::test]
async fn a_message_can_stay_unindexed_until_it_is_edited() {
    let search = SearchConfig {
        unindexed_until_edit: 1.0,
        ..quiet_search()
    };
    let (_, d) = emulator(with_search(search));
    let ch = text_channel(&d, "t", None).await.unwrap();
    let id = post(&d, ch, "hidden").await;
    assert_eq!(
        d.search(&query("hidden", ch)).await.unwrap().total_results,
        0
    );
    d.edit_message(ch, id, "hidden again").await.unwrap();
    assert_eq!(
        d.search(&query("hidden", ch)).await.unwrap().total_results,
        1
    );
}

/// People's posts for the parameters that read the message itself.
#[tokio::test]
async fn authors_mentions_pins_author_types_and_has_each_narrow_as_documented() {
    use discord_emulator::PersonPost;
    let (_, d) = emulator(unlimited());
    let ch = text_channel(&d, "t", None).await.unwrap();
    let ann = d.import_member("ann", false, vec![]).user;
    let bob = d.import_member("bob", false, vec![]).user;
    let robot = d.import_member("robot", true, vec![]).user;
    let post = |author: &discord_api::User, content: &str, webhook: bool| {
        d.import_message(PersonPost {
            channel: ch,
            author: Some(author.clone()),
            content: content.into(),
            webhook_id: webhook.then_some(Snowflake(42)),
            files: if content.contains("file") {
                vec![discord_api::NewFile {
                    filename: "a.png".into(),
                    bytes: vec![1, 2, 3],
                }]
            } else {
                vec![]
            },
            ..Default::default()
        })
        .unwrap()
        .id
    };
    let a1 = post(&ann, &format!("hello <@{}>", bob.id), false);
    let a2 = post(&ann, "see https://example.com now", false);
    let b1 = post(&bob, "a file here", false);
    let r1 = post(&robot, "beep", false);
    let w1 = post(&robot, "hook", true);
    d.import_pin(ch, a2, true).unwrap();
    let dr = &d;
    let ask = move |q: SearchQuery| async move { ids(&dr.search(&q).await.unwrap()) };
    let q = SearchQuery::default;
    let both = ask(SearchQuery {
        author_ids: vec![ann.id, bob.id],
        ..q()
    });
    assert_eq!(
        both.await,
        vec![b1, a2, a1],
        "any of the authors, newest first"
    );
    let mentioning = ask(SearchQuery {
        mentions: vec![bob.id],
        ..q()
    });
    assert_eq!(mentioning.await, vec![a1]);
    assert_eq!(
        ask(SearchQuery {
            pinned: Some(true),
            ..q()
        })
        .await,
        vec![a2]
    );
    let types = |t: &[&str]| SearchQuery {
        author_types: t.iter().map(|s| s.to_string()).collect(),
        ..q()
    };
    assert_eq!(ask(types(&["bot"])).await, vec![r1]);
    assert_eq!(ask(types(&["webhook"])).await, vec![w1]);
    assert_eq!(ask(types(&["bot", "webhook"])).await, vec![w1, r1]);
    assert_eq!(ask(types(&["-user"])).await, vec![w1, r1]);
    let has = |h: &str| SearchQuery {
        has: vec![h.to_string()],
        ..q()
    };
    assert_eq!(ask(has("link")).await, vec![a2]);
    assert_eq!(ask(has("embed")).await, vec![a2], "the link unfurled");
    assert_eq!(ask(has("image")).await, vec![b1]);
    assert_eq!(ask(has("sticker")).await, Vec::<Snowflake>::new());
    assert_eq!(ask(has("-file")).await.len(), 4);
    // Discord's caps and enums.
    let too_many = SearchQuery {
        author_ids: (0..101).map(Snowflake).collect(),
        ..q()
    };
    assert!(d.search(&too_many).await.is_err());
    assert!(d.search(&types(&["robot"])).await.is_err());
}

#[tokio::test]
async fn members_roles_and_threads_are_listed_as_discord_lists_them() {
    let (clock, d) = emulator(unlimited());
    let ch = text_channel(&d, "t", None).await.unwrap();
    let role = d.import_role("regular", 7);
    for i in 0..3 {
        d.import_member(&format!("m{i}"), false, vec![role.id]);
    }
    let first = d.list_members(Snowflake(0), 2).await.unwrap();
    assert_eq!(first.len(), 2);
    let rest = d.list_members(first[1].user.id, 1000).await.unwrap();
    assert_eq!(rest.len(), 2, "three members and the bot");
    assert!(d.list_members(Snowflake(0), 1001).await.is_err());
    let roles = d.list_roles().await.unwrap();
    assert_eq!(roles[0].name, "@everyone");
    assert_eq!(roles[1].id, role.id);
    let m = post(&d, ch, "start").await;
    let thread = d.import_thread(ch, m, "talk", 60).unwrap();
    assert_eq!(d.list_active_threads().await.unwrap().len(), 1);
    clock.advance(Duration::from_secs(2 * 3600));
    assert!(d.list_active_threads().await.unwrap().is_empty());
    let archived = d.list_archived_threads(ch, None).await.unwrap();
    assert_eq!(archived.threads.len(), 1);
    assert_eq!(archived.threads[0].id, thread.id);
    assert!(!archived.has_more);
    let stamp = archived.threads[0]
        .thread_metadata
        .as_ref()
        .and_then(|m| m.archive_timestamp.clone())
        .unwrap();
    let before = d.list_archived_threads(ch, Some(&stamp)).await.unwrap();
    assert!(before.threads.is_empty(), "nothing archived before it");
}
