"""The one place the database is opened."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlite_utils import Database

from .schema import migrations, rename_applied

# SQLite's page cache per connection, in KiB (a negative cache_size): the indexes ingest
# walks for every post stay in memory at a million posts (the default 2 MB missed about
# 2,000 pages per post at 50k). Pages are allocated as they are read, not up front.
PAGE_CACHE_KIB = 128 * 1024


class _Connection(sqlite3.Connection):
    """`db.atomic()` starts with BEGIN IMMEDIATE: the write lock is taken (waiting up to
    busy_timeout) before the transaction reads. A deferred BEGIN that reads, then writes
    after another process committed, fails at once with «database is locked» whatever
    busy_timeout says (a web login while a collector stores posts did)."""

    def execute(self, sql, *args, **kwargs):
        if sql == "BEGIN":
            sql = "BEGIN IMMEDIATE"
        return super().execute(sql, *args, **kwargs)


class _Database(Database):
    """sqlite_utils looks for views in sqlite_master on every `db[name]` (twice), a query
    per table access and a tenth of ingest's SQL time. tsur's schema has no views: their
    names are read once per connection, and again after `create_view`."""

    _views: list[str] | None = None

    def view_names(self) -> list[str]:
        if self._views is None:
            self._views = super().view_names()
        return self._views

    def create_view(self, *args, **kwargs):
        self._views = None
        try:
            return super().create_view(*args, **kwargs)
        finally:
            self._views = None


def open_db(path: str | Path | None, *, upgrade: bool = True,
            check_same_thread: bool = True) -> Database:
    """Open (creating if needed) the SQLite file in WAL mode and apply migrations.

    `path=None` opens an in-memory database (tests). `check_same_thread=False` is for
    a connection that one web request uses from several threads in turn (FastAPI runs
    a sync dependency's setup, the endpoint and the teardown in pool threads).
    """
    if path is None:
        db = _Database(memory=True)
    else:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        db = _Database(sqlite3.connect(str(path), check_same_thread=check_same_thread, factory=_Connection))
        db.enable_wal()
        # WAL with NORMAL: a commit is a write to the log, synced at checkpoints; a power
        # cut may lose the last batches (with their cursors, so they are read again),
        # never leave the file inconsistent. FULL synced every ingest batch (~20 ms each).
        db.execute("PRAGMA synchronous = NORMAL")
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA busy_timeout = 5000")
    db.execute(f"PRAGMA cache_size = -{PAGE_CACHE_KIB}")
    rename_applied(db)
    if upgrade:
        migrations.apply(db)
    return db


def dicts(db: Database, sql: str, params=()) -> list[dict]:
    """Rows of a query as dicts. For paths run per post: `db[name].rows_where` and `.get`
    first ask sqlite_master whether the table exists, and `.get` reads its columns."""
    cursor = db.execute(sql, params if isinstance(params, dict) else list(params))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def pending_migrations(db: Database) -> list[str]:
    return [m.name for m in migrations.pending(db)]


def applied_migrations(db: Database) -> list[str]:
    return [m.name for m in migrations.applied(db)]
