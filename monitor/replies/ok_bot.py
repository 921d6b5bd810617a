"""A message from the group back into the resident's OK chat (the group Bot API,
`POST graph/me/messages/<chat>` with the group's token), and what OK's answers mean.

The Bot API has no idempotency key: a message is sent at most once by the publisher,
and after a lost answer it waits for a moderator (`unknown`). What OK answers for a chat
message is not documented: `success` (and `message_id` when given) counts as accepted.
"""

from __future__ import annotations

import httpx

from .ok import MAX_TEXT, refusal
from .outcome import FAILED, UNKNOWN, Outcome, json_answer, post


def send(client: httpx.Client, base_url: str, token: str, params: dict) -> Outcome:
    if len(params["text"]) > MAX_TEXT:
        return Outcome(FAILED, kind="too_long",
                       reason=f"{len(params['text'])} characters; tsur sends at most {MAX_TEXT} to OK")
    chat = params["chat_id"]
    body = {"recipient": {"chat_id": chat}, "message": {"text": params["text"]}}
    response, lost = post(client, "OK", f"{base_url.rstrip('/')}/graph/me/messages/{chat}",
                               params={"access_token": token}, json=body)
    if lost:
        return lost
    answer, unreadable = json_answer(response, "OK")
    if unreadable:
        return unreadable
    if "error_code" in answer:
        return refusal(answer)
    if answer.get("success") is not True and not answer.get("message_id"):
        return Outcome(UNKNOWN, kind="unknown", reason=f"OK answered without success: "
                                                       f"{str(answer)[:200]}")
    return Outcome.accepted(f"{chat}_{answer.get('message_id') or 'sent'}")
