"""The audit log: one append-only row for every state-changing action in the web UI.

Incident actions are already rows in incident_events and are not repeated here.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlite_utils import Database

from monitor.clock import iso
from monitor.titles import AUDIT_DETAIL_TITLES, AUDIT_TITLES, ROLE_TITLES

TARGET_KINDS = {"user": "пользователь", "organisation": "организация", "source": "источник",
                "routing_rule": "правило маршрутизации", "models": "модели"}


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
        row.update(_shown(row))
    return rows


def _shown(row: dict) -> dict:
    """The row in Russian for the log page: the action, its object and the details."""
    kind, _, name = (row["target"] or "").partition(":")
    target = f"{TARGET_KINDS.get(kind, kind)} {name}".strip() if row["target"] else "—"
    details = [(AUDIT_DETAIL_TITLES.get(key, key),
                ROLE_TITLES.get(value, AUDIT_DETAIL_TITLES.get(value, value))
                if isinstance(value, str) else value)
               for key, value in row["details"].items()]
    return {"action_title": title_of(row["action"]), "target_title": target,
            "details_shown": details}


def title_of(action: str) -> str:
    return AUDIT_TITLES.get(action, action.replace("_", " "))


def actions(db: Database) -> list[tuple[str, str]]:
    """Every action the log holds, (name, Russian title), for the filter."""
    return [(r[0], title_of(r[0])) for r in db.execute("SELECT DISTINCT action FROM audit ORDER BY 1")]
