"""Bot API `sendMessage` as a reply to the resident's message, and what answers mean.

The text goes as plain text (no `parse_mode`): whatever an official typed, `<b>`,
`*stars*` or a link, reaches the resident as written. The Bot API has no idempotency
key, so a message is sent at most once by the publisher; after a lost answer it waits
for a moderator (`unknown`).
"""

from __future__ import annotations

import httpx

from monitor.catalog.channels import message_url

from .outcome import FAILED, RETRY, Outcome, json_answer, post

MAX_TEXT = 4096


def send(client: httpx.Client, base_url: str, token: str, params: dict) -> Outcome:
    if len(params["text"]) > MAX_TEXT:
        return Outcome(FAILED, kind="too_long",
                       reason=f"{len(params['text'])} characters; Telegram takes {MAX_TEXT}")
    response, lost = post(client, "Telegram", f"{base_url.rstrip('/')}/bot{token}/sendMessage",
                          json=params)
    if lost:
        return lost
    answer, unreadable = json_answer(response, "Telegram")
    if unreadable:
        return unreadable
    if answer.get("ok") and isinstance(answer.get("result"), dict):
        message = answer["result"]
        chat_id = (message.get("chat") or {}).get("id", params["chat_id"])
        message_id = message.get("message_id")
        return Outcome.accepted(f"{chat_id}_{message_id}",
                                message_url(chat_id, (message.get("chat") or {}).get("username"),
                                            message_id))
    code = answer.get("error_code") or response.status_code
    description = f"Telegram {code}: {answer.get('description') or 'no description'}"
    if code == 429:
        retry_after = (answer.get("parameters") or {}).get("retry_after")
        return Outcome(RETRY, kind="rate_limited", reason=description,
                       retry_after=float(retry_after) if retry_after else None)
    if isinstance(code, int) and code >= 500:
        return Outcome(RETRY, kind="server", reason=description)
    return Outcome(FAILED, kind=_kind(code, description.lower()), reason=description)


def _kind(code, description: str) -> str:
    if code == 401:
        return "token"
    if "not found" in description and ("message" in description or "replied" in description):
        return "deleted"
    if code == 403 or "chat not found" in description or "rights" in description:
        return "access"
    if "too long" in description:
        return "too_long"
    return "other"
