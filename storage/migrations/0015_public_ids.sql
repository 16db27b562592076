-- Opaque public ids for announcements and meetings (issue 19, item 4: "never … in any count").
--
-- The public pages, feeds and calendars name announcements and meetings in URLs, Atom ids and iCalendar UIDs.
-- Sequential row ids there tell a stranger how many members-only announcements and meetings exist (a gap
-- between two public ones is hidden work, and its size is a count). Each row gets 16 random hex digits instead,
-- written when the row is created (rows from before this migration get theirs here). The chat keeps using the
-- row numbers coordinators type (`announce status 12`): they are only ever shown to people who may see the row.
ALTER TABLE announcements ADD COLUMN public_id TEXT;
UPDATE announcements SET public_id = lower(hex(randomblob(8)));
CREATE UNIQUE INDEX announcements_public_id ON announcements (public_id);

ALTER TABLE meetings ADD COLUMN public_id TEXT;
UPDATE meetings SET public_id = lower(hex(randomblob(8)));
CREATE UNIQUE INDEX meetings_public_id ON meetings (public_id);

-- The archive and the feeds list published announcements newest first; without an index each page sorted
-- every announcement of the topics asked for (26 ms at 100,000).
CREATE INDEX announcements_published ON announcements (COALESCE(sent_at, created_at) DESC, id DESC)
    WHERE state IN ('sending', 'sent');
CREATE INDEX announcements_topic_published ON announcements (topic_id, COALESCE(sent_at, created_at) DESC, id DESC)
    WHERE state IN ('sending', 'sent');
