"""SQLite storage: the database is the source of truth for everything scheduled or queued."""
