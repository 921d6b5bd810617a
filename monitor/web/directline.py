"""The direct-line pages for the ЦУР's moderators: start an event, watch its questions
grouped by topic and question with their counts and summaries, mark a group answered on
air or route it to an executor with the event's deadline, and download the report."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from monitor.context import Context
from monitor.directline import (
    DirectLineError,
    answer_on_air,
    event_of,
    events,
    groups,
    route,
    start,
)
from monitor.directline.events import DEFAULT_ANSWER_HOURS, STATE_TITLES
from monitor.directline.report import tables
from monitor.incidents.access import MODERATION, sees_everything
from monitor.incidents.queries import organisation_choices, source_choices
from monitor.reports import exports

from .auth import CtxDep, UserDep, check_csrf, render

router = APIRouter()
MIME = {"csv": "text/csv; charset=utf-8",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _moderator(user: UserDep) -> dict:
    """The regional ЦУР's moderators and admins (a municipal centre sees only its tier)."""
    if user["role"] not in MODERATION or not sees_everything(user):
        raise HTTPException(403, "Прямая линия доступна модераторам регионального ЦУР")
    return user


ModeratorDep = Annotated[dict, Depends(_moderator)]


def _index(request: Request, ctx: Context, user: dict, error: str | None = None,
           status_code: int = 200):
    now = ctx.clock.now()
    return render(request, "directline/index.html", status_code=status_code, user=user,
                  events=[(e, STATE_TITLES[e.state(now)]) for e in events(ctx.db)],
                  sources=source_choices(ctx.db), error=error, answer_hours=DEFAULT_ANSWER_HOURS)


@router.get("/directline")
def index(request: Request, ctx: CtxDep, user: ModeratorDep):
    return _index(request, ctx, user)


@router.post("/directline", dependencies=[Depends(check_csrf)])
def create(request: Request, ctx: CtxDep, user: ModeratorDep, name: str = Form(""),
           source: str = Form(""), post: str = Form(""), starts: str = Form(""),
           ends: str = Form(""), answer_hours: float = Form(DEFAULT_ANSWER_HOURS)):
    zone = ZoneInfo(ctx.settings.timezone)
    try:
        begin, end = (datetime.fromisoformat(v).replace(tzinfo=zone) for v in (starts, ends))
    except ValueError:
        return _index(request, ctx, user, "Укажите начало и конец прямой линии", 400)
    try:
        event = start(ctx, name, source, begin, end, post_external_id=post.strip() or None,
                      answer_hours=answer_hours, actor=user["login"])
    except DirectLineError as error:
        return _index(request, ctx, user, str(error), 409)
    return RedirectResponse(f"/directline/{event.id}", status_code=303)


def _event_page(request: Request, ctx: Context, user: dict, event_id: int,
                error: str | None = None, status_code: int = 200):
    try:
        event = event_of(ctx.db, event_id)
    except DirectLineError:
        raise HTTPException(404, "Прямая линия не найдена") from None
    now = ctx.clock.now()
    by_topic = tables(ctx.db, event_id, now)[0]
    return render(request, "directline/event.html", status_code=status_code, user=user,
                  event=event, state=STATE_TITLES[event.state(now)], groups=groups(ctx.db, event_id),
                  by_topic=by_topic, organisations=organisation_choices(ctx.db), error=error,
                  minutes=int((event.ends_at - event.starts_at).total_seconds() // 60))


@router.get("/directline/{event_id}")
def event_page(request: Request, ctx: CtxDep, user: ModeratorDep, event_id: int):
    return _event_page(request, ctx, user, event_id)


@router.post("/directline/{event_id}/groups/{group_id}/{decision}", dependencies=[Depends(check_csrf)])
def decide(request: Request, ctx: CtxDep, user: ModeratorDep, event_id: int, group_id: int,
           decision: str, minute: str = Form(""), organisation_id: str = Form("")):
    """`on_air` (with the broadcast's minute) or `route` (to an organisation, or routing's)."""
    try:
        if decision == "on_air":
            if not minute.strip().isdigit():
                raise DirectLineError("укажите минуту эфира числом")
            answer_on_air(ctx, event_id, group_id, int(minute), user["login"])
        elif decision == "route":
            chosen = int(organisation_id) if organisation_id.strip().isdigit() else None
            route(ctx, event_id, group_id, user["login"], chosen)
        else:
            raise HTTPException(404, "Нет такого решения")
    except DirectLineError as error:
        return _event_page(request, ctx, user, event_id, str(error), 409)
    return RedirectResponse(f"/directline/{event_id}#group-{group_id}", status_code=303)


@router.get("/directline/{event_id}/report.{fmt}")
def report(ctx: CtxDep, user: ModeratorDep, event_id: int, fmt: str):
    """The report after the event: CSV (questions by topic) or XLSX (every table)."""
    if fmt not in MIME:
        raise HTTPException(404, "Формат: .csv или .xlsx")
    try:
        found = tables(ctx.db, event_id, ctx.clock.now())
    except DirectLineError:
        raise HTTPException(404, "Прямая линия не найдена") from None
    names = exports.municipality_names(ctx.settings)
    body = exports.to_csv(found[0], names).encode("utf-8") if fmt == "csv" else exports.to_xlsx(found, names)
    return Response(body, media_type=MIME[fmt], headers={
        "Content-Disposition": f'attachment; filename="tsur-directline-{event_id}.{fmt}"'})
