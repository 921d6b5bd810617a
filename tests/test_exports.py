"""Reports as tables against figures worked out by hand; CSV, JSON and XLSX read back
equal to them; an official's exports hold their organisation only."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from test_lifecycle import make_incident, wf  # noqa: F401 (the workflow fixture)

from monitor.catalog.organisations import organisation_id
from monitor.cli import cli
from monitor.demo import DEMO_CONFIG
from monitor.incidents.lifecycle import act
from monitor.reports.exports import (
    REPORTS,
    Scope,
    build,
    heatmap,
    open_by_municipality,
    read_xlsx,
    recurring,
    region_coords,
    times,
    to_csv,
    to_json,
    to_xlsx,
    volume,
)

H = timedelta(hours=1)
MONDAY_10 = datetime(2026, 11, 16, 7, 0, tzinfo=UTC)  # 10:00 MSK
HOSTILE = '=HYPERLINK("http://evil.example","нажми") <script>alert(1)</script>'


@pytest.fixture
def board(wf):  # noqa: F811
    """Hand-made history (MSK):
    Mon 10:00  three Дзержинск housing complaints (adm-dzr), first replies after 1, 2, 6 h;
               two more linked by hand to the first (repeats 2); a spam rejected;
               a Нижний Новгород road complaint (adm-nn), never answered
    Mon 23:30  a Нижний Новгород housing complaint (adm-nn): still Monday locally
    Tue 00:30  a Дзержинск waste complaint (adm-dzr): Tuesday locally, Monday in UTC
    now: Wed 10:00."""
    ctx = wf
    ctx.clock.set(MONDAY_10)
    dzr = [make_incident(ctx, HOSTILE if i == 0 else f"Нет горячей воды, дом {i}")
           for i in range(3)]
    linked = [make_incident(ctx, f"И у нас нет воды {i}") for i in range(2)]
    spam = make_incident(ctx, "Купите окна")
    road = make_incident(ctx, "Яма на Родионова", topic="roads_transport",
                         municipality="Нижний Новгород", org="adm-nn")
    for incident_id in linked:
        act(ctx, incident_id, "link_repeat", "moderator", repeat_of=dzr[0])
    act(ctx, spam, "reject", "moderator", reason="spam")
    for incident_id, hours in zip(dzr, (1, 2, 6), strict=True):
        ctx.clock.set(MONDAY_10 + hours * H)
        act(ctx, incident_id, "acknowledge", "moderator", text="Приняли")
    ctx.clock.set(MONDAY_10 + 13.5 * H)
    late_nn = make_incident(ctx, "Холодные батареи", municipality="Нижний Новгород", org="adm-nn")
    ctx.clock.set(MONDAY_10 + 14.5 * H)
    waste = make_incident(ctx, "Мусор не вывозят", topic="ecology_waste")
    ctx.clock.set(MONDAY_10 + 48 * H)
    return ctx, {"dzr": dzr, "linked": linked, "spam": spam, "road": road, "late_nn": late_nn,
                 "waste": waste}


def scope(ctx, viewer=None, **period):
    return Scope(viewer, ctx.clock.now(), ctx.settings.timezone, **period)


def official(ctx, key):
    return {"role": "official", "organisation_id": organisation_id(ctx.db, key)}


def test_volume_counts_incidents_and_messages_per_local_day(board):
    ctx, _ = board
    assert volume(ctx.db, scope(ctx)).rows == [
        {"day": "2026-11-16", "messages": 8, "incidents": 8},  # 23:30 MSK is still Monday
        {"day": "2026-11-17", "messages": 1, "incidents": 1},  # 00:30 MSK is Tuesday
    ]
    mine = volume(ctx.db, scope(ctx, official(ctx, "adm-dzr")))
    assert "messages" not in mine.fields()  # all collected messages are not an official's
    assert mine.rows == [{"day": "2026-11-16", "incidents": 6},
                         {"day": "2026-11-17", "incidents": 1}]


def test_response_times_by_organisation_come_from_metrics(board):
    ctx, _ = board
    rows = {r["group"]: r for r in times(ctx.db, scope(ctx), "organisation", ("first_reply",)).rows}
    dzr = rows["Администрация г. Дзержинска"]
    # rejected ones left out: three answered + the unanswered waste complaint
    assert (dzr["incidents"], dzr["measured"]) == (4, 3)
    assert (dzr["average_h"], dzr["median_h"], dzr["p90_h"]) == (3.0, 2.0, 6.0)
    assert dzr["overdue_share"] == 0.5  # the 6 h reply and the unanswered one
    assert rows["Администрация г. Нижнего Новгорода"]["overdue_share"] == 1.0


def test_heatmap_counts_open_and_closed_but_not_rejected(board):
    ctx, _ = board
    table = heatmap(ctx.db, scope(ctx))
    assert table.rows == [
        {"municipality": "Дзержинск", "housing": 3, "roads_transport": 0, "ecology_waste": 1,
         "total": 4},
        {"municipality": "Нижний Новгород", "housing": 1, "roads_transport": 1,
         "ecology_waste": 0, "total": 2},
    ]
    assert table.fields() == ["municipality", "housing", "roads_transport", "ecology_waste",
                              "total"]


def test_open_incidents_per_municipality_with_coordinates(board, settings):
    ctx, _ = board
    coords = region_coords(settings)
    assert coords["Дзержинск"] == (56.238, 43.46)
    rows = open_by_municipality(ctx.db, scope(ctx), coords).rows
    assert rows == [{"municipality": "Дзержинск", "open": 4, "lat": 56.238, "lon": 43.46},
                    {"municipality": "Нижний Новгород", "open": 2, "lat": 56.324, "lon": 44.005}]


def test_recurring_problems_are_the_incidents_with_most_repeats(board):
    ctx, ids = board
    [top] = recurring(ctx.db, scope(ctx)).rows
    assert (top["id"], top["repeats"], top["text"]) == (ids["dzr"][0], 2, HOSTILE)
    assert top["opened_at"] == "2026-11-16T10:00:00+03:00"  # local time with its offset


def test_the_period_is_a_range_of_local_days(board):
    ctx, _ = board
    tuesday = datetime(2026, 11, 16, 21, 0, tzinfo=UTC)  # Tue 00:00 MSK
    rows = volume(ctx.db, scope(ctx, since=tuesday)).rows
    assert rows == [{"day": "2026-11-17", "messages": 1, "incidents": 1}]


def test_every_report_is_scoped_to_an_officials_organisation(board):
    ctx, ids = board
    viewer = official(ctx, "adm-nn")
    tables = {n: build(n, ctx.db, scope(ctx, viewer), ctx.settings) for n in REPORTS}
    assert {r["id"] for r in tables["incidents"].rows} == {ids["road"], ids["late_nn"]}
    assert [r["municipality"] for r in tables["heatmap"].rows] == ["Нижний Новгород"]
    assert [r["municipality"] for r in tables["open"].rows] == ["Нижний Новгород"]
    assert tables["recurring"].rows == []
    assert {r["group"] for r in tables["times-organisation"].rows} == {
        "Администрация г. Нижнего Новгорода"}
    assert sum(r["incidents"] for r in tables["volume"].rows) == 2


def _typed(value: str):
    if value == "":
        return None
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value[1:] if value.startswith("'=") else value


def test_csv_reads_back_equal_to_the_figures(board):
    ctx, _ = board
    for name in REPORTS:
        table = build(name, ctx.db, scope(ctx), ctx.settings)
        back = list(csv.DictReader(io.StringIO(to_csv(table))))
        assert [{k: _typed(v) for k, v in row.items()} for row in back] == \
            [{k: row.get(k) for k in table.fields()} for row in table.rows], name


def test_csv_defuses_formulas_in_post_text(board):
    ctx, _ = board
    [row] = list(csv.DictReader(io.StringIO(to_csv(recurring(ctx.db, scope(ctx))))))
    assert row["text"] == "'" + HOSTILE  # a spreadsheet shows it, never runs it


def test_xlsx_reads_back_equal_to_the_figures_and_text_stays_text(board, tmp_path):
    ctx, _ = board
    tables = [build(n, ctx.db, scope(ctx), ctx.settings) for n in REPORTS]
    data = to_xlsx(tables)
    back = read_xlsx(data)
    assert list(back) == list(REPORTS)
    for table in tables:
        assert back[table.name] == [{k: row.get(k) for k in table.fields()}
                                    for row in table.rows], table.name
    sheet = load_workbook(io.BytesIO(data))["recurring"]
    assert sheet["H3"].value == HOSTILE and sheet["H3"].data_type == "s"  # not a formula
    assert sheet["A2"].value == "№"  # people's headings under the keys


def test_json_carries_every_row(board):
    ctx, _ = board
    table = heatmap(ctx.db, scope(ctx))
    data = json.loads(to_json([table], since="2026-11-16"))
    assert data["reports"][0]["rows"] == table.rows and data["since"] == "2026-11-16"


def run(runner, settings, *args):
    return runner.invoke(cli, ["--config", str(DEMO_CONFIG), "report", *args],
                         env={"TSUR_DB": str(settings.database)})


def test_report_command_writes_every_report_as_xlsx_csv_and_json(board, runner, settings,
                                                                  tmp_path):
    ctx, _ = board
    out = tmp_path / "all.xlsx"
    result = run(runner, settings, "--report", "all", "--format", "xlsx", "-o", str(out))
    assert result.exit_code == 0, result.output
    sheets = read_xlsx(out)
    assert set(sheets) == set(REPORTS)
    assert sheets["heatmap"][0]["total"] == 4
    heat_csv = run(runner, settings, "--report", "heatmap", "--format", "csv")
    assert heat_csv.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(heat_csv.output)))
    assert [(r["municipality"], r["total"]) for r in rows] == [("Дзержинск", "4"),
                                                                ("Нижний Новгород", "2")]
    as_json = run(runner, settings, "--report", "volume", "--format", "json")
    assert json.loads(as_json.output)["reports"][0]["rows"][0]["incidents"] == 8
    times_csv = run(runner, settings, "--format", "csv", "--measure", "first_reply")
    assert "Администрация г. Дзержинска" in times_csv.output


def test_report_command_scopes_to_an_organisation_and_prints_tables(board, runner, settings):
    result = run(runner, settings, "--report", "heatmap", "--organisation", "adm-nn")
    assert result.exit_code == 0, result.output
    assert "Нижний Новгород" in result.output and "Дзержинск" not in result.output
    unknown = run(runner, settings, "--report", "volume", "--organisation", "nope")
    assert unknown.exit_code == 2 and "adm-dzr" in unknown.output


def test_report_command_refuses_what_it_cannot_write(board, runner, settings):
    assert "--output" in run(runner, settings, "--report", "open", "--format", "xlsx").output
    both = run(runner, settings, "--report", "all", "--format", "csv")
    assert both.exit_code == 2 and "one report" in both.output


@pytest.mark.parametrize("text, safe", [
    ("Адрес;=cmd|' /C calc'!A0", "Адрес;'=cmd|' /C calc'!A0"),  # read with «;», the part after it
    ("первая строка\n=HYPERLINK(\"x\")", "первая строка\n'=HYPERLINK(\"x\")"),
    ("итог,  @SUM(A1)", "итог,  '@SUM(A1)"),
    ("обычный текст; без формул", "обычный текст; без формул"),
])
def test_csv_quotes_every_cell_and_defuses_a_formula_after_any_separator(text, safe):
    from monitor.reports.exports import Table, to_csv

    table = Table("t", "t", [("text", "текст"), ("n", "n")], [{"text": text, "n": 3}])
    written = to_csv(table)
    assert written.splitlines()[0] == '"text","n"'
    [row] = list(csv.DictReader(io.StringIO(written)))
    assert row == {"text": safe, "n": "3"}
    for separator in (";", ",", "\t"):  # whatever a reader splits on, no field starts a formula
        fields = written.replace("\n", separator).split(separator)
        assert not any(f.strip().strip('"').startswith(("=", "+", "-", "@")) for f in fields)
