"""Public channels through the t.me/s web preview, against a loopback preview server."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path

import pytest

from monitor.catalog.organisations import source_by_key
from monitor.cli import cli
from monitor.clock import iso
from monitor.collectors.base import SourceError
from monitor.collectors.tgweb import (
    TgWebCollector,
    TgWebOptions,
    channel_name,
    make_collector,
    parse_page,
    source_key,
)
from monitor.demo import DEMO_CONFIG
from monitor.ingest import ingest
from monitor.settings import ConfigError
from monitor.store import open_db
from tests.fakes.tgweb import TgWebFake

PAGES = Path(__file__).parent / "fakes" / "tgweb_pages"
KEY = "tgweb:gorodets_live"


def fixture(name: str) -> str:
    return (PAGES / name).read_text(encoding="utf-8")


def run(coroutine):
    return asyncio.run(coroutine)


class Ticker:
    """A monotonic clock the test moves; `sleep` advances it and records the wait."""

    def __init__(self):
        self.now, self.waits = 1000.0, []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


@pytest.fixture
def fake():
    with TgWebFake() as server:
        yield server


@pytest.fixture
def channel(fake):
    return fake.channel("Gorodets_Live", "Городец Live")


@pytest.fixture
def source(ctx):
    ctx.db["sources"].insert({"key": KEY, "platform": "tgweb", "name": "Городец Live",
                              "role": "watched", "municipality": "Городецкий",
                              "created_at": iso(ctx.clock.now())})
    return KEY


def collector(fake, ticker=None, **options) -> TgWebCollector:
    options = {"interval_seconds": 0, **options}
    extra = {"sleep": ticker.sleep, "monotonic": ticker} if ticker else {}
    return TgWebCollector(KEY, "gorodets_live", base_url=fake.url,
                          options=TgWebOptions(**options), **extra)


def stored_cursor(ctx):
    row = source_by_key(ctx.db, KEY)
    return json.loads(row["cursor"]) if row["cursor"] else None


def collect(ctx, collector):
    """One runner turn: a step from the stored cursor, then ingest of its batch."""
    batch = run(collector.step(stored_cursor(ctx)))
    report = ingest(ctx, batch.posts, cursor=(KEY, batch.cursor),
                    deleted=[(KEY, external_id) for external_id in batch.deleted])
    return batch, report


def drain(ctx, collector, limit=50):
    """Turns until the source has nothing more waiting; the ingest reports."""
    reports = []
    for _ in range(limit):
        batch, report = collect(ctx, collector)
        reports.append(report)
        if not batch.more:
            return reports
    raise AssertionError("the collector never finished paging")


def stored(ctx) -> dict[str, dict]:
    return {row["external_id"]: row for row in ctx.db["posts"].rows}


def ids(*numbers) -> set[str]:
    return {f"gorodets_live_{n}" for n in numbers}


# -- channel names ---------------------------------------------------------------------


@pytest.mark.parametrize("value", [
    "@gorodets_live", "gorodets_live", "Gorodets_Live", "t.me/gorodets_live",
    "https://t.me/gorodets_live", "https://t.me/s/gorodets_live", "https://t.me/gorodets_live/123",
    "https://t.me/s/Gorodets_Live/4102", "telegram.me/gorodets_live", " @gorodets_live ",
    "https://t.me/gorodets_live?before=100",
])
def test_every_usual_way_of_naming_a_channel_gives_one_name(value):
    assert channel_name(value) == "gorodets_live"
    assert source_key(value) == KEY


@pytest.mark.parametrize("value, says", [
    ("", "empty"),
    ("https://vk.com/gorodets_live", "not a t.me link"),
    ("https://t.me/+AbCdEf123", "invite link"),
    ("https://t.me/joinchat/AbCdEf123", "invite link"),
    ("https://t.me/c/1234567/89", "private channel"),
    ("@1gorodets", "not a public channel username"),
    ("@go", "not a public channel username"),
    ("gorodets live", "not a public channel username"),
    ("https://t.me/gorodets_live/abc", "not a link to a channel"),
    ("https://t.me/", "names no channel"),
])
def test_a_value_that_is_not_a_public_channel_is_refused_with_a_reason(value, says):
    with pytest.raises(ValueError, match=says):
        channel_name(value)


# -- parsing the hand-written pages ----------------------------------------------------


def test_newest_page_fixture_is_read_field_by_field():
    page = parse_page(fixture("gorodets_live.html"))
    assert page.title == "Городец Live"
    assert page.before == 4101
    assert sorted(page.present) == [4101, 4102, 4103, 4104, 4105, 4108]
    posts = {p.id: p for p in page.posts}
    assert sorted(posts) == [4102, 4103, 4104, 4105, 4108]  # 4101 is a service message

    water = posts[4102]
    assert water.text == ("Жители улицы Пролетарской третий день без воды 😡\n\n"
                          "В водоканале говорят, что авария на магистрали и сроков нет.\n"
                          "Подробности: gorodets-vodokanal.example/avaria\n#вода")
    assert water.date.isoformat() == "2026-11-15T07:15:40+00:00"
    assert water.date.utcoffset().total_seconds() == 0
    assert water.views == "1.2K"
    assert water.links == ("https://gorodets-vodokanal.example/avaria",)
    assert water.permalink == "https://t.me/Gorodets_Live/4102"
    assert water.forwarded_from is None and not water.edited

    repost = posts[4103]
    assert repost.forwarded_from == {"name": "Администрация Городецкого округа",
                                     "url": "https://t.me/gorodets_adm/777"}
    assert repost.edited and repost.views == "845"
    assert repost.text.endswith("ремонт теплотрассы.\nОбъезд по улице Урицкого.")

    photo = posts[4104]
    assert (photo.text, photo.media) == ("", ("photo",))

    reply = posts[4105]
    assert reply.reply_to == "https://t.me/Gorodets_Live/4102"
    assert reply.text.startswith("Читатель прислал:")  # not the quoted post's text

    album = posts[4108]
    assert album.text == "Яма на Садовой у школы №2 — колесо пробил\nФото от подписчика"
    assert album.media == ("photo",) and album.signature == "Мария, админ"
    assert album.raw()["date"] == "2026-11-16T06:40:12+00:00"


def test_oldest_page_fixture_has_no_more_link_and_names_media_and_polls():
    page = parse_page(fixture("gorodets_live_before_4101.html"))
    assert page.before is None  # the oldest page: only an «after» link
    assert sorted(page.present) == [1, 4098, 4100]
    fire, poll = page.posts
    assert fire.media == ("video",) and fire.text.startswith("Пожар на улице Кирова")
    assert fire.views == "5.6K"
    assert (poll.text, poll.media, poll.poll) == ("", ("poll",), "Где в Городце хуже всего дороги?")


def test_html_inside_a_post_is_kept_as_text():
    page = parse_page(fixture("gorodets_live.html"))
    hostile = next(p for p in page.posts if p.id == 4105)
    assert hostile.text == ('Читатель прислал: <script>alert("x")</script> и '
                            "<b>это не жирный</b> & воды так и нет")


def test_a_changed_layout_fixture_fails_naming_what_is_missing():
    # The real page with one post's <time datetime> turned into a plain <span>.
    old = '<time datetime="2026-11-15T07:15:40+00:00" class="time">10:15</time>'
    page = fixture("gorodets_live.html")
    assert old in page
    changed = page.replace(old, '<span class="time" title="15.11.2026 10:15">10:15</span>')
    with pytest.raises(SourceError) as error:
        parse_page(changed, where="https://t.me/s/gorodets_live")
    assert error.value.kind == "layout"
    assert "time[datetime]" in str(error.value) and "Gorodets_Live/4102" in str(error.value)


def test_a_private_channel_page_is_an_access_error_not_a_layout_one():
    with pytest.raises(SourceError) as error:
        parse_page(fixture("private_channel.html"))
    assert error.value.kind == "access" and "not a public channel" in str(error.value)


# -- the collector against the loopback preview ------------------------------------------


def test_first_run_pages_back_to_the_configured_depth_then_polls(ctx, source, fake, channel):
    channel.publish_many(70)  # ids 100..169
    reports = drain(ctx, collector(fake, depth_pages=3))
    assert [r.stored for r in reports] == [20, 20, 20]
    assert set(stored(ctx)) == ids(*range(110, 170))
    assert [(r.before, r.ids[0], r.ids[-1]) for r in fake.requests()] == [
        (None, 150, 169), (150, 130, 149), (130, 110, 129)]

    quiet, _ = collect(ctx, collector(fake))
    assert (quiet.posts, quiet.deleted, quiet.more) == ([], [], False)
    channel.publish_many(2)
    fresh, report = collect(ctx, collector(fake))
    assert [p.external_id for p in fresh.posts] == ["gorodets_live_170", "gorodets_live_171"]
    assert report.stored == 2 and len(fake.requests()) == 5
    assert all("tsur/" in r.user_agent for r in fake.ledger)


def test_posts_keep_permalink_views_forward_and_a_media_only_post_has_empty_text(
        ctx, source, fake, channel):
    channel.publish("Перекрыли Ленина", forwarded_from=("Администрация", "https://t.me/adm/5"))
    channel.publish("", media="photo")
    drain(ctx, collector(fake))
    rows = stored(ctx)
    repost, photo = rows["gorodets_live_100"], rows["gorodets_live_101"]
    assert repost["url"] == "https://t.me/Gorodets_Live/100" and repost["channel"] == "telegram"
    assert json.loads(repost["raw"])["forwarded_from"] == {"name": "Администрация",
                                                           "url": "https://t.me/adm/5"}
    assert json.loads(repost["raw"])["views"] == "1.3K"
    assert photo["text"] == "" and json.loads(photo["raw"])["media"] == ["photo"]
    assert repost["created_at"] == iso(channel.posts[100].date)


def test_hostile_markup_in_a_post_is_stored_as_its_text(ctx, source, fake, channel):
    channel.publish(text_html="&lt;img src=x onerror=alert(1)&gt; <b>жирный</b><br/>вторая строка")
    drain(ctx, collector(fake))
    assert stored(ctx)["gorodets_live_100"]["text"] == (
        "<img src=x onerror=alert(1)> жирный\nвторая строка")


def test_an_edit_comes_out_with_the_same_external_id_and_keeps_the_history(
        ctx, source, fake, channel):
    channel.publish_many(5)
    drain(ctx, collector(fake))
    channel.edit(102, "Свет дали, спасибо")
    batch, report = collect(ctx, collector(fake))
    assert [p.external_id for p in batch.posts] == ["gorodets_live_102"]
    assert report.edited == 1 and report.stored == 0
    row = stored(ctx)["gorodets_live_102"]
    assert row["text"] == "Свет дали, спасибо" and row["edited_at"]
    [version] = ctx.db["post_versions"].rows
    assert version["text"] == "Сообщение №102: нет света на улице Ленина"


def test_a_post_missing_from_the_page_that_covers_it_is_reported_deleted(
        ctx, source, fake, channel):
    channel.publish_many(30)  # 100..129; the newest page covers 110..129
    drain(ctx, collector(fake, depth_pages=2))
    channel.delete(120)
    channel.delete(129)  # the newest post: the newest page covers everything above 110
    channel.delete(105)  # older than the newest page: not re-read, so not reported
    batch, report = collect(ctx, collector(fake))
    assert batch.deleted == ["gorodets_live_120", "gorodets_live_129"]
    assert report.deleted == 2
    gone = {key for key, row in stored(ctx).items() if row["deleted_at"]}
    assert gone == ids(120, 129)
    again, _ = collect(ctx, collector(fake))
    assert again.deleted == []  # reported once


def test_a_429_is_honoured_with_its_retry_after(ctx, source, fake, channel):
    channel.publish_many(3)
    ticker = Ticker()
    reader = collector(fake, ticker)
    fake.fail(429, retry_after="120")
    with pytest.raises(SourceError) as error:
        run(reader.step(None))
    assert (error.value.kind, error.value.retry_after, error.value.code) == ("retry", 120, 429)
    ticker.now += 30
    with pytest.raises(SourceError) as early:
        run(reader.step(None))
    assert early.value.kind == "retry" and early.value.retry_after == pytest.approx(90)
    assert len(fake.ledger) == 1  # no request before Retry-After ran out
    ticker.now += 91
    batch = run(reader.step(None))
    assert len(batch.posts) == 3 and [r.status for r in fake.ledger] == [429, 200]
    assert ctx.db["posts"].count == 0  # a failed step hands nothing to ingest


def test_server_errors_back_off_exponentially_and_success_resets(fake, channel):
    channel.publish_many(3)
    ticker = Ticker()
    reader = collector(fake, ticker, backoff_seconds=30)
    fake.fail(503, times=3)
    waits = []
    for _ in range(3):
        with pytest.raises(SourceError) as error:
            run(reader.step(None))
        assert error.value.kind == "retry" and error.value.code == 503
        waits.append(error.value.retry_after)
        ticker.now += error.value.retry_after
    assert waits == [30, 60, 120]
    assert len(run(reader.step(None)).posts) == 3
    fake.fail(502)
    with pytest.raises(SourceError) as error:
        run(reader.step(None))
    assert error.value.retry_after == 30


def test_one_request_per_channel_per_interval(fake, channel):
    channel.publish_many(45)
    ticker = Ticker()
    reader = collector(fake, ticker, interval_seconds=60, depth_pages=3)
    cursor = None
    for _ in range(3):
        batch = run(reader.step(cursor))
        cursor = batch.cursor
        ticker.now += 5  # the runner comes back at once while paging
    assert ticker.waits == [pytest.approx(55), pytest.approx(55)]
    assert len(fake.requests()) == 3


@pytest.mark.parametrize("layout, missing", [
    ("no_date", ".tgme_widget_message_date time[datetime]"),
    ("renamed_wrap", ".tgme_widget_message_wrap"),
    ("renamed_history", "section.tgme_channel_history"),
    ("renamed_text", ".tgme_widget_message_text"),
])
def test_a_changed_layout_fails_loudly_and_stores_nothing(
        ctx, source, fake, channel, layout, missing):
    channel.publish_many(5)
    drain(ctx, collector(fake))
    before = (ctx.db["posts"].count, stored_cursor(ctx))
    channel.publish_many(3)
    fake.change_layout(layout)
    with pytest.raises(SourceError) as error:
        collect(ctx, collector(fake))
    assert error.value.kind == "layout"
    assert missing in str(error.value) and "nothing was stored" in str(error.value)
    assert (ctx.db["posts"].count, stored_cursor(ctx)) == before


def test_a_name_without_a_public_preview_is_an_access_error(fake):
    reader = TgWebCollector("tgweb:nobody_here", "nobody_here", base_url=fake.url,
                            options=TgWebOptions(interval_seconds=0))
    with pytest.raises(SourceError) as error:
        run(reader.step(None))
    assert error.value.kind == "access" and "no public preview" in str(error.value)


def test_a_pause_longer_than_a_page_is_paged_back_to_the_cursor(ctx, source, fake, channel):
    channel.publish_many(10)
    drain(ctx, collector(fake))
    channel.publish_many(50, prefix="Пока не смотрели")  # 110..159: two and a half pages
    reports = drain(ctx, collector(fake))
    assert [r.stored for r in reports] == [20, 20, 10]
    assert set(stored(ctx)) == ids(*range(100, 160))


def collect_once(ctx, fake):
    """`tsur collect --once` over this channel alone, as a new process would run it."""
    from monitor.collectors.registry import Plan
    from monitor.collectors.runner import Runner

    return run(Runner(ctx, once=True, plans=[Plan(KEY, "Городец Live", collector(fake))]).run())


def test_a_once_run_that_resumes_interrupted_paging_still_reads_the_newest_page(
        ctx, source, fake, channel, clock):
    from datetime import timedelta

    channel.publish_many(10)  # 100..109
    collect_once(ctx, fake)
    channel.publish_many(50)  # 110..159: paging back is needed
    fake.fail(502, times=1, after=1)  # the newest page, then the paging breaks off
    assert KEY in collect_once(ctx, fake).failures
    assert stored_cursor(ctx)["paging"], "the paging is left half done"
    channel.publish_many(5)  # 160..164, on the newest page only
    clock.advance(timedelta(hours=1))  # past the back-off

    collect_once(ctx, fake)

    assert set(stored(ctx)) == ids(*range(100, 165))
    assert stored_cursor(ctx)["paging"] is None and stored_cursor(ctx)["last_id"] == 164


def test_kill_and_restart_loses_nothing_and_stores_nothing_twice(ctx, source, fake, channel):
    channel.publish_many(50)  # 100..149
    first = collector(fake, depth_pages=3)
    reports = drain(ctx, first)
    channel.publish_many(45)  # 150..194: more than two pages while nobody looked
    batch, report = collect(ctx, first)
    reports.append(report)
    assert batch.more  # paging back to the stored cursor
    run(first.step(stored_cursor(ctx)))  # read a page, killed before ingest stored it

    restarted = collector(fake, depth_pages=3)  # a new process: only the stored cursor
    reports += drain(ctx, restarted)
    channel.edit(190, "Свет дали")
    channel.delete(185)
    channel.publish_many(3)  # 195..197
    reports += drain(ctx, restarted)

    rows = stored(ctx)
    assert set(rows) == ids(*channel.published)
    assert len(rows) == ctx.db["posts"].count == len(channel.published) == 98
    assert sum(r.stored for r in reports) == 98 and sum(r.duplicates for r in reports) == 0
    assert {key for key, row in rows.items() if row["deleted_at"]} == ids(185)
    assert [v["post_id"] for v in ctx.db["post_versions"].rows] == [rows["gorodets_live_190"]["id"]]
    assert rows["gorodets_live_190"]["text"] == "Свет дали"
    served = {i for r in fake.requests() for i in r.ids}
    assert ids(*served) - ids(*channel.deleted) <= set(rows)
    # 3 pages back, the newest page, the page read by the killed run, read again after
    # the restart, one more page back to the cursor, the newest page (the restarted process
    # had not read it yet), then one poll.
    assert [r.before for r in fake.requests()] == [None, 130, 110, None, 175, 175, 155, None,
                                                   None]


def test_make_collector_builds_from_a_source_row_with_the_base_url_from_the_environment(
        ctx, settings, fake, channel):
    channel.publish_many(2)
    configured = dataclasses.replace(
        settings, tgweb={"interval_seconds": 0, "depth_pages": 1},
        environ={**settings.environ, "TSUR_TELEGRAM_WEB_URL": fake.url})
    row = {"key": KEY, "name": "Городец Live", "cursor": None, "municipality": "Городецкий"}
    reader = make_collector(row, configured)
    assert (reader.channel, reader.source_key, reader.options.depth_pages, reader.interval) == (
        "gorodets_live", KEY, 1, 0)
    batch = run(reader.step(None))
    assert [p.external_id for p in batch.posts] == ["gorodets_live_100", "gorodets_live_101"]
    assert all(p.source == KEY for p in batch.posts)


def test_make_collector_refuses_other_keys_and_unknown_settings(settings):
    with pytest.raises(ValueError, match="tgweb:<channel>"):
        make_collector({"key": "vk:-100001"}, settings)
    with pytest.raises(ConfigError, match="unknown setting"):
        make_collector({"key": KEY}, dataclasses.replace(settings, tgweb={"depth": 3}))


def test_a_cursor_of_another_channel_starts_over_from_the_newest_page(fake, channel):
    channel.publish_many(3)
    batch = run(collector(fake).step({"v": 1, "channel": "someone_else", "last_id": 999,
                                      "paging": None, "seen": {}}))
    assert len(batch.posts) == 3 and batch.cursor["last_id"] == 102


# -- through the command line ------------------------------------------------------------


def test_channels_preview_prints_the_posts_and_stores_nothing(runner, fake, tmp_path):
    fake.serve_file("gorodets_live", "gorodets_live.html")
    env = {"TSUR_TELEGRAM_WEB_URL": fake.url, "TSUR_DB": str(tmp_path / "none.db")}
    result = runner.invoke(cli, ["--config", str(DEMO_CONFIG), "channels", "preview",
                                 "https://t.me/s/Gorodets_Live"], env=env)
    assert result.exit_code == 0, result.output
    assert "tgweb:gorodets_live: 5 posts" in result.output
    assert "4103  15.11.2026 12:30  845 views  https://t.me/Gorodets_Live/4103" in result.output
    assert "forwarded from Администрация Городецкого округа" in result.output
    assert '| Читатель прислал: <script>alert("x")</script>' in result.output
    assert not (tmp_path / "none.db").exists()


def test_channels_preview_explains_a_bad_name_and_a_missing_channel(runner, fake):
    env = {"TSUR_TELEGRAM_WEB_URL": fake.url}
    bad = runner.invoke(cli, ["--config", str(DEMO_CONFIG), "channels", "preview",
                              "https://vk.com/gorodets"], env=env)
    assert bad.exit_code == 2 and "not a t.me link" in bad.output
    missing = runner.invoke(cli, ["--config", str(DEMO_CONFIG), "channels", "preview",
                                  "nobody_here"], env=env)
    assert missing.exit_code == 1 and "no public preview for @nobody_here" in missing.output


def test_a_channel_added_as_a_source_is_collected_by_tsur_collect(runner, fake, channel, tmp_path):
    channel.publish_many(4)
    channel.publish("", media="photo")
    env = {"TSUR_TELEGRAM_WEB_URL": fake.url, "TSUR_DB": str(tmp_path / "tsur.db")}
    base = ["--config", str(DEMO_CONFIG)]
    assert runner.invoke(cli, base + ["db", "upgrade"], env=env).exit_code == 0
    added = runner.invoke(cli, base + ["sources", "add", "tgweb", "https://t.me/s/gorodets_live",
                                       "--municipality", "Городецкий"], env=env)
    assert added.exit_code == 0, added.output
    runner.invoke(cli, base + ["collect", "--once"], env=env)
    db = open_db(tmp_path / "tsur.db")
    rows = list(db.execute("SELECT p.external_id FROM posts p JOIN sources s ON s.id = p.source_id"
                           " WHERE s.platform = 'tgweb' ORDER BY p.external_id").fetchall())
    db.close()
    assert [r[0] for r in rows] == [f"gorodets_live_{i}" for i in range(100, 105)]
    assert [r.channel for r in fake.requests()] == ["gorodets_live"]


def test_a_damaged_cursor_fails_with_a_reason_instead_of_guessing(fake, channel):
    channel.publish_many(3)
    with pytest.raises(SourceError, match="stored cursor is damaged") as error:
        run(collector(fake).step({"v": 1, "channel": "gorodets_live", "last_id": "abc",
                                  "paging": None, "seen": {}}))
    assert error.value.kind == "layout" and fake.ledger == []
