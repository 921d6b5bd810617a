"""Response times: per incident, and aggregated by organisation, place, topic, channel
or period — computed in SQL, always through the viewer (an official sees only their
organisation's figures).

Three measures, in clock hours from the opening: `first_reply` (the first public
reply), `executor` (the incident reached its organisation) and `resolve` (resolved).
Per group: incidents counted, measured, average, median, p90 (nearest rank), the
share that missed the stored deadline (late, or still open past it) and a
distribution in buckets 0–1 h … 24 h+. Rejected incidents are left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from monitor.clock import iso
from monitor.incidents.access import visible_to

MEASURES = {  # measure -> (column when met, column of its deadline)
    "first_reply": ("first_reply_at", "first_reply_due_at"),
    "executor": ("executor_at", "executor_due_at"),
    "resolve": ("resolved_at", "resolve_due_at"),
}
# Each post linked to an incident (a repeat, a spike member) answered under itself
# (monitor.incidents.linked_answers): from its publication to the platform's acceptance of
# its own first reply; it has no deadline of its own.
LINKED_REPLY = "linked_reply"
ALL_MEASURES = (*MEASURES, LINKED_REPLY)
_LINKED_FROM = """
FROM incident_repeats r
JOIN incidents i ON i.id = r.incident_id
JOIN posts p ON p.id = r.post_id
LEFT JOIN organisations o ON o.id = i.organisation_id
"""
BUCKETS = ((0, 1, "0–1 ч"), (1, 3, "1–3 ч"), (3, 8, "3–8 ч"), (8, 24, "8–24 ч"),
           (24, None, "24 ч+"))
GROUPS = ("organisation", "municipality", "topic", "channel", "day", "week", "month", "all")
_PERIODS = {"day": "%Y-%m-%d", "week": "%Y-W%W", "month": "%Y-%m"}

_FROM = """
FROM incidents i
JOIN posts p ON p.id = i.post_id
LEFT JOIN organisations o ON o.id = i.organisation_id
"""


@dataclass(frozen=True)
class Aggregate:
    measure: str
    group: str
    incidents: int
    measured: int
    average_h: float | None
    median_h: float | None
    p90_h: float | None
    with_deadline: int
    overdue: int
    buckets: dict[str, int]

    @property
    def overdue_share(self) -> float | None:
        return round(self.overdue / self.with_deadline, 4) if self.with_deadline else None

    def as_row(self) -> dict:
        return {"measure": self.measure, "group": self.group, "incidents": self.incidents,
                "measured": self.measured, "average_h": self.average_h,
                "median_h": self.median_h, "p90_h": self.p90_h,
                "overdue_share": self.overdue_share, **self.buckets}


def _group_sql(by: str, timezone: str, now: datetime) -> str:
    if by not in GROUPS:
        raise ValueError(f"unknown grouping {by!r}; expected one of {', '.join(GROUPS)}")
    if by in _PERIODS:  # the region's calendar day, not UTC's (no DST in Russia)
        minutes = int(now.astimezone(ZoneInfo(timezone)).utcoffset().total_seconds() // 60)
        return f"strftime('{_PERIODS[by]}', i.opened_at, '{minutes:+d} minutes')"
    return {"organisation": "COALESCE(o.name, 'очередь ЦУР')",
            "municipality": "COALESCE(i.municipality, '—')", "topic": "i.topic",
            "channel": "p.channel", "all": "'всего'"}[by]


def _hours(end: str, start: str) -> str:
    """SQL for the hours between two stored UTC times, from whole seconds: `julianday`
    differences are not exact (an hour came out as 0.99999999), which put exact 1 h and
    8 h gaps in the wrong bucket."""
    return f"(CAST(strftime('%s', {end}) AS INTEGER) - CAST(strftime('%s', {start}) AS INTEGER)) / 3600.0"


def aggregate(db: Database, viewer: dict | None, measure: str, by: str, *, now: datetime,
              timezone: str = "Europe/Moscow", since: datetime | None = None,
              until: datetime | None = None) -> list[Aggregate]:
    """One row per group, sorted by group, for incidents opened in [since, until)."""
    if measure not in ALL_MEASURES:
        raise ValueError(f"unknown measure {measure!r}; expected one of {', '.join(ALL_MEASURES)}")
    where, params = visible_to(viewer)
    clauses = [where, "i.status != 'rejected'", *_period(params, since, until)]
    bucket_sql = ", ".join(
        f"SUM(CASE WHEN v >= {lo}{f' AND v < {hi}' if hi else ''} THEN 1 ELSE 0 END)"
        for lo, hi, _ in BUCKETS)
    sql = f"""
    WITH base AS ({_base(measure, _group_sql(by, timezone, now), ' AND '.join(clauses))}),
    ranked AS (
      SELECT g, v, ROW_NUMBER() OVER (PARTITION BY g ORDER BY v) AS rn,
             COUNT(*) OVER (PARTITION BY g) AS n
      FROM base WHERE v IS NOT NULL
    ),
    pct AS (
      SELECT g, AVG(CASE WHEN rn IN ((n + 1) / 2, (n + 2) / 2) THEN v END) AS median,
             MIN(CASE WHEN rn * 10 >= n * 9 THEN v END) AS p90
      FROM ranked GROUP BY g
    )
    SELECT base.g, COUNT(*), COUNT(v), AVG(v), pct.median, pct.p90, SUM(has_due), SUM(late),
           {bucket_sql}
    FROM base LEFT JOIN pct ON pct.g IS base.g
    GROUP BY base.g ORDER BY base.g
    """
    out = []
    for row in db.execute(sql, [iso(now), *params]).fetchall():
        g, total, measured, avg, median, p90, with_due, late, *buckets = row
        out.append(Aggregate(measure, g, total, measured, _round(avg), _round(median),
                             _round(p90), with_due or 0, late or 0,
                             {label: n or 0 for (_, _, label), n in
                              zip(BUCKETS, buckets, strict=True)}))
    return out


def _base(measure: str, group: str, where: str) -> str:
    """One row per measured thing: its group, hours (null: not yet), deadline, lateness.
    The query's first parameter is `now` (lateness of what is still open); the linked
    replies have no deadline and only take it in their place."""
    if measure == LINKED_REPLY:
        first = ("(SELECT min(x.published_at) FROM outbox x WHERE x.incident_id = i.id"
                 " AND x.audience = 'resident' AND x.post_id = p.id AND x.linked = 1 AND x.status = 'published')")
        return (f"SELECT {group} AS g, {_hours(first, 'p.created_at')} AS v, 0 AS has_due,"
                f" 0 AS late {_LINKED_FROM} WHERE r.unlinked_at IS NULL AND ? IS NOT NULL"
                f" AND {where}")
    met, due = MEASURES[measure]
    return f"""
      SELECT {group} AS g, {_hours(f"i.{met}", "i.opened_at")} AS v,
             i.{due} IS NOT NULL AS has_due,
             CASE WHEN i.{due} IS NULL THEN 0
                  WHEN i.{met} IS NOT NULL THEN julianday(i.{met}) > julianday(i.{due})
                  ELSE julianday(?) > julianday(i.{due}) END AS late
      {_FROM} WHERE {where}"""


def per_incident(db: Database, viewer: dict | None, *, since: datetime | None = None,
                 until: datetime | None = None) -> list[dict]:
    """Each incident's three times in hours (None while not reached)."""
    where, params = visible_to(viewer)
    clauses = [where, *_period(params, since, until)]
    hours = ", ".join(
        f"ROUND({_hours(f'i.{met}', 'i.opened_at')}, 2) AS {m}_h"
        for m, (met, _) in MEASURES.items())
    cursor = db.execute(
        f"SELECT i.id, i.status, i.topic, i.municipality, p.channel,"
        f" COALESCE(o.name, 'очередь ЦУР') AS organisation, i.opened_at, i.repeats, {hours}"
        f" {_FROM} WHERE {' AND '.join(clauses)} ORDER BY i.id", params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _period(params: list, since: datetime | None, until: datetime | None) -> list[str]:
    """SQL conditions (and their parameters, appended) for incidents opened in [since, until)."""
    clauses = []
    if since:
        clauses.append("i.opened_at >= ?")
        params.append(iso(since))
    if until:
        clauses.append("i.opened_at < ?")
        params.append(iso(until))
    return clauses
