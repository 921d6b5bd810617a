"""Repeats: a new complaint about a problem an open incident already tracks.

A ЦУР hears about one burst pipe from twenty residents; twenty incidents would bury
the queue. A new actionable post is linked to an open incident of the same
municipality and topic when it speaks of the same problem at the same place:

- the place: street and house number found in the text (a different street, or the
  same street with a different house, means a different place);
- the problem: the best of the cosines of the lemmas and of their character n-grams
  (which carry «вода» / «водоснабжение») of the texts with the address words taken
  out, and of the soft match of their words' vectors («сухо» / «нет воды»).

Each post's problem is read once at ingest (nlp.likeness) and the open incidents'
problems are held per municipality and topic (monitor.incidents.open_problems), so a
look-up costs sparse dot products, not a refit over the candidates' texts.

Moderators can link an incident to another by hand (it is rejected as a duplicate)
and unlink a repeat (it gets back its own incident).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING

import numpy as np

from monitor.clock import iso, parse_time
from nlp.likeness import Problem, Reader, soft_matches
from nlp.streets import Place, default_morph, places
from nlp.text import Morph
from nlp.vectors import WordVectors

from .deadlines import recompute
from .linked_answers import answer_latecomer
from .open_problems import Group
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
GRAMS_WEIGHT = 0.85  # shared word pieces say a little less than shared lemmas
# The soft match of word vectors (a product per pair of words) is computed for a
# candidate that shares no street only when their mean word vectors are this close and
# their lemmas or word pieces already this alike: among 1.1M pairs of labelled
# messages, the 17 whose soft match reached the 0.75 that links had mean vector
# cosines of 0.70 and more and lemma or piece cosines of 0.35 and more.
SOFT_FLOOR = 0.6
SOFT_SCORE_FLOOR = 0.25
# …and for at most this many candidates, the closest by mean word vector first (a
# street with a hundred open incidents would otherwise cost a hundred soft matches).
SOFT_CANDIDATES = 32
SAME, DIFFERENT, UNKNOWN = "same", "different", "unknown"
RELATIONS = (UNKNOWN, SAME, DIFFERENT)  # as small integers in `rank`


@dataclass(frozen=True)
class Match:
    incident_id: int
    score: float
    reason: str


@lru_cache(maxsize=1)
def _own_vectors() -> WordVectors:
    """Word vectors for a pipeline that has none (a pipeline without vector features)."""
    return WordVectors(default_morph())


class Similarity:
    """Reads texts' places and problems; built once per batch over the pipeline's
    morphology and word vectors (one shared copy of navec)."""

    def __init__(self, morph: Morph | None = None, vectors: WordVectors | None = None):
        self.morph = morph or default_morph()
        self._vectors = vectors

    @classmethod
    def of(cls, pipeline) -> Similarity:
        """The one Similarity of a pipeline's morphology and vectors (its caches live on)."""
        return _similarity(getattr(pipeline, "morph", None), getattr(pipeline, "vectors", None))

    @cached_property
    def reader(self) -> Reader:
        return Reader(self.morph, self._vectors or _own_vectors())

    def places(self, text: str) -> set[Place]:
        return places(text, self.morph)

    def read(self, text: str) -> Problem:
        return self.reader.read(text)

    def read_many(self, texts: list[str], lemmas: list[list[str]] | None = None) -> list[Problem]:
        return self.reader.read_many(texts, lemmas)


@lru_cache(maxsize=4)  # a hot swap brings a new pipeline; a few stay
def _similarity(morph: Morph | None, vectors: WordVectors | None) -> Similarity:
    return Similarity(morph, vectors)


def place_relation(a: set[Place], b: set[Place]) -> str:
    """same | different | unknown — what the two texts' addresses say."""
    if not a or not b:
        return UNKNOWN
    streets = {p.street for p in a} & {p.street for p in b}
    if not streets:
        return DIFFERENT
    for street in streets:
        ha = {p.house for p in a if p.street == street and p.house}
        hb = {p.house for p in b if p.street == street and p.house}
        if not ha or not hb or ha & hb:
            return SAME
    return DIFFERENT


def find_repeat(ctx: Context, similarity: Similarity, problem: Problem, topic: str,
                municipality: str | None, now: datetime) -> Match | None:
    """The open incident this problem repeats, if any (same municipality and topic)."""

    if not municipality:
        return None
    since = now - timedelta(days=ctx.settings.workflow.repeat_window_days)
    group = ctx.open_problems.group(ctx.db, similarity.reader, municipality, topic, since)
    ranked = rank(similarity.reader, group, problem, since, ctx.open_problems.dense)
    if not ranked:
        return None
    found = {row[0]: (row[1], row[2]) for row in ctx.db.execute(
        f"SELECT id, status, opened_at FROM incidents WHERE id IN ({', '.join('?' * len(ranked))})",
        [group.ids[k] for k, _, _ in ranked])}
    for position, score, relation in ranked:
        status, opened_at = found.get(group.ids[position], (None, None))
        if status in OPEN_STATUSES and parse_time(opened_at) >= since:
            return Match(group.ids[position], round(score, 3),
                         f"{relation} place, similarity {score:.2f}")
        if status not in OPEN_STATUSES:
            group.dead.add(position)
    return None


def rank(reader: Reader, group: Group, problem: Problem, since: datetime,
         dense: np.ndarray) -> list[tuple[int, float, str]]:
    """(position, score, place relation) of the group's incidents this problem may
    repeat, best first (the newest first among equals)."""
    n = len(group.ids)
    if not n:
        return []
    scores = np.maximum(group.lemmas.dot(problem.lemmas, dense),
                        GRAMS_WEIGHT * group.grams.dot(problem.grams, dense)).astype(np.float64)
    relation = np.zeros(n, dtype=np.int8)  # positions in RELATIONS
    if problem.places:
        relation[group.placed] = RELATIONS.index(DIFFERENT)
        shared = {k for p in problem.places for k in group.by_street.get(p.street, ())}
        for k in shared:
            relation[k] = RELATIONS.index(place_relation(set(problem.places), set(group.places[k])))
    alive = group.opened_since(since)
    if group.dead:
        alive[list(group.dead)] = False
    same = alive & (relation == RELATIONS.index(SAME))
    unknown = alive & (relation == RELATIONS.index(UNKNOWN))
    threshold = np.where(same, SAME_PLACE, NO_PLACE)
    cosines = group.vector_cosines(problem.vector)
    alike = (cosines >= SOFT_FLOOR) & (scores >= SOFT_SCORE_FLOOR)
    need = np.flatnonzero((same | (unknown & alike)) & (scores < threshold))
    if len(need):  # the soft match, only for the candidates the cosines left short
        chosen = need[np.argsort(-cosines[need], kind="stable")][:SOFT_CANDIDATES]
        soft = soft_matches(reader.words(problem.words), [reader.words(group.words[k]) for k in chosen])
        scores[chosen] = np.maximum(scores[chosen], soft)
    chosen = np.flatnonzero((same | unknown) & (scores >= threshold))
    order = sorted(chosen, key=lambda k: (-scores[k], -group.ids[k]))
    return [(int(k), float(scores[k]), RELATIONS[relation[k]]) for k in order]


@dataclass(frozen=True)
class Link:
    incident_id: int
    post_id: int
    score: float | None
    actor: str


def link(ctx: Context, incident_id: int, post_id: int, score: float | None, actor: str, reason: str,
         now: datetime) -> None:
    """Record a post as a repeat of an incident; the caller holds the transaction.

    The incident_repeats row is the history (who linked it, when, who unlinked it); a
    link by hand is also the `link_repeat` event of the incident that was linked."""
    record_links(ctx.db, [Link(incident_id, post_id, score, actor)], now)


def record_links(db, links: list[Link], now: datetime) -> None:
    """Record many repeats at once (a batch's): one statement for the rows, one for the
    incidents' counts."""
    if not links:
        return
    db.conn.executemany(
        "INSERT INTO incident_repeats (incident_id, post_id, score, linked_by, linked_at)"
        " VALUES (?, ?, ?, ?, ?)",
        [(k.incident_id, k.post_id, k.score, k.actor, iso(now)) for k in links])
    counts = Counter(k.incident_id for k in links)
    db.conn.executemany("UPDATE incidents SET repeats = repeats + ?, updated_at = ? WHERE id = ?",
                        [(n, iso(now), incident_id) for incident_id, n in counts.items()])
    for k in links:  # an answer already approved reaches a post linked later too
        answer_latecomer(db, k.incident_id, k.post_id, now)


def link_by_hand(ctx: Context, incident: dict, data: dict, now: datetime, actor: str) -> None:
    """A moderator says `incident` repeats incident `repeat_of` (lifecycle rejects it)."""

    try:
        target_id = int(data["repeat_of"])
    except (TypeError, ValueError):
        raise TransitionError(f"«{data['repeat_of']}» — не номер инцидента") from None
    if target_id == incident["id"]:
        raise TransitionError("Инцидент не может быть повтором самого себя")
    rows = list(ctx.db["incidents"].rows_where("id = ?", [target_id]))
    if not rows:
        raise TransitionError(f"Инцидента № {target_id} нет")
    if rows[0]["status"] not in OPEN_STATUSES:
        raise TransitionError(f"Инцидент № {target_id} уже не открыт: повтор привязывают к открытому")
    data["repeat_of"] = target_id
    link(ctx, target_id, incident["post_id"], None, actor, f"by hand from incident {incident['id']}",
         now)


def unlink(ctx: Context, incident: dict, data: dict, now: datetime, actor: str) -> None:
    """Undo a repeat: the post gets its own incident back (restored or newly opened)."""

    db = ctx.db
    try:
        post_id = int(data["post_id"])
    except (TypeError, ValueError):
        raise TransitionError(f"Сообщение «{data['post_id']}» указано не номером") from None
    rows = list(db["incident_repeats"].rows_where(
        "incident_id = ? AND post_id = ? AND unlinked_at IS NULL", [incident["id"], post_id]))
    if not rows:
        raise TransitionError(f"Сообщение {post_id} не привязано как повтор к инциденту № {incident['id']}")
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
        raise TransitionError(f"У сообщения {post_id} нет меток: инцидент из него не открыть")
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
