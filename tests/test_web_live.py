"""Live queue: the server-sent events stream announces incidents newer than the page,
scoped to the viewer and the page's filters; the static scripts are served."""

import json
import re

import pytest
import test_web_admin as admin_tests
from fastapi.testclient import TestClient
from test_web_admin import logged_in, post, token_of, user_id
from test_web_security import add_incident

from monitor.web.app import create_app

seeded_template, web_ctx = admin_tests.seeded_template, admin_tests.web_ctx


@pytest.fixture
def app(web_ctx):
    app = create_app(web_ctx, secret_key="test-secret")
    app.state.live_lifetime = 0  # one look at the database, then the stream ends
    app.state.live_interval = 0
    return app


def events(client, url) -> list[tuple[str, dict]]:
    with client.stream("GET", url) as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/event-stream")
        body = "".join(answer.iter_text())
    assert body.startswith("retry: ")
    found = re.findall(r"event: (\w+)\ndata: (.*)\n\n", body)
    return [(name, json.loads(data)) for name, data in found]


def test_stream_needs_a_login(app):
    answer = TestClient(app).get("/live/queue?after=0", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


def test_stream_announces_incidents_newer_than_the_page(app, web_ctx):
    first = add_incident(web_ctx, "Нет воды на Гагарина")
    client = logged_in(app, "moderator", "moderator-demo")
    assert events(client, f"/live/queue?after={first}") == [
        ("incidents", {"count": 0, "more": False, "latest": first})]
    second = add_incident(web_ctx, "Яма на Октябрьском проспекте")
    third = add_incident(web_ctx, "Не вывозят мусор", org_key="adm-nn", municipality="Нижний Новгород")
    assert events(client, f"/live/queue?after={first}") == [
        ("incidents", {"count": 2, "more": False, "latest": third})]
    assert events(client, f"/live/queue?after={first}&municipality=Дзержинск") == [
        ("incidents", {"count": 1, "more": False, "latest": second})]


def test_official_hears_only_of_their_organisation(app, web_ctx):
    add_incident(web_ctx, "Не вывозят мусор", org_key="adm-nn", municipality="Нижний Новгород")
    client = logged_in(app, "dzerzhinsk", "official-demo")
    assert events(client, "/live/queue?after=0")[0][1]["count"] == 0
    own = add_incident(web_ctx, "Нет воды на Гагарина")
    assert events(client, "/live/queue?after=0")[0][1] == {"count": 1, "more": False, "latest": own}


def test_a_flood_is_capped_and_marked(app, web_ctx):
    from monitor.web.live import CAP

    for n in range(CAP + 2):
        add_incident(web_ctx, f"Сообщение {n}")
    client = logged_in(app, "moderator", "moderator-demo")
    news = events(client, "/live/queue?after=0")[0][1]
    assert news["count"] == CAP and news["more"] is True


def test_stream_repeats_nothing_while_nothing_changes(app, web_ctx):
    app.state.live_lifetime = 0.05
    add_incident(web_ctx, "Нет воды на Гагарина")
    client = logged_in(app, "moderator", "moderator-demo")
    with client.stream("GET", "/live/queue?after=0") as answer:
        body = "".join(answer.iter_text())
    assert body.count("event: incidents") == 1 and ": still here" in body


def test_queue_page_wires_the_live_banner_and_scripts(app, web_ctx):
    add_incident(web_ctx, "Нет воды на Гагарина")
    top = add_incident(web_ctx, "Яма на Октябрьском проспекте")
    client = logged_in(app, "moderator", "moderator-demo")
    html = client.get("/?municipality=Дзержинск&status=new").text
    src = re.search(r'<div id="live" hidden data-src="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert src.startswith(f"/live/queue?after={top}&")
    assert "municipality=%D0%94" in src and "status=new" in src
    assert 'id="live-banner"' in html
    assert '<script src="/static/live.js" defer></script>' in html
    assert '<script src="/static/keys.js" defer></script>' in html
    assert f'data-href="/incidents/{top}"' in html
    for script in ("/static/live.js", "/static/keys.js"):
        answer = client.get(script)
        assert answer.status_code == 200 and "javascript" in answer.headers["content-type"]
    assert 'id="live"' not in client.get(f"/?before={top}").text  # older pages do not listen


def test_queue_offers_a_quick_confirm_to_moderators_only(app, web_ctx):
    incident = add_incident(web_ctx, "Нет воды на Гагарина")
    moderator = logged_in(app, "moderator", "moderator-demo")
    assert f'aria-label="Подтвердить инцидент {incident}"' in moderator.get("/").text
    official = logged_in(app, "dzerzhinsk", "official-demo")
    assert "Подтвердить инцидент" not in official.get("/").text


def test_shortcut_help_lists_the_keys(app):
    html = logged_in(app, "moderator", "moderator-demo").get("/").text
    assert 'id="shortcuts"' in html and "<dt>j / k (о / л)</dt>" in html and "<dt>c (с)</dt>" in html


def stream_until_revoked(app, client, revoke) -> str:
    """Open a long stream, read its first event, revoke, and read what follows."""
    app.state.live_lifetime, app.state.live_interval = 30.0, 0.01
    with client.stream("GET", "/live/queue?after=0") as answer:
        chunks = answer.iter_text()
        body = ""
        while "event: incidents" not in body:
            body += next(chunks)
        revoke()
        body += "".join(chunks)  # a stream that outlived its login would run for 30 s
    return body


@pytest.mark.parametrize("how", ["logout", "password reset", "disabled"])
def test_the_stream_ends_once_the_login_ends(app, web_ctx, how):
    client = logged_in(app, "moderator", "moderator-demo")
    admin = logged_in(app, "admin", "admin-demo-1")
    uid = user_id(web_ctx, "moderator")
    token = token_of(client.get("/").text)
    revoke = {
        "logout": lambda: client.post("/logout", data={"csrf_token": token}),
        "password reset": lambda: post(admin, f"/admin/users/{uid}/password",
                                       {"password": "new-password-9"}),
        "disabled": lambda: post(admin, f"/admin/users/{uid}/disable", {}),
    }[how]
    body = stream_until_revoked(app, client, revoke)
    assert body.rstrip().endswith('event: ended\ndata: {"reason": "session"}')
    assert body.count(": still here") < 1000


@pytest.mark.parametrize("after", [str(2**64), "-1", "abc"])
def test_an_impossible_cursor_is_a_bad_request_not_a_broken_stream(app, after):
    client = logged_in(app, "moderator", "moderator-demo")
    answer = client.get(f"/live/queue?after={after}")
    assert answer.status_code == 400 and answer.headers["content-type"] == "application/json"
