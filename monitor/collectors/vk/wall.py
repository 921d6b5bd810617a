"""Polling one VK wall: new posts, and the comment threads under the posts it watches.

Which posts are watched: the newest `watch_posts`, the pinned one always (VK marks it
`is_pinned`; residents write there for months), and any older post that got a comment
within `keep_watching_days` ([vk] in tsur.toml).

How comments are compared — by ids, thread sizes and text hashes, never by the count
alone (one comment deleted and another added leave the count as it was; an edit never
changes it). The cost stays low: every step asks one newest-first page of each watched
post that has comments (wall.getComments, 100 top-level comments with up to 10 replies
inlined), 25 posts to one `execute` request — one or two requests a step for a usual
wall, within the 3 requests a second of a user token. When that page holds the whole
post (the common case) it is compared in full; when the post is larger, the rest is read
(every page and every long thread) only when the page differs from the cursor: another
total, an unknown id, a changed text, another thread size, or a known id missing from
the page's range. So an edit or deletion deep in a post of hundreds of comments waits
until something visible changes there — the price of not re-reading every page of
every post every minute.

A comment new or changed is handed to ingest (an edit keeps the old text there); one
gone is reported deleted, and so is a watched post missing from a page that covers it.

The cursor: {"last_post_id": int, "posts": {"<post id>": {"count": int, "active": unix
time of its newest comment (or the post), "hashes": {"<comment id>": hash},
"threads": {"<top-level comment id>": replies}}}}. Cursors of the older shape
({"count", "ids"}) are read as ids without hashes: their comments are handed over once
more (duplicates, harmless) and the cursor is rewritten.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from monitor.clock import SystemClock
from monitor.collectors.base import Batch, SourceError, options_from_table
from monitor.collectors.records import Rejected, each, number, platform_id, unix_time
from monitor.settings import ConfigError

from .client import VkClient
from .convert import post_from_comment, post_from_wall

PAGE = 100  # wall.get / wall.getComments return at most 100 items a call
THREAD_PREVIEW = 10  # replies wall.getComments can inline per comment


@dataclass(frozen=True)
class WallOptions:
    """[vk] in tsur.toml."""

    watch_posts: int = 20  # the newest posts whose comments are read every step
    keep_watching_days: float = 7.0  # an older post stays watched this long after a comment

    def __post_init__(self):
        if self.watch_posts < 1:
            raise ConfigError("[vk] watch_posts must be at least 1")
        if self.keep_watching_days < 0:
            raise ConfigError("[vk] keep_watching_days cannot be negative")


def wall_options(settings) -> WallOptions:
    return options_from_table(WallOptions, getattr(settings, "vk", None), "vk")


class WallCollector:
    """A community or user wall read with a user/service token."""

    interval = 60.0  # seconds between steps when nothing more is waiting

    def __init__(self, source_key: str, owner_id: int, client: VkClient, *, backfill: int = 20,
                 options: WallOptions | None = None, clock=None, max_pages: int = 10):
        self.source_key, self.owner_id, self.client = source_key, owner_id, client
        options = options or WallOptions()
        self.backfill, self.watch, self.max_pages = backfill, options.watch_posts, max_pages
        self.keep_watching = timedelta(days=options.keep_watching_days)
        self.clock = clock or SystemClock()

    async def step(self, cursor: dict | None) -> Batch:
        cursor = cursor or {}
        first = "last_post_id" not in cursor
        last = int(cursor.get("last_post_id") or 0)
        known = cursor.get("posts") or {}
        rejected: list[Rejected] = []
        items, more = await self._posts(first, last, rejected)
        ordinary = sorted((i for i in items if not i.get("is_pinned")), key=lambda i: -i["id"])
        fresh = ordinary[:self.backfill] if first else [i for i in ordinary if i["id"] > last]
        shown = {i["id"]: i for i in ordinary[:self.watch] + [i for i in items if i.get("is_pinned")]}
        since = self.clock.now().timestamp() - self.keep_watching.total_seconds()
        by_id = {i["id"]: i for i in items}
        for post_id, state in known.items():  # older posts still being discussed
            if int(post_id) not in shown and int(state.get("active") or 0) >= since \
                    and (int(post_id) in by_id or not self._gone(int(post_id), items)):
                shown[int(post_id)] = by_id.get(int(post_id), {"id": int(post_id)})

        posts = self._convert([i for i in {**{i["id"]: i for i in fresh}, **shown}.values()
                               if "owner_id" in i], "wall.get", rejected,
                              lambda i: post_from_wall(self.source_key, i))
        asked = [i for i in shown.values()
                 if _count(i) != 0 or _state(known, i["id"]).get("hashes") or
                 _state(known, i["id"]).get("ids")]
        found = await self._comments(asked, known, rejected)
        deleted: list[str] = []
        watched = {}
        for post_id, item in shown.items():
            state = _state(known, post_id)
            result = found.get(post_id, {})
            if isinstance(result, SourceError):  # comments closed or hidden: note, go on
                watched[str(post_id)] = {**state, "error": str(result)}
                continue
            if result is None:  # the first page matched the cursor: nothing changed
                watched[str(post_id)] = state
                continue
            before = _hashes(state)
            posts += self._convert(
                [c for i, c in sorted(result.items()) if before.get(str(i)) != _hash(c)],
                f"wall.getComments {self.owner_id}_{post_id}", rejected,
                lambda c: post_from_comment(self.source_key, self.owner_id, c))
            deleted += [self._comment_id(post_id, c) for c in before if int(c) not in result]
            watched[str(post_id)] = _new_state(item, state, result)
        deleted += self._deleted_posts(known, items)
        top = max([last] + [i["id"] for i in ordinary] + [i["id"] for i in fresh])
        return Batch(posts=posts, cursor={"last_post_id": top, "posts": watched},
                     deleted=deleted, more=more, rejected=rejected)

    def _convert(self, items: list[dict], method: str, rejected: list, convert) -> list:
        """Each item on its own: a malformed one is left out with its place and reason."""
        posts, bad = each(items, f"VK {method} {self.owner_id}", convert)
        rejected += bad
        return posts

    def _gone(self, post_id: int, items: list[dict]) -> bool:
        ordinary = [i["id"] for i in items if not i.get("is_pinned")]
        return bool(ordinary) and post_id >= min(ordinary)

    def _deleted_posts(self, known: dict, items: list[dict]) -> list[str]:
        """Watched posts missing from a read that covers their ids: deleted on VK (their
        comments with them). A post older than the oldest one read is just out of view."""
        present = {i["id"] for i in items}
        gone = []
        for post_id, state in known.items():
            if self._gone(int(post_id), items) and int(post_id) not in present:
                gone.append(f"{self.owner_id}_{post_id}")
                gone += [self._comment_id(int(post_id), c) for c in _hashes(state)]
        return gone

    def _comment_id(self, post_id: int, comment_id) -> str:
        return f"{self.owner_id}_{post_id}_{comment_id}"

    async def _posts(self, first: bool, last: int, rejected: list) -> tuple[list[dict], bool]:
        items: list[dict] = []
        for page in range(self.max_pages):
            answer = await self.client.call("wall.get", owner_id=self.owner_id, count=PAGE,
                                            offset=page * PAGE)
            page_items = _items(answer, f"wall.get {self.owner_id} offset {page * PAGE}",
                                rejected)
            items += page_items
            ordinary = [i["id"] for i in page_items if not i.get("is_pinned")]
            if first or len(page_items) < PAGE or not ordinary or min(ordinary) <= last:
                return items, False
        return items, True  # more new posts than max_pages: the next step goes on

    async def _comments(self, posts: list[dict], known: dict, rejected: list) -> dict:
        """Per post: every live comment (top level and thread replies) by id; None when
        its first page matched the cursor; or the SourceError of that post alone."""
        found: dict = {i["id"]: {} for i in posts}
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
                where = f"wall.getComments {self.owner_id}_{post_id} offset {params['offset']}"
                level = _items(result, where, rejected)
                more = []
                for comment in level:
                    comment["post_id"] = post_id
                    _keep(found[post_id], comment)
                    thread = _thread(comment)
                    for reply in _items(thread, f"{where} thread {comment['id']}", rejected):
                        reply["post_id"] = post_id
                        _keep(found[post_id], reply)
                    if thread["count"] > len(thread["items"]) and "comment_id" not in params:
                        more.append(self._page(post_id, 0, thread=int(comment["id"])))
                total = number(result.get("current_level_count", result.get("count")))
                offset = int(params["offset"]) + PAGE
                if offset < total and len(level) == PAGE:
                    more.append(self._page(post_id, offset, thread=params.get("comment_id")))
                first = int(params["offset"]) == 0 and "comment_id" not in params
                if first and more and _same(_state(known, post_id), result, level):
                    found[post_id] = None  # a large post, unchanged where it changes first
                    continue
                next_calls += more
            calls = next_calls
        return found

    def _page(self, post_id: int, offset: int, thread: int | None = None) -> tuple[str, dict]:
        params = {"owner_id": self.owner_id, "post_id": post_id, "count": PAGE,
                  "offset": offset, "sort": "desc"}
        if thread:
            params["comment_id"] = thread
        else:
            params["thread_items_count"] = THREAD_PREVIEW
        return "wall.getComments", params


def _keep(found: dict, comment: dict) -> None:
    """A live comment; one VK shows as deleted (kept for its replies) counts as gone."""
    if not comment.get("deleted"):
        found[int(comment["id"])] = comment


def _same(state: dict, result: dict, level: list[dict]) -> bool:
    """Whether the newest-first page of a large post shows what the cursor remembers."""
    hashes, threads = _hashes(state), state.get("threads") or {}
    if "hashes" not in state or number(result.get("count")) != state.get("count"):
        return False
    for comment in level:
        thread = _thread(comment)
        shown = [c for c in (comment, *thread["items"]) if isinstance(c, dict)]
        if any(hashes.get(str(c.get("id"))) != _hash(c) for c in shown if not c.get("deleted")):
            return False
        if thread["count"] != threads.get(str(comment["id"])):
            return False
    lowest = min((int(c["id"]) for c in level), default=0)
    return all(int(c) in {int(x["id"]) for x in level} for c in threads if int(c) >= lowest)


def _new_state(item: dict, state: dict, comments: dict) -> dict:
    dates = [unix_time(c.get("date")) for c in comments.values()]
    return {
        "count": _count(item) if "comments" in item else len(comments),
        "active": max([number(state.get("active")), unix_time(item.get("date")), *dates]),
        "hashes": {str(i): _hash(c) for i, c in sorted(comments.items())},
        "threads": {str(i): _thread(c)["count"]
                    for i, c in sorted(comments.items()) if not c.get("parents_stack")},
    }


def _hash(comment: dict) -> str:
    text = comment.get("text") if isinstance(comment.get("text"), str) else ""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def _hashes(state: dict) -> dict[str, str | None]:
    """The comment ids the cursor knows, with their text hash (None: an older cursor)."""
    return state.get("hashes") or {str(i): None for i in state.get("ids") or []}


def _items(answer, where: str, rejected: list) -> list[dict]:
    """The items of an answer that are objects with a usable id (the id an int); the
    others go to `rejected` with their place. An answer without a list of items at all
    is the API failing, not one bad item."""
    items = answer.get("items") if isinstance(answer, dict) else None
    if not isinstance(items, list):
        raise SourceError(f"VK {where} answered in an unexpected shape", "retry")
    good, bad = each(items, f"VK {where}", _with_id)
    rejected += bad
    return good


def _with_id(item) -> dict:
    if not isinstance(item, dict):
        raise ValueError(f"expected an object, not {type(item).__name__}")
    item["id"] = platform_id(item.get("id"))
    if item["id"] <= 0:
        raise ValueError(f"id {item['id']} is not positive")
    return item


def _thread(comment: dict) -> dict:
    """A comment's thread as {"count": int, "items": list} whatever VK (or junk) sent."""
    thread = comment.get("thread") if isinstance(comment.get("thread"), dict) else {}
    items = thread.get("items") if isinstance(thread.get("items"), list) else []
    return {"count": number(thread.get("count")), "items": items}


def _count(item: dict) -> int | None:
    """The post's comment count; None for a post known only from the cursor."""
    if "comments" not in item:
        return None
    comments = item.get("comments")
    return number(comments.get("count")) if isinstance(comments, dict) else 0


def _state(known: dict, post_id: int) -> dict:
    return known.get(str(post_id)) or {}
