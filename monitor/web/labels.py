"""Moderators correct or confirm a post's labels, and the low-confidence queue.

Every review is training evidence (monitor/corrections.py). Moderators and admins only.
The incident page links to /incidents/{id}/labels; posts that opened no incident
(the model said `other` or `gratitude`) are reviewed at /posts/{id}/labels. A municipal
moderator corrects the incidents of their centre only; the posts of the whole region
and the low-confidence queue are the regional ЦУР's.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse

from monitor.catalog.regions import municipality_keys
from monitor.context import Context
from monitor.incidents.access import sees_everything
from monitor.incidents.queries import post_of
from monitor.retraining.corrections import (
    LABELS,
    CorrectionError,
    correct_labels,
    low_confidence,
    post_labels,
)

from .auth import CtxDep, UserDep, check_csrf, render

router = APIRouter()
REVIEWERS = {"moderator", "admin"}
PAGE = 50


def reviewer(user: UserDep) -> dict:
    if user["role"] not in REVIEWERS:
        raise HTTPException(403, "Исправлять метки могут модераторы ЦУР и администраторы")
    return user


ReviewerDep = Annotated[dict, Depends(reviewer)]


def region_reviewer(user: ReviewerDep) -> dict:
    if not sees_everything(user):
        raise HTTPException(403, "Сообщения всего региона размечает региональный ЦУР")
    return user


RegionReviewerDep = Annotated[dict, Depends(region_reviewer)]


def _incident_post(ctx: Context, incident_id: int, user: dict) -> int:
    post_id = post_of(ctx.db, incident_id, user)
    if post_id is None:
        raise HTTPException(404, "Инцидент не найден")
    return post_id


def _page(request, ctx: Context, user, post_id: int, action: str, back: str, error=None, saved=False,
          status_code=200):
    post = post_labels(ctx.db, post_id)
    if post is None:
        raise HTTPException(404, "Сообщение не найдено")
    return render(request, "labels/edit.html", status_code=status_code, user=user, post=post,
                  action=action, back=back, error=error, saved=saved, LABELS=LABELS,
                  municipalities=sorted(municipality_keys(ctx.settings)))


def _save(request, ctx: Context, user, post_id, values, action, back):
    try:
        correct_labels(ctx, post_id, values, user["login"], municipalities=municipality_keys(ctx.settings))
    except CorrectionError as error:
        return _page(request, ctx, user, post_id, action, back, error=str(error), status_code=400)
    return RedirectResponse(f"{action}?saved=1", status_code=303)


@router.get("/incidents/{incident_id}/labels")
def incident_labels(request: Request, ctx: CtxDep, user: ReviewerDep, incident_id: int,
                    saved: int = 0):
    return _page(request, ctx, user, _incident_post(ctx, incident_id, user),
                 f"/incidents/{incident_id}/labels", f"/incidents/{incident_id}", saved=bool(saved))


@router.post("/incidents/{incident_id}/labels", dependencies=[Depends(check_csrf)])
def incident_labels_save(request: Request, ctx: CtxDep, user: ReviewerDep, incident_id: int,
                         kind: str = Form(...), topic: str = Form(...),
                         municipality: str = Form(""), urgency: str = Form(...)):
    values = {"kind": kind, "topic": topic, "municipality": municipality, "urgency": urgency}
    return _save(request, ctx, user, _incident_post(ctx, incident_id, user), values,
                 f"/incidents/{incident_id}/labels", f"/incidents/{incident_id}")


@router.get("/posts/{post_id}/labels")
def post_labels_page(request: Request, ctx: CtxDep, user: RegionReviewerDep, post_id: int,
                     saved: int = 0):
    return _page(request, ctx, user, post_id, f"/posts/{post_id}/labels", "/labels/queue",
                 saved=bool(saved))


@router.post("/posts/{post_id}/labels", dependencies=[Depends(check_csrf)])
def post_labels_save(request: Request, ctx: CtxDep, user: RegionReviewerDep, post_id: int,
                     kind: str = Form(...), topic: str = Form(...), municipality: str = Form(""),
                     urgency: str = Form(...)):
    values = {"kind": kind, "topic": topic, "municipality": municipality, "urgency": urgency}
    return _save(request, ctx, user, post_id, values, f"/posts/{post_id}/labels", "/labels/queue")


@router.get("/labels/queue")
def queue(request: Request, ctx: CtxDep, user: RegionReviewerDep, offset: int = 0):
    offset = max(offset, 0)
    rows = low_confidence(ctx.db, limit=PAGE + 1, offset=offset)
    more = len(rows) > PAGE
    return render(request, "labels/queue.html", user=user, rows=rows[:PAGE], offset=offset,
                  next_offset=offset + PAGE if more else None)
