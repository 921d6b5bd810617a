"""What a platform made of a reply, in one record the publisher stores as it is.

`published`: the platform accepted it (the only case that counts as a reply);
`retry`: the platform said it did not take it, for now (429, flood control, a network
error before anything was sent) — tried again later by itself;
`failed`: a person must act (token expired, comments closed, post deleted, bot kicked);
`unknown`: the request went out and no answer came back — it may be published, so a
moderator checks before it is sent again.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

PUBLISHED, RETRY, FAILED, UNKNOWN = "published", "retry", "failed", "unknown"



@dataclass(frozen=True)
class Outcome:
    result: str  # published | retry | failed | unknown
    external_id: str | None = None  # the reply's id in the tsur form (owner_post_comment, chat_msg)
    url: str | None = None
    kind: str | None = None  # a key of FAILURE_TITLES
    reason: str | None = None  # the platform's own words
    retry_after: float | None = None  # seconds, when the platform said so

    @classmethod
    def accepted(cls, external_id: str, url: str | None = None) -> Outcome:
        return cls(PUBLISHED, external_id=external_id, url=url)

    @classmethod
    def refused(cls, kind: str, reason: str) -> Outcome:
        return cls(FAILED, kind=kind, reason=reason)


def post(client: httpx.Client, platform: str, url: str, **request):
    """(response, None), or (None, the outcome) when nothing was sent (retry) or the
    request went out and no answer came back (unknown: it may be published)."""
    try:
        return client.post(url, **request), None
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
        return None, Outcome(RETRY, kind="network", reason=f"{platform} not reached: {error}")
    except httpx.TransportError as error:
        return None, Outcome(UNKNOWN, kind="unknown",
                             reason=f"no answer from {platform} after sending: {error!r}")


def from_error_code(code, message: str, errors: dict, retry_after: dict) -> Outcome:
    """A platform's numbered error through its table of code -> (failure kind, the
    publisher tries again by itself); an unknown code is a failure of kind `other`."""
    kind, retry = errors.get(code, ("other", False))
    if retry:
        return Outcome(RETRY, kind=kind, reason=message, retry_after=retry_after.get(code))
    return Outcome(FAILED, kind=kind, reason=message)


def json_answer(response, platform: str):
    """The platform's JSON object, or an UNKNOWN outcome: it answered, so the reply may
    have gone out, and nobody must send it again blindly."""
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        return None, Outcome(UNKNOWN, kind="unknown",
                             reason=f"{platform} answered HTTP {response.status_code} without JSON: "
                                    f"{response.text[:200]!r}")
    return answer, None
