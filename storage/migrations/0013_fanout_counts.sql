-- Fan-out at scale (issue 23, item 4).
--
-- KEEP THE TRIGGERS: `announcement_counts` and `announcement_digest_counts` are right only while the six
-- triggers below exist (deliveries_count_insert/update/delete, digest_items_count_insert/update/delete).
-- SQLite drops a table's triggers with the table, so a later migration that rebuilds `deliveries` or
-- `digest_items` (create a new table, copy, drop, rename — as 0012 did) silently stops the counting: it must
-- recreate these triggers after the rename and rebuild the counters from a GROUP BY, as this file does.
-- tests/storage/test_fanout_triggers.py fails when they are missing after migrating.
--
-- `fanout_cursor`: an announcement's subscriber rows are written in short chunks (by person id), each chunk
-- in its own transaction that also moves the cursor to the last person it covered. NULL: the fan-out is
-- complete (or never started); a number: it is under way and resumes after that person (0: nobody yet), so a
-- crash between chunks loses nothing and `settle` never marks it sent while rows are still to be written.
ALTER TABLE announcements ADD COLUMN fanout_cursor INTEGER;

-- The chunks read an announcement's audience in person order; the primary key leads with the person.
CREATE INDEX subscriptions_topic_person ON subscriptions(topic_id, person_id, mode);

-- Live counts of each announcement's rows by kind, status and whether a failure may be retried, kept by
-- the triggers below whatever path changes a row (claim, send, retry, cancel, recovery), so the live report
-- and `settle` cost the same at 100 and at 100,000 recipients.
CREATE TABLE announcement_counts (
    announcement_id INTEGER NOT NULL,
    kind            TEXT NOT NULL,
    status          TEXT NOT NULL,
    retryable       INTEGER NOT NULL,
    n               INTEGER NOT NULL,
    PRIMARY KEY (announcement_id, kind, status, retryable)
) WITHOUT ROWID;

INSERT INTO announcement_counts (announcement_id, kind, status, retryable, n)
    SELECT announcement_id, kind, status, retryable, COUNT(*) FROM deliveries
    WHERE announcement_id IS NOT NULL GROUP BY announcement_id, kind, status, retryable;

CREATE TRIGGER deliveries_count_insert AFTER INSERT ON deliveries WHEN NEW.announcement_id IS NOT NULL
BEGIN
    INSERT INTO announcement_counts (announcement_id, kind, status, retryable, n)
        VALUES (NEW.announcement_id, NEW.kind, NEW.status, NEW.retryable, 1)
        ON CONFLICT (announcement_id, kind, status, retryable) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER deliveries_count_update AFTER UPDATE OF status, retryable, kind, announcement_id ON deliveries
WHEN (OLD.announcement_id IS NOT NULL OR NEW.announcement_id IS NOT NULL)
     AND (OLD.status IS NOT NEW.status OR OLD.retryable IS NOT NEW.retryable OR OLD.kind IS NOT NEW.kind
          OR OLD.announcement_id IS NOT NEW.announcement_id)
BEGIN
    UPDATE announcement_counts SET n = n - 1
        WHERE announcement_id = OLD.announcement_id AND kind = OLD.kind AND status = OLD.status
          AND retryable = OLD.retryable;
    INSERT INTO announcement_counts (announcement_id, kind, status, retryable, n)
        SELECT NEW.announcement_id, NEW.kind, NEW.status, NEW.retryable, 1 WHERE NEW.announcement_id IS NOT NULL
        ON CONFLICT (announcement_id, kind, status, retryable) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER deliveries_count_delete AFTER DELETE ON deliveries WHEN OLD.announcement_id IS NOT NULL
BEGIN
    UPDATE announcement_counts SET n = n - 1
        WHERE announcement_id = OLD.announcement_id AND kind = OLD.kind AND status = OLD.status
          AND retryable = OLD.retryable;
END;

-- The same for the digest queue: how many of an announcement's copies wait for a digest, and how many went
-- out in one (`digest_key` set), for the report.
CREATE TABLE announcement_digest_counts (
    announcement_id INTEGER PRIMARY KEY,
    queued          INTEGER NOT NULL,
    digested        INTEGER NOT NULL
);

INSERT INTO announcement_digest_counts (announcement_id, queued, digested)
    SELECT announcement_id, COUNT(*), COUNT(digest_key) FROM digest_items GROUP BY announcement_id;

CREATE TRIGGER digest_items_count_insert AFTER INSERT ON digest_items
BEGIN
    INSERT INTO announcement_digest_counts (announcement_id, queued, digested)
        VALUES (NEW.announcement_id, 1, NEW.digest_key IS NOT NULL)
        ON CONFLICT (announcement_id) DO UPDATE SET queued = queued + 1,
                                                    digested = digested + (NEW.digest_key IS NOT NULL);
END;

CREATE TRIGGER digest_items_count_update AFTER UPDATE OF digest_key ON digest_items
WHEN (OLD.digest_key IS NULL) IS NOT (NEW.digest_key IS NULL)
BEGIN
    UPDATE announcement_digest_counts
        SET digested = digested + (NEW.digest_key IS NOT NULL) - (OLD.digest_key IS NOT NULL)
        WHERE announcement_id = NEW.announcement_id;
END;

CREATE TRIGGER digest_items_count_delete AFTER DELETE ON digest_items
BEGIN
    UPDATE announcement_digest_counts SET queued = queued - 1, digested = digested - (OLD.digest_key IS NOT NULL)
        WHERE announcement_id = OLD.announcement_id;
END;
