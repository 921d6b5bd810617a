import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from monitor.demo import seed_users
from monitor.ingest import ingest
from monitor.ingest.post import Post
from monitor.web import auth
from monitor.web.app import create_app

HOSTILE = ('Прошу принять меры! <script>alert(1)</script> яма на Гайдара '
           '<img src=x onerror=alert(2)> <a href="javascript:alert(3)">тут</a>')


@pytest.fixture
def app(ctx):
    seed_users(ctx)
    auth.limiter.failures.clear()
    now = ctx.clock.now()
    ingest(ctx, [
        Post("vk:-100003", "-100003_1_1", "vk_comment", HOSTILE, now - timedelta(minutes=9)),
        Post("vk:-100001", "-100001_2_1", "vk_comment", "На Автозаводе третий день нет горячей воды, УК молчит",
             now - timedelta(minutes=8)),
        Post("vk:-100003", "-100003_1_2", "vk_comment", "В подъезде на Гайдара 12 пахнет газом!",
             now - timedelta(minutes=7)),
    ])
    return create_app(ctx, secret_key="test-secret")


def login(client, user, password):
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    return client.post("/login", data={"login": user, "password": password, "csrf_token": token, "next": "/"},
                       follow_redirects=False)


def csrf(client, url="/"):
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(url).text).group(1)


def test_pages_need_a_login(app):
    client = TestClient(app)
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_wrong_password_is_refused_and_repeated_failures_are_limited(app):
    client = TestClient(app)
    for _ in range(5):
        assert login(client, "moderator", "wrong-password").status_code == 401
    assert login(client, "moderator", "moderator-demo").status_code == 429


def test_login_without_csrf_token_is_refused(app):
    client = TestClient(app)
    response = client.post("/login", data={"login": "moderator", "password": "moderator-demo"})
    assert response.status_code == 403


def test_session_cookie_is_httponly_and_samesite(app):
    client = TestClient(app)
    response = login(client, "moderator", "moderator-demo")
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie


def test_queue_lists_incidents_newest_first_and_filters(app):
    client = TestClient(app)
    login(client, "moderator", "moderator-demo")
    page = client.get("/")
    assert page.status_code == 200
    ids = [int(i) for i in re.findall(r'<td><a href="/incidents/(\d+)">', page.text)]
    assert ids == sorted(ids, reverse=True) and len(ids) == 3
    critical = client.get("/?urgency=critical")
    assert "пахнет газом" in critical.text and "Автозаводе" not in critical.text
    assert 'value="critical" selected' in critical.text


def test_post_text_is_escaped_everywhere(app):
    client = TestClient(app)
    login(client, "moderator", "moderator-demo")
    for url in ("/", "/incidents/1"):
        html = client.get(url).text
        assert "<script>alert(1)" not in html and "<img src=x" not in html
        assert 'href="javascript:' not in html
        assert "&lt;script&gt;" in html


def test_security_headers_forbid_inline_scripts(app):
    client = TestClient(app)
    headers = client.get("/login").headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "unsafe-inline" not in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"


def test_incident_page_shows_labels_explanations_and_history(app):
    client = TestClient(app)
    login(client, "moderator", "moderator-demo")
    html = client.get("/incidents/3").text
    assert "пахнет газом" in html and "критично" in html
    assert "правило" in html  # the explanation of the urgency
    assert "opened" in html


def test_moderator_confirms_and_an_illegal_action_is_refused(app):
    client = TestClient(app)
    login(client, "moderator", "moderator-demo")
    token = csrf(client, "/incidents/2")
    ok = client.post("/incidents/2/act", data={"action": "confirm", "csrf_token": token}, follow_redirects=False)
    assert ok.status_code == 303
    again = client.post("/incidents/2/act", data={"action": "confirm", "csrf_token": token})
    assert again.status_code == 409 and "возможно только в состояниях" in again.text
    assert "подтверждён" in client.get("/incidents/2").text


def test_official_sees_only_their_organisation(app, ctx):
    client = TestClient(app)
    login(client, "dzerzhinsk", "official-demo")
    visible = set(re.findall(r'<td><a href="/incidents/(\d+)">', client.get("/").text))
    rows = ctx.db.execute(
        "SELECT i.id FROM incidents i JOIN organisations o ON o.id = i.organisation_id WHERE o.key = 'adm-dzr'"
    ).fetchall()
    assert visible == {str(r[0]) for r in rows} and visible
    other = ctx.db.execute(
        "SELECT i.id FROM incidents i JOIN organisations o ON o.id = i.organisation_id WHERE o.key != 'adm-dzr'"
    ).fetchone()[0]
    assert client.get(f"/incidents/{other}").status_code == 404
    token = csrf(client)
    forbidden = client.post(f"/incidents/{other}/act", data={"action": "confirm", "csrf_token": token})
    assert forbidden.status_code == 404


def test_official_cannot_moderate(app):
    client = TestClient(app)
    login(client, "dzerzhinsk", "official-demo")
    token = csrf(client)
    assert client.post("/incidents/1/act", data={"action": "confirm", "csrf_token": token}).status_code == 403


def test_queue_defaults_to_deadline_order_and_filters_by_source_overdue_and_repeats(app, ctx):
    from datetime import timedelta

    client = TestClient(app)
    login(client, "moderator", "moderator-demo")
    shown = lambda url: [int(i) for i in re.findall(r'<td><a href="/incidents/(\d+)">', client.get(url).text)]  # noqa: E731
    due = dict(ctx.db.execute("SELECT id, next_due_at FROM incidents").fetchall())
    assert [due[i] for i in shown("/")] == sorted(due[i] for i in shown("/"))
    assert shown("/?source=vk:-100001") == [2]
    assert shown("/?repeats=1") == []
    assert shown("/?overdue=1") == []
    ctx.clock.advance(timedelta(days=3))
    login(client, "moderator", "moderator-demo")  # three days on: yesterday's session has ended
    assert sorted(shown("/?overdue=1")) == [1, 2, 3]
    assert client.get("/?sort=deadline&cursor=garbage").status_code == 400
