"""`tsur sources …`, the health list, the collector registry and the VK Callback endpoint."""

from __future__ import annotations

import asyncio
import json
import sys

import pytest
from fastapi.testclient import TestClient

from monitor.catalog.sources import SourceProblem, add_source, health, source_key
from monitor.cli import cli
from monitor.collectors import registry
from monitor.demo import DEMO_CONFIG
from monitor.ingest import ingest
from monitor.ingest.post import Post
from monitor.settings import load_settings
from tests.fakes.vk import FakeVK


@pytest.fixture
def vk(clock):
    fake = FakeVK(now=lambda: int(clock.now().timestamp())).start()
    fake.add_token("user-token", "user")
    fake.add_group(100020, "Подслушано Бор", "podslushano_bor")
    yield fake
    fake.stop()


@pytest.fixture
def settings(tmp_path, vk):
    return load_settings(DEMO_CONFIG, environ={
        "TSUR_DB": str(tmp_path / "tsur.db"), "TSUR_VK_API_URL": vk.url,
        "TSUR_VK_TOKEN": "user-token", "TSUR_VK_CALLBACK_SECRET": "cb-secret",
        "TSUR_VK_CALLBACK_CONFIRMATION": "a1b2c3d4"})


def invoke(runner, settings, *args):
    return runner.invoke(cli, ["--config", str(DEMO_CONFIG), *args],
                         env={k: v for k, v in settings.environ.items() if k.startswith("TSUR_")},
                         catch_exceptions=False)


@pytest.mark.parametrize("platform, typed, key", [
    ("vk", "-100020", "vk:-100020"),
    ("vk", "club100020", "vk:-100020"),
    ("vk", "https://vk.com/public100020", "vk:-100020"),
    ("telegram", "-1001234567890", "telegram:-1001234567890"),
    ("tgweb", "https://t.me/s/bor_online", "tgweb:bor_online"),
    ("tgweb", "@bor_online", "tgweb:bor_online"),
])
def test_what_people_type_becomes_one_key(platform, typed, key):
    assert source_key(platform, typed) == key


def test_add_list_pause_resume_remove_through_the_cli(ctx, runner, settings):
    result = invoke(runner, settings, "sources", "add", "vk", "podslushano_bor", "--name",
                    "Подслушано Бор", "--municipality", "Бор")
    assert result.exit_code == 0, result.output
    assert "vk:-100020" in result.output  # the screen name was resolved through VK
    row = next(ctx.db["sources"].rows_where("key = 'vk:-100020'"))
    assert row["municipality"] == "Бор" and row["role"] == "watched"

    listed = invoke(runner, settings, "sources", "list")
    assert "vk:-100020" in listed.output and "telegram:-1001000000007" in listed.output

    assert invoke(runner, settings, "sources", "pause", "vk:-100020").exit_code == 0
    assert "paused" in invoke(runner, settings, "sources", "list").output
    assert invoke(runner, settings, "sources", "resume", "vk:-100020").exit_code == 0
    assert invoke(runner, settings, "sources", "remove", "vk:-100020").exit_code == 0
    assert "vk:-100020" not in invoke(runner, settings, "sources", "list").output


def test_a_screen_name_is_resolved_after_one_too_many_requests_error(ctx, runner, settings, vk):
    vk.inject("utils.resolveScreenName", "error", 6)  # error 6 once, then the answer
    result = invoke(runner, settings, "sources", "add", "vk", "podslushano_bor")
    assert result.exit_code == 0, result.output
    assert "vk:-100020" in result.output
    assert len(vk.calls("utils.resolveScreenName")) == 2


def test_a_screen_name_vk_keeps_refusing_is_explained_after_a_few_tries(ctx, runner, settings, vk):
    vk.inject("utils.resolveScreenName", "error", 6, times=None)
    result = invoke(runner, settings, "sources", "add", "vk", "podslushano_bor")
    assert result.exit_code == 1 and "Too many requests per second" in result.output
    assert len(vk.calls("utils.resolveScreenName")) == 4


@pytest.mark.parametrize("args, message", [
    (["vk", "club100020", "--municipality", "Борр"], "unknown municipality"),
    (["vk", "club100020", "--role", "official"], "--organisation"),
    (["vk", "--organisation", "nobody", "--", "-100020"], "unknown organisation"),
    (["vk", "club100001"], "already exists"),
    (["telegram", "@chat"], "not a Telegram chat id"),
    (["vk", "nobody_here"], "knows no page"),
])
def test_bad_sources_are_refused_with_a_clear_error(ctx, runner, settings, args, message):
    result = invoke(runner, settings, "sources", "add", *args)
    assert result.exit_code == 1
    assert message in result.output


def test_list_shows_health_lag_and_messages_today(ctx, runner, settings, clock):
    from datetime import timedelta

    ingest(ctx, [Post("vk:-100002", "-100002_1", "vk_post", "Пост",
                      clock.now() - timedelta(minutes=3))], cursor=("vk:-100002", {"x": 1}))
    rows = {h.key: h for h in health(ctx.db, clock.now(), settings.timezone)}
    assert rows["vk:-100002"].today == 1
    assert rows["vk:-100002"].lag == timedelta(minutes=3)
    assert rows["vk:-100002"].last_success_at == clock.now()

    lines = invoke(runner, settings, "sources", "list", "--json").output.splitlines()
    data = {d["key"]: d for d in map(json.loads, lines)}
    assert data["vk:-100002"]["lag_seconds"] == 180.0


def test_a_removed_source_keeps_its_posts(ctx, clock):
    from monitor.catalog.sources import remove_source

    ingest(ctx, [Post("vk:-100002", "-100002_1", "vk_post", "Пост", clock.now())])
    assert remove_source(ctx.db, "vk:-100002", clock.now()) is False
    assert ctx.db["posts"].count == 1
    with pytest.raises(SourceProblem):
        remove_source(ctx.db, "vk:-100002", clock.now())


def test_a_missing_tgweb_collector_is_a_clear_error_for_that_source_only(ctx, settings,
                                                                         monkeypatch):
    add_source(ctx.db, settings, ctx.clock.now(), "tgweb", "bor_online")
    monkeypatch.setitem(sys.modules, "monitor.collectors.tgweb", None)
    rows = [dict(r, organisation_key=None) for r in ctx.db["sources"].rows]
    plans = {p.key: p for p in registry.build(rows, settings, ctx.clock)}
    assert "tgweb collector" in plans["tgweb:bor_online"].problem
    assert plans["vk:-100002"].collector is not None


def test_config_sources_are_synced_into_the_same_table(ctx):
    row = next(ctx.db["sources"].rows_where("key = 'vk:-100003'"))
    assert row["external_id"] == "-100003" and row["role"] == "official"


# --- VK Callback API ---------------------------------------------------------------------------


def test_vk_callback_confirms_checks_the_secret_and_stores_each_event_once(ctx, clock):
    from monitor.collectors.runner import Runner
    from monitor.web.app import create_app

    client = TestClient(create_app(ctx, secret_key="k"))
    confirm = client.post("/vk/callback", json={"type": "confirmation", "group_id": 100001})
    assert confirm.text == "a1b2c3d4"
    event = {"type": "wall_reply_new", "group_id": 100001, "event_id": "e1", "v": "5.199",
             "secret": "cb-secret", "object": {
                 "id": 5, "post_id": 4814, "post_owner_id": -100001, "from_id": 42,
                 "date": int(clock.now().timestamp()), "text": "Когда уберут снег на Белинского?"}}
    wrong = client.post("/vk/callback", json={**event, "secret": "wrong"})
    unknown = client.post("/vk/callback", json={**event, "group_id": 999})
    assert wrong.status_code == unknown.status_code == 403 and wrong.text == unknown.text
    assert client.post("/vk/callback", content=b"[]").status_code == 400
    for _ in range(2):  # VK sends again when unsure: harmless
        answer = client.post("/vk/callback", json=event)
        assert answer.status_code == 200 and answer.text == "ok"
    assert ctx.db["callback_inbox"].count == 1
    assert "cb-secret" not in next(iter(ctx.db["callback_inbox"].rows))["payload"]

    asyncio.run(Runner(ctx, once=True).run())
    post = next(ctx.db["posts"].rows_where("external_id = '-100001_4814_5'"))
    assert post["parent_external_id"] == "-100001_4814"


def test_a_public_channel_gets_one_key_whatever_its_spelling():
    import pytest

    from monitor.catalog.sources import SourceProblem, source_key

    keys = {source_key("tgweb", v) for v in ("Gorodets_Live", "@gorodets_live",
                                                   "https://t.me/s/GORODETS_LIVE")}
    assert keys == {"tgweb:gorodets_live"}
    with pytest.raises(SourceProblem):
        source_key("tgweb", "https://t.me/+invite")
