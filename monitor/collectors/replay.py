"""Replay a JSON Lines file of posts as if a live collector had just read them.

One line is one post: ``{"source", "external_id", "channel", "created_at", "text",
"author_id", "author_name", "url", "parent_id"}``. A bad line is reported with its
number and skipped (monitor.ingest.lines: invalid UTF-8, broken or too deep JSON, a
list where text belongs, an impossible date); the rest of the file is still replayed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

from monitor.clock import parse_time
from monitor.ingest.lines import BadLine, records, text_field
from monitor.ingest.post import Post

__all__ = ["BadLine", "post_from_json", "read_posts", "stream_end"]

REQUIRED = ("source", "external_id", "channel", "created_at", "text")


# A post's time outside these years is a broken record, not a very old or future post.
YEARS = (1990, 2100)


def read_posts(path: str | Path, *, shift: timedelta = timedelta(0)) -> Iterator[Post | BadLine]:
    """Yield a Post per good line and a BadLine per bad one, in file order.

    `shift` moves every timestamp (the demo re-bases the stream on today).
    """
    with open(path, "rb") as stream:
        for number, record in records(stream):
            if isinstance(record, BadLine):
                yield record
                continue
            try:
                yield post_from_json(record, shift=shift)
            except (KeyError, TypeError, ValueError, OverflowError) as error:
                yield BadLine(number, str(error))


def post_from_json(record: dict, *, shift: timedelta = timedelta(0)) -> Post:
    if not isinstance(record, dict):
        raise ValueError("expected a JSON object")
    missing = [name for name in REQUIRED if record.get(name) in (None, "")]
    if missing and missing != ["text"]:
        raise ValueError(f"missing field(s): {', '.join(missing)}")
    created_at = parse_time(text_field(record, "created_at", required=True))
    if not YEARS[0] <= created_at.year <= YEARS[1]:
        raise ValueError(f"created_at {record['created_at']} is outside the years {YEARS[0]}–{YEARS[1]}")
    return Post(
        source=text_field(record, "source", required=True),
        external_id=text_field(record, "external_id", required=True),
        channel=text_field(record, "channel", required=True),
        text=text_field(record, "text") or "",
        created_at=created_at + shift,
        author_id=text_field(record, "author_id"),
        author_name=text_field(record, "author_name"),
        url=text_field(record, "url"),
        parent_id=text_field(record, "parent_id"),
        raw=record,
    )


def stream_end(path: str | Path):
    """The latest timestamp in a stream (to re-base a replay on the present)."""
    latest = None
    for item in read_posts(path):
        if isinstance(item, Post) and (latest is None or item.created_at > latest):
            latest = item.created_at
    return latest
