"""Notifications to the moderators' (and supervisors') Telegram chats through the bot.

The workflow queues them in the one outbox (monitor.incidents.outbox, audience `staff`),
beside the replies to residents; `send_one` claims the oldest due one there and sends it
through the one Telegram sender (monitor.replies.telegram, which replies to residents
use too), so both agree on what happened (monitor.replies.outcome). A claimed row is
never handed out again: it ends `sent`, or goes back to `pending` only when Telegram did
not take the message (`retry`), never after a request that got no answer (`unknown`: it
may have been delivered). Thus nothing is sent twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

from monitor.incidents import outbox

from . import telegram
from .outcome import PUBLISHED, RETRY, UNKNOWN

if TYPE_CHECKING:  # the Context type only: context.py imports this layer
    from monitor.context import Context


class NotifyError(Exception):
    """Notifications cannot be sent at all (no token); the message says what to set."""


def send_one(ctx: Context, client: httpx.Client) -> bool:
    """Send the oldest due notification; False when none is waiting."""
    db, now = ctx.db, ctx.clock.now()
    token = ctx.settings.secret("TSUR_TELEGRAM_BOT_TOKEN")
    if not token:
        if outbox.waiting(db, outbox.STAFF):
            raise NotifyError("TSUR_TELEGRAM_BOT_TOKEN is not set: notifications stay queued "
                              "until the bot token is given")
        return False
    row_id = outbox.next_due(db, outbox.STAFF, now)
    if row_id is None:
        return False
    if not outbox.claim(db, row_id, now):
        return True  # another worker took it
    row = outbox.get(db, row_id)
    outcome = telegram.send(client, ctx.settings.secret("TSUR_TELEGRAM_API_URL"), token,
                            {"chat_id": row["chat_id"], "text": row["text"],
                             "disable_web_page_preview": True})
    if outcome.result == PUBLISHED:
        outbox.mark_sent(db, row_id, now)
    elif outcome.result == RETRY:
        delay, reason = outbox.next_try(row["attempts"], outcome.retry_after), outcome.reason or ""
        if delay is None:
            outbox.mark_failed(db, row_id, f"gave up after {row['attempts']} attempts: {reason}")
        else:
            outbox.retry_later(db, row_id, now + delay, reason)
    elif outcome.result == UNKNOWN:  # sent, but no answer: it may have arrived
        outbox.mark_failed(db, row_id, f"no answer, maybe delivered (not resent): {outcome.reason}")
    else:  # chat not found, bad token, bot kicked: a person must fix it
        outbox.mark_failed(db, row_id, outcome.reason or outcome.kind or "refused")
    return True
