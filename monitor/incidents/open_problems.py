"""The problems of open incidents per (municipality, topic), held in memory for repeats.

A new complaint is compared with every open incident of its municipality and topic.
Reading those incidents' texts again for every post made ingest slower the longer a
region ran; here each incident's `Problem` (nlp.likeness, stored per post at ingest)
is loaded once and kept in flat arrays, so a comparison is a sparse dot product over
the group.

The store stays the truth: at a batch's first look-up every group held catches up with
the incidents opened since (one query by id; outside a batch a group catches up alone,
by the index on incidents(municipality, topic, id)), so incidents opened by another
process or by hand are seen, and a candidate that passes
the threshold is checked against the store (still open, still recent) before it is
chosen. A group is loaded from the store the first time it is asked about.
"""

from __future__ import annotations

from bisect import bisect_left
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import scipy.sparse as sp

from monitor.clock import iso, parse_time
from nlp.likeness import SPACE, Problem, Reader
from nlp.vectors import DIMENSION

from .states import OPEN_STATUSES

_OPEN = ", ".join("?" * len(OPEN_STATUSES))
_PROBLEMS = ("SELECT i.id, i.opened_at, pp.problem, p.text FROM incidents i"
             " JOIN posts p ON p.id = i.post_id LEFT JOIN post_problems pp ON pp.post_id = i.post_id")


class Rows:
    """Sparse unit rows appended one at a time; `dot` scores a query against all.

    The arrays grow by doubling and the matrix over them is rebuilt after a row comes,
    as views with 32-bit indices: nothing is converted or copied per look-up."""

    def __init__(self):
        self.columns = np.zeros(1024, dtype=np.int32)
        self.weights = np.zeros(1024, dtype=np.float32)
        self.ends = np.zeros(64, dtype=np.int32)  # ends[k + 1]: where row k ends
        self.count = 0
        self._matrix: sp.csr_matrix | None = None  # a view of the arrays, until a row comes

    def add(self, row: tuple[np.ndarray, np.ndarray]) -> None:
        columns, weights = row
        start = self.ends[self.count]
        end = start + len(columns)
        while end > len(self.columns):
            self.columns = np.concatenate([self.columns, np.zeros_like(self.columns)])
            self.weights = np.concatenate([self.weights, np.zeros_like(self.weights)])
        if self.count + 2 > len(self.ends):
            self.ends = np.concatenate([self.ends, np.zeros_like(self.ends)])
        self.columns[start:end] = columns
        self.weights[start:end] = weights
        self.count += 1
        self.ends[self.count] = end
        self._matrix = None

    def dot(self, row: tuple[np.ndarray, np.ndarray], dense: np.ndarray) -> np.ndarray:
        """Dot product of `row` with each stored row; `dense` is a zeroed scratch of SPACE."""
        if self._matrix is None:
            nnz = self.ends[self.count]
            self._matrix = sp.csr_matrix(
                (self.weights[:nnz], self.columns[:nnz], self.ends[:self.count + 1]),
                shape=(self.count, SPACE), copy=False)
        columns, weights = row
        dense[columns] = weights
        scores = self._matrix @ dense
        dense[columns] = 0.0
        return scores


@dataclass
class Group:
    """The open incidents of one municipality and topic, in the order they were opened."""

    last_id: int = 0
    ids: list[int] = field(default_factory=list)
    opened: list[float] = field(default_factory=list)  # POSIX seconds
    # what the place relation and the soft match need of each problem (its sparse rows
    # and vector live in the flat arrays only)
    places: list[frozenset] = field(default_factory=list)
    words: list[tuple[str, ...]] = field(default_factory=list)
    lemmas: Rows = field(default_factory=Rows)
    grams: Rows = field(default_factory=Rows)
    vectors: np.ndarray = field(default_factory=lambda: np.zeros((64, DIMENSION), dtype=np.float32))
    placed: list[int] = field(default_factory=list)  # positions of problems with a place
    by_street: dict[str, list[int]] = field(default_factory=dict)  # street → positions
    dead: set[int] = field(default_factory=set)  # positions no longer open
    _opened: np.ndarray | None = None  # `opened` as an array, until a row comes

    def worn(self, since: datetime) -> bool:
        """More than half the rows closed or older than the window: time to reload."""
        stale = bisect_left(self.opened, since.timestamp())
        return (len(self.dead) + stale) * 2 > len(self.ids) > 64

    def add(self, incident_id: int, opened_at: datetime, problem: Problem) -> None:
        position = len(self.ids)
        self.ids.append(incident_id)
        self.opened.append(opened_at.timestamp())
        self.places.append(problem.places)
        self.words.append(problem.words)
        self.lemmas.add(problem.lemmas)
        self.grams.add(problem.grams)
        if position == len(self.vectors):
            self.vectors = np.concatenate([self.vectors, np.zeros_like(self.vectors)])
        self.vectors[position] = problem.vector
        if problem.places:
            self.placed.append(position)
        for street in {p.street for p in problem.places}:
            self.by_street.setdefault(street, []).append(position)
        self.last_id = max(self.last_id, incident_id)
        self._opened = None

    def opened_since(self, since: datetime) -> np.ndarray:
        """Which positions were opened at or after `since` (a fresh array)."""
        if self._opened is None:
            self._opened = np.asarray(self.opened)
        return self._opened >= since.timestamp()


    def vector_cosines(self, vector: np.ndarray) -> np.ndarray:
        return self.vectors[: len(self.ids)] @ vector


class OpenProblems:
    """Every group asked about, kept for the life of a connection (`Context.open_problems`)."""

    def __init__(self):
        self.groups: dict[tuple[str, str], Group] = {}
        self.dense = np.zeros(SPACE, dtype=np.float32)
        # Every group held has seen every incident of its key up to this id (None: not
        # known yet); a batch catches all groups up from it in one query (`batch`).
        self._seen_to: int | None = None
        self._events_seen_to = 0  # relabels are looked for after this incident_events id
        self._in_batch = False
        self._synced = False

    @contextmanager
    def batch(self):
        """Around a batch's write transaction. The groups catch up with the store once,
        together, at the batch's first look-up: while this connection holds the write
        lock no other can open an incident, and what this one opens it adds itself
        (`opened`). If the transaction rolls back, every group is forgotten (they may
        hold incidents that were never committed, whose ids SQLite will hand out again)."""
        self._in_batch, self._synced = True, False
        try:
            yield
        except BaseException:
            self.groups.clear()
            self._seen_to = None
            raise
        finally:
            self._in_batch = False

    def opened(self, municipality: str, topic: str, incident_id: int, opened_at: datetime,
               problem: Problem) -> None:
        """An incident this connection opened right after its group caught up with the
        store (`find_repeat`, in the same write transaction): added as it is, not read
        back (its problem may not be stored yet)."""
        group = self.groups.get((municipality, topic))
        if group is not None and incident_id > group.last_id:
            group.add(incident_id, opened_at, problem)

    def group(self, db, reader: Reader, municipality: str, topic: str, since: datetime) -> Group:
        """The group brought up to date with the store."""
        key = (municipality, topic)
        if self._in_batch and not self._synced:
            self._catch_up_all(db, reader)
            self._synced = True
        group = self.groups.get(key)
        if group is None or group.worn(since):
            if self._seen_to is None:
                self._seen_to, self._events_seen_to = db.execute(
                    "SELECT (SELECT COALESCE(MAX(id), 0) FROM incidents),"
                    " (SELECT COALESCE(MAX(id), 0) FROM incident_events)").fetchone()
            group = self.groups[key] = Group()
            self._add(group, reader, db.execute(
                f"{_PROBLEMS} WHERE i.municipality = ? AND i.topic = ? AND i.status IN ({_OPEN})"
                " AND i.opened_at >= ? ORDER BY i.id",
                [municipality, topic, *OPEN_STATUSES, iso(since)]).fetchall())
        elif not self._in_batch:
            self._add(group, reader, db.execute(
                f"{_PROBLEMS} WHERE i.municipality = ? AND i.topic = ? AND i.id > ? ORDER BY i.id",
                [municipality, topic, group.last_id]).fetchall())
        return group

    def _catch_up_all(self, db, reader: Reader) -> None:
        """Every group held, with the incidents opened since `_seen_to` (by anyone)."""
        if self._seen_to is None or not self.groups:
            return
        self._forget_relabelled(db)
        new = db.execute("SELECT id, municipality, topic FROM incidents WHERE id > ? ORDER BY id",
                         [self._seen_to]).fetchall()
        keys = {i: (m, t) for i, m, t in new}
        wanted = [i for i, key in keys.items() if (g := self.groups.get(key)) is not None and i > g.last_id]
        for start in range(0, len(wanted), 500):
            part = wanted[start:start + 500]
            rows = db.execute(f"{_PROBLEMS} WHERE i.id IN ({', '.join('?' * len(part))}) ORDER BY i.id",
                              part).fetchall()
            for row in rows:
                self._add(self.groups[keys[row[0]]], reader, [row])
        if new:
            self._seen_to = new[-1][0]

    def _forget_relabelled(self, db) -> None:
        """A moderator who corrects an incident's topic or municipality moves it to another
        group: the groups it left, and the one it joined if held without it, are dropped
        and read again from the store at their next look-up (relabels are rare)."""
        events_to = db.execute("SELECT COALESCE(MAX(id), 0) FROM incident_events").fetchone()[0]
        moved = db.execute(
            "SELECT i.id, i.municipality, i.topic FROM incident_events e JOIN incidents i ON i.id = e.incident_id"
            " WHERE e.id > ? AND e.id <= ? AND e.event = 'relabel'", [self._events_seen_to, events_to]).fetchall()
        for incident_id, municipality, topic in moved:
            now_in = (municipality, topic)
            for key, group in list(self.groups.items()):
                if (incident_id in group.ids) != (key == now_in):
                    del self.groups[key]
        self._events_seen_to = events_to

    @staticmethod
    def _add(group: Group, reader: Reader, rows) -> None:
        for incident_id, opened_at, blob, text in rows:
            problem = Problem.from_bytes(blob) if blob else reader.read(text or "")
            group.add(incident_id, parse_time(opened_at), problem)
