"""Response-time figures from SQL, checked against numbers worked out by hand."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from test_lifecycle import make_incident, wf  # noqa: F401 (the workflow fixture)

from monitor.cli import cli
from monitor.incidents.lifecycle import act
from monitor.reports.exports import read_csv
from monitor.reports.metrics import aggregate, per_incident

H = timedelta(hours=1)


@pytest.fixture
def history(wf):  # noqa: F811
    """Four Дзержинск incidents opened Monday 10:00 (first reply due 13:00), answered
    after 0.5, 2, 4 and 30 hours; one Нижний Новгород incident never answered; one spam."""
    start = wf.clock.now()
    ids = [make_incident(wf) for _ in range(4)]
    nn = make_incident(wf, "Яма на Родионова", topic="roads_transport",
                       municipality="Нижний Новгород", org="adm-nn")
    spam = make_incident(wf, "Купите окна")
    act(wf, spam, "reject", "moderator", reason="spam")
    for incident_id, hours in zip(ids, (0.5, 2, 4, 30), strict=True):
        wf.clock.set(start + hours * H)
        act(wf, incident_id, "acknowledge", "moderator", text="Приняли")
    wf.clock.set(start + 48 * H)
    return wf, ids, nn


def test_first_reply_figures_by_organisation(history):
    ctx, ids, nn = history
    rows = {a.group: a for a in aggregate(ctx.db, None, "first_reply", "organisation",
                                          now=ctx.clock.now())}
    dzr = rows["Администрация г. Дзержинска"]
    assert (dzr.incidents, dzr.measured) == (4, 4)
    assert dzr.average_h == pytest.approx(36.5 / 4, abs=0.006)
    assert (dzr.median_h, dzr.p90_h) == (3.0, 30.0)  # (2 + 4) / 2; nearest rank ⌈0.9·4⌉ = 4
    assert dzr.overdue_share == 0.5  # 4 h and 30 h missed 13:00
    assert dzr.buckets == {"0–1 ч": 1, "1–3 ч": 1, "3–8 ч": 1, "8–24 ч": 0, "24 ч+": 1}
    nn_row = rows["Администрация г. Нижнего Новгорода"]
    assert (nn_row.incidents, nn_row.measured, nn_row.median_h) == (1, 0, None)
    assert nn_row.overdue_share == 1.0  # still unanswered, long past its deadline
    assert "очередь ЦУР" not in rows  # the rejected spam is left out


def test_grouping_by_period_and_channel(history):
    ctx, _, _ = history
    [day] = aggregate(ctx.db, None, "first_reply", "day", now=ctx.clock.now())
    assert (day.group, day.incidents) == ("2026-11-16", 5)
    [channel] = aggregate(ctx.db, None, "first_reply", "channel", now=ctx.clock.now())
    assert (channel.group, channel.measured) == ("vk_comment", 4)


def test_an_official_sees_only_their_organisations_figures(history):
    ctx, ids, nn = history
    official = {"role": "official", "organisation_id": 3}
    rows = aggregate(ctx.db, official, "first_reply", "all", now=ctx.clock.now())
    assert [(r.group, r.incidents) for r in rows] == [("всего", 4)]
    seen = {r["id"] for r in per_incident(ctx.db, official)}
    assert set(ids) <= seen and nn not in seen  # (the rejected spam is theirs too)
    moderator = {"role": "moderator"}
    assert aggregate(ctx.db, moderator, "first_reply", "all", now=ctx.clock.now())[0].incidents == 5


def test_per_incident_hours(history):
    ctx, ids, _ = history
    rows = {r["id"]: r for r in per_incident(ctx.db, None)}
    assert [rows[i]["first_reply_h"] for i in ids] == [0.5, 2.0, 4.0, 30.0]
    assert rows[ids[0]]["executor_h"] is None


def test_unknown_grouping_is_refused(wf):  # noqa: F811
    with pytest.raises(ValueError, match="unknown grouping"):
        aggregate(wf.db, None, "first_reply", "colour", now=wf.clock.now())


def test_report_command_prints_and_writes_csv_and_json(history, runner, tmp_path, settings):
    ctx, _, _ = history
    out_csv, out_json = tmp_path / "r.csv", tmp_path / "r.json"
    from monitor.demo import DEMO_CONFIG

    result = runner.invoke(cli, ["--config", str(DEMO_CONFIG), "report", "--measure",
                                 "first_reply", "--since", "2026-11-16", "--until",
                                 "2026-11-16", "--csv", str(out_csv), "--json", str(out_json)],
                           env={"TSUR_DB": str(settings.database)})
    assert result.exit_code == 0, result.output
    assert "Администрация г. Дзержинска" in result.output and "50%" in result.output
    rows = read_csv(out_csv.read_text(encoding="utf-8"))  # for a Russian Excel
    assert {r["организация"] for r in rows} == {"Администрация г. Дзержинска",
                                                "Администрация г. Нижнего Новгорода"}
    assert {r["показатель"] for r in rows} == {"первый ответ"}
    data = json.loads(out_json.read_text(encoding="utf-8"))
    assert data["rows"][0]["median_h"] == 3.0
    empty = runner.invoke(cli, ["--config", str(DEMO_CONFIG), "report", "--since", "2020-01-01",
                                "--until", "2020-01-31"], env={"TSUR_DB": str(settings.database)})
    assert empty.exit_code == 0 and "нет инцидентов за период" in empty.output
    bad = runner.invoke(cli, ["--config", str(DEMO_CONFIG), "report", "--since", "16.11.2026"],
                        env={"TSUR_DB": str(settings.database)})
    assert bad.exit_code == 2 and "not a date" in bad.output


def test_exact_hours_land_in_their_own_bucket(wf):  # noqa: F811
    """Hours come from whole seconds: an answer after exactly 1 h and one after exactly 8 h
    are in «1–3 ч» and «8–24 ч», not a hair short of them."""
    start = wf.clock.now()
    ids = [make_incident(wf) for _ in range(2)]
    for incident_id, hours in zip(ids, (1, 8), strict=True):
        wf.clock.set(start + hours * H)
        act(wf, incident_id, "acknowledge", "moderator", text="Приняли")
    [row] = aggregate(wf.db, None, "first_reply", "all", now=wf.clock.now())
    assert row.buckets == {"0–1 ч": 0, "1–3 ч": 1, "3–8 ч": 0, "8–24 ч": 1, "24 ч+": 0}
    assert sorted(r["first_reply_h"] for r in per_incident(wf.db, None)) == [1.0, 8.0]
