-- Subscription requests and invitations, and the delivery outbox: every message the bot sends on its own
-- initiative is a row here before it is a network call.
CREATE TABLE subscription_requests (
    id          INTEGER PRIMARY KEY,
    person_id   INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    topic_id    INTEGER NOT NULL REFERENCES topics(id),
    mode        TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'expired')),
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    decided_by  INTEGER REFERENCES people(id),
    decided_at  TEXT
);
-- At most one pending request per person and topic.
CREATE UNIQUE INDEX requests_one_pending ON subscription_requests(person_id, topic_id) WHERE status = 'pending';
CREATE INDEX requests_expiry ON subscription_requests(status, expires_at);

CREATE TABLE invitations (
    person_id  INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    topic_id   INTEGER NOT NULL REFERENCES topics(id),
    invited_by INTEGER REFERENCES people(id),
    created_at TEXT NOT NULL,
    PRIMARY KEY (person_id, topic_id)
);

CREATE TABLE deliveries (
    id                   INTEGER PRIMARY KEY,
    dedupe_key           TEXT NOT NULL UNIQUE,
    kind                 TEXT NOT NULL,
    person_id            INTEGER REFERENCES people(id) ON DELETE CASCADE,
    platform             TEXT,
    channel_id           TEXT,
    topic_id             INTEGER REFERENCES topics(id),
    payload              TEXT NOT NULL,
    status               TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'skipped', 'cancelled')),
    attempts             INTEGER NOT NULL DEFAULT 0,
    not_before           TEXT NOT NULL,
    claimed_at           TEXT,
    sent_at              TEXT,
    sent_platform        TEXT,
    sent_channel_id      TEXT,
    sent_message_ids     TEXT,
    reason               TEXT,
    created_at           TEXT NOT NULL
);
CREATE INDEX deliveries_due ON deliveries(status, not_before);
