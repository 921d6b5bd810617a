"""Spike alerts: a sudden burst of similar messages becomes one mass incident.

A water main bursts and thirty residents write «нет воды» within the hour. Thirty
incidents would bury the queue and hide what happened; one mass incident that
groups the thirty messages says it, and the moderators hear of it at once.

After every ingest batch, for each (municipality, topic) the batch touched:

- candidates: actionable messages of that municipality and topic (their latest
  labels), published near the batch's messages, not deleted, not rejected by a
  moderator, not yet in a burst;
- every window of `window_minutes` that starts at a candidate and holds at least
  `min_messages` (per topic) is searched for a burst: the message least like the
  others is dropped, one at a time, until every message left is on average at
  least `similarity` like the others (the better of the lemma TF-IDF cosine and
  the soft match of natasha's word vectors, address words taken out, as repeats
  do: «сухо» and «нет воды» are alike, «вода на потолке» and «нет воды» less so);
- the largest burst, if it keeps `min_messages`, is a spike. The earliest open
  incident among its messages becomes the mass incident (raised to `high`: an
  outage for many people); the other messages' incidents are linked to it as
  repeats (a moderator can unlink one), so every message is kept and the queue
  shows one line. The alert goes to `[workflow] moderators_chat_id` once, through
  the outbox (a staff notification); the queue shows a banner while the incident is open.

While a spike of the same municipality and topic is open and was heard from
within `follow_hours`, new messages on average as like its members join it
(no second alert, no second spike).
"""

from __future__ import annotations

import logging
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import numpy as np

from monitor.clock import iso, parse_time
from monitor.incidents.access import visible_to
from monitor.incidents.deadlines import recompute
from monitor.incidents.lifecycle import TRANSITIONS, act
from monitor.incidents.outbox import queue_notification
from monitor.incidents.repeats import Similarity
from monitor.incidents.states import OPEN_STATUSES, Event, TransitionError, record_event
from monitor.titles import TOPIC_TITLES  # plain names; imports nothing of the web
from nlp import ACTIONABLE_KINDS
from nlp.likeness import Problem, Words, cosine_matrix, soft_matrix

if TYPE_CHECKING:  # the Context type only: context.py imports this layer
    from monitor.context import Context

log = logging.getLogger(__name__)
ACTOR = "system:spikes"
RAISED = {"low": "high", "normal": "high"}  # a mass outage harms many people: `high`
LINKABLE = TRANSITIONS["link_repeat"][0]
# A window of more messages than this compares each with this many of them.
REFERENCES = 100

# The latest labels of each message that is a resident's incident or a repeat of one
# (an organisation's own notice is neither), and its own incident if it has one.
_CANDIDATES = f"""
SELECT p.id, p.created_at, p.text, i.id AS incident_id, i.status, pp.problem, l.municipality, l.topic
FROM posts p
JOIN labels l ON l.id = (SELECT MAX(id) FROM labels WHERE post_id = p.id)
LEFT JOIN incidents i ON i.post_id = p.id
LEFT JOIN post_problems pp ON pp.post_id = p.id
WHERE p.created_at >= ? AND p.created_at <= ? AND l.municipality IS NOT NULL
  AND l.kind IN ({', '.join(repr(k) for k in sorted(ACTIONABLE_KINDS))})
  AND p.deleted_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM spike_members m WHERE m.post_id = p.id)
  AND ((i.id IS NOT NULL AND i.status != 'rejected') OR EXISTS (
       SELECT 1 FROM incident_repeats r WHERE r.post_id = p.id AND r.unlinked_at IS NULL))
ORDER BY p.created_at, p.id
"""


@dataclass(frozen=True)
class Candidate:
    post_id: int
    created_at: datetime
    text: str
    incident_id: int | None
    status: str | None
    problem: bytes | None = None  # nlp.likeness.Problem as stored at ingest


@dataclass
class Outcome:
    created: list[int] = field(default_factory=list)  # spike ids
    grown: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Burst:
    members: list[Candidate]
    scores: list[float]


def detect(ctx: Context, post_ids: Iterable[int]) -> Outcome:
    """Look for bursts among messages just stored: the spikes created, and those the
    messages joined. The caller holds the transaction."""
    conf = ctx.settings.spikes
    post_ids = list(post_ids)
    outcome = Outcome()
    if not conf.enabled or not post_ids:
        return outcome
    db = ctx.db
    marks = ", ".join("?" * len(post_ids))
    groups = db.execute(
        f"SELECT l.municipality, l.topic, MIN(p.created_at), MAX(p.created_at) FROM posts p"
        f" JOIN labels l ON l.id = (SELECT MAX(id) FROM labels WHERE post_id = p.id)"
        f" WHERE p.id IN ({marks}) AND l.municipality IS NOT NULL"
        f" AND l.kind IN ({', '.join('?' * len(ACTIONABLE_KINDS))})"
        f" GROUP BY 1, 2 ORDER BY 1, 2", [*post_ids, *sorted(ACTIONABLE_KINDS)]).fetchall()
    if not groups:
        return outcome
    similarity = Similarity.of(ctx.pipeline)
    spans = [(m, t, parse_time(lo), parse_time(hi)) for m, t, lo, hi in groups]
    window = timedelta(minutes=conf.window_minutes)
    follow = timedelta(hours=conf.follow_hours)
    # what every group needs, read for the whole batch: two queries, not two per group
    candidates = _candidates(db, min(s[2] for s in spans) - window, max(s[3] for s in spans) + window)
    spikes = _recent_spikes(db, min(s[2] for s in spans) - follow)
    fresh = set(post_ids)
    for municipality, topic, lo, hi in spans:
        key = (municipality, topic)
        recent = next((s for s in spikes.get(key, ()) if parse_time(s["last_at"]) >= lo - follow), None)
        _detect_group(ctx, similarity, municipality, topic, lo, hi, fresh, outcome,
                      candidates.get(key, []), recent)
    return outcome


def _detect_group(ctx: Context, similarity: Similarity, municipality: str, topic: str, lo: datetime,
                  hi: datetime, fresh: set[int], outcome: Outcome, candidates: list[Candidate],
                  recent: dict | None) -> None:
    """`candidates`: the group's messages around the batch; `recent`: its spike still
    heard from, if any."""
    conf = ctx.settings.spikes
    window = timedelta(minutes=conf.window_minutes)
    if recent:  # the burst goes on: the new messages close to it join it, no new alert
        newcomers = [c for c in candidates if c.post_id in fresh and lo <= c.created_at <= hi]
        joining = _close_to(similarity, _members(ctx.db, recent), newcomers, conf.similarity)
        if joining.members:
            _add_members(ctx, recent, joining)
            outcome.grown.append(recent["id"])
        return
    around = [c for c in candidates if lo - window <= c.created_at <= hi + window]
    burst = find_burst(similarity, around, window, conf.threshold(topic), conf.similarity)
    if burst is not None and (spike_id := _create(ctx, municipality, topic, burst)):
        outcome.created.append(spike_id)


def find_burst(similarity: Similarity, candidates: list[Candidate], window: timedelta,
               need: int, threshold: float) -> Burst | None:
    """The largest group of similar messages inside one window, if it has `need`.

    A window of up to `REFERENCES` messages compares every two of them; in a wider one
    each message is compared with references evenly spaced among them (every `step`-th
    message), and windows start at every `step`-th message: the similarities computed
    grow with the messages, not with their square."""
    if len(candidates) < need:
        return None
    times = [c.created_at for c in candidates]
    ends = [bisect_right(times, t + window) for t in times]
    step = -(-max(end - start for start, end in enumerate(ends)) // REFERENCES)
    refs = np.arange(0, len(candidates), step)
    matrix = pairwise(problems(similarity, candidates), refs)
    best, last_end = None, -1
    for start in range(0, len(candidates), step):
        end = ends[start]
        if end - start < need or end == last_end:
            continue  # too few, or a window inside the previous one
        last_end = end
        cols = np.arange(np.searchsorted(refs, start), np.searchsorted(refs, end))
        kept, scores = peel(matrix[start:end, cols], threshold, refs[cols] - start)
        if len(kept) >= need and (best is None or len(kept) > len(best.members)):
            best = Burst([candidates[start + k] for k in kept], scores)
    return best


def problems(similarity: Similarity, candidates: list[Candidate]) -> list[tuple[Problem, Words]]:
    """Each message's problem as read at ingest (read now if it was not), and its
    words' vectors."""
    read = [Problem.from_bytes(c.problem) if c.problem else similarity.read(c.text)
            for c in candidates]
    return [(p, similarity.reader.words(p.words)) for p in read]


def pairwise(problems: list[tuple[Problem, Words]], refs: np.ndarray | None = None) -> np.ndarray:
    """Similarity of every message's problem with every reference's (0..1; `refs`:
    positions, all by default; a message with itself is 0): the better of the cosine of
    their lemmas and the soft match of their word vectors («вода» is near
    «водоснабжение», «сухо» near «нет воды»), the address words taken out as for
    repeats. Two matrix products."""
    refs = np.arange(len(problems)) if refs is None else refs
    matrix = np.maximum(cosine_matrix([p.lemmas for p, _ in problems], refs),
                        soft_matrix([words for _, words in problems], refs))
    matrix[refs, np.arange(len(refs))] = 0.0
    return matrix


def peel(matrix: np.ndarray, threshold: float, refs: np.ndarray | None = None
         ) -> tuple[list[int], list[float]]:
    """Drop the message least like the others, one at a time, until every message
    kept is on average at least `threshold` like the other ones kept (those of them
    that are references: column c of `matrix` is message `refs[c]`, all by default)."""
    size = matrix.shape[0]
    column = np.full(size, -1)
    column[np.arange(size) if refs is None else refs] = np.arange(matrix.shape[1])
    kept = np.ones(size, dtype=bool)
    sums = matrix.sum(axis=1)  # each message's likeness to the references kept
    references = matrix.shape[1]
    while kept.sum() > 1:
        others = np.maximum(references - (column >= 0), 1)  # references kept but itself
        means = np.where(kept, sums / others, np.inf)
        worst = int(np.argmin(means))
        if means[worst] >= threshold:
            return np.flatnonzero(kept).tolist(), [round(float(m), 3) for m in means[kept]]
        kept[worst] = False
        if column[worst] >= 0:  # one reference less, not a new sum over the rest
            sums -= matrix[:, column[worst]]
            references -= 1
    return [], []


def _close_to(similarity: Similarity, members: list[Candidate], newcomers: list[Candidate],
              threshold: float) -> Burst:
    """Newcomers on average as like a spike's messages as its members must be (up to
    `REFERENCES` members, evenly spaced, stand for a large spike)."""
    if not newcomers or not members:
        return Burst([], [])
    members = members[::-(-len(members) // REFERENCES)]
    matrix = pairwise(problems(similarity, members + newcomers), np.arange(len(members)))
    means = matrix[len(members):].mean(axis=1)
    chosen = [(c, round(float(m), 3)) for c, m in zip(newcomers, means, strict=True)
              if m >= threshold]
    return Burst([c for c, _ in chosen], [m for _, m in chosen])


def _candidates(db, lo: datetime, hi: datetime) -> dict[tuple[str, str], list[Candidate]]:
    """The candidates of [lo, hi] by (municipality, topic), in time order."""
    found: dict[tuple[str, str], list[Candidate]] = {}
    for r in db.execute(_CANDIDATES, [iso(lo), iso(hi)]):
        found.setdefault((r[6], r[7]), []).append(Candidate(r[0], parse_time(r[1]), r[2] or "", r[3], r[4], r[5]))
    return found


def _recent_spikes(db, since: datetime) -> dict[tuple[str, str], list[dict]]:
    """The spikes still open and heard from since `since`, newest first, by (municipality,
    topic)."""
    cursor = db.execute(
        # spikes drive the join (CROSS JOIN keeps the order): from the open incidents'
        # side SQLite would walk every open incident to find a few spikes
        f"SELECT s.* FROM spikes s CROSS JOIN incidents i ON i.id = s.incident_id"
        f" WHERE s.last_at >= ? AND i.status IN ({', '.join('?' * len(OPEN_STATUSES))}) ORDER BY s.id DESC",
        [iso(since), *OPEN_STATUSES])
    names = [d[0] for d in cursor.description]
    found: dict[tuple[str, str], list[dict]] = {}
    for row in cursor:
        spike = dict(zip(names, row, strict=True))
        found.setdefault((spike["municipality"], spike["topic"]), []).append(spike)
    return found


def _members(db, spike: dict) -> list[Candidate]:
    return [Candidate(r[0], parse_time(r[1]), r[2] or "", None, None, r[3]) for r in db.execute(
        "SELECT p.id, p.created_at, p.text, pp.problem FROM spike_members m"
        " JOIN posts p ON p.id = m.post_id LEFT JOIN post_problems pp ON pp.post_id = p.id"
        " WHERE m.spike_id = ? ORDER BY m.id", [spike["id"]])]


def _home_incident(db, member: Candidate) -> tuple[int, str] | None:
    """The open incident a message is handled in: its own, or the one it repeats."""
    if member.incident_id and member.status in OPEN_STATUSES:
        return member.incident_id, member.status
    row = db.execute(
        "SELECT i.id, i.status FROM incident_repeats r JOIN incidents i ON i.id = r.incident_id"
        " WHERE r.post_id = ? AND r.unlinked_at IS NULL ORDER BY r.id DESC LIMIT 1",
        [member.post_id]).fetchone()
    return (row[0], row[1]) if row and row[1] in OPEN_STATUSES else None


def _create(ctx: Context, municipality: str, topic: str, burst: Burst) -> int | None:
    db, now, conf = ctx.db, ctx.clock.now(), ctx.settings.spikes
    homes = [h for h in (_home_incident(db, m) for m in burst.members) if h]
    if not homes:
        log.warning("burst of %d messages in %s/%s has no open incident to group them",
                    len(burst.members), municipality, topic)
        return None
    mass_id = min(h[0] for h in homes)
    members = burst.members
    spike_id = db["spikes"].insert({
        "municipality": municipality, "topic": topic, "incident_id": mass_id,
        "first_at": iso(min(m.created_at for m in members)),
        "last_at": iso(max(m.created_at for m in members)), "messages": 0,
        "threshold": conf.threshold(topic), "window_minutes": conf.window_minutes,
        "detected_at": iso(now)}).last_pk
    spike = db["spikes"].get(spike_id)
    _add_members(ctx, spike, burst)
    mass = db["incidents"].get(mass_id)
    raised = RAISED.get(mass["urgency"])
    if raised:
        db["incidents"].update(mass_id, {"urgency": raised, "updated_at": iso(now)})
    record_event(db, Event(mass_id, "spike_detected", ACTOR, now, mass["status"], mass["status"],
                           {"spike_id": spike_id, "messages": len(members),
                            "window_minutes": conf.window_minutes,
                            "threshold": conf.threshold(topic),
                            **({"urgency": [mass["urgency"], raised]} if raised else {})}))
    if raised:

        recompute(ctx, mass_id)
    _alert(ctx, db["spikes"].get(spike_id), mass)
    return spike_id


def _add_members(ctx: Context, spike: dict, burst: Burst) -> None:
    """Record the messages of a burst and link their incidents to the mass incident."""
    db, now = ctx.db, ctx.clock.now()
    added = []
    for member, score in zip(burst.members, burst.scores, strict=True):
        cursor = db.execute(
            "INSERT OR IGNORE INTO spike_members (spike_id, post_id, score, added_at)"
            " VALUES (?, ?, ?, ?)", [spike["id"], member.post_id, score, iso(now)])
        if cursor.rowcount == 1:
            added.append(member)
    for member in added:
        if (member.incident_id and member.incident_id != spike["incident_id"]
                and member.status in LINKABLE):
            try:
                act(ctx, member.incident_id, "link_repeat", ACTOR,
                    repeat_of=spike["incident_id"], spike_id=spike["id"])
            except TransitionError as error:  # moved on meanwhile: it stays on its own
                log.info("spike %s: incident %s not linked: %s", spike["id"],
                         member.incident_id, error)
    if added:
        db.execute(
            "UPDATE spikes SET messages = (SELECT COUNT(*) FROM spike_members WHERE spike_id = ?),"
            " first_at = MIN(first_at, ?), last_at = MAX(last_at, ?) WHERE id = ?",
            [spike["id"], iso(min(m.created_at for m in added)),
             iso(max(m.created_at for m in added)), spike["id"]])


def _alert(ctx: Context, spike: dict, mass: dict) -> None:
    """Tell the moderators' chat once (the once_key keeps it from being queued twice)."""
    chat = ctx.settings.workflow.moderators_chat_id
    if not chat:
        return
    queue_notification(ctx.db, chat, alert_text(ctx, spike, mass), ctx.clock.now(),
                 once_key=f"spike:{spike['id']}", incident_id=mass["id"])


def alert_text(ctx: Context, spike: dict, mass: dict) -> str:

    zone = ZoneInfo(ctx.settings.timezone)
    first = parse_time(spike["first_at"]).astimezone(zone)
    last = parse_time(spike["last_at"]).astimezone(zone)
    minutes = max(1, round((last - first).total_seconds() / 60))
    post = ctx.db.execute("SELECT text FROM posts WHERE id = ?", [mass["post_id"]]).fetchone()
    quote = " ".join((post[0] if post else "").split())[:200]
    return (f"⚠️ Всплеск обращений: {spike['messages']} сообщений за {minutes} мин "
            f"({first:%d.%m %H:%M}–{last:%H:%M}) — {TOPIC_TITLES.get(spike['topic'], spike['topic'])}, "
            f"{spike['municipality']}. Массовый инцидент №{mass['id']}: «{quote}»")


def banner(db, viewer: dict, now: datetime, follow_hours: float) -> list[dict]:
    """Spikes to show over the queue: the mass incident is open and the burst recent.
    An official sees only those of their organisation."""
    scope, params = visible_to(viewer)
    clauses = ["s.last_at >= ?", scope]
    params = [iso(now - timedelta(hours=follow_hours)), *params]
    cursor = db.execute(
        f"SELECT s.id, s.municipality, s.topic, s.messages, s.first_at, s.last_at,"
        f" s.incident_id FROM spikes s JOIN incidents i ON i.id = s.incident_id"
        f" WHERE {' AND '.join(clauses)}"
        f" AND i.status IN ({', '.join('?' * len(OPEN_STATUSES))}) ORDER BY s.id DESC LIMIT 5",
        [*params, *OPEN_STATUSES])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
