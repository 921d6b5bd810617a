"""The Telegram bot stream against the loopback Bot API: offsets, edits, 429, webhook."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from monitor.collectors.runner import Runner
from monitor.settings import load_settings
from tests.fakes.telegram import FakeTelegram

KSTOVO = -1001000000007  # «Кстово онлайн» in the demo configuration
VYKSA = -1001000000008


@pytest.fixture
def tg(clock):
    fake = FakeTelegram(now=lambda: int(clock.now().timestamp())).start()
    yield fake
    fake.stop()


def tg_settings(tmp_path, tg, **env):
    from monitor.demo import DEMO_CONFIG

    return load_settings(DEMO_CONFIG, environ={
        "TSUR_DB": str(tmp_path / "tsur.db"), "TSUR_TELEGRAM_API_URL": tg.url,
        "TSUR_TELEGRAM_BOT_TOKEN": tg.token, **env})


@pytest.fixture
def settings(tmp_path, tg):
    return tg_settings(tmp_path, tg)


def run_once(ctx):
    return asyncio.run(Runner(ctx, once=True).run())


def stored(ctx, source: str) -> dict[str, dict]:
    return {r["external_id"]: r for r in ctx.db.query(
        "SELECT p.* FROM posts p JOIN sources s ON s.id = p.source_id WHERE s.key = ?", [source])}


def source_row(ctx, key: str) -> dict:
    return next(ctx.db["sources"].rows_where("key = ?", [key]))


def test_channel_posts_chat_messages_and_private_messages_go_to_their_sources(ctx, tg):
    tg.channel_post(KSTOVO, "Автобус 101 опять отменили", username="kstovo_online")
    question = tg.message(VYKSA, "Когда починят светофор на Ленина?", from_id=5001)
    tg.message(VYKSA, "Тоже интересно", from_id=5002, reply_to=question["message"]["message_id"])
    tg.private(9001, "Здравствуйте, в подъезде пахнет газом, Гагарина 3")

    report = run_once(ctx)

    assert report.ingested.stored == 4
    kstovo = stored(ctx, f"telegram:{KSTOVO}")
    assert [r["url"] for r in kstovo.values()] == [
        f"https://t.me/kstovo_online/{tg.next_message_id[KSTOVO]}"]
    vyksa = stored(ctx, f"telegram:{VYKSA}")
    reply = max(vyksa.values(), key=lambda r: r["id"])
    assert reply["parent_external_id"] == f"{VYKSA}_{question['message']['message_id']}"
    assert reply["author_id"] == "tg:5002"
    assert list(stored(ctx, "telegram:bot").values())[0]["text"].startswith("Здравствуйте")


def test_updates_are_confirmed_only_after_they_are_stored(ctx, tg):
    tg.message(VYKSA, "Нет воды на Красной улице")
    run_once(ctx)
    assert tg.pending, "the offset is confirmed by the next getUpdates, not before storing"
    run_once(ctx)
    assert tg.pending == []
    assert ctx.db["posts"].count == 1


def test_a_step_killed_before_storing_gets_the_same_updates_again(ctx, tg):
    from monitor.collectors.telegram import TelegramCollector

    for n in range(5):
        tg.message(VYKSA, f"Сообщение {n}: яма у дома")

    async def read_and_die():  # read a batch, never hand it to ingest
        collector = TelegramCollector(tg.token, tg.url, wait=0)
        await collector.step(None)
        await collector.close()

    asyncio.run(read_and_die())
    report = run_once(ctx)
    assert report.ingested.stored == 5
    assert tg.served_ids().count(tg.pending[0]["update_id"]) == 2  # served twice, stored once


def test_edits_keep_the_text_history(ctx, tg):
    update = tg.message(VYKSA, "Яма на Ленина")
    run_once(ctx)
    tg.edit(update, "Яма на Ленина 15, пробил колесо")
    report = run_once(ctx)
    assert report.ingested.edited == 1
    row = next(iter(stored(ctx, f"telegram:{VYKSA}").values()))
    assert row["text"] == "Яма на Ленина 15, пробил колесо"
    assert ctx.db["post_versions"].count == 1


def test_a_message_and_its_edit_in_one_get_updates_answer_keep_both_texts(ctx, tg):
    update = tg.message(VYKSA, "Яма на Ленина")
    tg.edit(update, "Яма на Ленина 15, пробил колесо")  # both wait for the same getUpdates
    tg.queue("message", update["message"], update_id=update["update_id"])  # and a re-delivery
    report = run_once(ctx)
    assert (report.ingested.stored, report.ingested.edited) == (1, 1)
    row = next(iter(stored(ctx, f"telegram:{VYKSA}").values()))
    assert row["text"] == "Яма на Ленина 15, пробил колесо"
    assert [v["text"] for v in ctx.db["post_versions"].rows] == ["Яма на Ленина"]


def test_a_duplicate_update_is_stored_once(ctx, tg):
    update = tg.message(VYKSA, "Не убирают снег во дворе")
    tg.queue("message", update["message"], update_id=update["update_id"])
    assert run_once(ctx).ingested.stored == 1


def test_too_many_requests_waits_retry_after_seconds(ctx, tg, clock):
    tg.message(VYKSA, "Сообщение")
    tg.inject("getUpdates", "error", 429, extra={"retry_after": 7})
    run_once(ctx)
    row = source_row(ctx, "telegram:bot")
    assert row["last_error_code"] == 429
    assert row["retry_at"] == (clock.now() + timedelta(seconds=7)).isoformat()
    assert run_once(ctx).skipped.get("telegram:bot", "").startswith("waiting")
    clock.advance(timedelta(seconds=8))
    assert run_once(ctx).ingested.stored == 1


def test_the_running_loop_honours_retry_after_and_goes_on(ctx, tg):
    tg.message(VYKSA, "Сообщение")
    tg.inject("getUpdates", "error", 429, extra={"retry_after": 1})

    async def main():
        runner = Runner(ctx, idle_scale=0.001)
        task = asyncio.create_task(runner.run())
        for _ in range(100):
            await asyncio.sleep(0.05)
            if ctx.db["posts"].count:
                break
        runner.stop()
        await task

    asyncio.run(main())
    assert ctx.db["posts"].count == 1


@pytest.mark.parametrize("fault", [("status", 502), ("drop", None), ("malformed", None),
                                   ("error", 500)])
def test_server_errors_and_malformed_answers_are_retried_without_loss(ctx, tg, clock, fault):
    tg.message(VYKSA, "Сообщение")
    tg.inject("getUpdates", *fault)
    run_once(ctx)
    assert source_row(ctx, "telegram:bot")["error_count"] == 1
    clock.advance(timedelta(minutes=1))
    assert run_once(ctx).ingested.stored == 1


def test_a_revoked_bot_token_marks_the_bot_failing_with_an_alert(ctx, tg):
    tg.revoked = True
    run_once(ctx)
    row = source_row(ctx, "telegram:bot")
    assert row["status"] == "failing" and row["last_error_code"] == 401
    assert ctx.db["collector_alerts"].count_where("source_id = ?", [row["id"]]) == 1


def test_messages_of_a_paused_chat_are_not_stored(ctx, tg):
    from monitor.catalog.sources import set_paused

    set_paused(ctx.db, f"telegram:{VYKSA}", True)
    tg.message(VYKSA, "в паузе")
    tg.message(KSTOVO, "не в паузе")
    run_once(ctx)
    assert [r["text"] for r in ctx.db["posts"].rows] == ["не в паузе"]


def test_a_chat_seen_for_the_first_time_becomes_a_source_named_after_it(ctx, tg):
    tg.message(-1009999, "Привет", title="Бор: жители")
    run_once(ctx)
    assert source_row(ctx, "telegram:-1009999")["name"] == "Бор: жители"


def test_a_10_mb_message_is_stored_cut_for_labelling(ctx, tg):
    tg.private(9001, "Нет отопления. " * 700_000)
    run_once(ctx)
    row = next(iter(ctx.db["posts"].rows))
    assert len(row["text"]) < 101_000 and row["text"].endswith("[…]")


# --- webhook ------------------------------------------------------------------------------------


def test_webhook_updates_are_stored_once_and_drained_by_collect(tmp_path, tg, clock, pipeline):
    from monitor.catalog.organisations import sync_from_settings
    from monitor.context import Context
    from monitor.store import open_db
    from monitor.web.app import create_app

    settings = tg_settings(tmp_path, tg, TSUR_TELEGRAM_WEBHOOK_URL="https://cur.example/telegram/webhook",
                           TSUR_TELEGRAM_WEBHOOK_SECRET="s3cret")
    db = open_db(settings.database)
    sync_from_settings(db, settings, clock.now())
    ctx = Context(db, settings, clock, pipeline)
    client = TestClient(create_app(ctx, secret_key="k"))
    update = {"update_id": 42, "message": {
        "message_id": 7, "date": int(clock.now().timestamp()),
        "chat": {"id": VYKSA, "type": "supergroup", "title": "Выкса чат"},
        "from": {"id": 5001, "is_bot": False, "first_name": "Ольга"},
        "text": "Не горят фонари на Островского"}}
    headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret"}

    assert client.post("/telegram/webhook", json=update,
                       headers={"X-Telegram-Bot-Api-Secret-Token": "nope"}).status_code == 403
    assert client.post("/telegram/webhook", json=update, headers=headers).status_code == 200
    assert client.post("/telegram/webhook", json=update, headers=headers).status_code == 200
    assert client.post("/telegram/webhook", content=b"{not json", headers=headers).status_code == 400
    assert db["callback_inbox"].count == 1

    report = run_once(ctx)
    assert report.ingested.stored == 1
    assert not tg.calls("getUpdates"), "with a webhook the bot is not polled"
    assert run_once(ctx).ingested.stored == 0
    db.close()
