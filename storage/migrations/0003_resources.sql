-- The resource library: reports, toolkits and links, with an FTS5 index over accent-folded copies of the
-- searchable text. unicode61 does not fold ø, æ, ß, đ or ł, so the application folds title, tags and summary
-- itself into the search_* shadow columns; triggers keep the external-content index in step with them.
CREATE TABLE resources (
    id             INTEGER PRIMARY KEY,
    url            TEXT NOT NULL,
    url_key        TEXT NOT NULL UNIQUE,
    title          TEXT NOT NULL,
    summary        TEXT NOT NULL DEFAULT '',
    kind           TEXT NOT NULL,
    tags           TEXT NOT NULL DEFAULT '',
    language       TEXT NOT NULL,
    visibility     TEXT NOT NULL CHECK (visibility IN ('public', 'members')),
    added_by       INTEGER REFERENCES people(id) ON DELETE SET NULL,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    search_title   TEXT NOT NULL DEFAULT '',
    search_tags    TEXT NOT NULL DEFAULT '',
    search_summary TEXT NOT NULL DEFAULT ''
);
CREATE INDEX resources_created ON resources(created_at, id);

CREATE TABLE resource_topics (
    resource_id INTEGER NOT NULL REFERENCES resources(id) ON DELETE CASCADE,
    topic_id    INTEGER NOT NULL REFERENCES topics(id),
    PRIMARY KEY (resource_id, topic_id)
) WITHOUT ROWID;
CREATE INDEX resource_topics_topic ON resource_topics(topic_id, resource_id);

CREATE VIRTUAL TABLE resources_fts USING fts5(
    search_title, search_tags, search_summary,
    content = 'resources', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3'
);
-- Title above tags above summary.
INSERT INTO resources_fts (resources_fts, rank) VALUES ('rank', 'bm25(10.0, 4.0, 1.0)');

-- The index's term list, for "did you mean" suggestions.
CREATE VIRTUAL TABLE resources_vocab USING fts5vocab(resources_fts, 'row');

CREATE TRIGGER resources_fts_insert AFTER INSERT ON resources BEGIN
    INSERT INTO resources_fts (rowid, search_title, search_tags, search_summary)
    VALUES (new.id, new.search_title, new.search_tags, new.search_summary);
END;

CREATE TRIGGER resources_fts_delete AFTER DELETE ON resources BEGIN
    INSERT INTO resources_fts (resources_fts, rowid, search_title, search_tags, search_summary)
    VALUES ('delete', old.id, old.search_title, old.search_tags, old.search_summary);
END;

CREATE TRIGGER resources_fts_update AFTER UPDATE OF search_title, search_tags, search_summary ON resources BEGIN
    INSERT INTO resources_fts (resources_fts, rowid, search_title, search_tags, search_summary)
    VALUES ('delete', old.id, old.search_title, old.search_tags, old.search_summary);
    INSERT INTO resources_fts (rowid, search_title, search_tags, search_summary)
    VALUES (new.id, new.search_title, new.search_tags, new.search_summary);
END;
