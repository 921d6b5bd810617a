"""One log line per request with an id (the proxy's X-Request-ID, else a new one) that
the response carries back, so a user's complaint can be found in the logs. The path is
logged without its query string, and never a header or a cookie."""

from __future__ import annotations

import logging
import re
import secrets
import time

from fastapi import FastAPI, Request

from monitor.operations.logs import event

REQUEST_ID = re.compile(r"^[\w.-]{1,64}$")
log = logging.getLogger("tsur.web")


def install(app: FastAPI) -> None:
    @app.middleware("http")
    async def request_log(request: Request, call_next):
        given = request.headers.get("x-request-id", "")
        request_id = given if REQUEST_ID.match(given) else secrets.token_hex(8)
        request.state.request_id = request_id
        fields = {"request_id": request_id, "method": request.method, "path": request.url.path,
                  "client": request.client.host if request.client else None}
        started = time.perf_counter()
        try:
            response = await call_next(request)
        except Exception:
            event("request_failed", logging.ERROR, logger=log, **fields)
            raise
        response.headers["X-Request-ID"] = request_id
        event("request", logger=log, status=response.status_code,
              ms=round((time.perf_counter() - started) * 1000, 1), **fields)
        return response
