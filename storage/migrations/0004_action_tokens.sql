-- The Discord adapter's own state. Buttons carry a short token whose command invocation lives here, so a
-- button keeps working after a restart and custom_id stays under Discord's 100 characters.
CREATE TABLE action_tokens (
    token      TEXT PRIMARY KEY,
    command    TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- When a delivery was first attempted, per delivery key: a retry later than Discord's nonce window reads
-- the channel's recent messages for the nonce instead of trusting it to de-duplicate.
CREATE TABLE discord_send_attempts (
    delivery_key TEXT PRIMARY KEY,
    first_at     TEXT NOT NULL
);

-- Crossposts (publishes) waiting for the announcement channel's limit (about 10 an hour per channel).
-- A row is never dropped: it ends published, or failed with a reason.
CREATE TABLE discord_publishes (
    id           INTEGER PRIMARY KEY,
    channel_id   TEXT NOT NULL,
    message_id   TEXT NOT NULL UNIQUE,
    status       TEXT NOT NULL CHECK (status IN ('pending', 'published', 'failed')),
    not_before   TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    published_at TEXT,
    reason       TEXT,
    created_at   TEXT NOT NULL
);
CREATE INDEX discord_publishes_due ON discord_publishes(status, not_before);
CREATE INDEX discord_publishes_channel ON discord_publishes(channel_id, published_at);
