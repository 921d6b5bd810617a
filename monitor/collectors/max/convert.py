"""MAX updates → Posts, deletions and chat titles.

A message is `<chat_id>_<mid>`: `mid` names the message for the API (replies link to it),
the chat id says where to send a reply. Dialogs (residents writing to the bot) belong
to the bot's own source; group chats and channels to `max:<chat_id>`. A removed
message names its chat but not the chat's type, so its deletion is addressed to both
(a key with no such post changes nothing). Messages of bots, ours included, are not
residents' messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from monitor.collectors.records import platform_id
from monitor.ingest.post import Post

MAX_TEXT = 100_000
PLATFORM = "max"
MESSAGES = ("message_created", "message_edited", "comment_created", "comment_edited")
REMOVALS = ("message_removed", "comment_removed")
UPDATE_TYPES = MESSAGES + REMOVALS + ("bot_added", "chat_title_changed")


@dataclass
class Changes:
    posts: list[Post] = field(default_factory=list)
    deleted: list[tuple[str, str]] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # source key → chat title
    rejected: list = field(default_factory=list)  # records.Rejected: updates left out


def chat_source(chat_id, bot_source: str, chat_type: str | None) -> str:
    return bot_source if chat_type == "dialog" else f"{PLATFORM}:{platform_id(chat_id, 'chat_id')}"


def changes_from_updates(updates: list[dict], bot_source: str) -> Changes:
    """Unknown update types give nothing (the API adds types; they must not stop the bot)."""
    changes = Changes()
    for update in updates:
        kind = update.get("update_type")
        if kind in MESSAGES:
            message = update.get("message") or {}
            if (message.get("sender") or {}).get("is_bot"):
                continue
            changes.posts.append(post_from_message(message, bot_source, kind))
        elif kind in REMOVALS:
            chat_id, mid = platform_id(update["chat_id"], "chat_id"), _mid(update["message_id"])
            changes.deleted += [(f"{PLATFORM}:{chat_id}", f"{chat_id}_{mid}"),
                                (bot_source, f"{chat_id}_{mid}")]
        elif kind in ("bot_added", "chat_title_changed") and isinstance(update.get("title"), str):
            changes.names[f"{PLATFORM}:{platform_id(update['chat_id'], 'chat_id')}"] = update["title"]
    return changes


def post_from_message(message: dict, bot_source: str, kind: str) -> Post:
    recipient, body = message["recipient"], message["body"]
    chat_id = platform_id(recipient["chat_id"], "chat_id")
    text = body.get("text") or ""
    if not isinstance(text, str):
        raise ValueError(f"text must be a string, not {type(text).__name__}")
    raw = {**message, "tsur_event": kind}
    if len(text) > MAX_TEXT:
        raw["tsur_truncated_from"] = len(text)
        text = text[:MAX_TEXT] + " […]"
    sender = message.get("sender") or {}
    name = " ".join(filter(None, (sender.get("first_name"), sender.get("last_name"))))
    link = message.get("link") or {}
    parent = None
    if link.get("type") == "reply" and (link.get("message") or {}).get("mid"):
        parent = f"{platform_id(link.get('chat_id') or chat_id)}_{_mid(link['message']['mid'])}"
    elif recipient.get("post_id"):  # a comment under a channel post
        parent = f"{chat_id}_{_mid(recipient['post_id'])}"
    return Post(
        source=chat_source(chat_id, bot_source, recipient.get("chat_type")),
        external_id=f"{chat_id}_{_mid(body['mid'])}", channel=PLATFORM, text=text,
        created_at=_date(message.get("timestamp")),
        author_id=f"max:{platform_id(sender['user_id'])}" if sender.get("user_id") else None,
        author_name=name or None, url=message.get("url"), parent_id=parent, raw=raw)


def _mid(value) -> str:
    """A message id (`mid.…` text, or a number) as text; anything else is malformed."""
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        raise ValueError(f"a message id must be text, not {type(value).__name__}")
    if isinstance(value, int):
        return str(platform_id(value))
    if len(value) > 200:
        raise ValueError("a message id of more than 200 characters")
    return value


def _date(value) -> datetime:
    """MAX times are milliseconds since the epoch, UTC."""
    try:
        return datetime.fromtimestamp(platform_id(value) / 1000, UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        raise ValueError(f"MAX message has no valid timestamp: {value!r}") from None
