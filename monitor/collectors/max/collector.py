"""The bot's update stream by long polling: `GET /updates` with the stored marker.

One bot serves every chat it administers and every dialog, so the stream has one cursor
(the marker) kept on the bot's own source (`max:bot`), while each message goes to the
source of its chat. Passing a marker confirms every update before it; the marker is
stored with the posts it came with, so updates read but not stored are delivered again
after a restart (nothing lost) and a re-delivered one is a harmless duplicate.
"""

from __future__ import annotations

import logging

from monitor.collectors.base import Batch, SourceError
from monitor.collectors.records import each, number

from .client import MaxClient
from .convert import UPDATE_TYPES, Changes, changes_from_updates

BOT_SOURCE = "max:bot"
PAGE = 100  # updates a call (the API takes 1–1000)
log = logging.getLogger("tsur.collect.max")


class MaxCollector:
    interval = 0.0  # GET /updates waits on the server

    def __init__(self, token: str, api_url: str, *, source_key: str = BOT_SOURCE,
                 wait: int = 30, pushed: bool = False):
        self.source_key, self.wait = source_key, min(wait, 90)
        # pushed: updates come from the webhook's inbox (the runner reads it), not /updates
        self.inbox = "max" if pushed else None
        self.client = MaxClient(token, api_url, timeout=self.wait + 15)
        self.known: dict[str, str | None] = {}  # chat source → title (None: not known)

    async def step(self, cursor: dict | None) -> Batch:
        marker = (cursor or {}).get("marker")
        answer = await self.client.get("/updates", marker=marker, limit=PAGE, timeout=self.wait,
                                       types=",".join(UPDATE_TYPES))
        updates = answer.get("updates")
        if not isinstance(updates, list):
            raise SourceError("MAX /updates answered without a list of updates", "retry")
        changes = self.convert(updates)
        next_marker = number(answer.get("marker")) or marker
        batch = Batch(posts=changes.posts, cursor={"marker": next_marker},
                      deleted=changes.deleted, more=len(updates) >= PAGE,
                      rejected=changes.rejected)
        batch.names = {**await self.titles(changes), **changes.names}
        return batch

    async def titles(self, changes: Changes) -> dict[str, str]:
        """Titles of the chats in this batch (`GET /chats/{id}`, asked once per chat): a
        chat seen for the first time becomes a source named after it."""
        for post in changes.posts:
            if post.source == self.source_key or post.source in self.known:
                continue
            self.known[post.source] = None
            try:
                chat = await self.client.get(f"/chats/{post.source.split(':', 1)[1]}")
            except SourceError as error:
                log.info("no title for %s: %s", post.source, error)
                continue
            self.known[post.source] = chat.get("title")
        return {key: title for key, title in self.known.items() if title}

    def convert(self, updates: list) -> Changes:
        """Updates as read or as pushed to the webhook; a malformed one is left out alone,
        with its place and the reason."""
        changes = Changes()
        parts, changes.rejected = each(updates, "MAX updates",
                                       lambda u: [changes_from_updates([u], self.source_key)])
        for one in parts:
            changes.posts += one.posts
            changes.deleted += one.deleted
            changes.names.update(one.names)
        return changes

    async def from_inbox(self, payloads: list[dict]):
        """Updates the webhook stored: (posts, deletions, rejected) for the inbox reader."""
        changes = self.convert(payloads)
        return changes.posts, changes.deleted, changes.rejected

    async def close(self) -> None:
        await self.client.close()
