"""`tsur bench ingest`: posts/s of ingest as the store grows, beside the labelling speed.

A region that has run for a year ingests slowest exactly when a burst comes if any
per-post cost grows with the store. The bench grows a database with a stream shaped
like a region's: the texts of the demo stream and of `data/labelled`, each post on one
of the demo stream's pages with its channel, by one of a few thousand residents, now
and then a reply to a recent post of its page, a street and house added to some,
1,500 posts a day, in batches as collectors deliver them. Speeds are in CPU seconds
of this process (the machine may be shared), stage shares in wall seconds. Nobody works the incidents,
so the open ones pile up for the whole repeat window: the worst case.

Every post is a function of its number and the seed, so a database grown once is
reused: a later run only adds what is missing, then measures the next chunk on a copy.
"""

from __future__ import annotations

import random
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from monitor.catalog.organisations import sync_from_settings
from monitor.clock import FrozenClock
from monitor.store import open_db
from nlp.data import text_records

from .batch import IngestReport, ingest
from .post import Post
from .threads import thread_contexts

if TYPE_CHECKING:  # the Context type only: context.py imports the layers below
    from monitor.context import Context

POSTS_PER_DAY = 1500
BATCH = 50
BEGIN = datetime(2026, 1, 1, 6, 0, tzinfo=UTC)
# Streets a post may name (added to a quarter of the texts): places vary as in a city.
STREETS = ["Гагарина", "Ленина", "Кирова", "Чкалова", "Гайдара", "Пушкина", "Горького",
           "Маяковского", "Советская", "Октябрьская", "Садовая", "Молодёжная", "Школьная",
           "Заводская", "Строителей", "Победы", "Мира", "Комсомольская", "Лесная", "Полевая"]
T = TypeVar("T")
COMMENTS = {"vk_post": "vk_comment", "ok_post": "ok_comment"}


@dataclass(frozen=True)
class Page:
    source: str
    channel: str


@dataclass
class Stream:
    """Texts and pages to draw posts from; post `n` is the same on every run."""

    texts: list[str]
    pages: list[Page]
    seed: int = 1

    @classmethod
    def read(cls, demo: Path, labelled: list[Path], seed: int = 1) -> Stream:
        texts, pages = [], {}
        for path, record in text_records([demo, *labelled]):
            texts.append(record["text"])
            if path == demo and record.get("source") and record.get("channel"):
                channel = COMMENTS.get(record["channel"], record["channel"])
                pages[(record["source"], channel)] = Page(record["source"], channel)
        if not texts or not pages:
            raise ValueError(f"no texts or no pages to build a stream from ({demo})")
        return cls(texts, sorted(pages.values(), key=lambda p: (p.source, p.channel)), seed)

    def _page(self, n: int) -> Page:
        return self.pages[random.Random(self.seed * 7_919 + n).randrange(len(self.pages))]

    def post(self, n: int) -> Post:
        rng = random.Random(self.seed * 1_000_003 + n)
        page = self._page(n)
        text = self.texts[rng.randrange(len(self.texts))]
        if rng.random() < 0.25:
            text += f", {rng.choice(STREETS)} {rng.randint(1, 120)}"
        parent = None
        if page.channel.endswith("_comment") and rng.random() < 0.5:
            for back in range(1, 60):
                if n - back >= 0 and self._page(n - back) == page:
                    parent = f"b{n - back}"
                    break
        seconds = n * 86_400 / POSTS_PER_DAY + rng.uniform(0, 30)
        author = min(int(rng.paretovariate(1.2)), 5_000)  # a few residents write a lot
        return Post(page.source, f"b{n}", page.channel, text, BEGIN + timedelta(seconds=seconds),
                    author_id=f"bench:{author}:{rng.randrange(2_000)}", author_name="Житель",
                    parent_id=parent)


@dataclass
class Chunk:
    """One chunk of ingest: from `stored` posts on, `posts` more."""

    stored: int
    posts: int
    seconds: float
    stages: dict[str, float] = field(default_factory=dict)
    label_seconds: float = 0.0  # labelling the same texts alone

    @property
    def posts_per_s(self) -> float:
        return self.posts / self.seconds if self.seconds else 0.0

    @property
    def label_per_s(self) -> float:
        return self.posts / self.label_seconds if self.label_seconds else 0.0

    @property
    def ratio(self) -> float:
        return self.posts_per_s / self.label_per_s if self.label_per_s else 0.0

    def shares(self) -> dict[str, float]:
        """Share of ingest time per stage; `store` is what the others leave."""
        total = self.stages.get("total", self.seconds) or 1.0
        shares = {s: self.stages.get(s, 0.0) / total for s in ("label", "repeats", "spikes")}
        shares["store"] = max(0.0, 1.0 - sum(shares.values()))
        return shares


def stored_posts(ctx: Context) -> int:
    return ctx.db.execute("SELECT COUNT(*) FROM posts WHERE external_id LIKE 'b%'").fetchone()[0]


def run_chunk(ctx: Context, stream: Stream, start: int, count: int) -> Chunk:
    """Ingest posts start … start+count-1 in collector-sized batches, then label the
    same texts alone with the same pipeline (the ratio's other side)."""
    clock = FrozenClock(BEGIN)
    live, ctx.clock = ctx.clock, clock
    total = IngestReport()
    # the stream is drawn first: making up posts is not ingest's time
    batches = [[stream.post(n) for n in range(first, min(first + BATCH, start + count))]
               for first in range(start, start + count, BATCH)]
    began = time.process_time()
    try:
        for batch in batches:
            clock.set(max(p.created_at for p in batch) + timedelta(minutes=2))
            total.add(ingest(ctx, batch))
    finally:
        ctx.clock = live
    seconds = time.process_time() - began
    return Chunk(start, count, seconds, total.seconds, label_seconds(ctx, batches))


def label_seconds(ctx: Context, batches: list[list[Post]]) -> float:
    """CPU seconds of the pipeline alone labelling the batches as ingest asked it to:
    the same texts, pages' municipalities and threads' first posts."""
    sources = {key: (source_id, municipality) for key, source_id, municipality in ctx.db.execute(
        "SELECT key, id, municipality FROM sources")}
    asked = [([p.text for p in batch], [sources[p.source][1] for p in batch],
              thread_contexts(ctx.db, batch, {k: v[0] for k, v in sources.items()}))
             for batch in batches]
    began = time.process_time()
    for texts, municipalities, contexts in asked:
        ctx.pipeline.label(texts, source_municipality=municipalities, context=contexts)
    return time.process_time() - began


def grow(ctx: Context, stream: Stream, target: int, chunk: int,
         on_chunk: Callable[[Chunk], None] = lambda c: None) -> list[Chunk]:
    """Add the posts the database lacks up to `target`, chunk by chunk."""
    sync_from_settings(ctx.db, ctx.settings, BEGIN)
    chunks = []
    stored = stored_posts(ctx)
    while stored < target:
        done = run_chunk(ctx, stream, stored, min(chunk, target - stored))
        chunks.append(done)
        on_chunk(done)
        stored += done.posts
    return chunks


def on_copy(ctx: Context, path: Path, measure: Callable[[Context], T]) -> T:
    """`measure` run on a copy of the grown database (the grown file stays at its size
    for the next run), with an index rebuilt from the copy."""
    ctx.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    with tempfile.TemporaryDirectory(dir=path.parent) as scratch:
        copy = Path(scratch) / path.name
        source = sqlite3.connect(str(path))
        target = sqlite3.connect(str(copy))
        with target:
            source.backup(target)
        source.close()
        target.close()
        other = replace(ctx, db=open_db(copy), db_path=copy)
        try:
            return measure(other)
        finally:
            other.db.close()
            shutil.rmtree(scratch, ignore_errors=True)


def next_chunk(stream: Stream, count: int) -> Callable[[Context], Chunk]:
    """Ingest the next `count` posts (on a copy: `on_copy`)."""
    return lambda ctx: run_chunk(ctx, stream, stored_posts(ctx), count)


@dataclass(frozen=True)
class Latency:
    """Seconds from a post handed to ingest alone until its incident can be read."""

    seconds: list[float]

    def quantile(self, q: float) -> float:
        ordered = sorted(self.seconds)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def latency(ctx: Context, stream: Stream, count: int = 50) -> Latency:
    """The next posts ingested one at a time, as a quiet page delivers them; each timed
    (wall clock) until another connection reads the incident it opened or was linked
    to. The first `count` that became (part of) an incident are kept."""
    clock = FrozenClock(BEGIN)
    live, ctx.clock = ctx.clock, clock
    reader = sqlite3.connect(str(ctx.db_path))
    seconds, start = [], stored_posts(ctx)
    try:
        for n in range(start, start + count * 10):
            post = stream.post(n)
            clock.set(post.created_at + timedelta(seconds=5))
            began = time.perf_counter()
            ingest(ctx, [post])
            if reader.execute(_VISIBLE, [post.source, post.external_id] * 2).fetchone():
                seconds.append(time.perf_counter() - began)
                if len(seconds) == count:
                    break
    finally:
        ctx.clock = live
        reader.close()
    return Latency(seconds)


# What a post became (its incident, a repeat link, or its stored labels when it is no
# incident), as another connection reads it.
_POST = "SELECT p.id FROM posts p JOIN sources s ON s.id = p.source_id WHERE s.key = ? AND p.external_id = ?"
_VISIBLE = (f"SELECT 1 FROM incidents WHERE post_id = ({_POST})"
            f" UNION ALL SELECT 1 FROM incident_repeats WHERE post_id = ({_POST})")


def behind(ctx: Context, stream: Stream, wait_behind: Callable, large: int = 500):
    """How long the next post waits when it arrives from another source just after a
    batch of the `large` posts after it (`wait_behind`: monitor.collectors.waits)."""
    start = stored_posts(ctx)
    posts = [stream.post(n) for n in range(start, start + 2 * large + 1)]
    live, ctx.clock = ctx.clock, FrozenClock(max(p.created_at for p in posts) + timedelta(minutes=2))
    try:  # the first `large` posts warm the runner's connection
        return wait_behind(ctx, posts[:large], posts[large:-1], posts[-1:])
    finally:
        ctx.clock = live
