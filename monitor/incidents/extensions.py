"""«Перенос срока»: an executor asks for a later deadline, the ЦУР decides.

An official (or a moderator on their behalf) asks to move one running deadline of an
open incident to a later local date, with a reason and optionally the date the fix is
planned for («замена трубы — до 15 мая, после отопительного сезона»). A moderator
approves it, approves it with another date, or refuses it with a comment. The policy
(`[extensions]` in tsur.toml) limits which targets may move, how many extensions an
incident may get and how many days past the deadline in force. An approved date
becomes the target's deadline (monitor.incidents.deadlines) from the end of that local
day, with an event; an extension approved while an earlier one stood is `repeated`,
counted in the ratings.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from monitor.clock import iso, parse_time
from monitor.titles import TARGET_TITLES

from .access import MODERATION, may_see, visible_to
from .deadlines import DUE_COLUMNS, met_at, recompute
from .outbox import queue_notification
from .states import OPEN_STATUSES, Event, get_row, record_event

if TYPE_CHECKING:  # the Context type only: context.py imports this layer
    from monitor.context import Context

REQUEST_ROLES = MODERATION | {"official"}
DECIDE_ROLES = MODERATION
DECISIONS = ("approve", "change", "refuse")
END_OF_DAY = time(23, 59)  # an approved date runs to the end of that local day
PENDING, APPROVED, REFUSED = "pending", "approved", "refused"


class ExtensionError(Exception):
    """A request or a decision the policy or the incident's state does not allow."""


class NotAllowed(ExtensionError, PermissionError):
    """This viewer may not do it (their role, or the incident is not theirs to see)."""


def _check_viewer(viewer: dict, incident: dict, roles) -> None:
    if not may_see(viewer, incident["organisation_id"], incident["municipality"], incident["tier"]):
        raise NotAllowed("Инцидент не найден")
    if viewer.get("role") not in roles:
        raise NotAllowed("Это действие недоступно вашей роли")


def _end_of(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, END_OF_DAY, tzinfo=zone)


def _check_date(ctx: Context, old_due: datetime, day: date) -> datetime:
    """The deadline a date stands for, if the policy allows moving `old_due` there."""
    zone = ZoneInfo(ctx.settings.timezone)
    days = (day - old_due.astimezone(zone).date()).days
    limit = ctx.settings.extensions.max_days
    if days <= 0:
        raise ExtensionError("Новый срок должен быть позже действующего "
                             f"({old_due.astimezone(zone):%d.%m.%Y})")
    if days > limit:
        raise ExtensionError(f"Срок можно перенести не больше чем на {limit:g} дн. "
                             f"(запрошено {days})")
    return _end_of(day, zone)


def _approved_count(db, incident_id: int) -> int:
    return db.execute("SELECT count(*) FROM extensions WHERE incident_id = ? AND status = ?",
                      [incident_id, APPROVED]).fetchone()[0]


def _check_count(ctx: Context, incident_id: int) -> None:
    limit = ctx.settings.extensions.max_per_incident
    if _approved_count(ctx.db, incident_id) >= limit:
        raise ExtensionError(f"Лимит переносов срока исчерпан: не больше {limit} на обращение")


def running_due(ctx: Context, incident: dict, target: str) -> datetime:
    """The deadline of `target` now in force, if the policy lets it move at all."""
    if target not in ctx.settings.extensions.targets:
        allowed = ", ".join(TARGET_TITLES[t] for t in ctx.settings.extensions.targets) or "—"
        raise ExtensionError(f"Перенести можно только эти сроки: {allowed}")
    if incident["status"] not in OPEN_STATUSES:
        raise ExtensionError("Срок переносят только у открытого обращения")
    due = incident.get(DUE_COLUMNS[target])
    if not due or met_at(incident, target) is not None:
        raise ExtensionError(f"Срок «{TARGET_TITLES[target]}» сейчас не идёт")
    return parse_time(due)


def request_extension(ctx: Context, incident_id: int, viewer: dict, target: str, until: date,
                      reason: str, planned_fix: date | None = None) -> int:
    """Ask to move a running deadline of an incident to the end of `until`."""
    reason = (reason or "").strip()[:2000]
    if not reason:
        raise ExtensionError("Укажите причину переноса срока")
    db, now = ctx.db, ctx.clock.now()
    with db.atomic():
        incident = get_row(db, incident_id)
        _check_viewer(viewer, incident, REQUEST_ROLES)
        old_due = running_due(ctx, incident, target)
        if db.execute("SELECT 1 FROM extensions WHERE incident_id = ? AND status = ?",
                      [incident_id, PENDING]).fetchone():
            raise ExtensionError("Предыдущий запрос переноса ещё ждёт решения")
        _check_count(ctx, incident_id)
        wanted = _check_date(ctx, old_due, until)
        extension_id = db["extensions"].insert({
            "incident_id": incident_id, "target": target, "status": PENDING,
            "requested_by": viewer["login"], "requested_at": iso(now), "reason": reason,
            "old_due": iso(old_due), "requested_due": iso(wanted),
            "planned_fix": planned_fix.isoformat() if planned_fix else None}).last_pk
        record_event(db, Event(incident_id, "extension_requested", viewer["login"], now,
                               incident["status"], incident["status"], {
                                   "extension_id": extension_id, "target": target,
                                   "due": iso(wanted), "comment": reason,
                                   "planned_fix": planned_fix.isoformat() if planned_fix else None}))
        if chat := ctx.settings.workflow.moderators_chat_id:
            local = wanted.astimezone(ZoneInfo(ctx.settings.timezone))
            queue_notification(db, chat, f"Инцидент №{incident_id}: {viewer['login']} просит перенести "
                               f"срок «{TARGET_TITLES[target]}» на {local:%d.%m.%Y}: {reason[:300]}",
                               now, once_key=f"extension:{extension_id}", incident_id=incident_id)
    return extension_id


def decide_extension(ctx: Context, extension_id: int, viewer: dict, decision: str,
                     until: date | None = None, comment: str = "") -> dict:
    """Approve (as asked), change (approve another date) or refuse a pending request."""
    if decision not in DECISIONS:
        raise ExtensionError(f"unknown decision {decision!r}; expected one of {', '.join(DECISIONS)}")
    comment = (comment or "").strip()[:2000]
    db, now = ctx.db, ctx.clock.now()
    with db.atomic():
        rows = list(db["extensions"].rows_where("id = ?", [extension_id]))
        if not rows:
            raise NotAllowed("Запрос переноса не найден")
        extension = rows[0]
        incident = get_row(db, extension["incident_id"])
        _check_viewer(viewer, incident, DECIDE_ROLES)
        if extension["status"] != PENDING:
            raise ExtensionError("По этому запросу уже принято решение")
        changes = {"decided_by": viewer["login"], "decided_at": iso(now), "comment": comment or None}
        if decision == "refuse":
            if not comment:
                raise ExtensionError("Отказ в переносе срока требует комментария")
            changes["status"] = REFUSED
            event, data = "extension_refused", {"comment": comment}
        else:
            old_due = running_due(ctx, incident, extension["target"])
            _check_count(ctx, incident["id"])
            if decision == "change" and until is None:
                raise ExtensionError("Укажите новую дату срока")
            asked = parse_time(extension["requested_due"]).astimezone(ZoneInfo(ctx.settings.timezone))
            # against the deadline in force now: it may have moved since the request
            new_due = _check_date(ctx, old_due, until if decision == "change" else asked.date())
            repeated = int(_approved_count(db, incident["id"]) > 0)
            changes |= {"status": APPROVED, "new_due": iso(new_due), "old_due": iso(old_due),
                        "repeated": repeated}
            event, data = "extension_approved", {"old_due": iso(old_due), "due": iso(new_due),
                                                 "repeated": bool(repeated),
                                                 "changed": decision == "change",
                                                 **({"comment": comment} if comment else {})}
        db["extensions"].update(extension_id, changes)
        record_event(db, Event(incident["id"], event, viewer["login"], now, incident["status"],
                               incident["status"], {"extension_id": extension_id,
                                                    "target": extension["target"], **data}))
        recompute(ctx, incident["id"])
    return db["extensions"].get(extension_id)


def extensions_of(db, incident_id: int) -> list[dict]:
    """Every request of an incident, oldest first (the caller has checked visibility)."""
    return list(db["extensions"].rows_where("incident_id = ?", [incident_id], order_by="id"))


def pending_requests(db, viewer: dict) -> list[dict]:
    """Requests waiting for a decision that this viewer may see, oldest first."""
    where, params = visible_to(viewer)
    return list(db.query(
        f"SELECT e.*, i.municipality, i.topic, o.name AS organisation_name FROM extensions e"
        f" JOIN incidents i ON i.id = e.incident_id"
        f" LEFT JOIN organisations o ON o.id = i.organisation_id"
        f" WHERE e.status = ? AND {where} ORDER BY e.requested_at, e.id", [PENDING, *params]))
