"""Platform callbacks: VK Callback API events, the Telegram, MAX and OK group webhooks.

Both platforms resend an event until they get a success answer, so an event is stored
in `callback_inbox` before the answer and `tsur collect` labels and ingests it from
there (the web request stays fast). The unique (platform, event id) key makes a
re-sent event harmless. No CSRF here: these are not forms; the shared secret proves
the sender.
"""

from __future__ import annotations

import hashlib
import json

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse

from monitor.catalog.organisations import source_by_key
from monitor.collectors.inbox import store_event
from monitor.context import Context
from monitor.ingest.lines import without_surrogates

from .auth import same_secret

router = APIRouter()

MAX_BODY = 1_000_000  # bytes; the platforms' events are far smaller
MAX_DEPTH = 64  # nesting levels; real events use about ten


class Refused(Exception):
    """A body refused before it was parsed: too large, not JSON, too deep."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


@router.post("/vk/callback")
async def vk_callback(request: Request):
    # VK puts the secret inside the body: the size is the only check before reading it.
    try:
        event = await _json(request)
    except Refused as refused:
        return PlainTextResponse(refused.reason, status_code=refused.status)
    if event is None:
        return PlainTextResponse("expected a JSON object", status_code=400)
    return await run_in_threadpool(_with_db, request, _vk_event, event)


@router.post("/telegram/webhook")
async def telegram_webhook(request: Request):
    return await _signed_by_header(request, "TSUR_TELEGRAM_WEBHOOK_SECRET",
                                   "X-Telegram-Bot-Api-Secret-Token", _telegram_refusal,
                                   _telegram_update)


@router.post("/max/webhook")
async def max_webhook(request: Request):
    return await _signed_by_header(request, "TSUR_MAX_WEBHOOK_SECRET", "X-Max-Bot-Api-Secret",
                                   _max_refusal, _max_update)


def _telegram_refusal(status: int, description: str):
    return JSONResponse({"ok": False, "description": description}, status_code=status)


def _max_refusal(status: int, message: str):
    return JSONResponse({"success": False, "message": message}, status_code=status)


async def _signed_by_header(request: Request, secret_name: str, header: str, refusal, handler):
    """Telegram and MAX send their secret in a header: it is checked, and then the size,
    before a byte of the body is read."""
    secret = request.app.state.ctx.settings.secret(secret_name)
    if not secret:
        return refusal(404, "webhook not configured")
    if not same_secret(request.headers.get(header, ""), secret):
        return refusal(403, "wrong secret")
    try:
        update = await _json(request)
    except Refused as refused:
        return refusal(refused.status, refused.reason)
    return await run_in_threadpool(_with_db, request, handler, update)


@router.post("/ok/webhook/{secret}")
async def ok_webhook(request: Request, secret: str):
    """OK signs nothing it pushes: the secret part of the subscribed URL proves the sender."""
    expected = request.app.state.ctx.settings.secret("TSUR_OK_WEBHOOK_SECRET")
    if not expected or not same_secret(secret, expected):
        return JSONResponse({"success": False}, status_code=404)
    try:
        message = await _json(request)
    except Refused as refused:
        return JSONResponse({"success": False, "message": refused.reason},
                            status_code=refused.status)
    return await run_in_threadpool(_with_db, request, _ok_message, message)


def _with_db(request: Request, handler, *args):
    """A connection of this worker thread for this request (SQLite stays in its thread)."""
    ctx = request.app.state.ctx.fork()
    try:
        return handler(ctx, *args)
    finally:
        ctx.db.close()


def _vk_event(ctx: Context, event: dict):
    """A wrong secret and an unknown community get one answer: no configured id leaks."""
    settings = ctx.settings
    secret = settings.secret("TSUR_VK_CALLBACK_SECRET")
    if not secret:
        return PlainTextResponse("the Callback API is not configured (TSUR_VK_CALLBACK_SECRET)",
                                 status_code=503)
    sent = event.get("secret")
    refused = PlainTextResponse("wrong secret or community", status_code=403)
    # VK may send the confirmation request before a secret is saved; every other event
    # must carry it.
    if (sent is not None or event.get("type") != "confirmation") and \
            not same_secret(sent if isinstance(sent, str) else "", secret):
        return refused
    group_id = _int(event.get("group_id"))
    if group_id is None or not _known_group(ctx, group_id):
        return refused
    if event.get("type") == "confirmation":
        code = settings.secret(f"TSUR_VK_CALLBACK_CONFIRMATION_{group_id}") or \
            settings.secret("TSUR_VK_CALLBACK_CONFIRMATION")
        if not code:
            return PlainTextResponse("no confirmation string (TSUR_VK_CALLBACK_CONFIRMATION)",
                                     status_code=503)
        return PlainTextResponse(code)
    event_id = event.get("event_id")
    if not isinstance(event_id, str | int) or isinstance(event_id, bool) or not str(event_id):
        return PlainTextResponse("event without event_id", status_code=400)
    if not isinstance(event.get("object"), dict):  # every VK event carries one
        return PlainTextResponse("event without an object", status_code=400)
    stored = {k: v for k, v in event.items() if k != "secret"}
    _store(ctx, "vk", group_id, str(event_id), stored)
    return PlainTextResponse("ok")


def _telegram_update(ctx: Context, update: dict | None):
    if update is None or _int(update.get("update_id")) is None:
        return _telegram_refusal(400, "expected an Update")
    _store(ctx, "telegram", None, str(_int(update["update_id"])), update)
    return JSONResponse({"ok": True})


def _max_update(ctx: Context, update: dict | None):
    """MAX resends an update until it gets 200 (for up to 8 hours). Updates carry no id of
    their own: the digest of the update is its key, so a resent one is stored once."""
    if update is None or not isinstance(update.get("update_type"), str) or not update["update_type"]:
        return _max_refusal(400, "expected an Update")
    digest = hashlib.sha256(json.dumps(update, sort_keys=True, ensure_ascii=False)
                            .encode("utf-8")).hexdigest()
    _store(ctx, "max", None, digest, update)
    return JSONResponse({"success": True})


def _ok_message(ctx: Context, message: dict | None):
    if message is None:
        return JSONResponse({"success": False, "message": "expected a JSON object"},
                            status_code=400)
    inner, recipient = message.get("message"), message.get("recipient")
    mid = inner.get("mid") if isinstance(inner, dict) else None
    chat = recipient.get("chat_id") if isinstance(recipient, dict) else None
    if not isinstance(mid, str | int) or isinstance(mid, bool) or not str(mid) or not chat:
        return JSONResponse({"success": True})  # chat events other than messages: not stored
    _store(ctx, "ok", None, str(mid), message)
    return JSONResponse({"success": True})


async def _body(request: Request, limit: int = MAX_BODY) -> bytes:
    """The body, refused as soon as its declared or streamed size passes `limit`:
    a huge POST is never held in memory."""
    declared = request.headers.get("content-length", "")
    if declared and (not declared.isdigit() or int(declared) > limit):
        raise Refused(413, "body too large")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Refused(413, "body too large")
        chunks.append(chunk)
    return b"".join(chunks)


async def _json(request: Request) -> dict | None:
    """The JSON object of the body with lone surrogates replaced; None if it is not one."""
    body = await _body(request)
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    if _depth(data) > MAX_DEPTH:
        raise Refused(400, "JSON nested too deeply")
    return without_surrogates(data)


def _depth(value) -> int:
    """How deeply a parsed JSON value nests (without recursion: any depth is safe)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            break
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        stack.extend((child, level + 1) for child in children if isinstance(child, dict | list))
    return deepest


def _store(ctx: Context, platform: str, group_id: int | None, event_id: str, payload: dict) -> None:
    store_event(ctx.db, platform, group_id, event_id, payload, ctx.clock.now())


def _known_group(ctx: Context, group_id: int) -> bool:
    if any(o.vk_group_id == group_id for o in ctx.settings.organisations):
        return True
    source = source_by_key(ctx.db, f"vk:-{group_id}")
    return source is not None and source["removed_at"] is None


def _int(value) -> int | None:
    """An id that fits SQLite's integer (a bool, a float or a huge number is not one)."""
    if isinstance(value, bool | float):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if -2**63 <= number < 2**63 else None
