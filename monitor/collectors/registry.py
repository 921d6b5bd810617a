"""Which collector reads which source, with which token.

- `vk:<owner>`: an official community whose organisation has a community token
  (Organisation.vk_token_env) → Bots Long Poll, plus wall sweeps with TSUR_VK_TOKEN;
  any other wall → polling with TSUR_VK_TOKEN.
- `vk:search:<query>` → newsfeed.search with TSUR_VK_TOKEN.
- `telegram:*` → one stream for the bot (TSUR_TELEGRAM_BOT_TOKEN): long polling, or the
  webhook inbox when TSUR_TELEGRAM_WEBHOOK_URL is set.
- `tgweb:<channel>` → monitor.collectors.tgweb.make_collector (a separate module).
- `ok:messages` → what residents write to the group's chats (the group Bot API pushes
  it to /ok/webhook/<secret>; TSUR_OK_GROUP_TOKEN and TSUR_OK_WEBHOOK_SECRET), read from
  the inbox.
- `ok:<group id>` → the group's topics and comments (monitor.collectors.ok) with the
  application's keys and a session from TSUR_OK_APPLICATION_KEY,
  TSUR_OK_APPLICATION_SECRET_KEY and TSUR_OK_ACCESS_TOKEN.
- `max:*` → one stream for the MAX bot (TSUR_MAX_BOT_TOKEN): long polling, or the
  webhook inbox when TSUR_MAX_WEBHOOK_URL is set.
- events pushed to the web app (VK Callback API) → the inbox.
A source that cannot be read gets a Plan with a `problem` instead of a collector.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass

from monitor.settings import Settings

from .max import BOT_SOURCE as MAX_BOT_SOURCE
from .max import MaxCollector
from .ok import GroupCollector, OkClient
from .ok.client import ENV as OK_ENV
from .ok.messages import SOURCE as OK_MESSAGES_SOURCE
from .ok.messages import GroupMessages
from .vk.client import VkClient
from .vk.longpoll import LongPollCollector
from .vk.search import SearchCollector
from .vk.wall import WallCollector, wall_options

VK_CALLBACK_SOURCE = "vk:callback"
TELEGRAM_WEBHOOK_SOURCE = "telegram:webhook"
MAX_WEBHOOK_SOURCE = "max:webhook"


class CollectorUnavailable(Exception):
    """No collector can read this source as configured; the message says what is missing."""


@dataclass
class Plan:
    key: str
    name: str
    collector: object | None = None
    problem: str | None = None


def build(rows: list[dict], settings: Settings, clock, *, once: bool = False) -> list[Plan]:
    """A Plan per active source, plus the shared streams (Telegram bot, callback inbox)."""
    clients: dict[tuple[str, str], VkClient] = {}
    api_url = settings.secret("TSUR_VK_API_URL")

    def vk_client(token: str, kind: str) -> VkClient:
        if (token, kind) not in clients:
            clients[(token, kind)] = VkClient(token, kind, api_url, clock=clock)
        return clients[(token, kind)]

    walls = {int(r["external_id"]) for r in rows
             if r["platform"] == "vk" and _is_int(r.get("external_id"))}
    plans = []
    for row in rows:
        if row["platform"] in ("telegram", "max") or row["key"] in (VK_CALLBACK_SOURCE,
                                                                     OK_MESSAGES_SOURCE):
            continue  # read through the bot streams / the inbox below
        try:
            if row["platform"] == "vk":
                collector = _vk(row, settings, clock, vk_client, walls, once)
            elif row["platform"] == "tgweb":
                collector = _tgweb(row, settings)
            elif row["platform"] == "ok":
                collector = _ok(row, settings, clients)
            else:
                continue
            plans.append(Plan(row["key"], row["name"], collector))
        except CollectorUnavailable as problem:
            plans.append(Plan(row["key"], row["name"], problem=str(problem)))
    plans.append(Plan(VK_CALLBACK_SOURCE, "VK Callback API (events pushed to /vk/callback)"))
    token = settings.secret("TSUR_TELEGRAM_BOT_TOKEN")
    if token:
        # Lazy on purpose (declared in tests/test_architecture.py): aiogram takes seconds to
        # import, and only a configured bot needs it.
        from .telegram import BOT_SOURCE, TelegramCollector

        collector = TelegramCollector(token, settings.secret("TSUR_TELEGRAM_API_URL"),
                                      wait=0 if once else 25)
        if settings.secret("TSUR_TELEGRAM_WEBHOOK_URL"):
            plans.append(Plan(TELEGRAM_WEBHOOK_SOURCE, "Telegram webhook (updates pushed to "
                              "/telegram/webhook)", collector))
        else:
            plans.append(Plan(BOT_SOURCE, "Telegram bot (private messages)", collector))
    elif any(r["platform"] == "telegram" for r in rows):
        plans.append(Plan("telegram:bot", "Telegram bot (private messages)",
                          problem="Telegram sources need TSUR_TELEGRAM_BOT_TOKEN (a bot from "
                                  "@BotFather, added to the channels and chats)"))
    plans += _max(rows, settings, once)
    if settings.secret("TSUR_OK_GROUP_TOKEN") and settings.secret("TSUR_OK_WEBHOOK_SECRET"):
        plans.append(Plan(OK_MESSAGES_SOURCE, "OK group messages (pushed to /ok/webhook/…)",
                          GroupMessages()))
    return plans


def _max(rows, settings, once) -> list[Plan]:
    token = settings.secret("TSUR_MAX_BOT_TOKEN")
    if not token:
        if any(r["platform"] == "max" for r in rows):
            return [Plan(MAX_BOT_SOURCE, "MAX bot (dialogs)", problem=(
                "MAX sources need TSUR_MAX_BOT_TOKEN (a bot made on business.max.ru, an "
                "administrator of the chats with the right to read all messages)"))]
        return []
    pushed = bool(settings.secret("TSUR_MAX_WEBHOOK_URL"))
    collector = MaxCollector(token, settings.secret("TSUR_MAX_API_URL"), wait=0 if once else 30,
                             pushed=pushed)
    if pushed:
        return [Plan(MAX_WEBHOOK_SOURCE, "MAX webhook (updates pushed to /max/webhook)",
                     collector)]
    return [Plan(MAX_BOT_SOURCE, "MAX bot (dialogs)", collector)]


def _vk(row, settings, clock, vk_client, walls, once):
    user_token = settings.secret("TSUR_VK_TOKEN")
    key = row["key"]
    if key.startswith("vk:search:"):
        if not user_token:
            raise CollectorUnavailable("VK search needs TSUR_VK_TOKEN (a user token; service "
                                       "tokens cannot call newsfeed.search)")
        options = json.loads(row.get("options") or "{}")
        return SearchCollector(key, options.get("query") or key[len("vk:search:"):],
                               vk_client(user_token, "user"), clock, skip_owners=walls)
    if not _is_int(row.get("external_id")):
        raise CollectorUnavailable(f"{key}: not a VK owner id")
    owner = int(row["external_id"])
    wall = WallCollector(key, owner, vk_client(user_token, "user"), options=wall_options(settings),
                         clock=clock) if user_token else None
    org = settings.organisation(row.get("organisation_key"))
    community_token = settings.secret(org.vk_token_env) if org and org.vk_token_env else None
    if row["role"] == "official" and community_token and owner < 0:
        return LongPollCollector(key, -owner, vk_client(community_token, "community"), clock,
                                 wall=wall, wait=0 if once else 25)
    if wall is None:
        raise CollectorUnavailable("VK walls need TSUR_VK_TOKEN (a user or service token)"
                                   + (f", or {org.vk_token_env} for the community's Long Poll"
                                      if org and org.vk_token_env else ""))
    return wall


def _ok(row, settings, clients) -> GroupCollector:
    keys = [settings.secret(name) for name in OK_ENV]
    if not all(keys):
        raise CollectorUnavailable("Одноклассники groups need " + ", ".join(
            name for name, value in zip(OK_ENV, keys, strict=True) if not value)
            + " (an OK application and a session of a group administrator)")
    if not row["external_id"].isdigit():
        raise CollectorUnavailable(f"{row['key']}: not an OK group id")
    if ("ok",) not in clients:
        clients[("ok",)] = OkClient(settings.secret("TSUR_OK_API_URL"), *keys)
    return GroupCollector(row["key"], row["external_id"], clients[("ok",)])


def _tgweb(row, settings):
    try:
        module = importlib.import_module("monitor.collectors.tgweb")
    except ImportError as error:
        raise CollectorUnavailable(f"the tgweb collector (monitor/collectors/tgweb) is not "
                                   f"available: {error}") from None
    make = getattr(module, "make_collector", None)
    if make is None:
        raise CollectorUnavailable("monitor.collectors.tgweb has no make_collector(source, settings)")
    return make(row, settings)


def _is_int(value) -> bool:
    try:
        int(value)
        return True
    except (TypeError, ValueError):
        return False
