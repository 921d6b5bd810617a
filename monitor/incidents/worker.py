"""The deadline worker: warnings, breaches, escalations, reminders, notifications.

Each step does one unit of work and says whether more may be waiting:
`handle_due` takes the incident whose `next_check_at` has come (claimed with a
conditional UPDATE), records what is due as events that happen once (a unique key
per target and due moment; `occurred_at` is the computed moment, not the moment the
worker noticed), escalates a breach up the organisation's chain (the first breach of
an incident to its head, later ones to the head's head; monitor.incidents.chain) and
to the ЦУР, closes an incident whose author never answered the question, and queues
Telegram notifications in the one outbox (monitor.incidents.outbox); `send_one`
(monitor.replies.notify) sends one of those. `run` drains both, publishes the replies
to residents waiting in the same outbox (monitor.replies), then sleeps in one-second
slices until stopped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from monitor.clock import iso, parse_time
from monitor.titles import TARGET_TITLES

from .access import MUNICIPAL
from .chain import escalation_step
from .deadlines import DUE_COLUMNS, Planned, planned, recompute, recorded_keys
from .lifecycle import act
from .outbox import queue_notification, queue_reply
from .states import Event, get_row, record_event

if TYPE_CHECKING:  # the Context type only: context.py imports this layer
    from monitor.context import Context

log = logging.getLogger(__name__)
ACTOR = "system:worker"
RETRY_LATER = timedelta(hours=1)  # an incident whose check raised is looked at again then

REMINDER = ("Здравствуйте! Напоминаем: чтобы мы могли передать ваше обращение исполнителю, "
            "уточните, пожалуйста, адрес и подробности проблемы.")


def handle_due(ctx: Context) -> bool:
    """Process the incident whose next check is the oldest one due; False if none is."""
    db, now = ctx.db, ctx.clock.now()
    row = db.execute("SELECT id, next_check_at FROM incidents WHERE next_check_at <= ?"
                     " ORDER BY next_check_at, id LIMIT 1", [iso(now)]).fetchone()
    if row is None:
        return False
    incident_id, check_at = row
    with db.atomic():
        claimed = db.execute("UPDATE incidents SET next_check_at = ? WHERE id = ?"
                             " AND next_check_at = ?",
                             [iso(now + RETRY_LATER), incident_id, check_at]).rowcount
        if claimed != 1:
            return True  # another worker took it
        try:
            with db.atomic():
                _process(ctx, incident_id, now)
        except Exception:  # a broken incident must not stop the queue: retry in an hour
            log.exception("incident %s: deadline check failed; next try in an hour", incident_id)
    return True


def _process(ctx: Context, incident_id: int, now) -> None:
    db = ctx.db
    incident = get_row(db, incident_id)
    dues = {t: parse_time(incident[c]) if incident[c] else None for t, c in DUE_COLUMNS.items()}
    for action in planned(incident, ctx.settings, dues, recorded_keys(db, incident_id)):
        if action.moment > now:
            break
        HANDLERS[action.kind](ctx, get_row(db, incident_id), action, now)
    recompute(ctx, incident_id)


def _warn(ctx: Context, incident, action: Planned, now) -> None:
    if now >= action.due:  # noticed too late to warn: the breach says it all
        return
    data = {"target": action.target, "due": iso(action.due)}
    if record_event(ctx.db, Event(incident["id"], "deadline_warning", ACTOR, action.moment,
                                  incident["status"], incident["status"], data, action.once_key)):
        _tell_moderators(ctx, incident, action.once_key,
                         f"⏳ Скоро срок: {TARGET_TITLES[action.target]} до "
                         f"{_local(ctx, action.due)}")


def _breach(ctx: Context, incident, action: Planned, now) -> None:
    db = ctx.db
    data = {"target": action.target, "due": iso(action.due)}
    if not record_event(db, Event(incident["id"], "deadline_breached", ACTOR, action.due,
                                  incident["status"], incident["status"], data, action.once_key)):
        return
    org = _organisation(ctx, incident["organisation_id"])
    step = escalation_step(org, incident["escalations"] or 0)
    escalated_to = [x for x in (step.title if step else None, "ЦУР") if x]
    record_event(db, Event(incident["id"], "escalated", ACTOR, action.due, incident["status"],
                           incident["status"], {**data, "to": escalated_to,
                                                "level": step.level if step else 0},
                           action.once_key.replace(":breach", ":escalation")))
    db.execute("UPDATE incidents SET escalations = escalations + 1 WHERE id = ?", [incident["id"]])
    text = (f"🔴 Просрочено: {TARGET_TITLES[action.target]}, срок был {_local(ctx, action.due)}. "
            f"Эскалация: {', '.join(escalated_to)}")
    _tell_moderators(ctx, incident, action.once_key, text)
    if step and step.chat_id:
        queue_notification(db, step.chat_id, _describe(ctx, incident, text), now,
                     once_key=f"{action.once_key}:supervisor", incident_id=incident["id"])
    centre = ctx.settings.tiers.centre_of(incident["municipality"])
    if incident["tier"] == MUNICIPAL and centre and centre.chat_id:  # the centre moderates it
        queue_notification(db, centre.chat_id, _describe(ctx, incident, text), now,
                           once_key=f"{action.once_key}:centre", incident_id=incident["id"])


def _remind(ctx: Context, incident, action: Planned, now) -> None:
    if record_event(ctx.db, Event(incident["id"], "info_reminder", ACTOR, action.moment,
                                  incident["status"], incident["status"], {}, action.once_key)):
        queue_reply(ctx.db, incident, "info_reminder", REMINDER, now)


def _close_unanswered(ctx: Context, incident, action: Planned, now) -> None:
    act(ctx, incident["id"], "close_unanswered", ACTOR,
        comment=f"автор не ответил на вопрос за {ctx.settings.workflow.info_close_hours:g} ч")


def _auto_close(ctx: Context, incident, action: Planned, now) -> None:
    act(ctx, incident["id"], "close", ACTOR,
        comment=f"никто не оспорил решение за {ctx.settings.workflow.auto_close_hours:g} ч")


HANDLERS: dict[str, Callable] = {"deadline_warning": _warn, "deadline_breached": _breach,
                                 "info_reminder": _remind, "info_close": _close_unanswered,
                                 "auto_close": _auto_close}


def _organisation(ctx: Context, organisation_id):
    if not organisation_id:
        return None
    row = ctx.db.execute("SELECT key FROM organisations WHERE id = ?", [organisation_id]).fetchone()
    return ctx.settings.organisation(row[0]) if row else None


def _local(ctx: Context, moment) -> str:
    return moment.astimezone(ZoneInfo(ctx.settings.timezone)).strftime("%d.%m %H:%M")


def _describe(ctx: Context, incident, text: str) -> str:
    org = _organisation(ctx, incident["organisation_id"])
    return (f"Инцидент №{incident['id']} ({incident['municipality'] or 'место не указано'}, "
            f"{incident['topic']}, {incident['urgency']}; "
            f"{org.name if org else 'очередь ЦУР'}): {text}")


def _tell_moderators(ctx: Context, incident, once_key: str, text: str) -> None:
    chat = ctx.settings.workflow.moderators_chat_id
    if chat:
        queue_notification(ctx.db, chat, _describe(ctx, incident, text), ctx.clock.now(),
                     once_key=once_key, incident_id=incident["id"])

