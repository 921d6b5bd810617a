"""Hand-offs between the regional ЦУР and the municipal centres, and what waits on them.

A regional moderator hands an incident down to its municipality's centre (told in the
centre's Telegram chat, `chat_id` of `[[tiers.centres]]`) or takes one up; a municipal moderator may only give one of their own back to the region (a body
of the region must answer, the message is not about their municipality). Each hand-off
is an event with its reason. `waiting_on_centres` is the regional queue's view of the
municipal tier: per centre, how many open incidents wait there and for how long.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from monitor.clock import iso, parse_time

from .access import MODERATION, MUNICIPAL, may_see, scope_of
from .outbox import queue_notification
from .states import CONFIRMED, NEW, OPEN_STATUSES, Event, TransitionError, get_row, record_event
from .tiers import REGIONAL, TIERS

if TYPE_CHECKING:  # the Context type only: context.py imports this layer
    from monitor.context import Context


def may_hand_off(viewer: dict, incident: dict, to: str) -> str | None:
    """Why this viewer may not move the incident to tier `to` (None: they may)."""
    if viewer.get("role") not in MODERATION:
        return "Передавать обращения между уровнями могут только модераторы ЦУР"
    if not may_see(viewer, incident["organisation_id"], incident["municipality"], incident["tier"]):
        return "Инцидент не найден"
    if scope_of(viewer) and to != REGIONAL:
        return "Муниципальный ЦУР может только вернуть обращение в региональный ЦУР"
    return None


def hand_off(ctx: Context, incident_id: int, to: str, viewer: dict, reason: str) -> dict:
    """Move an open incident to the other tier, with an event saying why."""
    reason = " ".join((reason or "").split())[:500]
    if to not in TIERS:
        raise TransitionError(f"unknown tier {to!r}; expected one of {', '.join(TIERS)}")
    if not reason:
        raise TransitionError("Передача между уровнями требует причины")
    db, now = ctx.db, ctx.clock.now()
    with db.atomic():
        incident = get_row(db, incident_id)
        current = incident["tier"] or REGIONAL
        if why := may_hand_off(viewer, {**incident, "tier": current}, to):
            raise PermissionError(why)
        if incident["status"] not in OPEN_STATUSES:
            raise TransitionError("Передать можно только открытое обращение")
        if current == to:
            raise TransitionError("Обращение уже на этом уровне")
        centre = ctx.settings.tiers.centre_of(incident["municipality"])
        if to == MUNICIPAL and centre is None:
            raise TransitionError(f"У муниципалитета «{incident['municipality'] or '—'}» нет "
                                  "муниципального ЦУР")
        db["incidents"].update(incident_id, {"tier": to, "tier_at": iso(now), "updated_at": iso(now)})
        record_event(db, Event(incident_id, "handed_off", viewer["login"], now, incident["status"],
                               incident["status"], {"from": current, "to": to, "comment": reason,
                                                    "centre": centre.name if centre else None}))
        if to == MUNICIPAL and centre.chat_id:
            queue_notification(db, centre.chat_id, f"Инцидент №{incident_id} передан в {centre.name}"
                               f" ({viewer['login']}): {reason}", now, incident_id=incident_id)
    return db["incidents"].get(incident_id)


@dataclass(frozen=True)
class Waiting:
    """Open incidents at one municipal centre: how many, how many not yet routed by it,
    how many overdue, and the longest wait since they reached the centre."""

    centre: str
    municipalities: tuple[str, ...]
    open: int
    unrouted: int
    overdue: int
    oldest_since: datetime | None

    def waited_hours(self, now: datetime) -> float | None:
        if self.oldest_since is None:
            return None
        return round((now - self.oldest_since).total_seconds() / 3600, 1)


def waiting_on_centres(ctx: Context) -> list[Waiting]:
    """Per configured centre, its open municipal-tier incidents (the regional view)."""
    now = iso(ctx.clock.now())
    out = []
    for centre in ctx.settings.tiers.centres:
        marks = ", ".join("?" * len(centre.municipalities))
        statuses = ", ".join("?" * len(OPEN_STATUSES))
        row = ctx.db.execute(
            f"SELECT count(*), sum(status IN (?, ?)), sum(next_due_at < ?),"
            f" min(COALESCE(tier_at, opened_at)) FROM incidents"
            f" WHERE tier = ? AND municipality IN ({marks}) AND status IN ({statuses})",
            [NEW, CONFIRMED, now, MUNICIPAL, *centre.municipalities, *OPEN_STATUSES]).fetchone()
        out.append(Waiting(centre.name, centre.municipalities, row[0], row[1] or 0, row[2] or 0,
                           parse_time(row[3]) if row[3] else None))
    return out
