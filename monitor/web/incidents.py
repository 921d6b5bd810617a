"""The moderators' queue, the incident page, the actions on an incident (one or many
at once) and the fate of its replies to the resident."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse

from monitor.clock import iso, parse_time
from monitor.context import Context
from monitor.incidents.access import MODERATION
from monitor.incidents.deadlines import DUE_COLUMNS, met_at, statuses
from monitor.incidents.lifecycle import act, allowed_actions, may_act, refused_data
from monitor.incidents.queries import (
    FILTERS,
    FLAGS,
    SORTS,
    NotVisible,
    count_by_status,
    get_incident,
    list_incidents,
    municipality_choices,
    newest_incident_id,
    organisation_choices,
    source_choices,
)
from monitor.incidents.states import STATUSES, TransitionError
from monitor.replies import ReplyError, confirm_published, replies_of, retry
from monitor.replies.canned import CannedError, fill, for_topic
from monitor.titles import ACTION_TITLES, CLOCK_TITLES, EVENT_TITLES, TARGET_TITLES

from .auth import CtxDep, UserDep, check_csrf, render, safe_url

router = APIRouter()

BULK_ACTIONS = {action: ACTION_TITLES[action] for action in ("confirm", "assign", "reject")}
BULK_LIMIT = 200  # incidents in one bulk request



def _filters(request: Request) -> dict:
    return {name: request.query_params.get(name, "") for name in (*FILTERS, *FLAGS)}


@router.get("/")
def queue(request: Request, ctx: CtxDep, user: UserDep, before: int | None = None,
          cursor: str | None = None, sort: str = "deadline"):
    db = ctx.db
    filters = _filters(request)
    sort = sort if sort in SORTS else "deadline"
    try:
        page = list_incidents(db, user, filters, before=before, sort=sort, cursor=cursor,
                              now=iso(ctx.clock.now()))
    except ValueError:
        raise HTTPException(400, "Неверная ссылка на страницу очереди") from None
    active = {k: v for k, v in filters.items() if v}
    if sort == "deadline" and page.next_cursor:
        next_url = f"/?{urlencode({**active, 'sort': sort, 'cursor': page.next_cursor})}"
    elif sort == "newest" and page.next_before:
        next_url = f"/?{urlencode({**active, 'sort': sort, 'before': page.next_before})}"
    else:
        next_url = None
    # Live updates announce incidents opened after this page was rendered, in any order.
    newest_id = newest_incident_id(db)
    return render(request, "queue.html", user=user, page=page, filters=filters,
                  counts=count_by_status(db, user), statuses=STATUSES, next_url=next_url,
                  municipalities=municipality_choices(db), organisations=organisation_choices(db),
                  bulk_actions=BULK_ACTIONS, sort=sort, sorts=SORTS, sources=source_choices(db),
                  newest_id=newest_id)


def _clocks(incident: dict, now) -> list[dict]:
    """Every deadline target: due moment, state, and how long is left or overdue."""
    out = []
    for target, state in statuses(incident, now).items():
        due = incident.get(DUE_COLUMNS[target])
        met = met_at(incident, target)
        left = None
        if due and met is None and state != "none":
            left = _duration(parse_time(due) - now)
        out.append({"target": target, "title": TARGET_TITLES[target], "due": due,
                    "met": met.isoformat() if met else None, "state": state,
                    "state_title": CLOCK_TITLES[state], "left": left})
    return out


def _duration(delta) -> str:
    minutes = int(abs(delta.total_seconds()) // 60)
    days, rest = divmod(minutes, 24 * 60)
    parts = [f"{days} д" if days else "", f"{rest // 60} ч" if rest >= 60 else "",
             f"{rest % 60} мин" if rest % 60 or not (days or rest >= 60) else ""]
    text = " ".join(p for p in parts if p)
    return f"осталось {text}" if delta.total_seconds() >= 0 else f"просрочен на {text}"


def _page(request, ctx: Context, user, incident_id: int, *, status_code=200, error=None,
          canned: str | None = None):
    try:
        incident = get_incident(ctx.db, user, incident_id)
    except NotVisible:
        raise HTTPException(404, "Инцидент не найден") from None
    allowed = allowed_actions(user["role"])
    replies = replies_of(ctx.db, incident_id)
    thread = incident["thread"]
    for row in [incident, *replies, *incident["author_posts"], *(p for rows in thread.values()
                                                                 for p in rows)]:
        row["link"] = safe_url(row.get("url"))  # only http(s): never `javascript:`
    answers, draft, canned_error = [], "", None
    if "submit_draft" in allowed:
        try:
            answers = for_topic(ctx.settings, incident["topic"])
        except CannedError as problem:
            canned_error = str(problem)
        chosen = next((a for a in answers if a.key == canned), None)
        draft = fill(chosen, incident) if chosen else ""
    return render(request, "incident.html", status_code=status_code, user=user,
                  incident=incident, organisations=organisation_choices(ctx.db), allowed=allowed,
                  error=error, clocks=_clocks(incident, ctx.clock.now()),
                  replies=replies, canned=answers, draft=draft,
                  chosen=canned, canned_error=canned_error, EVENT_TITLES=EVENT_TITLES,
                  moderator=user["role"] in MODERATION)


@router.get("/incidents/{incident_id}")
def incident_page(request: Request, ctx: CtxDep, user: UserDep, incident_id: int,
                  canned: str | None = None):
    return _page(request, ctx, user, incident_id, canned=canned)


def _visible(ctx: Context, user, incident_id: int) -> None:
    try:
        get_incident(ctx.db, user, incident_id)
    except NotVisible:
        raise HTTPException(404, "Инцидент не найден") from None


@router.post("/incidents/{incident_id}/act", dependencies=[Depends(check_csrf)])
def incident_action(request: Request, ctx: CtxDep, user: UserDep, incident_id: int,
                    action: str = Form(...), reason: str = Form(""),
                    organisation_id: str = Form(""), comment: str = Form(""), text: str = Form(""),
                    repeat_of: str = Form(""), post_id: str = Form("")):
    _visible(ctx, user, incident_id)
    if not may_act(user["role"], action):
        raise HTTPException(403, "Это действие недоступно вашей роли")
    data = {k: v for k, v in {"reason": reason, "organisation_id": organisation_id,
                              "comment": comment, "text": text, "repeat_of": repeat_of,
                              "post_id": post_id}.items() if v}
    if why := refused_data(user["role"], action, data):
        raise HTTPException(403, why)
    try:
        act(ctx, incident_id, action, user["login"], **data)
    except TransitionError as error:
        return _page(request, ctx, user, incident_id, status_code=409, error=str(error))
    return RedirectResponse(f"/incidents/{incident_id}", status_code=303)


def _moderator(user: UserDep) -> dict:
    if user["role"] not in MODERATION:
        raise HTTPException(403, "Это действие доступно модераторам ЦУР")
    return user


ModeratorDep = Annotated[dict, Depends(_moderator)]


@router.post("/incidents/{incident_id}/replies/{reply_id}/retry",
             dependencies=[Depends(check_csrf)])
def reply_retry(request: Request, ctx: CtxDep, user: ModeratorDep, incident_id: int, reply_id: int):
    """Send a failed reply again, or one whose fate is unknown after checking the platform."""
    _visible(ctx, user, incident_id)
    try:
        retry(ctx, incident_id, reply_id, user["login"])
    except ReplyError as error:
        return _page(request, ctx, user, incident_id, status_code=409, error=str(error))
    return RedirectResponse(f"/incidents/{incident_id}#replies", status_code=303)


@router.post("/incidents/{incident_id}/replies/{reply_id}/confirm",
             dependencies=[Depends(check_csrf)])
def reply_confirm(request: Request, ctx: CtxDep, user: ModeratorDep, incident_id: int,
                  reply_id: int):
    """The moderator found the reply on the platform: it counts as published."""
    _visible(ctx, user, incident_id)
    try:
        confirm_published(ctx, incident_id, reply_id, user["login"])
    except ReplyError as error:
        return _page(request, ctx, user, incident_id, status_code=409, error=str(error))
    return RedirectResponse(f"/incidents/{incident_id}#replies", status_code=303)


def _back(target: str) -> str:
    """Back to the queue with its filters; never another site."""
    return target if target == "/" or (target.startswith("/?") and "\\" not in target) else "/"


@router.post("/incidents/bulk", dependencies=[Depends(check_csrf)])
def bulk_action(request: Request, ctx: CtxDep, user: ModeratorDep, action: str = Form(""),
                ids: list[str] = Form(default=[]), organisation_id: str = Form(""),
                reason: str = Form(""), back: str = Form("/")):
    """The same action on several incidents: each is acted on by itself, with its own
    event; one the state does not allow is reported and the others go ahead."""
    if action not in BULK_ACTIONS:
        raise HTTPException(400, f"Неизвестное действие; доступны: {', '.join(BULK_ACTIONS)}")
    numbers = list(dict.fromkeys(int(i) for i in ids if i.strip().isdigit()))
    if not numbers:
        raise HTTPException(400, "Не выбрано ни одного инцидента")
    if len(numbers) > BULK_LIMIT:
        raise HTTPException(400, f"Не больше {BULK_LIMIT} инцидентов за раз")
    data = {"organisation_id": organisation_id, "reason": reason}
    results = []
    for incident_id in numbers:
        try:
            get_incident(ctx.db, user, incident_id)
            row = act(ctx, incident_id, action, user["login"], **data)
        except NotVisible:
            results.append({"id": incident_id, "ok": False, "message": "инцидент не найден"})
        except TransitionError as error:
            results.append({"id": incident_id, "ok": False, "message": str(error)})
        else:
            results.append({"id": incident_id, "ok": True, "status": row["status"]})
    done = sum(r["ok"] for r in results)
    status_code = 200 if done else 409
    return render(request, "bulk.html", status_code=status_code, user=user, results=results,
                  action_title=BULK_ACTIONS[action], done=done, back=_back(back))
