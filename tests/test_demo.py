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
from monitor.collectors.ok.signature import signed
from monitor.commands.incidents import run_once
from monitor.context import Context
from monitor.demo import DEMO_CONFIG, DEMO_STREAM, replay, whole_days
from monitor.demo.sandbox import Sandbox, configure
from monitor.incidents.lifecycle import act
from monitor.incidents.states import OPEN_STATUSES
from monitor.replies import max_bot
from monitor.settings import load_settings
from monitor.web import auth
from monitor.web.app import create_app

HOSTILE = "Бригада выехала. <script>alert('x')</script> & «кавычки»"
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
    published = dict(demo.db.execute(
        "SELECT platform, COUNT(*) FROM outbox WHERE audience = 'resident' AND status = 'published'"
        " GROUP BY platform").fetchall())
    assert sum(published.values()) > 500 and published["max"] > 0 and published["ok"] > 0
    unlinked = demo.db.execute(
        "SELECT platform, external_id, url FROM outbox WHERE audience = 'resident'"
        " AND status = 'published' AND (url IS NULL OR url NOT LIKE 'https://%')").fetchall()
    # a private MAX chat or dialog has no public link: the reply is known by its MAX id
    assert all(platform == "max" and "_mid." in external for platform, external, _ in unlinked)
    waiting = demo.db.execute(  # nothing left undelivered because the sandbox did not speak it
        "SELECT COUNT(*) FROM outbox WHERE audience = 'resident' AND status != 'published'"
        " AND platform IN ('max', 'ok')").fetchone()[0]
    assert waiting == 0


def test_an_approved_reply_goes_out_to_the_sandbox_and_shows_as_published(demo, box):
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


@pytest.fixture
def box():
    """A running sandbox, stopped after the test."""
    sandbox = Sandbox().start()
    try:
        yield sandbox
    finally:
        sandbox.stop()


@pytest.fixture
def sandboxed(ctx, box):
    """A fresh demo database whose publisher sends to a running sandbox."""
    ctx.settings = configure(ctx.settings, box)
    return ctx, box


@pytest.mark.parametrize("external_id, platform, where, url", [
    ("-70001_mid.0000000000000001", "MAX", "chat -70001, reply to mid.0000000000000001", None),
    ("1000005202_mid.0000000000000006", "MAX", "chat 1000005202, reply to mid.0000000000000006",
     None),  # a dialog with the bot: answered in the same dialog
    ("53038939046008_155100000000101_9001", "Одноклассники",
     "topic 155100000000101, reply to 9001", "https://ok.ru/group/53038939046008/topic/155100000000101"),
])
def test_an_approved_reply_to_max_or_ok_goes_out_to_the_sandbox_and_shows_as_published(
        sandboxed, tmp_path, external_id, platform, where, url):
    ctx, box = sandboxed
    stream = tmp_path / "stream.jsonl"
    stream.write_text(next(line for line in DEMO_STREAM.read_text(encoding="utf-8").splitlines()
                           if json.loads(line)["external_id"] == external_id) + "\n", encoding="utf-8")
    replay(ctx, stream, exact=True)
    incident = ctx.db.execute("SELECT i.id FROM incidents i JOIN posts p ON p.id = i.post_id"
                              " WHERE p.external_id = ?", [external_id]).fetchone()[0]
    organisation = ctx.db.execute("SELECT id FROM organisations WHERE key = 'adm-dzr'").fetchone()[0]
    act(ctx, incident, "confirm", "moderator")
    act(ctx, incident, "assign", "moderator", organisation_id=organisation)
    act(ctx, incident, "submit_draft", "moderator", text=HOSTILE)
    act(ctx, incident, "approve_final", "moderator")
    with httpx.Client() as client:
        run_once(ctx, client)  # what the demo's background worker does
    [sent] = box.published
    assert (sent["platform"], sent["where"], sent["text"]) == (platform, where, HOSTILE)
    status, external, link = ctx.db.execute(
        "SELECT status, external_id, url FROM outbox WHERE audience = 'resident' AND incident_id = ?"
        " ORDER BY id DESC LIMIT 1", [incident]).fetchone()
    assert status == "published" and external.endswith(f"_{sent['id']}") and link == url
    page = httpx.get(box.address).text
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; «кавычки»" in page
    assert "<script>" not in page


def test_the_sandbox_refuses_an_unknown_token_as_the_platforms_do(box):
    vk = httpx.post(f"{box.address}/vk/method/wall.createComment",
                    data={"access_token": "nope", "owner_id": "-1", "post_id": "1"}).json()
    assert vk["error"]["error_code"] == 5
    tg = httpx.post(f"{box.address}/telegram/botnope/sendMessage", json={"chat_id": 1})
    assert tg.status_code == 401 and tg.json()["ok"] is False
    max_ = httpx.post(f"{box.address}/max/messages", params={"chat_id": -70001},
                      json={"text": "Ответ"}, headers={"Authorization": "nope"})
    assert max_.status_code == 401 and max_.json()["code"] == "verify.token"
    assert box.published == []


def test_a_private_max_reply_goes_to_the_residents_dialog(settings, box):
    env = box.environ(settings)
    with httpx.Client() as client:
        outcome = max_bot.send(client, env["TSUR_MAX_API_URL"], env["TSUR_MAX_BOT_TOKEN"],
                               {"user_id": 5202, "text": "Ответили вам лично."})
    assert outcome.result == "published" and outcome.external_id.startswith("1000005202_mid.")
    assert box.published[-1]["where"] == "dialog 5202"


def test_ok_refuses_an_unknown_key_a_bad_signature_and_an_unknown_session(settings, box):
    env = box.environ(settings)
    key, secret, token = (env[n] for n in ("TSUR_OK_APPLICATION_KEY",
                                           "TSUR_OK_APPLICATION_SECRET_KEY", "TSUR_OK_ACCESS_TOKEN"))
    comment = {"entityId": "155", "entityType": "GROUP_TOPIC", "comment": "Ответ"}

    def call(application_key, secret_key, access_token):
        data = signed("discussions.addDiscussionComment", comment, application_key=application_key,
                      access_token=access_token, application_secret_key=secret_key)
        return httpx.post(f"{env['TSUR_OK_API_URL']}/fb.do", data=data).json()

    assert call("NOPE", secret, token)["error_code"] == 101
    assert call(key, "wrong-secret", token)["error_code"] == 104
    assert call(key, secret, "nope")["error_code"] == 102
    chat = httpx.post(f"{env['TSUR_OK_API_URL']}/graph/me/messages/chat:C1",
                      params={"access_token": "nope"},
                      json={"recipient": {"chat_id": "chat:C1"}, "message": {"text": "x"}})
    assert chat.json()["error_code"] == 102 and box.published == []
    assert call(key, secret, token)["id"]


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
