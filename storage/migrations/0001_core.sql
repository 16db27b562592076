-- People, their platform identities, topics, subscriptions, role grants and the audit log.
CREATE TABLE people (
    id                 INTEGER PRIMARY KEY,
    display_name       TEXT NOT NULL,
    timezone           TEXT,
    language           TEXT,
    platform_timezone  TEXT,
    organisation       TEXT,
    country            TEXT,
    preferred_platform TEXT,
    created_at         TEXT NOT NULL
);

CREATE TABLE identities (
    platform         TEXT NOT NULL,
    external_id      TEXT NOT NULL,
    person_id        INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    display_name     TEXT NOT NULL,
    platform_role    TEXT NOT NULL DEFAULT 'outsider',
    dm_closed_reason TEXT,
    dm_channel_id    TEXT,
    last_seen_at     TEXT,
    PRIMARY KEY (platform, external_id)
);
CREATE INDEX identities_person ON identities(person_id);

CREATE TABLE topics (
    id          INTEGER PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    title       TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    visibility  TEXT NOT NULL CHECK (visibility IN ('public', 'members', 'private')),
    policy      TEXT NOT NULL CHECK (policy IN ('open', 'approval')),
    archived    INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL
);

CREATE TABLE subscriptions (
    person_id  INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    topic_id   INTEGER NOT NULL REFERENCES topics(id),
    mode       TEXT NOT NULL CHECK (mode IN ('immediate', 'daily', 'weekly', 'channel')),
    created_at TEXT NOT NULL,
    PRIMARY KEY (person_id, topic_id)
);
CREATE INDEX subscriptions_topic ON subscriptions(topic_id);

CREATE TABLE grants (
    id         INTEGER PRIMARY KEY,
    person_id  INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    role       TEXT NOT NULL CHECK (role IN ('member', 'coordinator', 'admin')),
    topic_id   INTEGER REFERENCES topics(id),
    granted_by INTEGER REFERENCES people(id),
    created_at TEXT NOT NULL
);
-- NULL never equals NULL in a UNIQUE constraint, so fold "all topics" to 0 for uniqueness.
CREATE UNIQUE INDEX grants_unique ON grants(person_id, role, IFNULL(topic_id, 0));

CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY,
    actor_id INTEGER REFERENCES people(id),
    action   TEXT NOT NULL,
    subject  TEXT NOT NULL,
    before   TEXT,
    after    TEXT,
    at       TEXT NOT NULL
);
