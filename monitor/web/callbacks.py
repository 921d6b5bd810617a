"""Platform callbacks: VK Callback API events, the Telegram, MAX and OK group webhooks.

Both platforms resend an event until they get a success answer, so an event is stored
in `callback_inbox` before the answer and `tsur collect` labels and ingests it from
there (the web request stays fast). The unique (platform, event id) key makes a
re-sent event harmless. No CSRF here: these are not forms; the shared secret proves
the sender.
"""

from __future__ import annotations

import hashlib
import hmac
import json

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse

from monitor.catalog.organisations import source_by_key
from monitor.collectors.inbox import store_event
from monitor.context import Context

router = APIRouter()

MAX_BODY = 1_000_000  # bytes; VK and Telegram events are far smaller


@router.post("/vk/callback")
async def vk_callback(request: Request):
    event = await _json(request)
    if event is None:
        return PlainTextResponse("expected a JSON object", status_code=400)
    return await run_in_threadpool(_with_db, request, _vk_event, event)


@router.post("/telegram/webhook")
async def telegram_webhook(request: Request):
    update = await _json(request)
    return await run_in_threadpool(_with_db, request, _telegram_update, update,
                                   request.headers.get("X-Telegram-Bot-Api-Secret-Token", ""))


@router.post("/max/webhook")
async def max_webhook(request: Request):
    update = await _json(request)
    return await run_in_threadpool(_with_db, request, _max_update, update,
                                   request.headers.get("X-Max-Bot-Api-Secret", ""))


@router.post("/ok/webhook/{secret}")
async def ok_webhook(request: Request, secret: str):
    message = await _json(request)
    return await run_in_threadpool(_with_db, request, _ok_message, message, secret)


def _with_db(request: Request, handler, *args):
    """A connection of this worker thread for this request (SQLite stays in its thread)."""
    ctx = request.app.state.ctx.fork()
    try:
        return handler(ctx, *args)
    finally:
        ctx.db.close()


def _vk_event(ctx: Context, event: dict):
    settings = ctx.settings
    group_id = _int(event.get("group_id"))
    if group_id is None or not _known_group(ctx, group_id):
        return PlainTextResponse("unknown community", status_code=404)
    secret = settings.secret("TSUR_VK_CALLBACK_SECRET")
    if not secret:
        return PlainTextResponse("the Callback API is not configured (TSUR_VK_CALLBACK_SECRET)",
                                 status_code=503)
    sent = event.get("secret")
    # VK may send the confirmation request before a secret is saved; every other event
    # must carry it.
    if (sent is not None or event.get("type") != "confirmation") and \
            not hmac.compare_digest(str(sent or ""), secret):
        return PlainTextResponse("wrong secret", status_code=403)
    if event.get("type") == "confirmation":
        code = settings.secret(f"TSUR_VK_CALLBACK_CONFIRMATION_{group_id}") or \
            settings.secret("TSUR_VK_CALLBACK_CONFIRMATION")
        if not code:
            return PlainTextResponse("no confirmation string (TSUR_VK_CALLBACK_CONFIRMATION)",
                                     status_code=503)
        return PlainTextResponse(code)
    event_id = str(event.get("event_id") or "")
    if not event_id:
        return PlainTextResponse("event without event_id", status_code=400)
    stored = {k: v for k, v in event.items() if k != "secret"}
    _store(ctx, "vk", group_id, event_id, stored)
    return PlainTextResponse("ok")


def _telegram_update(ctx: Context, update: dict | None, sent: str):
    secret = ctx.settings.secret("TSUR_TELEGRAM_WEBHOOK_SECRET")
    if not secret:
        return JSONResponse({"ok": False, "description": "webhook not configured"}, status_code=404)
    if not hmac.compare_digest(sent, secret):
        return JSONResponse({"ok": False, "description": "wrong secret token"}, status_code=403)
    if update is None or _int(update.get("update_id")) is None:
        return JSONResponse({"ok": False, "description": "expected an Update"}, status_code=400)
    _store(ctx, "telegram", None, str(update["update_id"]), update)
    return JSONResponse({"ok": True})


def _max_update(ctx: Context, update: dict | None, sent: str):
    """MAX resends an update until it gets 200 (for up to 8 hours). Updates carry no id of
    their own: the digest of the update is its key, so a resent one is stored once."""
    secret = ctx.settings.secret("TSUR_MAX_WEBHOOK_SECRET")
    if not secret:
        return JSONResponse({"success": False, "message": "webhook not configured"},
                            status_code=404)
    if not hmac.compare_digest(sent, secret):
        return JSONResponse({"success": False, "message": "wrong secret"}, status_code=403)
    if update is None or not update.get("update_type"):
        return JSONResponse({"success": False, "message": "expected an Update"}, status_code=400)
    digest = hashlib.sha256(json.dumps(update, sort_keys=True, ensure_ascii=False)
                            .encode("utf-8")).hexdigest()
    _store(ctx, "max", None, digest, update)
    return JSONResponse({"success": True})


def _ok_message(ctx: Context, message: dict | None, sent: str):
    """OK signs nothing it pushes: the secret part of the subscribed URL proves the sender."""
    secret = ctx.settings.secret("TSUR_OK_WEBHOOK_SECRET")
    if not secret or not hmac.compare_digest(sent, secret):
        return JSONResponse({"success": False}, status_code=404)
    mid = ((message or {}).get("message") or {}).get("mid")
    if not mid or not ((message or {}).get("recipient") or {}).get("chat_id"):
        return JSONResponse({"success": True})  # chat events other than messages: not stored
    _store(ctx, "ok", None, str(mid), message)
    return JSONResponse({"success": True})


async def _json(request: Request) -> dict | None:
    body = await request.body()
    if len(body) > MAX_BODY:
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _store(ctx: Context, platform: str, group_id: int | None, event_id: str, payload: dict) -> None:
    store_event(ctx.db, platform, group_id, event_id, payload, ctx.clock.now())


def _known_group(ctx: Context, group_id: int) -> bool:
    if any(o.vk_group_id == group_id for o in ctx.settings.organisations):
        return True
    source = source_by_key(ctx.db, f"vk:-{group_id}")
    return source is not None and source["removed_at"] is None


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
