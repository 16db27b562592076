-- Meetings: a series is a local wall-clock start + IANA zone + RRULE; its next occurrences are
-- materialised as UTC instants (with per-occurrence cancelled/moved state) so start-up reads rows instead
-- of expanding every series. Reminders processed are recorded once per (occurrence, start, offset).
CREATE TABLE meetings (
    id                 INTEGER PRIMARY KEY,
    topic_id           INTEGER NOT NULL REFERENCES topics(id),
    author_id          INTEGER NOT NULL REFERENCES people(id),
    title              TEXT NOT NULL,
    start_local        TEXT NOT NULL,
    zone               TEXT NOT NULL,
    duration_minutes   INTEGER NOT NULL,
    rrule              TEXT,
    link               TEXT,
    remind             TEXT NOT NULL,
    state              TEXT NOT NULL CHECK (state IN ('active', 'cancelled')),
    revision           INTEGER NOT NULL DEFAULT 1,
    materialised_until TEXT,
    created_at         TEXT NOT NULL
);
CREATE INDEX meetings_topic ON meetings(topic_id, state);

CREATE TABLE meeting_occurrences (
    meeting_id     INTEGER NOT NULL REFERENCES meetings(id),
    original_start TEXT NOT NULL,
    start          TEXT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('scheduled', 'moved', 'cancelled')),
    PRIMARY KEY (meeting_id, original_start)
);
CREATE INDEX meeting_occurrences_start ON meeting_occurrences(start, state);

CREATE TABLE meeting_rsvps (
    meeting_id INTEGER NOT NULL REFERENCES meetings(id),
    person_id  INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    occurrence TEXT NOT NULL,  -- an occurrence's original_start, or '' for every occurrence
    answer     TEXT NOT NULL CHECK (answer IN ('yes', 'no', 'maybe')),
    updated_at TEXT NOT NULL,
    PRIMARY KEY (meeting_id, person_id, occurrence)
);

CREATE TABLE meeting_reminders (
    meeting_id     INTEGER NOT NULL REFERENCES meetings(id),
    original_start TEXT NOT NULL,
    start          TEXT NOT NULL,
    offset_minutes INTEGER NOT NULL,
    outcome        TEXT NOT NULL CHECK (outcome IN ('sent', 'late', 'missed', 'not-due')),
    processed_at   TEXT NOT NULL,
    PRIMARY KEY (meeting_id, original_start, start, offset_minutes)
);
