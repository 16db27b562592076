-- Issue 22: Socket Mode deliveries already handled, so that an event, command or interaction that Slack delivers
-- again (a retry, possibly on another process's connection: Slack spreads envelopes over every open connection)
-- is acknowledged and not handled a second time. The key is what stays the same across a redelivery: the
-- event's own id for Events API payloads, the interaction's trigger id for commands and interactions, the
-- envelope id only when the payload has neither (see adapters/slack/seen.py). Kept in the database, shared by
-- every process on it; rows older than Slack's last retry are pruned by age (seen_at, UTC text like every instant).
CREATE TABLE slack_events (
    delivery_key  TEXT PRIMARY KEY,
    seen_at       TEXT NOT NULL
);
CREATE INDEX slack_events_age ON slack_events(seen_at);
