"""The bot's update stream: long polling by default, the webhook inbox as an option.

One bot serves every channel and chat it is in, so the stream has one cursor (the
getUpdates offset) kept on the bot's own source (`telegram:bot`), while each post
goes to the source of its chat. Passing offset = last update_id + 1 confirms the
updates before it; the offset is stored with the posts, so updates read but not
stored are delivered again after a restart and stored then (nothing lost), and a
re-delivered one is a harmless duplicate.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    AiogramError,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.methods import GetUpdates
from aiogram.types import Update

from monitor.collectors.base import Batch, SourceError
from monitor.collectors.records import MALFORMED, Rejected, number, reason
from monitor.ingest.lines import without_surrogates

from .routers import Sink, routers

BOT_SOURCE = "telegram:bot"
ALLOWED_UPDATES = ["message", "edited_message", "channel_post", "edited_channel_post"]
PAGE = 100  # getUpdates returns at most 100


class RawGetUpdates(GetUpdates):
    """getUpdates answering plain JSON objects: aiogram would validate the whole list at
    once, and one malformed update would fail the answer (and every step after it)."""

    __returning__ = list[Any]


def _update_id(payload) -> int | None:
    return number(payload.get("update_id")) or None if isinstance(payload, dict) else None


class TelegramCollector:
    interval = 0.0  # getUpdates waits on the server

    def __init__(self, token: str, api_url: str, *, source_key: str = BOT_SOURCE,
                 wait: int = 25):
        self.source_key, self.wait = source_key, wait
        session = AiohttpSession(api=TelegramAPIServer.from_base(api_url))
        self.bot = Bot(token, session=session)
        self.dispatcher = Dispatcher()
        self.dispatcher.include_routers(*routers())

    async def step(self, cursor: dict | None) -> Batch:
        offset = (cursor or {}).get("offset")
        payloads = await self.call(self.bot(RawGetUpdates(
            offset=offset, limit=PAGE, timeout=self.wait, allowed_updates=ALLOWED_UPDATES),
            request_timeout=self.wait + 10))
        sink = await self.feed_raw(payloads)
        ids = [number(p.get("update_id")) for p in payloads if isinstance(p, dict)]
        next_offset = max(ids) + 1 if any(ids) else offset
        batch = Batch(posts=sink.posts, cursor={"offset": next_offset},
                      more=len(payloads) >= PAGE, rejected=sink.rejected)
        batch.names = sink.names  # chat titles for sources seen for the first time
        return batch

    async def feed_raw(self, payloads: list) -> Sink:
        """Updates as JSON objects (getUpdates, the webhook inbox), each validated and fed
        on its own: a malformed one is left out with its place and reason."""
        sink = Sink(self.source_key)
        for number_in_answer, payload in enumerate(payloads, 1):
            where = f"Telegram update {_update_id(payload) or f'#{number_in_answer}'}"
            try:
                update = Update.model_validate(without_surrogates(payload),
                                               context={"bot": self.bot})
                await self.dispatcher.feed_update(self.bot, update, sink=sink)
            except MALFORMED as error:
                sink.rejected.append(Rejected(where, reason(error)))
        return sink

    async def set_webhook(self, url: str, secret: str) -> None:
        await self.call(self.bot.set_webhook(url, secret_token=secret,
                                             allowed_updates=ALLOWED_UPDATES))

    async def delete_webhook(self) -> None:
        """getUpdates and a webhook exclude each other; polling starts by removing it."""
        await self.call(self.bot.delete_webhook(drop_pending_updates=False))

    async def call(self, request):
        try:
            return await request
        except TelegramRetryAfter as error:
            raise SourceError(f"Telegram: too many requests, retry after {error.retry_after} s",
                              "retry", retry_after=float(error.retry_after), code=429) from None
        except TelegramUnauthorizedError:
            raise SourceError("Telegram: the bot token was refused (401 Unauthorized) — "
                              "check TSUR_TELEGRAM_BOT_TOKEN", "auth", code=401) from None
        except TelegramConflictError as error:
            raise SourceError(f"Telegram: {error.message} (another tsur collect, or a webhook, "
                              "reads this bot)", "retry", retry_after=60, code=409) from None
        except TelegramForbiddenError as error:
            raise SourceError(f"Telegram: {error.message}", "access", code=403) from None
        except AiogramError as error:  # network, 5xx, a body that is not JSON…
            raise SourceError(f"Telegram: {type(error).__name__}: {error}", "retry") from None
        except (TimeoutError, aiohttp.ClientError) as error:
            raise SourceError(f"Telegram: {type(error).__name__}: {error}", "retry") from None

    async def close(self) -> None:
        await self.bot.session.close()
