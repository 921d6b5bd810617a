"""Polling one VK wall: new posts, and the comment threads under its recent posts.

A step reads the newest posts (wall.get, 100 a page), then re-reads the comments of
every recent post whose comment count changed since the cursor — top level and
replies in threads (wall.getComments, thread_items_count, comment_id), all batched by
`execute`. The cursor keeps the ids of the comments seen under each recent post, so
a comment gone from a re-read is reported deleted, and so is a watched post missing
from a page that covers its id; an edited text arrives as the same external id with
new text and ingest keeps the old one.

The cursor: {"last_post_id": int, "posts": {"<post id>": {"count": int, "ids": [...]}}}.
"""

from __future__ import annotations

from monitor.collectors.base import Batch, SourceError

from .client import VkClient
from .convert import post_from_comment, post_from_wall

PAGE = 100  # wall.get / wall.getComments return at most 100 items a call
THREAD_PREVIEW = 10  # replies wall.getComments can inline per comment


class WallCollector:
    """A community or user wall read with a user/service token."""

    interval = 60.0  # seconds between steps when nothing more is waiting

    def __init__(self, source_key: str, owner_id: int, client: VkClient, *, backfill: int = 20,
                 watch: int = 20, max_pages: int = 10):
        self.source_key, self.owner_id, self.client = source_key, owner_id, client
        self.backfill, self.watch, self.max_pages = backfill, watch, max_pages

    async def step(self, cursor: dict | None) -> Batch:
        cursor = cursor or {}
        first = "last_post_id" not in cursor
        last = int(cursor.get("last_post_id") or 0)
        known = cursor.get("posts") or {}
        items, more = await self._posts(first, last)
        if first:
            fresh = sorted(items, key=lambda i: -i["id"])[:self.backfill]
        else:
            fresh = [i for i in items if i["id"] > last]
        recent = sorted(items, key=lambda i: -i["id"])[:self.watch]
        batch_posts = {i["id"]: i for i in fresh + recent}
        changed = [i for i in recent if _state(known, i["id"]).get("count") != _count(i)]
        comments = await self._comments([i for i in changed if _count(i) > 0])

        posts = [post_from_wall(self.source_key, i) for i in batch_posts.values()]
        deleted: list[str] = []
        new_known = {}
        for item in recent:
            post_id = item["id"]
            state = _state(known, post_id)
            if item in changed and _count(item) == 0:
                new_known[str(post_id)] = {"count": 0, "ids": []}
                deleted += [self._comment_id(post_id, c) for c in state.get("ids", [])]
            elif item in changed and isinstance(comments.get(post_id), dict):
                found = comments[post_id]
                posts += [post_from_comment(self.source_key, self.owner_id, c)
                          for _, c in sorted(found.items())]
                deleted += [self._comment_id(post_id, c) for c in state.get("ids", [])
                            if c not in found]
                new_known[str(post_id)] = {"count": _count(item), "ids": sorted(found)}
            elif item in changed:  # comments closed or hidden on this post: note, go on
                new_known[str(post_id)] = {**state, "count": _count(item),
                                           "error": str(comments.get(post_id))}
            else:
                new_known[str(post_id)] = state
        deleted += self._deleted_posts(known, items)
        top = max([last] + [i["id"] for i in items if not i.get("is_pinned")] +
                  [i["id"] for i in fresh])
        return Batch(posts=posts, cursor={"last_post_id": top, "posts": new_known},
                     deleted=deleted, more=more)

    def _deleted_posts(self, known: dict, items: list[dict]) -> list[str]:
        """Watched posts missing from a read that covers their ids: deleted on VK (their
        comments with them). A post older than the oldest one read is just out of view."""
        ordinary = [i["id"] for i in items if not i.get("is_pinned")]
        if not ordinary:
            return []
        present, oldest = {i["id"] for i in items}, min(ordinary)
        gone = []
        for post_id, state in known.items():
            if int(post_id) >= oldest and int(post_id) not in present:
                gone.append(f"{self.owner_id}_{post_id}")
                gone += [self._comment_id(int(post_id), c) for c in state.get("ids", [])]
        return gone

    def _comment_id(self, post_id: int, comment_id: int) -> str:
        return f"{self.owner_id}_{post_id}_{comment_id}"

    async def _posts(self, first: bool, last: int) -> tuple[list[dict], bool]:
        items: list[dict] = []
        for page in range(self.max_pages):
            answer = await self.client.call("wall.get", owner_id=self.owner_id, count=PAGE,
                                            offset=page * PAGE)
            page_items = _items(answer, "wall.get")
            items += page_items
            ordinary = [i["id"] for i in page_items if not i.get("is_pinned")]
            if first or len(page_items) < PAGE or not ordinary or min(ordinary) <= last:
                return items, False
        return items, True  # more new posts than max_pages: the next step goes on

    async def _comments(self, posts: list[dict]) -> dict[int, dict | SourceError]:
        """Every live comment (top level and thread replies) under each post."""
        found: dict[int, dict | SourceError] = {i["id"]: {} for i in posts}
        calls = [self._page(i["id"], 0) for i in posts]
        while calls:
            results = await self.client.many(calls)
            next_calls = []
            for (_, params), result in zip(calls, results, strict=True):
                post_id = int(params["post_id"])
                if isinstance(result, SourceError):
                    found[post_id] = result
                    continue
                if not isinstance(found[post_id], dict):
                    continue
                level = _items(result, "wall.getComments")
                for comment in level:
                    comment.setdefault("post_id", post_id)
                    found[post_id][int(comment["id"])] = comment
                    thread = comment.get("thread") or {}
                    for reply in thread.get("items") or []:
                        reply.setdefault("post_id", post_id)
                        found[post_id][int(reply["id"])] = reply
                    if int(thread.get("count") or 0) > len(thread.get("items") or []) \
                            and "comment_id" not in params:
                        next_calls.append(self._page(post_id, 0, thread=int(comment["id"])))
                total = int(result.get("current_level_count", result.get("count", 0)) or 0)
                offset = int(params["offset"]) + PAGE
                if offset < total and len(level) == PAGE:
                    next_calls.append(self._page(post_id, offset, thread=params.get("comment_id")))
            calls = next_calls
        return found

    def _page(self, post_id: int, offset: int, thread: int | None = None) -> tuple[str, dict]:
        params = {"owner_id": self.owner_id, "post_id": post_id, "count": PAGE,
                  "offset": offset, "sort": "asc"}
        if thread:
            params["comment_id"] = thread
        else:
            params["thread_items_count"] = THREAD_PREVIEW
        return "wall.getComments", params


def _items(answer, method: str) -> list[dict]:
    items = answer.get("items") if isinstance(answer, dict) else None
    if not isinstance(items, list) or not all(isinstance(i, dict) and "id" in i for i in items):
        raise SourceError(f"VK {method} answered in an unexpected shape", "retry")
    return items


def _count(item: dict) -> int:
    comments = item.get("comments")
    return int(comments.get("count") or 0) if isinstance(comments, dict) else 0


def _state(known: dict, post_id: int) -> dict:
    return known.get(str(post_id)) or {}
