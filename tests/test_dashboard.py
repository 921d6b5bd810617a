"""The dashboard page and its downloads through the web app: hand-computed figures,
an official's view limited to their organisation, escaped labels, no script."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from test_exports import HOSTILE, board  # noqa: F401 (the hand-made history)
from test_lifecycle import make_incident, wf  # noqa: F401
from test_web import login

from monitor.clock import iso
from monitor.demo import seed_users
from monitor.reports.exports import REPORTS, read_csv, read_xlsx
from monitor.web import auth
from monitor.web.app import create_app


@pytest.fixture
def app(board):  # noqa: F811
    ctx, ids = board
    seed_users(ctx)
    auth.limiter.failures.clear()
    return create_app(ctx, secret_key="test-secret"), ctx, ids


def client_for(app, who="moderator", password="moderator-demo"):
    client = TestClient(app)
    assert login(client, who, password).status_code == 303
    return client


PERIOD = "since=2026-11-16&until=2026-11-18"


def test_the_dashboard_shows_every_section_with_hand_computed_figures(app):
    web, _, _ = app
    page = client_for(web).get(f"/dashboard?{PERIOD}")
    assert page.status_code == 200
    text = page.text
    for heading in ("Поступление", "Время реакции", "Повторяющиеся проблемы",
                    "Муниципалитеты × темы", "Открытые инциденты на карте"):
        assert heading in text
    assert "<svg" in text and "<script>alert" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text  # the post text, escaped
    # the organisation row of first-reply times: 4 incidents, 3 measured, 3.0 / 2.0 / 6.0, 50 %
    row = re.search(r"<td>Администрация г\. Дзержинска</td>\s*(.*?)</tr>", text, re.S).group(1)
    assert re.findall(r"<td>([^<]*)</td>", row) == ["4", "3", "3.0", "2.0", "6.0", "50 %"]
    # the heat map cell Дзержинск × ЖКХ and the map circle of Дзержинск
    assert "<title>Дзержинск · ЖКХ: 3</title>" in text
    assert "<title>Дзержинск: 4</title>" in text and "<title>Нижний Новгород: 2</title>" in text
    assert 'href="/static/dashboard.css"' in text


def test_chart_axes_and_tables_show_russian_dates(app):
    web, _, _ = app
    text = client_for(web).get(f"/dashboard?{PERIOD}").text
    assert ">16 ноя</text>" in text and ">17 ноя</text>" in text  # the volume chart's days
    assert "<td>16.11.2026</td>" in text
    assert ">11-16<" not in text and "2026-11-16</td>" not in text
    weekly = client_for(web).get(f"/dashboard?{PERIOD}&period=week").text
    assert ">с 16 ноя</text>" in weekly and "неделя с 16.11.2026" in weekly
    assert "Медиана времени реакции: тема" in text and "реакции: topic" not in text


def test_the_page_obeys_the_csp_no_inline_script_or_style(app):
    web, _, _ = app
    page = client_for(web).get("/dashboard")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "style=" not in page.text and "<style" not in page.text
    assert not re.search(r"<script(?![^>]*\bsrc=)", page.text)


def test_an_official_sees_only_their_organisation(app):
    web, ctx, ids = app
    page = client_for(web, "dzerzhinsk", "official-demo").get(f"/dashboard?{PERIOD}").text
    assert "Администрация г. Нижнего Новгорода" not in page
    assert "<title>Нижний Новгород: 2</title>" not in page  # only a grey dot: 0 of theirs
    assert "сообщений" not in page  # all collected messages are not theirs to count
    assert "<title>Дзержинск: 4</title>" in page


def test_an_officials_downloads_hold_their_organisation_only(app):
    web, ctx, ids = app
    client = client_for(web, "dzerzhinsk", "official-demo")
    response = client.get(f"/dashboard/export/incidents.csv?{PERIOD}")
    assert response.status_code == 200 and "attachment" in response.headers["content-disposition"]
    rows = read_csv(response.content.decode("utf-8"))
    assert {int(r["№"]) for r in rows} == {*ids["dzr"], *ids["linked"], ids["spam"], ids["waste"]}
    book = read_xlsx(client.get(f"/dashboard/export/all.xlsx?{PERIOD}").content)
    assert set(book) == set(REPORTS)
    assert {r["муниципалитет"] for r in book["open"]} == {"городской округ город Дзержинск"}
    assert {r["организация"] for r in book["incidents"]} == {"Администрация г. Дзержинска"}


def test_a_moderators_download_reads_back_equal_to_the_page(app):
    web, _, _ = app
    client = client_for(web)
    sheet = read_xlsx(client.get(f"/dashboard/export/heatmap.xlsx?{PERIOD}").content)["heatmap"]
    assert [(r["муниципалитет"], r["ЖКХ"], r["всего"]) for r in sheet] == [
        ("городской округ город Дзержинск", 3, 4), ("городской округ город Нижний Новгород", 1, 2)]
    volume = client.get(f"/dashboard/export/volume.csv?{PERIOD}").content.decode("utf-8")
    assert read_csv(volume) == [
        {"день": "16.11.2026", "сообщений": "8", "инцидентов": "8"},
        {"день": "17.11.2026", "сообщений": "1", "инцидентов": "1"}]


def test_bad_requests_get_a_clear_answer(app):
    web, _, _ = app
    client = client_for(web)
    assert client.get("/dashboard?since=16.11.2026").status_code == 400
    assert client.get("/dashboard?since=2026-11-18&until=2026-11-16").status_code == 400
    assert client.get("/dashboard/export/nothing.csv").status_code == 404
    assert client.get("/dashboard/export/volume.pdf").status_code == 404
    assert TestClient(web).get("/dashboard", follow_redirects=False).status_code == 303


def test_the_queue_shows_a_banner_for_an_open_spike(app):
    web, ctx, ids = app
    mass = ids["dzr"][0]
    with ctx.db.atomic():
        ctx.db["spikes"].insert({
            "municipality": "Дзержинск", "topic": "housing", "incident_id": mass,
            "first_at": iso(ctx.clock.now()), "last_at": iso(ctx.clock.now()), "messages": 9,
            "threshold": 7, "window_minutes": 60, "detected_at": iso(ctx.clock.now())})
    queue = client_for(web).get("/").text
    assert "Всплеск обращений: 9 сообщений" in queue and f'href="/incidents/{mass}"' in queue
    nn_official = {"login": "nn", "organisation": "adm-nn"}
    from monitor.catalog.users import create_user

    create_user(ctx.db, nn_official["login"], "official-nn-1", "official", ctx.clock.now(),
                organisation=nn_official["organisation"])
    assert "Всплеск" not in client_for(web, "nn", "official-nn-1").get("/").text
    assert "Всплеск" in client_for(web, "dzerzhinsk", "official-demo").get("/dashboard").text


def test_a_month_of_columns_labels_every_few_days_without_overlap():
    from monitor.web.svg import columns

    days = [f"{d} ноя" for d in range(1, 31)]
    chart = str(columns(days, {"сообщений": list(range(30))}, "Поступление"))
    ticks = re.findall(r'class="tick">(\d+ ноя)</text>', chart)
    assert ticks[0] == "1 ноя" and 5 <= len(ticks) < 30
    assert chart.count("<rect") >= 30  # every day keeps its column and its tooltip
