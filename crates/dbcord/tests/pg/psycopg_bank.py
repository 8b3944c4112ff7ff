"""A psycopg 3 session against `dbcord serve --pg`, as a Python program
would use it: parameters, the driver's default transactions, a rollback,
a transfer across two tables, an upsert, and a unique violation caught by
its class. Prints one line per check; exits non-zero on the first failure.

Usage: python psycopg_bank.py <port>
"""

import sys

import psycopg
from psycopg import errors


def check(what, got, want):
    if got != want:
        print(f"FAIL {what}: got {got!r}, want {want!r}")
        sys.exit(1)
    print(f"ok {what}")


def main(port):
    dsn = f"host=127.0.0.1 port={port} dbname=main user=dbcord"
    with psycopg.connect(dsn, autocommit=True) as setup:
        setup.execute("CREATE TABLE IF NOT EXISTS checking (id TEXT PRIMARY KEY, balance BIGINT)")
        setup.execute("CREATE TABLE IF NOT EXISTS savings (id TEXT PRIMARY KEY, balance BIGINT)")
        setup.execute("CREATE TABLE IF NOT EXISTS people (id BIGINT PRIMARY KEY, email TEXT, age BIGINT DEFAULT 30)")
        setup.execute("CREATE UNIQUE INDEX IF NOT EXISTS people_email ON people (email)")

    # The driver's default: a transaction opened by the first statement.
    conn = psycopg.connect(dsn)
    cur = conn.cursor()
    for who, c, s in [("alice", 100, 1000), ("bob", 50, 500)]:
        cur.execute("INSERT INTO checking VALUES (%s, %s)", (who, c))
        cur.execute("INSERT INTO savings VALUES (%s, %s)", (who, s))
    check("in a transaction", conn.info.transaction_status, psycopg.pq.TransactionStatus.INTRANS)
    conn.commit()
    check("committed rows", cur.execute("SELECT count(*) FROM checking").fetchone()[0], 2)
    conn.commit()

    # A rollback leaves nothing.
    cur.execute("INSERT INTO checking VALUES (%s, %s)", ("mallory", 1_000_000))
    cur.execute("UPDATE savings SET balance = 0 WHERE id = %s", ("alice",))
    conn.rollback()
    check("rolled back insert", cur.execute("SELECT count(*) FROM checking WHERE id = 'mallory'").fetchone()[0], 0)
    check("rolled back update", cur.execute("SELECT balance FROM savings WHERE id = %s", ("alice",)).fetchone()[0], 1000)
    conn.commit()

    # A transfer between two tables, all at once.
    cur.execute("UPDATE checking SET balance = balance - %s WHERE id = %s", (30, "alice"))
    cur.execute("UPDATE savings SET balance = balance + %s WHERE id = %s", (30, "alice"))
    other = psycopg.connect(dsn, autocommit=True)
    check("others do not see it yet", other.execute("SELECT balance FROM checking WHERE id = 'alice'").fetchone()[0], 100)
    conn.commit()
    row = other.execute(
        "SELECT c.balance, s.balance FROM checking c JOIN savings s ON c.id = s.id WHERE c.id = 'alice'"
    ).fetchone()
    check("transfer seen whole", tuple(row), (70, 1030))

    # An upsert: insert or add.
    sql = (
        "INSERT INTO checking AS c VALUES (%s, %s) "
        "ON CONFLICT (id) DO UPDATE SET balance = c.balance + excluded.balance"
    )
    cur.execute(sql, ("bob", 5))
    cur.execute(sql, ("carol", 7))
    conn.commit()
    got = cur.execute("SELECT id, balance FROM checking WHERE id IN ('bob', 'carol') ORDER BY id").fetchall()
    check("upsert", got, [("bob", 55), ("carol", 7)])
    conn.commit()

    # DEFAULT, RETURNING.
    got = cur.execute("INSERT INTO people VALUES (%s, %s, DEFAULT) RETURNING id, age", (1, "a@x.com")).fetchall()
    check("DEFAULT and RETURNING", got, [(1, 30)])
    conn.commit()

    # A unique violation, caught by its class; the transaction is then failed.
    try:
        cur.execute("INSERT INTO people (id, email) VALUES (%s, %s)", (2, "a@x.com"))
        print("FAIL unique violation: no error")
        sys.exit(1)
    except errors.UniqueViolation as e:
        check("unique violation sqlstate", e.sqlstate, "23505")
    check("failed transaction", conn.info.transaction_status, psycopg.pq.TransactionStatus.INERROR)
    conn.rollback()
    check("nothing of it written", cur.execute("SELECT count(*) FROM people").fetchone()[0], 1)
    conn.commit()

    # executemany (pipelined), a statement prepared after repeated use,
    # nested transactions (savepoints) and a rollback that resets them.
    with psycopg.connect(dsn, autocommit=True) as auto:
        c = auto.cursor()
        c.executemany("INSERT INTO people (id, email) VALUES (%s, %s)", [(i, f"p{i}@x") for i in range(10, 20)])
        for i in range(10, 18):
            got = c.execute("SELECT email FROM people WHERE id = %s", (i,)).fetchone()
        check("prepared after repeated use", got, ("p17@x",))
        try:
            with auto.transaction():
                c.execute("UPDATE people SET age = %s WHERE id = %s", (40, 10))
                with auto.transaction():
                    c.execute("UPDATE people SET age = %s WHERE id = %s", (41, 11))
                raise RuntimeError("undo it all")
        except RuntimeError:
            pass
        got = c.execute("SELECT age FROM people WHERE id IN (10, 11) ORDER BY id").fetchall()
        check("nested transactions rolled back", got, [(30,), (30,)])
    conn.close()
    other.close()
    print("all ok")


if __name__ == "__main__":
    main(int(sys.argv[1]))
