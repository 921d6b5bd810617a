"""`tsur demo` shows the whole loop: a month of worked history on Сводка, a live spike
with its banner, a queue that is not mostly overdue, the stream moved by whole days
with no text contradicting its date, and replies that really go out to the sandbox
and come back published with a link."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi.testclient import TestClient
from test_web import login

from monitor.cli import cli
from monitor.clock import parse_time
from monitor.commands.incidents import run_once
from monitor.context import Context
from monitor.demo import DEMO_CONFIG, DEMO_STREAM, whole_days
from monitor.demo.sandbox import Sandbox, configure
from monitor.incidents.lifecycle import act
from monitor.incidents.states import OPEN_STATUSES
from monitor.settings import load_settings
from monitor.web import auth
from monitor.web.app import create_app

OVERDUE_AT_MOST = 0.2  # of the open incidents at start (it was 228 of 247)
ZONE = ZoneInfo("Europe/Moscow")


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    from click.testing import CliRunner

    path = tmp_path_factory.mktemp("demo") / "tsur-demo.db"
    result = CliRunner().invoke(cli, ["demo", "--db", str(path), "--no-serve"])
    assert result.exit_code == 0, result.output
    assert "ready in" in result.output and "всплеск" in result.output
    return path, result.output


@pytest.fixture
def demo(demo_db):
    path, _ = demo_db
    ctx = Context.open(load_settings(DEMO_CONFIG, environ={"TSUR_DB": str(path)}), db_path=path)
    yield ctx
    ctx.db.close()


def client_for(ctx, who="moderator", password="moderator-demo"):
    auth.limiter.failures.clear()
    client = TestClient(create_app(ctx, secret_key="test-secret"))
    assert login(client, who, password).status_code == 303
    return client


def test_svodka_shows_a_month_of_reply_times(demo):
    text = client_for(demo).get("/dashboard").text
    period = re.search(r"Время реакции: первый ответ по периодам.*?</section>", text, re.S).group(0)
    rows = [re.findall(r"<td>([^<]*)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", period, re.S)]
    medians = [cells[4] for cells in rows if len(cells) == 7 and cells[4] != "—"]
    assert len(medians) >= 25  # a reply-time figure for (nearly) every day of the month
    assert "нет данных" not in period and period.count("<rect") > 50  # the chart has columns
    days = {r[0] for r in demo.db.execute(
        "SELECT date(first_reply_at, '+3 hours') FROM incidents WHERE first_reply_at IS NOT NULL")}
    assert len(days) >= 25


def test_most_incidents_were_answered_on_time(demo):
    answered, late = demo.db.execute(
        "SELECT COUNT(*), SUM(first_reply_at > first_reply_due_at) FROM incidents"
        " WHERE first_reply_at IS NOT NULL").fetchone()
    assert answered > 300 and late / answered < 0.1


def test_the_queue_at_start_is_not_mostly_overdue(demo):
    now = demo.clock.now().isoformat()
    marks = ", ".join("?" * len(OPEN_STATUSES))
    open_, overdue = demo.db.execute(
        f"SELECT COUNT(*), SUM(next_due_at < ?) FROM incidents WHERE status IN ({marks})",
        [now, *OPEN_STATUSES]).fetchone()
    assert open_ and overdue / open_ < OVERDUE_AT_MOST, (overdue, open_)
    assert demo.db.execute("SELECT COUNT(*) FROM incidents WHERE status = 'new'").fetchone()[0] > 0


def test_a_live_spike_shows_its_banner_and_its_mass_incident(demo):
    client = client_for(demo)
    for page in ("/", "/dashboard"):
        assert "Всплеск обращений" in client.get(page).text, page
    spike = demo.db.execute("SELECT incident_id, last_at, messages FROM spikes ORDER BY id DESC"
                            " LIMIT 1").fetchone()
    assert demo.clock.now() - parse_time(spike[1]) < timedelta(hours=1)
    assert f"Массовый инцидент №{spike[0]}" in client.get("/").text and spike[2] >= 7
    opened = demo.db.execute("SELECT opened_at FROM incidents WHERE id = ?", [spike[0]]).fetchone()[0]
    assert demo.clock.now() - parse_time(opened) < timedelta(hours=1)  # a new mass incident
    events = client.get(f"/incidents/{spike[0]}").text
    assert "Массовый инцидент: всплеск похожих обращений" in events


def test_replies_were_published_to_the_sandbox_with_links(demo):
    published, linked = demo.db.execute(
        "SELECT COUNT(*), SUM(url LIKE 'https://%') FROM outbox WHERE audience = 'resident' AND status = 'published'"
    ).fetchone()
    assert published > 500 and linked == published


def test_an_approved_reply_goes_out_to_the_sandbox_and_shows_as_published(demo):
    box = Sandbox().start()
    try:
        ctx = Context(demo.db, configure(demo.settings, box), demo.clock)
        incident = ctx.db.execute(
            "SELECT i.id FROM incidents i JOIN posts p ON p.id = i.post_id JOIN sources s"
            " ON s.id = p.source_id WHERE i.status = 'assigned' AND s.key = 'vk:-100003'"
            " ORDER BY i.id DESC LIMIT 1").fetchone()[0]
        text = "Здравствуйте! Бригада выехала, воду дадут к вечеру. <b>не тег</b>"
        act(ctx, incident, "submit_draft", "dzerzhinsk", text=text)
        act(ctx, incident, "approve_final", "moderator")
        with httpx.Client() as client:
            tally = run_once(ctx, client)  # what the demo's background worker does
        assert tally.replies >= 1
        assert box.published[-1]["text"] == text and box.published[-1]["platform"] == "VK"
        status, url = ctx.db.execute(
            "SELECT status, url FROM outbox WHERE audience = 'resident' AND incident_id = ? ORDER BY id DESC LIMIT 1",
            [incident]).fetchone()
        assert status == "published" and url.startswith("https://vk.com/wall-100003_")
        page = client_for(ctx).get(f"/incidents/{incident}").text
        assert url.replace("&", "&amp;") in page and "&lt;b&gt;не тег&lt;/b&gt;" in page
    finally:
        box.stop()


def test_the_sandbox_refuses_an_unknown_token_as_the_platforms_do():
    box = Sandbox().start()
    try:
        vk = httpx.post(f"{box.address}/vk/method/wall.createComment",
                        data={"access_token": "nope", "owner_id": "-1", "post_id": "1"}).json()
        assert vk["error"]["error_code"] == 5
        tg = httpx.post(f"{box.address}/telegram/botnope/sendMessage", json={"chat_id": 1})
        assert tg.status_code == 401 and tg.json()["ok"] is False
    finally:
        box.stop()


def test_the_stream_moves_by_whole_days_and_good_morning_stays_in_the_morning(demo):
    rows = demo.db.execute("SELECT text, created_at FROM posts WHERE text LIKE '%оброе утро%'")
    hours = [parse_time(at).astimezone(ZONE).hour for _, at in rows]
    assert hours and all(6 <= h < 12 for h in hours)
    end = datetime(2026, 11, 19, 22, 40, tzinfo=ZONE)
    for now in (datetime(2026, 12, 4, 9, 0, tzinfo=ZONE), datetime(2026, 12, 4, 23, 0, tzinfo=ZONE)):
        shift = whole_days(end, now, "Europe/Moscow")
        assert shift.seconds == 0 and end + shift <= now < end + shift + timedelta(days=1)


MONTHS = "января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|декабря"


def test_no_text_of_the_stream_names_a_calendar_date():
    """A date in a text would contradict its post once the stream moves to today."""
    dated = re.compile(rf"\b\d{{1,2}}(?:[–-]\d{{1,2}})?\s+(?:{MONTHS})")
    found = [r["text"] for r in map(json.loads, DEMO_STREAM.read_text(encoding="utf-8").splitlines())
             if dated.search(r["text"].replace("С 1 января", ""))]
    assert found == []


def test_a_second_demo_stages_nothing_twice(demo_db, runner):
    path, _ = demo_db
    result = runner.invoke(cli, ["demo", "--db", str(path), "--no-serve"])
    assert result.exit_code == 0, result.output
    assert "месяц до потока" not in result.output and "0 incidents opened" in result.output
