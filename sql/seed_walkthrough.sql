-- The Python dbcord's walkthrough, in SQL: a database, a table with
-- schema rules and a unique index, a row found, updated, verified,
-- snapshotted, and its history read back.
-- Run it on an empty data directory:
--   cargo run -- --data-dir walkthrough-data -f sql/seed_walkthrough.sql

-- The database is a category `dbcord-prod` with a #dbc-catalog channel.
CREATE DATABASE prod;

-- The table is channel #table-users; its definition, rules included, is a
-- message in #dbc-catalog. `id` and `email` are required, with types.
CREATE TABLE prod.users (
    id    TEXT PRIMARY KEY,
    email TEXT NOT NULL CHECK (email LIKE '%@%'),
    role  TEXT NOT NULL DEFAULT 'student'
);

-- A unique index on email: its data rides in the table's segments.
CREATE UNIQUE INDEX users_email ON prod.users (email);

-- One row: a readable message in #table-users.
INSERT INTO prod.users VALUES ('u_1', 'a@example.com', 'student');

-- Find by role (a scan), and by email (the index).
SELECT id, email FROM prod.users WHERE role = 'student';
SELECT id, role FROM prod.users WHERE email = 'a@example.com';

-- Update: a new commit; the old version stays in the channel's history.
UPDATE prod.users SET role = 'admin' WHERE id = 'u_1';
SELECT * FROM prod.users WHERE id = 'u_1';

-- The schema rules hold: both of these are refused and write nothing
-- (the script would stop at the first, so they are left as comments):
--   INSERT INTO prod.users (id) VALUES ('u_2');           -- email is required
--   INSERT INTO prod.users VALUES ('u_2', 'nobody', 'x'); -- CHECK email LIKE '%@%'

-- Verify: every check, each with what it found.
SELECT kind, ok, detail FROM verify('prod.users');

-- Snapshot: the table into an attachment in #dbc-snapshots.
SELECT table_name, row_count, checksum FROM snapshot('prod.users');

-- History of u_1: the version as inserted, then as updated.
SELECT version, op, row_json FROM history('prod.users', 'u_1');
