"""Deadlines of an incident: stored moments computed from its inputs.

Targets are hours per urgency from the configuration. `critical` runs on calendar
hours (a gas leak does not wait for Monday); everything else on the region's
working-hours calendar. Statuses (on time, due soon, overdue) are computed at read
time from the clock and never stored.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from monitor.settings import Settings

from .calendar import RegionCalendar

DUE_SOON = timedelta(hours=1)


def target_hours(settings: Settings, target: str, urgency: str) -> float | None:
    hours = settings.deadlines.get(target, {})
    value = hours.get(urgency)
    return None if value is None else float(value)


def due_at(calendar: RegionCalendar, settings: Settings, target: str, urgency: str,
           opened_at: datetime, pauses=()) -> datetime | None:
    hours = target_hours(settings, target, urgency)
    if hours is None:
        return None
    duration = timedelta(hours=hours)
    if urgency == "critical":
        return calendar.add_calendar_time(opened_at, duration, pauses)
    return calendar.add_working_time(opened_at, duration, pauses)


def status(due: datetime | None, met_at: datetime | None, now: datetime) -> str:
    """on_time | due_soon | overdue | met | met_late | none — computed, never stored."""
    if due is None:
        return "none"
    if met_at is not None:
        return "met" if met_at <= due else "met_late"
    if now > due:
        return "overdue"
    if due - now <= DUE_SOON:
        return "due_soon"
    return "on_time"
