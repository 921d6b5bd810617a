"""Replies to Одноклассники comments through the loopback OK REST API."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import httpx
import pytest

from monitor.clock import iso
from monitor.collectors.runner import Runner
from monitor.incidents.lifecycle import act
from monitor.replies import publish_one, run_once
from tests.fakes.ok import FakeOK
from tests.replying import collected_incident_id, lose_the_answer, platform_context, reply

GROUP = "53038939046008"


@pytest.fixture
def ok(clock):
    with FakeOK(now=lambda: int(clock.now().timestamp())) as server:
        yield server


@pytest.fixture
def octx(settings, clock, ok, pipeline):  # the demo configuration declares the page
    yield from platform_context(settings, clock, pipeline, {"TSUR_OK_API_URL": ok.url, **ok.env})


@pytest.fixture
def client():
    with httpx.Client(timeout=httpx.Timeout(5.0, connect=2.0)) as c:
        yield c


def collected_incident(ctx, ok, text="Третий день нет горячей воды на Гайдара 12, дети мёрзнут"):
    topic = ok.topic(GROUP, "Плановые отключения воды")
    comment = ok.comment(topic["id"], text)
    return collected_incident_id(ctx, f"{GROUP}_{topic['id']}_{comment['id']}"), topic, comment


def test_a_reply_is_a_signed_comment_of_the_group_under_the_same_topic_published_once(
        octx, ok, client):
    i, topic, comment = collected_incident(octx, ok)
    act(octx, i, "acknowledge", "moderator", text="Здравствуйте! Передали в Водоканал.")
    octx.clock.advance(timedelta(minutes=2))
    run_once(octx, client)
    run_once(octx, client)
    [posted] = ok.posted
    assert posted["entityId"] == topic["id"] and posted["entityType"] == "GROUP_TOPIC"
    assert posted["reply_to_comment_id"] == comment["id"]
    assert posted["comment"] == "Здравствуйте! Передали в Водоканал."
    assert posted["as_admin"] == "true" and posted["sig"]
    row = reply(octx, i)
    assert row["status"] == "published" and row["account"] == f"ok:{GROUP}"
    assert row["url"] == f"https://ok.ru/group/{GROUP}/topic/{topic['id']}"
    assert octx.db["incidents"].get(i)["first_reply_at"] == iso(octx.clock.now())
    # our own comment comes back with the topic's comments and is not a resident's
    assert asyncio.run(Runner(octx, once=True).run()).ingested.stored == 0


@pytest.mark.parametrize("break_it, failure, reason", [
    ("closed", "comments_closed", "OK error 10"),
    ("expired", "token", "OK error 102"),
])
def test_a_failure_is_stored_with_oks_reason(octx, ok, client, break_it, failure, reason):
    i, topic, _ = collected_incident(octx, ok)
    act(octx, i, "acknowledge", "moderator", text="Передали.")
    if break_it == "closed":
        ok.closed.add(topic["id"])
    else:
        ok.expired = True
    publish_one(octx, client)
    row = reply(octx, i)
    assert (row["status"], row["failure"]) == ("failed", failure)
    assert row["error"].startswith(reason) and ok.posted == []


def test_missing_application_keys_fail_with_what_to_set(octx, ok, client):
    i, _, _ = collected_incident(octx, ok)
    act(octx, i, "acknowledge", "moderator", text="Передали.")
    octx.settings = replace(octx.settings, environ={
        k: v for k, v in octx.settings.environ.items() if k != "TSUR_OK_APPLICATION_SECRET_KEY"})
    publish_one(octx, client)
    row = reply(octx, i)
    assert row["failure"] == "no_token" and "TSUR_OK_APPLICATION_SECRET_KEY" in row["error"]


def test_flood_control_is_retried_later(octx, ok, client):
    i, _, _ = collected_incident(octx, ok)
    act(octx, i, "acknowledge", "moderator", text="Передали.")
    ok.inject("discussions.addDiscussionComment", "error", 8)
    publish_one(octx, client)
    row = reply(octx, i)
    assert (row["status"], row["failure"]) == ("pending", "rate_limited")
    octx.clock.advance(timedelta(minutes=2))
    publish_one(octx, client)
    assert reply(octx, i)["status"] == "published" and len(ok.posted) == 1


def test_a_lost_answer_is_unknown_and_never_sent_again(octx, ok):
    i, _, _ = collected_incident(octx, ok)
    act(octx, i, "acknowledge", "moderator", text="Передали.")
    lose_the_answer(octx, ok, "discussions.addDiscussionComment", lambda: len(ok.posted))
    assert len(ok.posted) == 1 and reply(octx, i)["status"] == "unknown"


# --- messages to the group (the group Bot API) ---------------------------------------------------


def test_a_message_to_the_group_is_checked_stored_once_and_answered_in_its_chat(
        settings, clock, ok, pipeline, client):
    from fastapi.testclient import TestClient

    from monitor.web.app import create_app

    env = {"TSUR_OK_API_URL": ok.url, **ok.env, "TSUR_OK_GROUP_TOKEN": ok.group_token,
           "TSUR_OK_WEBHOOK_SECRET": "k7Hq2xPz9"}
    for ctx in platform_context(settings, clock, pipeline, env):
        web = TestClient(create_app(ctx, secret_key="k"))
        pushed = ok.group_message("chat:C3ecb9d02a600",
                                  "Здравствуйте! На Гайдара 12 третий день нет горячей воды")
        assert web.post("/ok/webhook/wrong", json=pushed).status_code == 404
        for _ in range(2):  # OK sends again until it gets 200
            assert web.post("/ok/webhook/k7Hq2xPz9", json=pushed).status_code == 200
        assert web.post("/ok/webhook/k7Hq2xPz9", json={"recipient": {"chat_id": "chat:1"},
                                                       "chat_control": {}}).status_code == 200
        assert ctx.db["callback_inbox"].count == 1

        external_id = f"chat:C3ecb9d02a600_{pushed['message']['mid']}"
        i = collected_incident_id(ctx, external_id)
        post = next(ctx.db.query("SELECT * FROM posts WHERE external_id = ?", [external_id]))
        assert post["channel"] == "ok_message" and post["author_id"] == "ok:571000009"
        act(ctx, i, "acknowledge", "moderator", text="Передали в Водоканал, ответим сегодня.")
        run_once(ctx, client)
        run_once(ctx, client)
        assert ok.chat_sent == [{"chat_id": "chat:C3ecb9d02a600",
                                 "text": "Передали в Водоканал, ответим сегодня."}]
        row = reply(ctx, i)
        assert row["status"] == "published" and row["account"] == "ok:messages"
        assert ok.calls("graph.messages")[0]["params"]["access_token"] == ok.group_token


def test_the_incident_page_shows_the_topic_the_comment_answers_and_a_link_to_it(octx, ok):
    import re

    from fastapi.testclient import TestClient

    from monitor.catalog.users import create_user
    from monitor.web.app import create_app

    i, topic, _ = collected_incident(octx, ok)
    create_user(octx.db, "moderator", "moderator-pass-1", "moderator", octx.clock.now())
    web = TestClient(create_app(octx, secret_key="k"))
    token = re.search(r'name="csrf_token" value="([^"]+)"', web.get("/login").text).group(1)
    web.post("/login", data={"login": "moderator", "password": "moderator-pass-1",
                             "csrf_token": token})
    page = web.get(f"/incidents/{i}")
    assert page.status_code == 200
    assert "Плановые отключения воды" in page.text  # the topic: the thread around the comment
    assert f"https://ok.ru/group/{GROUP}/topic/{topic['id']}" in page.text
