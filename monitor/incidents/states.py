"""The states of an incident, its events, and opening one.

Every change of an incident is an append-only row in incident_events with its actor
and time (`record_event`); `open_incident` starts one in `new`. The transitions between
states live in monitor.incidents.lifecycle, which every module that acts goes through.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlite_utils import Database

from monitor.clock import iso

from .deadlines import recompute
from .tiers import initial_tier, organisation_key

if TYPE_CHECKING:  # the Context type only: context.py imports this layer
    from monitor.context import Context

NEW, CONFIRMED, ASSIGNED, DRAFT_REVIEW = "new", "confirmed", "assigned", "draft_review"
ANSWERED, IN_PROGRESS, NEEDS_INFO = "answered", "in_progress", "needs_info"
RESOLVED, CLOSED, REJECTED = "resolved", "closed", "rejected"

STATUSES = (NEW, CONFIRMED, ASSIGNED, DRAFT_REVIEW, ANSWERED, IN_PROGRESS, NEEDS_INFO,
            RESOLVED, CLOSED, REJECTED)
OPEN_STATUSES = (NEW, CONFIRMED, ASSIGNED, DRAFT_REVIEW, ANSWERED, IN_PROGRESS, NEEDS_INFO)


class TransitionError(Exception):
    """An action the incident's current state does not allow, or one missing its data."""


@dataclass(frozen=True)
class Event:
    incident_id: int
    event: str
    actor: str
    occurred_at: datetime
    old_status: str | None
    new_status: str | None
    data: dict
    once_key: str | None = None


def record_event(db: Database, event: Event) -> int | None:
    """Append an event; one with a `once_key` already recorded is ignored (None)."""
    row = {
        "incident_id": event.incident_id,
        "occurred_at": iso(event.occurred_at),
        "actor": event.actor,
        "event": event.event,
        "old_status": event.old_status,
        "new_status": event.new_status,
        "data": json.dumps(event.data, ensure_ascii=False),
        "once_key": event.once_key,
    }
    if event.once_key is None:
        return db["incident_events"].insert(row).last_pk
    cursor = db.execute(
        f"INSERT OR IGNORE INTO incident_events ({', '.join(row)}) VALUES"
        f" ({', '.join('?' * len(row))})", list(row.values()))
    return cursor.lastrowid if cursor.rowcount == 1 else None


def open_incident(ctx: Context, post_id: int, labels, organisation_id: int | None, route_reason: str,
                  actor: str = "system:ingest") -> int:
    """Open a `new` incident for a labelled post; the caller holds the transaction."""
    now = ctx.clock.now()
    tier = initial_tier(ctx.settings, labels.topic, labels.municipality,
                        organisation_key(ctx.db, organisation_id))
    incident_id = ctx.db["incidents"].insert({
        "post_id": post_id,
        "status": NEW,
        "kind": labels.kind,
        "topic": labels.topic,
        "municipality": labels.municipality,
        "urgency": labels.urgency,
        "organisation_id": organisation_id,
        "opened_at": iso(now),
        "updated_at": iso(now),
        "tier": tier,
        "tier_at": iso(now),
    }).last_pk
    record_event(ctx.db, Event(incident_id, "opened", actor, now, None, NEW,
                               {"route": route_reason, "organisation_id": organisation_id,
                                "tier": tier}))
    recompute(ctx, incident_id)
    return incident_id


def get_row(db: Database, incident_id: int) -> dict:
    rows = list(db["incidents"].rows_where("id = ?", [incident_id]))
    if not rows:
        raise TransitionError(f"Инцидента № {incident_id} нет")
    return rows[0]
