-- Issue 22: the memory of deliveries already handled serves every platform, not Slack alone (the same change as
-- SQLite's 0026_handled_events.sql, which says why). A table rename leaves its constraints' and indexes' names as
-- they were: they are renamed too, so that nothing is still called slack_events_… — the primary key (its index
-- follows), and the NOT NULL constraints that PostgreSQL 18 names and earlier versions do not have (hence a loop
-- over whatever exists rather than a statement each).
ALTER TABLE slack_events RENAME TO handled_events;
DO $$
DECLARE
    old_name text;
BEGIN
    FOR old_name IN SELECT conname FROM pg_constraint
                    WHERE conrelid = 'handled_events'::regclass AND starts_with(conname, 'slack_events_') LOOP
        EXECUTE format('ALTER TABLE handled_events RENAME CONSTRAINT %I TO %I',
                       old_name, 'handled_events_' || substr(old_name, length('slack_events_') + 1));
    END LOOP;
END
$$;
ALTER INDEX slack_events_age RENAME TO handled_events_age;
