"""Residents' satisfaction: their «да / нет» to «was it solved?» and their 1–5 score.

Per group of incidents opened in a period (through the viewer, like every report):
how many residents were asked, how many answered, the share of «да» among the
answers that said yes or no, and the mean score among those that gave one.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from monitor.clock import iso
from monitor.incidents.access import visible_to

GROUPS = {"organisation": "COALESCE(o.name, 'очередь ЦУР')",
          "municipality": "COALESCE(i.municipality, '—')", "topic": "i.topic", "all": "'всего'"}
COLUMNS = [("asked", "спросили жителей"), ("answered", "ответили"),
           ("satisfied_share", "доля «да»"), ("mean_rating", "средняя оценка"),
           ("rated", "поставили оценку")]


def by_group(db: Database, viewer: dict | None, by: str, *, since: datetime | None = None,
             until: datetime | None = None) -> list[dict]:
    """One row per group (sorted), with the COLUMNS above and `group`."""
    if by not in GROUPS:
        raise ValueError(f"unknown grouping {by!r}; expected one of {', '.join(GROUPS)}")
    where, params = visible_to(viewer)
    clauses = [where, "i.status != 'rejected'"]
    for column, op, value in (("i.opened_at", ">=", since), ("i.opened_at", "<", until)):
        if value:
            clauses.append(f"{column} {op} ?")
            params.append(iso(value))
    rows = db.execute(
        f"SELECT {GROUPS[by]} AS g, SUM(i.feedback_asked_at IS NOT NULL),"
        f" SUM(i.feedback_at IS NOT NULL), SUM(i.feedback_solved = 1),"
        f" SUM(i.feedback_solved IS NOT NULL), AVG(i.feedback_rating), COUNT(i.feedback_rating)"
        f" FROM incidents i LEFT JOIN organisations o ON o.id = i.organisation_id"
        f" WHERE {' AND '.join(clauses)} GROUP BY g ORDER BY g", params).fetchall()
    return [summary(g, asked or 0, answered or 0, yes or 0, said or 0, mean, rated)
            for g, asked, answered, yes, said, mean, rated in rows]


def summary(group, asked: int, answered: int, yes: int, said: int, mean: float | None,
            rated: int) -> dict:
    """A row of the report from the counts (also used by the ratings)."""
    return {"group": group, "asked": asked, "answered": answered,
            "satisfied_share": round(yes / said, 4) if said else None,
            "mean_rating": round(mean, 2) if mean is not None else None, "rated": rated}


def month_bounds(month: str, timezone: str) -> tuple[datetime, datetime]:
    """'2026-11' -> the first moments of that local month and of the next one."""
    try:
        year, number = (int(part) for part in month.split("-"))
        zone = ZoneInfo(timezone)
        start = datetime(year, number, 1, tzinfo=zone)
    except ValueError:
        raise ValueError(f"{month!r} is not a month like 2026-11") from None
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=zone)
    return start, end
