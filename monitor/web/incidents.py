"""The moderators' queue, the incident page and the actions on an incident."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse

from monitor.incidents.lifecycle import STATUSES, TransitionError, act
from monitor.incidents.queries import (
    FILTERS,
    NotVisible,
    count_by_status,
    get_incident,
    list_incidents,
)

from .auth import check_csrf, current_user, render, request_context

router = APIRouter()

MODERATION = {"moderator", "admin"}
ACTION_ROLES = {
    "confirm": MODERATION, "reject": MODERATION, "assign": MODERATION,
    "ask_info": MODERATION, "info_received": MODERATION, "return_draft": MODERATION,
    "approve_final": MODERATION, "approve_interim": MODERATION, "close": MODERATION,
    "reopen": MODERATION, "resolve": MODERATION | {"official"},
    "submit_draft": MODERATION | {"official"},
    "acknowledge": MODERATION, "link_repeat": MODERATION, "unlink_repeat": MODERATION,
}


def _filters(request: Request) -> dict:
    return {name: request.query_params.get(name, "") for name in FILTERS}


@router.get("/")
def queue(request: Request, before: int | None = None, user: dict = Depends(current_user),
          ctx=Depends(request_context)):
    db = ctx.db
    filters = _filters(request)
    page = list_incidents(db, user, filters, before=before)
    active = {k: v for k, v in filters.items() if v}
    next_url = f"/?{urlencode({**active, 'before': page.next_before})}" if page.next_before else None
    municipalities = [r[0] for r in db.execute(
        "SELECT DISTINCT municipality FROM incidents WHERE municipality IS NOT NULL ORDER BY 1")]
    organisations = list(db.execute("SELECT id, name FROM organisations ORDER BY name").fetchall())
    return render(request, "queue.html", user=user, page=page, filters=filters,
                  counts=count_by_status(db, user), statuses=STATUSES, next_url=next_url,
                  municipalities=municipalities, organisations=organisations)


@router.get("/incidents/{incident_id}")
def incident_page(request: Request, incident_id: int, user: dict = Depends(current_user),
                  ctx=Depends(request_context)):
    db = ctx.db
    try:
        incident = get_incident(db, user, incident_id)
    except NotVisible:
        raise HTTPException(404, "Инцидент не найден") from None
    organisations = list(db.execute("SELECT id, name FROM organisations ORDER BY name").fetchall())
    allowed = sorted(a for a, roles in ACTION_ROLES.items() if user["role"] in roles)
    return render(request, "incident.html", user=user, incident=incident,
                  organisations=organisations, allowed=allowed, error=None)


@router.post("/incidents/{incident_id}/act", dependencies=[Depends(check_csrf)])
def incident_action(request: Request, incident_id: int, action: str = Form(...),
                    reason: str = Form(""), organisation_id: str = Form(""), comment: str = Form(""),
                    text: str = Form(""), repeat_of: str = Form(""), post_id: str = Form(""),
                    user: dict = Depends(current_user), ctx=Depends(request_context)):
    try:
        get_incident(ctx.db, user, incident_id)
    except NotVisible:
        raise HTTPException(404, "Инцидент не найден") from None
    if user["role"] not in ACTION_ROLES.get(action, set()):
        raise HTTPException(403, "Это действие недоступно вашей роли")
    data = {k: v for k, v in {"reason": reason, "organisation_id": organisation_id,
                              "comment": comment, "text": text, "repeat_of": repeat_of,
                              "post_id": post_id}.items() if v}
    try:
        act(ctx, incident_id, action, user["login"], **data)
    except TransitionError as error:
        incident = get_incident(ctx.db, user, incident_id)
        organisations = list(ctx.db.execute("SELECT id, name FROM organisations ORDER BY name").fetchall())
        allowed = sorted(a for a, roles in ACTION_ROLES.items() if user["role"] in roles)
        return render(request, "incident.html", status_code=409, user=user, incident=incident,
                      organisations=organisations, allowed=allowed, error=str(error))
    return RedirectResponse(f"/incidents/{incident_id}", status_code=303)
