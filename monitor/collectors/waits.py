"""How long a small source waits behind another source's large batch, measured through
the real `Runner` (for `tsur bench ingest`).

A webhook inbox page of 500 posts and a page with one new comment arrive together: the
runner stores every source's batches in one database thread, in turns
(monitor.ingest.turns). The wait is from the moment the small source's batch is read to
the moment it is stored, its incident visible.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from monitor.ingest.post import Post

from .base import Batch
from .registry import Plan
from .runner import Runner

if TYPE_CHECKING:  # the Context type only: context.py imports the layers below
    from monitor.context import Context

LATE = 0.05  # seconds after the large batch the small one is read: it lands mid-turn


@dataclass(frozen=True)
class Wait:
    waited: float  # seconds from the small batch read to it stored
    large: float  # seconds from the large batch read to all of it stored
    large_posts: int


class _Batches:
    """A collector with a few batches waiting; `last` is set when it reads the last one."""

    def __init__(self, batches: list[Batch]):
        self.batches, self.read_at, self.last = list(batches), None, asyncio.Event()

    async def step(self, cursor):
        batch = self.batches.pop(0)
        if not self.batches:
            self.read_at = time.perf_counter()
            self.last.set()
        return batch


class _After:
    """A collector with one batch, read `LATE` seconds after another collector's last."""

    def __init__(self, batch: Batch, other: _Batches):
        self.batch, self.other, self.read_at = batch, other, None

    async def step(self, cursor):
        await self.other.last.wait()
        await asyncio.sleep(LATE)
        self.read_at = time.perf_counter()
        return self.batch


class _Timed(Runner):
    """The runner, noting when each source's last turn was stored."""

    def __init__(self, ctx: Context, plans: list[Plan]):
        super().__init__(ctx, once=True, plans=plans)
        self.stored_at: dict[str, float] = {}

    def _store(self, key, batch, turn):
        report = super()._store(key, batch, turn)
        self.stored_at[key] = time.perf_counter()
        return report


def wait_behind(ctx: Context, warm: list[Post], large: list[Post], small: list[Post],
                large_key: str = "bench:inbox", small_key: str = "bench:small") -> Wait:
    """Run the runner once over two sources: `warm` then `large` from one (the first
    batch warms the runner's new connection, as a running collector's is), `small` from
    the other, read just after `large`. `ctx` must be over a database file (the runner
    opens its own connection)."""
    big = _Batches([Batch(warm, {"bench": 0}, more=True), Batch(large, {"bench": 1})])
    little = _After(Batch(small, {"bench": 1}), big)
    runner = _Timed(ctx, [Plan(large_key, "большой пакет", big), Plan(small_key, "один пост", little)])
    asyncio.run(runner.run())
    return Wait(runner.stored_at[small_key] - little.read_at, runner.stored_at[large_key] - big.read_at,
                len(large))
