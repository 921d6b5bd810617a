"""The MAX bot stream against the loopback Bot API: markers, edits, deletions, errors, kills."""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta

import pytest

from monitor.collectors.runner import Runner
from monitor.settings import load_settings
from tests.fakes.max import FakeMax
from tests.restart import collect_with_kills, stored_ids, versions

HOUSE = -70005  # a house chat where the bot is an administrator, seen for the first time
TOWN = -70002


@pytest.fixture
def mx(clock):
    fake = FakeMax(now=lambda: int(clock.now().timestamp())).start()
    yield fake
    fake.stop()


def max_env(tmp_path, mx) -> dict:
    return {"TSUR_DB": str(tmp_path / "tsur.db"), "TSUR_MAX_API_URL": mx.url,
            "TSUR_MAX_BOT_TOKEN": mx.token}


@pytest.fixture
def settings(tmp_path, mx):
    from monitor.demo import DEMO_CONFIG

    return load_settings(DEMO_CONFIG, environ=max_env(tmp_path, mx))


def run_once(ctx):
    return asyncio.run(Runner(ctx, once=True).run())


def stored(ctx, source: str) -> dict[str, dict]:
    return {r["external_id"]: r for r in ctx.db.query(
        "SELECT p.* FROM posts p JOIN sources s ON s.id = p.source_id WHERE s.key = ?", [source])}


def source_row(ctx, key: str) -> dict:
    return next(ctx.db["sources"].rows_where("key = ?", [key]))


def test_chat_messages_and_dialogs_go_to_their_sources_with_threads(ctx, mx):
    question = mx.chat_message(HOUSE, "Когда дадут горячую воду в доме 5?", title="Дом 5: жители")
    mx.chat_message(HOUSE, "Тоже ждём", user_id=5002, reply_to=question["body"]["mid"])
    mx.dialog(9001, "Здравствуйте, во дворе на Гагарина 3 яма")

    report = run_once(ctx)

    assert report.ingested.stored == 3
    house = stored(ctx, f"max:{HOUSE}")
    reply = max(house.values(), key=lambda r: r["id"])
    assert reply["parent_external_id"] == f"{HOUSE}_{question['body']['mid']}"
    assert reply["author_id"] == "max:5002" and reply["channel"] == "max"
    assert source_row(ctx, f"max:{HOUSE}")["name"] == "Дом 5: жители"
    assert list(stored(ctx, "max:bot").values())[0]["text"].startswith("Здравствуйте")


def test_updates_are_confirmed_only_after_they_are_stored(ctx, mx):
    mx.chat_message(HOUSE, "Нет воды на Красной улице")
    run_once(ctx)
    assert mx.pending, "the marker is passed back by the next call, not before storing"
    run_once(ctx)
    assert mx.pending == []
    assert ctx.db["posts"].count == 1


def test_a_step_killed_before_storing_gets_the_same_updates_again(ctx, mx):
    from monitor.collectors.max import MaxCollector

    for n in range(5):
        mx.chat_message(HOUSE, f"Сообщение {n}: яма у дома")

    async def read_and_die():  # read a batch, never hand it to ingest
        collector = MaxCollector(mx.token, mx.url, wait=0)
        await collector.step(None)
        await collector.close()

    asyncio.run(read_and_die())
    assert run_once(ctx).ingested.stored == 5
    assert mx.served.count(mx.pending[0]["seq"]) == 2  # served twice, stored once


def test_an_edit_keeps_the_old_text_and_a_removal_marks_the_message_deleted(ctx, mx):
    message = mx.chat_message(HOUSE, "Яма на Ленина")
    dialog = mx.dialog(9001, "Не вывозят мусор")
    run_once(ctx)
    mx.edit(message, "Яма на Ленина 15, пробил колесо")
    mx.remove(dialog)
    report = run_once(ctx)
    assert report.ingested.edited == 1 and report.ingested.deleted == 1
    row = next(iter(stored(ctx, f"max:{HOUSE}").values()))
    assert row["text"] == "Яма на Ленина 15, пробил колесо"
    versions = list(ctx.db["post_versions"].rows)
    assert [v["text"] for v in versions] == ["Яма на Ленина"]
    assert next(iter(stored(ctx, "max:bot").values()))["deleted_at"]


def test_a_comment_under_a_channel_post_hangs_under_the_post(ctx, mx):
    post = mx._message(-70009, "channel", "График вывоза мусора на декабрь", 1, "Администрация")
    mx.queue({"update_type": "message_created", "message": post})
    comment = mx._message(-70009, "channel", "А на Лесной опять не вывезли", 5001, "Ольга")
    comment["recipient"]["post_id"] = post["body"]["mid"]
    mx.queue({"update_type": "comment_created", "message": comment})
    run_once(ctx)
    rows = stored(ctx, "max:-70009")
    assert rows[f"-70009_{comment['body']['mid']}"]["parent_external_id"] == \
        f"-70009_{post['body']['mid']}"


def test_messages_of_bots_are_not_stored(ctx, mx):
    mx._message(HOUSE, "chat", "Ответ другого бота", 4242, "Бот", is_bot=True)
    bot = mx._message(HOUSE, "chat", "Я бот", 4242, "Бот", is_bot=True)
    mx.queue({"update_type": "message_created", "message": bot})
    mx.queue({"update_type": "bot_started", "chat_id": 1, "user": {"user_id": 1}})
    mx.chat_message(HOUSE, "А я житель")
    assert run_once(ctx).ingested.stored == 1


def test_too_many_requests_waits_and_loses_nothing(ctx, mx, clock):
    mx.chat_message(HOUSE, "Сообщение")
    mx.inject("updates", "error", 429, extra={"retry_after": 7})
    run_once(ctx)
    row = source_row(ctx, "max:bot")
    assert row["last_error_code"] == 429
    assert row["retry_at"] == (clock.now() + timedelta(seconds=7)).isoformat()
    assert run_once(ctx).skipped.get("max:bot", "").startswith("waiting")
    clock.advance(timedelta(seconds=8))
    assert run_once(ctx).ingested.stored == 1


@pytest.mark.parametrize("fault", [("status", 502), ("drop", None), ("malformed", None),
                                   ("error", 503)])
def test_server_errors_and_malformed_answers_are_retried_without_loss(ctx, mx, clock, fault):
    mx.chat_message(HOUSE, "Сообщение")
    mx.inject("updates", *fault)
    run_once(ctx)
    assert source_row(ctx, "max:bot")["error_count"] == 1
    clock.advance(timedelta(minutes=1))
    assert run_once(ctx).ingested.stored == 1


def test_a_dead_bot_token_marks_the_bot_failing_with_an_alert(ctx, mx):
    mx.revoked = True
    run_once(ctx)
    row = source_row(ctx, "max:bot")
    assert row["status"] == "failing" and row["last_error_code"] == 401
    assert ctx.db["collector_alerts"].count_where("source_id = ?", [row["id"]]) == 1


def test_messages_of_a_paused_chat_are_not_stored(ctx, mx):
    from monitor.catalog.sources import add_source, set_paused

    add_source(ctx.db, ctx.settings, ctx.clock.now(), "max", str(TOWN), name="Выкса")
    set_paused(ctx.db, f"max:{TOWN}", True)
    mx.chat_message(TOWN, "в паузе")
    mx.chat_message(HOUSE, "не в паузе")
    run_once(ctx)
    assert [r["text"] for r in ctx.db["posts"].rows] == ["не в паузе"]


def test_without_a_token_max_sources_say_what_is_missing(tmp_path, mx, clock, pipeline):
    from monitor.catalog.organisations import sync_from_settings
    from monitor.context import Context
    from monitor.demo import DEMO_CONFIG
    from monitor.store import open_db

    settings = load_settings(DEMO_CONFIG, environ={"TSUR_DB": str(tmp_path / "t.db")})
    db = open_db(settings.database)
    sync_from_settings(db, settings, clock.now())  # the demo configuration has a MAX chat
    report = run_once(Context(db, settings, clock, pipeline))
    assert "TSUR_MAX_BOT_TOKEN" in report.skipped["max:bot"]
    db.close()


# --- kill and restart -------------------------------------------------------------------------


def test_kill_at_any_moment_and_restart_loses_nothing_and_stores_nothing_twice(tmp_path, mx):
    """`tsur collect` killed with SIGKILL twice while residents keep writing, editing and
    deleting."""
    config = tmp_path / "tsur.toml"
    config.write_text('[region]\ncode = "52"\n', encoding="utf-8")
    env = {**os.environ, "TSUR_CONFIG": str(config), **max_env(tmp_path, mx),
           "TSUR_DB": str(tmp_path / "kill.db")}
    mx.LONG_POLL_CAP = 0.1
    n = 0
    written = []

    def write(count):
        nonlocal n
        for _ in range(count):
            n += 1
            if n % 3:
                written.append(mx.chat_message(HOUSE if n % 2 else TOWN,
                                               f"Сообщение жителя номер {n}: нет воды"))
            else:
                written.append(mx.dialog(9000 + n, f"Личное сообщение {n}: яма во дворе"))
            if n % 7 == 0:
                mx.remove(written[-2])

    progress = collect_with_kills(env, tmp_path / "kill.db", write)
    ids, live = stored_ids(tmp_path / "kill.db", "s.platform = ?", ["max"])
    assert len(ids) == len(set(ids)), "nothing stored twice"
    assert live == mx.live_ids(), "every message on MAX is stored, every removed one marked"
    assert versions(tmp_path / "kill.db") == 0  # nothing was "edited" by a re-read
    print("posts stored after each kill:", progress, "final:", len(ids))


# --- webhook ------------------------------------------------------------------------------------


def test_webhook_updates_are_checked_stored_once_and_drained_by_collect(tmp_path, mx, clock,
                                                                         pipeline):
    from fastapi.testclient import TestClient

    from monitor.catalog.organisations import sync_from_settings
    from monitor.context import Context
    from monitor.demo import DEMO_CONFIG
    from monitor.store import open_db
    from monitor.web.app import create_app

    settings = load_settings(DEMO_CONFIG, environ={
        **max_env(tmp_path, mx), "TSUR_MAX_WEBHOOK_URL": "https://cur.example/max/webhook",
        "TSUR_MAX_WEBHOOK_SECRET": "s3cret-Max_1"})
    db = open_db(settings.database)
    sync_from_settings(db, settings, clock.now())
    ctx = Context(db, settings, clock, pipeline)
    client = TestClient(create_app(ctx, secret_key="k"))
    message = mx._message(HOUSE, "chat", "Не горят фонари на Островского", 5001, "Ольга")
    created = {"update_type": "message_created", "timestamp": 1763276400000, "message": message}
    removed = {"update_type": "message_removed", "timestamp": 1763276460000,
               "message_id": message["body"]["mid"], "chat_id": HOUSE, "user_id": 5001}
    headers = {"X-Max-Bot-Api-Secret": "s3cret-Max_1"}

    assert client.post("/max/webhook", json=created).status_code == 403
    assert client.post("/max/webhook", json=created,
                       headers={"X-Max-Bot-Api-Secret": "nope"}).status_code == 403
    assert client.post("/max/webhook", json=created, headers=headers).status_code == 200
    assert client.post("/max/webhook", json=created, headers=headers).status_code == 200  # resent
    assert client.post("/max/webhook", content=b"{not json", headers=headers).status_code == 400
    assert db["callback_inbox"].count == 1

    report = run_once(ctx)
    assert report.ingested.stored == 1
    assert not mx.calls("updates"), "with a webhook the bot is not polled"
    assert client.post("/max/webhook", json=removed, headers=headers).status_code == 200
    report = run_once(ctx)
    assert report.ingested.stored == 0 and report.ingested.deleted == 1
    db.close()
