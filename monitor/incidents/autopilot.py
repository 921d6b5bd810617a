"""Autopilot: an incident the model is sure of goes straight to its executor.

When `[autopilot] enabled` and a new incident's four labels (kind, topic, municipality,
urgency) all reach the thresholds of its topic — of its topic and municipality when
those were chosen apart — it is confirmed and assigned to its routed organisation by
`system:autopilot`, marked (`incidents.autopilot`) and its history says so. It never
skips a moderator when:

- no thresholds were chosen for its topic (`tsur autopilot thresholds`,
  monitor.retraining.autopilot, from the moderators' own confirmations and corrections);
- it is `critical` (unless `[autopilot] critical = true`): a danger deserves a human look;
- routing found no organisation (it waits in the ЦУР's own queue).

The thresholds live here (`store`, `current`) so ingest and the pages read one table.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from monitor.clock import iso

from .lifecycle import act
from .states import Event, record_event

if TYPE_CHECKING:  # the Context type only: context.py imports this layer
    from monitor.context import Context

ACTOR = "system:autopilot"
LABELS = ("kind", "topic", "municipality", "urgency")


@dataclass(frozen=True)
class Thresholds:
    """The least probability of each label for one topic (and municipality, or None)."""

    topic: str
    municipality: str | None
    kind_min: float
    topic_min: float
    municipality_min: float
    urgency_min: float
    precision: float | None  # on the history, at these thresholds
    support: int  # decided incidents of the history at or above them
    evidence: int  # decided incidents of the history of this topic (and municipality)

    def admits(self, scores: dict) -> bool:
        return all(float(scores.get(name) or 0.0) >= getattr(self, f"{name}_min")
                   for name in LABELS)


def store(ctx: Context, chosen: list[Thresholds], target: float, actor: str) -> None:
    """Make `chosen` the thresholds in force; earlier choices stay as history."""
    db, now = ctx.db, ctx.clock.now()
    with db.atomic():
        db.execute("UPDATE autopilot_thresholds SET active = 0 WHERE active = 1")
        db["autopilot_thresholds"].insert_all(
            {**asdict(t), "target": target, "chosen_at": iso(now), "chosen_by": actor, "active": 1}
            for t in chosen)


def current(db) -> list[dict]:
    """The thresholds in force, by topic and municipality (for the pages and commands)."""
    return list(db["autopilot_thresholds"].rows_where(
        "active = 1", order_by="topic, coalesce(municipality, '')"))


def thresholds_for(db, topic: str, municipality: str | None) -> Thresholds | None:
    """The thresholds of (topic, municipality), else of the topic, else None."""
    rows = db.execute(
        "SELECT topic, municipality, kind_min, topic_min, municipality_min, urgency_min,"
        " precision, support, evidence FROM autopilot_thresholds WHERE active = 1 AND topic = ?"
        " AND (municipality IS NULL OR municipality IS ?) AND kind_min IS NOT NULL"
        " ORDER BY municipality IS NULL LIMIT 1", [topic, municipality]).fetchone()
    return Thresholds(*rows) if rows else None


def deliver(ctx: Context, incident_id: int, scores: dict, now: datetime) -> bool:
    """Send a just-opened incident to its executor when the autopilot may; the caller
    holds the transaction. True when it did."""
    conf = ctx.settings.autopilot
    if not conf.enabled:
        return False
    incident = ctx.db["incidents"].get(incident_id)
    if incident["organisation_id"] is None or (incident["urgency"] == "critical" and not conf.critical):
        return False
    limits = thresholds_for(ctx.db, incident["topic"], incident["municipality"])
    if limits is None or not limits.admits(scores):
        return False
    act(ctx, incident_id, "confirm", ACTOR)
    act(ctx, incident_id, "assign", ACTOR, organisation_id=incident["organisation_id"])
    ctx.db["incidents"].update(incident_id, {"autopilot": 1})
    status = ctx.db["incidents"].get(incident_id)["status"]
    record_event(ctx.db, Event(incident_id, "autopilot", ACTOR, now, status, status, {
        "scores": {name: scores.get(name) for name in LABELS},
        "thresholds": {name: getattr(limits, f"{name}_min") for name in LABELS},
        "municipality_thresholds": limits.municipality is not None}))
    return True

