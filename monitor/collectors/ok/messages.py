"""Messages residents write to an OK group (the group Bot API), pushed to the web app.

OK posts every new message of the group's chats to the webhook subscribed with
`graph/me/subscribe` (the group's token); /ok/webhook/<secret> stores it in the callback
inbox before answering 200, and `tsur collect` turns the stored ones into Posts here.
A message is {sender {user_id "user:…"}, recipient {chat_id "chat:…"}, message {text,
seq, mid "mid:…"}, timestamp (ms)}; its external id is `<chat_id>_<mid>`, so a reply
knows its chat. Messages of the group itself (our replies) are not pushed by OK.
"""

from __future__ import annotations

from datetime import UTC, datetime

from monitor.collectors.records import each, platform_id
from monitor.ingest.post import Post

from .convert import MAX_TEXT

SOURCE = "ok:messages"


class GroupMessages:
    """The group's chats, read from the callback inbox (platform `ok`)."""

    inbox = "ok"

    async def from_inbox(self, payloads: list[dict]) -> tuple[list[Post], list, list]:
        """(posts, deletions, records.Rejected): each message on its own."""
        posts, rejected = each(payloads, "OK group messages", post_from_message)
        return posts, [], rejected


def post_from_message(payload: dict) -> Post:
    chat, message = payload["recipient"]["chat_id"], payload["message"]
    text = message.get("text") or ""
    raw = dict(payload)
    if len(text) > MAX_TEXT:
        raw["tsur_truncated_from"] = len(text)
        text = text[:MAX_TEXT] + " […]"
    user = (payload.get("sender") or {}).get("user_id") or ""
    return Post(
        source=SOURCE, external_id=f"{chat}_{message['mid']}", channel="ok_message", text=text,
        created_at=datetime.fromtimestamp(platform_id(payload["timestamp"]) / 1000, UTC),
        author_id=f"ok:{user.split(':', 1)[-1]}" if user else None,
        author_name=(payload.get("sender") or {}).get("name"), raw=raw)
