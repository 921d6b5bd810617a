"""What a collector is: one step that reads a source from its cursor onward.

A collector never writes to the database. It returns a Batch; the runner hands it
to `ingest`, which stores the posts, the deletions and the new cursor in one
transaction. So a collector killed at any moment resumes from the last stored cursor,
and the unique (source, external id) key makes a re-read harmless.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Protocol

from monitor.ingest.post import Post
from monitor.settings import ConfigError


@dataclass
class Batch:
    posts: list[Post]
    cursor: dict  # where the next step starts; JSON-serialisable
    deleted: list[str] = field(default_factory=list)  # external ids gone from the platform
    more: bool = False  # True if the source has more waiting right now
    rejected: list = field(default_factory=list)  # records.Rejected: items left out, and why


class SourceError(Exception):
    """A source cannot be read; `kind` says what the runner should do about it.

    kinds: "retry" (transient: back off and retry), "auth" (token dead: mark failing,
    alert), "access" (no access, deleted, private, closed: mark and go on),
    "quota" (daily limit: pause until `retry_after`), "layout" (the page changed shape).
    """

    def __init__(self, message: str, kind: str = "retry", retry_after: float | None = None,
                 code: int | None = None):
        super().__init__(message)
        self.kind, self.retry_after, self.code = kind, retry_after, code


class Collector(Protocol):
    source_key: str

    async def step(self, cursor: dict | None) -> Batch:
        """Read what is new since `cursor`; raise SourceError when the source fails."""


def options_from_table(cls, table: dict | None, section: str):
    """A collector's options dataclass from its tsur.toml table; an unknown name or a
    wrong value is a ConfigError naming the table."""
    table = dict(table or {})
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(f"[{section}]: unknown setting(s) {', '.join(unknown)};"
                          f" known: {', '.join(sorted(known))}")
    try:
        return cls(**table)
    except TypeError as error:
        raise ConfigError(f"[{section}]: {error}") from None
