"""When the resident got a reply: the one writer of `first_reply_at` and `answered_at`.

A reply meets its target from the moment the workflow queues it (`on_queued`: the
moderator's approval is the moment that counts while it is on its way); once the
platform has answered, `settle` puts the moment it accepted the reply in its place, or
clears it when no such reply reached the resident. The lifecycle and the publisher
(monitor.replies) write these two columns only through here.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from monitor.clock import iso

from . import outbox
from .deadlines import recompute

if TYPE_CHECKING:  # the Context type only: context.py imports this layer
    from monitor.context import Context

# Replies the workflow counts as the first public reply / as the final answer.
FIRST_REPLY = ("acknowledgement", "interim", "answer", "info_request")
ANSWER = ("answer",)


def on_queued(incident: dict, purpose: str, now: datetime) -> dict:
    """The changes a reply of this purpose queued now makes (kept if already met)."""
    changes = {}
    if purpose in FIRST_REPLY:
        changes["first_reply_at"] = incident["first_reply_at"] or iso(now)
    if purpose in ANSWER:
        changes["answered_at"] = incident["answered_at"] or iso(now)
    return changes


def on_new_cycle() -> dict:
    """A reopened incident waits for a new answer (the first reply stays met)."""
    return {"answered_at": None}


def settle(ctx: Context, incident_id: int) -> None:
    """After the platform answered: first_reply_at / answered_at = when it accepted the
    reply, or nothing when no such reply reached the resident (the deadline clock runs
    again). `answered_at` looks only at answers of the current cycle (queued since the
    latest assignment or reopening)."""
    db = ctx.db
    incident = db["incidents"].get(incident_id)
    changes = {}
    first = _accepted(db, incident_id, FIRST_REPLY)
    if first is not None:
        changes["first_reply_at"] = first[1]
    answers = _accepted(db, incident_id, ANSWER, since=incident["assigned_at"])
    if answers is not None:
        changes["answered_at"] = answers[1]
    changes = {k: v for k, v in changes.items() if incident[k] != v}
    if changes:
        db["incidents"].update(incident_id, changes)
        recompute(ctx, incident_id)


def _accepted(db, incident_id: int, purposes: tuple, since: str | None = None):
    """(replies of these purposes, earliest acceptance) or None when there are none."""
    marks = ", ".join("?" * len(purposes))
    row = db.execute(
        f"SELECT count(*), min(CASE WHEN status = ? THEN published_at END) FROM outbox"
        f" WHERE audience = ? AND incident_id = ? AND mode = 'reply' AND linked = 0"
        f" AND purpose IN ({marks}) AND created_at >= ?",
        [outbox.PUBLISHED, outbox.RESIDENT, incident_id, *purposes, since or ""]).fetchone()
    return row if row[0] else None
