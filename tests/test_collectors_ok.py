"""Одноклассники group pages against the loopback OK REST API: signatures, topics,
comments, edits, deletions, errors and kills."""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta

import pytest

from monitor.collectors.runner import Runner
from monitor.settings import load_settings
from tests.fakes.ok import FakeOK
from tests.restart import collect_with_kills, stored_ids, versions

GROUP = "53038939046008"  # the demo configuration's OK page (Администрация г. Дзержинска)
SOURCE = f"ok:{GROUP}"


@pytest.fixture
def ok(clock):
    fake = FakeOK(now=lambda: int(clock.now().timestamp())).start()
    yield fake
    fake.stop()


@pytest.fixture
def settings(tmp_path, ok):
    from monitor.demo import DEMO_CONFIG

    return load_settings(DEMO_CONFIG, environ={"TSUR_DB": str(tmp_path / "tsur.db"),
                                                "TSUR_OK_API_URL": ok.url, **ok.env})


@pytest.fixture
def octx(ctx):
    return ctx  # the demo configuration declares the page


def run_once(ctx):
    return asyncio.run(Runner(ctx, once=True).run())


def stored(ctx) -> dict[str, dict]:
    return {r["external_id"]: r for r in ctx.db.query(
        "SELECT p.* FROM posts p JOIN sources s ON s.id = p.source_id WHERE s.key = ?", [SOURCE])}


def source_row(ctx) -> dict:
    return next(ctx.db["sources"].rows_where("key = ?", [SOURCE]))


def test_topics_and_comments_are_stored_once_with_their_threads(octx, ok):
    topic = ok.topic(GROUP, "Плановое отключение горячей воды с 10 по 20 ноября")
    first = ok.comment(topic["id"], "На Гайдара 12 воды нет уже третью неделю!")
    ok.comment(topic["id"], "Поддерживаю, у нас так же", author_id="5002", reply_to=first["id"])
    for _ in range(2):
        run_once(octx)
    rows = stored(octx)
    assert set(rows) == ok.live_ids(GROUP)
    reply = rows[f"{GROUP}_{topic['id']}_{ok.comments[topic['id']][1]['id']}"]
    assert reply["parent_external_id"] == f"{GROUP}_{topic['id']}_{first['id']}"
    assert reply["channel"] == "ok_comment" and reply["author_id"] == "ok:5002"
    assert reply["url"] == f"https://ok.ru/group/{GROUP}/topic/{topic['id']}"
    assert rows[f"{GROUP}_{topic['id']}"]["channel"] == "ok_post"
    calls = ok.calls("discussions.getComments")
    assert len(calls) == 1, "comments are read again only when their count changes"
    assert all(c["params"]["sig"] for c in ok.ledger) and not any(
        c["fault"] for c in ok.ledger)


def test_without_comment_counts_every_watched_topic_is_read_again(octx, ok):
    ok.summaries = False
    topic = ok.topic(GROUP, "Опрос о благоустройстве")
    first = ok.comment(topic["id"], "Во дворе дома 7 на Строителей не горят фонари")
    run_once(octx)
    ok.edit(first, "Во дворе дома 7 на Строителей не горят фонари уже неделю")
    report = run_once(octx)
    assert report.ingested.edited == 1
    assert len(ok.calls("discussions.getComments")) == 2
    row = stored(octx)[f"{GROUP}_{topic['id']}_{first['id']}"]
    assert row["author_name"] == "Ольга Иванова"


def test_a_new_comment_under_an_old_topic_is_found_on_the_next_poll(octx, ok):
    topic = ok.topic(GROUP, "Опрос о благоустройстве")
    run_once(octx)
    ok.comment(topic["id"], "Во дворе дома 7 на Строителей не горят фонари")
    assert run_once(octx).ingested.stored == 1


def test_an_edited_comment_keeps_its_old_text_and_a_deleted_one_is_marked(octx, ok):
    topic = ok.topic(GROUP, "Новости")
    edited = ok.comment(topic["id"], "Яма на Ленина")
    gone = ok.comment(topic["id"], "Мусор не вывозят")
    run_once(octx)
    ok.edit(edited, "Яма на Ленина 15, пробил колесо")
    ok.comment(topic["id"], "Спасибо за новости")  # the count changes: the topic is re-read
    ok.delete(gone)
    ok.comment(topic["id"], "И у нас тоже")
    report = run_once(octx)
    assert report.ingested.edited == 1 and report.ingested.deleted == 1
    rows = stored(octx)
    assert rows[f"{GROUP}_{topic['id']}_{edited['id']}"]["text"].endswith("пробил колесо")
    assert [v["text"] for v in octx.db["post_versions"].rows] == ["Яма на Ленина"]
    assert rows[f"{GROUP}_{topic['id']}_{gone['id']}"]["deleted_at"]


def test_closed_comments_under_one_topic_do_not_stop_the_others(octx, ok):
    closed = ok.topic(GROUP, "Закрытая тема")
    ok.comment(closed["id"], "первый")
    ok.closed.add(closed["id"])
    open_topic = ok.topic(GROUP, "Открытая тема")
    ok.comment(open_topic["id"], "Нет воды на Гагарина")
    run_once(octx)
    assert f"{GROUP}_{open_topic['id']}_{ok.comments[open_topic['id']][0]['id']}" in stored(octx)
    assert source_row(octx)["status"] == "ok"


def test_a_wrong_secret_or_an_expired_session_marks_the_group_failing_with_an_alert(
        octx, ok):
    ok.topic(GROUP, "Тема")
    ok.expired = True
    run_once(octx)
    row = source_row(octx)
    assert row["status"] == "failing" and row["last_error_code"] == 102
    assert octx.db["collector_alerts"].count_where("source_id = ?", [row["id"]]) == 1


def test_the_signature_is_checked(tmp_path, ok, clock, pipeline):
    from monitor.catalog.organisations import sync_from_settings
    from monitor.context import Context
    from monitor.demo import DEMO_CONFIG
    from monitor.store import open_db

    settings = load_settings(DEMO_CONFIG, environ={
        "TSUR_DB": str(tmp_path / "t.db"), "TSUR_OK_API_URL": ok.url,
        **ok.env, "TSUR_OK_APPLICATION_SECRET_KEY": "not-the-secret"})
    db = open_db(settings.database)
    sync_from_settings(db, settings, clock.now())
    ctx = Context(db, settings, clock, pipeline)
    ok.topic(GROUP, "Тема")
    run_once(ctx)
    assert source_row(ctx)["last_error_code"] == 104
    db.close()


@pytest.mark.parametrize("fault", [("error", 8), ("error", 2), ("status", 502), ("drop", None),
                                   ("malformed", None)])
def test_flood_control_and_server_errors_are_waited_out_without_loss(octx, ok, clock, fault):
    topic = ok.topic(GROUP, "Тема")
    ok.comment(topic["id"], "Сообщение")
    ok.inject("discussions.getComments", *fault)
    run_once(octx)
    assert source_row(octx)["error_count"] == 1
    clock.advance(timedelta(minutes=2))
    run_once(octx)
    assert set(stored(octx)) == ok.live_ids(GROUP)


def test_without_keys_the_group_says_what_is_missing(tmp_path, ok, clock, pipeline):
    from monitor.catalog.organisations import sync_from_settings
    from monitor.context import Context
    from monitor.demo import DEMO_CONFIG
    from monitor.store import open_db

    settings = load_settings(DEMO_CONFIG, environ={"TSUR_DB": str(tmp_path / "t.db")})
    db = open_db(settings.database)
    sync_from_settings(db, settings, clock.now())
    report = run_once(Context(db, settings, clock, pipeline))
    assert "TSUR_OK_ACCESS_TOKEN" in report.skipped[SOURCE]
    db.close()


@pytest.mark.parametrize("platform, typed, key", [
    ("ok", GROUP, SOURCE),
    ("ok", f"https://ok.ru/group/{GROUP}", SOURCE),
    ("ok", f"ok.ru/group/{GROUP}/topic/155000000000001", SOURCE),
    ("max", "-70001", "max:-70001"),
])
def test_what_people_type_becomes_one_key(platform, typed, key):
    from monitor.catalog.sources import source_key

    assert source_key(platform, typed) == key


@pytest.mark.parametrize("platform, typed, message", [
    ("ok", "https://ok.ru/dzerzhinsk", "not an Одноклассники group id"),
    ("max", "https://max.ru/join/abc", "not a MAX chat id"),
])
def test_a_source_given_by_a_name_says_what_to_give_instead(ctx, runner, platform, typed,
                                                            message):
    from monitor.cli import cli
    from monitor.demo import DEMO_CONFIG

    result = runner.invoke(cli, ["--config", str(DEMO_CONFIG), "sources", "add", platform, typed],
                           env={"TSUR_DB": str(ctx.settings.database)})
    assert result.exit_code != 0 and message in result.output


def test_sources_are_added_through_the_cli_and_the_admin_page(ctx, runner):
    import re

    from fastapi.testclient import TestClient

    from monitor.catalog.users import create_user
    from monitor.cli import cli
    from monitor.demo import DEMO_CONFIG
    from monitor.web.app import create_app

    result = runner.invoke(cli, ["--config", str(DEMO_CONFIG), "sources", "add", "--municipality",
                                 "Бор", "--name", "Дом 5: жители", "max", "--",
                                 "-70003"], env={"TSUR_DB": str(ctx.settings.database)})
    assert result.exit_code == 0, result.output
    create_user(ctx.db, "admin", "admin-pass-1", "admin", ctx.clock.now())
    client = TestClient(create_app(ctx, secret_key="k"))
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    client.post("/login", data={"login": "admin", "password": "admin-pass-1", "csrf_token": token})
    page = client.get("/admin/sources").text
    assert 'value="ok"' in page and 'value="max"' in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post("/admin/sources", data={"platform": "ok", "ident": "https://ok.ru/group/570001",
                                        "name": "Бор в ОК", "csrf_token": token})
    keys = {r["key"]: r for r in ctx.db["sources"].rows}
    assert keys["max:-70003"]["municipality"] == "Бор"
    assert keys["ok:570001"]["platform"] == "ok" and keys["ok:570001"]["name"] == "Бор в ОК"


# --- kill and restart -------------------------------------------------------------------------


def test_kill_at_any_moment_and_restart_loses_nothing_and_stores_nothing_twice(tmp_path, ok):
    config = tmp_path / "tsur.toml"
    config.write_text(f'[region]\ncode = "52"\n\n[[sources]]\nkey = "{SOURCE}"\nplatform = "ok"\n'
                      'name = "Администрация в ОК"\nmunicipality = "Дзержинск"\n', encoding="utf-8")
    env = {**os.environ, "TSUR_CONFIG": str(config), "TSUR_DB": str(tmp_path / "kill.db"),
           "TSUR_OK_API_URL": ok.url, **ok.env}
    topics = [ok.topic(GROUP, f"Тема {n}") for n in range(5)]
    n = 0

    def write(count):
        nonlocal n
        for _ in range(count):
            n += 1
            comment = ok.comment(topics[n % 5]["id"], f"Комментарий жителя номер {n}: нет воды")
            if n % 9 == 0:
                ok.delete(comment)

    progress = collect_with_kills(env, tmp_path / "kill.db", write, pauses=(0.5, 1.5))
    ids, live = stored_ids(tmp_path / "kill.db", "s.key = ?", [SOURCE])
    assert len(ids) == len(set(ids))
    assert live == ok.live_ids(GROUP)
    assert versions(tmp_path / "kill.db") == 0
    print("posts stored after each kill:", progress, "final:", len(ids))
