"""Mass answers on the incident page (every linked post with its own reply and its fate,
a moderator's exclusion of some posts), the autopilot on /models (its thresholds) and
on the Сводка (what it delivered), and the direct-line pages (monitor.web.directline). Each page includes a partial of templates/mass/ with
one line; the partials read their rows through the template helpers below."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse

from monitor.clock import parse_time
from monitor.context import Context
from monitor.incidents import autopilot
from monitor.incidents import linked_answers as answers
from monitor.incidents.access import MODERATION
from monitor.incidents.queries import NotVisible, get_incident
from monitor.incidents.states import TransitionError
from monitor.replies import replies_of
from monitor.reports.autopilot import summary

from .auth import CtxDep, UserDep, check_csrf, reading, safe_url

router = APIRouter()


def template_helpers() -> dict:
    """What the partials of templates/mass/ call to read their rows."""
    return {"linked_answers": linked_answers, "autopilot_thresholds": autopilot_thresholds,
            "autopilot_summary": autopilot_summary}


def _read(request: Request, read):
    """`read(ctx)` over the request's connection (`reading`)."""
    with reading(request) as ctx:
        return read(ctx)


def autopilot_thresholds(request: Request) -> dict:
    """For /models: the switch, the target and the thresholds in force."""
    return _read(request, lambda ctx: {"settings": ctx.settings.autopilot,
                                       "rows": autopilot.current(ctx.db)})


def autopilot_summary(request: Request, user: dict, query: dict):
    """For the Сводка: what the autopilot did in the page's period (local days)."""
    def read(ctx: Context):
        zone = ZoneInfo(ctx.settings.timezone)
        first, last = (date.fromisoformat(query[k]) for k in ("since", "until"))
        return {"enabled": ctx.settings.autopilot.enabled,
                "figures": summary(ctx.db, user, datetime.combine(first, time(), tzinfo=zone),
                                   datetime.combine(last + timedelta(days=1), time(), tzinfo=zone))}
    return _read(request, read)


def linked_answers(request: Request, incident_id: int) -> list[dict]:
    """For the partial: each linked post, its replies and its own response time."""
    posts, replies = _read(request, lambda ctx: (answers.overview(ctx.db, incident_id),
                                                 replies_of(ctx.db, incident_id, linked=True)))
    by_post: dict[int, list[dict]] = {}
    for reply in replies:
        reply["link"] = safe_url(reply.get("url"))
        by_post.setdefault(reply["post_id"], []).append(reply)
    for post in posts:
        post["link"] = safe_url(post.get("url"))
        post["replies"] = by_post.get(post["post_id"], [])
        published = [r["published_at"] for r in post["replies"] if r["published_at"]]
        post["response"] = _hours(post["created_at"], min(published)) if published else None
    return posts


def _hours(start: str, end: str) -> str:
    minutes = max(int((parse_time(end) - parse_time(start)).total_seconds() // 60), 0)
    return f"{minutes // 60} ч {minutes % 60} мин" if minutes >= 60 else f"{minutes} мин"


def _moderator(ctx: Context, user: dict, incident_id: int) -> None:
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
    _moderator(ctx, user, incident_id)
    change = {"exclude": answers.exclude, "include": answers.include}.get(choice)
    if change is None:
        raise HTTPException(404, "Нет такого действия")
    try:
        change(ctx, incident_id, post_id, user["login"])
    except TransitionError as error:
        raise HTTPException(409, str(error)) from None
    return RedirectResponse(f"/incidents/{incident_id}#linked", status_code=303)
