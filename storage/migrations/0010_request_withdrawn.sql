-- A person may withdraw their own waiting request (unsubscribe, or subscribing directly once invited): the
-- request is then 'withdrawn', so a coordinator's later Approve says so instead of subscribing someone who
-- changed their mind. SQLite cannot widen a CHECK constraint in place, so the table is rebuilt.
CREATE TABLE subscription_requests_new (
    id          INTEGER PRIMARY KEY,
    person_id   INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    topic_id    INTEGER NOT NULL REFERENCES topics(id),
    mode        TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'expired', 'withdrawn')),
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    decided_by  INTEGER REFERENCES people(id),
    decided_at  TEXT
);
INSERT INTO subscription_requests_new (id, person_id, topic_id, mode, status, created_at, expires_at, decided_by,
                                       decided_at)
    SELECT id, person_id, topic_id, mode, status, created_at, expires_at, decided_by, decided_at
    FROM subscription_requests;
DROP TABLE subscription_requests;
ALTER TABLE subscription_requests_new RENAME TO subscription_requests;
CREATE UNIQUE INDEX requests_one_pending ON subscription_requests(person_id, topic_id) WHERE status = 'pending';
CREATE INDEX requests_expiry ON subscription_requests(status, expires_at);
CREATE INDEX requests_topic ON subscription_requests(topic_id, status);
