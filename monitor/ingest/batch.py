"""Store collected posts once, label them, open incidents — one transaction a batch.

Every collector ends here. A batch is labelled before the transaction (labelling is
the slow part), then posts, labels, incidents and the collector's cursor are written
together, so a crash at any moment leaves either all of a batch or none of it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from monitor import directline
from monitor.catalog.organisations import ensure_source, organisation_id
from monitor.clock import iso
from monitor.incidents import autopilot, spikes
from monitor.incidents.feedback import resident_reply
from monitor.incidents.repeats import Link, Similarity, find_repeat, record_links
from monitor.incidents.routing import route, rules
from monitor.incidents.states import Event, Opening, insert_incident, record_events
from monitor.ingest import lemmas
from monitor.ingest.post import Post
from monitor.ingest.threads import thread_contexts
from monitor.store import dicts
from nlp import ACTIONABLE_KINDS
from nlp.likeness import Problem

if TYPE_CHECKING:  # the Context type only: context.py imports this layer
    from monitor.context import Context

log = logging.getLogger(__name__)
CHUNK = 400  # external ids per IN list (SQLite allows 32,766 parameters)


@dataclass
class IngestReport:
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    edited: int = 0
    deleted: int = 0
    restored: int = 0  # posts marked deleted that the platform shows again
    incidents: int = 0
    repeats: int = 0  # posts linked to an open incident instead of opening one
    spikes: int = 0  # bursts of similar messages that became a mass incident (monitor.incidents.spikes)
    autopiloted: int = 0  # incidents sent to their executor without a moderator (monitor.incidents.autopilot)
    errors: list[str] = field(default_factory=list)
    # Seconds per stage: label, repeats (reading problems, finding repeats), spikes,
    # and total (the rest of total is storing).
    seconds: dict[str, float] = field(default_factory=dict)

    def add(self, other: IngestReport) -> None:
        for name in ("received", "stored", "duplicates", "edited", "deleted", "restored",
                     "incidents", "repeats", "spikes", "autopiloted"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors.extend(other.errors)
        for stage, seconds in other.seconds.items():
            self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds

    @contextmanager
    def timed(self, stage: str):
        began = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - began

    def __str__(self) -> str:
        return (f"{self.received} received, {self.stored} new, {self.duplicates} already stored, "
                f"{self.edited} edited, {self.deleted} deleted, {self.incidents} incidents opened, "
                f"{self.repeats} repeats linked"
                + (f", {self.spikes} spikes detected" if self.spikes else "")
                + (f", {self.autopiloted} sent to their executor by the autopilot"
                   if self.autopiloted else ""))


def ingest(ctx: Context, posts: Iterable[Post], *, cursor: tuple[str, dict] | None = None,
           deleted: Iterable[tuple[str, str]] = ()) -> IngestReport:
    """Store, label and open incidents for a batch of posts.

    `cursor` is (source key, cursor value) stored in the same transaction, so a
    collector restarted after a crash resumes exactly after the last stored batch.
    `deleted` lists (source key, external id) of posts removed on the platform: they
    are marked deleted (their incidents stay).
    """
    posts, later = _versions(posts)
    report = IngestReport(received=len(posts))
    with report.timed("total"):
        _ingest(ctx, posts, report, cursor, deleted, later)
    return report


def _ingest(ctx: Context, posts: list[Post], report: IngestReport, cursor, deleted,
            later: list[Post]) -> None:
    db, now = ctx.db, ctx.clock.now()
    sources = {key: ensure_source(db, key, now) for key in {p.source for p in posts}}
    if cursor:
        sources.setdefault(cursor[0], ensure_source(db, cursor[0], now))
    fresh, edits, restored = [], [], []
    known = _known(db, posts, sources)
    for post in posts:
        row = known.get((post.source, post.external_id))
        if row is None:
            fresh.append(post)
            continue
        if row["deleted_at"]:
            restored.append(row["id"])
        if row["text"] != post.text:
            edits.append((row, post))
        elif not row["deleted_at"]:
            report.duplicates += 1
    with report.timed("label"):
        labels, lemmas_read = ctx.pipeline.label_with_lemmas(
            [p.text for p in fresh],
            source_municipality=[sources[p.source]["municipality"] for p in fresh],
            context=thread_contexts(db, fresh, {key: source["id"] for key, source in sources.items()}),
        ) if fresh else ([], [])
    similarity = Similarity.of(ctx.pipeline)
    with ctx.open_problems.batch(), db.atomic():
        post_ids = _insert(ctx, fresh, labels, sources, now)
        writes = _Writes(lines=directline.live_sources(
            db, min(p.created_at for p in fresh), max(p.created_at for p in fresh)) if fresh else set())
        with report.timed("repeats"):
            problems = _problems(similarity, fresh, labels, lemmas_read)
        for number, (post, label, post_id) in enumerate(zip(fresh, labels, post_ids, strict=True)):
            _handle_new(ctx, post, post_id, label, sources[post.source], now, similarity, report,
                        writes, problems.get(number))
        writes.flush(db, now)
        # after the `opened` events: the autopilot's come after them in the history
        report.autopiloted = sum(autopilot.deliver(ctx, incident_id, scores, now)
                                 for incident_id, scores in writes.opened)
        report.stored = len(fresh)
        if fresh:
            with report.timed("spikes"):
                report.spikes = _apart(ctx, "spike detection",
                                       lambda: len(spikes.detect(ctx, post_ids).created))
            _apart(ctx, "direct-line grouping", lambda: directline.group_new(ctx))
        for row, post in edits:
            _store_edit(db, row, post, now)
        report.edited = len(edits)
        for post in later:  # an edit that came in the same batch as its message
            row = _known(db, [post], sources)[(post.source, post.external_id)]
            if row["text"] != post.text:
                _store_edit(db, row, post, now)
                report.edited += 1
        for post_id in restored:
            db["posts"].update(post_id, {"deleted_at": None})
        report.restored = len(restored)
        for source_key, external_id in deleted:
            report.deleted += _mark_deleted(db, source_key, external_id, now)
        if cursor:
            db["sources"].update(sources[cursor[0]]["id"], {
                "cursor": json.dumps(cursor[1], ensure_ascii=False), "last_success_at": iso(now),
            })
    if fresh and getattr(ctx.pipeline, "morph", None) is not None:
        lemmas.keep(db, ctx.pipeline.morph)  # the words pymorphy3 had to parse, for a restart


def _apart(ctx: Context, what: str, step) -> int:
    """A step over the batch's stored posts (spikes, direct-line groups): a failure there
    is logged and rolled back alone, never losing the batch."""
    try:
        with ctx.db.atomic():
            return step()
    except Exception:
        log.exception("%s failed for a batch", what)
        return 0


def _versions(posts: Iterable[Post]) -> tuple[list[Post], list[Post]]:
    """(the first version of each post in a batch, its later versions with another text, in
    order). A message and its edit read together (one getUpdates or Long Poll answer after
    a pause) are stored like two batches: the message, then the edit keeping the old text.
    A repeat of a text already in the batch (the same update delivered twice) is dropped."""
    first: dict[tuple[str, str], Post] = {}
    texts: dict[tuple[str, str], set[str]] = {}
    later: list[Post] = []
    for post in posts:
        key = (post.source, post.external_id)
        if key not in first:
            first[key], texts[key] = post, {post.text}
        elif post.text not in texts[key]:
            later.append(post)
            texts[key].add(post.text)
    return list(first.values()), later


def _known(db, posts: list[Post], sources: dict) -> dict[tuple[str, str], dict]:
    """The stored rows of a batch's posts, by (source key, external id): one query per
    source and few hundred ids."""
    by_source: dict[str, list[str]] = {}
    for post in posts:
        by_source.setdefault(post.source, []).append(post.external_id)
    found = {}
    for key, external_ids in by_source.items():
        for i in range(0, len(external_ids), CHUNK):
            part = external_ids[i:i + CHUNK]
            for row in dicts(db, f"SELECT * FROM posts WHERE source_id = ? AND external_id IN"
                                 f" ({', '.join('?' * len(part))})", [sources[key]["id"], *part]):
                found[(key, row["external_id"])] = row
    return found


_POST_COLUMNS = ("source_id", "external_id", "channel", "parent_external_id", "author_id",
                 "author_name", "text", "url", "created_at", "collected_at", "raw")
_LABEL_COLUMNS = ("post_id", "model_version", "kind", "topic", "municipality", "urgency", "scores",
                  "explanations", "created_at")


def _insert(ctx: Context, posts: list[Post], labels: list, sources: dict, now) -> list[int]:
    """Store a batch's new posts and their labels, one statement for each table; the
    posts' ids in the batch's order (read back by rowid: the write lock is held)."""
    db, collected = ctx.db, iso(now)
    before = db.execute("SELECT COALESCE(MAX(id), 0) FROM posts").fetchone()[0]
    db.conn.executemany(_inserting("posts", _POST_COLUMNS), [(
        sources[post.source]["id"], post.external_id, post.channel, post.parent_id, post.author_id,
        post.author_name, post.text, post.url, iso(post.created_at), collected,
        json.dumps(post.raw, ensure_ascii=False),
    ) for post in posts])
    ids = {(source_id, external_id): post_id for post_id, source_id, external_id in db.execute(
        "SELECT id, source_id, external_id FROM posts WHERE id > ?", [before])}
    post_ids = [ids[(sources[post.source]["id"], post.external_id)] for post in posts]
    db.conn.executemany(_inserting("labels", _LABEL_COLUMNS), [(
        post_id, ctx.pipeline.version, label.kind, label.topic, label.municipality, label.urgency,
        json.dumps(label.scores, ensure_ascii=False), json.dumps(label.explanations, ensure_ascii=False),
        collected,
    ) for post_id, label in zip(post_ids, labels, strict=True)])
    return post_ids


def _inserting(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


@dataclass
class _Writes:
    """The rows a batch adds besides posts and labels, written together once its posts
    are handled (before spikes read them): problems, `opened` events, repeat links.
    Incidents themselves are inserted one by one: a later post of the batch may repeat
    one."""

    problems: list[tuple[int, bytes]] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    opened: list[tuple[int, dict]] = field(default_factory=list)  # (incident, label scores)
    routes: dict = field(default_factory=dict)  # (topic, municipality) → (org key, id, why)
    rules: list | None = None  # the routing rules in force, read once
    lines: set[int] = field(default_factory=set)  # sources with a direct line open in the batch

    def route(self, ctx: Context, topic: str, municipality: str | None) -> tuple:
        """Routing is asked once per topic and municipality in a batch."""
        key = (topic, municipality)
        if key not in self.routes:
            if self.rules is None:
                self.rules = rules(ctx.settings, ctx.db)
            org_key, reason = route(ctx.settings, topic, municipality, in_force=self.rules)
            self.routes[key] = (org_key, organisation_id(ctx.db, org_key), reason)
        return self.routes[key]

    def flush(self, db, now) -> None:
        if self.problems:
            db.conn.executemany("INSERT INTO post_problems (post_id, problem) VALUES (?, ?)",
                                self.problems)
        record_events(db, self.events)
        record_links(db, self.links, now)


def _problems(similarity: Similarity, posts: list[Post], labels: list,
              lemmas: list | None) -> dict[int, Problem]:
    """The problems of a batch's actionable posts (by position), read together from the
    lemmas the pipeline read (`lemmas`; None: from the texts)."""
    wanted = [k for k, label in enumerate(labels) if label.kind in ACTIONABLE_KINDS]
    problems = similarity.read_many([posts[k].text for k in wanted],
                                    [lemmas[k] for k in wanted] if lemmas is not None else None)
    return dict(zip(wanted, problems, strict=True))


def _handle_new(ctx: Context, post: Post, post_id: int, label, source: dict, now, similarity,
                report, writes: _Writes, problem: Problem | None) -> None:
    """A stored post: the author's answer in a thread, a repeat, or a new incident
    (`problem`: read with the batch's, for an actionable post)."""
    db = ctx.db
    if resident_reply(ctx, post, post_id, source["id"]):
        return  # the author answering our question or rating the solution
    if label.kind not in ACTIONABLE_KINDS or _organisation_speaking(db, post, source):
        return
    if source["id"] in writes.lines and directline.take(ctx, post, post_id, label, source):
        return  # a question of a direct line: its own queue, grouped after the batch
    with report.timed("repeats"):
        writes.problems.append((post_id, problem.to_bytes()))
        match = find_repeat(ctx, similarity, problem, label.topic, label.municipality, now)
    if match:
        writes.links.append(Link(match.incident_id, post_id, match.score, "system:ingest"))
        report.repeats += 1
        return
    org_key, org_id, reason = writes.route(ctx, label.topic, label.municipality)
    incident_id = insert_incident(ctx, Opening(post_id, label, org_id, org_key, reason),
                                  writes.events)
    if label.municipality:
        ctx.open_problems.opened(label.municipality, label.topic, incident_id, now, problem)
    report.incidents += 1
    writes.opened.append((incident_id, label.scores))


def _organisation_speaking(db, post: Post, source: dict) -> bool:
    """A VK post or comment written by an organisation's own community (an official
    announcement, or our own published reply coming back through a collector) is
    context for the thread, never a resident's incident."""
    author = post.author_id or ""
    if not author.startswith("vk:-"):
        return False
    if source["role"] == "official" and source["key"] == author:
        return True
    group_id = author.removeprefix("vk:-")
    return group_id.isdigit() and db.execute(
        "SELECT 1 FROM organisations WHERE vk_group_id = ?", [int(group_id)]).fetchone() is not None


def _store_edit(db, row: dict, post: Post, now) -> None:
    db["post_versions"].insert({"post_id": row["id"], "text": row["text"], "raw": row["raw"],
                               "replaced_at": iso(now)})
    db["posts"].update(row["id"], {"text": post.text, "edited_at": iso(now),
                                   "raw": json.dumps(post.raw, ensure_ascii=False)})


def _mark_deleted(db, source_key: str, external_id: str, now) -> int:
    cursor = db.execute(
        "UPDATE posts SET deleted_at = ? WHERE deleted_at IS NULL AND external_id = ?"
        " AND source_id = (SELECT id FROM sources WHERE key = ?)",
        [iso(now), external_id, source_key],
    )
    return cursor.rowcount
