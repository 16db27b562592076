-- When a whole series was cancelled: the topic calendar keeps recently cancelled series, marked
-- STATUS:CANCELLED, so a calendar that imported them earlier removes them on the next import.
ALTER TABLE meetings ADD COLUMN cancelled_at TEXT;
