"""Keyword search across VK (newsfeed.search): posts about the region anywhere.

The cursor keeps the newest publication time seen and the ids at that second, so the
next step asks from that time on (inclusive) and nothing published in the same second
is skipped (more than max_pages × 200 new results in one interval are not read).
Posts of walls tsur already polls are left to their own source.
"""

from __future__ import annotations

from datetime import timedelta

from monitor.collectors.base import Batch, SourceError
from monitor.collectors.records import each, unix_time

from .client import VkClient
from .convert import post_from_wall

PAGE = 200  # newsfeed.search returns at most 200 a call
FIRST_LOOK_BACK = timedelta(days=1)


class SearchCollector:
    interval = 300.0

    def __init__(self, source_key: str, query: str, client: VkClient, clock, *,
                 skip_owners: set[int] = frozenset(), max_pages: int = 5):
        self.source_key, self.query, self.client, self.clock = source_key, query, client, clock
        self.skip_owners, self.max_pages = set(skip_owners), max_pages

    async def step(self, cursor: dict | None) -> Batch:
        cursor = cursor or {}
        since = int(cursor.get("since") or (self.clock.now() - FIRST_LOOK_BACK).timestamp())
        seen = set(cursor.get("seen_at_since") or [])
        items, start_from = [], None
        for _ in range(self.max_pages):
            params = {"q": self.query, "count": PAGE, "start_time": since}
            if start_from:
                params["start_from"] = start_from
            answer = await self.client.call("newsfeed.search", **params)
            if not isinstance(answer, dict) or not isinstance(answer.get("items"), list):
                raise SourceError("VK newsfeed.search answered in an unexpected shape", "retry")
            items += answer["items"]
            start_from = answer.get("next_from")
            if not start_from:
                break
        newest, at_newest = since, set(seen)
        fresh = []
        for item in items:
            if not isinstance(item, dict):
                fresh.append(item)  # left for `each` to reject with its place
                continue
            key = f"{item.get('owner_id')}_{item.get('id')}"
            date = unix_time(item.get("date"))
            if date > newest:
                newest, at_newest = date, set()
            if date == newest:
                at_newest.add(key)
            if key not in seen and item.get("owner_id") not in self.skip_owners:
                fresh.append(item)
        posts, rejected = each(fresh, f"VK newsfeed.search {self.query!r}",
                               lambda item: post_from_wall(self.source_key, item))
        return Batch(posts=posts, cursor={"since": newest, "seen_at_since": sorted(at_newest)},
                     rejected=rejected)
