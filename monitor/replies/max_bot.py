"""MAX Bot API `POST /messages` as a reply to the resident's message, and what answers mean.

The reply links to the resident's message (`link` of type `reply`) in the same chat or
dialog, from the ЦУР's bot. The text goes as plain text (no `format`), exactly as
approved. The API has no idempotency key, so a message is sent at most once by the
publisher; after a lost answer it waits for a moderator (`unknown`).
"""

from __future__ import annotations

import httpx

from .outcome import FAILED, RETRY, UNKNOWN, Outcome, json_answer, post

MAX_TEXT = 4000
DEFAULT_RETRY = 5.0  # seconds after a 429 without Retry-After


def send(client: httpx.Client, base_url: str, token: str, params: dict) -> Outcome:
    text = params["text"]
    if len(text) > MAX_TEXT:
        return Outcome(FAILED, kind="too_long", reason=f"{len(text)} characters; MAX takes {MAX_TEXT}")
    query = {k: params[k] for k in ("chat_id", "user_id") if params.get(k) is not None}
    body = {"text": text, "notify": True}
    if params.get("reply_to"):
        body["link"] = {"type": "reply", "mid": params["reply_to"]}
    response, lost = post(client, "MAX", f"{base_url.rstrip('/')}/messages", params=query, json=body,
                               headers={"Authorization": token})
    if lost:
        return lost
    answer, unreadable = json_answer(response, "MAX")
    if unreadable:
        return unreadable
    status = response.status_code
    message = answer.get("message")
    if status == 200 and isinstance(message, dict) and (message.get("body") or {}).get("mid"):
        chat_id = (message.get("recipient") or {}).get("chat_id") or params.get("chat_id")
        return Outcome.accepted(f"{chat_id}_{message['body']['mid']}", message.get("url"))
    if status == 200:
        return Outcome(UNKNOWN, kind="unknown",
                       reason=f"MAX answered without a message id: {str(answer)[:200]}")
    description = f"MAX {status} {answer.get('code') or ''}: {answer.get('message') or 'no message'}"
    if status == 429:
        return Outcome(RETRY, kind="rate_limited", reason=description,
                       retry_after=_retry_after(response))
    if status >= 500:
        return Outcome(RETRY, kind="server", reason=description)
    return Outcome(FAILED, kind=_kind(status, description.lower()), reason=description)


def _kind(status: int, description: str) -> str:
    if status == 401:
        return "token"
    if status == 404:
        return "deleted"
    if status == 403:
        return "access"
    if "length" in description or "too long" in description:
        return "too_long"
    return "other"


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(float(response.headers.get("Retry-After", "")), 1.0)
    except ValueError:
        return DEFAULT_RETRY
