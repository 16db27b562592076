-- Person ids are never reused (issue 21: erasure), and erasure finds a person's rows without scanning tables.
--
-- `people.id` is a plain INTEGER PRIMARY KEY, so SQLite hands a deleted highest id to the next new person: a
-- delivery claimed for an erased person, or a platform's send-attempt key naming their id, would then reach a
-- stranger. Rebuilding the table with AUTOINCREMENT would rewrite every foreign key to it; instead the highest id
-- ever deleted is kept here (a trigger, so every delete counts: erasure, pruning of unconfirmed email
-- addresses) and new people are numbered above it (storage/people.py).
CREATE TABLE id_floors (
    name TEXT PRIMARY KEY,
    last INTEGER NOT NULL
);
INSERT INTO id_floors (name, last) SELECT 'people', COALESCE(MAX(id), 0) FROM people;
CREATE TRIGGER people_ids_never_reused AFTER DELETE ON people BEGIN
    UPDATE id_floors SET last = max(last, OLD.id) WHERE name = 'people';
END;

-- What erasing one person reads (and the cascade deletes) by person, not by scanning every row.
CREATE INDEX deliveries_person ON deliveries(person_id) WHERE person_id IS NOT NULL;
CREATE INDEX announcements_author ON announcements(author_id);
CREATE INDEX meetings_author ON meetings(author_id);
CREATE INDEX meeting_rsvps_person ON meeting_rsvps(person_id);
