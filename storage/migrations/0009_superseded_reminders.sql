-- A reminder can be superseded: after downtime, when several reminders of one occurrence are overdue, only
-- the one closest to the start is sent (marked late); the earlier ones are recorded as superseded rather
-- than arriving together. SQLite cannot widen a CHECK constraint in place, so the table is rebuilt.
CREATE TABLE meeting_reminders_new (
    meeting_id     INTEGER NOT NULL REFERENCES meetings(id),
    original_start TEXT NOT NULL,
    start          TEXT NOT NULL,
    offset_minutes INTEGER NOT NULL,
    outcome        TEXT NOT NULL CHECK (outcome IN ('sent', 'late', 'missed', 'not-due', 'superseded')),
    processed_at   TEXT NOT NULL,
    PRIMARY KEY (meeting_id, original_start, start, offset_minutes)
);
INSERT INTO meeting_reminders_new (meeting_id, original_start, start, offset_minutes, outcome, processed_at)
    SELECT meeting_id, original_start, start, offset_minutes, outcome, processed_at FROM meeting_reminders;
DROP TABLE meeting_reminders;
ALTER TABLE meeting_reminders_new RENAME TO meeting_reminders;
