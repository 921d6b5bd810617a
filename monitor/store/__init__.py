"""SQLite storage: the schema, the opener and the queries."""

from .database import applied_migrations, dicts, open_db, pending_migrations
from .schema import migrations

__all__ = ["applied_migrations", "dicts", "migrations", "open_db", "pending_migrations"]
