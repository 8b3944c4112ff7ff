-- A 2,000-row users table with a UNIQUE index on email and an index on role:
-- the table the pushdown benchmark and tests use. Role 'admin' matches 20 rows.
-- Run it once against a data directory, then try the queries in sql/pushdown.sql.

CREATE TABLE IF NOT EXISTS users (
    id    TEXT PRIMARY KEY,
    email TEXT,
    role  TEXT,
    age   BIGINT
);

CREATE UNIQUE INDEX IF NOT EXISTS users_email ON users (email);
CREATE INDEX IF NOT EXISTS users_role ON users (role);

INSERT INTO users
SELECT 'u_' || lpad(CAST(value AS VARCHAR), 5, '0'),
       'user' || CAST(value AS VARCHAR) || '@example.com',
       CASE WHEN value % 100 = 7 THEN 'admin'
            WHEN value % 3 = 0 THEN 'editor'
            ELSE 'viewer' END,
       18 + (value * 7) % 60
FROM generate_series(0, 1999) AS s(value)
WHERE 'u_' || lpad(CAST(value AS VARCHAR), 5, '0') NOT IN (SELECT id FROM users);
