"""The states of an incident and the only ways to move between them.

Every change is an append-only row in incident_events with actor and time; an action
that the current state does not allow is refused with a message saying why.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from monitor.clock import iso

NEW, CONFIRMED, ASSIGNED, DRAFT_REVIEW = "new", "confirmed", "assigned", "draft_review"
ANSWERED, IN_PROGRESS, NEEDS_INFO = "answered", "in_progress", "needs_info"
RESOLVED, CLOSED, REJECTED = "resolved", "closed", "rejected"

STATUSES = (NEW, CONFIRMED, ASSIGNED, DRAFT_REVIEW, ANSWERED, IN_PROGRESS, NEEDS_INFO,
            RESOLVED, CLOSED, REJECTED)
OPEN_STATUSES = (NEW, CONFIRMED, ASSIGNED, DRAFT_REVIEW, ANSWERED, IN_PROGRESS, NEEDS_INFO)

STATUS_TITLES = {
    NEW: "новый", CONFIRMED: "подтверждён", ASSIGNED: "назначен", DRAFT_REVIEW: "черновик на проверке",
    ANSWERED: "дан ответ", IN_PROGRESS: "в работе", NEEDS_INFO: "ждём автора",
    RESOLVED: "решён", CLOSED: "закрыт", REJECTED: "отклонён",
}

REJECT_REASONS = {
    "spam": "спам или реклама",
    "not_a_problem": "не проблема",
    "duplicate": "дубликат",
    "outside_region": "за пределами региона",
}

# action -> (statuses it may start from, status it leads to; None = decided by the action)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str | None]] = {
    "confirm": ((NEW,), CONFIRMED),
    "reject": ((NEW, CONFIRMED, ASSIGNED, NEEDS_INFO), REJECTED),
    "assign": ((NEW, CONFIRMED, ASSIGNED, DRAFT_REVIEW, IN_PROGRESS), ASSIGNED),
    "submit_draft": ((ASSIGNED, IN_PROGRESS), DRAFT_REVIEW),
    "return_draft": ((DRAFT_REVIEW,), ASSIGNED),
    "approve_final": ((DRAFT_REVIEW,), ANSWERED),
    "approve_interim": ((DRAFT_REVIEW,), IN_PROGRESS),
    "ask_info": ((NEW, CONFIRMED, ASSIGNED, IN_PROGRESS), NEEDS_INFO),
    "info_received": ((NEEDS_INFO,), None),
    "resolve": ((ANSWERED, IN_PROGRESS), RESOLVED),
    "close": ((RESOLVED,), CLOSED),
    "reopen": ((ANSWERED, RESOLVED, CLOSED), ASSIGNED),
}


class TransitionError(Exception):
    """An action the incident's current state does not allow."""


@dataclass(frozen=True)
class Event:
    incident_id: int
    event: str
    actor: str
    occurred_at: datetime
    old_status: str | None
    new_status: str | None
    data: dict


def record_event(db: Database, event: Event) -> int:
    return db["incident_events"].insert({
        "incident_id": event.incident_id,
        "occurred_at": iso(event.occurred_at),
        "actor": event.actor,
        "event": event.event,
        "old_status": event.old_status,
        "new_status": event.new_status,
        "data": json.dumps(event.data, ensure_ascii=False),
    }).last_pk


def next_status(db: Database, incident: dict, action: str) -> str:
    if action not in TRANSITIONS:
        raise TransitionError(f"unknown action {action!r}")
    allowed, target = TRANSITIONS[action]
    current = incident["status"]
    if current not in allowed:
        names = ", ".join(STATUS_TITLES[s] for s in allowed)
        raise TransitionError(
            f"incident {incident['id']} is «{STATUS_TITLES[current]}»; {action} is allowed only "
            f"from: {names}"
        )
    if target is None:  # info_received: back to where it was before the question
        row = db.execute(
            "SELECT old_status FROM incident_events WHERE incident_id = ? AND new_status = ?"
            " ORDER BY id DESC LIMIT 1", [incident["id"], NEEDS_INFO]
        ).fetchone()
        target = row[0] if row and row[0] else CONFIRMED
    return target


def open_incident(ctx, post_id: int, labels, organisation_id: int | None, route_reason: str) -> int:
    """Open a `new` incident for a labelled post; the caller holds the transaction."""
    from .deadlines import due_at

    now = ctx.clock.now()
    first_reply = due_at(ctx.calendar, ctx.settings, "first_reply", labels.urgency, now)
    incident_id = ctx.db["incidents"].insert({
        "post_id": post_id,
        "status": NEW,
        "kind": labels.kind,
        "topic": labels.topic,
        "municipality": labels.municipality,
        "urgency": labels.urgency,
        "organisation_id": organisation_id,
        "opened_at": iso(now),
        "first_reply_due_at": iso(first_reply),
        "next_due_at": iso(first_reply),
        "updated_at": iso(now),
    }).last_pk
    record_event(ctx.db, Event(incident_id, "opened", "system:ingest", now, None, NEW,
                               {"route": route_reason, "organisation_id": organisation_id}))
    return incident_id


def act(ctx, incident_id: int, action: str, actor: str, **data) -> dict:
    """Apply a moderator's or official's action; returns the updated incident row."""
    db = ctx.db
    now = ctx.clock.now()
    with db.atomic():
        rows = list(db["incidents"].rows_where("id = ?", [incident_id]))
        if not rows:
            raise TransitionError(f"incident {incident_id} does not exist")
        incident = rows[0]
        if action == "reject" and data.get("reason") not in REJECT_REASONS:
            raise TransitionError(
                f"a rejection needs a reason: one of {', '.join(REJECT_REASONS)}"
            )
        if action == "assign" and not data.get("organisation_id"):
            raise TransitionError("assign needs an organisation")
        target = next_status(db, incident, action)
        changes = {"status": target, "updated_at": iso(now)}
        if action == "assign":
            changes["organisation_id"] = int(data["organisation_id"])
        db["incidents"].update(incident_id, changes)
        record_event(db, Event(incident_id, action, actor, now, incident["status"], target, data))
    return db["incidents"].get(incident_id)
