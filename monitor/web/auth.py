"""Log in and out, the current user, CSRF tokens and login rate limiting."""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse

from monitor.catalog import audit, sessions
from monitor.catalog.users import authenticate, get_user
from monitor.context import Context
from monitor.store import open_db

router = APIRouter()
MAX_FAILURES = 5  # per address and login
MAX_ADDRESS_FAILURES = 20  # per address, whatever the logins tried
FAILURE_WINDOW = 300.0  # seconds
HASH_SLOTS = 4  # argon2 checks at once (64 MiB each); more wait briefly, then get a 429
HASH_WAIT = 2.0  # seconds a login waits for a free slot


class LoginRequired(Exception):
    """Raised by `current_user` when nobody is logged in; the app redirects to /login."""


class RateLimiter:
    """Failed logins within a sliding window, in memory: per (address, login), and per
    address alone, so one address cannot try login after login."""

    def __init__(self, limit: int = MAX_FAILURES, per_address: int = MAX_ADDRESS_FAILURES,
                 window: float = FAILURE_WINDOW):
        self.limit, self.per_address, self.window = limit, per_address, window
        self.failures: dict[tuple, deque] = {}
        self.lock = threading.Lock()  # logins are checked in several threads at once

    def blocked(self, ip: str, login: str, now: float) -> bool:
        with self.lock:
            return (self._recent((ip, login.lower()), now) >= self.limit
                    or self._recent((ip,), now) >= self.per_address)

    def fail(self, ip: str, login: str, now: float) -> None:
        with self.lock:
            for key in ((ip, login.lower()), (ip,)):
                self.failures.setdefault(key, deque()).append(now)

    def reset(self, ip: str, login: str) -> None:
        with self.lock:
            self.failures.pop((ip, login.lower()), None)

    def _recent(self, key: tuple, now: float) -> int:
        """Failures of `key` within the window; keys with none are dropped (a flood of
        made-up logins must not grow the table)."""
        recent = self.failures.get(key)
        while recent and now - recent[0] > self.window:
            recent.popleft()
        if not recent:
            self.failures.pop(key, None)
            return 0
        return len(recent)


limiter = RateLimiter()


def hash_slots() -> threading.BoundedSemaphore:
    """The password checks one app runs at once: each argon2 check takes 64 MiB."""
    return threading.BoundedSemaphore(HASH_SLOTS)


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


STALE_FORM = "Форма устарела или подделана (CSRF). Обновите страницу."


async def check_csrf(request: Request) -> None:
    """A dependency for every state-changing form: the token must match the session's."""
    form = await request.form()
    if not csrf_matches(request, str(form.get("csrf_token") or "")):
        raise HTTPException(403, STALE_FORM)


def csrf_matches(request: Request, sent: str) -> bool:
    """Whether a form's token is this session's (for a route that answers a stale form
    itself, keeping what was typed)."""
    expected = request.session.get("csrf") or ""
    return bool(expected) and same_secret(sent, expected)


def request_context(request: Request) -> Iterator[Context]:
    """A Context with its own database connection for this request.

    FastAPI may run this setup, the endpoint and the teardown in different pool
    threads, so the connection must not be bound to the thread that opened it (it is
    still used by one request at a time)."""
    base = request.app.state.ctx
    ctx = replace(base, db=open_db(base.db_path or base.settings.database, upgrade=False,
                                   check_same_thread=False))
    request.state.ctx = ctx  # for the template helpers the page calls (`reading`)
    try:
        yield ctx
    finally:
        request.state.ctx = None
        ctx.db.close()


@contextmanager
def reading(request: Request) -> Iterator[Context]:
    """The request's Context for a template helper or an error page; a connection of its
    own (closed after) where the request has none (a page without one, a request already
    torn down). A page used to open a connection per helper it rendered."""
    ctx = getattr(request.state, "ctx", None)
    if ctx is not None:
        yield ctx
        return
    ctx = request.app.state.ctx.fork()
    try:
        yield ctx
    finally:
        ctx.db.close()


CtxDep = Annotated[Context, Depends(request_context)]  # the request's Context


def start_session(request: Request, db, user: dict, now) -> None:
    """A fresh session (new id, new CSRF token) recorded server-side."""
    sid = secrets.token_urlsafe(32)
    sessions.start(db, sid, user["id"], client_address(request), now)
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


def client_address(request: Request) -> str:
    """The client's address: a trusted proxy's X-Forwarded-For was already applied to it."""
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
    ip = client_address(request)
    now = time.monotonic()

    def refuse(status: int, error: str, reason: str | None = None):
        if reason:
            audit.record(ctx.db, login[:100], "login_failed", f"user:{login[:100]}",
                         {"ip": ip, "reason": reason}, ctx.clock.now())
        return render(request, "login.html", status_code=status, next=_safe_next(next),
                      error=error)

    if limiter.blocked(ip, login, now):
        return refuse(429, "Слишком много неудачных попыток. Подождите 5 минут.", "rate_limited")
    slots = request.app.state.hash_slots
    if not slots.acquire(timeout=HASH_WAIT):
        return refuse(429, "Сервер сейчас проверяет много входов. Повторите через минуту.",
                      "busy")
    try:
        user = authenticate(ctx.db, login, password)
    finally:
        slots.release()
    if user is None:
        limiter.fail(ip, login, now)
        return refuse(401, "Неверный логин или пароль.", "bad_credentials")
    limiter.reset(ip, login)
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
                         {"ip": client_address(request)}, ctx.clock.now())
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


def safe_url(value) -> str | None:
    """A link from a platform shown only if it is http(s): never `javascript:` or `data:`."""
    text = str(value or "").strip()
    return text if text.lower().startswith(("https://", "http://")) else None
