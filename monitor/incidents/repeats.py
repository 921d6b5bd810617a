"""Repeats: a new complaint about a problem an open incident already tracks.

A ЦУР hears about one burst pipe from twenty residents; twenty incidents would bury
the queue. A new actionable post is linked to an open incident of the same
municipality and topic when it speaks of the same problem at the same place:

- the place: street and house number found in the text (a different street, or the
  same street with a different house, means a different place);
- the problem: TF-IDF cosine over lemmas (and character n-grams of lemmas, which
  carry «вода» / «водоснабжение») of the texts with the address words taken out.

Moderators can link an incident to another by hand (it is rejected as a duplicate)
and unlink a repeat (it gets back its own incident).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
from natasha import NewsEmbedding
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import cosine_similarity

from monitor.clock import iso
from nlp.streets import STOP, Place, default_morph, places
from nlp.text import Morph, clean, tokenize

from .deadlines import recompute
from .routing import route
from .states import (
    NEW,
    OPEN_STATUSES,
    REJECTED,
    Event,
    TransitionError,
    open_incident,
    record_event,
)

if TYPE_CHECKING:  # the Context type only: context.py imports this layer
    from monitor.context import Context

# Linking thresholds on the problem similarity (0..1), by what the addresses say.
SAME_PLACE = 0.27  # both name the same street (and house, when both give one)
NO_PLACE = 0.75  # at least one names no street: only a near-identical complaint
MAX_CANDIDATES = 200



@dataclass(frozen=True)
class Match:
    incident_id: int
    score: float
    reason: str


class Similarity:
    """Lemmas and places of texts; built once per ingest (the morphology is cached)."""

    def __init__(self, morph: Morph | None = None):
        self.morph = morph or default_morph()

    def places(self, text: str) -> set[Place]:
        return places(text, self.morph)

    def problem(self, text: str, places: set[Place]) -> str:
        """Lemmas of the text without the address: what is wrong, not where."""
        drop = {p.street for p in places}
        words = self.morph.lemmas(tokenize(clean(text)))
        return " ".join(w for w in words if w not in STOP and w not in drop
                        and not any(c.isdigit() for c in w))

    def scores(self, text: str, others: list[str]) -> list[float]:
        """Similarity of `text` to each of `others`: the best of TF-IDF cosine over lemmas,
        over their character n-grams, and a soft match of their word vectors."""
        if not others:
            return []
        docs = [text, *others]
        best = [0.0] * len(others)
        for vectorizer, weight in ((TfidfVectorizer(sublinear_tf=True, token_pattern=r"\S+"), 1.0),
                                   (TfidfVectorizer(analyzer="char_wb", ngram_range=(4, 5),
                                                    sublinear_tf=True), 0.85)):
            try:
                matrix = vectorizer.fit_transform(docs)
            except ValueError:  # nothing left to compare (emoji, numbers only)
                continue
            sims = cosine_similarity(matrix[0], matrix[1:])[0]
            best = [max(b, float(s) * weight) for b, s in zip(best, sims, strict=True)]
        mine = vectors(text)
        return [max(b, soft_match(mine, vectors(o))) for b, o in zip(best, others, strict=True)]


@lru_cache(maxsize=1)
def _embedding():
    """natasha's Navec news embedding (shipped with natasha): «вода» is near «водоснабжение»."""

    return NewsEmbedding()


def vectors(lemmas: str) -> np.ndarray:
    emb = _embedding()
    rows = [np.asarray(emb[w], dtype=float) for w in lemmas.split() if w in emb]
    if not rows:
        return np.zeros((0, 1))
    matrix = np.vstack(rows)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def soft_match(a: np.ndarray, b: np.ndarray) -> float:
    """Each word's best partner on the other side, averaged both ways (0..1)."""
    if not len(a) or not len(b):
        return 0.0
    sims = a @ b.T
    return max(0.0, float((sims.max(axis=1).mean() + sims.max(axis=0).mean()) / 2))


def place_relation(a: set[Place], b: set[Place]) -> str:
    """same | different | unknown — what the two texts' addresses say."""
    if not a or not b:
        return "unknown"
    streets = {p.street for p in a} & {p.street for p in b}
    if not streets:
        return "different"
    for street in streets:
        ha = {p.house for p in a if p.street == street and p.house}
        hb = {p.house for p in b if p.street == street and p.house}
        if not ha or not hb or ha & hb:
            return "same"
    return "different"


def find_repeat(ctx: Context, similarity: Similarity, text: str, topic: str, municipality: str | None,
                now: datetime) -> Match | None:
    """The open incident this text repeats, if any (same municipality and topic)."""

    if not municipality or not text.strip():
        return None
    since = now - timedelta(days=ctx.settings.workflow.repeat_window_days)
    rows = ctx.db.execute(
        f"SELECT i.id, p.text FROM incidents i JOIN posts p ON p.id = i.post_id"
        f" WHERE i.municipality = ? AND i.topic = ? AND i.opened_at >= ?"
        f" AND i.status IN ({', '.join('?' * len(OPEN_STATUSES))})"
        f" ORDER BY i.id DESC LIMIT ?",
        [municipality, topic, iso(since), *OPEN_STATUSES, MAX_CANDIDATES]).fetchall()
    if not rows:
        return None
    places = similarity.places(text)
    other_places = [similarity.places(t) for _, t in rows]
    problems = [similarity.problem(t, p) for (_, t), p in zip(rows, other_places, strict=True)]
    scores = similarity.scores(similarity.problem(text, places), problems)
    best = None
    for (incident_id, _), theirs, score in zip(rows, other_places, scores, strict=True):
        relation = place_relation(places, theirs)
        if relation == "different":
            continue
        threshold = SAME_PLACE if relation == "same" else NO_PLACE
        if score >= threshold and (best is None or score > best.score):
            best = Match(incident_id, round(score, 3), f"{relation} place, similarity {score:.2f}")
    return best


def link(ctx: Context, incident_id: int, post_id: int, score: float | None, actor: str, reason: str,
         now: datetime) -> int:
    """Record a post as a repeat of an incident; the caller holds the transaction.

    The incident_repeats row is the history (who linked it, when, who unlinked it); a
    link by hand is also the `link_repeat` event of the incident that was linked."""
    db = ctx.db
    repeat_id = db["incident_repeats"].insert({
        "incident_id": incident_id, "post_id": post_id, "score": score, "linked_by": actor,
        "linked_at": iso(now)}).last_pk
    db.execute("UPDATE incidents SET repeats = repeats + 1, updated_at = ? WHERE id = ?",
               [iso(now), incident_id])
    return repeat_id


def link_by_hand(ctx: Context, incident: dict, data: dict, now: datetime, actor: str) -> None:
    """A moderator says `incident` repeats incident `repeat_of` (lifecycle rejects it)."""

    try:
        target_id = int(data["repeat_of"])
    except (TypeError, ValueError):
        raise TransitionError(f"repeat_of {data['repeat_of']!r} is not an incident number") from None
    if target_id == incident["id"]:
        raise TransitionError("an incident cannot repeat itself")
    rows = list(ctx.db["incidents"].rows_where("id = ?", [target_id]))
    if not rows:
        raise TransitionError(f"incident {target_id} does not exist")
    if rows[0]["status"] not in OPEN_STATUSES:
        raise TransitionError(f"incident {target_id} is not open; link repeats to an open one")
    data["repeat_of"] = target_id
    link(ctx, target_id, incident["post_id"], None, actor, f"by hand from incident {incident['id']}",
         now)


def unlink(ctx: Context, incident: dict, data: dict, now: datetime, actor: str) -> None:
    """Undo a repeat: the post gets its own incident back (restored or newly opened)."""

    db = ctx.db
    try:
        post_id = int(data["post_id"])
    except (TypeError, ValueError):
        raise TransitionError(f"post {data['post_id']!r} is not a number") from None
    rows = list(db["incident_repeats"].rows_where(
        "incident_id = ? AND post_id = ? AND unlinked_at IS NULL", [incident["id"], post_id]))
    if not rows:
        raise TransitionError(f"post {post_id} is not a repeat of incident {incident['id']}")
    db["incident_repeats"].update(rows[0]["id"], {"unlinked_by": actor, "unlinked_at": iso(now)})
    db.execute("UPDATE incidents SET repeats = MAX(repeats - 1, 0) WHERE id = ?", [incident["id"]])
    own = list(db["incidents"].rows_where("post_id = ?", [post_id]))
    if own:
        if own[0]["status"] == REJECTED:
            db["incidents"].update(own[0]["id"], {"status": NEW, "updated_at": iso(now)})
            record_event(db, Event(own[0]["id"], "restored", actor, now, REJECTED, NEW,
                                   {"unlinked_from": incident["id"]}))
            recompute(ctx, own[0]["id"])
        data["incident_id"] = own[0]["id"]
        return
    label = db.execute("SELECT kind, topic, municipality, urgency FROM labels WHERE post_id = ?"
                       " ORDER BY id DESC LIMIT 1", [post_id]).fetchone()
    if label is None:
        raise TransitionError(f"post {post_id} has no labels to open an incident from")
    labels = _Labels(*label)
    org_key, reason = route(ctx.settings, labels.topic, labels.municipality, ctx.db)
    org = db.execute("SELECT id FROM organisations WHERE key = ?", [org_key]).fetchone()
    data["incident_id"] = open_incident(ctx, post_id, labels, org[0] if org else None, reason,
                                        actor=actor)


@dataclass(frozen=True)
class _Labels:
    kind: str
    topic: str
    municipality: str | None
    urgency: str


def active_repeats(db, incident_id: int) -> list[dict]:
    cursor = db.execute(
        "SELECT r.*, p.text, p.author_name, p.created_at AS posted_at FROM incident_repeats r"
        " JOIN posts p ON p.id = r.post_id WHERE r.incident_id = ? AND r.unlinked_at IS NULL"
        " ORDER BY r.id", [incident_id])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
