"""The month before the bundled stream, staged so that Сводка has something to show.

Residents' messages made from data/demo/history.toml (a place and a problem each, a
few a day, fewer at weekends) are ingested day by day before the stream is replayed,
as a collector would have brought them in, and the ЦУР works every incident through
(monitor.demo.work): most are answered on time, a few late, a few rejected. Only a new
demo database gets them: a second `tsur demo` stages nothing twice.
"""

from __future__ import annotations

import random
import tomllib
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from monitor.collectors.replay import read_posts
from monitor.context import Context
from monitor.ingest.post import Post

from . import DEMO_DIR, DEMO_STREAM, replay_posts, whole_days
from .work import on_shift, work_all

HISTORY = DEMO_DIR / "history.toml"
DAYS = 30  # the period Сводка shows by default, the stream's own days included
PER_DAY = {"weekday": (7, 12), "weekend": (3, 6)}
NAMES = ("Ольга С.", "Андрей Н.", "Марина Кузьмина", "Сергей П.", "Елена В.", "Дмитрий Орлов",
         "Наталья", "Игорь К.", "Татьяна Белова", "Алексей", "Светлана М.", "Павел Г.")
FIRST_ID = 9_000_000  # history posts' message ids: far above the stream's


def stage(ctx: Context, path: Path = HISTORY) -> str | None:
    """Ingest and work the month before the stream; a line for the console."""
    if ctx.db.execute("SELECT 1 FROM posts LIMIT 1").fetchone():
        return None  # a demo database already filled: its month is there (or was never asked for)
    posts = messages(ctx, path)
    if not posts:
        return None
    report = replay_posts(ctx, posts)
    with on_shift(ctx) as staff:
        worked = work_all(ctx, staff, before=posts[-1].created_at + timedelta(seconds=1))
    return (f"месяц до потока: сообщений — {len(posts)}, инцидентов — {report.incidents}, "
            f"отработано — {worked}")


def messages(ctx: Context, path: Path = HISTORY) -> list[Post]:
    """The month's messages, oldest first, up to the day the shifted stream starts."""
    zone = ZoneInfo(ctx.settings.timezone)
    first_post = next((p for p in read_posts(DEMO_STREAM) if isinstance(p, Post)), None)
    end = max((p.created_at for p in read_posts(DEMO_STREAM) if isinstance(p, Post)),
              default=None)
    if first_post is None or end is None:
        return []
    shift = whole_days(end, ctx.clock.now(), ctx.settings.timezone)
    stream_day = (first_post.created_at + shift).astimezone(zone).date()
    today = ctx.clock.now().astimezone(zone).date()
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    rng = random.Random(20261116)
    posts, n = [], 0
    day = today - timedelta(days=DAYS - 1)
    while day < stream_day:
        low, high = PER_DAY["weekend" if day.weekday() >= 5 else "weekday"]
        moments = sorted(rng.randint(7 * 60 + 30, 21 * 60 + 30) for _ in range(rng.randint(low, high)))
        for minute in moments:
            n += 1
            at = datetime.combine(day, time(minute // 60, minute % 60, rng.randint(0, 59)), tzinfo=zone)
            posts.append(_post(rng, data, n, at))
        day += timedelta(days=1)
    return posts


def _post(rng: random.Random, data: dict, n: int, at: datetime) -> Post:
    place = rng.choice(data["places"])
    problem = rng.choice(data["problems"])
    text = rng.choice(problem["texts"]).format(street=rng.choice(place["streets"]),
                                               house=rng.randint(1, 120))
    text = f"{place['prefix']} {text[0].lower()}{text[1:]}" if rng.random() < 0.5 else text
    source = place["source"]
    owner = source.split(":", 1)[1]
    parent = place.get("parent")
    external_id = f"{parent or owner}_{FIRST_ID + n}"
    platform = source.split(":", 1)[0]
    author = f"tg:{7_000_000 + n}" if platform == "telegram" else f"vk:{700_000 + n}"
    return Post(source=source, external_id=external_id, channel=place["channel"], text=text,
                created_at=at, author_id=author, author_name=rng.choice(NAMES),
                parent_id=parent)
