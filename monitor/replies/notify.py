"""Notifications to the moderators' (and supervisors') Telegram chats through the bot.

The workflow queues rows in `notifications` (monitor.incidents.outbox); `send_one`
claims one row with a conditional UPDATE and sends it through the one Telegram sender
(monitor.replies.telegram, which replies to residents use too), so both agree on what
happened (monitor.replies.outcome). A claimed row is never handed out again: it ends
`sent`, or goes back to `pending` only when Telegram did not take the message (`retry`),
never after a request that got no answer (`unknown`: it may have been delivered).
Thus nothing is sent twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import httpx
from sqlite_utils import Database

from monitor.clock import iso
from monitor.incidents.outbox import NOTICE_PENDING as PENDING

from . import telegram
from .outcome import PUBLISHED, RETRY, UNKNOWN

if TYPE_CHECKING:  # the Context type only: context.py imports this layer
    from monitor.context import Context

SENDING, SENT, FAILED = "sending", "sent", "failed"
MAX_ATTEMPTS = 5


class NotifyError(Exception):
    """Notifications cannot be sent at all (no token); the message says what to set."""


def _claim_next(db: Database, now: datetime) -> dict | None:
    row = db.execute(
        "SELECT id FROM notifications WHERE status = ? AND (not_before IS NULL OR not_before <= ?)"
        " ORDER BY id LIMIT 1", [PENDING, iso(now)]).fetchone()
    if row is None:
        return None
    with db.atomic():
        claimed = db.execute(
            "UPDATE notifications SET status = ?, claimed_at = ?, attempts = attempts + 1"
            " WHERE id = ? AND status = ?", [SENDING, iso(now), row[0], PENDING]).rowcount
    return db["notifications"].get(row[0]) if claimed == 1 else {}


def send_one(ctx: Context, client: httpx.Client) -> bool:
    """Send the oldest due notification; False when none is waiting."""
    db, now = ctx.db, ctx.clock.now()
    token = ctx.settings.secret("TSUR_TELEGRAM_BOT_TOKEN")
    if not token:
        if db.execute("SELECT 1 FROM notifications WHERE status = ? LIMIT 1", [PENDING]).fetchone():
            raise NotifyError("TSUR_TELEGRAM_BOT_TOKEN is not set: notifications stay queued "
                              "until the bot token is given")
        return False
    row = _claim_next(db, now)
    if row is None:
        return False
    if not row:  # another worker took it
        return True
    outcome = telegram.send(client, ctx.settings.secret("TSUR_TELEGRAM_API_URL"), token,
                            {"chat_id": row["chat_id"], "text": row["text"],
                             "disable_web_page_preview": True})
    if outcome.result == PUBLISHED:
        with db.atomic():
            db["notifications"].update(row["id"], {"status": SENT, "sent_at": iso(now),
                                                   "error": None})
    elif outcome.result == RETRY:
        _retry(db, row, now, outcome.reason or "", outcome.retry_after)
    elif outcome.result == UNKNOWN:  # sent, but no answer: it may have arrived
        _finish(db, row["id"], FAILED, f"no answer, maybe delivered (not resent): {outcome.reason}")
    else:  # chat not found, bad token, bot kicked: a person must fix it
        _finish(db, row["id"], FAILED, outcome.reason or outcome.kind or "refused")
    return True


def _retry(db: Database, row: dict, now: datetime, error: str, retry_after=None) -> None:
    if row["attempts"] >= MAX_ATTEMPTS:
        _finish(db, row["id"], FAILED, f"gave up after {row['attempts']} attempts: {error}")
        return
    delay = timedelta(seconds=int(retry_after)) if retry_after else timedelta(
        minutes=2 ** row["attempts"])
    with db.atomic():
        db["notifications"].update(row["id"], {"status": PENDING, "error": error[:1000],
                                               "not_before": iso(now + delay)})


def _finish(db: Database, notification_id: int, status: str, error: str) -> None:
    with db.atomic():
        db["notifications"].update(notification_id, {"status": status, "error": error[:1000]})
