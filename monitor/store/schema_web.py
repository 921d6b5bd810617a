"""Migrations for the web UI (audit log, linked accounts, queue indexes).

Append new named functions at the end; never edit one that has been applied.
"""

from __future__ import annotations

from sqlite_utils import Database

from .schema import migrations


@migrations()
def web_001_audit(db: Database) -> None:
    """Who changed what in the web UI and when; append-only like incident history."""
    db["audit"].create(
        {
            "id": int,
            "at": str,  # UTC ISO
            "actor": str,  # user login, or the login tried for a failed one
            "action": str,  # login | login_failed | logout | user_create | …
            "target": str,  # e.g. user:moderator, organisation:adm-dzr
            "details": str,  # JSON
        },
        pk="id",
        not_null={"at", "actor", "action"},
    )
    db["audit"].create_index(["at"])
    db["audit"].create_index(["actor", "id"])
    db.execute(
        "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
        " BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
    )
    db.execute(
        "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
        " BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
    )


@migrations()
def web_002_linked_account_env(db: Database) -> None:
    """The NAMES of the environment variables that hold an organisation's tokens
    (the tokens themselves are never stored)."""
    db["organisations"].add_column("vk_token_env", str)
    db["organisations"].add_column("telegram_token_env", str)


@migrations()
def web_003_queue_indexes(db: Database) -> None:
    """One index per queue filter: an equality on one column walks its index in id
    order (SQLite appends the rowid), so `ORDER BY id DESC LIMIT 51` needs no sort."""
    for column in ("status", "topic", "municipality", "urgency", "organisation_id"):
        db["incidents"].create_index([column], index_name=f"idx_incidents_q_{column}",
                                     if_not_exists=True)
