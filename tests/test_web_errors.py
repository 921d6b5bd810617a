"""Errors a person meets are pages in the site's style, in Russian, with a way back; the
webhooks and monitoring keep JSON; no address, however malformed, is a 500."""

import re

import pytest
import test_web_admin as admin_tests
from fastapi.testclient import TestClient
from test_web_admin import logged_in, token_of
from test_web_security import add_incident

from monitor.web.app import create_app

seeded_template, web_ctx = admin_tests.seeded_template, admin_tests.web_ctx
BIG = 2**64  # beyond SQLite's integers
ENGLISH = re.compile(r"Not Found|Method Not Allowed|Input should|Field required|detail", re.I)


@pytest.fixture
def app(web_ctx):
    return create_app(web_ctx, secret_key="test-secret")


def assert_page(answer, status: int, *phrases: str):
    """An HTML page of the site (base.html), in Russian, with a way back."""
    assert answer.status_code == status, answer.text[:300]
    assert answer.headers["content-type"].startswith("text/html")
    html = answer.text
    assert 'class="brand"' in html and '<html lang="ru">' in html
    assert "← Назад" in html and 'href="/"' in html
    assert not ENGLISH.search(html), html
    for phrase in phrases:
        assert phrase in html, (phrase, html)


def test_a_missing_incident_is_a_page_not_json(app):
    client = logged_in(app, "moderator", "moderator-demo")
    answer = client.get("/incidents/99999", headers={"referer": "http://testserver/?status=new"})
    assert_page(answer, 404, "Инцидент не найден", 'href="/?status=new"', "Очередь")


def test_a_non_numeric_incident_id_is_a_russian_404(app):
    client = logged_in(app, "moderator", "moderator-demo")
    assert_page(client.get("/incidents/abc"), 404, "номер инцидента — должно быть целым числом")


def test_a_page_the_role_may_not_open_is_an_html_403(app, web_ctx):
    incident = add_incident(web_ctx, "Яма на Гайдара")
    analyst = logged_in(app, "analyst", "analyst-demo")
    assert_page(analyst.get(f"/incidents/{incident}/labels"), 403,
                "Исправлять метки могут модераторы ЦУР и администраторы")
    assert_page(analyst.get("/admin/users"), 403, "Раздел доступен только администратору")


def test_an_unknown_address_and_a_wrong_method_are_russian_pages(app):
    anonymous = TestClient(app)
    assert_page(anonymous.get("/no/such/page"), 404, "Такой страницы нет", 'href="/login"')
    assert_page(anonymous.get("/logout"), 405, "не принимает такой запрос")


def test_a_back_link_never_leads_off_the_site(app):
    client = logged_in(app, "moderator", "moderator-demo")
    for referer in ("https://evil.example/x", "http://testserver//evil.example", "javascript:alert(1)"):
        html = client.get("/incidents/99999", headers={"referer": referer}).text
        assert re.search(r'<a href="/">← Назад</a>', html), referer


def test_a_form_without_its_fields_is_a_russian_400(app):
    client = TestClient(app)
    token = token_of(client.get("/login").text)
    assert_page(client.post("/login", data={"csrf_token": token}), 400, "логин — не заполнено")


def test_a_non_ascii_csrf_token_is_refused_with_a_page(app):
    client = logged_in(app, "moderator", "moderator-demo")
    assert_page(client.post("/logout", data={"csrf_token": "пароль"}), 403, "CSRF")


def test_webhooks_and_monitoring_keep_machine_answers(app):
    client = TestClient(app)
    for answer in (client.post("/ok/webhook/wrong", json={}), client.get("/vk/callback"),
                   client.get("/healthz/none")):
        assert not answer.headers["content-type"].startswith("text/html"), answer.request.url


# --- numbers beyond 64 bits and absurd dates: a 400 or 404, never a 500 -------------------


def int_routes(app):
    """(method, path template, int path params, int query params) of every route."""
    routes = [r for included in app.routes for r in getattr(
        getattr(included, "original_router", None), "routes", [included])]
    for route in routes:
        dependant = getattr(route, "dependant", None)
        if dependant is None:
            continue
        path_ints = [p.name for p in dependant.path_params if p.field_info.annotation is int]
        query_ints = [p.name for p in dependant.query_params
                      if p.field_info.annotation in (int, int | None)]
        for method in route.methods:
            yield method, route.path, path_ints, query_ints


def fill(template: str, values: dict, default) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(values.get(m.group(1), default)), template)


@pytest.mark.parametrize("number", [BIG, -BIG, 10**30])
def test_no_route_answers_500_to_a_number_beyond_64_bits(app, web_ctx, number):
    incident = add_incident(web_ctx, "Нет воды на Гагарина")
    client = logged_in(app, "admin", "admin-demo-1")
    token = token_of(client.get("/admin/users").text)
    tried = 0
    for method, template, path_ints, query_ints in int_routes(app):
        urls = [fill(template, {name: number}, incident) for name in path_ints]
        base = fill(template, {}, incident)
        urls += [f"{base}?{name}={number}" for name in query_ints]
        for url in urls:
            if method == "GET":
                answer = client.get(url, follow_redirects=False)
            else:
                answer = client.post(url, data={"csrf_token": token, "action": "confirm"},
                                     follow_redirects=False)
            tried += 1
            assert answer.status_code < 500, (method, url, answer.text[:300])
            if "{" in template and answer.status_code >= 400 and url.startswith(("/incidents",
                                                                                 "/admin")):
                assert answer.headers["content-type"].startswith("text/html"), url
    assert tried >= 20


@pytest.mark.parametrize("query", ["since=0001-01-01", "until=9999-12-31",
                                   "since=0001-01-01&until=9999-12-31", "since=9999-12-31"])
def test_dates_of_year_1_or_9999_on_the_dashboard_are_a_clear_400(app, query):
    client = logged_in(app, "moderator", "moderator-demo")
    assert_page(client.get(f"/dashboard?{query}"), 400, "вне 2000–2099 годов")
    assert client.get(f"/dashboard/export/volume.csv?{query}").status_code == 400


def test_a_server_error_is_a_russian_page_with_the_request_id(app, web_ctx):
    client = logged_in(app, "admin", "admin-demo-1")
    web_ctx.db.execute("DROP TABLE routing_rules")  # a database broken under the app
    answer = TestClient(app, cookies=client.cookies, raise_server_exceptions=False).get(
        "/admin/routing", headers={"X-Request-ID": "req-42"})
    assert_page(answer, 500, "Ошибка на сервере", "номер запроса req-42")
