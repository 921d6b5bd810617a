"""A collector's large batch stored in turns, so that no source waits behind another.

Every source's database work runs in one thread, one call after another. A webhook
inbox page of 500 posts stored in one call held every other source back for seconds;
stored in turns of `TURN` posts, each a call of its own, another source's call waits
for one turn at most. Only the last turn carries the cursor and the deletions: a
crash between turns leaves the cursor where it was, the batch is read again and the
posts already stored count as duplicates, so nothing is lost or stored twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from .post import Post

# Posts per turn: well under a tenth of a second of CPU at the speed `tsur bench ingest`
# prints (a second of wall clock on a machine loaded ten times over); turns of 20 and of
# 50 ingest at the same speed within the bench's noise.
TURN = 20


@dataclass(frozen=True)
class Turn:
    posts: list[Post]
    cursor: dict | None  # the collector's cursor, on the last turn only
    deleted: list[tuple[str, str]]


def turns(posts: list[Post], cursor: dict | None = None, deleted=(), size: int = TURN
          ) -> Iterator[Turn]:
    """The batch as consecutive `ingest` calls; the last one stores cursor and deletions
    (a batch of deletions alone is one turn). A post and its edit in different turns are
    stored as `ingest` stores them within one call: the post, then the edit."""
    starts = range(0, len(posts), size) or [0]
    for start in starts:
        last = start == starts[-1]
        yield Turn(posts[start:start + size], cursor if last else None,
                   list(deleted) if last else [])
