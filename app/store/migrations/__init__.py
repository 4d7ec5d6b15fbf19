"""Alembic migrations of the event store (same revisions for SQLite and PostgreSQL)."""
