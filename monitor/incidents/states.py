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
from monitor.store import dicts

from .deadlines import deadline_columns
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


EVENT_COLUMNS = ("incident_id", "occurred_at", "actor", "event", "old_status", "new_status",
                 "data", "once_key")
_INSERT_EVENT = (f"INSERT INTO incident_events ({', '.join(EVENT_COLUMNS)})"
                 f" VALUES ({', '.join('?' * len(EVENT_COLUMNS))})")


def _event_values(event: Event) -> list:
    return [event.incident_id, iso(event.occurred_at), event.actor, event.event, event.old_status,
            event.new_status, json.dumps(event.data, ensure_ascii=False), event.once_key]


def record_event(db: Database, event: Event) -> int | None:
    """Append an event; one with a `once_key` already recorded is ignored (None)."""
    sql = _INSERT_EVENT if event.once_key is None else _INSERT_EVENT.replace(
        "INSERT", "INSERT OR IGNORE", 1)
    cursor = db.execute(sql, _event_values(event))
    return cursor.lastrowid if cursor.rowcount == 1 else None


def record_events(db: Database, events: list[Event]) -> None:
    """Append many events in one statement (a batch's `opened` events)."""
    if events:
        db.conn.executemany(_INSERT_EVENT, [_event_values(e) for e in events])


@dataclass(frozen=True)
class Opening:
    """What opening an incident needs: the post, its labels, where it was routed."""

    post_id: int
    labels: object  # kind, topic, municipality, urgency
    organisation_id: int | None
    org_key: str | None
    route_reason: str
    actor: str = "system:ingest"


def open_incident(ctx: Context, post_id: int, labels, organisation_id: int | None, route_reason: str,
                  actor: str = "system:ingest") -> int:
    """Open a `new` incident for a labelled post; the caller holds the transaction."""
    events: list[Event] = []
    incident_id = insert_incident(ctx, Opening(post_id, labels, organisation_id,
                                               organisation_key(ctx.db, organisation_id),
                                               route_reason, actor), events)
    record_events(ctx.db, events)
    return incident_id


def insert_incident(ctx: Context, opening: Opening, events: list[Event]) -> int:
    """Insert a `new` incident with its deadlines computed from its inputs (one statement,
    no update after); its `opened` event is appended to `events`, which the caller
    records (a batch records all its events in one statement)."""
    now = ctx.clock.now()
    labels = opening.labels
    tier = initial_tier(ctx.settings, labels.topic, labels.municipality, opening.org_key)
    row = {
        "post_id": opening.post_id,
        "status": NEW,
        "kind": labels.kind,
        "topic": labels.topic,
        "municipality": labels.municipality,
        "urgency": labels.urgency,
        "organisation_id": opening.organisation_id,
        "opened_at": iso(now),
        "updated_at": iso(now),
        "tier": tier,
        "tier_at": iso(now),
    }
    # a new incident has no pauses, once keys or extensions; its id only names keys, not
    # moments
    row.update(deadline_columns(ctx, {**row, "id": None}, opening.org_key, [], set()))
    incident_id = ctx.db.execute(
        f"INSERT INTO incidents ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
        list(row.values())).lastrowid
    events.append(Event(incident_id, "opened", opening.actor, now, None, NEW,
                        {"route": opening.route_reason, "organisation_id": opening.organisation_id,
                         "tier": tier}))
    return incident_id


def get_row(db: Database, incident_id: int) -> dict:
    rows = dicts(db, "SELECT * FROM incidents WHERE id = ?", [incident_id])
    if not rows:
        raise TransitionError(f"Инцидента № {incident_id} нет")
    return rows[0]
