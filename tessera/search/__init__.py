"""Full-text ticket search on the database's own index (SQLite FTS5 / PostgreSQL)."""
