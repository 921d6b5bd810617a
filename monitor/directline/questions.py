"""The event's queue: its messages taken at ingest and grouped by the question they ask.

A message of an event's source within its window (monitor.directline.events) that
asks, complains or suggests is a question of the event: it opens no incident of its own
and waits in the event's queue. After each ingest batch the new questions are grouped
within their topic: a question joins the group whose first questions it is on average
most like (the problem similarity of repeats and spikes: lemmas and word vectors,
addresses left out, monitor.incidents.spikes.pairwise), when at least `MERGE`, else it
starts a group of its own; the groups' summaries are picked again (monitor.directline
.summaries). Groups keep their identity, so marks on them stay.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING

import numpy as np

from monitor.clock import iso, parse_time
from monitor.incidents.repeats import Similarity
from monitor.incidents.spikes import Candidate, pairwise, problems
from nlp import ACTIONABLE_KINDS

from .events import covering
from .summaries import summarise

if TYPE_CHECKING:  # the Context type only: context.py imports this layer
    from monitor.context import Context

MERGE = 0.5  # mean similarity to a group's first questions to join it
SAMPLE = 5  # a group is compared through its first questions


def take(ctx: Context, post, post_id: int, label, source: dict) -> bool:
    """Queue a message as a question of the event covering it; True when it is one
    (it then opens no incident). The caller holds the transaction."""
    event = covering(ctx.db, source["id"], post.external_id, post.parent_id, post.created_at)
    if event is None or label.kind not in ACTIONABLE_KINDS:
        return False
    ctx.db["directline_questions"].insert({
        "event_id": event.id, "post_id": post_id, "topic": label.topic,
        "municipality": label.municipality, "created_at": iso(post.created_at)})
    return True


def _candidates(db, where: str, params: list) -> list[tuple[Candidate, int | None]]:
    """(the question as spikes read messages, its group)."""
    return [(Candidate(r[0], parse_time(r[1]), r[2] or "", None, None, r[4]), r[3]) for r in db.execute(
        "SELECT q.post_id, q.created_at, p.text, q.group_id, pp.problem FROM directline_questions q"
        " JOIN posts p ON p.id = q.post_id LEFT JOIN post_problems pp ON pp.post_id = q.post_id"
        f" WHERE {where} ORDER BY q.created_at, q.id", params)]


def group_new(ctx: Context) -> int:
    """Group every question not grouped yet; returns how many were."""
    db = ctx.db
    pending = db.execute("SELECT DISTINCT event_id, topic FROM directline_questions"
                         " WHERE group_id IS NULL ORDER BY 1, 2").fetchall()
    if not pending:
        return 0
    similarity = Similarity.of(ctx.pipeline)
    grouped = 0
    with db.atomic():
        for event_id, topic in pending:
            grouped += _group(ctx, similarity, event_id, topic)
    return grouped


def _group(ctx: Context, similarity: Similarity, event_id: int, topic: str) -> int:
    db, now = ctx.db, ctx.clock.now()
    known = _candidates(db, "q.event_id = ? AND q.topic = ? AND q.group_id IS NOT NULL"
                            " AND q.id IN (SELECT id FROM directline_questions q2 WHERE"
                            " q2.group_id = q.group_id ORDER BY q2.created_at, q2.id LIMIT ?)",
                        [event_id, topic, SAMPLE])
    new = _candidates(db, "q.event_id = ? AND q.topic = ? AND q.group_id IS NULL", [event_id, topic])
    everyone = [c for c, _ in known + new]
    matrix = pairwise(problems(similarity, everyone))
    members: dict[int, list[int]] = {}  # group → its sample's positions in `everyone`
    for k, (_, group) in enumerate(known):
        members.setdefault(group, []).append(k)
    changed = set()
    for k in range(len(known), len(everyone)):
        best, score = None, MERGE
        for group, sample in members.items():
            mean = float(np.mean(matrix[k, sample]))
            if mean >= score:
                best, score = group, mean
        if best is None:
            best = db["directline_groups"].insert({"event_id": event_id, "topic": topic,
                                                   "questions": 0, "created_at": iso(now)}).last_pk
            members[best] = []
        if len(members[best]) < SAMPLE:
            members[best].append(k)
        db.execute("UPDATE directline_questions SET group_id = ? WHERE post_id = ?",
                   [best, everyone[k].post_id])
        changed.add(best)
    for group in changed:
        _refresh(db, similarity, group)
    return len(new)


def _refresh(db, similarity: Similarity, group_id: int) -> None:
    texts = [r[0] for r in db.execute(
        "SELECT p.text FROM directline_questions q JOIN posts p ON p.id = q.post_id"
        " WHERE q.group_id = ? ORDER BY q.created_at, q.id", [group_id])]
    db["directline_groups"].update(group_id, {
        "questions": len(texts),
        "summary": json.dumps(summarise(similarity, texts), ensure_ascii=False)})


def groups(db, event_id: int) -> list[dict]:
    """The event's groups, the largest first within each topic, with their summary, the
    municipalities asked from and the state of their answer."""
    rows = list(db.query(
        "SELECT g.*, i.status AS incident_status, i.answered_at, o.name AS organisation_name"
        " FROM directline_groups g LEFT JOIN incidents i ON i.id = g.incident_id"
        " LEFT JOIN organisations o ON o.id = i.organisation_id"
        " WHERE g.event_id = ? ORDER BY g.topic, g.questions DESC, g.id", [event_id]))
    places: dict[int, Counter] = {}
    for group_id, municipality in db.execute(
            "SELECT group_id, municipality FROM directline_questions WHERE event_id = ?"
            " AND group_id IS NOT NULL", [event_id]):
        places.setdefault(group_id, Counter())[municipality or "—"] += 1
    for row in rows:
        row["summary"] = json.loads(row["summary"] or "[]")
        row["municipalities"] = places.get(row["id"], Counter()).most_common()
    return rows


def questions_of(db, group_id: int) -> list[dict]:
    """A group's questions, earliest first, with their latest labels."""
    return list(db.query(
        "SELECT q.post_id, q.topic, q.municipality, p.text, p.author_name, p.created_at, p.url"
        " FROM directline_questions q JOIN posts p ON p.id = q.post_id"
        " WHERE q.group_id = ? ORDER BY q.created_at, q.id", [group_id]))

