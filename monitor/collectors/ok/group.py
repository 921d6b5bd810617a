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

import logging

from monitor.collectors.base import Batch, SourceError

from .client import OkClient
from .convert import post_from_comment, post_from_topic

WATCH = 20  # newest topics read and watched for comments
PAGE = 100  # comments a call
MAX_PAGES = 50
log = logging.getLogger("tsur.collect.ok")


class GroupCollector:
    interval = 60.0  # seconds between steps when nothing more is waiting

    def __init__(self, source_key: str, group_id: str, client: OkClient, *, watch: int = WATCH):
        self.source_key, self.group_id, self.client, self.watch = source_key, group_id, client, watch

    async def step(self, cursor: dict | None) -> Batch:
        known = (cursor or {}).get("topics") or {}
        answer = await self.client.call("mediatopic.getTopics", gid=self.group_id,
                                        count=self.watch)
        topics = answer.get("media_topics") if isinstance(answer, dict) else None
        if not isinstance(topics, list) or not all(isinstance(t, dict) and "id" in t
                                                    for t in topics):
            raise SourceError("OK mediatopic.getTopics answered in an unexpected shape", "retry")
        posts = [post_from_topic(self.source_key, self.group_id, t) for t in topics]
        deleted: list[str] = []
        watched = {}
        for topic in topics:
            topic_id, count = str(topic["id"]), _count(topic)
            state = known.get(topic_id) or {}
            watched[topic_id] = {**state, "count": count, "created_ms": topic.get("created_ms")}
            if count is not None and state.get("count") == count and "ids" in state:
                continue
            try:
                comments, names = await self._comments(topic_id) if count != 0 else ([], {})
            except SourceError as error:
                if error.kind != "access":
                    raise
                watched[topic_id] = {**state, "error": str(error)}  # comments closed: go on
                continue
            comments = [c for c in comments if not self._ours(c)]
            posts += [post_from_comment(self.source_key, self.group_id, topic_id, c, names)
                      for c in comments]
            ids = sorted(str(c["id"]) for c in comments)
            deleted += [self._comment_id(topic_id, c) for c in state.get("ids", [])
                        if c not in ids]
            watched[topic_id]["ids"] = ids
        deleted += self._deleted_topics(known, topics)
        return Batch(posts=posts, cursor={"topics": watched}, deleted=deleted)

    async def _comments(self, topic_id: str) -> tuple[list[dict], dict[str, str]]:
        """Every comment of a topic, oldest first, and its authors' names."""
        comments, names, anchor = [], {}, "FIRST"
        for _ in range(MAX_PAGES):
            answer = await self.client.call(
                "discussions.getComments", discussionId=topic_id, discussionType="GROUP_TOPIC",
                count=PAGE, anchor=anchor, direction="FORWARD")
            page = answer.get("comments") if isinstance(answer, dict) else None
            if not isinstance(page, list) or not all(isinstance(c, dict) and "id" in c
                                                      for c in page):
                raise SourceError("OK discussions.getComments answered in an unexpected shape",
                                  "retry")
            comments += page
            users = (answer.get("entities") or {}).get("users") or []
            names.update({str(u.get("uid")): u.get("name") for u in users if u.get("name")})
            anchor = answer.get("anchor")
            if not answer.get("has_more") or not page or not anchor:
                break
        return comments, names

    def _deleted_topics(self, known: dict, topics: list[dict]) -> list[str]:
        """Watched topics missing from a read that covers their time: deleted on OK."""
        times = [int(t["created_ms"]) for t in topics if t.get("created_ms") is not None]
        if not times:
            return []
        present, oldest = {str(t["id"]) for t in topics}, min(times)
        gone = []
        for topic_id, state in known.items():
            if topic_id not in present and int(state.get("created_ms") or 0) >= oldest:
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
    return int(summary["comments_count"])
