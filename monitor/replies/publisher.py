"""The publisher: one step sends one reply to a resident from the outbox and records its fate.

`publish_one` takes the oldest due reply of the one outbox (monitor.incidents.outbox),
claims it (a claimed row is never handed out again; the claim gives it an idempotency
key), sends it from the organisation's account through the platform's sender and
stores the outcome there with the platform's own reason. Only a reply the platform
accepted counts: the incident's `first_reply_at` and `answered_at` are set from the moment
of acceptance and cleared again when the reply that set them at approval failed
(monitor.incidents.reply_times.settle), in the same transaction as the outcome.
`run_once` drains the steps; the loop around it is assembled by the commands
(monitor.commands.replies, monitor.commands.incidents).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import httpx

from monitor.incidents import outbox, reply_times
from monitor.incidents.states import Event, record_event

from . import max_bot, ok, ok_bot, telegram, vk
from .outcome import FAILED, PUBLISHED, RETRY, UNKNOWN, Outcome
from .targets import NotPublishable, resolve, shown

if TYPE_CHECKING:  # the Context type only: context.py imports this layer
    from monitor.context import Context

log = logging.getLogger("tsur.replies")
ACTOR = "system:replies"
STUCK_AFTER = timedelta(minutes=10)  # a row `sending` this long: the publisher died mid-way
SENDERS = {"vk": (vk.send, "TSUR_VK_API_URL"), "telegram": (telegram.send, "TSUR_TELEGRAM_API_URL"),
           "max": (max_bot.send, "TSUR_MAX_API_URL"), "ok": (ok.send, "TSUR_OK_API_URL"),
           "ok_bot": (ok_bot.send, "TSUR_OK_API_URL")}
# Secrets a sender needs besides the account's token (OK signs with the application's keys).
KEYS = {"ok": ("TSUR_OK_APPLICATION_KEY", "TSUR_OK_APPLICATION_SECRET_KEY")}
TIMEOUT = httpx.Timeout(15.0, connect=5.0)


@dataclass
class Tally:
    published: int = 0
    retried: int = 0
    failed: int = 0
    unknown: int = 0

    def add(self, result: str) -> None:
        name = {PUBLISHED: "published", RETRY: "retried", FAILED: "failed", UNKNOWN: "unknown"}
        setattr(self, name[result], getattr(self, name[result]) + 1)

    @property
    def handled(self) -> int:
        return self.published + self.retried + self.failed + self.unknown

    def __str__(self) -> str:
        return (f"{self.published} replies published, {self.failed} failed, {self.unknown} "
                f"unknown, {self.retried} to retry")


def publish_one(ctx: Context, client: httpx.Client, tally: Tally | None = None) -> bool:
    """Send the oldest due reply; False when none is waiting."""
    db, now = ctx.db, ctx.clock.now()
    reply_id = outbox.next_due(db, outbox.RESIDENT, now)
    if reply_id is None:
        return False
    if not outbox.claim(db, reply_id, now):
        return True  # another publisher took it
    row = outbox.describe(db, reply_id)
    target = None
    try:
        target = resolve(ctx, row)
    except NotPublishable as error:
        outcome = Outcome.refused(error.kind, str(error))
    else:
        outcome = _send(ctx, client, target)
        log.info("reply %s (incident %s) via %s %s: %s %s", reply_id, row["incident_id"],
                 target.account, shown(target.params), outcome.result, outcome.reason or "")
    record(ctx, row, outcome, target)
    if tally is not None:
        tally.add(outcome.result)
    return True


def _send(ctx: Context, client: httpx.Client, target) -> Outcome:
    token = ctx.settings.secret(target.token_env)
    if not token:
        return Outcome.refused("no_token", f"переменная окружения {target.token_env} не задана: "
                                           f"нужен токен {target.account}")
    keys = {name: ctx.settings.secret(name) for name in KEYS.get(target.platform, ())}
    missing = [name for name, value in keys.items() if not value]
    if missing:
        return Outcome.refused("no_token", f"переменная окружения {', '.join(missing)} не задана: "
                                           f"нужны ключи {target.account}")
    send, url_var = SENDERS[target.platform]
    return send(client, ctx.settings.secret(url_var), token, target.params, *keys.values())


def record(ctx: Context, row: dict, outcome: Outcome, target=None) -> None:
    """Store the outcome of one attempt; events and reply times in the same transaction."""
    db = ctx.db
    now = ctx.clock.now()  # the moment the platform answered
    reply_id, incident_id = row["id"], row["incident_id"]
    attempts = (row.get("attempts") or 0)
    delay = outbox.next_try(attempts, outcome.retry_after) if outcome.result == RETRY else None
    with db.atomic():
        if target is not None:
            outbox.set_target(db, reply_id, target.platform, target.account)
        if outcome.result == PUBLISHED:
            outbox.mark_published(db, reply_id, outcome.external_id, now, outcome.url)
            if not row.get("linked"):  # those under linked posts are listed on the incident
                _event(db, incident_id, "reply_published", now, {
                    "reply_id": reply_id, "purpose": row["purpose"],
                    "external_id": outcome.external_id, "url": outcome.url})
        elif delay is not None:
            outbox.retry_later(db, reply_id, now + delay, outcome.reason, outcome.kind)
            return  # nothing changed for the incident: it is tried again by itself
        else:
            status = UNKNOWN if outcome.result == UNKNOWN else FAILED
            reason = outcome.reason or ""
            if outcome.result == RETRY:
                reason = f"gave up after {attempts} attempts: {reason}"
            outbox.mark_failed(db, reply_id, reason, status=status, failure=outcome.kind)
            _event(db, incident_id, f"reply_{status}", now, {
                "reply_id": reply_id, "purpose": row["purpose"], "failure": outcome.kind,
                "reason": reason[:500]})
        reply_times.settle(ctx, incident_id)


def _event(db, incident_id: int, name: str, now: datetime, data: dict, actor: str = ACTOR):
    status = db.execute("SELECT status FROM incidents WHERE id = ?", [incident_id]).fetchone()[0]
    record_event(db, Event(incident_id, name, actor, now, status, status, data))


def sweep_stuck(ctx: Context) -> int:
    """Rows left `sending` by a publisher that died: `unknown`, for a moderator to check."""
    db, now = ctx.db, ctx.clock.now()
    stuck = outbox.stuck_replies(db, now - STUCK_AFTER)
    for reply_id in stuck:
        row = outbox.describe(db, reply_id)
        reason = (f"the publisher stopped while sending (claimed at {row['claimed_at']}); "
                  "check the platform before sending again")
        with db.atomic():
            if outbox.mark_stuck(db, reply_id, reason):
                _event(db, row["incident_id"], "reply_unknown", now,
                       {"reply_id": reply_id, "purpose": row["purpose"], "failure": "unknown",
                        "reason": reason})
    return len(stuck)


def run_once(ctx: Context, client: httpx.Client, tally: Tally | None = None,
             should_stop: Callable[[], bool] = lambda: False) -> Tally:
    """Every due reply, once."""
    tally = tally or Tally()
    sweep_stuck(ctx)
    while not should_stop() and publish_one(ctx, client, tally):
        pass
    return tally

