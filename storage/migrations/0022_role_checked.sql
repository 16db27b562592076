-- When each identity's stored platform role was last confirmed by its own platform (issue 21 review, point 3).
--
-- A linked person's role may come from another of their identities (a Slack guest linked to a Discord member).
-- That stored role is asked of its own platform again when it is what counts (bot/people/service.py); while the
-- platform cannot be asked, it keeps counting only for a while after it was last confirmed, never for ever.
-- Contact through the identity confirms it (the platform gave the role with the event), and so does a check that
-- got an answer. NULL: never confirmed since this migration. The rows written before start from their last contact,
-- the last time the platform is known to have given the role.
ALTER TABLE identities ADD COLUMN role_checked_at TEXT;

UPDATE identities SET role_checked_at = last_seen_at;
