"""Tiers of moderation: a municipal ЦУР's moderator sees and acts only on the municipal
tier of their municipalities — on every route, export and stream, checked the way
officials' scope is checked — while the region sees everything, hands incidents
between the tiers with a reason and sees what waits on the centres."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
import test_web_admin as admin_tests
from test_web_admin import logged_in, token_of

from monitor.catalog.organisations import organisation_id
from monitor.catalog.users import UserError, create_user, user_by_login
from monitor.clock import iso
from monitor.incidents.access import visible_to
from monitor.incidents.handoffs import hand_off, waiting_on_centres
from monitor.incidents.lifecycle import act
from monitor.incidents.queries import list_incidents
from monitor.incidents.states import TransitionError, open_incident
from monitor.reports import exports
from monitor.web.app import create_app
from nlp import Labels

seeded_template, web_ctx = admin_tests.seeded_template, admin_tests.web_ctx
CENTRE = ("dzr-cur", "municipal-demo")


def add(ctx, text, topic, municipality, org_key, n):
    """A post on the Дзержинск page and its incident, opened like ingest opens one."""
    now = iso(ctx.clock.now())
    with ctx.db.atomic():
        source = ctx.db.execute("SELECT id FROM sources WHERE key = 'vk:-100003'").fetchone()[0]
        post = ctx.db["posts"].insert({
            "source_id": source, "external_id": f"-100003_{n}", "channel": "vk_comment",
            "author_id": "vk:555", "author_name": "Житель", "text": text,
            "url": f"https://vk.com/wall-100003_{n}", "created_at": now,
            "collected_at": now}).last_pk
        return open_incident(ctx, post, Labels("complaint", topic, municipality, "normal", {}),
                             organisation_id(ctx.db, org_key), "test")


@pytest.fixture
def world(web_ctx):
    return {
        "own": add(web_ctx, "Нет горячей воды на Гагарина", "housing", "Дзержинск", "adm-dzr", 1),
        "regional_topic": add(web_ctx, "Нет записи к терапевту", "health", "Дзержинск",
                              "minzdrav", 2),
        "other_city": add(web_ctx, "Яма на Большой Покровской", "roads_transport",
                          "Нижний Новгород", "adm-nn", 3),
    }


@pytest.fixture
def app(web_ctx, world):
    app = create_app(web_ctx, secret_key="test-secret")
    app.state.live_lifetime = 0
    app.state.live_interval = 0
    return app


def centre(app):
    return logged_in(app, *CENTRE)


def test_incidents_get_their_tier_from_the_centres_and_the_regional_topics(web_ctx, world):
    tiers = {k: web_ctx.db["incidents"].get(v)["tier"] for k, v in world.items()}
    assert tiers == {"own": "municipal", "regional_topic": "regional", "other_city": "regional"}
    opened = json.loads(web_ctx.db.execute(
        "SELECT data FROM incident_events WHERE incident_id = ? AND event = 'opened'",
        [world["own"]]).fetchone()[0])
    assert opened["tier"] == "municipal"


def test_the_scope_is_one_where_clause_for_every_query(web_ctx, world):
    viewer = user_by_login(web_ctx.db, "dzr-cur")
    assert [r["id"] for r in list_incidents(web_ctx.db, viewer).rows] == [world["own"]]
    where, params = visible_to(viewer, "x.organisation_id")
    assert where.startswith("(x.tier = 'municipal' AND x.municipality IN") and params == ["Дзержинск"]
    region = user_by_login(web_ctx.db, "moderator")
    assert len(list_incidents(web_ctx.db, region).rows) == 3


def test_only_a_moderator_can_be_scoped(web_ctx):
    with pytest.raises(UserError, match="only a moderator"):
        create_user(web_ctx.db, "x-off", "long-enough-1", "official", web_ctx.clock.now(),
                    organisation="adm-dzr", municipalities=["Дзержинск"])


# --- every route, export and stream ---------------------------------------------------------

FORM = {"action": "confirm", "text": "x", "reason": "x", "comment": "x", "to": "regional",
        "mark": "good", "draft_id": "1", "target": "resolve", "until": "2026-12-01",
        "decision": "approve", "organisation_id": "1", "post_id": "1", "repeat_of": "1",
        "kind": "complaint", "topic": "housing", "municipality": "Дзержинск", "urgency": "low"}


def _routes(routes):
    """Every route, through the routers included (newer FastAPI keeps them nested)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        yield from _routes(inner.routes) if inner is not None else (route,)


def incident_routes(app):
    for route in _routes(app.routes):
        path = getattr(route, "path", "")
        if "{incident_id}" in path:
            for method in sorted(route.methods - {"HEAD"}):
                yield method, path


def _fill(path: str, incident_id: int) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(incident_id) if m[1] == "incident_id" else "1", path)


def test_a_municipal_moderator_reaches_no_other_incident_on_any_route(app, web_ctx, world):
    client = centre(app)
    token = token_of(client.get("/").text)
    routes = list(incident_routes(app))
    assert len(routes) >= 8  # the page, actions, labels, replies, hand-off, extensions, quality
    for foreign in (world["regional_topic"], world["other_city"]):
        before = web_ctx.db["incidents"].get(foreign)
        events = web_ctx.db["incident_events"].count_where("incident_id = ?", [foreign])
        for method, path in routes:
            url = _fill(path, foreign)
            answer = (client.get(url) if method == "GET"
                      else client.post(url, data={**FORM, "csrf_token": token}))
            assert answer.status_code in (403, 404), (method, url, answer.status_code)
        assert web_ctx.db["incidents"].get(foreign) == before
        assert web_ctx.db["incident_events"].count_where("incident_id = ?", [foreign]) == events
    assert client.get(f"/incidents/{world['own']}").status_code == 200


def test_the_municipal_queue_counts_bulk_and_stream_hold_only_the_centre(app, web_ctx, world):
    client = centre(app)
    html = client.get("/").text
    assert set(re.findall(r'<td><a href="/incidents/(\d+)">', html)) == {str(world["own"])}
    assert "все: 1<" in html and "Муниципальный ЦУР: Дзержинск" in html
    token = token_of(html)
    ids = [str(i) for i in world.values()]
    bulk = client.post("/incidents/bulk", data={"action": "confirm", "ids": ids, "csrf_token": token})
    assert "выполнено 1 из 3" in bulk.text
    assert {k: web_ctx.db["incidents"].get(v)["status"] for k, v in world.items()} == {
        "own": "confirmed", "regional_topic": "new", "other_city": "new"}
    with client.stream("GET", "/live/queue?after=0") as answer:
        body = "".join(answer.iter_text())
    assert '"count": 1' in body and f'"latest": {world["own"]}' in body


def test_municipal_exports_and_pages_hold_only_the_centre(app, web_ctx, world):
    client = centre(app)
    csv_text = client.get("/dashboard/export/incidents.csv").content.decode("utf-8-sig")
    numbers = {line.split(";")[0].strip('"') for line in csv_text.splitlines()[1:]}
    assert numbers == {str(world["own"])}
    volume = client.get("/dashboard/export/volume.csv").content.decode("utf-8-sig")
    assert "сообщений" not in volume.splitlines()[0]  # the region's collected messages are not theirs
    board = client.get("/dashboard").text  # the map names every place; counts only theirs
    assert "Нижний Новгород: 0" in board and "Дзержинск: 1" in board
    rating = client.get("/ratings/export/all.json?month=2026-11").json()
    groups = {r["group"] for t in rating["reports"] for r in t["rows"]}
    assert groups == {"Администрация г. Дзержинска", "Дзержинск"}
    for page in ("/labels/queue", "/posts/1/labels", "/tiers"):
        assert client.get(page).status_code == 403, page
    scope = exports.Scope(user_by_login(web_ctx.db, "dzr-cur"), web_ctx.clock.now(), "Europe/Moscow")
    tables = [exports.build(name, web_ctx.db, scope, web_ctx.settings) for name in exports.REPORTS]
    places = {r.get("municipality") for t in tables for r in t.rows if r.get("municipality")}
    assert places == {"Дзержинск"}


def test_thread_links_to_incidents_out_of_scope_are_hidden(app, web_ctx, world):
    html = centre(app).get(f"/incidents/{world['own']}").text
    for foreign in (world["regional_topic"], world["other_city"]):
        assert f'href="/incidents/{foreign}"' not in html


# --- hand-offs and what waits on the centres ------------------------------------------------


def test_the_region_hands_down_and_the_centre_gives_back_with_a_reason(web_ctx, world):
    region = user_by_login(web_ctx.db, "moderator")
    municipal = user_by_login(web_ctx.db, "dzr-cur")
    with pytest.raises(TransitionError, match="требует причины"):
        hand_off(web_ctx, world["regional_topic"], "municipal", region, "  ")
    with pytest.raises(TransitionError, match="нет муниципального ЦУР"):
        hand_off(web_ctx, world["other_city"], "municipal", region, "пусть решают на месте")
    with pytest.raises(PermissionError):  # not theirs to see
        hand_off(web_ctx, world["regional_topic"], "regional", municipal, "не наше")
    hand_off(web_ctx, world["regional_topic"], "municipal", region, "вопрос к городской поликлинике")
    assert [r["id"] for r in list_incidents(web_ctx.db, municipal).rows] == sorted(
        [world["own"], world["regional_topic"]], reverse=True)
    with pytest.raises(PermissionError, match="только вернуть"):
        hand_off(web_ctx, world["own"], "municipal", municipal, "x")
    hand_off(web_ctx, world["own"], "regional", municipal, "нужен ответ министерства ЖКХ")
    event = web_ctx.db.execute("SELECT actor, data FROM incident_events WHERE incident_id = ?"
                               " AND event = 'handed_off'", [world["own"]]).fetchone()
    assert event[0] == "dzr-cur"
    assert json.loads(event[1]) == {"from": "municipal", "to": "regional",
                                    "comment": "нужен ответ министерства ЖКХ",
                                    "centre": "Муниципальный ЦУР Дзержинска"}


def test_the_regional_queue_shows_what_waits_on_the_centre_and_how_long(app, web_ctx, world):
    web_ctx.clock.advance(timedelta(minutes=90))
    act(web_ctx, world["own"], "confirm", "dzr-cur")
    [waiting] = waiting_on_centres(web_ctx)
    assert (waiting.centre, waiting.open, waiting.unrouted) == ("Муниципальный ЦУР Дзержинска", 1, 1)
    assert waiting.waited_hours(web_ctx.clock.now()) == 1.5
    client = logged_in(app, "moderator", "moderator-demo")
    assert "Ждут в муниципальных ЦУР" in client.get("/").text
    assert "1.5 ч" in client.get("/tiers").text


def test_an_admin_scopes_a_moderator_to_a_municipal_centre(app, web_ctx, world):
    admin = logged_in(app, "admin", "admin-demo-1")
    page = admin.get("/admin/users").text
    assert "муниципальный ЦУР: Дзержинск" in page
    moderator = user_by_login(web_ctx.db, "moderator")
    done = admin.post(f"/admin/users/{moderator['id']}/municipalities", data={
        "municipalities": "Нижний Новгород, Дзержинск", "csrf_token": token_of(page)},
        follow_redirects=False)
    assert done.status_code == 303
    scoped = user_by_login(web_ctx.db, "moderator")
    assert [r["id"] for r in list_incidents(web_ctx.db, scoped).rows] == [world["own"]]
    official = user_by_login(web_ctx.db, "dzerzhinsk")
    refused = admin.post(f"/admin/users/{official['id']}/municipalities", data={
        "municipalities": "Дзержинск", "csrf_token": token_of(page)})
    assert refused.status_code == 400
    centre_client = logged_in(app, *CENTRE)
    assert centre_client.post(f"/admin/users/{moderator['id']}/municipalities", data={
        "municipalities": "", "csrf_token": token_of(centre_client.get("/").text)}).status_code == 403
    assert json.loads(web_ctx.db.execute("SELECT details FROM audit WHERE action = 'user_scope'"
                                         ).fetchone()[0])["new"] == ["Нижний Новгород", "Дзержинск"]


def test_routing_to_a_regional_body_takes_the_incident_up_to_the_region(web_ctx, world):
    act(web_ctx, world["own"], "assign", "dzr-cur", organisation_id=organisation_id(web_ctx.db, "minsoc"))
    row = web_ctx.db["incidents"].get(world["own"])
    assert row["tier"] == "regional"
    assert list_incidents(web_ctx.db, user_by_login(web_ctx.db, "dzr-cur")).rows == []


@pytest.mark.parametrize("raw, message", [
    ({"tiers": {"regional_topics": ["weather"]}}, "unknown topic 'weather'"),
    ({"tiers": {"regional_organisations": ["nope"]}}, "unknown organisation 'nope'"),
    ({"tiers": {"centres": [{"key": "a", "name": "A", "municipalities": ["Бор"]},
                            {"key": "b", "name": "B", "municipalities": ["Бор"]}]}}, "two centres"),
    ({"tiers": {"centres": [{"key": "a", "name": "A"}]}}, "no municipalities"),
    ({"extensions": {"targets": ["lunch"]}}, "unknown target 'lunch'"),
    ({"extensions": {"max_days": 0}}, "max_days"),
    ({"ratings": {"weights": {"luck": 1}}}, "unknown part"),
    ({"ratings": {"min_incidents": 0}}, "min_incidents"),
    ({"workflow": {"info_close_hours": -1}}, "info_close_hours"),
])
def test_the_regional_settings_are_checked(raw, message):
    from monitor.settings import ConfigError, settings_from_dict

    with pytest.raises(ConfigError, match=message):
        settings_from_dict(raw, environ={})


def test_the_tier_filter_and_the_region_view_link_to_a_centres_queue(app, web_ctx, world):
    region = user_by_login(web_ctx.db, "moderator")
    assert [r["id"] for r in list_incidents(web_ctx.db, region, {"tier": "municipal"}).rows] == [
        world["own"]]
    html = logged_in(app, "moderator", "moderator-demo").get("/tiers").text
    assert "/?tier=municipal&amp;municipality=%D0%94" in html


def test_a_centre_gives_an_incident_back_from_its_page(app, web_ctx, world):
    client = centre(app)
    page = client.get(f"/incidents/{world['own']}").text
    assert "Передать: региональный ЦУР" in page and "глава города Дзержинска" in page
    empty = client.post(f"/incidents/{world['own']}/handoff", data={
        "to": "regional", "reason": " ", "csrf_token": token_of(page)})
    assert empty.status_code == 409 and "требует причины" in empty.text
    done = client.post(f"/incidents/{world['own']}/handoff", data={
        "to": "regional", "reason": "вопрос министерства", "csrf_token": token_of(page)},
        follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/"
    assert client.get(f"/incidents/{world['own']}").status_code == 404
    region = logged_in(app, "moderator", "moderator-demo").get(f"/incidents/{world['own']}").text
    assert "Передать: муниципальный ЦУР" in region and "вопрос министерства" in region


def test_the_centres_chat_hears_of_hand_downs_and_of_its_breaches(web_ctx, world):
    from dataclasses import replace

    from monitor.incidents.worker import handle_due

    tiers = web_ctx.settings.tiers
    web_ctx.settings = replace(web_ctx.settings, tiers=replace(tiers, centres=tuple(
        replace(c, chat_id=-700) for c in tiers.centres)))
    hand_off(web_ctx, world["regional_topic"], "municipal", user_by_login(web_ctx.db, "moderator"),
             "поликлиника города")
    web_ctx.clock.advance(timedelta(days=3))
    while handle_due(web_ctx):
        pass
    texts = [r["text"] for r in web_ctx.db["outbox"].rows_where("audience = 'staff' AND chat_id = -700")]
    assert any("передан в Муниципальный ЦУР Дзержинска" in t for t in texts)
    assert any(f"№{world['own']}" in t and "Просрочено" in t for t in texts)
    assert not any(f"№{world['other_city']}" in t for t in texts)
