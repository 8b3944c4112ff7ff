-- dbcord quickstart: a database, two tables, rows, and a few queries.
-- Safe to run again: existing tables are kept and rows are added only once,
-- so a second run shows the same answers read back from the guild.

CREATE DATABASE IF NOT EXISTS shop;

CREATE TABLE IF NOT EXISTS shop.customers (
    id   TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    city TEXT
);

CREATE TABLE IF NOT EXISTS shop.orders (
    id       BIGINT PRIMARY KEY,
    customer TEXT NOT NULL,
    item     TEXT,
    amount   DOUBLE,
    paid     BOOLEAN
);

INSERT INTO shop.customers
SELECT * FROM (VALUES
    ('c1', 'Ada Lovelace', 'London'),
    ('c2', 'Grace Hopper', 'New York'),
    ('c3', 'Alan Turing', 'London'),
    ('c4', 'Edsger Dijkstra', 'Rotterdam')
) AS v(id, name, city)
WHERE v.id NOT IN (SELECT id FROM shop.customers);

INSERT INTO shop.orders
SELECT * FROM (VALUES
    (1, 'c1', 'notebook', 12.50, true),
    (2, 'c1', 'pencils', 3.20, true),
    (3, 'c2', 'compiler manual', 45.00, false),
    (4, 'c3', 'chess set', 30.00, true),
    (5, 'c3', 'notebook', 12.50, false),
    (6, 'c4', 'semaphore', 8.75, true)
) AS v(id, customer, item, amount, paid)
WHERE v.id NOT IN (SELECT id FROM shop.orders);

-- All customers.
SELECT * FROM shop.customers ORDER BY id;

-- A join and an aggregate: spending per customer.
SELECT c.name, count(o.id) AS orders, sum(o.amount) AS spent
FROM shop.customers c
LEFT JOIN shop.orders o ON o.customer = c.id
GROUP BY c.name
ORDER BY spent DESC NULLS LAST, c.name;

-- Unpaid orders by city.
SELECT c.city, sum(o.amount) AS unpaid
FROM shop.orders o JOIN shop.customers c ON o.customer = c.id
WHERE NOT o.paid
GROUP BY c.city
ORDER BY c.city;

-- A subquery: customers who spent more than the average order.
SELECT name FROM shop.customers
WHERE id IN (SELECT customer FROM shop.orders WHERE amount > (SELECT avg(amount) FROM shop.orders))
ORDER BY name;
