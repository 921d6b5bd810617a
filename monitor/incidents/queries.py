"""Reading incidents, always through the viewer: an official sees only the
incidents of their organisation, enforced here in SQL and nowhere else."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlite_utils import Database

PAGE_SIZE = 50
FILTERS = ("status", "topic", "municipality", "urgency", "organisation_id")

_BASE = """
SELECT i.*, p.text, p.url, p.channel, p.author_name, p.created_at AS posted_at,
       s.name AS source_name, s.key AS source_key, o.name AS organisation_name
FROM incidents i
JOIN posts p ON p.id = i.post_id
JOIN sources s ON s.id = p.source_id
LEFT JOIN organisations o ON o.id = i.organisation_id
"""


class NotVisible(Exception):
    """No such incident for this viewer (it does not exist or belongs to another body)."""


@dataclass(frozen=True)
class Page:
    rows: list[dict]
    next_before: int | None


def _scope(viewer: dict) -> tuple[str, list]:
    if viewer["role"] == "official":
        return "i.organisation_id = ?", [viewer["organisation_id"]]
    return "1 = 1", []


def list_incidents(db: Database, viewer: dict, filters: dict | None = None,
                   before: int | None = None, limit: int = PAGE_SIZE,
                   after: int | None = None) -> Page:
    """Newest first, keyset-paginated on the incident id; `after` keeps only the
    incidents newer than a given id (live updates of the queue)."""
    where, params = _scope(viewer)
    clauses = [where]
    for name in FILTERS:
        value = (filters or {}).get(name)
        if value not in (None, ""):
            clauses.append(f"i.{name} = ?")
            params.append(value)
    if before:
        clauses.append("i.id < ?")
        params.append(before)
    if after is not None:
        clauses.append("i.id > ?")
        params.append(after)
    sql = f"{_BASE} WHERE {' AND '.join(clauses)} ORDER BY i.id DESC LIMIT ?"
    rows = [dict(r) for r in _dicts(db, sql, params + [limit + 1])]
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, rows[-1]["id"] if more else None)


def count_by_status(db: Database, viewer: dict) -> dict[str, int]:
    """From the trigger-kept counters (store/schema_web.py), scoped like `_scope`."""
    if viewer["role"] == "official":
        sql = "SELECT status, n FROM incident_counts WHERE organisation_id = ? AND n > 0"
        return dict(db.execute(sql, [viewer["organisation_id"] or -1]).fetchall())
    sql = "SELECT status, sum(n) FROM incident_counts GROUP BY status HAVING sum(n) > 0"
    return dict(db.execute(sql).fetchall())


def get_incident(db: Database, viewer: dict, incident_id: int) -> dict:
    where, params = _scope(viewer)
    rows = _dicts(db, f"{_BASE} WHERE i.id = ? AND {where}", [incident_id, *params])
    if not rows:
        raise NotVisible(f"incident {incident_id} not found")
    incident = rows[0]
    label = db.execute(
        "SELECT model_version, scores, explanations FROM labels WHERE post_id = ? ORDER BY id DESC LIMIT 1",
        [incident["post_id"]],
    ).fetchone()
    incident["model_version"] = label[0] if label else None
    incident["scores"] = json.loads(label[1]) if label else {}
    incident["explanations"] = json.loads(label[2]) if label and label[2] else {}
    incident["events"] = _dicts(
        db, "SELECT * FROM incident_events WHERE incident_id = ? ORDER BY id", [incident_id]
    )
    for event in incident["events"]:
        event["data"] = json.loads(event["data"] or "{}")
    incident["drafts"] = _dicts(db, "SELECT * FROM drafts WHERE incident_id = ? ORDER BY id",
                                [incident_id])
    incident["repeat_posts"] = _dicts(
        db, "SELECT r.post_id, r.score, r.linked_by, r.linked_at, p.text, p.author_name"
        " FROM incident_repeats r JOIN posts p ON p.id = r.post_id"
        " WHERE r.incident_id = ? AND r.unlinked_at IS NULL ORDER BY r.id", [incident_id])
    return incident


def _dicts(db: Database, sql: str, params: list) -> list[dict]:
    cursor = db.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
