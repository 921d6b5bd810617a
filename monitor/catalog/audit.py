"""The audit log: one append-only row for every state-changing action in the web UI.

Incident actions are already rows in incident_events and are not repeated here.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlite_utils import Database

from monitor.clock import iso


def record(db: Database, actor: str, action: str, target: str | None,
           details: dict | None, at: datetime) -> int:
    """Append one audit row (inside the caller's transaction when there is one);
    `at` comes from the injected clock."""
    with db.atomic():
        return db["audit"].insert({
            "at": iso(at), "actor": actor, "action": action, "target": target,
            "details": json.dumps(details or {}, ensure_ascii=False, sort_keys=True),
        }).last_pk


def recent(db: Database, *, actor: str | None = None, action: str | None = None,
           before: int | None = None, limit: int = 100) -> list[dict]:
    """Newest first, keyset-paginated on the id."""
    clauses, params = ["1 = 1"], []
    for column, value in (("actor", actor), ("action", action)):
        if value:
            clauses.append(f"{column} = ?")
            params.append(value)
    if before:
        clauses.append("id < ?")
        params.append(before)
    cursor = db.execute(
        f"SELECT * FROM audit WHERE {' AND '.join(clauses)} ORDER BY id DESC LIMIT ?",
        [*params, limit],
    )
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    for row in rows:
        row["details"] = json.loads(row["details"] or "{}")
    return rows


def actions(db: Database) -> list[str]:
    """Every action name the log holds, for the filter."""
    return [r[0] for r in db.execute("SELECT DISTINCT action FROM audit ORDER BY 1")]
