"""Mass answers on the incident page: every linked post with its own reply and its fate,
and a moderator's exclusion of some posts. The page (monitor.web.incidents) includes the
partial `mass/linked.html` with one line; its rows come from `linked_answers` below."""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.responses import RedirectResponse

from monitor.clock import parse_time
from monitor.incidents import linked_answers as answers
from monitor.incidents.access import MODERATION
from monitor.incidents.queries import NotVisible, get_incident
from monitor.incidents.states import TransitionError
from monitor.replies import replies_of

from .auth import CtxDep, UserDep, check_csrf, safe_url

router = APIRouter()


def install(app: FastAPI) -> None:
    """Routes and template helpers of this module (one line in monitor.web.app)."""
    app.include_router(router)
    app.state.templates.env.globals["linked_answers"] = linked_answers


def linked_answers(request: Request, incident_id: int) -> list[dict]:
    """For the partial: each linked post, its replies and its own response time."""
    ctx = request.app.state.ctx.fork()
    try:
        posts = answers.overview(ctx.db, incident_id)
        replies: dict[int, list[dict]] = {}
        for reply in replies_of(ctx.db, incident_id, linked=True):
            reply["link"] = safe_url(reply.get("url"))
            replies.setdefault(reply["post_id"], []).append(reply)
    finally:
        ctx.db.close()
    for post in posts:
        post["link"] = safe_url(post.get("url"))
        post["replies"] = replies.get(post["post_id"], [])
        published = [r["published_at"] for r in post["replies"] if r["published_at"]]
        post["response"] = _hours(post["created_at"], min(published)) if published else None
    return posts


def _hours(start: str, end: str) -> str:
    minutes = max(int((parse_time(end) - parse_time(start)).total_seconds() // 60), 0)
    return f"{minutes // 60} ч {minutes % 60} мин" if minutes >= 60 else f"{minutes} мин"


def _moderator(request: Request, ctx, user, incident_id: int) -> None:
    if user["role"] not in MODERATION:
        raise HTTPException(403, "Это действие доступно модераторам ЦУР")
    try:
        get_incident(ctx.db, user, incident_id)
    except NotVisible:
        raise HTTPException(404, "Инцидент не найден") from None


@router.post("/incidents/{incident_id}/linked/{post_id}/{choice}",
             dependencies=[Depends(check_csrf)])
def leave_out(request: Request, ctx: CtxDep, user: UserDep, incident_id: int, post_id: int,
              choice: str):
    """`exclude`: this linked post gets no answer; `include`: it gets them again."""
    _moderator(request, ctx, user, incident_id)
    change = {"exclude": answers.exclude, "include": answers.include}.get(choice)
    if change is None:
        raise HTTPException(404, "Нет такого действия")
    try:
        change(ctx, incident_id, post_id, user["login"])
    except TransitionError as error:
        raise HTTPException(409, str(error)) from None
    return RedirectResponse(f"/incidents/{incident_id}#linked", status_code=303)
