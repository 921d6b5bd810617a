"""Synthetic incidents for `tsur bench web`: a big database filled fast.

`populate` fills a fresh database with synthetic incidents (posts, labels, incidents,
their opening event) across N municipalities with bulk inserts, and a moderator and an
official to log in as; `sample` picks what the timed pages ask for
(monitor.web.bench measures them).
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from monitor.catalog.users import create_user
from monitor.clock import iso
from monitor.incidents.queries import incident_count
from nlp.labels import TOPICS

if TYPE_CHECKING:  # the Context type only: context.py imports this layer
    from monitor.context import Context

MODEL_VERSION = "bench"
PASSWORD = "bench-password"
MODERATOR, OFFICIAL = "bench-moderator", "bench-official"
BATCH = 20_000
# Most incidents of a working ЦУР are long closed; a few are waiting for a move.
STATUS_WEIGHTS = {"new": 2, "confirmed": 2, "assigned": 8, "draft_review": 2, "answered": 10,
                  "in_progress": 6, "needs_info": 2, "resolved": 18, "closed": 40, "rejected": 10}
URGENCY_WEIGHTS = {"critical": 2, "high": 10, "normal": 70, "low": 18}
FIRST_REPLY_HOURS = {"critical": 1, "high": 2, "normal": 3, "low": 8}
TEXTS = (
    "В {m} третий день нет горячей воды, управляющая компания не отвечает",
    "Яма на дороге у остановки, {m}, машины бьют колёса",
    "Когда в {m} вывезут мусор? Контейнеры переполнены неделю",
    "В поликлинике {m} невозможно записаться к терапевту",
    "Во дворе в {m} не горят фонари, вечером страшно ходить",
    "Прошу поставить лавочки в сквере, {m}",
)


@dataclass
class Progress:
    done: int
    total: int
    table: str


def municipality_names(settings, count: int) -> list[str]:
    """The region's municipalities (from its CSV), padded with made-up ones if needed."""
    names: list[str] = []
    try:
        with open(settings.region_csv, encoding="utf-8") as f:
            names = [row["key"] for row in csv.DictReader(f)]
    except Exception:  # noqa: BLE001 - a bench without the region file still runs
        names = []
    names = names[:count]
    names += [f"Муниципалитет {i}" for i in range(len(names) + 1, count + 1)]
    return names


def populate(ctx: Context, incidents: int, municipalities: int = 50, *, seed: int = 1,
             progress: Callable[[Progress], None] = lambda p: None) -> dict:
    """Fill an EMPTY database: one administration and one VK source per municipality,
    `incidents` posts with labels, incidents and their opening event, and two users."""
    db, now = ctx.db, ctx.clock.now()
    if incident_count(db):
        raise ValueError(f"{ctx.db_path or 'the database'} already holds incidents; "
                         "the bench needs a fresh database")
    rng = random.Random(seed)
    names = municipality_names(ctx.settings, municipalities)
    with db.atomic():
        cur = db.execute("SELECT id FROM organisations WHERE key = 'cur'").fetchone()
        if not cur:
            db["organisations"].insert({"key": "cur", "name": "ЦУР", "kind": "cur", "topics": "[]"})
        orgs, sources = [], []
        for n, name in enumerate(names, start=1):
            org_id = db["organisations"].insert({
                "key": f"bench-adm-{n}", "name": f"Администрация: {name}", "municipality": name,
                "kind": "administration", "topics": "[]", "vk_group_id": 900000 + n,
            }).last_pk
            source_id = db["sources"].insert({
                "key": f"vk:-{900000 + n}", "platform": "vk", "name": f"Администрация: {name}",
                "role": "official", "municipality": name, "organisation_id": org_id,
                "created_at": iso(now),
            }).last_pk
            orgs.append(org_id)
            sources.append(source_id)
        create_user(db, MODERATOR, PASSWORD, "moderator", now, name="Модератор (бенч)")
        create_user(db, OFFICIAL, PASSWORD, "official", now, name="Сотрудник (бенч)",
                    organisation="bench-adm-1")

    statuses = list(STATUS_WEIGHTS)
    status_w = list(STATUS_WEIGHTS.values())
    urgencies = list(URGENCY_WEIGHTS)
    urgency_w = list(URGENCY_WEIGHTS.values())
    span = timedelta(days=365)
    start = now - span
    step = span / max(incidents, 1)

    scores = json.dumps({"kind": 0.9, "topic": 0.8, "urgency": 0.7})
    explanations = json.dumps({"topic": "слова: вода, дорога"}, ensure_ascii=False)
    texts = [[t.format(m=name) for t in TEXTS] for name in names]
    due_after = {u: timedelta(hours=h) for u, h in FIRST_REPLY_HOURS.items()}
    replied_statuses = {"answered", "in_progress", "resolved", "closed"}
    # Sequences with a header row: sqlite-utils skips building a dict per row.
    post_columns = ["id", "source_id", "external_id", "channel", "author_id", "author_name",
                    "text", "url", "created_at", "collected_at"]
    label_columns = ["id", "post_id", "model_version", "kind", "topic", "municipality",
                     "urgency", "scores", "explanations", "created_at"]
    incident_columns = ["id", "post_id", "status", "kind", "topic", "municipality", "urgency",
                        "organisation_id", "opened_at", "first_reply_due_at", "next_due_at",
                        "first_reply_at", "updated_at"]
    event_columns = ["incident_id", "occurred_at", "actor", "event", "old_status", "new_status",
                     "data"]

    def rows() -> Iterator[tuple[list, list, list, list]]:
        # start is aware UTC, so isoformat() is the storage form monitor.clock.iso gives.
        for i in range(1, incidents + 1):
            m = rng.randrange(len(names))
            opened = start + step * i
            opened_at = opened.isoformat()
            status = rng.choices(statuses, status_w)[0]
            urgency = rng.choices(urgencies, urgency_w)[0]
            topic = rng.choice(TOPICS)
            due = opened + due_after[urgency]
            replied = status in replied_statuses
            group = 900001 + m
            yield (
                [i, sources[m], f"-{group}_{i}", "vk_comment", str(rng.randrange(1, 10**8)),
                 f"Житель {i % 9973}", rng.choice(texts[m]), f"https://vk.com/wall-{group}_{i}",
                 (opened - timedelta(minutes=2)).isoformat(), opened_at],
                [i, i, MODEL_VERSION, "complaint", topic, names[m], urgency, scores,
                 explanations, opened_at],
                [i, i, status, "complaint", topic, names[m], urgency, orgs[m], opened_at,
                 due.isoformat(), None if replied or status == "rejected" else due.isoformat(),
                 (due - timedelta(minutes=30)).isoformat() if replied else None, opened_at],
                [i, opened_at, "system:bench", "opened", None, "new", "{}"],
            )

    # Bulk load: drop the secondary indexes, insert, build them again once at the end.
    tables = ("posts", "labels", "incidents", "incident_events")
    indexes = db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        f"AND tbl_name IN ({', '.join('?' for _ in tables)})", tables).fetchall()
    with db.atomic():
        for name, _ in indexes:
            db.execute(f'DROP INDEX "{name}"')
    done = 0
    source = rows()
    while done < incidents:
        chunk = [r for _, r in zip(range(BATCH), source, strict=False)]
        if not chunk:
            break
        with db.atomic():
            for n, (table, columns) in enumerate((("posts", post_columns), ("labels", label_columns),
                                                  ("incidents", incident_columns),
                                                  ("incident_events", event_columns))):
                db[table].insert_all([columns, *(c[n] for c in chunk)], batch_size=2000)
        done += len(chunk)
        progress(Progress(done, incidents, "incidents"))
    progress(Progress(0, len(indexes), "indexes"))
    for n, (_, sql) in enumerate(indexes, start=1):
        with db.atomic():
            db.execute(sql)
        progress(Progress(n, len(indexes), "indexes"))
    db.execute("ANALYZE")
    return {"incidents": done, "municipalities": len(names), "organisations": len(orgs)}


@dataclass
class Sample:
    max_id: int  # incidents are numbered 1..max_id
    own: list[int]  # some incidents of the official's organisation
    municipalities: list[str]


def sample(db, size: int) -> Sample:
    """What the timed requests pick from: the incident ids, the official's own ones, the
    municipalities of the synthetic administrations."""
    max_id = db.execute("SELECT max(id) FROM incidents").fetchone()[0] or 0
    if not max_id:
        raise ValueError("no incidents to measure: run populate first")
    official_org = db.execute(
        "SELECT organisation_id FROM users WHERE login = ?", [OFFICIAL]).fetchone()[0]
    own = [r[0] for r in db.execute(
        "SELECT id FROM incidents WHERE organisation_id = ? ORDER BY random() LIMIT ?",
        [official_org, size])]
    names = [r[0] for r in db.execute(
        "SELECT municipality FROM organisations WHERE key LIKE 'bench-adm-%' ORDER BY id")]
    return Sample(max_id, own, names)
