"""The moderators' queue (triage in the row), the incident page, the actions on an
incident (one or many at once), corrections of its attributes and the fate of its
replies to the resident. Every refusal answers in Russian and keeps what was typed."""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse

from monitor.catalog.regions import municipality_keys
from monitor.clock import iso, parse_time
from monitor.context import Context
from monitor.incidents.access import MODERATION
from monitor.incidents.deadlines import DUE_COLUMNS, met_at, next_due, statuses
from monitor.incidents.history import suggested_route, tell
from monitor.incidents.lifecycle import act, allowed_actions, may_act, refused_data
from monitor.incidents.outbox import publisher_idle_since
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
from monitor.incidents.saved_filters import (
    FilterError,
    clean_query,
    delete_view,
    save_view,
    views_of,
)
from monitor.incidents.states import STATUSES, TransitionError
from monitor.replies import ReplyError, confirm_published, replies_of, retry
from monitor.replies.canned import CannedError, fill, for_topic
from monitor.retraining.corrections import CorrectionError, correct_labels
from monitor.titles import ACTION_TITLES, CHANNEL_TITLES, CLOCK_TITLES, TARGET_TITLES

from .auth import CtxDep, UserDep, check_csrf, csrf_matches, render, safe_url

router = APIRouter()

BULK_ACTIONS = {action: ACTION_TITLES[action] for action in ("confirm", "assign", "reject")}
BULK_LIMIT = 200  # incidents in one bulk request
ATTRIBUTES = ("urgency", "topic", "municipality")  # what a moderator corrects on the page


def _filters(request: Request) -> dict:
    return {name: request.query_params.get(name, "") for name in (*FILTERS, *FLAGS)}


def _day_start(ctx: Context) -> str:
    """The region's midnight today, in UTC: «критично сегодня»."""
    zone = ZoneInfo(ctx.settings.timezone)
    today = ctx.clock.now().astimezone(zone).date()
    return iso(datetime.combine(today, time(), zone))


def _row_clock(row: dict, now) -> dict:
    """The deadline the row is working towards and how overdue it is."""
    due = next_due(row, now)
    if due is None:
        return {"state": "none"}
    left = parse_time(due["due"]) - now
    return {**due, "title": TARGET_TITLES[due["target"]],
            "left": _duration(left) if due["state"] in ("overdue", "due_soon") else None}


def _queue(request: Request, ctx: Context, user, *, status_code=200, error=None):
    db = ctx.db
    query = request.query_params
    before = int(query["before"]) if query.get("before", "").isdigit() else None
    cursor = query.get("cursor") or None
    sort = query.get("sort", "deadline")
    filters = _filters(request)
    sort = sort if sort in SORTS else "deadline"
    now = ctx.clock.now()
    try:
        page = list_incidents(db, user, filters, before=before, sort=sort, cursor=cursor,
                              now=iso(now), day_start=_day_start(ctx))
    except ValueError:
        raise HTTPException(400, "Неверная ссылка на страницу очереди") from None
    active = {k: v for k, v in filters.items() if v}
    if sort == "deadline" and page.next_cursor:
        next_url = f"/?{urlencode({**active, 'sort': sort, 'cursor': page.next_cursor})}"
    elif sort == "newest" and page.next_before:
        next_url = f"/?{urlencode({**active, 'sort': sort, 'before': page.next_before})}"
    else:
        next_url = None
    for row in page.rows:
        row["clock"] = _row_clock(row, now)
        row["channel_title"] = CHANNEL_TITLES.get(row["channel"], row["channel"])
        row["actions"] = allowed_actions(user["role"], row["status"])
    # Live updates announce incidents opened after this page was rendered, in any order.
    newest_id = newest_incident_id(db)
    current = urlencode(sorted(active.items()) + ([("sort", sort)] if sort != "deadline" else []))
    return render(request, "queue.html", status_code=status_code, user=user, page=page,
                  filters=filters, counts=count_by_status(db, user), statuses=STATUSES,
                  next_url=next_url, municipalities=municipality_choices(db),
                  organisations=organisation_choices(db), bulk_actions=BULK_ACTIONS, sort=sort,
                  sorts=SORTS, sources=source_choices(db), newest_id=newest_id,
                  views=views_of(db, user), current_query=current, error=error,
                  publisher_idle=publisher_idle_since(db, now),
                  moderator=user["role"] in MODERATION)


@router.get("/")
def queue(request: Request, ctx: CtxDep, user: UserDep):
    return _queue(request, ctx, user)


@router.post("/views", dependencies=[Depends(check_csrf)])
async def view_save(request: Request, ctx: CtxDep, user: UserDep):
    """Save the queue's current filters under a name of the person's choosing."""
    form = await request.form()
    params = {k: str(v) for k, v in form.items()}
    try:
        save_view(ctx.db, user, params.get("name", ""), params, ctx.clock.now())
    except FilterError as error:
        return _queue(request, ctx, user, status_code=400, error=str(error))
    return RedirectResponse(f"/?{clean_query(params)}", status_code=303)


@router.post("/views/{view_id}/delete", dependencies=[Depends(check_csrf)])
def view_delete(ctx: CtxDep, user: UserDep, view_id: int):
    delete_view(ctx.db, user, view_id)
    return RedirectResponse("/", status_code=303)


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
          canned: str | None = None, kept: dict | None = None):
    """The incident page; `kept` is what the person typed into a refused form, shown again."""
    try:
        incident = get_incident(ctx.db, user, incident_id)
    except NotVisible:
        raise HTTPException(404, "Инцидент не найден") from None
    allowed = allowed_actions(user["role"], incident["status"])
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
    kept = kept or {}
    organisations = organisation_choices(ctx.db)
    now = ctx.clock.now()
    waiting = any(r["status"] == "pending" for r in replies)
    return render(request, "incident.html", status_code=status_code, user=user,
                  incident=incident, organisations=organisations, allowed=allowed,
                  error=error, clocks=_clocks(incident, now), next_clock=_row_clock(incident, now),
                  replies=replies, canned=answers, draft=kept.get("text") or draft,
                  kept=kept, chosen=canned, canned_error=canned_error,
                  history=tell(incident["events"], incident["people"], dict(organisations)),
                  suggested=suggested_route(incident["events"], incident["organisation_id"]),
                  publisher_idle=publisher_idle_since(ctx.db, now) if waiting else None,
                  channel_title=CHANNEL_TITLES.get(incident["channel"], incident["channel"]),
                  municipalities=sorted(municipality_keys(ctx.settings)),
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


def _back(target: str) -> str:
    """Back to the queue with its filters; never another site."""
    return target if target == "/" or (target.startswith("/?") and "\\" not in target) else "/"


def _done(incident_id: int, back: str) -> RedirectResponse:
    """After an action: back to the queue row it was taken from, or to the incident."""
    if back:
        return RedirectResponse(f"{_back(back)}#i{incident_id}", status_code=303)
    return RedirectResponse(f"/incidents/{incident_id}", status_code=303)


@router.post("/incidents/{incident_id}/act")
def incident_action(request: Request, ctx: CtxDep, user: UserDep, incident_id: int,
                    action: str = Form(...), reason: str = Form(""),
                    organisation_id: str = Form(""), comment: str = Form(""), text: str = Form(""),
                    repeat_of: str = Form(""), post_id: str = Form(""), back: str = Form(""),
                    csrf_token: str = Form("")):
    _visible(ctx, user, incident_id)
    data = {k: v for k, v in {"reason": reason, "organisation_id": organisation_id,
                              "comment": comment, "text": text, "repeat_of": repeat_of,
                              "post_id": post_id}.items() if v}
    kept = {"action": action, **data}
    if not csrf_matches(request, csrf_token):  # a page left open overnight: keep the draft
        return _page(request, ctx, user, incident_id, status_code=403, kept=kept,
                     error="Страница устарела (её открыли давно или в другой вкладке вошли заново), "
                           "поэтому действие не выполнено. Текст сохранён: отправьте ещё раз.")
    if not may_act(user["role"], action, data):
        why = refused_data(user["role"], action, data) or "Это действие недоступно вашей роли"
        return _page(request, ctx, user, incident_id, status_code=403, error=why, kept=kept)
    try:
        act(ctx, incident_id, action, user["login"], **data)
    except TransitionError as error:
        return _page(request, ctx, user, incident_id, status_code=409, error=str(error), kept=kept)
    return _done(incident_id, back)


def _moderator(user: UserDep) -> dict:
    if user["role"] not in MODERATION:
        raise HTTPException(403, "Это действие доступно модераторам ЦУР")
    return user


ModeratorDep = Annotated[dict, Depends(_moderator)]


@router.post("/incidents/{incident_id}/attributes", dependencies=[Depends(check_csrf)])
def incident_attributes(request: Request, ctx: CtxDep, user: ModeratorDep, incident_id: int,
                        urgency: str = Form(""), topic: str = Form(""),
                        municipality: str = Form("-"), back: str = Form("")):
    """A moderator corrects urgency, topic or municipality: the deadlines follow, a new
    route is taken or offered (lifecycle `relabel`), and the correction is training data."""
    try:
        incident = get_incident(ctx.db, user, incident_id)
    except NotVisible:
        raise HTTPException(404, "Инцидент не найден") from None
    wanted = {"urgency": urgency, "topic": topic}
    if municipality != "-":  # "" is «no municipality of the region»
        wanted["municipality"] = municipality
    values = {k: v for k, v in wanted.items() if (v or k == "municipality") and v != (incident[k] or "")}
    if values:
        try:
            correct_labels(ctx, incident["post_id"], values, user["login"],
                           municipalities=municipality_keys(ctx.settings))
        except (CorrectionError, TransitionError) as error:
            return _page(request, ctx, user, incident_id, status_code=400,
                         error=f"Не сохранено: {error}")
    return _done(incident_id, back)


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


@router.post("/incidents/bulk", dependencies=[Depends(check_csrf)])
def bulk_action(request: Request, ctx: CtxDep, user: ModeratorDep, action: str = Form(""),
                ids: list[str] = Form(default=[]), organisation_id: str = Form(""),
                reason: str = Form(""), back: str = Form("/")):
    """The same action on several incidents: each is acted on by itself, with its own
    event; one the state does not allow is reported and the others go ahead."""
    if action not in BULK_ACTIONS:
        raise HTTPException(400, "Выберите действие: " + ", ".join(BULK_ACTIONS.values()))
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
