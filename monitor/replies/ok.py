"""A comment from the group under the same OK topic (`discussions.addDiscussionComment`,
answering the resident's comment through `reply_to_comment_id`), and what OK's answers
mean for the reply.

The request is signed like every OK call (monitor.collectors.ok.signature) with the
application's keys and the session of a group administrator; the comment is the
group's official answer (`as_admin`). OK has no idempotency key, so a comment is sent
at most once by the publisher; after a lost answer it waits for a moderator (`unknown`).
The shape of the answer is a guess (see tests/fakes/ok.py): an object with `id`, or the
id itself.
"""

from __future__ import annotations

import httpx

from monitor.collectors.ok.convert import topic_url
from monitor.collectors.ok.signature import signed

from .outcome import FAILED, UNKNOWN, Outcome, from_error_code, json_answer, post

MAX_TEXT = 4096  # GUESS: OK documents no limit for a comment; longer replies are refused
# OK error code -> (failure kind, the publisher tries again by itself)
ERRORS = {
    1: ("server", True), 2: ("server", True), 8: ("rate_limited", True),
    10: ("comments_closed", False), 200: ("access", False), 210: ("access", False),
    101: ("token", False), 102: ("token", False), 103: ("token", False), 104: ("token", False),
    300: ("deleted", False),
}
RETRY_AFTER = {8: 60.0}


def send(client: httpx.Client, base_url: str, token: str, params: dict, application_key: str,
         application_secret_key: str) -> Outcome:
    if len(params["text"]) > MAX_TEXT:
        return Outcome(FAILED, kind="too_long",
                       reason=f"{len(params['text'])} characters; tsur sends at most {MAX_TEXT} to OK")
    data = signed("discussions.addDiscussionComment", {
        "entityId": params["topic_id"], "entityType": "GROUP_TOPIC", "comment": params["text"],
        "reply_to_comment_id": params.get("reply_to"), "as_admin": "true"},
        application_key=application_key, access_token=token,
        application_secret_key=application_secret_key)
    response, lost = post(client, "OK", f"{base_url.rstrip('/')}/fb.do", data=data)
    if lost:
        return lost
    try:
        bare = response.json()
    except ValueError:
        bare = None
    if isinstance(bare, str | int) and str(bare):
        answer = {"id": str(bare)}
    else:
        answer, unreadable = json_answer(response, "OK")
        if unreadable:
            return unreadable
    if "error_code" in answer:
        return refusal(answer)
    if not answer.get("id"):
        return Outcome(UNKNOWN, kind="unknown", reason=f"OK answered without a comment id: "
                                                       f"{str(answer)[:200]}")
    group, topic = params["group_id"], params["topic_id"]
    return Outcome.accepted(f"{group}_{topic}_{answer['id']}", topic_url(group, topic))


def refusal(answer: dict) -> Outcome:
    """An OK error answer ({"error_code", "error_msg"}) as the reply's outcome."""
    code = answer.get("error_code")
    return from_error_code(code, f"OK error {code}: {answer.get('error_msg') or 'no message'}",
                           ERRORS, RETRY_AFTER)
