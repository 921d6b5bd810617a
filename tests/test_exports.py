"""Reports as tables against figures worked out by hand; CSV, JSON and XLSX read back
equal to them; an official's exports hold their organisation only."""

from __future__ import annotations

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
    municipality_names,
    open_by_municipality,
    read_csv,
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



def test_csv_is_what_a_russian_excel_opens(board, settings):
    ctx, ids = board
    names = municipality_names(settings)
    for name in REPORTS:  # every report: BOM, «;», Russian headings, one row per table row
        table = build(name, ctx.db, scope(ctx), ctx.settings)
        written = to_csv(table, names)
        assert written.startswith("\ufeff")
        assert written.splitlines()[0].removeprefix("\ufeff").split(";") == \
            [f'"{heading}"' for _, heading in table.columns], name
        assert len(read_csv(written)) == len(table.rows), name
    rows = {int(r["№"]): r for r in read_csv(to_csv(build("incidents", ctx.db, scope(ctx),
                                                          ctx.settings), names))}
    road = rows[ids["road"]]
    assert (road["статус"], road["тема"], road["муниципалитет"], road["открыт"]) == (
        "новый", "дороги и транспорт", "городской округ город Нижний Новгород",
        "16.11.2026 10:00")  # local time, no seconds, no offset
    assert rows[ids["spam"]]["статус"] == "отклонён"
    assert rows[ids["dzr"][0]]["первый ответ, ч"] == "1"
    assert rows[ids["late_nn"]]["открыт"] == "16.11.2026 23:30"
    text = to_csv(build("incidents", ctx.db, scope(ctx), ctx.settings), names)
    assert "roads_transport" not in text and "2026-11-16" not in text


def test_csv_writes_a_decimal_comma_and_russian_measures(board):
    ctx, _ = board
    table = times(ctx.db, scope(ctx), "topic", ("first_reply",))
    rows = {r["тема"]: r for r in read_csv(to_csv(table))}
    assert rows["ЖКХ"]["показатель"] == "первый ответ"
    assert rows["ЖКХ"]["доля просроченных"] == "0,5"  # 2 of 4 housing incidents (6 h late, one unanswered)
    days = read_csv(to_csv(times(ctx.db, scope(ctx), "day", ("first_reply",))))
    assert [r["день"] for r in days] == ["16.11.2026", "17.11.2026"]
    weeks = read_csv(to_csv(times(ctx.db, scope(ctx), "week", ("first_reply",))))
    assert [r["неделя"] for r in weeks] == ["неделя с 16.11.2026"]


def test_csv_defuses_formulas_in_post_text(board):
    ctx, _ = board
    [row] = read_csv(to_csv(recurring(ctx.db, scope(ctx))))
    assert row["текст"] == "'" + HOSTILE  # a spreadsheet shows it, never runs it


def test_xlsx_has_one_heading_row_russian_values_and_text_stays_text(board, settings):
    ctx, ids = board
    tables = [build(n, ctx.db, scope(ctx), ctx.settings) for n in REPORTS]
    data = to_xlsx(tables, municipality_names(settings))
    back = read_xlsx(data)
    assert list(back) == list(REPORTS)
    for table in tables:
        assert len(back[table.name]) == len(table.rows), table.name
    sheet = load_workbook(io.BytesIO(data))["recurring"]
    assert [c.value for c in sheet[1]] == [heading for _, heading in tables[
        REPORTS.index("recurring")].columns]  # one heading row, no keys above it
    assert sheet["A2"].value == ids["dzr"][0]
    assert sheet["H2"].value == HOSTILE and sheet["H2"].data_type == "s"  # not a formula
    assert sheet["G2"].value == datetime(2026, 11, 16, 10, 0)  # a real local date…
    assert sheet["G2"].number_format == "DD.MM.YYYY HH:MM"  # …shown the Russian way
    assert (sheet["C2"].value, sheet["D2"].value) == ("городской округ город Дзержинск", "ЖКХ")
    heat = load_workbook(io.BytesIO(data))["heatmap"]
    assert [c.value for c in heat[1]] == ["муниципалитет", "ЖКХ", "дороги и транспорт",
                                          "экология и мусор", "всего"]


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
    assert sheets["heatmap"][0]["всего"] == 4
    heat_csv = run(runner, settings, "--report", "heatmap", "--format", "csv")
    assert heat_csv.exit_code == 0
    rows = read_csv(heat_csv.output)
    assert [(r["муниципалитет"], r["всего"]) for r in rows] == [
        ("городской округ город Дзержинск", "4"), ("городской округ город Нижний Новгород", "2")]
    as_json = run(runner, settings, "--report", "volume", "--format", "json")
    assert json.loads(as_json.output)["reports"][0]["rows"][0]["incidents"] == 8
    times_csv = run(runner, settings, "--format", "csv", "--measure", "first_reply")
    assert "Администрация г. Дзержинска" in times_csv.output
    written = tmp_path / "times.csv"
    assert run(runner, settings, "--by", "topic", "--csv", str(written)).exit_code == 0
    assert written.read_text(encoding="utf-8").startswith('\ufeff"показатель";"тема"')
    assert "первый ответ" in written.read_text(encoding="utf-8")


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
    assert written.splitlines()[0] == '\ufeff"текст";"n"'
    [row] = read_csv(written)
    assert row == {"текст": safe, "n": "3"}
    for separator in (";", ",", "\t"):  # whatever a reader splits on, no field starts a formula
        fields = written.replace("\n", separator).split(separator)
        assert not any(f.strip().strip('"').startswith(("=", "+", "-", "@")) for f in fields)
