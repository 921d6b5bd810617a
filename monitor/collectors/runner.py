"""`tsur collect`: every source read side by side until stopped, or once for cron.

Each source has its own task: read the stored cursor, run one collector step, hand the
batch to `ingest` (posts, deletions and the new cursor in one transaction), record the
source's health, sleep. A failing source backs off and is marked; it never stops the
others. SIGTERM/SIGINT set a stop flag: a step still waiting on the network is
abandoned (its cursor was not stored, so it is read again next time), a batch being
stored is finished. All database work happens in one thread with its own connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from monitor.catalog.organisations import ensure_source, source_by_key, sync_from_settings
from monitor.catalog.sources import active_sources, record_failure, record_success
from monitor.clock import parse_time
from monitor.ingest import IngestReport, ingest
from monitor.ingest.lines import without_surrogates
from monitor.ingest.timings import record as record_timings

from . import registry
from .base import Batch, SourceError
from .inbox import events_after
from .records import Rejected, clean_deleted, reason, screened
from .vk.convert import changes_from_events

if TYPE_CHECKING:  # the Context type only: context.py imports this layer
    from monitor.context import Context

log = logging.getLogger("tsur.collect")

# How long a source is left alone after an error of each kind (retry: exponential).
PAUSE_AFTER = {"auth": timedelta(minutes=30), "access": timedelta(hours=1),
               "layout": timedelta(hours=1)}
INBOX_PAGE = 500
MAX_ONCE_STEPS = 50  # --once: steps per source while it says more is waiting


@dataclass
class RunReport:
    ingested: IngestReport = field(default_factory=IngestReport)
    steps: int = 0
    failures: dict = field(default_factory=dict)  # source key → last error
    skipped: dict = field(default_factory=dict)  # source key → why it was not read
    rejected: list = field(default_factory=list)  # (source key, records.Rejected) left out


class InboxCollector:
    """Events the web app stored (VK Callback API, Telegram webhook), in id order."""

    interval = 2.0

    def __init__(self, platform: str, read, convert):
        self.platform, self.read, self.convert = platform, read, convert

    async def step(self, cursor: dict | None) -> Batch:
        after = int((cursor or {}).get("inbox_id") or 0)
        rows = await self.read(self.platform, after, INBOX_PAGE)
        payloads, unread = [], []
        for row in rows:
            try:
                payloads.append(json.loads(row["payload"]))
            except (ValueError, RecursionError) as error:
                unread.append(Rejected(f"{self.platform} inbox row {row['id']}", reason(error)))
        posts, deleted, rejected = await self.convert(payloads)
        return Batch(posts=posts, cursor={"inbox_id": rows[-1]["id"] if rows else after},
                     deleted=deleted, more=len(rows) >= INBOX_PAGE, rejected=unread + rejected)


async def vk_events(payloads: list[dict]):
    return changes_from_events(payloads, "VK callback inbox")


class Runner:
    def __init__(self, ctx: Context, *, once: bool = False, backoff_base: float = 1.0,
                 backoff_cap: float = 300.0, idle_scale: float = 1.0, plans=None):
        self.ctx, self.once = ctx, once
        self.backoff_base, self.backoff_cap, self.idle_scale = backoff_base, backoff_cap, idle_scale
        self.plans = plans
        self.report = RunReport()
        self.stopping: asyncio.Event | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._db_ctx = None

    # --- lifecycle ----------------------------------------------------------------------

    def stop(self) -> None:
        if self.stopping is not None:
            self.stopping.set()

    def install_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._on_signal, sig)

    def _on_signal(self, sig) -> None:
        event("stopping", logging.INFO, signal=signal.Signals(sig).name)
        self.stop()

    async def run(self) -> RunReport:
        self.stopping = asyncio.Event()
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="tsur-db",
                                        initializer=self._open_db)
        plans = []
        try:
            rows = await self.db(self._load_sources)
            plans = self.plans if self.plans is not None else registry.build(
                rows, self.ctx.settings, self.ctx.clock, once=self.once)
            tasks = []
            for plan in plans:
                await self.db(self._ensure, plan.key, plan.name)
                collector = self._collector_for(plan)
                if collector is None:
                    await self._unavailable(plan)
                    continue
                tasks.append(asyncio.create_task(self.drive(plan.key, collector),
                                                 name=plan.key))
            event("started", logging.INFO, sources=len(tasks), once=self.once)
            await asyncio.gather(*tasks)
        finally:
            closed = set()
            for plan in plans:
                close = getattr(plan.collector, "close", None)
                if close and id(plan.collector) not in closed:
                    closed.add(id(plan.collector))
                    result = close()
                    if asyncio.iscoroutine(result):
                        await result
            await self.db(self._close_db)
            self._pool.shutdown(wait=True)
            event("stopped", logging.INFO, steps=self.report.steps,
                  stored=self.report.ingested.stored, failures=len(self.report.failures))
        return self.report

    def _collector_for(self, plan):
        if plan.key == registry.VK_CALLBACK_SOURCE:
            return InboxCollector("vk", self._read_inbox, vk_events)
        if plan.key == registry.TELEGRAM_WEBHOOK_SOURCE and plan.collector is not None:
            telegram = plan.collector

            async def convert(payloads):
                sink = await telegram.feed_raw(payloads)
                return sink.posts, [], sink.rejected
            return InboxCollector("telegram", self._read_inbox, convert)
        if getattr(plan.collector, "inbox", None):  # pushed to the web app (MAX, OK webhooks)
            return InboxCollector(plan.collector.inbox, self._read_inbox,
                                  plan.collector.from_inbox)
        return plan.collector

    async def _unavailable(self, plan) -> None:
        error = SourceError(plan.problem, "layout")
        self.report.skipped[plan.key] = plan.problem
        event("unavailable", logging.ERROR, source=plan.key, error=plan.problem)
        row = await self.db(source_by_key, self._db_ctx.db, plan.key)
        if row and row["last_error"] != plan.problem:
            await self.db(record_failure, self._db_ctx.db, plan.key, self.ctx.clock.now(), error,
                          None)

    # --- one source ---------------------------------------------------------------------

    async def drive(self, key: str, collector) -> None:
        steps = 0
        while not self.stopping.is_set():
            row = await self.db(source_by_key, self._db_ctx.db, key)
            now = self.ctx.clock.now()
            if row and (row["paused"] or row["removed_at"]):
                if self.once:
                    self.report.skipped[key] = "paused"
                    return
                await self.sleep(30)
                continue
            if row and row["retry_at"] and parse_time(row["retry_at"]) > now:
                wait = (parse_time(row["retry_at"]) - now).total_seconds()
                if self.once:
                    self.report.skipped[key] = f"waiting until {row['retry_at']}"
                    event("skipped", logging.INFO, source=key, until=row["retry_at"])
                    return
                await self.sleep(min(wait, 60))
                continue
            cursor = json.loads(row["cursor"]) if row and row["cursor"] else None
            batch = await self._step(key, collector, cursor)
            steps += 1
            self.report.steps += 1
            if batch is None:  # failed (recorded) or stopped
                if self.once or self.stopping.is_set():
                    return
                continue
            report, rejected = await self.db(self._store, key, batch)
            self.report.ingested.add(report)
            for item in rejected:  # each malformed record, by its place and the reason
                self.report.rejected.append((key, item))
                event("rejected", logging.WARNING, source=key, where=item.where, error=item.error)
            if report.received or report.deleted:
                event("batch", logging.INFO, source=key, received=report.received,
                      new=report.stored, duplicates=report.duplicates, edited=report.edited,
                      deleted=report.deleted, incidents=report.incidents, more=batch.more)
            if self.once and (not batch.more or steps >= MAX_ONCE_STEPS):
                return
            if not batch.more:
                await self.sleep(getattr(collector, "interval", 60.0) * self.idle_scale)

    async def _step(self, key, collector, cursor) -> Batch | None:
        step = asyncio.create_task(collector.step(cursor))
        stop = asyncio.create_task(self.stopping.wait())
        done, _ = await asyncio.wait({step, stop}, return_when=asyncio.FIRST_COMPLETED)
        if step not in done:  # stopping: nothing of this step was stored
            step.cancel()
            await asyncio.gather(step, return_exceptions=True)
            return None
        stop.cancel()
        try:
            return step.result()
        except SourceError as error:
            await self._failed(key, error)
        except Exception as error:  # a bug or an answer nobody foresaw: this source only
            log.exception("collector of %s crashed", key)
            await self._failed(key, SourceError(f"{type(error).__name__}: {error}", "retry"))
        return None

    async def _failed(self, key: str, error: SourceError) -> None:
        row = await self.db(source_by_key, self._db_ctx.db, key)
        count = (row["error_count"] if row else 0) + 1
        if error.retry_after is not None:
            delay = timedelta(seconds=error.retry_after)
        elif error.kind in PAUSE_AFTER:
            delay = PAUSE_AFTER[error.kind]
        else:
            delay = timedelta(seconds=min(self.backoff_base * 2 ** (count - 1), self.backoff_cap))
        now = self.ctx.clock.now()
        status = await self.db(record_failure, self._db_ctx.db, key, now, error, now + delay)
        self.report.failures[key] = str(error)
        event("error", logging.WARNING if error.kind == "retry" else logging.ERROR, source=key,
              kind=error.kind, code=error.code, status=status, retry_in=delay.total_seconds(),
              error=str(error))
        if not self.once and error.kind == "retry":
            # the stored retry_at follows the frozen/real clock; wait the real delay here
            await self.sleep(delay.total_seconds())
            await self.db(_clear_retry, self._db_ctx.db, key)

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), timeout=seconds)

    # --- the database thread ------------------------------------------------------------

    async def db(self, function, *args):
        return await asyncio.get_running_loop().run_in_executor(self._pool, function, *args)

    def _open_db(self) -> None:
        self._db_ctx = self.ctx.fork()

    def _close_db(self) -> None:
        self._db_ctx.db.close()

    def _ensure(self, key: str, name: str) -> None:
        with self._db_ctx.db.atomic():
            ensure_source(self._db_ctx.db, key, self.ctx.clock.now(), name)

    def _load_sources(self) -> list[dict]:
        db = self._db_ctx.db
        sync_from_settings(db, self.ctx.settings, self.ctx.clock.now())
        keys = {r["id"]: r["key"] for r in db["organisations"].rows}
        return [{**row, "organisation_key": keys.get(row["organisation_id"])}
                for row in active_sources(db)]

    def _read_inbox(self, platform: str, after: int, limit: int):
        async def read():
            return await self.db(events_after, self._db_ctx.db, platform, after, limit)
        return read()

    def _store(self, key: str, batch: Batch) -> tuple[IngestReport, list]:
        ctx, now = self._db_ctx, self.ctx.clock.now()
        db = ctx.db
        names = without_surrogates(getattr(batch, "names", {}) or {})
        sound_posts, rejected = screened(batch.posts)
        posts = []
        with db.atomic():
            for post in sound_posts:
                source = ensure_source(db, post.source, now, names.get(post.source))
                if post.source != key and (source["paused"] or source["removed_at"]):
                    continue  # a paused chat of the bot stream: read past it, store nothing
                posts.append(post)
        deleted = [d if isinstance(d, tuple) else (key, d) for d in clean_deleted(batch.deleted)]
        ctx.refresh_pipeline()  # a version promoted meanwhile labels this batch
        report = ingest(ctx, posts, cursor=(key, without_surrogates(batch.cursor)),
                        deleted=deleted)
        record_timings(db, report)  # for /metrics: how long labelling takes
        record_success(db, key)
        return report, batch.rejected + rejected


def _clear_retry(db, key: str) -> None:
    row = source_by_key(db, key)
    if row and row["retry_at"]:
        with db.atomic():
            db["sources"].update(row["id"], {"retry_at": None})


# --- structured logs ----------------------------------------------------------------------


def event(name: str, level: int = logging.INFO, **fields) -> None:
    log.log(level, name, extra={"fields": fields})
