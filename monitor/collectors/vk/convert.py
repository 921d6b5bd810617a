"""VK objects (wall posts, comments, Long Poll and Callback events) → Posts.

External ids follow the demo stream: a post is `<owner>_<post>`, a comment
`<owner>_<post>_<comment>` whose parent is its post, or the comment it answers in a
thread. The same object read by polling, Long Poll or Callback gets the same id, so
whichever arrives second is a harmless duplicate.
"""

from __future__ import annotations

from datetime import UTC, datetime

from monitor.ingest.post import Post

MAX_TEXT = 100_000  # characters labelled and shown; the full text stays in `raw`


def post_from_wall(source: str, item: dict) -> Post:
    owner, post_id = int(item["owner_id"]), int(item["id"])
    text, raw = _text(item.get("text"), item)
    return Post(
        source=source, external_id=f"{owner}_{post_id}", channel="vk_post", text=text,
        created_at=_date(item.get("date")), author_id=_author(item.get("from_id") or owner),
        url=f"https://vk.com/wall{owner}_{post_id}", raw=raw)


def post_from_comment(source: str, owner: int, item: dict) -> Post:
    post_id, comment_id = int(item["post_id"]), int(item["id"])
    stack = item.get("parents_stack") or []
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
    peer = int(message.get("peer_id") or message.get("from_id"))
    text, raw = _text(message.get("text"), {**message, "vk_event": "message_new"})
    return Post(
        source=source, external_id=f"msg{peer}_{int(message['id'])}", channel="vk_comment",
        text=text, created_at=_date(message.get("date")), author_id=_author(message.get("from_id")),
        url=f"https://vk.com/gim{group_id}?sel={peer}", raw=raw)


def changes_from_event(event: dict) -> tuple[list[Post], list[str], str | None]:
    """One Long Poll / Callback event → (posts, deleted external ids, restored id).

    Unknown event types give nothing (VK adds types; they must not stop a source).
    """
    kind, obj = event.get("type"), event.get("object") or {}
    group_id = int(event.get("group_id") or 0)
    source = f"vk:-{group_id}"
    if kind == "wall_post_new":
        return [post_from_wall(source, {**obj, "vk_event": kind})], [], None
    if kind in ("wall_reply_new", "wall_reply_edit", "wall_reply_restore"):
        owner = int(obj.get("post_owner_id") or obj.get("owner_id") or -group_id)
        post = post_from_comment(f"vk:{owner}", owner, {**obj, "vk_event": kind})
        return [post], [], post.external_id if kind == "wall_reply_restore" else None
    if kind == "wall_reply_delete":
        owner = int(obj.get("owner_id") or -group_id)
        return [], [f"{owner}_{int(obj['post_id'])}_{int(obj['id'])}"], None
    if kind == "message_new":
        message = obj.get("message") or obj
        return [post_from_message(source, group_id, message)], [], None
    return [], [], None


def _text(text, item: dict) -> tuple[str, dict]:
    text = text if isinstance(text, str) else ""
    if len(text) > MAX_TEXT:
        return text[:MAX_TEXT] + " […]", {**item, "tsur_truncated_from": len(text)}
    return text, item


def _date(value) -> datetime:
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        raise ValueError(f"VK item has no valid date: {value!r}") from None


def _author(value) -> str | None:
    return f"vk:{int(value)}" if value not in (None, "") else None
