"""Deadlines of an incident: stored moments computed from its inputs.

Four targets, each an amount of hours per topic and urgency from the configuration:

- `first_reply`: a first public reply, counted from the opening;
- `executor`: the incident reaches its organisation (assigned), from the opening;
- `draft`: the organisation's draft answer, from the latest assignment or reopening;
- `resolve`: the final answer, from the interim reply.

`critical` and the targets listed in `deadlines.calendar_hours` run on clock hours (a
gas leak does not wait for Monday); the rest on working hours — the region's
calendar for the ЦУР's own targets, the organisation's hours for its draft and its
final answer. Time spent waiting on the resident (`needs_info`) pauses every clock,
and an author who never answers closes the incident after `workflow.info_close_hours`.
An approved extension («перенос срока», monitor.incidents.extensions) replaces a
target's computed moment with its approved date for the cycle it was approved in.

`recompute` stores the `*_due_at` moments, `next_due_at` (the earliest unmet one) and
`next_check_at` (the next moment the worker must act) in the caller's transaction,
whenever an input changes. Statuses (on time, due soon, overdue, paused) are computed
at read time from the clock and never stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

from monitor.clock import iso, parse_time
from monitor.settings import DEADLINE_TARGETS, Settings

from .calendar import RegionCalendar, WorkingHours
from .tiers import organisation_key

if TYPE_CHECKING:  # the Context type only: context.py imports this layer
    from monitor.context import Context

DUE_SOON = timedelta(hours=1)
ORGANISATION_TARGETS = frozenset({"draft", "resolve"})  # the organisation's own work
NEEDS_INFO, RESOLVED = "needs_info", "resolved"
OPEN = frozenset({"new", "confirmed", "assigned", "draft_review", "answered", "in_progress",
                  NEEDS_INFO})

# target -> (column holding its start, columns whose first non-empty value meets it)
INPUTS = {
    "first_reply": ("opened_at", ("first_reply_at",)),
    "executor": ("opened_at", ("executor_at",)),
    "draft": ("assigned_at", ("draft_at",)),
    "resolve": ("interim_at", ("answered_at", "resolved_at")),
}
DUE_COLUMNS = {t: f"{t}_due_at" for t in DEADLINE_TARGETS}


def target_hours(settings: Settings, target: str, urgency: str, topic: str | None = None
                 ) -> float | None:
    """Hours for a target: the topic's own table first, then the default one."""
    by_topic = settings.deadlines.get("topics", {}).get(topic or "", {}).get(target, {})
    value = by_topic.get(urgency, settings.deadlines.get(target, {}).get(urgency))
    return None if value is None else float(value)


def runs_on_clock_hours(settings: Settings, target: str, urgency: str) -> bool:
    return urgency == "critical" or target in settings.deadlines.get("calendar_hours", ())


def due_at(calendar: RegionCalendar, settings: Settings, target: str, urgency: str,
           start: datetime, pauses=(), topic: str | None = None) -> datetime | None:
    """The moment the target is due; None without a target or while paused open-ended."""
    hours = target_hours(settings, target, urgency, topic)
    if hours is None:
        return None
    duration = timedelta(hours=hours)
    clock_hours = runs_on_clock_hours(settings, target, urgency)
    if not pauses:  # every incident a batch opens starts at the same moment
        return _due_unpaused(calendar, start, duration, clock_hours)
    return _due(calendar, start, duration, clock_hours, pauses)


def _due(calendar: RegionCalendar, start: datetime, duration: timedelta, clock_hours: bool,
         pauses=()) -> datetime | None:
    add = calendar.add_calendar_time if clock_hours else calendar.add_working_time
    return add(start, duration, pauses)


_due_unpaused = lru_cache(maxsize=1024)(_due)


@lru_cache(maxsize=64)
def _calendar(tz: str, week: tuple[str, ...] | None) -> RegionCalendar:
    if week is None:
        return RegionCalendar(tz)
    return RegionCalendar(tz, WorkingHours({d: _span(s) for d, s in enumerate(week, 1)}))


def _span(text: str) -> tuple[time, time] | None:
    """'08:00-17:00' -> (08:00, 17:00); '' -> a day off."""
    if not text.strip():
        return None
    try:
        start, end = (time.fromisoformat(p.strip()) for p in text.split("-"))
    except ValueError:
        raise ValueError(f"working hours {text!r}: expected HH:MM-HH:MM") from None
    return start, end


def organisation_calendar(settings: Settings, org_key: str | None) -> RegionCalendar:
    """The organisation's hours in the region's zone and production calendar."""
    org = settings.organisation(org_key)
    week = tuple(org.working_hours) if org and org.working_hours else None
    return _calendar(settings.timezone, week)


def pauses_from_events(events: list[dict]) -> list[tuple[datetime, datetime | None]]:
    """Spans spent in needs_info, rebuilt from the status changes; the last may be open."""
    pauses, began = [], None
    for e in events:
        if e["new_status"] == NEEDS_INFO and e["old_status"] != NEEDS_INFO:
            began = parse_time(e["occurred_at"])
        elif e["old_status"] == NEEDS_INFO and e["new_status"] not in (None, NEEDS_INFO):
            if began is not None:
                pauses.append((began, parse_time(e["occurred_at"])))
            began = None
    if began is not None:
        pauses.append((began, None))
    return pauses


def _t(value: str | None) -> datetime | None:
    return parse_time(value) if value else None


def met_at(incident: dict, target: str) -> datetime | None:
    start = _t(incident.get(INPUTS[target][0]))
    for column in INPUTS[target][1]:
        moment = _t(incident.get(column))
        if moment is not None and (start is None or moment >= start):
            return moment
    return None


def compute(incident: dict, settings: Settings, region: RegionCalendar,
            organisation: RegionCalendar, pauses, extended: dict | None = None
            ) -> dict[str, datetime | None]:
    """Pure: target -> due moment, from the incident's stored inputs and its pauses;
    `extended` (target -> (approved due, approved at)) moves a target whose clock started
    before the approval."""
    dues = {}
    for target, (start_column, _) in INPUTS.items():
        start = _t(incident.get(start_column))
        calendar = organisation if target in ORGANISATION_TARGETS else region
        dues[target] = None if start is None else due_at(
            calendar, settings, target, incident["urgency"], start, pauses, incident.get("topic"))
        new_due, approved_at = (extended or {}).get(target, (None, None))
        if start is not None and new_due is not None and approved_at >= start:
            dues[target] = new_due
    return dues


def approved_extensions(db, incident_id: int) -> dict[str, tuple[datetime, datetime]]:
    """target -> (approved due, approved at) of the latest approved extension per target."""
    return {target: (parse_time(due), parse_time(at)) for target, due, at in db.execute(
        "SELECT target, new_due, decided_at FROM extensions WHERE incident_id = ?"
        " AND status = 'approved' ORDER BY id", [incident_id])}


@dataclass(frozen=True)
class Planned:
    """Something the worker must do at `moment`; `once_key` makes it happen once."""

    moment: datetime
    kind: str  # deadline_warning | deadline_breached | info_reminder | info_close | auto_close
    target: str | None
    due: datetime | None
    once_key: str


def planned(incident: dict, settings: Settings, dues: dict, recorded: set[str]) -> list[Planned]:
    """The worker's pending actions for an incident, earliest first."""
    if incident["status"] not in OPEN and incident["status"] != RESOLVED:
        return []
    out, iid = [], incident["id"]
    warn = timedelta(minutes=settings.workflow.warn_before_minutes)
    if incident["status"] in OPEN:
        for target, due in dues.items():
            if due is None or met_at(incident, target) is not None:
                continue
            key = f"{iid}:{target}:{iso(due)}"
            if f"{key}:breach" in recorded:
                continue
            if f"{key}:warning" not in recorded and warn > timedelta(0):
                out.append(Planned(due - warn, "deadline_warning", target, due, f"{key}:warning"))
            out.append(Planned(due, "deadline_breached", target, due, f"{key}:breach"))
    if incident["status"] == NEEDS_INFO and incident.get("info_asked_at"):
        asked = parse_time(incident["info_asked_at"])
        key = f"{iid}:info_reminder:{iso(asked)}"
        if key not in recorded:
            moment = asked + timedelta(hours=settings.workflow.info_reminder_hours)
            out.append(Planned(moment, "info_reminder", None, None, key))
        if settings.workflow.info_close_hours > 0:
            moment = asked + timedelta(hours=settings.workflow.info_close_hours)
            out.append(Planned(moment, "info_close", None, None,
                               f"{iid}:info_close:{iso(asked)}"))
    if incident["status"] == RESOLVED and incident.get("resolved_at"):
        moment = parse_time(incident["resolved_at"]) + timedelta(
            hours=settings.workflow.auto_close_hours)
        out.append(Planned(moment, "auto_close", None, None,
                           f"{iid}:auto_close:{incident['resolved_at']}"))
    return sorted(out, key=lambda p: p.moment)


def recorded_keys(db, incident_id: int) -> set[str]:
    return {r[0] for r in db.execute(
        "SELECT once_key FROM incident_events WHERE incident_id = ? AND once_key IS NOT NULL",
        [incident_id])}


def deadline_columns(ctx: Context, incident: dict, org_key: str | None, events: list[dict],
                     recorded: set[str], extended: dict | None = None) -> dict:
    """Pure: every `*_due_at`, next_due_at and next_check_at of an incident from its
    inputs (its row, its organisation, its status changes, the once keys recorded and
    its approved extensions)."""
    settings = ctx.settings
    dues = compute(incident, settings, ctx.calendar, organisation_calendar(settings, org_key),
                   pauses_from_events(events), extended)
    changes = {DUE_COLUMNS[t]: iso(d) for t, d in dues.items()}
    unmet = [d for t, d in dues.items() if d is not None and met_at(incident, t) is None]
    changes["next_due_at"] = iso(min(unmet)) if unmet and incident["status"] in OPEN else None
    actions = planned({**incident, **changes}, settings, dues, recorded)
    changes["next_check_at"] = iso(actions[0].moment) if actions else None
    return changes


def recompute(ctx: Context, incident_id: int) -> dict:
    """Store every due moment, next_due_at and next_check_at; the caller holds the
    transaction, so the stored moments always match the inputs just written."""
    db = ctx.db
    incident = db["incidents"].get(incident_id)
    events = [dict(zip(("old_status", "new_status", "occurred_at"), r, strict=True))
              for r in db.execute("SELECT old_status, new_status, occurred_at FROM incident_events"
                                  " WHERE incident_id = ? ORDER BY id", [incident_id])]
    changes = deadline_columns(ctx, incident, organisation_key(db, incident["organisation_id"]),
                               events, recorded_keys(db, incident_id),
                               approved_extensions(db, incident_id))
    db.execute(f"UPDATE incidents SET {', '.join(f'{c} = ?' for c in changes)} WHERE id = ?",
               [*changes.values(), incident_id])
    return {**incident, **changes}


def status(due: datetime | None, met_at: datetime | None, now: datetime,
           paused: bool = False) -> str:
    """on_time | due_soon | overdue | met | met_late | paused | none — computed, never stored."""
    if due is None:
        return "paused" if paused else "none"
    if met_at is not None:
        return "met" if met_at <= due else "met_late"
    if now > due:
        return "overdue"
    if paused:
        return "paused"
    if due - now <= DUE_SOON:
        return "due_soon"
    return "on_time"


def statuses(incident: dict, now: datetime) -> dict[str, str]:
    """The status of every target of a stored incident row at `now`."""
    paused = incident["status"] == NEEDS_INFO
    out = {}
    for target in DEADLINE_TARGETS:
        start = incident.get(INPUTS[target][0])
        due = _t(incident.get(DUE_COLUMNS[target]))
        out[target] = "none" if not start else status(due, met_at(incident, target), now, paused)
    return out


RUNNING = ("on_time", "due_soon", "overdue")


def next_due(incident: dict, now: datetime) -> dict | None:
    """The deadline the incident is working towards now (the first-reply one only until it
    is met): {target, due, state}; None when no clock runs."""
    running = [(incident[DUE_COLUMNS[t]], t, state) for t, state in statuses(incident, now).items()
               if state in RUNNING and incident.get(DUE_COLUMNS[t])]
    if not running:
        return None
    due, target, state = min(running)
    return {"target": target, "due": due, "state": state}
