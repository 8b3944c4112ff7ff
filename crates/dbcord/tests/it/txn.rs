//! Transactions: BEGIN ... COMMIT over statements and tables. A
//! transaction reads one snapshot and its own writes, commits all of them
//! or none for every reader, loses to whoever committed a row it wrote
//! first, and a ROLLBACK (or a failed commit) leaves nothing behind.

use dbcord::sql::errors::{sqlstate, user_message};
use dbcord::sql::txn::TxnStatus;
use discord_emulator::Emulator;

use crate::common::{Stack, table};

const BANK: [&str; 4] = [
    "CREATE TABLE checking (id TEXT PRIMARY KEY, balance BIGINT)",
    "CREATE TABLE savings (id TEXT PRIMARY KEY, balance BIGINT)",
    "INSERT INTO checking VALUES ('alice', 100), ('bob', 50)",
    "INSERT INTO savings VALUES ('alice', 1000), ('bob', 500)",
];

async fn bank() -> Stack {
    let s = Stack::new().await;
    for sql in BANK {
        s.sql(sql).await;
    }
    s
}

/// Write requests the emulator has served so far.
fn writes(emulator: &Emulator) -> u64 {
    emulator
        .counters()
        .by_route
        .iter()
        .filter(|(r, _)| r.is_write())
        .map(|(_, n)| n.requests)
        .sum()
}

/// The SQLSTATE and message of a failed statement.
async fn fails(s: &Stack, sql: &str) -> (String, String) {
    match s.engine().execute(sql).await {
        Ok(_) => panic!("{sql}: expected an error"),
        Err(e) => (sqlstate(&e).to_string(), user_message(&e)),
    }
}

const BALANCES: &str = "SELECT c.id, c.balance, s.balance FROM checking c JOIN savings s \
                        ON c.id = s.id ORDER BY c.id";

#[tokio::test]
async fn a_transfer_between_two_tables_is_seen_whole_or_not_at_all() {
    let a = bank().await;
    let b = a.another().await;
    let before = b.values(BALANCES).await;
    a.sql("BEGIN").await;
    a.sql("UPDATE checking SET balance = balance - 30 WHERE id = 'alice'")
        .await;
    a.sql("UPDATE savings SET balance = balance + 30 WHERE id = 'alice'")
        .await;
    // The transaction sees its own writes; nobody else does yet.
    assert_eq!(
        a.values("SELECT balance FROM checking WHERE id = 'alice'")
            .await,
        table(&[&["70"]])
    );
    assert_eq!(a.engine().txn_status(), TxnStatus::InBlock);
    assert_eq!(b.values(BALANCES).await, before);
    a.sql("COMMIT").await;
    assert_eq!(a.engine().txn_status(), TxnStatus::Idle);
    let after = table(&[&["alice", "70", "1030"], &["bob", "50", "500"]]);
    assert_eq!(b.values(BALANCES).await, after);
    assert_eq!(a.values(BALANCES).await, after);
    // One commit point decided it.
    let points = a
        .emulator
        .channels()
        .into_iter()
        .find(|c| c.name == "dbc-transactions")
        .expect("the transactions channel");
    let posted = a.emulator.messages_of(points.id);
    assert_eq!(posted.len(), 1);
    assert!(posted[0].content.starts_with("dbcpoint txn "));
}

#[tokio::test]
async fn a_rollback_sends_no_write_and_leaves_nothing() {
    let s = bank().await;
    let before = s.values(BALANCES).await;
    let sent = writes(&s.emulator);
    s.sql("BEGIN").await;
    s.sql("INSERT INTO checking VALUES ('carol', 5)").await;
    s.sql("DELETE FROM savings WHERE id = 'bob'").await;
    assert_eq!(s.value("SELECT count(*) FROM savings").await, "1");
    s.sql("ROLLBACK").await;
    assert_eq!(writes(&s.emulator), sent, "a rolled-back transaction wrote");
    assert_eq!(s.values(BALANCES).await, before);
    assert_eq!(s.value("SELECT count(*) FROM checking").await, "2");
}

#[tokio::test]
async fn reads_inside_a_transaction_keep_its_snapshot() {
    let a = bank().await;
    let b = a.another().await;
    a.sql("BEGIN").await;
    assert_eq!(
        a.value("SELECT balance FROM checking WHERE id = 'bob'")
            .await,
        "50"
    );
    b.sql("UPDATE checking SET balance = 0 WHERE id = 'bob'")
        .await;
    b.sql("INSERT INTO savings VALUES ('dave', 1)").await;
    // Neither the row read before nor a table first read after changes.
    assert_eq!(
        a.value("SELECT balance FROM checking WHERE id = 'bob'")
            .await,
        "50"
    );
    assert_eq!(a.value("SELECT count(*) FROM savings").await, "2");
    a.sql("COMMIT").await;
    assert_eq!(
        a.value("SELECT balance FROM checking WHERE id = 'bob'")
            .await,
        "0"
    );
}

#[tokio::test]
async fn the_second_committer_of_a_row_loses_everything_with_40001() {
    let a = bank().await;
    let b = a.another().await;
    a.sql("BEGIN").await;
    a.sql("UPDATE checking SET balance = balance - 10 WHERE id = 'bob'")
        .await;
    a.sql("UPDATE savings SET balance = balance + 10 WHERE id = 'bob'")
        .await;
    b.sql("UPDATE checking SET balance = balance + 1 WHERE id = 'bob'")
        .await;
    let (state, message) = fails(&a, "COMMIT").await;
    assert_eq!(state, "40001", "{message}");
    assert!(message.contains("nothing was written"), "{message}");
    assert_eq!(a.engine().txn_status(), TxnStatus::Idle);
    // b's change stands; a's part in savings counts for no reader.
    for s in [&a, &b] {
        assert_eq!(
            s.values(BALANCES).await,
            table(&[&["alice", "100", "1000"], &["bob", "51", "500"]])
        );
    }
    // A retry from a new snapshot goes through.
    a.sql("BEGIN").await;
    a.sql("UPDATE checking SET balance = balance - 10 WHERE id = 'bob'")
        .await;
    a.sql("UPDATE savings SET balance = balance + 10 WHERE id = 'bob'")
        .await;
    a.sql("COMMIT").await;
    assert_eq!(
        b.values(
            "SELECT c.balance + s.balance FROM checking c JOIN savings s ON c.id = s.id \
                  WHERE c.id = 'bob'"
        )
        .await,
        table(&[&["551"]])
    );
}

#[tokio::test]
async fn write_skew_is_possible_as_documented() {
    // Snapshot isolation: two transactions each read both rows and write
    // a different one; neither writes what the other wrote, so both commit.
    let a = bank().await;
    let b = a.another().await;
    for s in [&a, &b] {
        s.sql("BEGIN").await;
        assert_eq!(s.value("SELECT sum(balance) FROM checking").await, "150");
    }
    a.sql("UPDATE checking SET balance = balance - 150 WHERE id = 'alice'")
        .await;
    b.sql("UPDATE checking SET balance = balance - 150 WHERE id = 'bob'")
        .await;
    a.sql("COMMIT").await;
    b.sql("COMMIT").await;
    assert_eq!(a.value("SELECT sum(balance) FROM checking").await, "-150");
}

#[tokio::test]
async fn a_failed_statement_fails_the_block_until_rollback() {
    let s = bank().await;
    s.sql("BEGIN").await;
    s.sql("INSERT INTO checking VALUES ('erin', 1)").await;
    let (state, _) = fails(&s, "INSERT INTO checking VALUES ('alice', 1)").await;
    assert_eq!(state, "23505");
    assert_eq!(s.engine().txn_status(), TxnStatus::Failed);
    let (state, message) = fails(&s, "SELECT 1").await;
    assert_eq!(state, "25P02", "{message}");
    // COMMIT of a failed block rolls it back.
    assert!(matches!(
        s.sql("COMMIT").await,
        dbcord::sql::Outcome::Status(t) if t == "ROLLBACK"
    ));
    assert_eq!(s.value("SELECT count(*) FROM checking").await, "2");
}

#[tokio::test]
async fn savepoints_undo_part_of_a_transaction() {
    let s = bank().await;
    s.sql("BEGIN").await;
    s.sql("INSERT INTO checking VALUES ('f1', 1)").await;
    s.sql("SAVEPOINT one").await;
    s.sql("INSERT INTO checking VALUES ('f2', 2)").await;
    let (state, _) = fails(&s, "INSERT INTO checking VALUES ('f1', 3)").await;
    assert_eq!(state, "23505");
    s.sql("ROLLBACK TO SAVEPOINT one").await;
    assert_eq!(s.engine().txn_status(), TxnStatus::InBlock);
    s.sql("INSERT INTO savings VALUES ('f3', 3)").await;
    s.sql("COMMIT").await;
    assert_eq!(
        s.values(
            "SELECT id FROM checking WHERE id LIKE 'f%' UNION ALL \
                  SELECT id FROM savings WHERE id LIKE 'f%' ORDER BY id"
        )
        .await,
        table(&[&["f1"], &["f3"]])
    );
    let (state, _) = fails(&s, "SAVEPOINT x").await;
    assert_eq!(state, "25P01");
}

#[tokio::test]
async fn a_row_inserted_and_deleted_in_one_transaction_never_was() {
    let s = bank().await;
    s.sql("BEGIN").await;
    s.sql("INSERT INTO checking VALUES ('gus', 1)").await;
    s.sql("UPDATE checking SET balance = 2 WHERE id = 'gus'")
        .await;
    s.sql("DELETE FROM checking WHERE id = 'alice'").await;
    s.sql("INSERT INTO checking VALUES ('alice', 7)").await;
    s.sql("DELETE FROM checking WHERE id = 'gus'").await;
    s.sql("COMMIT").await;
    assert_eq!(
        s.values("SELECT id, balance FROM checking ORDER BY id")
            .await,
        table(&[&["alice", "7"], &["bob", "50"]])
    );
}
