-- Signatures of the Slack HTTP requests already run, so an exact replay within Slack's five-minute window is
-- refused (exactly once under faults). Kept in the database, not in memory, so a restart does not forget them;
-- rows whose request timestamp has left the window are pruned, since such a request fails its signature check.
CREATE TABLE slack_replays (
    signature   TEXT PRIMARY KEY,
    request_ts  INTEGER NOT NULL
);
CREATE INDEX slack_replays_age ON slack_replays(request_ts);
