"""`/metrics` for Prometheus: what an on-call engineer watches, read from the database at
scrape time, so one scrape of the web app sees what every process (collectors, worker,
backups) did. Nothing is counted in memory that a restart would lose.

These are read-only counts over other packages' tables, kept here beside their
metric names rather than spread as one-off helpers over the packages.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import datetime

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from monitor.catalog.sources import health as source_health
from monitor.clock import iso
from monitor.context import Context
from monitor.incidents.outbox import RESIDENT, STAFF
from monitor.incidents.outbox import counts as outbox_counts
from monitor.incidents.queries import count_by_status
from monitor.incidents.states import STATUSES
from monitor.ingest.timings import histograms
from monitor.store import pending_migrations
from monitor.store.backup import backup_age, last_backup

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# The `outbox` label of tsur_outbox: the audience of a row of the one outbox.
OUTBOXES = {RESIDENT: "replies", STAFF: "notifications"}


def render(ctx: Context) -> bytes:
    """The exposition text of one scrape."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(TsurCollector(ctx))
    return generate_latest(registry)


class TsurCollector(Collector):
    def __init__(self, ctx: Context):
        self.ctx = ctx

    def collect(self) -> Iterator[Metric]:
        now = self.ctx.clock.now()
        yield from sources(self.ctx, now)
        yield from incidents(self.ctx, now)
        yield from outboxes(self.ctx)
        yield from backups(self.ctx, now)
        yield from ingest_stages(self.ctx)
        pending = GaugeMetricFamily("tsur_migrations_pending",
                                    "Schema migrations not yet applied (run tsur db upgrade).")
        pending.add_metric([], len(pending_migrations(self.ctx.db)))
        yield pending


def sources(ctx: Context, now: datetime) -> Iterator[Metric]:
    db = ctx.db
    collected = CounterMetricFamily("tsur_messages_collected", "Messages stored per source.",
                                    labels=["source", "platform"])
    for key, platform, n in db.execute(
            "SELECT s.key, s.platform, count(p.id) FROM sources s"
            " LEFT JOIN posts p ON p.source_id = s.id GROUP BY s.id ORDER BY s.key"):
        collected.add_metric([key, platform], n)
    yield collected

    failures = CounterMetricFamily(
        "tsur_collector_failures", "Collector alerts (token dead, page changed shape…) per "
        "source and kind.", labels=["source", "kind"])
    for key, kind, n in db.execute(
            "SELECT s.key, a.kind, count(*) FROM collector_alerts a"
            " JOIN sources s ON s.id = a.source_id GROUP BY s.key, a.kind ORDER BY s.key"):
        failures.add_metric([key, kind], n)
    yield failures

    up = GaugeMetricFamily("tsur_source_up", "1 when the source is read without error, 0 when "
                           "it fails (paused sources are left out).", labels=["source", "status"])
    errors = GaugeMetricFamily("tsur_source_errors", "Errors in a row since the last success.",
                               labels=["source"])
    success = GaugeMetricFamily("tsur_source_last_success_timestamp_seconds",
                                "Unix time of the source's last successful read.",
                                labels=["source"])
    lag = GaugeMetricFamily("tsur_source_lag_seconds", "Publication to collection of the "
                            "source's newest message.", labels=["source"])
    error_counts = dict(db.execute("SELECT key, error_count FROM sources"))
    for row in source_health(db, now, ctx.settings.timezone):
        if row.status in ("paused", "removed"):
            continue
        up.add_metric([row.key, row.status], 1 if row.status == "ok" else 0)
        errors.add_metric([row.key], error_counts.get(row.key) or 0)
        if row.last_success_at:
            success.add_metric([row.key], row.last_success_at.timestamp())
        if row.lag is not None:
            lag.add_metric([row.key], row.lag.total_seconds())
    yield from (up, errors, success, lag)


def incidents(ctx: Context, now: datetime) -> Iterator[Metric]:
    by_status = GaugeMetricFamily("tsur_incidents", "Incidents per status.", labels=["status"])
    counts = count_by_status(ctx.db, None)
    for status in STATUSES:
        by_status.add_metric([status], counts.get(status, 0))
    yield by_status
    overdue = GaugeMetricFamily("tsur_incidents_overdue",
                                "Incidents past a deadline not yet met (the queue's «просрочено»).")
    # The expression of the queue's deadline index, so the count walks that index.
    overdue.add_metric([], ctx.db.execute(
        "SELECT count(*) FROM incidents WHERE COALESCE(next_due_at, '9999') < ?",
        [iso(now)]).fetchone()[0])
    yield overdue


def outboxes(ctx: Context) -> Iterator[Metric]:
    family = GaugeMetricFamily("tsur_outbox", "Replies to residents and notifications to "
                               "moderators per status (pending: waiting to be sent).",
                               labels=["outbox", "status"])
    for audience, status, n in outbox_counts(ctx.db):
        family.add_metric([OUTBOXES[audience], status], n)
    yield family


def backups(ctx: Context, now: datetime) -> Iterator[Metric]:
    age = backup_age(ctx.settings.backup_dir, now)
    family = GaugeMetricFamily("tsur_backup_age_seconds", "Time since the last successful "
                               "backup (+Inf: none yet).")
    family.add_metric([], age.total_seconds() if age is not None else math.inf)
    yield family
    size = GaugeMetricFamily("tsur_backup_size_bytes", "Size of the last successful backup.")
    size.add_metric([], last_backup(ctx.settings.backup_dir).get("last_size") or 0)
    yield size


def ingest_stages(ctx: Context) -> Iterator[Metric]:
    """Seconds per batch and stage as the collectors measured them; `label` is the NLP
    pipeline. Per message: rate of the sum over rate of tsur_ingest_messages_total."""
    seconds = HistogramMetricFamily(
        "tsur_ingest_stage_seconds", "Seconds an ingest batch spent per stage (label: the "
        "NLP pipeline; total: the whole batch).", labels=["stage"])
    messages = CounterMetricFamily("tsur_ingest_messages", "Messages stored by the batches "
                                   "timed, per stage.", labels=["stage"])
    for histogram in histograms(ctx.db):
        seconds.add_metric([histogram.stage], [("+Inf" if math.isinf(bound) else str(bound), n)
                                               for bound, n in histogram.buckets],
                           sum_value=histogram.seconds)
        messages.add_metric([histogram.stage], histogram.messages)
    yield from (seconds, messages)
