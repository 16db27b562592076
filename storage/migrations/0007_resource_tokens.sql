-- Marks (categories M*) become part of words in the resource index. With unicode61's default categories
-- (L* N* Co) a vowel sign or virama splits a word, so Hindi "चुनाव" was indexed as "च", "न", "व" and
-- Bengali, Tamil and other Brahmic scripts fell apart the same way. The index is rebuilt from the search_*
-- columns with the new tokenizer; bot.resource_model.words splits query text the same way.
-- The application's folding gained a second pass ("ǣ" decomposes to "æ" + macron; the "æ" left behind now
-- becomes "ae"). Stored folded copies that still hold such letters get the same treatment, before the old
-- index is dropped, so its triggers see consistent rows.
UPDATE resources SET
    search_title = replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(search_title, 'ø', 'o'), 'æ', 'ae'), 'œ', 'oe'), 'ß', 'ss'), 'đ', 'd'), 'ð', 'd'), 'ł', 'l'), 'þ', 'th'), 'ħ', 'h'), 'ı', 'i'), 'ŧ', 't'),
    search_tags = replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(search_tags, 'ø', 'o'), 'æ', 'ae'), 'œ', 'oe'), 'ß', 'ss'), 'đ', 'd'), 'ð', 'd'), 'ł', 'l'), 'þ', 'th'), 'ħ', 'h'), 'ı', 'i'), 'ŧ', 't'),
    search_summary = replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(search_summary, 'ø', 'o'), 'æ', 'ae'), 'œ', 'oe'), 'ß', 'ss'), 'đ', 'd'), 'ð', 'd'), 'ł', 'l'), 'þ', 'th'), 'ħ', 'h'), 'ı', 'i'), 'ŧ', 't')
WHERE search_title <> replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(search_title, 'ø', 'o'), 'æ', 'ae'), 'œ', 'oe'), 'ß', 'ss'), 'đ', 'd'), 'ð', 'd'), 'ł', 'l'), 'þ', 'th'), 'ħ', 'h'), 'ı', 'i'), 'ŧ', 't') OR search_tags <> replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(search_tags, 'ø', 'o'), 'æ', 'ae'), 'œ', 'oe'), 'ß', 'ss'), 'đ', 'd'), 'ð', 'd'), 'ł', 'l'), 'þ', 'th'), 'ħ', 'h'), 'ı', 'i'), 'ŧ', 't') OR search_summary <> replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(search_summary, 'ø', 'o'), 'æ', 'ae'), 'œ', 'oe'), 'ß', 'ss'), 'đ', 'd'), 'ð', 'd'), 'ł', 'l'), 'þ', 'th'), 'ħ', 'h'), 'ı', 'i'), 'ŧ', 't');

DROP TABLE resources_vocab;
DROP TABLE resources_fts;

CREATE VIRTUAL TABLE resources_fts USING fts5(
    search_title, search_tags, search_summary,
    content = 'resources', content_rowid = 'id',
    tokenize = "unicode61 remove_diacritics 2 categories 'L* N* Co M*'",
    prefix = '2 3'
);
-- Title above tags above summary.
INSERT INTO resources_fts (resources_fts, rank) VALUES ('rank', 'bm25(10.0, 4.0, 1.0)');
CREATE VIRTUAL TABLE resources_vocab USING fts5vocab(resources_fts, 'row');

INSERT INTO resources_fts (resources_fts) VALUES ('rebuild');

-- What search checks for every match before ranking it (visibility, language, kind), in an index small
-- enough that checking thousands of matches does not read thousands of full rows.
CREATE INDEX resources_facets ON resources(id, visibility, language, kind);
