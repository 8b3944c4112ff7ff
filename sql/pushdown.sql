-- What pushdown saves: run after sql/users.sql. EXPLAIN ANALYZE shows each
-- scan's strategy and its Discord requests (discord_requests, search_requests,
-- history_requests, get_requests, rows_fetched, rate_limit_wait).

-- Primary key: a search of the table channel, plus the last minute of history.
EXPLAIN ANALYZE SELECT * FROM users WHERE id = 'u_01234';

-- An indexed column: a search of #idx-users-role, whose entries carry the rows.
EXPLAIN ANALYZE SELECT * FROM users WHERE role = 'admin';

-- The equality is pushed; the range stays a post-filter.
EXPLAIN SELECT * FROM users WHERE role = 'admin' AND age > 50;

-- A range alone: a full scan of the table's history.
EXPLAIN ANALYZE SELECT count(*) FROM users WHERE age BETWEEN 30 AND 40;

-- The same key lookup without pushdown: a full scan, the same answer.
SET dbcord.pushdown = false;
EXPLAIN ANALYZE SELECT * FROM users WHERE id = 'u_01234';
SET dbcord.pushdown = true;

-- Search alone: cheaper, and EXPLAIN says it may miss recent writes.
SET dbcord.consistency = 'eventual';
EXPLAIN SELECT * FROM users WHERE id = 'u_01234';
SET dbcord.consistency = 'fresh';
