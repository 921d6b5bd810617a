"""What the reply tests of every platform check the same way."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

import httpx
import pytest

from monitor.catalog.organisations import sync_from_settings
from monitor.collectors.runner import Runner
from monitor.context import Context
from monitor.replies import publish_one, run_once
from monitor.store import open_db
from tests.fakes.telegram import FakeTelegram
from tests.fakes.vk import FakeVK

# Дзержинск's community on the loopback VK, and a Telegram group, as the reply tests use them.
DZR_WALL, DZR_GROUP, VK_TOKEN = -100003, 100003, "dzr-community-token"
TG_CHAT = -1001000000008


@pytest.fixture
def vk():
    """The loopback VK with Дзержинск's community token (import the fixture by name)."""
    with FakeVK() as server:
        server.add_token(VK_TOKEN, "community", group_id=DZR_GROUP)
        yield server


@pytest.fixture
def tg():
    """The loopback Telegram Bot API."""
    with FakeTelegram() as server:
        yield server


def platform_context(settings, clock, pipeline, environ: dict,
                     token_envs: dict[str, str] | None = None) -> Iterator[Context]:
    """The demo configuration with a platform's variables (a fixture's body);
    `token_envs`: organisation key → the variable naming its VK community token."""
    orgs = tuple(replace(o, vk_token_env=(token_envs or {}).get(o.key, o.vk_token_env))
                 for o in settings.organisations)
    s = replace(settings, environ=environ, organisations=orgs)
    db = open_db(s.database)
    sync_from_settings(db, s, clock.now())
    yield Context(db, s, clock, pipeline)
    db.close()


def collected_incident_id(ctx, external_id: str) -> int:
    """Collect once; the incident the post `external_id` opened."""
    asyncio.run(Runner(ctx, once=True).run())
    row = next(ctx.db.query(
        "SELECT i.id FROM incidents i JOIN posts p ON p.id = i.post_id WHERE p.external_id = ?",
        [external_id]))
    return row["id"]


def reply(ctx, incident_id) -> dict:
    """The incident's newest outbox row."""
    return list(ctx.db["outbox"].rows_where("audience = 'resident' AND incident_id = ?", [incident_id],
                                                  order_by="id desc", limit=1))[0]


def lose_the_answer(ctx, fake, method: str, sent: Callable[[], int]) -> None:
    """The platform takes the reply but answers after the publisher stopped waiting; the
    publisher runs again. `sent()` counts what the platform has received."""
    fake.inject(method, "slow", 1.0)
    with httpx.Client(timeout=0.3) as impatient:
        publish_one(ctx, impatient)
    deadline = time.monotonic() + 5
    while not sent() and time.monotonic() < deadline:
        time.sleep(0.05)
    with httpx.Client(timeout=5) as client:
        run_once(ctx, client)
