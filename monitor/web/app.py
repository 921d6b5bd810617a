"""The web app: built by a factory from an injected Context, one router per feature."""

from __future__ import annotations

import secrets
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.middleware.sessions import SessionMiddleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from monitor.catalog.sessions import SESSION_LIFETIME
from monitor.clock import parse_time
from monitor.context import Context
from monitor.incidents.deadlines import status as deadline_status
from monitor.incidents.lifecycle import REJECT_REASONS
from monitor.titles import KIND_TITLES, ROLE_TITLES, STATUS_TITLES, TOPIC_TITLES, URGENCY_TITLES
from nlp.labels import KINDS, TOPICS, URGENCIES

from . import (
    admin,
    auth,
    callbacks,
    dashboard,
    directline,
    display,
    errors,
    health,
    incidents,
    labels,
    live,
    mass,
    models_page,
    ratings,
    regional,
    request_log,
)
from .auth import safe_url

HERE = Path(__file__).parent
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")



def create_app(ctx: Context, secret_key: str | None = None) -> FastAPI:
    app = FastAPI(title="tsur", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.ctx = ctx
    app.state.templates = templates(ctx)
    app.state.hash_slots = auth.hash_slots()
    key = secret_key or ctx.settings.secret("TSUR_SECRET_KEY") or secrets.token_urlsafe(32)
    secure = (ctx.settings.secret("TSUR_SECURE_COOKIES") or "").lower() in ("1", "true", "yes")
    app.add_middleware(SessionMiddleware, secret_key=key, session_cookie="tsur_session", same_site="strict",
                       https_only=secure, max_age=int(SESSION_LIFETIME.total_seconds()))

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        if not request.url.path.startswith("/static/"):
            # Pages hold other bodies' incidents: no copy in a shared browser's cache.
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    request_log.install(app)
    errors.install(app)

    @app.exception_handler(auth.LoginRequired)
    async def to_login(request: Request, exc):
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(auth.router)
    for feature in (incidents, callbacks, admin, live, labels, models_page, health, regional, ratings,
                    mass, directline):
        app.include_router(feature.router)
    app.include_router(dashboard.router)
    if ctx.settings.trusted_proxies:
        # Outermost, so the login limit, the audit log and the request log all see the
        # client's address, and only when a configured proxy sent the request.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(ctx.settings.trusted_proxies))
    return app


def templates(ctx: Context) -> Jinja2Templates:
    zone = ZoneInfo(ctx.settings.timezone)
    env = Environment(loader=FileSystemLoader(HERE / "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True))

    def local(value, fmt="%d.%m.%Y %H:%M"):
        """Stored UTC → the region's local time."""
        if not value:
            return "—"
        return parse_time(value).astimezone(zone).strftime(fmt)

    def deadline(incident):
        due = parse_time(incident["first_reply_due_at"]) if incident.get("first_reply_due_at") else None
        met = parse_time(incident["first_reply_at"]) if incident.get("first_reply_at") else None
        return deadline_status(due, met, ctx.clock.now())

    env.filters["local"] = local
    env.globals["spike_banner"] = dashboard.spike_banner  # open spikes over the queue
    env.globals.update(regional_panel=regional.regional_panel, tier_banner=regional.tier_banner)
    env.globals.update(mass.template_helpers())  # linked replies, the autopilot's figures
    env.filters["safe_url"] = safe_url
    env.globals.update(display.GLOBALS)  # model dates, channel and label names
    env.globals.update(
        deadline=deadline, STATUS_TITLES=STATUS_TITLES, KIND_TITLES=KIND_TITLES,
        TOPIC_TITLES=TOPIC_TITLES, URGENCY_TITLES=URGENCY_TITLES, ROLE_TITLES=ROLE_TITLES,
        REJECT_REASONS=REJECT_REASONS, KINDS=KINDS, TOPICS=TOPICS, URGENCIES=URGENCIES,
        timezone=ctx.settings.timezone,
    )
    return Jinja2Templates(env=env)
