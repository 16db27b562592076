-- Issue 22: the rate a platform account's budget has learnt, shared by every process sending for the coalition
-- (the same table as SQLite's 0025_platform_budgets.sql, which says why).
CREATE TABLE platform_budgets (
    name        TEXT PRIMARY KEY,
    rate        DOUBLE PRECISION NOT NULL CHECK (rate > 0),
    start       DOUBLE PRECISION NOT NULL CHECK (start > 0),
    slowed_at   TEXT,
    changed_at  TEXT NOT NULL
);
