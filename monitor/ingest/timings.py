"""Stage times of ingest batches, kept as cumulative histogram buckets in the database so
that `/metrics`, served by another process, can show how long labelling takes."""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlite_utils import Database

from .batch import IngestReport

# Upper bounds in seconds of one batch's stage (a batch is up to a few hundred posts).
BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, math.inf)


@dataclass(frozen=True)
class StageHistogram:
    stage: str
    buckets: list[tuple[float, int]]  # (upper bound, batches at or under it), cumulative
    seconds: float  # sum over every batch
    messages: int  # posts stored by those batches


def record(db: Database, report: IngestReport) -> None:
    """Add one batch's stage times (`report.seconds`) to the buckets."""
    with db.atomic():
        for stage, seconds in report.seconds.items():
            le = next(bound for bound in BUCKETS if seconds <= bound)
            db.execute(
                "INSERT INTO ingest_timings (stage, le, batches, seconds, messages)"
                " VALUES (?, ?, 1, ?, ?) ON CONFLICT (stage, le) DO UPDATE SET"
                " batches = batches + 1, seconds = seconds + excluded.seconds,"
                " messages = messages + excluded.messages",
                [stage, le, seconds, report.stored])


def histograms(db: Database) -> list[StageHistogram]:
    rows: dict[str, dict[float, tuple[int, float, int]]] = {}
    for stage, le, batches, seconds, messages in db.execute(
            "SELECT stage, le, batches, seconds, messages FROM ingest_timings ORDER BY stage"):
        rows.setdefault(stage, {})[le] = (batches, seconds, messages)
    result = []
    for stage, by_bound in rows.items():
        running, buckets = 0, []
        for bound in BUCKETS:
            running += by_bound.get(bound, (0, 0.0, 0))[0]
            buckets.append((bound, running))
        result.append(StageHistogram(stage, buckets, sum(v[1] for v in by_bound.values()),
                                     sum(v[2] for v in by_bound.values())))
    return result
