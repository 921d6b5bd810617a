"""OK group topics and their comments → Posts.

A topic is `<group>_<topic>` (channel ok_post), a comment `<group>_<topic>_<comment>`
(ok_comment) whose parent is its topic, or the comment it answers. Times: a topic's
`created_ms` is milliseconds since the epoch (UTC); a comment's `date` is «yyyy-MM-dd
HH:mm:ss» in Moscow time, OK's own zone (`date_ms`, when present, wins). Authors' names
come beside the comments, in `entities.users`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from monitor.collectors.records import platform_id
from monitor.ingest.post import Post

MAX_TEXT = 100_000
OK_ZONE = ZoneInfo("Europe/Moscow")


def topic_url(group_id: str, topic_id: str) -> str:
    return f"https://ok.ru/group/{group_id}/topic/{topic_id}"


def post_from_topic(source: str, group_id: str, topic: dict) -> Post:
    text = "\n".join(_string(m.get("text")) for m in topic.get("media") or []
                     if m.get("type") == "text").strip()
    text, raw = _text(text, topic)
    author = topic.get("author_ref") or ""
    return Post(
        source=source, external_id=f"{group_id}_{topic['id']}", channel="ok_post", text=text,
        created_at=_millis(topic.get("created_ms")),
        author_id=f"ok:{author.split(':', 1)[1]}" if ":" in author else None,
        url=topic_url(group_id, topic["id"]), raw=raw)


def post_from_comment(source: str, group_id: str, topic_id: str, comment: dict,
                      names: dict[str, str] | None = None) -> Post:
    parent_comment = comment.get("reply_to_comment_id")
    parent = (f"{group_id}_{topic_id}_{parent_comment}" if parent_comment
              else f"{group_id}_{topic_id}")
    text, raw = _text(_string(comment.get("text")), comment)
    author = comment.get("author_id")
    return Post(
        source=source, external_id=f"{group_id}_{topic_id}_{comment['id']}",
        channel="ok_comment", text=text, created_at=_comment_time(comment),
        author_id=f"ok:{author}" if author else None,
        author_name=(names or {}).get(str(author)) or comment.get("author_name"),
        url=topic_url(group_id, topic_id), parent_id=parent, raw=raw)


def _string(value) -> str:
    if value is not None and not isinstance(value, str):
        raise ValueError(f"text must be a string, not {type(value).__name__}")
    return value or ""


def _text(text: str, item: dict) -> tuple[str, dict]:
    if len(text) > MAX_TEXT:
        return text[:MAX_TEXT] + " […]", {**item, "tsur_truncated_from": len(text)}
    return text, item


def _millis(value) -> datetime:
    try:
        return datetime.fromtimestamp(platform_id(value) / 1000, UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        raise ValueError(f"OK item has no valid time: {value!r}") from None


def _comment_time(comment: dict) -> datetime:
    if comment.get("date_ms") is not None:
        return _millis(comment["date_ms"])
    try:
        return datetime.strptime(comment["date"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=OK_ZONE)
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"OK comment has no valid date: {comment.get('date')!r}") from None
