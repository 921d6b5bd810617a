"""Polling one OK group page: its newest topics and the comments under them.

A step reads the newest topics (`mediatopic.getTopics`), then every comment of each
topic whose comment count changed since the cursor, or of every topic when OK gives no
count (`discussions.getComments`, discussionType GROUP_TOPIC, from the oldest, paged by
anchor). The cursor keeps, per watched topic, its
comment count and the ids seen, so a comment gone from a re-read is reported deleted,
and a watched topic missing from a read that covers its time is deleted with its
comments. Topics are re-read every step: an edited text arrives under the same
external id and ingest keeps the old one.

The cursor: {"topics": {"<topic id>": {"count": int, "ids": [...], "created_ms": int}}}.
"""

from __future__ import annotations

from functools import partial

from monitor.collectors.base import Batch, SourceError
from monitor.collectors.records import each, number, platform_id

from .client import OkClient
from .convert import post_from_comment, post_from_topic

WATCH = 20  # newest topics read and watched for comments
PAGE = 100  # comments a call
MAX_PAGES = 50


class GroupCollector:
    interval = 60.0  # seconds between steps when nothing more is waiting

    def __init__(self, source_key: str, group_id: str, client: OkClient, *, watch: int = WATCH):
        self.source_key, self.group_id, self.client, self.watch = source_key, group_id, client, watch

    async def step(self, cursor: dict | None) -> Batch:
        known = (cursor or {}).get("topics") or {}
        answer = await self.client.call("mediatopic.getTopics", gid=self.group_id,
                                        count=self.watch)
        topics = answer.get("media_topics") if isinstance(answer, dict) else None
        if not isinstance(topics, list):
            raise SourceError("OK mediatopic.getTopics answered in an unexpected shape", "retry")
        where = f"OK mediatopic.getTopics {self.group_id}"
        topics, rejected = each(topics, where, _with_id)
        posts, bad = each(topics, where, lambda t: post_from_topic(self.source_key,
                                                                   self.group_id, t))
        rejected += bad
        deleted: list[str] = []
        watched = {}
        for topic in topics:
            topic_id, count = str(topic["id"]), _count(topic)
            state = known.get(topic_id) or {}
            watched[topic_id] = {**state, "count": count, "created_ms": topic.get("created_ms")}
            if count is not None and state.get("count") == count and "ids" in state:
                continue
            try:
                comments, names = (await self._comments(topic_id, rejected) if count != 0
                                   else ([], {}))
            except SourceError as error:
                if error.kind != "access":
                    raise
                watched[topic_id] = {**state, "error": str(error)}  # comments closed: go on
                continue
            comments = [c for c in comments if not self._ours(c)]
            converted, bad = each(comments, f"OK discussions.getComments {topic_id}", partial(
                post_from_comment, self.source_key, self.group_id, topic_id, names=names))
            posts += converted
            rejected += bad
            ids = sorted(str(c["id"]) for c in comments)
            deleted += [self._comment_id(topic_id, c) for c in state.get("ids", [])
                        if c not in ids]
            watched[topic_id]["ids"] = ids
        deleted += self._deleted_topics(known, topics)
        return Batch(posts=posts, cursor={"topics": watched}, deleted=deleted, rejected=rejected)

    async def _comments(self, topic_id: str, rejected: list) -> tuple[list[dict], dict[str, str]]:
        """Every comment of a topic, oldest first, and its authors' names."""
        comments, names, anchor = [], {}, "FIRST"
        for _ in range(MAX_PAGES):
            answer = await self.client.call(
                "discussions.getComments", discussionId=topic_id, discussionType="GROUP_TOPIC",
                count=PAGE, anchor=anchor, direction="FORWARD")
            page = answer.get("comments") if isinstance(answer, dict) else None
            if not isinstance(page, list):
                raise SourceError("OK discussions.getComments answered in an unexpected shape",
                                  "retry")
            good, bad = each(page, f"OK discussions.getComments {topic_id} anchor {anchor}",
                             _with_id)
            comments += good
            rejected += bad
            entities = answer.get("entities") if isinstance(answer.get("entities"), dict) else {}
            users = entities.get("users") if isinstance(entities.get("users"), list) else []
            names.update({str(u.get("uid")): u["name"] for u in users
                          if isinstance(u, dict) and isinstance(u.get("name"), str)})
            anchor = answer.get("anchor")
            if not answer.get("has_more") or not page or not isinstance(anchor, str | int):
                break
        return comments, names

    def _deleted_topics(self, known: dict, topics: list[dict]) -> list[str]:
        """Watched topics missing from a read that covers their time: deleted on OK."""
        times = [number(t.get("created_ms")) for t in topics if number(t.get("created_ms"))]
        if not times:
            return []
        present, oldest = {str(t["id"]) for t in topics}, min(times)
        gone = []
        for topic_id, state in known.items():
            if topic_id not in present and number(state.get("created_ms")) >= oldest:
                gone.append(f"{self.group_id}_{topic_id}")
                gone += [self._comment_id(topic_id, c) for c in state.get("ids", [])]
        return gone

    def _ours(self, comment: dict) -> bool:
        """The group's own comments (our replies) are not residents' messages."""
        return comment.get("author_type") == "GROUP" or str(comment.get("author_id")) == \
            self.group_id

    def _comment_id(self, topic_id: str, comment_id: str) -> str:
        return f"{self.group_id}_{topic_id}_{comment_id}"

    async def close(self) -> None:
        await self.client.close()  # shared by the groups; closing twice does nothing


def _count(topic: dict) -> int | None:
    """The topic's comment count, None when OK did not say."""
    summary = topic.get("discussion_summary")
    if not isinstance(summary, dict) or summary.get("comments_count") is None:
        return None
    return number(summary["comments_count"])


def _with_id(item) -> dict:
    """A topic or comment with a usable id (digits, within 64 bits) kept as text."""
    if not isinstance(item, dict):
        raise ValueError(f"expected an object, not {type(item).__name__}")
    item["id"] = str(platform_id(item.get("id")))
    return item
