"""VK collectors against the loopback VK API: walls, threads, Long Poll, errors, restarts."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.collectors import runner as runner_module
from monitor.collectors.runner import Runner
from monitor.collectors.vk import client as vk_client
from monitor.settings import settings_from_dict
from tests.fakes.vk import FakeVK
from tests.restart import collect_with_kills

ROOT = Path(__file__).resolve().parents[1]

CONFIG = {
    "region": {"code": "52"},
    "organisations": [
        {"key": "adm-nn", "name": "Администрация Нижнего Новгорода",
         "municipality": "Нижний Новгород", "vk_group_id": 100001,
         "vk_token_env": "TSUR_VK_TOKEN_ADM_NN"},
        {"key": "adm-dzr", "name": "Администрация Дзержинска", "municipality": "Дзержинск",
         "vk_group_id": 100003},
    ],
    "sources": [
        {"key": "vk:-100002", "platform": "vk", "name": "Подслушано Нижний Новгород",
         "municipality": "Нижний Новгород"},
        {"key": "vk:-100003", "platform": "vk", "name": "Администрация Дзержинска",
         "role": "official", "municipality": "Дзержинск", "organisation": "adm-dzr"},
    ],
}
LONG_POLL_SOURCE = {"key": "vk:-100001", "platform": "vk", "name": "Администрация НН",
                    "role": "official", "municipality": "Нижний Новгород",
                    "organisation": "adm-nn"}


@pytest.fixture
def vk(clock):
    fake = FakeVK(now=lambda: int(clock.now().timestamp())).start()
    fake.add_token("user-token", "user")
    fake.add_token("community-token", "community", group_id=100001)
    for group_id in (100001, 100002, 100003):
        fake.add_group(group_id, f"Группа {group_id}", f"group{group_id}")
    yield fake
    fake.stop()


@pytest.fixture(autouse=True)
def fast_tokens(monkeypatch):
    """Tests do not wait 1/3 s between calls; the pacing itself is vk_api's."""
    monkeypatch.setitem(vk_client.RATE_LIMITS, "user", 500.0)
    monkeypatch.setitem(vk_client.RATE_LIMITS, "community", 500.0)


def make_settings(tmp_path, vk, *, long_poll=False, **env):
    raw = json.loads(json.dumps(CONFIG))
    if long_poll:
        raw["sources"].append(LONG_POLL_SOURCE)
    environ = {"TSUR_DB": str(tmp_path / "tsur.db"), "TSUR_VK_API_URL": vk.url,
               "TSUR_VK_TOKEN": "user-token", "TSUR_VK_TOKEN_ADM_NN": "community-token", **env}
    return settings_from_dict(raw, environ=environ)


@pytest.fixture
def settings(tmp_path, vk):
    return make_settings(tmp_path, vk)


def run_once(ctx, **kwargs):
    return asyncio.run(Runner(ctx, once=True, **kwargs).run())


def stored(ctx, source: str) -> dict[str, dict]:
    return {r["external_id"]: r for r in ctx.db.query(
        "SELECT p.* FROM posts p JOIN sources s ON s.id = p.source_id WHERE s.key = ?", [source])}


def source_row(ctx, key: str) -> dict:
    return next(ctx.db["sources"].rows_where("key = ?", [key]))


def live_items(vk, owner: int) -> set[str]:
    posts = {f"{owner}_{p}" for p in vk.posts[owner]}
    comments = {f"{owner}_{c['post_id']}_{c['id']}" for c in vk.comments[owner].values()
                if not c["deleted"]}
    return posts | comments


# --- walls and threads ----------------------------------------------------------------------


def test_wall_posts_comments_and_thread_replies_are_stored_exactly_once(ctx, vk):
    post = vk.post(-100002, "На Бурнаковской опять прорвало трубу")
    first = vk.comment(-100002, post["id"], "Третий день нет воды в доме 12")
    for n in range(14):  # more replies than wall.getComments inlines (10)
        vk.comment(-100002, post["id"], f"И у нас нет воды, подъезд {n}", reply_to=first["id"])
    other = vk.post(-100002, "Концерт в парке Швейцария")
    vk.comment(-100002, other["id"], "Когда уберут мусор у входа в парк?")

    report = run_once(ctx)

    assert set(stored(ctx, "vk:-100002")) == live_items(vk, -100002)
    assert report.ingested.stored == len(live_items(vk, -100002)) == 18
    reply = stored(ctx, "vk:-100002")[f"-100002_{post['id']}_{first['id'] + 1}"]
    assert reply["parent_external_id"] == f"-100002_{post['id']}_{first['id']}"
    assert reply["channel"] == "vk_comment"
    assert vk.calls("execute"), "comment pages of several posts go through execute"

    again = run_once(ctx)
    assert again.ingested.stored == 0
    assert ctx.db["posts"].count == 18


def test_new_comments_under_an_old_post_are_found_on_the_next_poll(ctx, vk):
    post = vk.post(-100002, "Опрос: что починить первым?")
    run_once(ctx)
    vk.comment(-100002, post["id"], "Дорогу на Мещерском бульваре, там ямы")
    report = run_once(ctx)
    assert report.ingested.stored == 1


def test_a_comment_deleted_on_vk_is_marked_deleted_and_keeps_its_incident(ctx, vk):
    post = vk.post(-100002, "Новости района")
    gone = vk.comment(-100002, post["id"], "Третий день не вывозят мусор на Гагарина 5, воняет")
    run_once(ctx)
    external = f"-100002_{post['id']}_{gone['id']}"
    row = stored(ctx, "vk:-100002")[external]
    incidents_before = ctx.db["incidents"].count_where("post_id = ?", [row["id"]])

    vk.delete_comment(-100002, gone["id"])
    report = run_once(ctx)

    assert report.ingested.deleted == 1
    row = stored(ctx, "vk:-100002")[external]
    assert row["deleted_at"] is not None
    assert ctx.db["incidents"].count_where("post_id = ?", [row["id"]]) == incidents_before


def test_an_edited_comment_keeps_its_old_text(ctx, vk):
    post = vk.post(-100002, "Новости района")
    comment = vk.comment(-100002, post["id"], "Яма на Ленина")
    run_once(ctx)
    vk.edit_comment(-100002, comment["id"], "Яма на Ленина 15, колесо пробил")
    vk.comment(-100002, post["id"], "Поддерживаю")  # the count changes: the thread is re-read
    report = run_once(ctx)
    assert report.ingested.edited == 1
    row = stored(ctx, "vk:-100002")[f"-100002_{post['id']}_{comment['id']}"]
    assert row["text"] == "Яма на Ленина 15, колесо пробил"
    assert [v["text"] for v in ctx.db["post_versions"].rows_where("post_id = ?", [row["id"]])] == [
        "Яма на Ленина"]


def test_a_10_mb_comment_is_stored_cut_for_labelling_with_the_full_text_in_raw(ctx, vk):
    post = vk.post(-100002, "Пост")
    huge = "Нет отопления в школе № 5. " * 400_000  # ~10.8 MB
    vk.comment(-100002, post["id"], huge)
    run_once(ctx)
    row = next(r for r in stored(ctx, "vk:-100002").values() if r["channel"] == "vk_comment")
    assert len(row["text"]) < 101_000 and row["text"].endswith("[…]")
    assert json.loads(row["raw"])["text"] == huge


# --- what a poll watches: ids, not counts; old and pinned posts --------------------------------


def versions(ctx, row) -> list[str]:
    return [v["text"] for v in ctx.db["post_versions"].rows_where("post_id = ?", [row["id"]])]


def test_a_comment_added_and_another_deleted_between_two_polls_are_both_seen(ctx, vk):
    post = vk.post(-100002, "Новости района")
    gone = vk.comment(-100002, post["id"], "Не вывозят мусор на Гагарина 5")
    run_once(ctx)
    vk.delete_comment(-100002, gone["id"])
    added = vk.comment(-100002, post["id"], "Нет света в доме 7 на Ленина")  # same count
    report = run_once(ctx)
    rows = stored(ctx, "vk:-100002")
    assert rows[f"-100002_{post['id']}_{added['id']}"]["deleted_at"] is None
    assert rows[f"-100002_{post['id']}_{gone['id']}"]["deleted_at"] is not None
    assert report.ingested.deleted == 1


def test_an_edit_is_noticed_when_the_comment_count_stays_the_same(ctx, vk):
    post = vk.post(-100002, "Новости района")
    comment = vk.comment(-100002, post["id"], "Яма на Ленина")
    first = vk.comment(-100002, post["id"], "Течёт крыша")
    reply = vk.comment(-100002, post["id"], "И у нас", reply_to=first["id"])
    run_once(ctx)
    vk.edit_comment(-100002, comment["id"], "Яма на Ленина 15, колесо пробил")
    vk.edit_comment(-100002, reply["id"], "И у нас, подъезд 3")
    report = run_once(ctx)
    assert report.ingested.edited == 2
    row = stored(ctx, "vk:-100002")[f"-100002_{post['id']}_{comment['id']}"]
    assert row["text"] == "Яма на Ленина 15, колесо пробил"
    assert versions(ctx, row) == ["Яма на Ленина"]


def test_a_quiet_poll_reads_each_watched_post_once_and_stores_nothing(ctx, vk):
    posts = [vk.post(-100002, f"Пост {n}") for n in range(30)]
    for post in posts:
        vk.comment(-100002, post["id"], f"Комментарий к {post['id']}")
    run_once(ctx)
    before = len(vk.calls("wall.getComments")) + len(vk.calls("execute"))
    report = run_once(ctx)
    requests = len(vk.calls("wall.getComments")) + len(vk.calls("execute")) - before
    print(f"quiet poll of 30 commented posts: {requests} comment request(s)")
    assert report.ingested.stored == 0 and report.ingested.edited == 0
    assert requests <= 2  # one execute of 25 first pages, and the rest


def test_comments_under_a_post_older_than_the_newest_twenty_are_read_while_it_is_discussed(
        ctx, vk, clock):
    old = vk.post(-100002, "Опрос: что починить первым?")
    vk.comment(-100002, old["id"], "Дорогу на Мещерском бульваре")
    run_once(ctx)
    for n in range(25):
        vk.post(-100002, f"Новость {n}")
    clock.advance(timedelta(days=2))
    late = vk.comment(-100002, old["id"], "Ямы на Бурнаковской, третий год")
    run_once(ctx)
    assert f"-100002_{old['id']}_{late['id']}" in stored(ctx, "vk:-100002")

    clock.advance(timedelta(days=8))  # nobody wrote there for longer than keep_watching_days
    run_once(ctx)
    vk.comment(-100002, old["id"], "Спустя две недели")
    before = len(vk.served_ids("comment"))
    run_once(ctx)
    assert len(vk.served_ids("comment")) == before  # no longer watched


def test_the_watch_time_comes_from_tsur_toml(tmp_path, vk, clock, pipeline):
    from monitor.collectors import registry

    settings = make_settings(tmp_path, vk)
    raw = json.loads(json.dumps(CONFIG)) | {"vk": {"keep_watching_days": 1.5}}
    settings = settings_from_dict(raw, environ=settings.environ)
    plans = registry.build([{"key": "vk:-100002", "platform": "vk", "external_id": "-100002",
                             "role": "watched", "name": "x", "organisation_key": None}],
                           settings, clock)
    assert plans[0].collector.keep_watching == timedelta(days=1.5)


def test_comments_under_the_pinned_post_are_always_read(ctx, vk, clock):
    pinned = vk.post(-100002, "Задайте вопрос главе района")
    vk.pin(-100002, pinned["id"])
    for n in range(30):
        vk.post(-100002, f"Новость {n}")
    run_once(ctx)
    clock.advance(timedelta(days=60))
    question = vk.comment(-100002, pinned["id"], "Когда отремонтируют дорогу на Советской?")
    run_once(ctx)
    assert f"-100002_{pinned['id']}_{question['id']}" in stored(ctx, "vk:-100002")


# --- search -------------------------------------------------------------------------------------


def test_keyword_search_collects_posts_from_walls_nobody_polls(ctx, vk, runner, tmp_path):
    from monitor.catalog.sources import add_source

    add_source(ctx.db, ctx.settings, ctx.clock.now(), "vk", "Дзержинск вода", search=True,
               municipality="Дзержинск")
    vk.add_group(200001, "Дзержинск онлайн")
    vk.post(-200001, "В Дзержинске нет воды на Циолковского")
    vk.post(-200001, "Погода в Дзержинске")
    vk.post(-100002, "Дзержинск: вода будет к вечеру")  # polled wall: left to its own source

    run_once(ctx)

    found = stored(ctx, "vk:search:Дзержинск вода")
    assert [r["text"] for r in found.values()] == ["В Дзержинске нет воды на Циолковского"]
    assert ctx.db["posts"].count == 2  # the polled wall's post is stored once, by its wall
    assert run_once(ctx).ingested.stored == 0


# --- Long Poll ----------------------------------------------------------------------------------


@pytest.fixture
def lp_ctx(tmp_path, vk, clock, pipeline):
    from monitor.catalog.organisations import sync_from_settings
    from monitor.context import Context
    from monitor.store import open_db

    settings = make_settings(tmp_path, vk, long_poll=True)
    db = open_db(settings.database)
    sync_from_settings(db, settings, clock.now())
    yield Context(db, settings, clock, pipeline)
    db.close()


def test_long_poll_stores_new_edited_deleted_and_restored_comments(lp_ctx, vk):
    ctx = lp_ctx
    post = vk.post(-100001, "Отключение воды 17 ноября")
    run_once(ctx)  # first start: a wall sweep, then events from the new ts
    comment = vk.comment(-100001, post["id"], "А почему опять без предупреждения?")
    vk.edit_comment(-100001, comment["id"], "А почему опять без предупреждения? Дети без воды")
    vk.message(100001, 700002, "Здравствуйте, на Ошарской упало дерево на провода")
    run_once(ctx)

    rows = stored(ctx, "vk:-100001")
    external = f"-100001_{post['id']}_{comment['id']}"
    assert rows[external]["text"].endswith("Дети без воды")
    assert any(r["external_id"].startswith("msg700002_") for r in rows.values())

    vk.delete_comment(-100001, comment["id"])
    run_once(ctx)
    assert stored(ctx, "vk:-100001")[external]["deleted_at"] is not None
    vk.restore_comment(-100001, comment["id"])
    run_once(ctx)
    assert stored(ctx, "vk:-100001")[external]["deleted_at"] is None


def test_a_comment_and_its_edit_in_one_long_poll_answer_keep_both_texts(lp_ctx, vk):
    ctx = lp_ctx
    post = vk.post(-100001, "Отключение воды 17 ноября")
    run_once(ctx)
    comment = vk.comment(-100001, post["id"], "Почему без предупреждения?")
    vk.edit_comment(-100001, comment["id"], "Почему без предупреждения? Дети без воды")
    report = run_once(ctx)  # wall_reply_new and wall_reply_edit in one answer
    assert report.ingested.edited == 1
    row = stored(ctx, "vk:-100001")[f"-100001_{post['id']}_{comment['id']}"]
    assert row["text"] == "Почему без предупреждения? Дети без воды"
    assert versions(ctx, row) == ["Почему без предупреждения?"]


def test_duplicate_long_poll_events_are_stored_once(lp_ctx, vk):
    ctx = lp_ctx
    post = vk.post(-100001, "Пост")
    run_once(ctx)
    comment = vk.comment(-100001, post["id"], "Когда отремонтируют лифт на Белинского 32?")
    event = vk.events[100001][-1]
    vk.push(100001, event["type"], event["object"])
    vk.push(100001, event["type"], event["object"])
    report = run_once(ctx)
    assert report.ingested.stored == 1
    assert f"-100001_{post['id']}_{comment['id']}" in stored(ctx, "vk:-100001")


@pytest.mark.parametrize("failed", [1, 2, 3])
def test_long_poll_failures_recover_and_the_wall_sweep_fills_any_gap(lp_ctx, vk, failed):
    ctx = lp_ctx
    post = vk.post(-100001, "Пост")
    run_once(ctx)
    vk.inject("a_check", "error", failed)
    if failed == 2:
        vk.rotate_long_poll_key(100001)
    vk.comment(-100001, post["id"], "Нет света в Сормово с утра")
    run_once(ctx)
    run_once(ctx)
    assert set(stored(ctx, "vk:-100001")) == live_items(vk, -100001)


# --- errors -------------------------------------------------------------------------------------


def test_daily_limit_pauses_the_source_until_vk_resets_it(ctx, vk, clock):
    vk.post(-100002, "Пост")
    vk.inject("wall.get", "error", 29, owner_id=-100002)
    report = run_once(ctx)
    row = source_row(ctx, "vk:-100002")
    assert row["status"] == "quota" and row["last_error_code"] == 29
    assert row["retry_at"] == "2026-11-16T21:05:00+00:00"  # 00:05 Moscow time
    assert "vk:-100002" in report.failures
    assert "vk:-100003" not in report.failures  # the other source went on

    assert "vk:-100002" in run_once(ctx).skipped
    clock.advance(timedelta(hours=15))
    run_once(ctx)
    assert source_row(ctx, "vk:-100002")["status"] == "ok"
    assert len(stored(ctx, "vk:-100002")) == 1


@pytest.mark.parametrize("code", [15, 18, 30])
def test_no_access_marks_the_source_and_the_others_go_on(ctx, vk, code):
    vk.post(-100002, "Закрытая группа")
    vk.post(-100003, "Новость администрации")
    vk.inject("wall.get", "error", code, owner_id=-100002, times=None)
    run_once(ctx)
    row = source_row(ctx, "vk:-100002")
    assert row["status"] == "no_access" and row["last_error_code"] == code
    assert len(stored(ctx, "vk:-100003")) == 1


def test_comments_closed_on_one_post_do_not_stop_the_others(ctx, vk):
    closed = vk.post(-100002, "Комментарии закрыты")
    vk.comment(-100002, closed["id"], "успели написать")
    open_ = vk.post(-100002, "Обсуждение")
    vk.comment(-100002, open_["id"], "Где купить проездной?")
    vk.inject("wall.getComments", "error", 212, post_id=closed["id"], times=None)
    run_once(ctx)
    texts = {r["text"] for r in stored(ctx, "vk:-100002").values()}
    assert "Где купить проездной?" in texts and "успели написать" not in texts
    assert source_row(ctx, "vk:-100002")["status"] == "ok"


def test_an_expired_token_marks_sources_failing_and_raises_one_alert(ctx, vk):
    vk.expire_token("user-token")
    run_once(ctx)
    run_once(ctx, )
    row = source_row(ctx, "vk:-100002")
    assert row["status"] == "failing" and row["last_error_code"] == 5
    assert "renew the token" in row["last_error"]
    alerts = list(ctx.db["collector_alerts"].rows_where("source_id = ?", [row["id"]]))
    assert len(alerts) == 1 and alerts[0]["kind"] == "auth"


@pytest.mark.parametrize("fault", [
    ("error", 6), ("error", 9), ("error", 10), ("status", 502), ("drop", None),
    ("malformed", None), ("slow", 1.5),
])
def test_transient_failures_back_off_and_the_next_run_loses_nothing(ctx, vk, clock, monkeypatch,
                                                                    fault):
    monkeypatch.setattr(vk_client, "TIMEOUT", 0.5)
    post = vk.post(-100002, "Пост")
    vk.comment(-100002, post["id"], "Опять не ходит 45-й автобус")
    kind, value = fault
    vk.inject("wall.get", kind, value, owner_id=-100002)
    run_once(ctx)
    row = source_row(ctx, "vk:-100002")
    assert row["error_count"] == 1 and row["status"] == "ok" and row["last_error"]
    assert stored(ctx, "vk:-100002") == {}
    clock.advance(timedelta(minutes=10))
    run_once(ctx)
    assert set(stored(ctx, "vk:-100002")) == live_items(vk, -100002)
    assert source_row(ctx, "vk:-100002")["error_count"] == 0


def test_errors_inside_execute_back_off_the_whole_step(ctx, vk, clock):
    for n in range(3):
        post = vk.post(-100002, f"Пост {n}")
        vk.comment(-100002, post["id"], f"Комментарий {n}")
    vk.inject("wall.getComments", "error", 10)
    run_once(ctx)
    assert stored(ctx, "vk:-100002") == {}
    clock.advance(timedelta(minutes=1))
    run_once(ctx)
    assert set(stored(ctx, "vk:-100002")) == live_items(vk, -100002)


def test_repeated_transient_errors_turn_the_source_failing_with_an_alert(ctx, vk, clock):
    vk.inject("wall.get", "status", 503, owner_id=-100002, times=None)
    for _ in range(5):
        run_once(ctx)
        clock.advance(timedelta(minutes=10))
    row = source_row(ctx, "vk:-100002")
    assert row["status"] == "failing" and row["error_count"] == 5
    assert ctx.db["collector_alerts"].count_where("source_id = ?", [row["id"]]) == 1


def test_the_running_loop_retries_after_backing_off(ctx, vk):
    vk.post(-100002, "Пост")
    vk.inject("wall.get", "error", 6, owner_id=-100002, times=2)

    async def main():
        runner = Runner(ctx, backoff_base=0.01, idle_scale=0.001)
        task = asyncio.create_task(runner.run())
        for _ in range(200):
            await asyncio.sleep(0.05)
            if ctx.db["posts"].count_where("external_id LIKE '-100002_%'"):
                break
        runner.stop()
        await task

    asyncio.run(main())
    assert len(stored(ctx, "vk:-100002")) == 1
    assert len([c for c in vk.calls("wall.get") if c["params"]["owner_id"] == "-100002"]) >= 3


# --- kill and restart -------------------------------------------------------------------------


def test_kill_at_any_moment_and_restart_loses_nothing_and_stores_nothing_twice(tmp_path, vk):
    """`tsur collect` killed with SIGKILL twice while residents keep writing."""
    config = tmp_path / "tsur.toml"
    config.write_text(
        '[region]\ncode = "52"\n\n[[sources]]\nkey = "vk:-100002"\nplatform = "vk"\n'
        'name = "Подслушано"\nmunicipality = "Нижний Новгород"\n', encoding="utf-8")
    env = {**os.environ, "TSUR_CONFIG": str(config), "TSUR_DB": str(tmp_path / "kill.db"),
           "TSUR_VK_API_URL": vk.url, "TSUR_VK_TOKEN": "user-token"}
    vk.LONG_POLL_CAP = 0.1
    posts = [vk.post(-100002, f"Пост {n}") for n in range(5)]
    n = 0

    def write(count):
        nonlocal n
        for _ in range(count):
            n += 1
            parent = posts[n % 5]
            vk.comment(-100002, parent["id"], f"Комментарий жителя номер {n}: нет воды")

    progress = collect_with_kills(env, tmp_path / "kill.db", write)

    from monitor.store import open_db

    db = open_db(tmp_path / "kill.db")
    rows = [r["external_id"] for r in db.query(
        "SELECT external_id FROM posts WHERE source_id = (SELECT id FROM sources WHERE key = ?)",
        ["vk:-100002"])]
    assert len(rows) == len(set(rows)) == len(live_items(vk, -100002))
    assert set(rows) == live_items(vk, -100002)
    assert db["post_versions"].count == 0  # nothing was "edited" by a re-read
    served = {f"{o}_{i}" for kind, o, i in vk.served_ids() if kind == "post"}
    assert served <= set(rows)
    print("posts stored after each kill:", progress, "final:", len(rows))


def test_sigterm_stops_collect_cleanly(tmp_path, vk):
    config = tmp_path / "tsur.toml"
    config.write_text('[region]\ncode = "52"\n\n[[sources]]\nkey = "vk:-100002"\n'
                      'platform = "vk"\nname = "Подслушано"\n', encoding="utf-8")
    env = {**os.environ, "TSUR_CONFIG": str(config), "TSUR_DB": str(tmp_path / "term.db"),
           "TSUR_VK_API_URL": vk.url, "TSUR_VK_TOKEN": "user-token"}
    vk.post(-100002, "Пост")
    process = subprocess.Popen([sys.executable, "-c", "from monitor.cli import cli; cli()",
                                "collect", "--log-format",
                                "json"], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not vk.calls("wall.get"):
        time.sleep(0.1)
    time.sleep(0.5)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    events = [json.loads(line)["event"] for line in err.splitlines() if line.startswith("{")]
    assert "started" in events and events[-1] == "stopped"
    assert runner_module  # the module under test


def test_a_wall_post_deleted_on_vk_is_marked_deleted_with_its_comments(ctx, vk):
    older = vk.post(-100002, "Объявление: плановое отключение воды")
    post = vk.post(-100002, "На Бурнаковской третий день нет горячей воды!")
    comment = vk.comment(-100002, post["id"], "У нас тоже нет, дети без воды")
    run_once(ctx)

    vk.delete_post(-100002, post["id"])
    report = run_once(ctx)

    rows = stored(ctx, "vk:-100002")
    assert report.ingested.deleted == 2
    assert rows[f"-100002_{post['id']}"]["deleted_at"] is not None
    assert rows[f"-100002_{post['id']}_{comment['id']}"]["deleted_at"] is not None
    assert rows[f"-100002_{older['id']}"]["deleted_at"] is None
