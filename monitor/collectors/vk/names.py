"""A VK screen name (podslushano_bor) → the owner id tsur keys a wall by (-100020).

`tsur sources add vk <screen name>` asks utils.resolveScreenName once, by hand: error 6
(too many requests a second — another tsur on the same token, or a burst) is answered
by a short wait and another try instead of a refusal; anything else is said at once.
"""

from __future__ import annotations

import time

from monitor.collectors.base import SourceError

from .client import VkClient

RETRY_WAITS = (0.4, 1.0, 2.0)  # seconds before each new try after error 6
TOO_MANY_REQUESTS = 6
COMMUNITY_TYPES = ("group", "page", "event")


class NameProblem(Exception):
    """The name cannot be turned into a community id; the message says why."""


def resolve_screen_name(client: VkClient, screen_name: str, *, sleep=time.sleep) -> str:
    """The community's owner id, e.g. "-100020"."""
    for wait in (*RETRY_WAITS, None):
        try:
            answer = client.call_sync("utils.resolveScreenName", {"screen_name": screen_name})
            break
        except SourceError as error:
            if error.code != TOO_MANY_REQUESTS or wait is None:
                raise NameProblem(f"cannot resolve {screen_name!r}: {error}") from None
            sleep(wait)
    if not answer:
        raise NameProblem(f"VK knows no page named {screen_name!r}")
    if answer.get("type") in COMMUNITY_TYPES:
        return f"-{answer['object_id']}"
    raise NameProblem(f"{screen_name!r} is a VK {answer.get('type')}, not a community")
