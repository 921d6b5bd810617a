"""Log in and out, the current user, CSRF tokens and login rate limiting."""

from __future__ import annotations

import hmac
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Iterator
from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse

from monitor.catalog import audit, sessions
from monitor.catalog.users import authenticate, get_user
from monitor.context import Context
from monitor.store import open_db

router = APIRouter()
MAX_FAILURES = 5
FAILURE_WINDOW = 300.0  # seconds


class LoginRequired(Exception):
    """Raised by `current_user` when nobody is logged in; the app redirects to /login."""


class RateLimiter:
    """Failed logins per (client, login) within a sliding window, in memory."""

    def __init__(self, limit: int = MAX_FAILURES, window: float = FAILURE_WINDOW):
        self.limit, self.window = limit, window
        self.failures: dict[tuple, deque] = defaultdict(deque)

    def blocked(self, key: tuple, now: float) -> bool:
        recent = self.failures[key]
        while recent and now - recent[0] > self.window:
            recent.popleft()
        return len(recent) >= self.limit

    def fail(self, key: tuple, now: float) -> None:
        self.failures[key].append(now)

    def reset(self, key: tuple) -> None:
        self.failures.pop(key, None)


limiter = RateLimiter()


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


def same_secret(sent: str, expected: str) -> bool:
    """Constant-time comparison of a token or secret that may hold any character
    (compare_digest refuses non-ASCII text, so both are compared as UTF-8 bytes)."""
    def raw(text: str) -> bytes:
        return text.encode("utf-8", "surrogatepass")

    return hmac.compare_digest(raw(sent), raw(expected))


async def check_csrf(request: Request) -> None:
    """A dependency for every state-changing form: the token must match the session's."""
    form = await request.form()
    sent = str(form.get("csrf_token") or "")
    expected = request.session.get("csrf") or ""
    if not expected or not same_secret(sent, expected):
        raise HTTPException(403, "Форма устарела или подделана (CSRF). Обновите страницу.")


def request_context(request: Request) -> Iterator[Context]:
    """A Context with its own database connection for this request.

    FastAPI may run this setup, the endpoint and the teardown in different pool
    threads, so the connection must not be bound to the thread that opened it (it is
    still used by one request at a time)."""
    base = request.app.state.ctx
    ctx = replace(base, db=open_db(base.db_path or base.settings.database, upgrade=False,
                                   check_same_thread=False))
    try:
        yield ctx
    finally:
        ctx.db.close()


CtxDep = Annotated[Context, Depends(request_context)]  # the request's Context


def start_session(request: Request, db, user: dict, now) -> None:
    """A fresh session (new id, new CSRF token) recorded server-side."""
    sid = secrets.token_urlsafe(32)
    sessions.start(db, sid, user["id"], _client(request), now)
    request.session.clear()
    request.session.update({"user_id": user["id"], "sid": sid})
    csrf_token(request)


def revoke_sessions(db, user_id: int, now, sid: str | None = None) -> int:
    """End one session (logout) or every session of a user (disabled, password reset)."""
    return sessions.revoke(db, user_id, now, sid)


def session_user(db, session: dict, now) -> dict | None:
    """The user of a cookie session while it is live: not logged out, not revoked by a
    password reset, the account not disabled. None otherwise."""
    user_id, sid = session.get("user_id"), session.get("sid")
    if not isinstance(user_id, int) or not isinstance(sid, str):
        return None
    user = get_user(db, user_id)
    return user if user is not None and sessions.is_live(db, sid, user_id, now) else None


def current_user(request: Request, ctx: CtxDep) -> dict:
    user = session_user(ctx.db, request.session, ctx.clock.now())
    if user is None:
        request.session.clear()
        raise LoginRequired()
    return user


UserDep = Annotated[dict, Depends(current_user)]  # the logged-in user, or a redirect


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"


def render(request: Request, template: str, status_code: int = 200, **context):
    context.setdefault("user", None)
    return request.app.state.templates.TemplateResponse(
        request, template, {"csrf_token": csrf_token(request), **context}, status_code=status_code
    )


def _safe_next(target: str | None) -> str:
    """Only a path on this site: no `//host`, no `/\\host` (browsers read it as `//`)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    if "\\" in target or any(ord(c) < 32 for c in target):
        return "/"
    return target


@router.get("/login")
def login_form(request: Request, next: str = "/"):
    return render(request, "login.html", next=_safe_next(next), error=None)


@router.post("/login", dependencies=[Depends(check_csrf)])
def login(request: Request, ctx: CtxDep, login: str = Form(...), password: str = Form(...),
          next: str = Form("/")):
    ip = _client(request)
    key = (ip, login.lower())
    now = time.monotonic()
    if limiter.blocked(key, now):
        audit.record(ctx.db, login[:100], "login_failed", f"user:{login[:100]}",
                     {"ip": ip, "reason": "rate_limited"}, ctx.clock.now())
        return render(request, "login.html", status_code=429, next=_safe_next(next),
                      error="Слишком много неудачных попыток. Подождите 5 минут.")
    user = authenticate(ctx.db, login, password)
    if user is None:
        limiter.fail(key, now)
        audit.record(ctx.db, login[:100], "login_failed", f"user:{login[:100]}",
                     {"ip": ip, "reason": "bad_credentials"}, ctx.clock.now())
        return render(request, "login.html", status_code=401, next=_safe_next(next),
                      error="Неверный логин или пароль.")
    limiter.reset(key)
    audit.record(ctx.db, user["login"], "login", f"user:{user['login']}", {"ip": ip},
                 ctx.clock.now())
    start_session(request, ctx.db, user, ctx.clock.now())
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout", dependencies=[Depends(check_csrf)])
def logout(request: Request, ctx: CtxDep):
    user_id = request.session.get("user_id")
    user = get_user(ctx.db, user_id) if user_id else None
    if user is not None:
        with ctx.db.atomic():
            revoke_sessions(ctx.db, user["id"], ctx.clock.now(), sid=request.session.get("sid", ""))
            audit.record(ctx.db, user["login"], "logout", f"user:{user['login']}",
                         {"ip": _client(request)}, ctx.clock.now())
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


def safe_url(value) -> str | None:
    """A link from a platform shown only if it is http(s): never `javascript:` or `data:`."""
    text = str(value or "").strip()
    return text if text.lower().startswith(("https://", "http://")) else None
