"""Monthly ratings of organisations and municipalities.

For the incidents opened in a local month (not rejected), per organisation or per
municipality: the on-time share (answered with no deadline missed), the average and
median hours to the answer, the share overdue (any deadline missed, or an open one
past due), approved extensions and repeated ones, the moderators' quality marks and
the residents' satisfaction (monitor.reports.satisfaction). Each part becomes a figure
between 0 and 1:

    on_time      answered on time / incidents
    speed        max(0, 1 − average hours to the answer / ratings.reference_hours)
    not_overdue  1 − share overdue
    quality      mean mark score (по существу 1, формальная отписка 0.5, нет ответа 0)
    satisfied    share of «да»
    score        (mean score − 1) / 4

The rating is the weighted mean of the parts that have data (`[ratings.weights]`) × 100.
A body with fewer than `ratings.min_incidents` incidents in the month is shown but not
rated. The movement compares the rank with the previous month's.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from monitor.clock import iso, parse_time
from monitor.incidents.access import visible_to
from monitor.incidents.quality import MARKS
from monitor.incidents.states import OPEN_STATUSES
from monitor.settings import Settings

from .exports import Table
from .satisfaction import month_bounds, summary

GROUPS = {"organisation": "COALESCE(o.name, 'очередь ЦУР')",
          "municipality": "COALESCE(i.municipality, '—')"}
# target -> (column when met, column of its deadline)
TARGETS = {"first_reply": ("i.first_reply_at", "i.first_reply_due_at"),
           "executor": ("i.executor_at", "i.executor_due_at"),
           "draft": ("i.draft_at", "i.draft_due_at"),
           "resolve": ("COALESCE(i.answered_at, i.resolved_at)", "i.resolve_due_at")}
COLUMNS = [
    ("rank", "место"), ("movement", "за месяц"), ("group", "кто"), ("incidents", "обращений"),
    ("rating", "рейтинг"), ("on_time_share", "доля в срок"), ("average_h", "среднее время ответа, ч"),
    ("median_h", "медиана, ч"), ("overdue_share", "доля просроченных"),
    ("extensions", "переносов срока"), ("repeated_extensions", "повторных переносов"),
    ("quality_marks", "оценок качества"), ("quality", "качество ответов"),
    ("feedback_answered", "ответили жители"), ("satisfied_share", "доля «да»"),
    ("mean_rating", "средняя оценка жителей"),
]
GROUP_TITLES = {"organisation": "организации", "municipality": "муниципалитеты"}


@dataclass(frozen=True)
class Month:
    """Who asks, for which local month, `now` for «still open past its deadline»."""

    viewer: dict | None
    month: str  # YYYY-MM
    now: datetime
    settings: Settings

    def previous(self) -> Month:
        year, number = (int(p) for p in self.month.split("-"))
        year, number = (year, number - 1) if number > 1 else (year - 1, 12)
        return Month(self.viewer, f"{year:04d}-{number:02d}", self.now, self.settings)


def _incidents(db: Database, month: Month, by: str) -> list[dict]:
    start, end = month_bounds(month.month, month.settings.timezone)
    where, params = visible_to(month.viewer)
    late = " OR ".join(
        f"({due} IS NOT NULL AND ({met} > {due} OR ({met} IS NULL AND i.status IN"
        f" ({', '.join(repr(s) for s in OPEN_STATUSES)}) AND {due} < ?)))" for met, due in TARGETS.values())
    sql = f"""
    SELECT {GROUPS[by]} AS g, i.opened_at, COALESCE(i.answered_at, i.resolved_at) AS answered_at,
           ({late}) AS late, i.feedback_solved, i.feedback_rating, i.feedback_at,
           i.feedback_asked_at,
           (SELECT count(*) FROM extensions e WHERE e.incident_id = i.id
              AND e.status = 'approved') AS extensions,
           (SELECT count(*) FROM extensions e WHERE e.incident_id = i.id
              AND e.status = 'approved' AND e.repeated = 1) AS repeated,
           (SELECT group_concat(d.quality) FROM drafts d WHERE d.incident_id = i.id
              AND d.status = 'approved' AND d.quality IS NOT NULL) AS marks
    FROM incidents i LEFT JOIN organisations o ON o.id = i.organisation_id
    WHERE {where} AND i.status != 'rejected' AND i.opened_at >= ? AND i.opened_at < ?
    """
    cursor = db.execute(sql, [*[iso(month.now)] * len(TARGETS), *params, iso(start), iso(end)])
    keys = [d[0] for d in cursor.description]
    return [dict(zip(keys, row, strict=True)) for row in cursor.fetchall()]


def _hours(row: dict) -> float | None:
    if not row["answered_at"]:
        return None
    seconds = int((parse_time(row["answered_at"]) - parse_time(row["opened_at"])).total_seconds())
    return seconds / 3600


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _group_row(group: str, rows: list[dict], settings: Settings) -> dict:
    """The figures of one organisation or municipality, with its parts and its rating."""
    n = len(rows)
    hours = [h for h in map(_hours, rows) if h is not None]
    on_time = sum(1 for r, h in zip(rows, map(_hours, rows), strict=True) if h is not None and not r["late"])
    overdue = sum(1 for r in rows if r["late"])
    marks = [MARKS[m] for r in rows if r["marks"] for m in r["marks"].split(",") if m in MARKS]
    ratings = [r["feedback_rating"] for r in rows if r["feedback_rating"] is not None]
    feedback = summary(group, sum(1 for r in rows if r["feedback_asked_at"]),
                       sum(1 for r in rows if r["feedback_at"]),
                       sum(1 for r in rows if r["feedback_solved"] == 1),
                       sum(1 for r in rows if r["feedback_solved"] is not None),
                       statistics.fmean(ratings) if ratings else None, len(ratings))
    average = statistics.fmean(hours) if hours else None
    row = {
        "group": group, "incidents": n, "on_time_share": _share(on_time, n),
        "average_h": round(average, 2) if average is not None else None,
        "median_h": round(statistics.median(hours), 2) if hours else None,
        "overdue_share": _share(overdue, n), "extensions": sum(r["extensions"] for r in rows),
        "repeated_extensions": sum(r["repeated"] for r in rows), "quality_marks": len(marks),
        "quality": round(statistics.fmean(marks), 4) if marks else None,
        "feedback_answered": feedback["answered"], "satisfied_share": feedback["satisfied_share"],
        "mean_rating": feedback["mean_rating"],
    }
    parts = {
        "on_time": row["on_time_share"],
        "speed": max(0.0, 1 - average / settings.ratings.reference_hours) if average is not None else None,
        "not_overdue": 1 - row["overdue_share"] if n else None,
        "quality": row["quality"], "satisfied": row["satisfied_share"],
        "score": (statistics.fmean(ratings) - 1) / 4 if ratings else None,
    }
    row["parts"] = parts
    row["rating"] = weighted(parts, settings.ratings.weights) if n >= settings.ratings.min_incidents else None
    return row


def weighted(parts: dict[str, float | None], weights: dict[str, float]) -> float | None:
    """The weighted mean × 100 of the parts that have data (None: none has)."""
    present = {k: v for k, v in parts.items() if v is not None and weights.get(k, 0) > 0}
    total = sum(weights[k] for k in present)
    if not total:
        return None
    return round(100 * sum(weights[k] * v for k, v in present.items()) / total, 1)


def _ranked(db: Database, month: Month, by: str) -> list[dict]:
    groups: dict[str, list[dict]] = {}
    for row in _incidents(db, month, by):
        groups.setdefault(row["g"], []).append(row)
    rows = [_group_row(g, members, month.settings) for g, members in groups.items()]
    rated = sorted((r for r in rows if r["rating"] is not None), key=lambda r: (-r["rating"], r["group"]))
    for rank, row in enumerate(rated, start=1):
        row["rank"] = rank
    unrated = sorted((r for r in rows if r["rating"] is None), key=lambda r: r["group"])
    for row in unrated:
        row["rank"] = None
    return rated + unrated


def rating(db: Database, month: Month, by: str) -> Table:
    """The month's rating `by` organisation or municipality, with the movement since the
    previous month (↑2: two places up, ↓1: one down, =: the same place; «новый»: not rated
    then). Arrows, not signs: a cell starting with + or - would be a formula to a
    spreadsheet."""
    if by not in GROUPS:
        raise ValueError(f"unknown grouping {by!r}; expected one of {', '.join(GROUPS)}")
    before = {r["group"]: r["rank"] for r in _ranked(db, month.previous(), by) if r["rank"]}
    rows = _ranked(db, month, by)
    for row in rows:
        if row["rank"] is None:
            row["movement"] = "не оценивается"
        elif row["group"] not in before:
            row["movement"] = "новый"
        else:
            step = before[row["group"]] - row["rank"]
            row["movement"] = f"↑{step}" if step > 0 else (f"↓{-step}" if step < 0 else "=")
    return Table(f"rating-{by}", f"Рейтинг за {month.month}: {GROUP_TITLES[by]}", list(COLUMNS), rows)


def ratings(db: Database, month: Month) -> list[Table]:
    """Both ratings of a month: organisations, then municipalities."""
    return [rating(db, month, by) for by in GROUPS]
