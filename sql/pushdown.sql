-- What pushdown saves: run after sql/users.sql. EXPLAIN ANALYZE shows each
-- scan's strategy and what it read (history_requests, cdn_requests,
-- cdn_bytes, cached_batches, runs_read, runs_pruned, rows_fetched,
-- rate_limit_wait).

-- Primary key: one batch of one segment, by a range read.
EXPLAIN ANALYZE SELECT * FROM users WHERE id = 'u_01234';

-- An indexed column: the index's file gives the keys, then the rows.
EXPLAIN ANALYZE SELECT * FROM users WHERE role = 'admin';

-- The equality picks the path; every filter is re-checked on every row.
EXPLAIN SELECT * FROM users WHERE role = 'admin' AND age > 50;

-- A range alone: a scan that skips segments whose statistics exclude it.
EXPLAIN ANALYZE SELECT count(*) FROM users WHERE age BETWEEN 30 AND 40;

-- The same key lookup without pushdown: a full scan, the same answer.
SET dbcord.pushdown = false;
EXPLAIN ANALYZE SELECT * FROM users WHERE id = 'u_01234';
SET dbcord.pushdown = true;

-- Writes: each statement is one message; UPDATE and DELETE find their rows
-- the way SELECT does.
UPDATE users SET age = age + 1 WHERE role = 'admin';
DELETE FROM users WHERE id = 'u_01999';
SELECT count(*) AS users, sum(age) AS ages FROM users;
