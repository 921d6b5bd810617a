"""Deadlines stored on incidents: working hours at the edges, pauses, zones, overrides."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from test_lifecycle import make_incident, wf  # noqa: F401 (the workflow fixture)

from monitor.clock import parse_time
from monitor.context import Context
from monitor.incidents.deadlines import DUE_SOON, statuses, target_hours
from monitor.incidents.lifecycle import act
from monitor.settings import ConfigError, Organisation, settings_from_dict

MSK = timezone(timedelta(hours=3))
YEKT = timezone(timedelta(hours=5))
H = timedelta(hours=1)
DZR = {"organisation_id": "3"}  # adm-dzr


def at(ctx, *args, tz=MSK):
    ctx.clock.set(datetime(*args, tzinfo=tz))


def due(ctx, incident_id, target):
    value = ctx.db["incidents"].get(incident_id)[f"{target}_due_at"]
    return parse_time(value) if value else None


def test_field_practice_defaults(wf):  # noqa: F811
    s = wf.settings
    assert [target_hours(s, "first_reply", u) for u in ("critical", "high", "normal")] == [1, 2, 3]
    assert [target_hours(s, "draft", u) for u in ("high", "normal", "low")] == [4, 8, 9]
    assert target_hours(s, "executor", "normal") == 24
    assert target_hours(s, "resolve", "normal") == 63  # 7 working days of 9 hours


def test_friday_evening_waits_for_monday_but_the_executor_clock_does_not(wf):  # noqa: F811
    at(wf, 2026, 11, 20, 19, 0)  # Friday 19:00, after hours
    i = make_incident(wf)
    assert due(wf, i, "first_reply") == datetime(2026, 11, 23, 12, 0, tzinfo=MSK)
    assert due(wf, i, "executor") == datetime(2026, 11, 21, 19, 0, tzinfo=MSK)  # clock hours
    row = wf.db["incidents"].get(i)
    assert parse_time(row["next_due_at"]) == datetime(2026, 11, 21, 19, 0, tzinfo=MSK)


def test_critical_runs_on_calendar_hours(wf):  # noqa: F811
    at(wf, 2026, 11, 20, 19, 0)
    i = make_incident(wf, "Пахнет газом в подъезде", urgency="critical")
    assert due(wf, i, "first_reply") == datetime(2026, 11, 20, 20, 0, tzinfo=MSK)
    assert due(wf, i, "executor") == datetime(2026, 11, 20, 21, 0, tzinfo=MSK)


def test_new_year_holidays_are_skipped(wf):  # noqa: F811
    at(wf, 2025, 12, 30, 17, 0)  # one working hour left before 31 Dec - 11 Jan
    i = make_incident(wf)
    assert due(wf, i, "first_reply") == datetime(2026, 1, 12, 11, 0, tzinfo=MSK)


def test_transferred_working_saturday_counts(wf):  # noqa: F811
    at(wf, 2025, 10, 31, 17, 0)  # Friday after its 16:45 end; Sat 1 Nov 2025 is a working day
    i = make_incident(wf)
    assert due(wf, i, "first_reply") == datetime(2025, 11, 1, 12, 0, tzinfo=MSK)


def test_same_instant_in_regions_52_and_86(wf, settings, clock):  # noqa: F811
    instant = datetime(2026, 11, 16, 13, 30, tzinfo=UTC)  # 16:30 MSK, 18:30 YEKT
    clock.set(instant)
    moscow = make_incident(wf)
    hmao = Context(wf.db, replace(settings, region="86", timezone="Asia/Yekaterinburg"), clock,
                   wf.pipeline)
    yekaterinburg = make_incident(hmao)
    assert due(wf, moscow, "first_reply") == datetime(2026, 11, 17, 10, 30, tzinfo=MSK)
    assert due(wf, yekaterinburg, "first_reply") == datetime(2026, 11, 17, 12, 0, tzinfo=YEKT)


def test_waiting_for_the_author_pauses_the_clock_across_a_weekend(wf):  # noqa: F811
    at(wf, 2026, 11, 20, 10, 0)  # Friday
    i = make_incident(wf)
    act(wf, i, "assign", "moderator", **DZR)  # draft: 8 working hours from now
    assert due(wf, i, "draft") == datetime(2026, 11, 23, 10, 15, tzinfo=MSK)  # 6h45 + 1h15
    at(wf, 2026, 11, 20, 12, 0)
    act(wf, i, "ask_info", "moderator", text="Уточните номер дома")
    assert due(wf, i, "draft") is None  # paused: no moment yet
    at(wf, 2026, 11, 21, 12, 0)
    assert statuses(wf.db["incidents"].get(i), wf.clock.now())["draft"] == "paused"
    at(wf, 2026, 11, 23, 11, 0)  # Monday: the author answered
    act(wf, i, "info_received", "moderator")
    assert due(wf, i, "draft") == datetime(2026, 11, 23, 17, 0, tzinfo=MSK)  # 2 h + 6 h


def test_interim_reply_starts_seven_working_days(wf):  # noqa: F811
    i = make_incident(wf)  # Monday 16 Nov 2026, 10:00
    act(wf, i, "assign", "moderator", **DZR)
    act(wf, i, "submit_draft", "dzerzhinsk", text="Бригада выехала")
    act(wf, i, "approve_interim", "moderator")
    assert due(wf, i, "resolve") == datetime(2026, 11, 25, 11, 15, tzinfo=MSK)
    act(wf, i, "submit_draft", "dzerzhinsk", text="Сделано")
    row = act(wf, i, "approve_final", "moderator")
    assert statuses(row, wf.clock.now())["resolve"] == "met"
    assert row["next_due_at"] is None


def test_topic_overrides_and_calendar_targets_from_the_config(tmp_path):
    raw = {"deadlines": {"topics": {"health": {"first_reply": {"normal": 1}}},
                         "draft": {"normal": 6}, "calendar_hours": []}}
    s = settings_from_dict(raw, environ={})
    assert target_hours(s, "first_reply", "normal", "health") == 1
    assert target_hours(s, "first_reply", "normal", "housing") == 3
    assert target_hours(s, "first_reply", "low", "health") == 8  # falls back per urgency
    assert target_hours(s, "draft", "normal") == 6 and target_hours(s, "draft", "high") == 4


@pytest.mark.parametrize("raw, message", [
    ({"deadlines": {"answer": {"normal": 1}}}, "unknown target"),
    ({"deadlines": {"draft": {"urgent": 1}}}, "unknown urgency"),
    ({"deadlines": {"draft": {"normal": -1}}}, "non-negative"),
    ({"deadlines": {"topics": {"weather": {"draft": {"normal": 1}}}}}, "unknown topic"),
    ({"deadlines": {"calendar_hours": ["lunch"]}}, "unknown target"),
    ({"workflow": {"feedback_mode": "pigeon"}}, "feedback_mode"),
    ({"workflow": {"no_such_option": 1}}, "no_such_option"),
])
def test_bad_deadline_config_is_refused_with_the_place_to_fix(raw, message):
    with pytest.raises(ConfigError, match=message):
        settings_from_dict(raw, environ={})


def test_an_organisation_with_its_own_hours(wf, settings, clock):  # noqa: F811
    early = Organisation(key="adm-dzr", name="Администрация г. Дзержинска",
                         municipality="Дзержинск",
                         working_hours=("08:00-17:00",) * 5 + ("", ""))
    orgs = tuple(early if o.key == "adm-dzr" else o for o in settings.organisations)
    ctx = Context(wf.db, replace(settings, organisations=orgs), clock, wf.pipeline)
    i = make_incident(ctx)  # Monday 10:00
    act(ctx, i, "assign", "moderator", **DZR)
    assert due(ctx, i, "draft") == datetime(2026, 11, 17, 9, 0, tzinfo=MSK)  # 7 h + 1 h
    assert due(ctx, i, "first_reply") == datetime(2026, 11, 16, 13, 0, tzinfo=MSK)  # ЦУР hours


def test_statuses_are_computed_at_read_time(wf):  # noqa: F811
    i = make_incident(wf)  # first reply due 13:00
    row = wf.db["incidents"].get(i)
    first = parse_time(row["first_reply_due_at"])
    assert statuses(row, first - 2 * H)["first_reply"] == "on_time"
    assert statuses(row, first - DUE_SOON / 2)["first_reply"] == "due_soon"
    assert statuses(row, first + H)["first_reply"] == "overdue"
    assert statuses(row, first)["draft"] == "none"  # not assigned yet
    wf.clock.set(first + H)
    row = act(wf, i, "acknowledge", "moderator", text="Приняли в работу")
    assert statuses(row, first + 2 * H)["first_reply"] == "met_late"


def test_next_due_at_follows_every_input_change(wf):  # noqa: F811
    i = make_incident(wf)
    row = wf.db["incidents"].get(i)
    assert row["next_due_at"] == row["first_reply_due_at"]
    row = act(wf, i, "acknowledge", "moderator", text="Приняли")
    assert row["next_due_at"] == row["executor_due_at"]
    row = act(wf, i, "assign", "moderator", **DZR)
    assert row["next_due_at"] == row["draft_due_at"]
    row = act(wf, i, "reject", "moderator", reason="not_a_problem")
    assert row["next_due_at"] is None and row["next_check_at"] is None
