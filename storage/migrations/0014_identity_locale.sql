-- The language a person's platform client is in, per identity (issue 18, item 5).
--
-- Slack gives it in `users.info` (include_locale), Discord with each interaction (`es-419`, `pt-BR`, `fr` …).
-- It is stored raw, as the platform spells it, and mapped to a shipped language when read: a language shipped
-- later then applies to locales remembered before. NULL: the platform never said (the console, or no contact
-- since this migration). It is remembered so that what is sent later with no platform event to read it from
-- (announcements, reminders, digests) is in that language, until the person chooses one themselves.
ALTER TABLE identities ADD COLUMN platform_locale TEXT;
