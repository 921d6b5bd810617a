"""The monthly rating computed by hand on a small set, its movement since the previous
month, residents' satisfaction in the reports, and `tsur report --report rating`."""

from __future__ import annotations

import json

import pytest
import test_web_admin as admin_tests
from test_web_admin import logged_in

from monitor.catalog.organisations import organisation_id
from monitor.cli import cli
from monitor.reports import exports
from monitor.reports.ratings import Month, rating, weighted
from monitor.settings import RATING_WEIGHTS
from monitor.web.app import create_app

seeded_template, web_ctx = admin_tests.seeded_template, admin_tests.web_ctx


def incident(ctx, n, org_key, municipality, opened, *, answered=None, status="answered",
             due=None, draft_due=None, solved=None, score=None, marks=(), extensions=()):
    """An incident row with exactly the inputs the rating reads (times in UTC)."""
    db = ctx.db
    with db.atomic():
        source = db.execute("SELECT id FROM sources WHERE key = 'vk:-100003'").fetchone()[0]
        post = db["posts"].insert({"source_id": source, "external_id": f"r{n}", "channel": "vk_comment",
                                   "text": f"обращение {n}", "created_at": opened,
                                   "collected_at": opened}).last_pk
        iid = db["incidents"].insert({
            "post_id": post, "status": status, "kind": "complaint", "topic": "housing",
            "municipality": municipality, "urgency": "normal",
            "organisation_id": organisation_id(db, org_key), "opened_at": opened,
            "updated_at": opened, "answered_at": answered, "resolve_due_at": due,
            "draft_due_at": draft_due, "feedback_solved": solved, "feedback_rating": score,
            "feedback_asked_at": answered if solved is not None else None,
            "feedback_at": answered if solved is not None else None}).last_pk
        for mark in marks:
            db["drafts"].insert({"incident_id": iid, "text": "ответ", "author": "x",
                                 "status": "approved", "created_at": opened, "quality": mark})
        for repeated in extensions:
            db["extensions"].insert({"incident_id": iid, "target": "resolve", "status": "approved",
                                     "requested_by": "x", "requested_at": opened, "reason": "x",
                                     "repeated": repeated})
    return iid


@pytest.fixture
def month(web_ctx):
    """November 2026 (the clock: 16 November): Дзержинск has three incidents, Нижний
    Новгород two, Арзамас one; in October Дзержинск was first and Нижний Новгород second."""
    i = incident
    # Дзержинск: on time in 10 h; late in 30 h (due after 20 h); still open past its draft due.
    i(web_ctx, 1, "adm-dzr", "Дзержинск", "2026-11-02T07:00:00+00:00",
      answered="2026-11-02T17:00:00+00:00", due="2026-11-05T07:00:00+00:00", solved=1, score=5,
      marks=("good",))
    i(web_ctx, 2, "adm-dzr", "Дзержинск", "2026-11-03T07:00:00+00:00",
      answered="2026-11-04T13:00:00+00:00", due="2026-11-04T03:00:00+00:00", solved=0, score=2,
      marks=("formal",), extensions=(0,))
    i(web_ctx, 3, "adm-dzr", "Дзержинск", "2026-11-04T07:00:00+00:00", status="assigned",
      draft_due="2026-11-05T07:00:00+00:00")
    # Нижний Новгород: two on time, 5 h and 7 h, nothing else known.
    i(web_ctx, 4, "adm-nn", "Нижний Новгород", "2026-11-05T07:00:00+00:00",
      answered="2026-11-05T12:00:00+00:00", due="2026-11-09T07:00:00+00:00")
    i(web_ctx, 5, "adm-nn", "Нижний Новгород", "2026-11-06T07:00:00+00:00",
      answered="2026-11-06T14:00:00+00:00", due="2026-11-09T07:00:00+00:00")
    # Арзамас: one incident, below the minimum volume of 2.
    i(web_ctx, 6, "adm-arz", "Арзамас", "2026-11-06T07:00:00+00:00",
      answered="2026-11-06T08:00:00+00:00")
    # October: Дзержинск alone, twice in 1 h.
    for n in (7, 8):
        i(web_ctx, n, "adm-dzr", "Дзержинск", f"2026-10-0{n}T07:00:00+00:00",
          answered=f"2026-10-0{n}T08:00:00+00:00")
    # Нижний Новгород in October: on time at 23:30 on the 31st (local time: still October),
    # and once late after 60 h: rated below Дзержинск.
    i(web_ctx, 9, "adm-nn", "Нижний Новгород", "2026-10-31T20:30:00+00:00",
      answered="2026-10-31T21:30:00+00:00")
    i(web_ctx, 10, "adm-nn", "Нижний Новгород", "2026-10-10T07:00:00+00:00",
      answered="2026-10-12T19:00:00+00:00", due="2026-10-11T07:00:00+00:00")
    return Month(None, "2026-11", web_ctx.clock.now(), web_ctx.settings)


def test_the_rating_computed_by_hand(web_ctx, month):
    rows = {r["group"]: r for r in rating(web_ctx.db, month, "organisation").rows}
    dzr = rows["Администрация г. Дзержинска"]
    assert {k: dzr[k] for k in ("incidents", "on_time_share", "average_h", "median_h",
                                "overdue_share", "extensions", "repeated_extensions",
                                "quality_marks", "quality", "feedback_answered",
                                "satisfied_share", "mean_rating")} == {
        "incidents": 3, "on_time_share": 0.3333, "average_h": 20.0, "median_h": 20.0,
        "overdue_share": 0.6667, "extensions": 1, "repeated_extensions": 0, "quality_marks": 2,
        "quality": 0.75, "feedback_answered": 2, "satisfied_share": 0.5, "mean_rating": 3.5}
    # 100 × (.25·1/3 + .15·(1 − 20/72) + .15·1/3 + .15·.75 + .15·.5 + .15·(3.5 − 1)/4)
    assert dzr["rating"] == 52.3
    nn = rows["Администрация г. Нижнего Новгорода"]
    # only on_time (1), speed (1 − 6/72) and not_overdue (1) have data: weights .25+.15+.15
    assert (nn["incidents"], nn["average_h"], nn["rating"]) == (2, 6.0, 97.7)
    assert rows["Администрация г. Арзамаса"]["rating"] is None


def test_ranks_and_the_months_movement(web_ctx, month):
    table = rating(web_ctx.db, month, "municipality")
    assert [(r["rank"], r["group"], r["movement"]) for r in table.rows] == [
        (1, "Нижний Новгород", "↑1"), (2, "Дзержинск", "↓1"), (None, "Арзамас", "не оценивается")]
    october = rating(web_ctx.db, month.previous(), "municipality")
    assert [(r["group"], r["incidents"]) for r in october.rows] == [
        ("Дзержинск", 2), ("Нижний Новгород", 2)]  # 31.10 23:30 local is October


def test_weights_count_only_the_parts_with_data():
    parts = {"on_time": 1.0, "speed": 0.5, "not_overdue": None, "quality": None,
             "satisfied": None, "score": None}
    assert weighted(parts, RATING_WEIGHTS) == round(100 * (.25 + .15 * .5) / .4, 1)
    assert weighted(dict.fromkeys(RATING_WEIGHTS), RATING_WEIGHTS) is None


def test_the_ratings_page_shows_the_weights_the_minimum_and_the_month(web_ctx, month):
    client = logged_in(create_app(web_ctx, secret_key="t"), "moderator", "moderator-demo")
    html = client.get("/ratings?month=2026-11").text
    assert "Рейтинг за 2026-11" in html and "не меньше 2 обращений" in html
    assert "доля в срок 0.25" in html and "52.3" in html and "не оценивается" in html
    assert client.get("/ratings").status_code == 200  # the current month by default
    assert client.get("/ratings?month=2026-13").status_code == 400
    csv_text = client.get("/ratings/export/rating-municipality.csv?month=2026-11").content.decode(
        "utf-8-sig")
    assert csv_text.splitlines()[1].startswith('"1";"↑1";"Нижний Новгород";"2"')  # Russian Excel
    official = logged_in(create_app(web_ctx, secret_key="t"), "dzerzhinsk", "official-demo")
    groups = {r["group"] for t in official.get("/ratings/export/all.json?month=2026-11").json()[
        "reports"] for r in t["rows"]}
    assert groups == {"Администрация г. Дзержинска", "Дзержинск"}


def test_satisfaction_in_the_reports_and_on_the_dashboard(web_ctx, month):
    scope = exports.Scope(None, web_ctx.clock.now(), "Europe/Moscow")
    rows = {r["group"]: r for r in exports.build("satisfaction-municipality", web_ctx.db, scope,
                                                 web_ctx.settings).rows}
    assert rows["Дзержинск"] == {"group": "Дзержинск", "asked": 2, "answered": 2,
                                      "satisfied_share": 0.5, "mean_rating": 3.5, "rated": 2}
    assert "satisfaction-organisation" in exports.REPORTS
    client = logged_in(create_app(web_ctx, secret_key="t"), "moderator", "moderator-demo")
    board = client.get("/dashboard?since=2026-10-01&until=2026-11-16").text
    assert "Удовлетворённость жителей" in board and "50 %" in board


def test_report_command_writes_the_rating_like_the_other_reports(web_ctx, month, runner, settings,
                                                                  tmp_path):
    base = ["--config", str(settings.path), "report", "--report", "rating", "--month", "2026-11"]
    env = {"TSUR_DB": str(settings.database)}
    printed = runner.invoke(cli, base, env=env)
    assert printed.exit_code == 0, printed.output
    assert "Рейтинг за 2026-11: организации" in printed.output
    as_json = runner.invoke(cli, [*base, "--format", "json"], env=env)
    names = [t["name"] for t in json.loads(as_json.output)["reports"]]
    assert names == ["rating-organisation", "rating-municipality"]
    as_csv = runner.invoke(cli, [*base, "--by", "municipality", "--format", "csv"], env=env)
    assert as_csv.output.splitlines()[1].startswith('"1";"↑1";"Нижний Новгород"')
    out = tmp_path / "rating.xlsx"
    assert runner.invoke(cli, [*base, "--format", "xlsx", "-o", str(out)], env=env).exit_code == 0
    assert set(exports.read_xlsx(out.read_bytes())) == {"rating-organisation", "rating-municipality"}
    bad = runner.invoke(cli, [*base[:-1], "2026-13"], env=env)
    assert bad.exit_code != 0 and "2026-13" in bad.output


def test_report_command_scopes_to_a_municipal_centre(web_ctx, month, runner, settings):
    env = {"TSUR_DB": str(settings.database)}
    base = ["--config", str(settings.path), "report", "--report", "rating", "--month", "2026-11",
            "--format", "json"]
    web_ctx.db.execute("UPDATE incidents SET tier = 'municipal' WHERE municipality = 'Дзержинск'")
    web_ctx.db.conn.commit()
    scoped = runner.invoke(cli, [*base, "--centre", "cur-dzr"], env=env)
    groups = {r["group"] for t in json.loads(scoped.output)["reports"] for r in t["rows"]}
    assert groups == {"Администрация г. Дзержинска", "Дзержинск"}
    unknown = runner.invoke(cli, [*base, "--centre", "nope"], env=env)
    assert unknown.exit_code != 0 and "cur-dzr" in unknown.output
