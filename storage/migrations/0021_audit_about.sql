-- Issue 21 review: whom an audit entry is about, and what erasure and retention read by person or by age.
--
-- `audit <person>` and `mydata` list every entry about a person, and erasure scrubs them. Not every such entry
-- says `person:<id>` in its subject: an invitation names the topic and keeps the invitee in `after`
-- ({"person": id}), an approval names the request (whose requester it concerns), a resource's entries keep who
-- added it in their JSON (`added_by`). `about_id` records that person when the entry is written
-- (storage/audit.py, by bot/audit/about.py's reading of the formats), so each of those reads is one index range,
-- not a walk through the log. No foreign key: a missing person must never make an audit write fail; erasure
-- clears it (storage/privacy.py).
ALTER TABLE audit_log ADD COLUMN about_id INTEGER;

-- The entries written before: the same reading as bot/audit/about.py, for people who still exist.
UPDATE audit_log SET about_id = (
    SELECT p.id FROM people p WHERE p.id = CASE
        WHEN subject GLOB 'person:[0-9]*' AND substr(subject, 8) NOT GLOB '*[^0-9]*'
            THEN CAST(substr(subject, 8) AS INTEGER)
        WHEN subject GLOB 'request:[0-9]*' AND substr(subject, 9) NOT GLOB '*[^0-9]*'
            THEN (SELECT r.person_id FROM subscription_requests r WHERE r.id = CAST(substr(subject, 9) AS INTEGER))
        ELSE COALESCE(
            CASE WHEN json_valid(after) THEN CASE WHEN json_type(after, '$.person') = 'integer'
                 THEN json_extract(after, '$.person') END END,
            CASE WHEN json_valid(after) THEN CASE WHEN json_type(after, '$.added_by') = 'integer'
                 THEN json_extract(after, '$.added_by') END END,
            CASE WHEN json_valid(before) THEN CASE WHEN json_type(before, '$.person') = 'integer'
                 THEN json_extract(before, '$.person') END END,
            CASE WHEN json_valid(before) THEN CASE WHEN json_type(before, '$.added_by') = 'integer'
                 THEN json_extract(before, '$.added_by') END END)
    END);

CREATE INDEX audit_log_about ON audit_log(about_id, id) WHERE about_id IS NOT NULL;

-- `mydata` lists the resources someone added, and erasure's ON DELETE SET NULL finds them, by person.
CREATE INDEX resources_added_by ON resources(added_by) WHERE added_by IS NOT NULL;

-- Retention prunes Discord's first-attempt records by age, a range of this index.
CREATE INDEX discord_send_attempts_first ON discord_send_attempts(first_at);
