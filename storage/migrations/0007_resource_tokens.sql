-- Marks (categories M*) become part of words in the resource index. With unicode61's default categories
-- (L* N* Co) a vowel sign or virama splits a word, so Hindi "चुनाव" was indexed as "च", "न", "व" and
-- Bengali, Tamil and other Brahmic scripts fell apart the same way. The index is rebuilt from the search_*
-- columns with the new tokenizer; bot.resource_model.words splits query text the same way.
-- The application's folding changed too (punctuation, symbols and invisible characters become spaces or go;
-- "ǣ" becomes "ae"): the stored folded copies are refolded with the application's own function, before the
-- old index is dropped, so its triggers remove exactly what they indexed.
UPDATE resources SET
    search_title = fold_for_search(title),
    search_tags = fold_for_search(tags),
    search_summary = fold_for_search(summary)
WHERE search_title IS NOT fold_for_search(title) OR search_tags IS NOT fold_for_search(tags)
   OR search_summary IS NOT fold_for_search(summary);

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
