"""Moderators' label corrections and confirmations: the evidence the models learn from.

A moderator reviews a post's four labels. Each review writes one row per label with
the value shown and the value asserted (`label_corrections`, append-only), so a
changed value is a correction and an unchanged review is a confirmation. The current
labels of a post are the model's, overlaid with the latest review.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlite_utils import Database

from monitor.clock import iso
from monitor.incidents.lifecycle import RELABELLED, act
from monitor.incidents.states import OPEN_STATUSES
from nlp.data import split_of, validate
from nlp.labels import KINDS, TOPICS, URGENCIES

if TYPE_CHECKING:  # the Context type only: context.py imports this layer
    from monitor.context import Context

LABELS = ("kind", "topic", "municipality", "urgency")
CHOICES = {"kind": KINDS, "topic": TOPICS, "urgency": URGENCIES}


class CorrectionError(Exception):
    """A review cannot be stored as asked; the message says what to fix."""


@dataclass
class PostLabels:
    post_id: int
    text: str
    channel: str
    source_key: str
    source_municipality: str | None
    external_id: str
    incident_id: int | None
    model_version: str | None
    model: dict  # the model's labels
    scores: dict
    current: dict  # the model's labels overlaid with the latest review
    reviews: list[dict] = field(default_factory=list)  # oldest first, each with its rows


def post_labels(db: Database, post_id: int) -> PostLabels | None:
    """The post, its model labels and every review of them (None: no such post)."""
    row = db.execute(
        "SELECT p.id, p.text, p.channel, p.external_id, s.key, s.municipality,"
        " (SELECT id FROM incidents WHERE post_id = p.id)"
        " FROM posts p JOIN sources s ON s.id = p.source_id WHERE p.id = ?", [post_id]).fetchone()
    if row is None:
        return None
    label = db.execute(
        "SELECT model_version, kind, topic, municipality, urgency, scores FROM labels"
        " WHERE post_id = ? ORDER BY id DESC LIMIT 1", [post_id]).fetchone()
    model = dict(zip(LABELS, label[1:5], strict=True)) if label else dict.fromkeys(LABELS)
    found = PostLabels(
        post_id=row[0], text=row[1], channel=row[2], external_id=row[3], source_key=row[4],
        source_municipality=row[5], incident_id=row[6], model_version=label[0] if label else None,
        model=model, scores=json.loads(label[5] or "{}") if label else {}, current=dict(model),
    )
    found.reviews = _reviews(db, "post_id = ?", [post_id])
    for review in found.reviews:
        found.current.update(review["values"])
    return found


def record_review(db: Database, post_id: int, values: dict, author: str, now: datetime, *,
                  municipalities: set[str] | None = None) -> int:
    """Store one review: the asserted value of every label (missing ones: unchanged).

    Returns the review id. `municipalities`: the region's keys, to refuse a typo; an
    empty municipality means «no municipality of the region» (null).
    """
    current = post_labels(db, post_id)
    if current is None:
        raise CorrectionError(f"Сообщения {post_id} нет")
    asserted = dict(current.current)
    for name, value in values.items():
        if name not in LABELS:
            raise CorrectionError(f"Неизвестная метка «{name}»; есть: {', '.join(LABELS)}")
        asserted[name] = (value or None) if name == "municipality" else value
    for name, choices in CHOICES.items():
        if asserted[name] not in choices:
            raise CorrectionError(f"{name} {asserted[name]!r}: такого значения нет; есть: {', '.join(choices)}")
    place = asserted["municipality"]
    if place is not None and municipalities is not None and place not in municipalities:
        raise CorrectionError(f"«{place}» — не муниципалитет региона")
    rows = [(post_id, current.incident_id, name, current.current[name], asserted[name],
             current.model_version, author, iso(now)) for name in LABELS]
    columns = "post_id, incident_id, label, old_value, new_value, model_version, author, at"
    with db.atomic():
        # The review's id is its first row's id, taken inside that row's INSERT: the write
        # lock is held from then on, so two moderators saving at once never share one.
        first = db.execute(
            f"INSERT INTO label_corrections (review_id, {columns}) VALUES "
            "((SELECT coalesce(max(id), 0) + 1 FROM label_corrections), ?, ?, ?, ?, ?, ?, ?, ?)",
            rows[0]).lastrowid
        review_id = db.execute("SELECT review_id FROM label_corrections WHERE id = ?",
                               [first]).fetchone()[0]
        db.conn.executemany(
            f"INSERT INTO label_corrections (review_id, {columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(review_id, *row) for row in rows[1:]])
    return review_id


def correct_labels(ctx: Context, post_id: int, values: dict, author: str, *,
                   municipalities: set[str] | None = None) -> int:
    """A moderator's review (training evidence) that also takes effect on the incident the
    post opened, if it is still open: new urgency, new deadlines; new topic or
    municipality, a new route (lifecycle action `relabel`). One transaction."""
    with ctx.db.atomic():
        review_id = record_review(ctx.db, post_id, values, author, ctx.clock.now(), municipalities=municipalities)
        post = post_labels(ctx.db, post_id)
        if post.incident_id is not None:
            incident = ctx.db["incidents"].get(post.incident_id)
            wanted = {name: post.current[name] for name in RELABELLED}
            if incident["post_id"] == post_id and incident["status"] in OPEN_STATUSES \
                    and any(incident[name] != value for name, value in wanted.items()):
                act(ctx, post.incident_id, "relabel", author, labels=wanted)
    return review_id


def _reviews(db: Database, where: str, params: list) -> list[dict]:
    """Reviews (oldest first): id, post, author, time, model version, values, changes."""
    cursor = db.execute(
        "SELECT review_id, post_id, incident_id, label, old_value, new_value, model_version,"
        f" author, at FROM label_corrections WHERE {where} ORDER BY review_id, id", params)
    reviews: dict[int, dict] = {}
    for rid, post_id, incident_id, name, old, new, version, author, at in cursor.fetchall():
        review = reviews.setdefault(rid, {
            "review_id": rid, "post_id": post_id, "incident_id": incident_id, "author": author,
            "at": at, "model_version": version, "values": {}, "changes": {},
        })
        review["values"][name] = new
        if old != new:
            review["changes"][name] = (old, new)
    return list(reviews.values())


def reviews_since(db: Database, since: str | None = None) -> list[dict]:
    """Every review at or after `since` (UTC ISO), oldest first."""
    if since:
        return _reviews(db, "at >= ?", [since])
    return _reviews(db, "1 = 1", [])


def gathered_since(db: Database, since: str | None) -> dict:
    """Per label, the corrections made after `since`; and how many reviews confirmed all."""
    counts: Counter = Counter()
    confirmations = 0
    for review in reviews_since(db, since):
        if since and review["at"] <= since:
            continue  # the review a version learnt from last: not waiting
        counts.update(review["changes"].keys())
        confirmations += not review["changes"]
    return {"corrections": {name: counts.get(name, 0) for name in LABELS},
            "confirmations": confirmations}


def low_confidence(db: Database, limit: int = 50, offset: int = 0) -> list[dict]:
    """Posts the model is least sure of, never reviewed yet: lowest probability of the
    chosen kind, topic or urgency (the municipality score is a fixed rule score, left out).

    Active learning: a moderator's minute is worth most where the model hesitates.
    """
    cursor = db.execute(
        """
        SELECT p.id, p.text, p.created_at, l.kind, l.topic, l.municipality, l.urgency, l.scores,
               min(coalesce(json_extract(l.scores, '$.kind'), 1),
                   coalesce(json_extract(l.scores, '$.topic'), 1),
                   coalesce(json_extract(l.scores, '$.urgency'), 1)) AS confidence,
               (SELECT id FROM incidents WHERE post_id = p.id) AS incident_id
        FROM labels l JOIN posts p ON p.id = l.post_id
        WHERE l.id = (SELECT max(id) FROM labels WHERE post_id = l.post_id)
          AND p.deleted_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM label_corrections c WHERE c.post_id = p.id)
        ORDER BY confidence, p.id DESC LIMIT ? OFFSET ?
        """, [limit, offset])
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    for row in rows:
        scores = json.loads(row.pop("scores") or "{}")
        model = {k: v for k, v in scores.items() if k != "municipality"}
        row["weakest"] = min(model, key=model.get) if model else None
        row["scores"] = scores
    return rows


# --- the training set: reviewed posts as labelled records -------------------------

EXPORT_ID_PREFIX = "mod-"


def export_id(source_key: str, external_id: str) -> str:
    """A stable id for a reviewed post; its hash picks train or recent-evaluation share."""
    digest = hashlib.sha1(f"{source_key}/{external_id}".encode()).hexdigest()[:12]
    return f"{EXPORT_ID_PREFIX}{digest}"


@dataclass
class Export:
    train: list[dict] = field(default_factory=list)  # ids in the train share of nlp.data.split_of
    recent: list[dict] = field(default_factory=list)  # test share: the recent-corrections set
    conflicts: list[dict] = field(default_factory=list)
    folded_reviews: int = 0  # later reviews of an already exported post
    same_text: int = 0  # reviewed posts whose text another reviewed post already has
    in_data: int = 0  # reviewed posts whose text data/labelled already has (left to it)
    invalid: list[str] = field(default_factory=list)

    @property
    def records(self) -> list[dict]:
        return self.train + self.recent


def _normalised(text: str) -> str:
    return " ".join((text or "").lower().replace("ё", "е").split())


def export_reviews(db: Database, *, labelled: list[dict] = (), since: str | None = None,
                   on_conflict: str = "latest") -> Export:
    """Reviewed posts as records in the data/labelled format, with provenance.

    Rules, in order:
    - every review of a post asserts all four labels; the latest review decides;
    - a (post, label) whose reviews asserted different values is a conflict: it is
      reported, and with on_conflict="latest" the latest review wins, with "skip" the
      post is left out;
    - reviewed posts with the same text (a repost) give one record, the latest decided;
    - a text that data/labelled already holds is left to data/labelled (curated, and it
      may sit in the fixed test split: adding it again would leak test into train).
    The id's hash (nlp.data.split_of) puts a record in the train share or in the
    recent-corrections evaluation set, never both.
    """

    if on_conflict not in ("latest", "skip"):
        raise CorrectionError("on_conflict must be latest or skip")
    known_texts = {_normalised(r["text"]) for r in labelled}
    by_post: dict[int, list[dict]] = {}
    for review in reviews_since(db, since):
        by_post.setdefault(review["post_id"], []).append(review)
    out = Export()
    by_text: dict[str, dict] = {}
    for post_id, reviews in by_post.items():
        out.folded_reviews += len(reviews) - 1
        post = post_labels(db, post_id)
        conflicts = _conflicts(post_id, reviews)
        out.conflicts.extend(conflicts)
        if conflicts and on_conflict == "skip":
            continue
        last = reviews[-1]
        record = {
            "id": export_id(post.source_key, post.external_id),
            "text": post.text, "source": post.channel,
            "source_municipality": post.source_municipality,
            **{name: last["values"][name] for name in LABELS},
            "provenance": {
                "post_id": post_id, "incident_id": post.incident_id,
                "decided_by": last["author"], "decided_at": last["at"],
                "model_version": last["model_version"],
                "confirmed": not any(r["changes"] for r in reviews),
                "reviews": [{"author": r["author"], "at": r["at"],
                             "model_version": r["model_version"],
                             "changes": {k: list(v) for k, v in r["changes"].items()}}
                            for r in reviews],
            },
        }
        errors = validate(record)
        if errors:
            out.invalid.append(f"post {post_id}: {'; '.join(errors)}")
            continue
        key = _normalised(post.text)
        if key in known_texts:
            out.in_data += 1
            continue
        earlier = by_text.get(key)
        if earlier is not None:
            out.same_text += 1
            if earlier["provenance"]["decided_at"] > record["provenance"]["decided_at"]:
                continue
        by_text[key] = record
    for record in sorted(by_text.values(), key=lambda r: r["id"]):
        (out.train if split_of(record["id"]) == "train" else out.recent).append(record)
    return out


def _conflicts(post_id: int, reviews: list[dict]) -> list[dict]:
    found = []
    for name in LABELS:
        asserted = [(r["values"][name], r["author"], r["at"]) for r in reviews]
        if len({value for value, _, _ in asserted}) > 1:
            found.append({"post_id": post_id, "label": name, "resolved": asserted[-1][0],
                          "decisions": [{"value": v, "author": a, "at": t} for v, a, t in asserted]})
    return found
