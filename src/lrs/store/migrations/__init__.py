"""Alembic revisions: they define the schema on PostgreSQL and SQLite."""
