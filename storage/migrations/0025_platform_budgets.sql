-- Issue 22: the rate a platform account's budget has learnt (Slack's workspace budget, Discord's global pace),
-- shared by every process sending for the coalition. Each process paces at its share of ``rate``; a 429 seen by one
-- lowers it for all, once per overshoot (slowed_at: the last decrease), and it rises a step only after a clean
-- period counted from the last change by any process (changed_at). Written only when it changes. start is the
-- setting the rate was learnt from: a process started with another setting learns afresh from its own. Instants are
-- UTC text like every other; rates are requests per second for all processes together.
CREATE TABLE platform_budgets (
    name        TEXT PRIMARY KEY,
    rate        REAL NOT NULL CHECK (rate > 0),
    start       REAL NOT NULL CHECK (start > 0),
    slowed_at   TEXT,
    changed_at  TEXT NOT NULL
);
