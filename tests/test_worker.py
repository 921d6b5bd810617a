"""The deadline worker with a frozen clock, and its Telegram sender against the fake Bot API."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from test_lifecycle import make_incident

from monitor.catalog.organisations import sync_from_settings
from monitor.cli import cli
from monitor.clock import parse_time
from monitor.commands.incidents import run_once
from monitor.context import Context
from monitor.demo import DEMO_CONFIG
from monitor.incidents.lifecycle import act
from monitor.incidents.outbox import queue_notification
from monitor.incidents.worker import handle_due
from monitor.replies.notify import NotifyError, send_one
from monitor.store import open_db
from tests.fakes.telegram import FakeTelegram

MSK = timezone(timedelta(hours=3))
H = timedelta(hours=1)
MODERATORS, SUPERVISOR = -1009000000001, -1009000000002


@pytest.fixture
def fake():
    with FakeTelegram() as server:
        yield server


@pytest.fixture
def wctx(settings, clock, fake):
    """Demo settings plus a moderators' chat, a supervisor for adm-dzr, the fake bot."""
    orgs = tuple(replace(o, supervisor="заместитель главы администрации",
                         supervisor_chat_id=SUPERVISOR) if o.key == "adm-dzr" else o
                 for o in settings.organisations)
    s = replace(settings, organisations=orgs,
                workflow=replace(settings.workflow, moderators_chat_id=MODERATORS),
                environ={"TSUR_TELEGRAM_API_URL": fake.url, "TSUR_TELEGRAM_BOT_TOKEN": fake.token})
    db = open_db(s.database)
    sync_from_settings(db, s, clock.now())
    yield Context(db, s, clock, None)
    db.close()


def drain(ctx) -> int:
    n = 0
    while handle_due(ctx):
        n += 1
    return n


def events(ctx, incident_id, *names):
    return [(e["event"], json.loads(e["data"]).get("target"), e["occurred_at"])
            for e in ctx.db["incident_events"].rows_where("incident_id = ?", [incident_id],
                                                          order_by="id")
            if e["event"] in names]


def test_nothing_due_means_no_work(wctx):
    make_incident(wctx)  # first reply due 13:00, warning at 12:00
    assert handle_due(wctx) is False


def test_warning_before_and_breach_at_the_deadline_each_recorded_once(wctx):
    i = make_incident(wctx)  # Monday 10:00; first reply due 13:00 MSK
    wctx.clock.set(datetime(2026, 11, 16, 11, 59, tzinfo=MSK))
    assert drain(wctx) == 0
    wctx.clock.set(datetime(2026, 11, 16, 12, 0, tzinfo=MSK))
    assert drain(wctx) == 1
    assert events(wctx, i, "deadline_warning") == [
        ("deadline_warning", "first_reply", "2026-11-16T09:00:00+00:00")]
    wctx.clock.set(datetime(2026, 11, 16, 15, 30, tzinfo=MSK))  # the worker was down a while
    drain(wctx)
    drain(wctx)
    assert events(wctx, i, "deadline_breached", "escalated") == [
        ("deadline_breached", "first_reply", "2026-11-16T10:00:00+00:00"),  # the due moment
        ("escalated", "first_reply", "2026-11-16T10:00:00+00:00")]
    row = wctx.db["incidents"].get(i)
    assert row["escalations"] == 1
    escalated = json.loads(list(wctx.db["incident_events"].rows_where("event = 'escalated'"))[0]["data"])
    assert escalated["to"] == ["заместитель главы администрации", "ЦУР"]
    chats = [(n["chat_id"], n["text"][:40]) for n in wctx.db["outbox"].rows_where("audience = 'staff'")]
    assert [c for c, _ in chats] == [MODERATORS, MODERATORS, SUPERVISOR]
    assert "Скоро срок" in list(wctx.db["outbox"].rows_where("audience = 'staff'"))[0]["text"]
    # the next check is the executor's warning (24 clock hours after opening, minus one)
    assert parse_time(row["next_check_at"]) == datetime(2026, 11, 17, 9, 0, tzinfo=MSK)


def test_a_late_worker_records_the_breach_without_a_useless_warning(wctx):
    i = make_incident(wctx)
    wctx.clock.set(datetime(2026, 11, 18, 12, 0, tzinfo=MSK))  # two days later
    drain(wctx)
    assert [e[:2] for e in events(wctx, i, "deadline_warning", "deadline_breached")] == [
        ("deadline_breached", "first_reply"), ("deadline_breached", "executor")]


def test_meeting_the_target_cancels_the_warning(wctx):
    i = make_incident(wctx)
    wctx.clock.set(datetime(2026, 11, 16, 11, 0, tzinfo=MSK))
    act(wctx, i, "acknowledge", "moderator", text="Приняли")
    act(wctx, i, "assign", "moderator", organisation_id="3")
    wctx.clock.set(datetime(2026, 11, 16, 13, 30, tzinfo=MSK))
    drain(wctx)
    assert events(wctx, i, "deadline_warning", "deadline_breached") == []


def test_repeated_passes_never_record_a_breach_twice(wctx):
    make_incident(wctx)
    wctx.clock.set(datetime(2026, 11, 16, 14, 0, tzinfo=MSK))
    drain(wctx)
    n = wctx.db["incident_events"].count
    for _ in range(3):
        drain(wctx)
    assert wctx.db["incident_events"].count == n


def test_the_author_gets_a_reminder_after_a_day_of_silence(wctx):
    i = make_incident(wctx)
    act(wctx, i, "ask_info", "moderator", text="Уточните адрес")
    wctx.clock.advance(23 * H)
    drain(wctx)
    assert events(wctx, i, "info_reminder") == []
    wctx.clock.advance(2 * H)
    drain(wctx)
    assert [e[0] for e in events(wctx, i, "info_reminder")] == ["info_reminder"]
    purposes = [r["purpose"] for r in wctx.db["outbox"].rows_where("audience = 'resident'")]
    assert purposes == ["info_request", "info_reminder"]
    drain(wctx)
    assert len(events(wctx, i, "info_reminder")) == 1


def test_an_undisputed_resolution_is_closed_after_three_days(wctx):
    i = make_incident(wctx)
    for action, data in [("assign", {"organisation_id": "3"}), ("submit_draft", {"text": "Да"}),
                         ("approve_final", {}), ("resolve", {})]:
        act(wctx, i, action, "moderator", **data)
    wctx.clock.advance(71 * H)
    drain(wctx)
    assert wctx.db["incidents"].get(i)["status"] == "resolved"
    wctx.clock.advance(2 * H)
    drain(wctx)
    row = wctx.db["incidents"].get(i)
    assert row["status"] == "closed" and row["next_check_at"] is None
    last = list(wctx.db["incident_events"].rows_where("incident_id = ?", [i], order_by="id desc"))[0]
    assert (last["event"], last["actor"]) == ("close", "system:worker")


def test_a_broken_incident_is_retried_in_an_hour_and_does_not_stop_the_queue(wctx):
    bad, good = make_incident(wctx), make_incident(wctx)
    wctx.db.execute("UPDATE incidents SET first_reply_due_at = 'not a time' WHERE id = ?", [bad])
    wctx.clock.set(datetime(2026, 11, 16, 14, 0, tzinfo=MSK))
    drain(wctx)
    assert parse_time(wctx.db["incidents"].get(bad)["next_check_at"]) == wctx.clock.now() + H
    assert events(wctx, good, "deadline_breached")


def test_notifications_go_through_the_bot_once(wctx, fake):
    make_incident(wctx)
    wctx.clock.set(datetime(2026, 11, 16, 13, 30, tzinfo=MSK))
    with httpx.Client() as client:
        tally = run_once(wctx, client)
        assert tally.notifications == 2 and run_once(wctx, client).notifications == 0
    assert [int(m["chat_id"]) for m in fake.sent] == [MODERATORS, SUPERVISOR]
    assert "Инцидент №1" in fake.sent[0]["text"] and "Просрочено" in fake.sent[0]["text"]
    assert {n["status"] for n in wctx.db["outbox"].rows_where("audience = 'staff'")} == {"sent"}


def test_too_many_requests_waits_for_retry_after(wctx, fake):
    note = queue_notification(wctx.db, MODERATORS, "проверка", wctx.clock.now())
    fake.inject("sendMessage", "error", 429, extra={"retry_after": 30})
    with httpx.Client() as client:
        assert send_one(wctx, client) is True
        row = wctx.db["outbox"].get(note)
        assert row["status"] == "pending" and "Too Many Requests" in row["error"]
        assert send_one(wctx, client) is False  # not before 30 s
        wctx.clock.advance(timedelta(seconds=31))
        assert send_one(wctx, client) is True
    assert wctx.db["outbox"].get(note)["status"] == "sent" and len(fake.sent) == 1


def test_a_kicked_bot_fails_the_row_and_a_dropped_answer_is_not_resent(wctx, fake):
    queue_notification(wctx.db, MODERATORS, "первое", wctx.clock.now())
    queue_notification(wctx.db, MODERATORS, "второе", wctx.clock.now())
    fake.inject("sendMessage", "error", 403)
    fake.inject("sendMessage", "drop")
    with httpx.Client() as client:
        while send_one(wctx, client):
            pass
    rows = list(wctx.db["outbox"].rows_where("audience = 'staff'"))
    assert [r["status"] for r in rows] == ["failed", "failed"]
    assert "kicked" in rows[0]["error"] and "maybe delivered" in rows[1]["error"]


def test_without_a_token_notifications_stay_queued(wctx):
    ctx = replace(wctx, settings=replace(wctx.settings, environ={}))
    note = queue_notification(ctx.db, MODERATORS, "проверка", ctx.clock.now())
    with httpx.Client() as client, pytest.raises(NotifyError, match="TSUR_TELEGRAM_BOT_TOKEN"):
        send_one(ctx, client)
    assert ctx.db["outbox"].get(note)["status"] == "pending"


def test_worker_command_once(tmp_path, runner, fake, clock):
    config = tmp_path / "tsur.toml"
    config.write_text(DEMO_CONFIG.read_text(encoding="utf-8").replace(
        "[workflow]", f"[workflow]\nmoderators_chat_id = {MODERATORS}"), encoding="utf-8")
    env = {"TSUR_DB": str(tmp_path / "w.db"), "TSUR_TELEGRAM_API_URL": fake.url,
           "TSUR_TELEGRAM_BOT_TOKEN": fake.token}
    from monitor.settings import load_settings

    settings = load_settings(config, environ=env)
    db = open_db(settings.database)
    sync_from_settings(db, settings, clock.now())
    clock.set(datetime(2024, 6, 3, 10, 0, tzinfo=MSK))  # long past: everything is overdue
    make_incident(Context(db, settings, clock, None))
    db.close()
    result = runner.invoke(cli, ["--config", str(config), "worker", "--once"], env=env)
    assert result.exit_code == 0, result.output
    assert "1 incidents checked, 2 notifications handled" in result.output  # reply + executor
    assert len(fake.sent) == 2 and all("Просрочено" in m["text"] for m in fake.sent)
