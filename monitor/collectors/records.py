"""One record at a time: a malformed item in a platform's answer costs only itself.

An API answer is hostile input like a JSON Lines file (monitor.ingest.lines): an item of
the wrong type, a lone surrogate (`"\\ud800"`), an id above 2^63, a date of year 1 or
9999, junk nested where an object belongs. Each item is converted on its own; one that
cannot be is reported with its place and the reason (Batch.rejected, logged by the
runner) and skipped, and the rest of the answer goes on. Text is never dropped for a
character: every string of a post, its raw copy included, has unpaired surrogates
replaced by U+FFFD (SQLite could not store them), as lines.py does for files.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from monitor.ingest.lines import without_surrogates
from monitor.ingest.post import Post

MAX_ID = 2**63 - 1  # platforms' ids are signed 64-bit; anything larger is not an id
# No platform tsur reads existed before 2000; a post dated after 2100 is not a post.
EARLIEST, LATEST = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
# What converting a malformed item raises (RecursionError: JSON junk nested too deep).
MALFORMED = (KeyError, IndexError, TypeError, ValueError, AttributeError, OverflowError,
             RecursionError)


@dataclass(frozen=True)
class Rejected:
    """A record left out: where it was in the answer, and why."""

    where: str
    error: str

    def __str__(self) -> str:
        return f"{self.where}: {self.error}"


def reason(error: BaseException) -> str:
    if isinstance(error, KeyError):
        return f"missing field {error.args[0]!r}" if error.args else "a field is missing"
    if isinstance(error, RecursionError):
        return "nested too deeply"
    return f"{type(error).__name__}: {error}"[:300]


def each(items: Iterable, where: str, convert: Callable) -> tuple[list, list[Rejected]]:
    """`convert(item)` for each item of an answer, each on its own: (what came out, the
    items left out). `where` names the answer, e.g. "VK wall.get -100002"; an item is
    placed by its number in it. A convert that returns a list contributes every element."""
    out, rejected = [], []
    for number, item in enumerate(items, 1):
        try:
            result = convert(item)
        except MALFORMED as error:
            rejected.append(Rejected(f"{where}, item {number}", reason(error)))
            continue
        if isinstance(result, list):
            out += result
        elif result is not None:
            out.append(result)
    return out, rejected


def platform_id(value, name: str = "id") -> int:
    """An id as the platforms send it (a number, or digits as text), within 64 bits."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"{name} must be a number, not {type(value).__name__}")
    if isinstance(value, str) and not value.lstrip("-").isdigit():
        raise ValueError(f"{name} must be a number, not {value[:40]!r}")
    number = int(value)
    if abs(number) > MAX_ID:
        raise ValueError(f"{name} {str(value)[:40]} is beyond 64 bits")
    return number


def number(value) -> int:
    """A count, an offset or a unix time from an answer; 0 for anything that is not a sane
    non-negative number (a cursor must never be moved by junk)."""
    try:
        return max(platform_id(value or 0), 0)
    except ValueError:
        return 0


def unix_time(value) -> int:
    """A unix time within the years a post can have, else 0."""
    seconds = number(value)
    return seconds if EARLIEST.timestamp() <= seconds < LATEST.timestamp() else 0


def sound(post: Post) -> Post:
    """The post with every lone surrogate replaced; ValueError for a date no platform
    could have given."""
    if not EARLIEST <= post.created_at < LATEST:
        raise ValueError(f"date {post.created_at.isoformat()} is out of range")
    changes = {name: without_surrogates(getattr(post, name))
               for name in ("source", "external_id", "text", "author_id", "author_name", "url",
                            "parent_id", "raw")}
    return dataclasses.replace(post, **changes)


def screened(posts: Iterable[Post]) -> tuple[list[Post], list[Rejected]]:
    """Every post of a batch through `sound`; those that fail are left out with a reason."""
    kept, rejected = [], []
    for post in posts:
        try:
            kept.append(sound(post))
        except MALFORMED as error:
            rejected.append(Rejected(without_surrogates(f"{post.source}, post {post.external_id}"),
                                     reason(error)))
    return kept, rejected


def clean_deleted(deleted: Iterable) -> list:
    """Deletions (external ids, or (source, external id) pairs) with surrogates replaced."""
    return [tuple(without_surrogates(list(d))) if isinstance(d, tuple) else without_surrogates(d)
            for d in deleted]
