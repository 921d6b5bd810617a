"""Replies to MAX messages through the loopback MAX Bot API: once, honest states."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest

from monitor.clock import iso
from monitor.collectors.runner import Runner
from monitor.incidents.lifecycle import act
from monitor.replies import publish_one, run_once
from tests.fakes.max import FakeMax
from tests.replying import collected_incident_id, lose_the_answer, platform_context, reply

HOUSE = -70005


@pytest.fixture
def mx(clock):
    with FakeMax(now=lambda: int(clock.now().timestamp())) as server:
        yield server


@pytest.fixture
def mctx(settings, clock, mx, pipeline):
    yield from platform_context(settings, clock, pipeline,
                                {"TSUR_MAX_API_URL": mx.url, "TSUR_MAX_BOT_TOKEN": mx.token})


@pytest.fixture
def client():
    with httpx.Client(timeout=httpx.Timeout(5.0, connect=2.0)) as c:
        yield c


def collected_incident(ctx, mx, text="Третий день нет горячей воды в доме 5 на Гайдара",
                       dialog=False) -> tuple[int, dict]:
    """A resident's message read by the collector; the incident it opened."""
    message = mx.dialog(9001, text) if dialog else mx.chat_message(HOUSE, text)
    external_id = f"{message['recipient']['chat_id']}_{message['body']['mid']}"
    return collected_incident_id(ctx, external_id), message


def test_a_reply_links_to_the_residents_message_and_is_published_once(mctx, mx, client):
    i, message = collected_incident(mctx, mx)
    act(mctx, i, "acknowledge", "moderator", text="<b>Здравствуйте!</b> Передали в УК.")
    mctx.clock.advance(timedelta(minutes=2))
    run_once(mctx, client)
    run_once(mctx, client)
    [(query, body)] = mx.sent
    assert int(query["chat_id"]) == HOUSE
    assert body["link"] == {"type": "reply", "mid": message["body"]["mid"]}
    assert body["text"] == "<b>Здравствуйте!</b> Передали в УК." and "format" not in body
    row = reply(mctx, i)
    assert row["status"] == "published" and row["account"] == "max:bot"
    assert row["external_id"].startswith(f"{HOUSE}_mid.")
    assert mctx.db["incidents"].get(i)["first_reply_at"] == iso(mctx.clock.now())
    # the bot's own message comes back as an update and is not taken for a resident's
    mx.queue({"update_type": "message_created", "message": mx.messages[
        row["external_id"].split("_", 1)[1]]})
    assert asyncio.run(Runner(mctx, once=True).run()).ingested.stored == 0


def test_a_dialog_is_answered_in_the_dialog(mctx, mx, client):
    i, message = collected_incident(mctx, mx, "Яма во дворе на Гагарина 3, машины бьются",
                                    dialog=True)
    act(mctx, i, "acknowledge", "moderator", text="Передали в администрацию.")
    run_once(mctx, client)
    [(query, body)] = mx.sent
    assert int(query["chat_id"]) == message["recipient"]["chat_id"]
    assert reply(mctx, i)["status"] == "published"


@pytest.mark.parametrize("break_it, failure, reason", [
    ("removed", "deleted", "MAX 404"),
    ("token", "token", "MAX 401"),
    ("kicked", "access", "MAX 403"),
])
def test_a_failure_is_stored_with_the_platforms_reason(mctx, mx, client, break_it, failure,
                                                       reason):
    i, message = collected_incident(mctx, mx)
    act(mctx, i, "acknowledge", "moderator", text="Передали.")
    if break_it == "removed":
        mx.remove(message)  # gone on MAX, not yet collected
    elif break_it == "token":
        mx.revoked = True
    else:
        mx.inject("messages", "error", 403)
    publish_one(mctx, client)
    row = reply(mctx, i)
    assert (row["status"], row["failure"]) == ("failed", failure)
    assert row["error"].startswith(reason)
    assert mx.sent == [] and mctx.db["incidents"].get(i)["first_reply_at"] is None


def test_too_many_requests_and_server_errors_are_retried_later(mctx, mx, client):
    i, _ = collected_incident(mctx, mx)
    act(mctx, i, "acknowledge", "moderator", text="Передали.")
    mx.inject("messages", "error", 429, extra={"retry_after": 30})
    publish_one(mctx, client)
    row = reply(mctx, i)
    assert (row["status"], row["failure"]) == ("pending", "rate_limited")
    assert row["not_before"] == iso(mctx.clock.now() + timedelta(seconds=30))
    mctx.clock.advance(timedelta(seconds=31))
    mx.inject("messages", "error", 503)
    publish_one(mctx, client)
    assert reply(mctx, i)["failure"] == "server"
    mctx.clock.advance(timedelta(minutes=10))
    publish_one(mctx, client)
    assert reply(mctx, i)["status"] == "published" and len(mx.sent) == 1


def test_a_lost_answer_is_unknown_and_never_sent_again(mctx, mx):
    i, _ = collected_incident(mctx, mx)
    act(mctx, i, "acknowledge", "moderator", text="Передали.")
    lose_the_answer(mctx, mx, "messages", lambda: len(mx.sent))
    assert len(mx.sent) == 1 and reply(mctx, i)["status"] == "unknown"


def test_a_text_longer_than_max_takes_is_refused_before_sending(mctx, mx, client):
    i, _ = collected_incident(mctx, mx)
    act(mctx, i, "acknowledge", "moderator", text="Ответ. " * 700)
    publish_one(mctx, client)
    assert reply(mctx, i)["failure"] == "too_long" and not mx.calls("messages")
