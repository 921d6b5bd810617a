"""`wall.createComment` from a community, and what each VK answer means for the reply.

The `guid` parameter is the reply's idempotency key: VK refuses to create a second
comment with the same guid, so a reply sent again by a moderator's retry cannot
appear twice.
"""

from __future__ import annotations

import httpx

from .outcome import UNKNOWN, Outcome, from_error_code, json_answer, post

API_VERSION = "5.199"

# VK error code -> (failure kind, the publisher tries again by itself)
ERRORS = {
    5: ("token", False),  # authorization failed: token expired or revoked
    6: ("rate_limited", True),  # too many requests per second
    9: ("rate_limited", True),  # flood control
    10: ("server", True),  # internal server error
    14: ("captcha", False),
    15: ("comments_closed", False),  # access denied: comments closed, or no right to comment
    18: ("deleted", False),  # page deleted or banned
    29: ("rate_limited", True),  # daily quota
    30: ("access", False),  # private profile
    100: ("deleted", False),  # invalid parameter: the post (or comment) is gone
    212: ("comments_closed", False),
    213: ("comments_closed", False),  # no access to comments of the post
    222: ("other", False),  # hyperlinks forbidden
    223: ("other", False),  # too many replies
}
RETRY_AFTER = {6: 1.0, 9: 60.0, 10: 30.0, 29: 3600.0}


def send(client: httpx.Client, base_url: str, token: str, params: dict) -> Outcome:
    data = {k: str(v) for k, v in params.items() if v is not None}
    data.update(access_token=token, v=API_VERSION)
    response, lost = post(client, "VK", f"{base_url.rstrip('/')}/wall.createComment", data=data)
    if lost:
        return lost
    answer, unreadable = json_answer(response, "VK")
    if unreadable:
        return unreadable
    if "error" in answer:
        error = answer["error"] if isinstance(answer["error"], dict) else {}
        code = error.get("error_code")
        message = f"VK error {code}: {error.get('error_msg') or 'no message'}"
        return from_error_code(code, message, ERRORS, RETRY_AFTER)
    result = answer.get("response")
    if not isinstance(result, dict) or not result.get("comment_id"):
        return Outcome(UNKNOWN, kind="unknown", reason=f"VK answered without a comment id: "
                                                       f"{str(answer)[:200]}")
    owner, post_id, comment_id = params["owner_id"], params["post_id"], int(result["comment_id"])
    stack = result.get("parents_stack") or []
    thread = stack[0] if stack else params.get("reply_to_comment")
    url = f"https://vk.com/wall{owner}_{post_id}?reply={comment_id}"
    if thread:
        url += f"&thread={thread}"
    return Outcome.accepted(f"{owner}_{post_id}_{comment_id}", url)
