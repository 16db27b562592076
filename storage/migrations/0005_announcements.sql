-- Announcements, the channels they go to, and the digest queue. Deliveries learn which announcement
-- they carry, for delivery reports and for editing or deleting every delivered copy.
CREATE TABLE announcements (
    id         INTEGER PRIMARY KEY,
    topic_id   INTEGER NOT NULL REFERENCES topics(id),
    author_id  INTEGER NOT NULL REFERENCES people(id),
    text       TEXT NOT NULL,
    state      TEXT NOT NULL CHECK (state IN ('draft', 'scheduled', 'sending', 'sent', 'cancelled', 'missed')),
    send_at    TEXT,
    created_at TEXT NOT NULL,
    sent_at    TEXT,
    edited_at  TEXT,
    revision   INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX announcements_due ON announcements(state, send_at);

CREATE TABLE channel_bindings (
    id         INTEGER PRIMARY KEY,
    purpose    TEXT NOT NULL CHECK (purpose IN ('public', 'topic')),
    topic_id   INTEGER REFERENCES topics(id),
    platform   TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX channel_bindings_unique ON channel_bindings(purpose, IFNULL(topic_id, 0), platform);

CREATE TABLE digest_items (
    person_id       INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    announcement_id INTEGER NOT NULL REFERENCES announcements(id),
    mode            TEXT NOT NULL CHECK (mode IN ('daily', 'weekly')),
    created_at      TEXT NOT NULL,
    digest_key      TEXT,
    PRIMARY KEY (person_id, announcement_id)
);
CREATE INDEX digest_items_pending ON digest_items(digest_key, person_id);

ALTER TABLE deliveries ADD COLUMN announcement_id INTEGER REFERENCES announcements(id);
CREATE INDEX deliveries_announcement ON deliveries(announcement_id, status);
