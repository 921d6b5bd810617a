"""The demo: replay the bundled stream through the live code path, with logins.

The stream's timestamps are moved by whole days, so that its last message is the latest
that has already happened at this time of day: «Доброе утро» stays in the morning and a
weekday stays a working day's hour. The clock follows the stream while replaying, so
deadlines look as they would on a real day; the scenes (monitor.demo.scenes) stage the
weeks before it and what happens now.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from monitor.catalog.organisations import sync_from_settings
from monitor.catalog.users import create_user
from monitor.clock import FrozenClock
from monitor.collectors.replay import BadLine, read_posts, stream_end
from monitor.context import Context
from monitor.ingest import IngestReport, ingest
from monitor.ingest.post import Post

DEMO_DIR = Path(__file__).resolve().parents[2] / "data" / "demo"
DEMO_CONFIG = DEMO_DIR / "tsur.toml"
DEMO_STREAM = DEMO_DIR / "stream.jsonl"
BATCH = 25
SPAN = timedelta(minutes=30)  # a collector's batch spans minutes

# Demo accounts only: the demo serves on 127.0.0.1 and these are printed at start.
DEMO_USERS = (
    ("moderator", "moderator-demo", "moderator", "Анна Смирнова", None),
    ("dzerzhinsk", "official-demo", "official", "Игорь Петров", "adm-dzr"),
    ("analyst", "analyst-demo", "data_scientist", "Мария Волкова", None),
    ("admin", "admin-demo-1", "admin", "Администратор", None),
    # A municipal ЦУР's moderator: the municipal tier of Дзержинск only.
    ("dzr-cur", "municipal-demo", "moderator", "Ольга Кузнецова", None, ("Дзержинск",)),
)


@dataclass
class Credentials:
    login: str
    password: str
    role: str
    organisation: str | None
    municipalities: tuple[str, ...] = ()  # a municipal ЦУР's moderator


def seed_users(ctx: Context) -> list[Credentials]:
    existing = {r["login"] for r in ctx.db["users"].rows}
    for login, password, role, name, org, *scope in DEMO_USERS:
        if login not in existing:
            create_user(ctx.db, login, password, role, ctx.clock.now(), name=name, organisation=org,
                        municipalities=scope[0] if scope else ())
    return [Credentials(login, password, role, org, *scope)
            for login, password, role, _, org, *scope in DEMO_USERS]


def whole_days(end: datetime, now: datetime, timezone: str) -> timedelta:
    """The whole number of days that moves `end` to the latest moment not after `now` at
    the same local time of day."""
    zone = ZoneInfo(timezone)
    days = (now.astimezone(zone).date() - end.astimezone(zone).date()).days
    if end + timedelta(days=days) > now:
        days -= 1
    return timedelta(days=days)


def replay(ctx: Context, path: Path, *, rebase: bool = True, exact: bool = False,
           progress: Callable[[int, IngestReport], None] = lambda n, r: None,
           on_bad_line: Callable[[BadLine], None] = lambda b: None) -> tuple[IngestReport, list[BadLine]]:
    """Replay a JSONL stream batch by batch, the clock following the posts; `rebase`
    moves it by whole days to now, `exact` moves its last post to now exactly (for
    messages that say nothing of the time of day)."""
    now, end = ctx.clock.now(), stream_end(path)
    shift = timedelta(0)
    if rebase and end:
        shift = now - end if exact else whole_days(end, now, ctx.settings.timezone)
    bad: list[BadLine] = []

    def good_posts():
        for item in read_posts(path, shift=shift):
            if isinstance(item, BadLine):
                bad.append(item)
                on_bad_line(item)
            else:
                yield item

    return replay_posts(ctx, good_posts(), progress), bad


def replay_posts(ctx: Context, posts: Iterable[Post],
                 progress: Callable[[int, IngestReport], None] = lambda n, r: None) -> IngestReport:
    """Ingest posts as a collector would have: a batch at most BATCH posts and SPAN long,
    the clock at its latest post (an incident opens minutes after its message, not
    hours)."""
    live_clock = ctx.clock
    replay_clock = FrozenClock(live_clock.now())
    ctx.clock = replay_clock
    total, batch, seen = IngestReport(), [], 0
    try:
        for post in posts:
            if batch and (len(batch) >= BATCH or post.created_at - batch[0].created_at > SPAN):
                seen += _flush(ctx, replay_clock, batch, total)
                progress(seen, total)
            batch.append(post)
        if batch:
            seen += _flush(ctx, replay_clock, batch, total)
            progress(seen, total)
    finally:
        ctx.clock = live_clock
    return total


def _flush(ctx: Context, clock: FrozenClock, batch: list[Post], total: IngestReport) -> int:
    clock.set(max(p.created_at for p in batch) + timedelta(minutes=2))
    ctx.refresh_pipeline()
    total.add(ingest(ctx, batch))
    n = len(batch)
    batch.clear()
    return n


def prepare(ctx: Context) -> list[Credentials]:
    """Organisations, sources and logins; and a database that commits without waiting for
    the disk (WAL keeps it intact; a demo lost to a power cut is replayed in a minute),
    which makes staging a month of work several times faster."""
    ctx.db.execute("PRAGMA synchronous = NORMAL")
    sync_from_settings(ctx.db, ctx.settings, ctx.clock.now())
    return seed_users(ctx)
