"""What a moderator does with a reply that did not go out: send it again, or say that
a reply whose answer was lost did reach the platform after all.

Sending again keeps the reply's idempotency key, so VK will not show it twice even if
the lost attempt had in fact been published.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from monitor.incidents import outbox, reply_times
from monitor.titles import FAILURE_TITLES, PURPOSE_TITLES, REPLY_STATUS_TITLES

from .outcome import FAILED, UNKNOWN
from .publisher import _event

if TYPE_CHECKING:  # the Context type only: context.py imports this layer
    from monitor.context import Context

RETRYABLE = (FAILED, UNKNOWN)


class ReplyError(Exception):
    """A reply action the reply's state does not allow; the message says why."""


def _row(db, incident_id: int, reply_id: int) -> dict:
    row = outbox.reply_of(db, incident_id, reply_id)
    if row is None:
        raise ReplyError(f"У инцидента № {incident_id} нет ответа № {reply_id}")
    return row


def retry(ctx: Context, incident_id: int, reply_id: int, actor: str) -> None:
    """Put a failed or unknown reply back in the queue, to be sent at the next pass."""
    db, now = ctx.db, ctx.clock.now()
    with db.atomic():
        row = _row(db, incident_id, reply_id)
        if not outbox.requeue(db, reply_id, RETRYABLE):
            raise ReplyError(f"Ответ № {reply_id} сейчас «{REPLY_STATUS_TITLES.get(row['status'], row['status'])}»:"
                             " снова отправляют только неотправленный ответ или тот, чья судьба неизвестна")
        _event(db, incident_id, "reply_retry", now, {"reply_id": reply_id,
                                                     "previous_error": (row["error"] or "")[:500]},
               actor)


def confirm_published(ctx: Context, incident_id: int, reply_id: int, actor: str) -> None:
    """A moderator found the reply on the platform: it counts from the moment it was sent."""
    db, now = ctx.db, ctx.clock.now()
    with db.atomic():
        row = _row(db, incident_id, reply_id)
        if row["status"] != UNKNOWN:
            raise ReplyError(f"Ответ № {reply_id} сейчас «{REPLY_STATUS_TITLES.get(row['status'], row['status'])}»:"
                             " подтвердить публикацию можно только у ответа, чья судьба неизвестна")
        outbox.confirm(db, reply_id, row["claimed_at"] or now.isoformat())
        _event(db, incident_id, "reply_confirmed", now, {"reply_id": reply_id}, actor)
        reply_times.settle(ctx, incident_id)


# Failures found before any request left: there is no platform answer to show.
NOT_SENT = frozenset({"no_token", "no_account", "unsupported", "deleted", "too_long", "network"})


def replies_of(db, incident_id: int, linked: bool = False) -> list[dict]:
    """The incident's replies, oldest first, with what a person reads on the page: the
    state, what to do about a failure (`advice`), and the platform's own words only when a
    request did reach it (`platform_said`). Its own post's replies, or (`linked`) those
    under the posts linked to it (monitor.incidents.linked_answers)."""
    rows = outbox.replies(db, incident_id, linked)
    for row in rows:
        row["status_title"] = REPLY_STATUS_TITLES.get(row["status"], row["status"])
        row["purpose_title"] = PURPOSE_TITLES.get(row["purpose"], row["purpose"])
        failure = row.get("failure") or ("other" if row["error"] else "")
        row["advice"] = FAILURE_TITLES.get(failure) if row["status"] != outbox.PUBLISHED else None
        row["platform_said"] = (row["error"] if row["error"] and failure not in NOT_SENT
                                and row["status"] != outbox.PUBLISHED else None)
        row["retryable"] = row["status"] in RETRYABLE
    return rows
