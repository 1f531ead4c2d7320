"""The domain store: SQLAlchemy models, sessions and alembic migrations."""

from regflows.store.db import engine, migrate, schema_status, session

__all__ = ["engine", "migrate", "schema_status", "session"]
