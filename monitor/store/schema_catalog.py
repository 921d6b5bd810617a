"""Migrations of the catalog: the audit log, organisations' linked accounts, web sessions.

They carry `web_` names from when they lived with the web UI; names never change.

Add a new function here and at the end of MIGRATIONS in monitor/store/schema.py;
never edit one that has been applied.
"""

from __future__ import annotations

from sqlite_utils import Database


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


def web_002_linked_account_env(db: Database) -> None:
    """The NAMES of the environment variables that hold an organisation's tokens
    (the tokens themselves are never stored)."""
    db["organisations"].add_column("vk_token_env", str)
    db["organisations"].add_column("telegram_token_env", str)


def web_005_sessions(db: Database) -> None:
    """Server-side record of web logins, so that logout, a disabled account or a reset
    password ends a session even if someone kept a copy of its signed cookie.
    `id` is the SHA-256 of the random session id the cookie carries."""
    db["web_sessions"].create(
        {"id": str, "user_id": int, "created_at": str, "revoked_at": str, "ip": str},
        pk="id",
        not_null={"user_id", "created_at"},
        foreign_keys=[("user_id", "users", "id")],
    )
    db["web_sessions"].create_index(["user_id"])
