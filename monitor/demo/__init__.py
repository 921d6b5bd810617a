"""The demo: replay the bundled stream through the live code path, with logins.

The stream's timestamps are moved so that its last message arrives now, and the
clock follows the stream while replaying, so deadlines and overdue incidents look as
they would on a real morning.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

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


def replay(ctx: Context, path: Path, *, rebase: bool = True,
           progress: Callable[[int, IngestReport], None] = lambda n, r: None,
           on_bad_line: Callable[[BadLine], None] = lambda b: None) -> tuple[IngestReport, list[BadLine]]:
    """Replay a JSONL stream batch by batch, the clock following the posts."""
    now = ctx.clock.now()
    shift = (now - stream_end(path)) if rebase and stream_end(path) else None
    live_clock = ctx.clock
    replay_clock = FrozenClock(now)
    ctx.clock = replay_clock
    total, bad, batch, seen = IngestReport(), [], [], 0
    kwargs = {"shift": shift} if shift is not None else {}
    try:
        for item in read_posts(path, **kwargs):
            if isinstance(item, BadLine):
                bad.append(item)
                on_bad_line(item)
                continue
            batch.append(item)
            if len(batch) >= BATCH:
                seen += _flush(ctx, replay_clock, batch, total)
                progress(seen, total)
        if batch:
            seen += _flush(ctx, replay_clock, batch, total)
            progress(seen, total)
    finally:
        ctx.clock = live_clock
    return total, bad


def _flush(ctx: Context, clock: FrozenClock, batch: list[Post], total: IngestReport) -> int:
    clock.set(max(p.created_at for p in batch) + timedelta(minutes=2))
    ctx.refresh_pipeline()
    total.add(ingest(ctx, batch))
    n = len(batch)
    batch.clear()
    return n


def prepare(ctx: Context) -> list[Credentials]:
    sync_from_settings(ctx.db, ctx.settings, ctx.clock.now())
    return seed_users(ctx)
