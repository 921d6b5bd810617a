"""What the autopilot did in a period, for the Сводка: the share of incidents delivered to
their executor without a moderator, the time that saved, and how often a moderator later
corrected one (its labels reviewed and changed, relabelled, rejected or re-routed).

Time saved: for each autopiloted incident, the median time from opening to the executor
of the incidents moderators sent by hand in the same period, less its own time (never
below zero). Scoped like every report (`visible_to`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from monitor.incidents.access import visible_to

from .metrics import _hours, _period


@dataclass(frozen=True)
class Summary:
    incidents: int
    autopiloted: int
    corrected: int
    manual_median_h: float | None  # opening → executor, sent by a moderator
    auto_average_h: float | None  # opening → executor, sent by the autopilot
    saved_h: float

    @property
    def share(self) -> float | None:
        return round(self.autopiloted / self.incidents, 4) if self.incidents else None

    @property
    def corrected_share(self) -> float | None:
        return round(self.corrected / self.autopiloted, 4) if self.autopiloted else None


_CORRECTED = """
EXISTS (SELECT 1 FROM incident_events e WHERE e.incident_id = i.id AND e.actor NOT LIKE 'system:%'
        AND (e.event IN ('relabel', 'reject', 'link_repeat')
             OR (e.event = 'assign' AND json_extract(e.data, '$.from_organisation_id') IS NOT NULL)))
OR EXISTS (SELECT 1 FROM label_corrections c WHERE c.post_id = i.post_id
           AND c.old_value IS NOT c.new_value)
"""


def summary(db, viewer: dict | None, since: datetime | None = None,
            until: datetime | None = None) -> Summary:
    where, params = visible_to(viewer)
    clauses = [where, *_period(params, since, until)]
    delay = _hours("i.executor_at", "i.opened_at")
    incidents, autopiloted, corrected, auto_average = db.execute(
        f"SELECT count(*), coalesce(sum(i.autopilot), 0),"
        f" coalesce(sum(CASE WHEN i.autopilot = 1 AND ({_CORRECTED}) THEN 1 ELSE 0 END), 0),"
        f" avg(CASE WHEN i.autopilot = 1 THEN {delay} END)"
        f" FROM incidents i WHERE {' AND '.join(clauses)}", params).fetchone()
    manual = [row[0] for row in db.execute(  # a routed direct-line group opens already routed
        f"SELECT {delay} AS v FROM incidents i WHERE {' AND '.join(clauses)} AND i.autopilot = 0"
        " AND i.executor_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM directline_questions q"
        " WHERE q.post_id = i.post_id) ORDER BY v", params)]
    median = _median(manual)
    saved = autopiloted * max(median - (auto_average or 0.0), 0.0) if median is not None else 0.0
    return Summary(incidents, autopiloted, corrected, None if median is None else round(median, 2),
                   None if auto_average is None else round(auto_average, 2), round(saved, 1))


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2
