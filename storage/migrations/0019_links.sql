-- Issue 21: linking accounts with a one-time code.
--
-- `link_codes`: at most one code per issuing identity (issuing again replaces it). Only the code's SHA-256 is
-- kept, never the code. `state`: issued → proposed (someone typed it; `claimer_*` and `proposed_at` set) → used
-- (confirmed). Both identities are foreign keys: erasing either removes the row, so nothing here outlives them.
CREATE TABLE link_codes (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    issuer_platform     TEXT NOT NULL,
    issuer_external_id  TEXT NOT NULL,
    code_hash           TEXT NOT NULL UNIQUE,
    state               TEXT NOT NULL CHECK (state IN ('issued', 'proposed', 'used')),
    issued_at           TEXT NOT NULL,
    expires_at          TEXT NOT NULL,
    claimer_platform    TEXT,
    claimer_external_id TEXT,
    proposed_at         TEXT,
    UNIQUE (issuer_platform, issuer_external_id),
    FOREIGN KEY (issuer_platform, issuer_external_id) REFERENCES identities(platform, external_id) ON DELETE CASCADE,
    FOREIGN KEY (claimer_platform, claimer_external_id) REFERENCES identities(platform, external_id)
        ON DELETE CASCADE
);

-- Wrong codes typed, one row each: the rate limits (per claiming identity, and across everyone) count rows here,
-- so a restart does not reset them. Rows older than the longest window are pruned as new ones come.
CREATE TABLE link_attempts (
    id          INTEGER PRIMARY KEY,
    platform    TEXT NOT NULL,
    external_id TEXT NOT NULL,
    at          TEXT NOT NULL,
    FOREIGN KEY (platform, external_id) REFERENCES identities(platform, external_id) ON DELETE CASCADE
);
CREATE INDEX link_attempts_at ON link_attempts(at);
CREATE INDEX link_attempts_identity ON link_attempts(platform, external_id, at);
