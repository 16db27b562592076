-- A preferred platform never names one the person has no account on (issue 21: `settings platform`).
--
-- `settings platform` refuses a platform the person holds no identity on; these triggers keep that true when an
-- identity leaves them afterwards (`unlink`, erasure, an identity moved to another person by a link): their
-- direct messages then go through their first reachable account again (NULL) instead of a platform whose
-- identity is gone. `all` is left alone: it means every account they still have.
CREATE TRIGGER identities_preferred_gone AFTER DELETE ON identities BEGIN
    UPDATE people SET preferred_platform = NULL
        WHERE id = OLD.person_id AND preferred_platform = OLD.platform
          AND NOT EXISTS (SELECT 1 FROM identities o WHERE o.person_id = OLD.person_id AND o.platform = OLD.platform);
END;

CREATE TRIGGER identities_preferred_moved AFTER UPDATE OF person_id ON identities
WHEN OLD.person_id IS NOT NEW.person_id BEGIN
    UPDATE people SET preferred_platform = NULL
        WHERE id = OLD.person_id AND preferred_platform = OLD.platform
          AND NOT EXISTS (SELECT 1 FROM identities o WHERE o.person_id = OLD.person_id AND o.platform = OLD.platform);
END;
