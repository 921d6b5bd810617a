"""VK objects (wall posts, comments, Long Poll and Callback events) → Posts.

External ids follow the demo stream: a post is `<owner>_<post>`, a comment
`<owner>_<post>_<comment>` whose parent is its post, or the comment it answers in a
thread. The same object read by polling, Long Poll or Callback gets the same id, so
whichever arrives second is a harmless duplicate.
"""

from __future__ import annotations

from datetime import UTC, datetime

from monitor.collectors.records import each, platform_id
from monitor.ingest.post import Post

MAX_TEXT = 100_000  # characters labelled and shown; the full text stays in `raw`


def post_from_wall(source: str, item: dict) -> Post:
    owner, post_id = platform_id(item["owner_id"], "owner_id"), platform_id(item["id"])
    text, raw = _text(item.get("text"), item)
    return Post(
        source=source, external_id=f"{owner}_{post_id}", channel="vk_post", text=text,
        created_at=_date(item.get("date")), author_id=_author(item.get("from_id") or owner),
        url=f"https://vk.com/wall{owner}_{post_id}", raw=raw)


def post_from_comment(source: str, owner: int, item: dict) -> Post:
    post_id, comment_id = platform_id(item["post_id"], "post_id"), platform_id(item["id"])
    stack = item.get("parents_stack") or []
    if not isinstance(stack, list):
        raise ValueError(f"parents_stack must be a list, not {type(stack).__name__}")
    stack = [platform_id(i, "parents_stack") for i in stack]
    parent = f"{owner}_{post_id}_{stack[-1]}" if stack else f"{owner}_{post_id}"
    text, raw = _text(item.get("text"), item)
    thread = f"&thread={stack[-1]}" if stack else ""
    return Post(
        source=source, external_id=f"{owner}_{post_id}_{comment_id}", channel="vk_comment",
        text=text, created_at=_date(item.get("date")), author_id=_author(item.get("from_id")),
        url=f"https://vk.com/wall{owner}_{post_id}?reply={comment_id}{thread}",
        parent_id=parent, raw=raw)


def post_from_message(source: str, group_id: int, message: dict) -> Post:
    """A private message to the community. There is no `vk_message` channel (yet), so it
    goes in as vk_comment with no parent; raw["vk_event"] says what it was."""
    peer = platform_id(message.get("peer_id") or message.get("from_id"), "peer_id")
    text, raw = _text(message.get("text"), {**message, "vk_event": "message_new"})
    return Post(
        source=source, external_id=f"msg{peer}_{platform_id(message['id'])}", channel="vk_comment",
        text=text, created_at=_date(message.get("date")), author_id=_author(message.get("from_id")),
        url=f"https://vk.com/gim{group_id}?sel={peer}", raw=raw)


def changes_from_event(event: dict) -> tuple[list[Post], list[str], str | None]:
    """One Long Poll / Callback event → (posts, deleted external ids, restored id).

    Unknown event types give nothing (VK adds types; they must not stop a source).
    """
    kind, obj = event.get("type"), event.get("object") or {}
    if not isinstance(obj, dict):
        raise ValueError(f"the event's object must be an object, not {type(obj).__name__}")
    group_id = platform_id(event.get("group_id") or 0, "group_id")
    source = f"vk:-{group_id}"
    if kind == "wall_post_new":
        return [post_from_wall(source, {**obj, "vk_event": kind})], [], None
    if kind in ("wall_reply_new", "wall_reply_edit", "wall_reply_restore"):
        owner = platform_id(obj.get("post_owner_id") or obj.get("owner_id") or -group_id,
                            "owner_id")
        post = post_from_comment(f"vk:{owner}", owner, {**obj, "vk_event": kind})
        return [post], [], post.external_id if kind == "wall_reply_restore" else None
    if kind == "wall_reply_delete":
        owner = platform_id(obj.get("owner_id") or -group_id, "owner_id")
        return [], [f"{owner}_{platform_id(obj['post_id'])}_{platform_id(obj['id'])}"], None
    if kind == "message_new":
        message = obj.get("message") or obj
        if not isinstance(message, dict):
            raise ValueError("the message must be an object")
        return [post_from_message(source, group_id, message)], [], None
    return [], [], None


def changes_from_events(events: list, where: str, group_id: int | None = None
                        ) -> tuple[list[Post], list[tuple[str, str]], list]:
    """Each event of a Long Poll answer or the callback inbox on its own: (posts, deleted
    (source key, external id) pairs, records.Rejected). `group_id` is the community whose
    Long Poll server answered: its events are its own, whatever they claim."""
    def one(event) -> tuple[list[Post], list[tuple[str, str]]]:
        if group_id is not None:
            event = {**event, "group_id": group_id}
        posts, deleted, _ = changes_from_event(event)
        return posts, [(f"vk:{ext.split('_')[0]}", ext) for ext in deleted]

    changes, rejected = each(events, where, one)
    return ([p for posts, _ in changes for p in posts],
            [d for _, deleted in changes for d in deleted], rejected)


def _text(text, item: dict) -> tuple[str, dict]:
    if text is not None and not isinstance(text, str):
        raise ValueError(f"text must be a string, not {type(text).__name__}")
    text = text or ""
    if len(text) > MAX_TEXT:
        return text[:MAX_TEXT] + " […]", {**item, "tsur_truncated_from": len(text)}
    return text, item


def _date(value) -> datetime:
    try:
        return datetime.fromtimestamp(platform_id(value, "date"), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        raise ValueError(f"VK item has no valid date: {value!r}") from None


def _author(value) -> str | None:
    return f"vk:{platform_id(value, 'from_id')}" if value not in (None, "") else None
