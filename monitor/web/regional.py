"""How a region works, on the pages: hand-offs between the regional ЦУР and the
municipal centres, deadline extensions («перенос срока»), quality marks of answers,
the chain of executors on the incident page and what waits on the municipal centres
over the queue. Every route checks the incident against the viewer first
(monitor.incidents.access): what a viewer may not see answers 404.
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse

from monitor.catalog import audit
from monitor.catalog.users import UserError, set_municipalities, user_by_id
from monitor.context import Context
from monitor.incidents.access import MODERATION, scope_of, sees_everything
from monitor.incidents.extensions import (
    DECIDE_ROLES,
    ExtensionError,
    NotAllowed,
    decide_extension,
    pending_requests,
    request_extension,
)
from monitor.incidents.handoffs import hand_off, waiting_on_centres
from monitor.incidents.panel import regional_view
from monitor.incidents.quality import MARKS, QualityError, mark_answer
from monitor.incidents.queries import post_of
from monitor.incidents.states import TransitionError
from monitor.titles import EXTENSION_STATUS_TITLES, QUALITY_TITLES, TARGET_TITLES, TIER_TITLES

from .admin import AdminDep
from .auth import CtxDep, UserDep, check_csrf, reading, render

router = APIRouter()


def _visible(ctx: Context, user: dict, incident_id: int) -> None:
    if post_of(ctx.db, incident_id, user) is None:
        raise HTTPException(404, "Инцидент не найден")


def _refused(request: Request, user: dict, incident_id: int | None, message: str, status: int):
    back = f"/incidents/{incident_id}" if incident_id else "/extensions"
    return render(request, "regional/refused.html", status_code=status, user=user,
                  message=message, back=back)


def _done(incident_id: int, anchor: str = "regional"):
    return RedirectResponse(f"/incidents/{incident_id}#{anchor}", status_code=303)


def _day(value: str, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise HTTPException(400, f"«{value[:20]}» — не дата вида 2026-11-16 ({name})") from None


def _run(request: Request, user: dict, incident_id: int, step, refusals):
    """Run a domain step on an incident: None when done; 403 for what this viewer may not
    do; the refusal page (409) for what the incident or the policy does not allow."""
    try:
        step()
    except PermissionError as error:
        raise HTTPException(403, str(error)) from None
    except refusals as error:
        return _refused(request, user, incident_id, str(error), 409)
    return None


@router.post("/incidents/{incident_id}/handoff", dependencies=[Depends(check_csrf)])
def handoff(request: Request, ctx: CtxDep, user: UserDep, incident_id: int,
            to: str = Form(""), reason: str = Form("")):
    _visible(ctx, user, incident_id)
    refused = _run(request, user, incident_id,
                   lambda: hand_off(ctx, incident_id, to, user, reason), TransitionError)
    if refused:
        return refused
    return _done(incident_id) if may_see_after(ctx, user, incident_id) else RedirectResponse("/", 303)


def may_see_after(ctx: Context, user: dict, incident_id: int) -> bool:
    """A municipal moderator who gave an incident back no longer sees it."""
    return post_of(ctx.db, incident_id, user) is not None


@router.post("/incidents/{incident_id}/extensions", dependencies=[Depends(check_csrf)])
def extension_request(request: Request, ctx: CtxDep, user: UserDep, incident_id: int,
                      target: str = Form(""), until: str = Form(""), reason: str = Form(""),
                      planned_fix: str = Form("")):
    _visible(ctx, user, incident_id)
    day = _day(until, "новый срок")
    if day is None:
        return _refused(request, user, incident_id, "Укажите новую дату срока", 409)
    fix = _day(planned_fix, "плановая дата устранения")
    return _run(request, user, incident_id, lambda: request_extension(
        ctx, incident_id, user, target, day, reason, fix), ExtensionError) or _done(incident_id)


@router.post("/extensions/{extension_id}/decide", dependencies=[Depends(check_csrf)])
def extension_decide(request: Request, ctx: CtxDep, user: UserDep, extension_id: int,
                     decision: str = Form(""), until: str = Form(""), comment: str = Form("")):
    if user["role"] not in DECIDE_ROLES:
        raise HTTPException(403, "Перенос срока одобряют модераторы ЦУР")
    try:
        row = decide_extension(ctx, extension_id, user, decision, _day(until, "новый срок"), comment)
    except NotAllowed:
        raise HTTPException(404, "Запрос переноса не найден") from None
    except ExtensionError as error:
        return _refused(request, user, None, str(error), 409)
    return _done(row["incident_id"])


@router.get("/extensions")
def extensions_page(request: Request, ctx: CtxDep, user: UserDep):
    """Requests waiting for a decision (a moderator's own scope)."""
    if user["role"] not in DECIDE_ROLES:
        raise HTTPException(403, "Перенос срока одобряют модераторы ЦУР")
    return render(request, "regional/extensions.html", user=user,
                  rows=pending_requests(ctx.db, user), TARGET_TITLES=TARGET_TITLES)


@router.post("/incidents/{incident_id}/quality", dependencies=[Depends(check_csrf)])
def quality(request: Request, ctx: CtxDep, user: UserDep, incident_id: int,
            draft_id: int = Form(0), mark: str = Form("")):
    _visible(ctx, user, incident_id)
    return _run(request, user, incident_id, lambda: mark_answer(
        ctx, incident_id, draft_id, mark, user), QualityError) or _done(incident_id)


@router.get("/tiers")
def tiers_page(request: Request, ctx: CtxDep, user: UserDep):
    """What waits on the municipal centres: the regional ЦУР's view."""
    if user["role"] not in MODERATION or not sees_everything(user):
        raise HTTPException(403, "Эта страница — для регионального ЦУР")
    return render(request, "regional/tiers.html", user=user, waiting=waiting_on_centres(ctx),
                  now=ctx.clock.now())


@router.post("/admin/users/{user_id}/municipalities", dependencies=[Depends(check_csrf)])
def user_scope(request: Request, ctx: CtxDep, user: AdminDep, user_id: int,
               municipalities: str = Form("")):
    """Scope a moderator to municipalities (comma-separated; empty: the whole region)."""
    target = user_by_id(ctx.db, user_id)
    if target is None:
        raise HTTPException(404, "Пользователь не найден")
    names = [m.strip() for m in municipalities.split(",") if m.strip()]
    try:
        with ctx.db.atomic():
            set_municipalities(ctx.db, user_id, names)
            audit.record(ctx.db, user["login"], "user_scope", f"user:{target['login']}",
                         {"old": target["municipalities"], "new": names}, ctx.clock.now())
    except UserError:
        return _refused(request, user, None, "Муниципалитеты задаются только модератору", 400)
    return RedirectResponse("/admin/users", status_code=303)


# --- for the templates (the request's connection, like the spike banner) ------------------


def regional_panel(request: Request, user: dict | None, incident: dict) -> dict:
    """For incident.html: the regional part of an incident this viewer already sees."""
    with reading(request) as ctx:
        view = regional_view(ctx, user, incident["id"])
    return {**view, "TIER_TITLES": TIER_TITLES, "MARKS": MARKS, "QUALITY_TITLES": QUALITY_TITLES,
            "TARGET_TITLES": TARGET_TITLES, "EXTENSION_STATUS_TITLES": EXTENSION_STATUS_TITLES}


def tier_banner(request: Request, user: dict | None) -> dict:
    """For queue.html: a municipal moderator's centre, or the regional view of the centres."""
    if not user or user["role"] not in MODERATION:
        return {}
    if scope_of(user):
        return {"scope": scope_of(user)}
    with reading(request) as ctx:
        return {"waiting": [w for w in waiting_on_centres(ctx) if w.open], "now": ctx.clock.now()}
