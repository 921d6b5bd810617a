"""The states of an incident and the only ways to move between them.

    new ─confirm─► confirmed ─assign─► assigned ─submit_draft─► draft_review
     │                                   ▲  ▲                     │  │  │
     └──reject (reason)──► rejected      │  └──return_draft───────┘  │  │
                                         │            approve_interim │  │ approve_final
                                         │         in_progress ◄──────┘  ▼
                                         │              │ (final draft)  answered
                                         └──reopen──────┴──resolve──► resolved ─close─► closed

`ask_info` parks an open incident in `needs_info` (the deadlines pause) until
`info_received` puts it back where it was; an author who never answers gets a notice
and the incident is closed by the worker (`close_unanswered`, after
`workflow.info_close_hours`). Only the first interim answer of a cycle starts the
final-answer clock: a further one keeps it (only an approved extension moves it,
monitor.incidents.extensions). Every change is an append-only row in
incident_events with actor and time; an action that the current state does not
allow is refused with a message saying why. Deadlines are recomputed in the same
transaction as the change. Beside the transitions: what each action changes besides the
status (its effects) and who may take it from a page (`ACTION_ROLES`); the states and
events themselves are in monitor.incidents.states.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlite_utils import Database

from monitor.clock import iso
from monitor.titles import ACTION_TITLES, QUALITY_TITLES, STATUS_TITLES

from . import linked_answers, outbox, reply_times
from .access import MODERATION, MUNICIPAL
from .deadlines import recompute
from .quality import MARKS
from .repeats import link_by_hand, unlink
from .routing import pick_official, route
from .states import (
    ANSWERED,
    ASSIGNED,
    CLOSED,
    CONFIRMED,
    DRAFT_REVIEW,
    IN_PROGRESS,
    NEEDS_INFO,
    NEW,
    OPEN_STATUSES,
    REJECTED,
    RESOLVED,
    STATUSES,
    Event,
    TransitionError,
    get_row,
    record_event,
)
from .tiers import REGIONAL, initial_tier, organisation_key

if TYPE_CHECKING:  # the Context type only: context.py imports this layer
    from monitor.context import Context

REJECT_REASONS = {
    "spam": "спам или реклама",
    "not_a_problem": "не проблема",
    "duplicate": "дубликат",
    "outside_region": "за пределами региона",
}

SAME = "same"  # the action keeps the status
BACK = "back"  # the status the incident had before it entered the current one

# action -> (statuses it may start from, status it leads to)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "confirm": ((NEW,), CONFIRMED),
    "reject": ((NEW, CONFIRMED, ASSIGNED, NEEDS_INFO), REJECTED),
    "assign": ((NEW, CONFIRMED, ASSIGNED, DRAFT_REVIEW, IN_PROGRESS), ASSIGNED),
    "acknowledge": ((NEW, CONFIRMED, ASSIGNED, DRAFT_REVIEW, IN_PROGRESS), SAME),
    "submit_draft": ((ASSIGNED, IN_PROGRESS), DRAFT_REVIEW),
    "return_draft": ((DRAFT_REVIEW,), BACK),
    "approve_final": ((DRAFT_REVIEW,), ANSWERED),
    "approve_interim": ((DRAFT_REVIEW,), IN_PROGRESS),
    "ask_info": ((NEW, CONFIRMED, ASSIGNED, IN_PROGRESS), NEEDS_INFO),
    "info_received": ((NEEDS_INFO,), BACK),
    "resolve": ((ANSWERED, IN_PROGRESS), RESOLVED),
    "close": ((RESOLVED,), CLOSED),
    "reopen": ((ANSWERED, RESOLVED, CLOSED), ASSIGNED),
    "link_repeat": ((NEW, CONFIRMED, ASSIGNED, NEEDS_INFO), REJECTED),
    "unlink_repeat": (STATUSES, SAME),
    "relabel": (OPEN_STATUSES, SAME),
    "close_unanswered": ((NEEDS_INFO,), CLOSED),  # the worker, after info_close_hours
}


# Who may take each action (moderation: the ЦУР's moderators and admins); residents act
# through their replies and the system through the worker, never through a page.
ACTION_ROLES: dict[str, frozenset[str]] = {
    "confirm": MODERATION, "reject": MODERATION, "assign": MODERATION,
    "ask_info": MODERATION, "info_received": MODERATION, "return_draft": MODERATION,
    "approve_final": MODERATION, "approve_interim": MODERATION, "close": MODERATION,
    "reopen": MODERATION, "resolve": MODERATION | {"official"},
    "submit_draft": MODERATION | {"official"},
    "acknowledge": MODERATION, "link_repeat": MODERATION, "unlink_repeat": MODERATION,
    "relabel": MODERATION,
}

# What each action needs in **data, with the sentence (for the person acting) that says so.
REQUIRED = {
    "reject": ("reason", "Чтобы отклонить инцидент, выберите причину: " + ", ".join(REJECT_REASONS.values())),
    "assign": ("organisation_id", "Выберите организацию, в которую направить инцидент"),
    "acknowledge": ("text", "Впишите текст первого ответа автору"),
    "submit_draft": ("text", "Впишите текст черновика ответа"),
    "return_draft": ("comment", "Напишите, что доработать в черновике: без этого его не вернуть"),
    "ask_info": ("text", "Впишите вопрос автору: пустой вопрос не отправляется"),
    "link_repeat": ("repeat_of", "Укажите номер инцидента, повтором которого является этот"),
    "unlink_repeat": ("post_id", "Укажите сообщение-повтор, которое нужно отвязать"),
    "relabel": ("labels", "Укажите исправленные метки"),
}

FEEDBACK_QUESTION = ("Здравствуйте! По вашему обращению сообщили, что проблема решена. "
                     "Это так? Ответьте, пожалуйста, «да» или «нет» и оцените работу от 1 до 5.")
UNANSWERED_NOTICE = ("Здравствуйте! Мы не получили от вас уточнений по обращению, поэтому закрываем "
                     "его. Если проблема осталась, напишите нам снова, указав адрес и суть проблемы.")


def _previous_status(db: Database, incident_id: int, status: str) -> str | None:
    row = db.execute(
        "SELECT old_status FROM incident_events WHERE incident_id = ? AND new_status = ?"
        " AND old_status IS NOT NULL AND old_status != new_status ORDER BY id DESC LIMIT 1",
        [incident_id, status]).fetchone()
    return row[0] if row else None


def may_act(role: str, action: str, data: dict | None = None) -> bool:
    """Whether a person of this role may take the action from a page, with this data."""
    return role in ACTION_ROLES.get(action, ()) and refused_data(role, action, data or {}) is None


# Data an action carries that only some roles may give, and why: an official's words reach
# a resident only through a draft a moderator approved.
DATA_ROLES: dict[tuple[str, str], tuple[frozenset[str], str]] = {
    ("resolve", "text"): (MODERATION, "Текст ответа жителю уходит только через черновик, утверждённый "
                                      "модератором: отправьте черновик, а решение отметьте без текста"),
}


def refused_data(role: str, action: str, data: dict) -> str | None:
    """Why this role may not give this data with the action (None: it may)."""
    for name, value in data.items():
        roles, why = DATA_ROLES.get((action, name), (None, ""))
        if value and roles is not None and role not in roles:
            return why
    return None


def allowed_actions(role: str, status: str | None = None) -> list[str]:
    """The actions this role may take from a page; with `status`, only those the state allows."""
    return sorted(a for a, roles in ACTION_ROLES.items()
                  if role in roles and (status is None or status in TRANSITIONS[a][0]))


def next_status(db: Database, incident: dict, action: str) -> str:
    if action not in TRANSITIONS:
        raise TransitionError(f"Неизвестное действие «{action}»")
    allowed, target = TRANSITIONS[action]
    current = incident["status"]
    if current not in allowed:
        names = ", ".join(STATUS_TITLES[s] for s in allowed)
        raise TransitionError(
            f"Инцидент № {incident['id']} сейчас «{STATUS_TITLES[current]}»: действие "
            f"«{ACTION_TITLES.get(action, action)}» возможно только в состояниях: {names}"
        )
    if target == SAME:
        return current
    if target == BACK:  # to where it was before the question / the draft
        fallback = CONFIRMED if current == NEEDS_INFO else ASSIGNED
        return _previous_status(db, incident["id"], current) or fallback
    return target


def act(ctx: Context, incident_id: int, action: str, actor: str, **data) -> dict:
    """Apply a moderator's, official's or resident's action; returns the updated row.

    Everything — the status, the event, drafts, queued replies and the recomputed
    deadlines — is written in one transaction or not at all.
    """
    db = ctx.db
    now = ctx.clock.now()
    data = {k: v for k, v in data.items() if v not in (None, "")}
    with db.atomic():
        incident = get_row(db, incident_id)
        target = next_status(db, incident, action)
        if action in REQUIRED and not data.get(REQUIRED[action][0]):
            raise TransitionError(REQUIRED[action][1])
        if action == "reject" and data["reason"] not in REJECT_REASONS:
            raise TransitionError(REQUIRED["reject"][1])
        changes = {"status": target, "updated_at": iso(now)}
        effect = EFFECTS.get(action)
        if effect:
            changes |= effect(ctx, incident, now, actor, data)
        db["incidents"].update(incident_id, changes)
        record_event(db, Event(incident_id, action, actor, now, incident["status"], target, data))
        after = AFTER.get(action)
        if after:
            after(ctx, {**incident, **changes}, now, actor, data)
        recompute(ctx, incident_id)
    return db["incidents"].get(incident_id)


# --- what each action changes besides the status --------------------------------------


def _assign(ctx: Context, incident, now, actor, data) -> dict:
    db = ctx.db
    try:
        org_id = int(data["organisation_id"])
    except (TypeError, ValueError):
        raise TransitionError(f"Организация «{data['organisation_id']}» указана не номером") from None
    if not db.execute("SELECT 1 FROM organisations WHERE id = ?", [org_id]).fetchone():
        raise TransitionError(f"Организации № {org_id} нет: выберите организацию из списка")
    data["organisation_id"] = org_id
    if incident["organisation_id"] and incident["organisation_id"] != org_id:
        data["from_organisation_id"] = incident["organisation_id"]  # re-routing keeps history
    _withdraw_pending_drafts(db, incident["id"], now, actor)
    assignee = pick_official(ctx, org_id) if ctx.settings.workflow.round_robin else None
    if assignee:
        data["assignee_id"] = assignee
    changes = {"organisation_id": org_id, "assignee_id": assignee,
               "executor_at": incident["executor_at"] or iso(now), "assigned_at": iso(now),
               "draft_at": None}
    if incident["tier"] == MUNICIPAL and organisation_key(ctx.db, org_id) in \
            ctx.settings.tiers.regional_organisations:  # a regional body's incident is the region's
        changes |= {"tier": REGIONAL, "tier_at": iso(now)}
        data["tier"] = REGIONAL
    return changes


def _withdraw_pending_drafts(db, incident_id, now, actor) -> None:
    db.execute("UPDATE drafts SET status = 'withdrawn', decided_at = ?, moderator = ?"
               " WHERE incident_id = ? AND status = 'pending'", [iso(now), actor, incident_id])


def _pending_draft(db, incident_id) -> dict:
    rows = list(db["drafts"].rows_where("incident_id = ? AND status = 'pending'", [incident_id],
                                        order_by="id desc", limit=1))
    if not rows:
        raise TransitionError(f"У инцидента № {incident_id} нет черновика, ждущего проверки")
    return rows[0]


def _submit_draft(ctx: Context, incident, now, actor, data) -> dict:
    draft_id = ctx.db["drafts"].insert({
        "incident_id": incident["id"], "text": data.pop("text"), "author": actor,
        "status": "pending", "created_at": iso(now),
    }).last_pk
    data["draft_id"] = draft_id
    return {"draft_at": iso(now)}


def _return_draft(ctx: Context, incident, now, actor, data) -> dict:
    draft = _pending_draft(ctx.db, incident["id"])
    ctx.db["drafts"].update(draft["id"], {"status": "returned", "moderator": actor,
                                          "comment": data["comment"], "decided_at": iso(now)})
    data["draft_id"] = draft["id"]
    return {"draft_at": None}  # the draft target is met only by an acceptable draft


def _approve(kind: str):
    def effect(ctx: Context, incident, now, actor, data) -> dict:
        draft = _pending_draft(ctx.db, incident["id"])
        text = data.pop("text", None) or draft["text"]
        decision = {"status": "approved", "kind": kind, "moderator": actor, "decided_at": iso(now)}
        if mark := data.get("quality"):  # the answer's quality, marked while approving
            if mark not in MARKS:
                raise TransitionError(f"Неизвестная оценка качества «{mark}»; есть: "
                                      f"{', '.join(QUALITY_TITLES.get(m, m) for m in MARKS)}")
            decision |= {"quality": mark, "quality_by": actor, "quality_at": iso(now)}
        ctx.db["drafts"].update(draft["id"], decision)
        purpose = "interim" if kind == "interim" else "answer"
        reply_id = outbox.queue_reply(ctx.db, incident, purpose, text, now, draft_id=draft["id"])
        data.update(draft_id=draft["id"], reply_id=reply_id, edited=text != draft["text"])
        if linked := linked_answers.queue_all(ctx, incident, purpose, text, now, draft_id=draft["id"]):
            data["linked_replies"] = linked
        changes = reply_times.on_queued(incident, purpose, now)
        if kind == "interim" and not incident["interim_at"]:
            changes["interim_at"] = iso(now)
        elif kind == "interim":  # a further interim answer does not restart the clock
            data["clock_kept"] = incident["interim_at"]
        return changes
    return effect


def _acknowledge(ctx: Context, incident, now, actor, data) -> dict:
    data["reply_id"] = outbox.queue_reply(ctx.db, incident, "acknowledgement", data.pop("text"), now)
    return reply_times.on_queued(incident, "acknowledgement", now)


def _ask_info(ctx: Context, incident, now, actor, data) -> dict:
    text = data.pop("text")
    data["reply_id"] = outbox.queue_reply(ctx.db, incident, "info_request", text, now)
    # The question is a public reply: it meets the first-reply target.
    return {"info_asked_at": iso(now), **reply_times.on_queued(incident, "info_request", now)}


def _resolve(ctx: Context, incident, now, actor, data) -> dict:
    changes = {"resolved_at": iso(now)}
    if text := data.pop("text", None):  # the final answer given together with the result
        data["reply_id"] = outbox.queue_reply(ctx.db, incident, "answer", text, now)
        if linked := linked_answers.queue_all(ctx, incident, "answer", text, now):
            data["linked_replies"] = linked
        changes |= reply_times.on_queued(incident, "answer", now)
    return changes


def _close(ctx: Context, incident, now, actor, data) -> dict:
    return {"closed_at": iso(now)}


def _close_unanswered(ctx: Context, incident, now, actor, data) -> dict:
    """The author never answered the question: tell them, and close."""
    data["reply_id"] = outbox.queue_reply(ctx.db, incident, "info_closed", UNANSWERED_NOTICE, now)
    return {"closed_at": iso(now)}


def _reopen(ctx: Context, incident, now, actor, data) -> dict:
    """A new cycle for the same organisation: a new draft, a new answer."""
    return {"assigned_at": iso(now), "draft_at": None, "interim_at": None,
            **reply_times.on_new_cycle(), "resolved_at": None, "closed_at": None,
            "reopened": (incident["reopened"] or 0) + 1}


def _link_repeat(ctx: Context, incident, now, actor, data) -> dict:
    link_by_hand(ctx, incident, data, now, actor)
    data["reason"] = "duplicate"
    return {}


def _unlink_repeat(ctx: Context, incident, now, actor, data) -> dict:
    unlink(ctx, incident, data, now, actor)
    return {}


RELABELLED = ("kind", "topic", "municipality", "urgency")


def _relabel(ctx: Context, incident, now, actor, data) -> dict:
    """A moderator's corrected labels take effect on the incident: its deadlines follow the
    urgency (recomputed by `act`); a new topic or municipality re-routes an incident not yet
    sent to an executor, and is offered as the new route for one already sent."""
    wanted = data.pop("labels")
    changes = {name: wanted[name] for name in RELABELLED if name in wanted and wanted[name] != incident[name]}
    data["changes"] = {name: [incident[name], value] for name, value in changes.items()}
    if "topic" in changes or "municipality" in changes:
        key, reason = route(ctx.settings, changes.get("topic", incident["topic"]),
                            changes.get("municipality", incident["municipality"]), ctx.db)
        row = ctx.db.execute("SELECT id FROM organisations WHERE key = ?", [key]).fetchone() if key else None
        org_id = row[0] if row else None
        if org_id is not None and org_id != incident["organisation_id"]:
            routed = {"organisation_id": org_id, "route": reason}
            if incident["status"] in (NEW, CONFIRMED):
                changes["organisation_id"] = org_id
                data |= {**routed, "from_organisation_id": incident["organisation_id"]}
            else:
                data["suggested_route"] = routed
        if incident["status"] in (NEW, CONFIRMED):  # not yet routed: its tier follows too
            tier = initial_tier(ctx.settings, changes.get("topic", incident["topic"]),
                                changes.get("municipality", incident["municipality"]), key)
            if tier != (incident["tier"] or REGIONAL):
                changes |= {"tier": tier, "tier_at": iso(now)}
                data["tier"] = tier
    return changes


EFFECTS = {
    "assign": _assign, "submit_draft": _submit_draft, "return_draft": _return_draft,
    "approve_final": _approve("final"), "approve_interim": _approve("interim"),
    "acknowledge": _acknowledge, "ask_info": _ask_info, "resolve": _resolve, "close": _close,
    "reopen": _reopen, "link_repeat": _link_repeat, "unlink_repeat": _unlink_repeat,
    "relabel": _relabel, "close_unanswered": _close_unanswered,
}


def ask_for_feedback(ctx: Context, incident: dict, now: datetime) -> int:
    """Queue «was it solved?» to the resident (the answer is read by
    monitor.incidents.feedback); the caller holds the transaction."""
    mode = ctx.settings.workflow.feedback_mode
    reply_id = outbox.queue_reply(ctx.db, incident, "feedback_question", FEEDBACK_QUESTION, now,
                                  mode=mode)
    ctx.db["incidents"].update(incident["id"], {"feedback_asked_at": iso(now)})
    return reply_id


def _after_resolve(ctx: Context, incident, now, actor, data) -> None:
    ask_for_feedback(ctx, incident, now)


AFTER = {"resolve": _after_resolve}
