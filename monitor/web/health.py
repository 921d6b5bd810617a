"""`/healthz` and `/metrics`: for systemd, a load balancer and Prometheus; no login.

The reverse proxy keeps `/metrics` to the monitoring host (deploy/nginx/tsur.conf).
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from monitor.operations.health import health
from monitor.operations.metrics import CONTENT_TYPE, render

from .auth import CtxDep

router = APIRouter()


@router.get("/healthz")
def healthz(ctx: CtxDep):
    healthy, report = health(ctx)
    return JSONResponse(report, status_code=200 if healthy else 503)


@router.get("/metrics")
def metrics(ctx: CtxDep):
    return Response(render(ctx), media_type=CONTENT_TYPE)
