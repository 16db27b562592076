-- Exactly once under faults (issue 16). The outbox learns four things, all kept in the database so a restart
-- (and, later, a second process on a shared database) sees them:
--   * `missed`: a row that stopped being relevant before it could be sent (a reminder after its meeting
--     started, a digest when the next one is due) — reported, never silently dropped;
--   * `expires_at`: when a row stops being relevant (NULL: never, e.g. an announcement);
--   * `uncertain`: an earlier attempt may have reached the platform (a crash while sending, a dropped
--     connection, a 5xx after the post): the next attempt reads the conversation back before posting;
--   * `retrying_since` / `retryable`: transient failures retry until a deadline counted from the first one,
--     and a row that finally failed for a transient reason can be re-queued by a coordinator;
--   * `attempt_platform`: the platform the last attempt went through (a DM's platform is chosen at send time),
--     so status reports can count per platform;
--   * `claimed_by`: the worker lease holding a `sending` row, so recovery never touches a live worker's rows;
--   * `reported_at`: when a missed row was included in a summary to the coordinators.
-- SQLite cannot widen a CHECK constraint in place, so the table is rebuilt.
CREATE TABLE deliveries_new (
    id                   INTEGER PRIMARY KEY,
    dedupe_key           TEXT NOT NULL UNIQUE,
    kind                 TEXT NOT NULL,
    person_id            INTEGER REFERENCES people(id) ON DELETE CASCADE,
    platform             TEXT,
    channel_id           TEXT,
    topic_id             INTEGER REFERENCES topics(id),
    payload              TEXT NOT NULL,
    status               TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'skipped',
                                                         'cancelled', 'missed')),
    attempts             INTEGER NOT NULL DEFAULT 0,
    not_before           TEXT NOT NULL,
    claimed_at           TEXT,
    sent_at              TEXT,
    sent_platform        TEXT,
    sent_channel_id      TEXT,
    sent_message_ids     TEXT,
    reason               TEXT,
    created_at           TEXT NOT NULL,
    announcement_id      INTEGER REFERENCES announcements(id),
    expires_at           TEXT,
    uncertain            INTEGER NOT NULL DEFAULT 0,
    retrying_since       TEXT,
    retryable            INTEGER NOT NULL DEFAULT 0,
    attempt_platform     TEXT,
    claimed_by           TEXT,
    reported_at          TEXT
);
INSERT INTO deliveries_new (id, dedupe_key, kind, person_id, platform, channel_id, topic_id, payload, status,
                            attempts, not_before, claimed_at, sent_at, sent_platform, sent_channel_id,
                            sent_message_ids, reason, created_at, announcement_id, uncertain, retryable,
                            reported_at)
    SELECT id, dedupe_key, kind, person_id, platform, channel_id, topic_id, payload,
           -- a reminder recorded as missed by an earlier version was a `skipped` row with a `:missed` key
           CASE WHEN status = 'skipped' AND kind = 'reminder' AND dedupe_key LIKE '%:missed' THEN 'missed'
                ELSE status END,
           attempts, not_before, claimed_at, sent_at, sent_platform, sent_channel_id, sent_message_ids, reason,
           created_at, announcement_id,
           -- a row a crash left `sending` may have been posted
           CASE WHEN status = 'sending' THEN 1 ELSE 0 END,
           -- the previous version gave up after a number of attempts, on transient errors only; its reasons
           -- are stored as translatable JSON ({"msgid": "gave up after {n} attempts: {reason}", …})
           CASE WHEN status = 'failed' AND (reason LIKE 'gave up after%'
                OR (json_valid(reason) AND json_extract(reason, '$.msgid') LIKE 'gave up after%'))
                THEN 1 ELSE 0 END,
           -- missed rows from before were never summarised; do not flood coordinators with history
           CASE WHEN status = 'skipped' AND kind = 'reminder' AND dedupe_key LIKE '%:missed' THEN sent_at END
    FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_new RENAME TO deliveries;
CREATE INDEX deliveries_due ON deliveries(status, not_before);
CREATE INDEX deliveries_announcement ON deliveries(announcement_id, status);
CREATE INDEX deliveries_unreported ON deliveries(status, reported_at) WHERE status = 'missed';

-- A circuit per platform: after repeated failures that say "the platform is down" (5xx, network), its queue
-- pauses until `retry_at` instead of burning attempts; one probe then decides. A 429 pauses it too (until
-- Retry-After) without counting as a failure. Other platforms are never held up.
CREATE TABLE platform_circuits (
    platform     TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL DEFAULT 0,
    opened_at    TEXT,
    retry_at     TEXT,
    reason       TEXT,
    updated_at   TEXT NOT NULL
);

-- A lease per running delivery worker, renewed while it lives. Rows in `sending` carry the holder's id;
-- start-up recovery re-queues only rows whose holder's lease has expired (or that carry none).
CREATE TABLE worker_leases (
    holder       TEXT PRIMARY KEY,
    pid          INTEGER NOT NULL,
    host         TEXT NOT NULL,
    started_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL
);
