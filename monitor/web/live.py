"""Live queue: a server-sent events stream that announces incidents newer than the
page the moderator is looking at (static/live.js shows «N новых инцидентов — обновить»).

Each stream polls the database every few seconds through the same viewer-scoped query
as the queue, so an official hears only of their organisation's incidents. Each look
re-checks the login too: after a logout, a password reset or a disabled account the
stream says `ended` and stops at the next tick. A stream also ends after a few minutes
and the browser's EventSource reconnects by itself.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from monitor.context import Context
from monitor.incidents.queries import FILTERS, list_incidents

from .auth import UserDep, session_user
from .errors import SQLITE_MAX

router = APIRouter(prefix="/live")

INTERVAL = 5.0  # seconds between two looks at the database
LIFETIME = 300.0  # seconds before the stream ends and the browser reconnects
RETRY_MS = 5000
CAP = 99  # «99+ новых инцидентов» is enough to say "reload"


def look(ctx: Context, session: dict, filters: dict, after: int) -> dict | None:
    """The news for the session's user, or None once that session is no longer live."""
    forked = ctx.fork()
    try:
        viewer = session_user(forked.db, session, forked.clock.now())
        return None if viewer is None else _news(forked.db, viewer, filters, after)
    finally:
        forked.db.close()


def _news(db, viewer: dict, filters: dict, after: int) -> dict:
    page = list_incidents(db, viewer, filters, after=after, limit=CAP)
    rows = page.rows
    return {"count": len(rows), "more": page.next_before is not None,
            "latest": rows[0]["id"] if rows else after}


def _event(name: str, data: dict) -> str:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n"


@router.get("/queue")
async def queue_events(request: Request, user: UserDep,
                       after: Annotated[int, Query(ge=0, le=SQLITE_MAX)] = 0):
    filters = {name: request.query_params.get(name, "") for name in FILTERS}
    state = request.app.state
    interval = getattr(state, "live_interval", INTERVAL)
    lifetime = getattr(state, "live_lifetime", LIFETIME)
    ctx = state.ctx
    session = dict(request.session)  # the cookie as it was: a later logout revokes its id

    async def stream():
        yield f"retry: {RETRY_MS}\n\n"
        ends = time.monotonic() + lifetime
        sent = None
        while True:
            news = await run_in_threadpool(look, ctx, session, filters, after)
            if news is None:
                yield _event("ended", {"reason": "session"})
                return
            if news != sent:
                yield _event("incidents", news)
                sent = news
            else:
                yield ": still here\n\n"
            if time.monotonic() >= ends or await request.is_disconnected():
                return
            await asyncio.sleep(interval)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
