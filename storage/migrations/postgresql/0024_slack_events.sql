-- Issue 22: Socket Mode deliveries already handled (the same table as SQLite's 0024_slack_events.sql, which says
-- why): a redelivered event, command or interaction is acknowledged and not handled again, whichever process's
-- connection it reaches.
CREATE TABLE slack_events (
    delivery_key  TEXT PRIMARY KEY,
    seen_at       TEXT NOT NULL
);
CREATE INDEX slack_events_age ON slack_events(seen_at);
