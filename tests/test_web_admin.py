"""Admin pages: users and roles, organisations and linked accounts, sources, routing,
the audit log. Admins only, CSRF on every form, an audit row for every change."""

import json
import re
import shutil

import pytest
from conftest import MONDAY_MORNING
from fastapi.testclient import TestClient

from monitor.catalog.organisations import sync_from_settings
from monitor.context import Context
from monitor.demo import seed_users
from monitor.store import open_db
from monitor.web import auth
from monitor.web.admin import source_health
from monitor.web.app import create_app

PAGES = ["/admin/users", "/admin/organisations", "/admin/organisations/1", "/admin/sources",
         "/admin/routing", "/admin/audit"]
FORMS = [
    ("/admin/users", {"login": "x1", "role": "moderator", "password": "long-enough-1"}),
    ("/admin/users/1/role", {"role": "moderator"}),
    ("/admin/users/1/disable", {}),
    ("/admin/users/1/enable", {}),
    ("/admin/users/1/password", {"password": "another-pass-1"}),
    ("/admin/organisations", {"key": "new-org", "name": "Новая", "kind": "service"}),
    ("/admin/organisations/1", {"name": "ЦУР", "kind": "cur"}),
    ("/admin/sources", {"platform": "vk", "ident": "-100777", "name": "Новая группа"}),
    ("/admin/sources/pause", {"key": "vk:-100002"}),
    ("/admin/routing", {"topic": "education", "organisation": "minobr"}),
    ("/admin/routing/1/delete", {}),
]


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory):
    """A database with the demo organisations, sources and users, built once: hashing
    the four demo passwords with argon2 takes seconds, copying a file does not."""
    from monitor.clock import FrozenClock
    from monitor.demo import DEMO_CONFIG
    from monitor.settings import load_settings

    path = tmp_path_factory.mktemp("seeded") / "template.db"
    settings = load_settings(DEMO_CONFIG, environ={"TSUR_DB": str(path)})
    clock = FrozenClock(MONDAY_MORNING)
    db = open_db(path)
    sync_from_settings(db, settings, clock.now())
    seed_users(Context(db, settings, clock))
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return path


@pytest.fixture
def web_ctx(settings, clock, seeded_template):
    """The demo organisations and users in a fresh database, no NLP models needed."""
    shutil.copy(seeded_template, settings.database)
    db = open_db(settings.database)
    ctx = Context(db, settings, clock)
    auth.limiter.failures.clear()
    yield ctx
    db.close()


@pytest.fixture
def app(web_ctx):
    return create_app(web_ctx, secret_key="test-secret")


def token_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def logged_in(app, login, password):
    client = TestClient(app)
    token = token_of(client.get("/login").text)
    answer = client.post("/login", data={"login": login, "password": password, "csrf_token": token},
                         follow_redirects=False)
    assert answer.status_code == 303
    return client


@pytest.fixture
def admin(app):
    return logged_in(app, "admin", "admin-demo-1")


def post(client, url, data, page="/admin/users"):
    return client.post(url, data={**data, "csrf_token": token_of(client.get(page).text)},
                       follow_redirects=False)


def audit_rows(ctx, action=None):
    rows = [dict(r) for r in ctx.db["audit"].rows_where(
        "action = ?" if action else None, [action] if action else [], order_by="id")]
    for row in rows:
        row["details"] = json.loads(row["details"])
    return rows


def user_id(ctx, login):
    return ctx.db.execute("SELECT id FROM users WHERE login = ?", [login]).fetchone()[0]


def test_every_admin_page_opens_for_the_admin(admin):
    for url in PAGES:
        answer = admin.get(url)
        assert answer.status_code == 200, (url, answer.text)
        assert 'lang="ru"' in answer.text


@pytest.mark.parametrize("login, password", [("moderator", "moderator-demo"),
                                             ("dzerzhinsk", "official-demo"),
                                             ("analyst", "analyst-demo")])
def test_every_admin_route_is_forbidden_to_other_roles(app, web_ctx, login, password):
    client = logged_in(app, login, password)
    for url in PAGES:
        assert client.get(url).status_code == 403, url
    before = web_ctx.db.execute("SELECT count(*) FROM audit").fetchone()[0]
    for url, data in FORMS:
        assert post(client, url, data, page="/").status_code == 403, url
    assert web_ctx.db.execute("SELECT count(*) FROM audit").fetchone()[0] == before


def test_every_admin_route_needs_a_login(app):
    client = TestClient(app)
    for url in PAGES:
        answer = client.get(url, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login"), url
    for url, data in FORMS:
        assert client.post(url, data=data, follow_redirects=False).status_code in (303, 403), url


def test_every_admin_form_refuses_a_missing_or_forged_csrf_token(admin, web_ctx):
    before = web_ctx.db.execute("SELECT count(*) FROM audit").fetchone()[0]
    for url, data in FORMS:
        assert admin.post(url, data=data).status_code == 403, url
        assert admin.post(url, data={**data, "csrf_token": "forged"}).status_code == 403, url
    assert web_ctx.db.execute("SELECT count(*) FROM audit").fetchone()[0] == before


def test_admin_creates_a_user_who_can_log_in_and_it_is_audited(app, admin, web_ctx):
    dzr = web_ctx.db.execute("SELECT id FROM organisations WHERE key = 'adm-dzr'").fetchone()[0]
    answer = post(admin, "/admin/users", {"login": "ivanova", "name": "Ольга Иванова",
                                          "role": "official", "organisation_id": str(dzr),
                                          "password": "strong-password-7"})
    assert answer.status_code == 303
    assert "ivanova" in admin.get("/admin/users").text
    logged_in(app, "ivanova", "strong-password-7")
    row = audit_rows(web_ctx, "user_create")[-1]
    assert row["actor"] == "admin" and row["target"] == "user:ivanova"
    assert row["details"]["organisation"] == "adm-dzr"
    assert "strong-password-7" not in json.dumps(audit_rows(web_ctx), ensure_ascii=False)


@pytest.mark.parametrize("data, message", [
    ({"login": "A B", "role": "moderator", "password": "long-enough-1"}, "Логин"),
    ({"login": "shorty", "role": "moderator", "password": "short"}, "Пароль"),
    ({"login": "norole", "role": "superuser", "password": "long-enough-1"}, "роль"),
    ({"login": "orgless", "role": "official", "password": "long-enough-1"}, "организация"),
    ({"login": "moderator", "role": "moderator", "password": "long-enough-1"}, "уже есть"),
])
def test_user_form_is_validated(admin, web_ctx, data, message):
    before = web_ctx.db.execute("SELECT count(*) FROM users").fetchone()[0]
    answer = post(admin, "/admin/users", data)
    assert answer.status_code == 400 and message in answer.text
    assert web_ctx.db.execute("SELECT count(*) FROM users").fetchone()[0] == before
    assert not audit_rows(web_ctx, "user_create")


def test_disabled_user_loses_the_session_at_once_and_cannot_log_in(app, admin, web_ctx):
    moderator = logged_in(app, "moderator", "moderator-demo")
    uid = user_id(web_ctx, "moderator")
    assert post(admin, f"/admin/users/{uid}/disable", {}).status_code == 303
    assert moderator.get("/", follow_redirects=False).status_code == 303  # back to /login
    client = TestClient(app)
    token = token_of(client.get("/login").text)
    refused = client.post("/login", data={"login": "moderator", "password": "moderator-demo",
                                          "csrf_token": token})
    assert refused.status_code == 401
    assert audit_rows(web_ctx, "user_disable")[-1]["target"] == "user:moderator"
    assert post(admin, f"/admin/users/{uid}/enable", {}).status_code == 303
    logged_in(app, "moderator", "moderator-demo")
    assert [r["action"] for r in audit_rows(web_ctx) if r["action"].startswith("user_")] == [
        "user_disable", "user_enable"]


def test_admin_cannot_lock_themselves_out(admin, web_ctx):
    uid = user_id(web_ctx, "admin")
    assert post(admin, f"/admin/users/{uid}/disable", {}).status_code == 400
    assert post(admin, f"/admin/users/{uid}/role", {"role": "moderator"}).status_code == 400
    assert admin.get("/admin/users").status_code == 200


def test_role_change_takes_effect_and_is_audited(app, admin, web_ctx):
    uid = user_id(web_ctx, "analyst")
    assert post(admin, f"/admin/users/{uid}/role", {"role": "admin"}).status_code == 303
    assert logged_in(app, "analyst", "analyst-demo").get("/admin/users").status_code == 200
    row = audit_rows(web_ctx, "user_role")[-1]
    assert row["details"]["old"]["role"] == "data_scientist"
    assert row["details"]["new"]["role"] == "admin"


def test_password_reset_typed_or_generated_shown_once(app, admin, web_ctx):
    uid = user_id(web_ctx, "moderator")
    assert post(admin, f"/admin/users/{uid}/password", {"password": "brand-new-pass"}).status_code == 200
    logged_in(app, "moderator", "brand-new-pass")
    page = post(admin, f"/admin/users/{uid}/password", {})
    generated = re.search(r"Новый пароль пользователя moderator: (\S+) —", page.text).group(1)
    logged_in(app, "moderator", generated)
    assert generated not in admin.get("/admin/users").text
    rows = audit_rows(web_ctx, "user_password_reset")
    assert [r["details"]["generated"] for r in rows] == [False, True]
    assert generated not in json.dumps(rows)


def test_organisation_linked_accounts_store_env_names_never_tokens(app, web_ctx, monkeypatch):
    web_ctx.settings.environ["TSUR_VK_TOKEN_DZR"] = "vk1.a.super-secret-token-value"
    admin = logged_in(app, "admin", "admin-demo-1")
    org = web_ctx.db.execute("SELECT id FROM organisations WHERE key = 'adm-dzr'").fetchone()[0]
    answer = post(admin, f"/admin/organisations/{org}", {
        "name": "Администрация г. Дзержинска", "municipality": "Дзержинск",
        "kind": "administration", "vk_group_id": "-100003", "vk_token_env": "TSUR_VK_TOKEN_DZR",
        "telegram_chat_id": "-1001234567890", "telegram_token_env": "TSUR_TG_TOKEN_DZR"})
    assert answer.status_code == 303
    row = web_ctx.db.execute("SELECT vk_group_id, vk_token_env, telegram_chat_id, telegram_token_env "
                             "FROM organisations WHERE id = ?", [org]).fetchone()
    assert tuple(row) == (100003, "TSUR_VK_TOKEN_DZR", -1001234567890, "TSUR_TG_TOKEN_DZR")
    page = admin.get(f"/admin/organisations/{org}").text
    listing = admin.get("/admin/organisations").text
    for html in (page, listing):
        assert "super-secret-token-value" not in html
        assert "TSUR_VK_TOKEN_DZR" in html
    assert "переменная задана" in page and "не задан на сервере" in page
    assert "Организация описана в" in page  # tsur.toml wins for the configured fields
    change = audit_rows(web_ctx, "organisation_update")[-1]
    assert change["target"] == "organisation:adm-dzr"
    assert change["details"]["vk_token_env"] == {"old": None, "new": "TSUR_VK_TOKEN_DZR"}
    assert "super-secret" not in json.dumps(audit_rows(web_ctx))


@pytest.mark.parametrize("field, value, message", [
    ("vk_token_env", "vk1.a.pasted-token-value", "ИМЯ переменной"),
    ("vk_token_env", "TSUR_SECRET_KEY", "не может хранить токен"),
    ("vk_group_id", "club100003", "целое число"),
    ("vk_group_id", "0", "ненулевое"),
    ("telegram_chat_id", "@channel", "целое число"),
    ("kind", "sect", "вид"),
    ("name", "", "Название"),
])
def test_organisation_form_is_validated_and_a_pasted_token_is_not_stored(admin, web_ctx, field,
                                                                        value, message):
    org = web_ctx.db.execute("SELECT id FROM organisations WHERE key = 'adm-nn'").fetchone()[0]
    before = dict(web_ctx.db["organisations"].get(org))
    data = {"name": "Администрация г. Нижнего Новгорода", "kind": "administration", field: value}
    answer = post(admin, f"/admin/organisations/{org}", data)
    assert answer.status_code == 400 and message in answer.text
    assert dict(web_ctx.db["organisations"].get(org)) == before
    if field == "vk_token_env" and "pasted" in value:
        assert value not in answer.text  # not echoed back either
    assert not audit_rows(web_ctx, "organisation_update")


def test_admin_creates_an_organisation(admin, web_ctx):
    answer = post(admin, "/admin/organisations", {"key": "vodokanal", "name": "Водоканал Дзержинска",
                                                  "municipality": "Дзержинск", "kind": "service"})
    assert answer.status_code == 303
    assert "Водоканал Дзержинска" in admin.get(answer.headers["location"]).text
    assert audit_rows(web_ctx, "organisation_create")[-1]["target"] == "organisation:vodokanal"
    again = post(admin, "/admin/organisations", {"key": "vodokanal", "name": "Дубль", "kind": "service"})
    assert again.status_code == 400 and "уже есть" in again.text


def test_sources_page_shows_health(admin, web_ctx):
    db = web_ctx.db
    db.execute("UPDATE sources SET last_success_at = '2026-11-16T06:00:00+00:00' WHERE key = 'vk:-100001'")
    db.execute("UPDATE sources SET last_success_at = '2026-11-16T05:00:00+00:00', "
               "last_error_at = '2026-11-16T06:30:00+00:00', "
               "last_error = 'VK error 5: User authorization failed <b>' WHERE key = 'vk:-100003'")
    db.execute("UPDATE sources SET paused = 1 WHERE key = 'vk:-100002'")
    db.conn.commit()
    html = admin.get("/admin/sources").text
    assert "работает" in html and "ошибка" in html and "на паузе" in html
    assert "User authorization failed &lt;b&gt;" in html
    assert "16.11.2026 09:30" in html  # local time (MSK) of the error


@pytest.mark.parametrize("source, health", [
    ({}, "never"),
    ({"paused": 1, "last_success_at": "2026-11-16T06:00:00+00:00"}, "paused"),
    ({"last_success_at": "2026-11-16T06:00:00+00:00"}, "ok"),
    ({"last_success_at": "2026-11-16T06:00:00+00:00", "last_error_at": "2026-11-16T05:00:00+00:00"}, "ok"),
    ({"last_success_at": "2026-11-16T06:00:00+00:00", "last_error_at": "2026-11-16T07:00:00+00:00"}, "error"),
    ({"last_error_at": "2026-11-16T07:00:00+00:00"}, "error"),
])
def test_source_health_counts_an_error_only_after_the_last_success(source, health):
    assert source_health(source) == health


def test_routing_page_lists_the_configured_rules(admin):
    html = admin.get("/admin/routing").text
    assert "Министерство здравоохранения Нижегородской области" in html
    assert "здравоохранение" in html and "очередь ЦУР" in html


def test_login_logout_and_failures_are_audited(app, web_ctx):
    client = TestClient(app)
    token = token_of(client.get("/login").text)
    client.post("/login", data={"login": "moderator", "password": "nope", "csrf_token": token})
    client = logged_in(app, "moderator", "moderator-demo")
    client.post("/logout", data={"csrf_token": token_of(client.get("/").text)})
    actions = [(r["action"], r["actor"]) for r in audit_rows(web_ctx)]
    assert actions == [("login_failed", "moderator"), ("login", "moderator"), ("logout", "moderator")]
    failed = audit_rows(web_ctx, "login_failed")[0]
    assert failed["details"] == {"ip": "testclient", "reason": "bad_credentials"}
    assert failed["at"] == "2026-11-16T07:00:00+00:00"  # the injected clock


def test_rate_limited_login_is_audited(app, web_ctx):
    client = TestClient(app)
    for _ in range(6):
        token = token_of(client.get("/login").text)
        client.post("/login", data={"login": "admin", "password": "guess", "csrf_token": token})
    reasons = [r["details"]["reason"] for r in audit_rows(web_ctx, "login_failed")]
    assert reasons == ["bad_credentials"] * 5 + ["rate_limited"]


def test_audit_page_lists_and_filters_changes_and_escapes_them(app, admin, web_ctx):
    client = TestClient(app)
    token = token_of(client.get("/login").text)
    client.post("/login", data={"login": "<script>alert(1)</script>", "password": "x",
                                "csrf_token": token})
    html = admin.get("/admin/audit").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    rows = html.split("<tbody>")[1]
    assert "неудачный вход" in rows and "неверный логин или пароль" in rows
    assert ">login_failed<" not in rows and "bad_credentials" not in rows
    assert "<script>alert(1)" not in html
    only = admin.get("/admin/audit?action=login").text
    assert "login_failed" not in only.split("<tbody>")[1]


def test_audit_log_is_append_only(web_ctx):
    from monitor.catalog import audit

    audit.record(web_ctx.db, "admin", "user_create", "user:x", {}, web_ctx.clock.now())
    with pytest.raises(Exception, match="append-only"):
        web_ctx.db.execute("UPDATE audit SET actor = 'someone else'")
    with pytest.raises(Exception, match="append-only"):
        web_ctx.db.execute("DELETE FROM audit")


def test_admin_link_is_shown_only_to_admins(app, admin):
    assert 'href="/admin/users"' in admin.get("/").text
    moderator = logged_in(app, "moderator", "moderator-demo")
    assert 'href="/admin/users"' not in moderator.get("/").text


def test_admin_adds_a_routing_rule_that_ingest_follows_then_deletes_it(admin, web_ctx, pipeline):
    from datetime import timedelta

    from monitor.ingest import ingest
    from monitor.ingest.post import Post

    refused = post(admin, "/admin/routing", {"organisation": "minobr"}, page="/admin/routing")
    assert refused.status_code == 400 and "тема" in refused.text
    added = post(admin, "/admin/routing", {"topic": "roads_transport", "municipality": "Дзержинск",
                                           "organisation": "mintrans"}, page="/admin/routing")
    assert added.status_code == 303
    [rule] = audit_rows(web_ctx, "routing_rule_add")
    assert rule["actor"] == "admin" and rule["details"]["organisation"] == "mintrans"

    web_ctx.pipeline = pipeline
    now = web_ctx.clock.now()
    ingest(web_ctx, [Post("vk:-100003", "-100003_77_1", "vk_comment",
                          "Яма на дороге на проспекте Ленина, вчера пробил колесо",
                          now - timedelta(minutes=5))])
    org = web_ctx.db.execute("SELECT o.key FROM incidents i JOIN organisations o"
                             " ON o.id = i.organisation_id ORDER BY i.id DESC").fetchone()[0]
    assert org == "mintrans"

    rule_id = web_ctx.db.execute("SELECT id FROM routing_rules").fetchone()[0]
    assert post(admin, f"/admin/routing/{rule_id}/delete", {}, page="/admin/routing").status_code == 303
    assert web_ctx.db["routing_rules"].count == 0 and audit_rows(web_ctx, "routing_rule_delete")


def test_admin_adds_pauses_and_removes_a_source_and_each_change_is_audited(admin, web_ctx):
    bad = post(admin, "/admin/sources", {"platform": "vk", "ident": "-100778",
                                         "municipality": "Атлантида"}, page="/admin/sources")
    assert bad.status_code == 400 and "Атлантида" in bad.text
    ok = post(admin, "/admin/sources", {"platform": "tgweb", "ident": "https://t.me/s/Vyksa_News",
                                        "municipality": "Выкса"}, page="/admin/sources")
    assert ok.status_code == 303
    row = next(web_ctx.db["sources"].rows_where("key = ?", ["tgweb:vyksa_news"]))
    assert row["municipality"] == "Выкса" and row["paused"] == 0
    assert post(admin, "/admin/sources/pause", {"key": "tgweb:vyksa_news"},
                page="/admin/sources").status_code == 303
    assert next(web_ctx.db["sources"].rows_where("key = ?", ["tgweb:vyksa_news"]))["paused"] == 1
    assert post(admin, "/admin/sources/remove", {"key": "tgweb:vyksa_news"},
                page="/admin/sources").status_code == 303
    assert "tgweb:vyksa_news" not in admin.get("/admin/sources").text
    assert [r["action"] for r in audit_rows(web_ctx) if r["action"].startswith("source_")] == [
        "source_add", "source_pause", "source_remove"]
