"""Replay a JSON Lines file of posts as if a live collector had just read them.

One line is one post: ``{"source", "external_id", "channel", "created_at", "text",
"author_id", "author_name", "url", "parent_id"}``. A bad line is reported with its
number and skipped; the rest of the file is still replayed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from monitor.clock import parse_time
from monitor.ingest.post import Post

REQUIRED = ("source", "external_id", "channel", "created_at", "text")


@dataclass(frozen=True)
class BadLine:
    line: int
    error: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.error}"


def read_posts(path: str | Path, *, shift: timedelta = timedelta(0)) -> Iterator[Post | BadLine]:
    """Yield a Post per good line and a BadLine per bad one, in file order.

    `shift` moves every timestamp (the demo re-bases the stream on today).
    """
    with open(path, encoding="utf-8") as stream:
        for number, line in enumerate(stream, 1):
            if not line.strip():
                continue
            try:
                yield post_from_json(json.loads(line), shift=shift)
            except json.JSONDecodeError as error:
                yield BadLine(number, f"not valid JSON ({error.msg} at column {error.colno})")
            except (KeyError, TypeError, ValueError) as error:
                yield BadLine(number, str(error))


def post_from_json(record: dict, *, shift: timedelta = timedelta(0)) -> Post:
    if not isinstance(record, dict):
        raise ValueError("expected a JSON object")
    missing = [name for name in REQUIRED if record.get(name) in (None, "")]
    if missing and missing != ["text"]:
        raise ValueError(f"missing field(s): {', '.join(missing)}")
    return Post(
        source=str(record["source"]),
        external_id=str(record["external_id"]),
        channel=record["channel"],
        text=record.get("text") or "",
        created_at=parse_time(str(record["created_at"])) + shift,
        author_id=record.get("author_id"),
        author_name=record.get("author_name"),
        url=record.get("url"),
        parent_id=record.get("parent_id"),
        raw=record,
    )


def stream_end(path: str | Path):
    """The latest timestamp in a stream (to re-base a replay on the present)."""
    latest = None
    for item in read_posts(path):
        if isinstance(item, Post) and (latest is None or item.created_at > latest):
            latest = item.created_at
    return latest
