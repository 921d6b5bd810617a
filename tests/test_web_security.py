"""Security review of monitor/web/: hostile post text renders as text on every page
that shows it, no inline scripts or styles, CSP and cache headers everywhere, no open
redirect after login, CSRF on every state-changing form, audited logins."""

import re
from dataclasses import replace
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
import test_web_admin as admin_tests
from fastapi.testclient import TestClient
from test_web_admin import logged_in, token_of

from monitor.catalog.sessions import SESSION_LIFETIME
from monitor.clock import iso
from monitor.web.app import create_app, safe_url

TEMPLATES = Path(__file__).resolve().parents[1] / "monitor" / "web" / "templates"
HOSTILE = ('Прошу принять меры! <script>alert(1)</script> яма на Гайдара '
           '<img src=x onerror=alert(2)> <a href="javascript:alert(3)">тут</a> '
           '"><svg onload=alert(4)>')
TAG_WITH_HANDLER = re.compile(r"<[a-zA-Z][^>]*\son[a-z]+\s*=", re.S)  # for templates
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.I)


def add_incident(ctx, text, *, author="Житель", url="https://vk.com/wall-100003_1",
                 org_key="adm-dzr", status="new", municipality="Дзержинск"):
    """A post and its incident written straight to the store (no NLP models needed)."""
    db, now = ctx.db, ctx.clock.now()
    source = db.execute("SELECT id FROM sources WHERE key = 'vk:-100003'").fetchone()[0]
    org = db.execute("SELECT id FROM organisations WHERE key = ?", [org_key]).fetchone()[0]
    n = db.execute("SELECT count(*) FROM posts").fetchone()[0] + 1
    with db.atomic():
        post_id = db["posts"].insert({
            "source_id": source, "external_id": f"-100003_{n}", "channel": "vk_comment",
            "author_name": author, "text": text, "url": url, "created_at": iso(now),
            "collected_at": iso(now)}).last_pk
        return db["incidents"].insert({
            "post_id": post_id, "status": status, "kind": "complaint", "topic": "roads_transport",
            "municipality": municipality, "urgency": "high", "organisation_id": org,
            "opened_at": iso(now), "first_reply_due_at": iso(now), "updated_at": iso(now)}).last_pk


seeded_template, web_ctx = admin_tests.seeded_template, admin_tests.web_ctx


@pytest.fixture
def app(web_ctx):
    return create_app(web_ctx, secret_key="test-secret")


class Elements(HTMLParser):
    """What a browser would build: tags and their attributes, text left out."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def assert_inert(html: str):
    for tag, attrs in Elements(html).tags:
        handlers = [name for name in attrs if name.startswith("on")]
        assert not handlers, (tag, attrs)
        assert tag not in {"img", "svg", "iframe", "object", "embed"}, (tag, attrs)
        if tag == "script":
            assert attrs.get("src", "").startswith("/static/"), attrs
        for name in ("href", "src", "action", "formaction"):
            value = (attrs.get(name) or "").strip().lower()
            assert not value.startswith(("javascript:", "data:", "vbscript:")), (tag, attrs)


def test_hostile_post_and_author_render_as_text_in_the_queue_and_incident(app, web_ctx):
    incident = add_incident(web_ctx, HOSTILE, author='<b onmouseover="alert(5)">Вася</b>')
    for login, password in (("moderator", "moderator-demo"), ("dzerzhinsk", "official-demo")):
        client = logged_in(app, login, password)
        for url in ("/", f"/incidents/{incident}", "/?municipality=Дзержинск"):
            html = client.get(url).text
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, url
            assert_inert(html)


def test_hostile_filter_values_in_the_url_are_escaped(app):
    client = logged_in(app, "moderator", "moderator-demo")
    html = client.get('/?municipality="><script>alert(1)</script>&topic=<img src=x onerror=1>').text
    assert_inert(html)


def test_hostile_names_are_escaped_on_admin_pages(app, web_ctx):
    web_ctx.db.execute("UPDATE organisations SET name = '<script>alert(1)</script>', "
                       "municipality = '<img src=x onerror=alert(2)>' WHERE key = 'adm-dzr'")
    web_ctx.db.execute("UPDATE users SET name = '<svg onload=alert(3)>' WHERE login = 'dzerzhinsk'")
    web_ctx.db.execute("UPDATE sources SET name = '<script>alert(1)</script>', "
                       "last_error = '<img src=x onerror=alert(2)>', "
                       "last_error_at = '2026-11-16T06:00:00+00:00' WHERE key = 'vk:-100003'")
    web_ctx.db.conn.commit()
    client = logged_in(app, "admin", "admin-demo-1")
    org = web_ctx.db.execute("SELECT id FROM organisations WHERE key = 'adm-dzr'").fetchone()[0]
    for url in ("/admin/users", "/admin/organisations", f"/admin/organisations/{org}",
                "/admin/sources", "/admin/routing", "/", "/admin/audit"):
        html = client.get(url).text
        assert_inert(html)


def test_safe_url_lets_only_http_links_through():
    assert safe_url("https://vk.com/wall-1_2") == "https://vk.com/wall-1_2"
    assert safe_url("http://t.me/c/1/2") == "http://t.me/c/1/2"
    for bad in ("javascript:alert(1)", " JaVaScRiPt:alert(1)", "data:text/html,<script>",
                "vbscript:x", "//evil.example", None, ""):
        assert safe_url(bad) is None


@pytest.mark.parametrize("template", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: p.name)
def test_templates_hold_no_inline_script_style_or_handler(template):
    source = template.read_text(encoding="utf-8")
    assert not INLINE_SCRIPT.search(source)
    assert not TAG_WITH_HANDLER.search(source)
    assert "style=" not in source and "<style" not in source  # CSP: style-src 'self'
    assert "|safe" not in source  # nothing bypasses autoescaping


def test_every_page_sends_csp_nosniff_frame_and_no_store_headers(app):
    client = logged_in(app, "admin", "admin-demo-1")
    for url in ("/login", "/", "/admin/users", "/admin/audit"):
        headers = client.get(url).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["cache-control"] == "no-store", url
    assert "no-store" not in client.get("/static/style.css").headers.get("cache-control", "")


@pytest.mark.parametrize("target", ["//evil.example/", "/\\evil.example", "https://evil.example/",
                                    "javascript:alert(1)", "/\t/evil.example", "/\r\nSet-Cookie: x=1"])
def test_login_never_redirects_off_site(app, target):
    client = TestClient(app)
    token = token_of(client.get("/login", params={"next": target}).text)
    answer = client.post("/login", data={"login": "moderator", "password": "moderator-demo",
                                         "csrf_token": token, "next": target},
                         follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/"


def test_login_page_keeps_a_same_site_next(app):
    client = TestClient(app)
    token = token_of(client.get("/login?next=/incidents/1").text)
    answer = client.post("/login", data={"login": "moderator", "password": "moderator-demo",
                                         "csrf_token": token, "next": "/incidents/1"},
                         follow_redirects=False)
    assert answer.headers["location"] == "/incidents/1"


def test_logout_needs_csrf_and_is_a_post(app):
    client = logged_in(app, "moderator", "moderator-demo")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout", data={}).status_code == 403
    assert client.get("/", follow_redirects=False).status_code == 200  # still logged in


def test_login_replaces_the_session_and_its_csrf_token(app):
    client = TestClient(app)
    before = token_of(client.get("/login").text)
    client.post("/login", data={"login": "moderator", "password": "moderator-demo",
                                "csrf_token": before}, follow_redirects=False)
    after = token_of(client.get("/").text)
    assert after != before  # a token planted before login is worthless after it


def test_passwords_are_stored_as_argon2_hashes(web_ctx):
    for (stored,) in web_ctx.db.execute("SELECT password_hash FROM users"):
        assert stored.startswith("$argon2id$")


def test_the_service_hashes_passwords_at_full_cost(cheap_password_hashes):
    """The suite hashes cheaply (conftest); the service's own hasher is argon2id at 64 MiB."""
    service = cheap_password_hashes  # the hasher the module was built with
    assert (service.memory_cost, service.type.name) == (65536, "ID")


def test_a_javascript_link_as_post_url_is_not_linked(app, web_ctx):
    incident = add_incident(web_ctx, "Яма во дворе", url="javascript:alert(document.cookie)")
    client = logged_in(app, "moderator", "moderator-demo")
    assert_inert(client.get(f"/incidents/{incident}").text)


def test_a_copied_session_cookie_is_worthless_after_logout(app):
    client = logged_in(app, "moderator", "moderator-demo")
    stolen = dict(client.cookies)
    client.post("/logout", data={"csrf_token": token_of(client.get("/").text)})
    thief = TestClient(app, cookies=stolen)
    assert thief.get("/", follow_redirects=False).status_code == 303


def test_password_reset_ends_every_session_of_that_user(app, web_ctx):
    victim = logged_in(app, "moderator", "moderator-demo")
    other_device = logged_in(app, "moderator", "moderator-demo")
    admin = logged_in(app, "admin", "admin-demo-1")
    uid = web_ctx.db.execute("SELECT id FROM users WHERE login = 'moderator'").fetchone()[0]
    admin.post(f"/admin/users/{uid}/password",
               data={"password": "new-password-9", "csrf_token": token_of(admin.get("/admin/users").text)})
    for client in (victim, other_device):
        assert client.get("/", follow_redirects=False).status_code == 303
    assert admin.get("/admin/users").status_code == 200  # the admin's own session lives on


def test_a_session_ends_after_its_lifetime_on_the_server_too(app, web_ctx):
    """Even a cookie kept past its max-age is refused, and the next login prunes the row."""
    client = logged_in(app, "moderator", "moderator-demo")
    web_ctx.clock.advance(SESSION_LIFETIME + timedelta(minutes=1))
    assert client.get("/", follow_redirects=False).status_code == 303
    logged_in(app, "admin", "admin-demo-1")
    [(count,)] = web_ctx.db.execute("SELECT count(*) FROM web_sessions").fetchall()
    assert count == 1  # only the admin's fresh session is left


@pytest.mark.parametrize("value, secure", [(None, False), ("1", True)])
def test_the_session_cookie_is_secure_when_tsur_is_served_over_https(web_ctx, value, secure):
    environ = {**web_ctx.settings.environ, **({"TSUR_SECURE_COOKIES": value} if value else {})}
    ctx = replace(web_ctx, settings=replace(web_ctx.settings, environ=environ))
    client = TestClient(create_app(ctx, secret_key="test-secret"), base_url="https://testserver")
    token = token_of(client.get("/login").text)
    answer = client.post("/login", data={"login": "moderator", "password": "moderator-demo", "csrf_token": token},
                         follow_redirects=False)
    cookie = next(h for h in answer.headers.get_list("set-cookie") if h.startswith("tsur_session="))
    assert ("secure" in cookie.lower()) is secure


# --- login: limits per address, a bound on password hashing at once ---------------------------


def try_login(client, login, password="wrong-password"):
    token = token_of(client.get("/login").text)
    return client.post("/login", data={"login": login, "password": password, "csrf_token": token},
                       follow_redirects=False)


def test_one_address_cannot_try_login_after_login(app):
    from monitor.web.auth import MAX_ADDRESS_FAILURES

    attacker = TestClient(app, client=("203.0.113.7", 40000))
    for n in range(MAX_ADDRESS_FAILURES):
        assert try_login(attacker, f"guess-{n}").status_code == 401
    refused = try_login(attacker, "moderator", "moderator-demo")
    assert refused.status_code == 429 and "Подождите" in refused.text
    colleague = TestClient(app, client=("198.51.100.4", 40000))
    assert try_login(colleague, "moderator", "moderator-demo").status_code == 303


def test_a_flood_of_made_up_logins_keeps_the_limiter_small(app):
    from monitor.web import auth

    attacker = TestClient(app, client=("203.0.113.8", 40000))
    for n in range(auth.MAX_ADDRESS_FAILURES + 60):
        try_login(attacker, f"nobody-{n}")
    assert len(auth.limiter.failures) <= auth.MAX_ADDRESS_FAILURES + 1


def test_logins_are_refused_in_russian_while_every_hash_slot_is_busy(app, web_ctx):
    slots = app.state.hash_slots
    taken = 0
    while slots.acquire(blocking=False):  # as if that many logins were being checked
        taken += 1
    try:
        busy = try_login(TestClient(app), "moderator", "moderator-demo")
    finally:
        for _ in range(taken):
            slots.release()
    assert taken >= 1 and busy.status_code == 429 and "Повторите через минуту" in busy.text
    assert admin_tests.audit_rows(web_ctx, "login_failed")[-1]["details"]["reason"] == "busy"
    assert try_login(TestClient(app), "moderator", "moderator-demo").status_code == 303


# --- X-Forwarded-For only from configured proxies ---------------------------------------------


def proxied_app(web_ctx, proxies: tuple[str, ...]):
    ctx = replace(web_ctx, settings=replace(web_ctx.settings, trusted_proxies=proxies))
    return create_app(ctx, secret_key="test-secret")


def last_failed_ip(web_ctx) -> str:
    return admin_tests.audit_rows(web_ctx, "login_failed")[-1]["details"]["ip"]


def test_x_forwarded_for_is_ignored_by_default(web_ctx):
    client = TestClient(proxied_app(web_ctx, ()), headers={"X-Forwarded-For": "192.0.2.50"})
    try_login(client, "moderator")
    assert last_failed_ip(web_ctx) == "testclient"


def test_a_configured_proxy_gives_the_real_address_to_the_limit_and_the_audit(web_ctx):
    from monitor.web.auth import MAX_ADDRESS_FAILURES

    app = proxied_app(web_ctx, ("testclient",))
    one = TestClient(app, headers={"X-Forwarded-For": "192.0.2.50"})
    for n in range(MAX_ADDRESS_FAILURES):
        try_login(one, f"guess-{n}")
    assert last_failed_ip(web_ctx) == "192.0.2.50"
    assert try_login(one, "moderator", "moderator-demo").status_code == 429
    other = TestClient(app, headers={"X-Forwarded-For": "192.0.2.51"})
    assert try_login(other, "moderator", "moderator-demo").status_code == 303
    assert admin_tests.audit_rows(web_ctx, "login")[-1]["details"]["ip"] == "192.0.2.51"
    # a caller that is not the proxy cannot choose its address
    direct = TestClient(app, client=("203.0.113.9", 1), headers={"X-Forwarded-For": "192.0.2.52"})
    try_login(direct, "moderator")
    assert last_failed_ip(web_ctx) == "203.0.113.9"


def test_trusted_proxies_are_a_web_setting(tmp_path):
    from monitor.settings import ConfigError, settings_from_dict

    assert settings_from_dict({}, environ={}).trusted_proxies == ()
    web = {"web": {"trusted_proxies": ["127.0.0.1", "10.0.0.0/8"]}}
    assert settings_from_dict(web, environ={}).trusted_proxies == ("127.0.0.1", "10.0.0.0/8")
    from_env = settings_from_dict({}, environ={"TSUR_TRUSTED_PROXIES": "127.0.0.1, ::1"})
    assert from_env.trusted_proxies == ("127.0.0.1", "::1")
    with pytest.raises(ConfigError, match="trusted_proxies"):
        settings_from_dict({"web": {"trusted_proxies": 127}}, environ={})


def test_serve_does_not_let_uvicorn_believe_forwarded_headers(runner, web_ctx, monkeypatch):
    import uvicorn

    from monitor.cli import cli
    from monitor.demo import DEMO_CONFIG

    seen = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: seen.update(options, app=app))
    env = {"TSUR_DB": str(web_ctx.settings.database), "TSUR_TRUSTED_PROXIES": "127.0.0.1"}
    result = runner.invoke(cli, ["--config", str(DEMO_CONFIG), "serve", "--port", "0"], env=env)
    assert result.exit_code == 0, result.output
    assert seen["proxy_headers"] is False  # uvicorn's default trusts any caller on 127.0.0.1
    assert any("ProxyHeaders" in str(m.cls) for m in seen["app"].user_middleware)
