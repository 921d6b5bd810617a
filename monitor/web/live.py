"""Live queue: a server-sent events stream that announces incidents newer than the
page the moderator is looking at (static/live.js shows «N новых инцидентов — обновить»).

Each stream polls the database every few seconds through the same viewer-scoped query
as the queue, so an official hears only of their organisation's incidents. A stream
ends after a few minutes and the browser's EventSource reconnects by itself, which also
re-checks the login.
"""

from __future__ import annotations

import asyncio
import json
import time

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from monitor.context import Context
from monitor.incidents.queries import FILTERS, list_incidents

from .auth import UserDep

router = APIRouter(prefix="/live")

INTERVAL = 5.0  # seconds between two looks at the database
LIFETIME = 300.0  # seconds before the stream ends and the browser reconnects
RETRY_MS = 5000
CAP = 99  # «99+ новых инцидентов» is enough to say "reload"


def new_incidents(ctx: Context, viewer: dict, filters: dict, after: int) -> dict:
    """How many incidents newer than `after` this viewer would see with these filters."""
    forked = ctx.fork()
    try:
        page = list_incidents(forked.db, viewer, filters, after=after, limit=CAP)
    finally:
        forked.db.close()
    rows = page.rows
    return {"count": len(rows), "more": page.next_before is not None,
            "latest": rows[0]["id"] if rows else after}


def _event(name: str, data: dict) -> str:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n"


@router.get("/queue")
async def queue_events(request: Request, user: UserDep, after: int = 0):
    filters = {name: request.query_params.get(name, "") for name in FILTERS}
    state = request.app.state
    interval = getattr(state, "live_interval", INTERVAL)
    lifetime = getattr(state, "live_lifetime", LIFETIME)
    ctx = state.ctx

    async def stream():
        yield f"retry: {RETRY_MS}\n\n"
        ends = time.monotonic() + lifetime
        sent = None
        while True:
            news = await run_in_threadpool(new_incidents, ctx, user, filters, after)
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
