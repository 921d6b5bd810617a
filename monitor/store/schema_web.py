"""Migrations for the web UI (audit log, linked accounts, queue indexes).

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


def web_003_queue_indexes(db: Database) -> None:
    """One index per queue filter: an equality on one column walks its index in id
    order (SQLite appends the rowid), so `ORDER BY id DESC LIMIT 51` needs no sort."""
    for column in ("status", "topic", "municipality", "urgency", "organisation_id"):
        db["incidents"].create_index([column], index_name=f"idx_incidents_q_{column}",
                                     if_not_exists=True)


def web_004_incident_counts(db: Database) -> None:
    """Per-status counters of the queue, kept by triggers: counting a million incidents
    on every queue page costs ~0.3 s, reading ~150 counter rows costs nothing.

    Key: (organisation_id, status), organisation 0 = not routed yet. The triggers follow
    every INSERT, DELETE and change of status or organisation, whoever makes it. A table
    rebuild (sqlite-utils `transform`) drops triggers: re-create them after one.
    """
    db["incident_counts"].create({"organisation_id": int, "status": str, "n": int},
                                 pk=("organisation_id", "status"), not_null={"n"})
    db.execute(
        "INSERT INTO incident_counts (organisation_id, status, n) "
        "SELECT coalesce(organisation_id, 0), status, count(*) FROM incidents "
        "GROUP BY 1, 2"
    )
    add = ("INSERT INTO incident_counts (organisation_id, status, n) "
           "VALUES (coalesce(NEW.organisation_id, 0), NEW.status, 1) "
           "ON CONFLICT (organisation_id, status) DO UPDATE SET n = n + 1;")
    remove = ("UPDATE incident_counts SET n = n - 1 "
              "WHERE organisation_id = coalesce(OLD.organisation_id, 0) AND status = OLD.status;")
    db.execute(f"CREATE TRIGGER incident_counts_insert AFTER INSERT ON incidents BEGIN {add} END")
    db.execute(f"CREATE TRIGGER incident_counts_delete AFTER DELETE ON incidents BEGIN {remove} END")
    db.execute(
        "CREATE TRIGGER incident_counts_update AFTER UPDATE OF status, organisation_id ON incidents "
        "WHEN OLD.status IS NOT NEW.status OR OLD.organisation_id IS NOT NEW.organisation_id "
        f"BEGIN {remove} {add} END"
    )


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


def web_006_deadline_order(db: Database) -> None:
    """The queue's default order (soonest deadline, then urgency) as an index on the
    same expressions, alone and per organisation (an official's queue)."""
    order = ("COALESCE(next_due_at, '9999'), CASE urgency WHEN 'critical' THEN 0"
             " WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END, id")
    db.execute(f"CREATE INDEX IF NOT EXISTS idx_incidents_deadline_order ON incidents ({order})")
    db.execute("CREATE INDEX IF NOT EXISTS idx_incidents_org_deadline_order"
               f" ON incidents (organisation_id, {order})")


def web_007_routing_rules(db: Database) -> None:
    """Routing rules edited by admins in the web UI; checked before those of tsur.toml."""
    db["routing_rules"].create(
        {"id": int, "topic": str, "municipality": str, "organisation_key": str,
         "created_by": str, "created_at": str},
        pk="id", not_null={"organisation_key", "created_by", "created_at"},
    )
