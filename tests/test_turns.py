"""A large batch is stored in turns: another source's batch goes in between, and a crash
between turns loses nothing and stores nothing twice."""

import asyncio
import json
from datetime import timedelta

from monitor.collectors.base import Batch
from monitor.collectors.registry import Plan
from monitor.collectors.runner import Runner
from monitor.ingest import ingest
from monitor.ingest.post import Post
from monitor.ingest.turns import TURN, turns

BIG, SMALL = "vk:-100003", "vk:-100002"


def posts(ctx, source, count, prefix):
    return [Post(source, f"{prefix}{n}", "vk_post", f"Продам гараж номер {n}, недорого",
                 ctx.clock.now() - timedelta(minutes=5)) for n in range(count)]


class Once:
    """A collector that has one batch waiting."""

    def __init__(self, batch):
        self.batch = batch

    async def step(self, cursor):
        return self.batch


def ids(ctx, source):
    return [r[0] for r in ctx.db.execute(
        "SELECT p.id FROM posts p JOIN sources s ON s.id = p.source_id WHERE s.key = ?"
        " ORDER BY p.id", [source])]


def test_a_small_source_is_stored_between_the_turns_of_a_large_batch(ctx):
    big = Batch(posts(ctx, BIG, TURN * 3, "b"), {"offset": 150})
    small = Batch(posts(ctx, SMALL, 1, "s"), {"offset": 1})
    plans = [Plan(BIG, "большая", Once(big)), Plan(SMALL, "маленькая", Once(small))]
    report = asyncio.run(Runner(ctx, once=True, plans=plans).run())
    assert report.ingested.stored == TURN * 3 + 1
    big_ids, [small_id] = ids(ctx, BIG), ids(ctx, SMALL)
    assert big_ids[0] < small_id < big_ids[-1]  # it did not wait for the whole batch
    cursor = next(ctx.db["sources"].rows_where("key = ?", [BIG]))["cursor"]
    assert json.loads(cursor) == {"offset": 150}


def test_a_crash_between_turns_keeps_the_old_cursor_and_the_batch_read_again_adds_nothing_twice(ctx):
    batch = posts(ctx, BIG, TURN * 2 + 3, "b")
    first = next(turns(batch, {"offset": 2}, [(BIG, "gone")]))
    assert first.cursor is None and first.deleted == []
    ingest(ctx, first.posts, cursor=first.cursor)  # …and the collector dies here
    assert next(ctx.db["sources"].rows_where("key = ?", [BIG]))["cursor"] is None
    total = [ingest(ctx, t.posts, cursor=(BIG, t.cursor) if t.cursor else None)
             for t in turns(batch + batch[:1], {"offset": 2})]
    assert [len(t.posts) for t in turns(batch, {"offset": 2})] == [TURN, TURN, 3]
    assert sum(r.stored for r in total) == TURN + 3 and total[0].duplicates == TURN
    assert len(ids(ctx, BIG)) == TURN * 2 + 3
    assert json.loads(next(ctx.db["sources"].rows_where("key = ?", [BIG]))["cursor"]) == {"offset": 2}
