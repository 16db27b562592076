-- Issue 22: the memory of deliveries already handled serves every platform, not Slack alone. Discord's gateway
-- can hand the same interaction to two sessions of one shard during a takeover (and a resumed session may see one
-- again), so each interaction is claimed here too, under a key of its own ("discord:interaction:<id>"). Slack's
-- keys stay as they were ("event:…", "trigger:…", "envelope:…"): the rows already stored keep working.
-- SQLite cannot rename an index: it is dropped and built again under the table's new name.
ALTER TABLE slack_events RENAME TO handled_events;
DROP INDEX slack_events_age;
CREATE INDEX handled_events_age ON handled_events(seen_at);
