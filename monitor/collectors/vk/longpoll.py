"""Real time for an organisation's own community: VK Bots Long Poll.

groups.getLongPollServer (community token) gives {key, server, ts}; a step asks
`{server}?act=a_check&key=…&ts=…&wait=…` and turns the events into Posts. The cursor
keeps `ts`, so a restarted collector asks again from the last stored event. VK keeps
events only for a while: when it answers failed 1 or 3 (history lost) — and at the
first start and every `sweep_every` anyway — the step also polls the wall with the
user/service token, so a gap in the events never loses a comment.

failed 1: take the new ts; 2: get a new key, keep ts; 3: get a new key and ts.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import requests

from monitor.clock import iso, parse_time
from monitor.collectors.base import Batch, SourceError

from .client import VkClient
from .convert import changes_from_events
from .wall import WallCollector

log = logging.getLogger("tsur.collect.vk")
SWEEP_EVERY = timedelta(minutes=10)


class LongPollCollector:
    interval = 0.0  # a step already waits for events on the server

    def __init__(self, source_key: str, group_id: int, client: VkClient, clock, *,
                 wall: WallCollector | None = None, wait: int = 25,
                 sweep_every: timedelta = SWEEP_EVERY):
        self.source_key, self.group_id, self.client, self.clock = source_key, group_id, client, clock
        self.wall, self.wait, self.sweep_every = wall, wait, sweep_every
        self.server: dict | None = None

    async def step(self, cursor: dict | None) -> Batch:
        cursor = dict(cursor or {})
        ts, gap = cursor.get("ts"), bool(cursor.get("gap"))
        if self.server is None:
            answer = await self.client.call("groups.getLongPollServer", group_id=self.group_id)
            if not isinstance(answer, dict) or not all(k in answer for k in ("key", "server", "ts")):
                raise SourceError("VK groups.getLongPollServer answered in an unexpected shape")
            self.server = {"key": answer["key"], "server": answer["server"]}
            if ts is None:
                ts, gap = str(answer["ts"]), True
        swept, posts, deleted, rejected = [], [], [], []
        now = self.clock.now()
        swept_at = cursor.get("swept_at")
        if self.wall and (gap or not swept_at or now - parse_time(swept_at) >= self.sweep_every):
            try:
                sweep = await self.wall.step(cursor.get("wall"))
                swept, deleted, rejected = sweep.posts, sweep.deleted, sweep.rejected
                cursor.update(wall=sweep.cursor, swept_at=iso(now), sweep_error=None)
                gap = False
            except SourceError as error:  # the events still flow; say why the sweep failed
                log.warning("wall sweep of %s failed: %s", self.source_key, error)
                cursor["sweep_error"] = str(error)
        answer = await asyncio.to_thread(self._check, ts)
        failed = answer.get("failed")
        if failed == 1:
            ts, gap = str(answer.get("ts") or ts), True
        elif failed == 2:
            self.server = None
        elif failed == 3:
            self.server, ts, gap = None, None, True
        elif failed is not None:
            raise SourceError(f"VK Long Poll answered failed={failed!r}", "retry")
        else:
            posts, deleted_now, bad = changes_from_events(
                answer["updates"], f"VK Long Poll {self.source_key} ts {ts}", self.group_id)
            deleted += deleted_now
            rejected += bad
            ts = str(answer["ts"])
        cursor.update(ts=ts, gap=gap)
        # The events tell a comment's history in order (new, then edits); the sweep only
        # its present text, read before them: where both speak, the events do.
        told = {(p.source, p.external_id) for p in posts}
        posts = [p for p in swept if (p.source, p.external_id) not in told] + posts
        return Batch(posts=posts, cursor=cursor, deleted=deleted, rejected=rejected,
                     more=self.server is None or gap)

    def _check(self, ts) -> dict:
        params = {"act": "a_check", "key": self.server["key"], "ts": ts, "wait": self.wait}
        try:
            response = self.client.session.get(self.server["server"], params=params,
                                               timeout=self.wait + 10)
        except requests.RequestException as error:
            raise SourceError(f"VK Long Poll: {type(error).__name__}: {error}", "retry") from None
        if response.status_code >= 400:
            raise SourceError(f"VK Long Poll: HTTP {response.status_code}", "retry",
                              code=response.status_code)
        try:
            answer = response.json()
        except ValueError:
            raise SourceError("VK Long Poll: the answer is not valid JSON", "retry") from None
        if not isinstance(answer, dict) or ("failed" not in answer and not (
                isinstance(answer.get("updates"), list) and "ts" in answer)):
            raise SourceError("VK Long Poll answered in an unexpected shape", "retry")
        return answer
