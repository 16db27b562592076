-- Followers by email (issue 20): double opt-in signups, the key of each address's links, the subscribe form's
-- rate-limit stamps, and each address's bounce health.
--
-- An address is the external id of an `email` identity. Links carry random tokens stored here (no HMAC and no
-- secret in the settings): a confirm token per signup, single use, expiring; a key per email identity for the
-- manage and unsubscribe links, gone with the identity (a foreign key), so removing an address rotates it.
-- `email_keys.confirmed_at`: when the address first confirmed a signup; an address that never did is pruned with
-- its last expired signup (and its person when nothing else holds it).

-- One row per confirmation mail asked for. `confirmed_at` set: the token is spent (confirmed, or a request that
-- needed no confirmation). Expired rows are pruned; their unconfirmed people with them.
CREATE TABLE email_signups (
    -- AUTOINCREMENT: the confirmation mail's outbox key names the signup, and signups are pruned; a reused id
    -- would make a later request's mail a duplicate of an old one (never sent).
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    person_id    INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    address      TEXT NOT NULL,
    topic_id     INTEGER NOT NULL REFERENCES topics(id),
    mode         TEXT NOT NULL CHECK (mode IN ('immediate', 'daily', 'weekly')),
    language     TEXT NOT NULL,
    zone         TEXT NOT NULL,
    token        TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    confirmed_at TEXT
);
CREATE INDEX email_signups_expiry ON email_signups(expires_at);
CREATE INDEX email_signups_person ON email_signups(person_id);

CREATE TABLE email_keys (
    platform   TEXT NOT NULL DEFAULT 'email' CHECK (platform = 'email'),
    address    TEXT NOT NULL,
    key          TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    confirmed_at TEXT,
    PRIMARY KEY (platform, address),
    FOREIGN KEY (platform, address) REFERENCES identities(platform, external_id) ON DELETE CASCADE
);

-- Rate-limit stamps: `subject` is a salted SHA-256 of "address:<address>" or "client:<client key>", so neither
-- an address nor a remote address is kept here. Older than a day they are pruned.
CREATE TABLE email_requests (
    id      INTEGER PRIMARY KEY,
    subject TEXT NOT NULL,
    at      TEXT NOT NULL
);
CREATE INDEX email_requests_subject ON email_requests(subject, at);

-- The salt of those hashes, made once here: random per database, never in the settings.
CREATE TABLE email_salt (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    salt TEXT NOT NULL
);
INSERT INTO email_salt (id, salt) VALUES (1, lower(hex(randomblob(16))));

-- Consecutive permanent refusals at sending time; `paused_at` set: nothing is sent to the address until the
-- follower resumes it on the manage page (or a mail is accepted again).
CREATE TABLE email_health (
    address   TEXT PRIMARY KEY,
    refusals  INTEGER NOT NULL,
    paused_at TEXT
);
