-- Issue 21 review: a link proposal's reference, a short random word its Confirm and Cancel buttons carry
-- (`link confirm <reference>`), so that a button confirms the proposal it showed and not a later one (a new code,
-- claimed by someone else). Set when a code is claimed. NULL for proposals made before this migration: their
-- buttons carry no reference and confirm the proposal waiting, as before.
ALTER TABLE link_codes ADD COLUMN reference TEXT;
