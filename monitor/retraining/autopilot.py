"""Autopilot thresholds chosen from the moderators' own history.

Every decision a moderator took on a post is evidence of whether the autopilot would
have been right to send it on with the model's labels at these probabilities — right
when it needed an executor (an actionable kind), the topic and municipality (which pick
the executor) held and the urgency was not raised (too lax a deadline; an urgency lowered
costs nothing but a quicker answer):

- a review of the labels (`label_corrections`, the latest one of a post), judged so;
- an incident a moderator confirmed or sent to an organisation without reviewing its
  labels: right (they read it and kept the labels);
- an incident rejected as spam, not a problem or outside the region: wrong (its kind or
  municipality was).

For each topic (and, with `by_municipality`, each topic and municipality with enough
evidence of its own) `choose` tries every combination of least probabilities on a grid
and keeps the one that lets the most decided incidents through while the share of them
whose labels were right stays at `target` or above, over at least `min_support` of
them; on a tie, the stricter. A topic where no combination reaches the target keeps no
thresholds (its incidents wait for a moderator), and says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from monitor.incidents.autopilot import LABELS, Thresholds, store
from nlp.labels import ACTIONABLE_KINDS, URGENCIES

from .corrections import reviews_since

if TYPE_CHECKING:  # the Context type only: context.py imports this layer
    from monitor.context import Context

GRID = (0.0, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.99)
# The municipality's probability is a rule's: 0.95 named in the text, 0.6 the page's.
MUNICIPALITY_GRID = (0.0, 0.6, 0.95)
WRONG_REJECTIONS = ("spam", "not_a_problem", "outside_region")


@dataclass(frozen=True)
class Decided:
    """One post a moderator decided on, with the model's labels and probabilities."""

    post_id: int
    topic: str
    municipality: str | None
    scores: dict
    right: bool


def _model_labels(db, post_ids: list[int]) -> dict[int, tuple]:
    """post → (kind, topic, municipality, urgency, scores) of its latest labels."""
    found = {}
    for i in range(0, len(post_ids), 400):
        part = post_ids[i:i + 400]
        for row in db.execute(
                "SELECT l.post_id, l.kind, l.topic, l.municipality, l.urgency, l.scores FROM labels l"
                " WHERE l.id IN (SELECT max(id) FROM labels WHERE post_id IN"
                f" ({', '.join('?' * len(part))}) GROUP BY post_id)", part):
            found[row[0]] = (*row[1:5], json.loads(row[5] or "{}"))
    return found


def _incident_verdicts(db) -> dict[int, bool]:
    """post → right, for incidents a person confirmed, routed or rejected."""
    verdicts: dict[int, bool] = {}
    for post_id, event, reason in db.execute(
            "SELECT i.post_id, e.event, json_extract(e.data, '$.reason') FROM incident_events e"
            " JOIN incidents i ON i.id = e.incident_id WHERE e.actor NOT LIKE 'system:%'"
            " AND e.event IN ('confirm', 'assign', 'reject') ORDER BY e.id"):
        if event == "reject":
            if reason in WRONG_REJECTIONS:
                verdicts[post_id] = False
        else:
            verdicts.setdefault(post_id, True)
    return verdicts


def sent_right(model: dict, asserted: dict) -> bool:
    """Whether an incident sent on with the model's labels went where and as it should."""
    return (asserted.get("kind") in ACTIONABLE_KINDS and model["kind"] in ACTIONABLE_KINDS
            and all(asserted.get(name) == model[name] for name in ("topic", "municipality"))
            and URGENCIES.index(asserted.get("urgency") or "low") >= URGENCIES.index(model["urgency"]))


def history(db) -> list[Decided]:
    """Every post a moderator decided on, its labels judged right or wrong."""
    verdicts = _incident_verdicts(db)
    asserted = {r["post_id"]: r["values"] for r in reviews_since(db)}  # the latest review wins
    labels = _model_labels(db, sorted(set(verdicts) | set(asserted)))
    out = []
    for post_id, (kind, topic, municipality, urgency, scores) in sorted(labels.items()):
        model = {"kind": kind, "topic": topic, "municipality": municipality, "urgency": urgency}
        right = sent_right(model, asserted[post_id]) if post_id in asserted else verdicts[post_id]
        out.append(Decided(post_id, topic, municipality, scores, right))
    return out


def _best(group: list[Decided], target: float, min_support: int) -> tuple | None:
    """(least probabilities, precision, support) letting the most through, or None."""
    scores = {name: np.array([float(d.scores.get(name) or 0.0) for d in group]) for name in LABELS}
    right = np.array([d.right for d in group])
    grids = {name: np.array(MUNICIPALITY_GRID if name == "municipality" else GRID) for name in LABELS}
    passes = [scores[name][None, :] >= grids[name][:, None] for name in LABELS]  # (grid, n) each
    rest = (passes[1][:, None, None, :] & passes[2][None, :, None, :]
            & passes[3][None, None, :, :])  # topic × municipality × urgency × n
    support = np.stack([(rest & kind).sum(axis=-1) for kind in passes[0]])  # one kind at a time
    hits = np.stack([(rest & (kind & right)).sum(axis=-1) for kind in passes[0]])
    feasible = (support >= min_support) & (hits >= target * support)
    if not feasible.any():
        return None
    strictness = sum(np.indices(support.shape))
    key = np.where(feasible, support * 10_000 + strictness, -1)
    at = np.unravel_index(int(key.argmax()), key.shape)
    least = tuple(float(grids[name][k]) for name, k in zip(LABELS, at, strict=True))
    return least, round(float(hits[at] / support[at]), 4), int(support[at])


def choose(decided: list[Decided], target: float, min_support: int,
           by_municipality: bool = False) -> list[Thresholds]:
    """Thresholds per topic (and per topic and municipality with enough evidence); a
    group without a combination reaching `target` gets a row with no thresholds."""
    groups: dict[tuple, list[Decided]] = {}
    for d in decided:
        groups.setdefault((d.topic, None), []).append(d)
        if by_municipality and d.municipality:
            groups.setdefault((d.topic, d.municipality), []).append(d)
    chosen = []
    for (topic, municipality), group in sorted(groups.items(), key=lambda g: (g[0][0], g[0][1] or "")):
        if municipality is not None and len(group) < min_support:
            continue
        best = _best(group, target, min_support)
        if best is None:
            chosen.append(Thresholds(topic, municipality, None, None, None, None, None, 0, len(group)))
        else:
            least, precision, support = best
            chosen.append(Thresholds(topic, municipality, *least, precision, support, len(group)))
    return chosen


def choose_and_store(ctx: Context, actor: str, target: float | None = None,
                     min_support: int | None = None, by_municipality: bool = False) -> list[Thresholds]:
    """Choose from the database's history and put the thresholds in force."""
    conf = ctx.settings.autopilot
    target = conf.target_precision if target is None else target
    chosen = choose(history(ctx.db), target, conf.min_reviews if min_support is None else min_support,
                    by_municipality)
    store(ctx, chosen, target, actor)
    return chosen


def incident_posts(db) -> dict[tuple[str, str], tuple[int, int]]:
    """(post, incident) of the posts that opened incidents, by (source key, external id):
    what moderators review (the demo stages their history from the stream's labels)."""
    return {(r[0], r[1]): (r[2], r[3]) for r in db.execute(
        "SELECT s.key, p.external_id, p.id, i.id FROM incidents i JOIN posts p ON p.id = i.post_id"
        " JOIN sources s ON s.id = p.source_id")}
