-- Issue 21: the admins' audit listing and retention.
--
-- The `audit` command filters the log by person (who acted, or whom it was about), by subject (a topic and
-- its announcements, meetings, requests, resources) and by time, newest first; retention deletes entries
-- older than its window by time. Each is an index range, not a scan of the whole log.
CREATE INDEX audit_log_actor ON audit_log(actor_id, id);
CREATE INDEX audit_log_subject ON audit_log(subject, id);
CREATE INDEX audit_log_at ON audit_log(at);

-- A topic's filter reads its announcements' ids (announcements_topic_published covers sent ones only).
CREATE INDEX announcements_topic ON announcements(topic_id);

-- When each periodic job last ran ('retention': the daily prune). The database, not the process, remembers
-- it, so a restart neither repeats a day's run nor skips one.
CREATE TABLE scheduled_runs (
    job      TEXT PRIMARY KEY,
    last_run TEXT NOT NULL
) WITHOUT ROWID;

-- An announcement's report reads `announcement_counts` (0013), kept by triggers. Pruning its old rows must
-- not lower those numbers: while the prune's transaction holds a row here, deleting a row leaves the counters
-- alone. Only that transaction writes it (SQLite has one writer), and it removes it before committing.
-- KEEP THE TRIGGER NAME: test_fanout_triggers.py checks deliveries_count_delete exists.
CREATE TABLE retention_pruning (
    active INTEGER PRIMARY KEY
);

DROP TRIGGER deliveries_count_delete;
CREATE TRIGGER deliveries_count_delete AFTER DELETE ON deliveries
WHEN OLD.announcement_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM retention_pruning)
BEGIN
    UPDATE announcement_counts SET n = n - 1
        WHERE announcement_id = OLD.announcement_id AND kind = OLD.kind AND status = OLD.status
          AND retryable = OLD.retryable;
END;
