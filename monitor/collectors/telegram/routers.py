"""One aiogram Router per kind of update; each handler turns a message into a Post.

Handlers receive the `sink` of the step being read (injected through feed_update) and
only append to it: a collector never writes to the database, the runner hands the
sink's posts to ingest together with the new offset.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import Message

from monitor.catalog.channels import message_url
from monitor.collectors.records import platform_id
from monitor.ingest.post import Post

MAX_TEXT = 100_000
GROUPS = {"group", "supergroup"}


class Sink:
    """The posts of one step; `bot_source` is where private messages belong."""

    def __init__(self, bot_source: str):
        self.bot_source = bot_source
        self.posts: list[Post] = []
        self.names: dict[str, str] = {}  # source key → chat title, for new sources
        self.rejected: list = []  # records.Rejected: updates left out, and why

    def add(self, message: Message, event: str) -> None:
        post = post_from_message(message, self.bot_source, event)
        self.posts.append(post)
        title = message.chat.title or message.chat.full_name
        if title and post.source != self.bot_source:
            self.names[post.source] = title


def channel_router() -> Router:
    """The bot as administrator of a channel: posts and their edits."""
    router = Router(name="channel_posts")

    @router.channel_post()
    async def channel_post(message: Message, sink: Sink) -> None:
        sink.add(message, "channel_post")

    @router.edited_channel_post()
    async def edited_channel_post(message: Message, sink: Sink) -> None:
        sink.add(message, "edited_channel_post")

    return router


def chat_router() -> Router:
    """The bot in a discussion group or city chat (privacy mode off, or administrator).

    The copy of a channel post a discussion group receives (is_automatic_forward) and
    messages of bots (our own replies included) are not residents' messages.
    """
    router = Router(name="chats")
    residents = (F.chat.type.in_(GROUPS), ~F.is_automatic_forward, ~F.from_user.is_bot)

    @router.message(*residents)
    async def message(message: Message, sink: Sink) -> None:
        sink.add(message, "message")

    @router.edited_message(*residents)
    async def edited_message(message: Message, sink: Sink) -> None:
        sink.add(message, "edited_message")

    return router


def private_router() -> Router:
    """Residents writing to the bot directly."""
    router = Router(name="private")

    @router.message(F.chat.type == "private")
    async def private_message(message: Message, sink: Sink) -> None:
        sink.add(message, "private_message")

    @router.edited_message(F.chat.type == "private")
    async def edited_private_message(message: Message, sink: Sink) -> None:
        sink.add(message, "edited_private_message")

    return router


def routers() -> list[Router]:
    """Fresh routers (a router belongs to one dispatcher)."""
    return [channel_router(), chat_router(), private_router()]


def post_from_message(message: Message, bot_source: str, event: str) -> Post:
    chat = message.chat
    private = chat.type == "private"
    chat_id, message_id = platform_id(chat.id, "chat.id"), platform_id(message.message_id)
    source = bot_source if private else f"telegram:{chat_id}"
    text = message.text or message.caption or ""
    raw = message.model_dump(mode="json", exclude_none=True)
    raw["tsur_event"] = event
    if len(text) > MAX_TEXT:
        raw["tsur_truncated_from"] = len(text)
        text = text[:MAX_TEXT] + " […]"
    if message.from_user and not message.sender_chat:
        author_id, author_name = f"tg:{message.from_user.id}", message.from_user.full_name
    elif message.sender_chat:
        author_id, author_name = f"tg:{message.sender_chat.id}", message.sender_chat.title
    else:
        author_id = author_name = None
    reply = message.reply_to_message
    return Post(
        source=source, external_id=f"{chat_id}_{message_id}", channel="telegram",
        text=text, created_at=message.date, author_id=author_id, author_name=author_name,
        url=None if private else message_url(chat_id, chat.username, message_id),
        parent_id=f"{chat_id}_{platform_id(reply.message_id)}" if reply else None, raw=raw)
