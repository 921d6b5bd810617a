"""The incident page (thread, clocks, replies, canned drafts), reply retries and bulk
actions, through the test client; replies reach the loopback VK server."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from test_web_security import assert_inert

from monitor.catalog.organisations import organisation_id, sync_from_settings
from monitor.clock import iso
from monitor.context import Context
from monitor.demo import seed_users
from monitor.incidents.lifecycle import act
from monitor.incidents.states import open_incident
from monitor.replies import run_once
from monitor.store import open_db
from monitor.web import auth
from monitor.web.app import create_app
from nlp import Labels
from tests.fakes.vk import FakeVK

HOSTILE = ('Яма на Гайдара 12 <script>alert(1)</script> <img src=x onerror=alert(2)> '
           '<a href="javascript:alert(3)">тут</a>')
VK_TOKEN = "dzr-token"


@pytest.fixture
def vk():
    with FakeVK() as server:
        server.add_token(VK_TOKEN, "community", group_id=100003)
        yield server


@pytest.fixture
def wctx(settings, clock, vk):
    orgs = tuple(replace(o, vk_token_env="TSUR_VK_TOKEN_ADM_DZR") if o.key == "adm-dzr" else o
                 for o in settings.organisations)
    s = replace(settings, organisations=orgs, environ={
        "TSUR_VK_API_URL": vk.url, "TSUR_VK_TOKEN_ADM_DZR": VK_TOKEN})
    db = open_db(s.database)
    sync_from_settings(db, s, clock.now())
    ctx = Context(db, s, clock, None)
    seed_users(ctx)
    auth.limiter.failures.clear()
    yield ctx
    db.close()


def add_post(ctx, external_id, text, *, source="vk:-100003", channel="vk_comment", parent=None,
             author="vk:777", name="Ольга", url=None, minutes=0, incident_org=None,
             labels=("complaint", "housing", "Дзержинск", "normal")):
    """A stored post (and its incident when `incident_org` is given)."""
    at = iso(ctx.clock.now() - timedelta(minutes=30 - minutes))
    with ctx.db.atomic():
        source_id = ctx.db.execute("SELECT id FROM sources WHERE key = ?", [source]).fetchone()[0]
        post_id = ctx.db["posts"].insert({
            "source_id": source_id, "external_id": external_id, "channel": channel,
            "parent_external_id": parent, "author_id": author, "author_name": name, "text": text,
            "url": url, "created_at": at, "collected_at": at}).last_pk
        if incident_org is None:
            return None
        kind, topic, municipality, urgency = labels
        ctx.db["labels"].insert({
            "post_id": post_id, "model_version": "test", "kind": kind, "topic": topic,
            "municipality": municipality, "urgency": urgency, "created_at": at,
            "scores": json.dumps({"kind": 0.93, "topic": 0.81, "urgency": 0.66}),
            "explanations": json.dumps({"topic": "слова: горячей, воды"})})
        return open_incident(ctx, post_id, Labels(kind, topic, municipality, urgency, {}),
                             organisation_id(ctx.db, incident_org), "test")


@pytest.fixture
def world(wctx, vk):
    """A VK thread on the Дзержинск page: the news post, three comments (the middle one
    hostile and an incident), a reply under it; an Арзамас incident by the same author."""
    news = vk.post(-100003, "Плановое отключение горячей воды")
    comments = [vk.comment(-100003, news["id"], t) for t in ("Первый", HOSTILE, "Третий")]
    wall = f"-100003_{news['id']}"
    add_post(wctx, wall, "Плановое отключение горячей воды", channel="vk_post",
             author="vk:-100003", name="Администрация", url=f"https://vk.com/wall{wall}")
    add_post(wctx, f"{wall}_{comments[0]['id']}", "Сосед: у нас тоже нет воды", parent=wall,
             author="vk:700", minutes=1)
    main = add_post(wctx, f"{wall}_{comments[1]['id']}", HOSTILE, parent=wall, minutes=2,
                    url="javascript:alert(document.cookie)", incident_org="adm-dzr")
    add_post(wctx, f"{wall}_{comments[2]['id']}", "И на Чкалова тоже", parent=wall, minutes=3,
             author="vk:701")
    add_post(wctx, f"{wall}_{comments[1]['id']}_9999", "Уточняю: подъезд 2",
             parent=f"{wall}_{comments[1]['id']}", minutes=4)
    own_other = add_post(wctx, f"{wall}_5000", "Ещё: не горит фонарь во дворе", parent=wall,
                         minutes=5, incident_org="adm-dzr",
                         labels=("complaint", "improvement", "Дзержинск", "low"))
    foreign = add_post(wctx, "-100004_77", "В Арзамасе сломана лавочка — автор тот же",
                       source="vk:-100004", channel="vk_post", minutes=6, incident_org="adm-arz",
                       labels=("complaint", "improvement", "Арзамас", "low"))
    return {"main": main, "own_other": own_other, "foreign": foreign, "news": news,
            "comment": comments[1]}


@pytest.fixture
def app(wctx, world):
    return create_app(wctx, secret_key="test-secret")


def client_for(app, login, password):
    client = TestClient(app)
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    client.post("/login", data={"login": login, "password": password, "csrf_token": token},
                follow_redirects=False)
    return client


def moderator(app):
    return client_for(app, "moderator", "moderator-demo")


def official(app):
    return client_for(app, "dzerzhinsk", "official-demo")


def csrf(client, url="/"):
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(url).text).group(1)


# --- the incident page -------------------------------------------------------------------


def test_incident_page_shows_the_thread_around_the_post_escaped(app, world):
    html = moderator(app).get(f"/incidents/{world['main']}").text
    assert_inert(html)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    thread = html[html.index("Обсуждение"):html.index("Метки")]
    order = [thread.index(t) for t in ("Плановое отключение", "Сосед: у нас тоже", "Яма на Гайдара",
                                       "И на Чкалова тоже", "Уточняю: подъезд 2")]
    assert order == sorted(order)
    assert 'href="https://vk.com/wall-100003_' in thread  # the parent's original
    assert "javascript:" not in html.replace("javascript:alert(3)", "")  # only as escaped text


def test_incident_page_shows_labels_clocks_history_and_the_label_correction_link(app, world):
    html = moderator(app).get(f"/incidents/{world['main']}").text
    assert "0.81" in html and "слова: горячей, воды" in html
    assert f'href="/incidents/{world["main"]}/labels"' in html
    for title in ("первый ответ", "передача исполнителю", "черновик ответа", "итоговый ответ"):
        assert title in html
    assert "осталось 3 ч" in html  # first reply: 3 working hours from the opening at 10:00
    assert 'data-event="opened"' in html and "открыт" in html


def test_overdue_clock_says_by_how_much(app, wctx, world):
    wctx.clock.advance(timedelta(hours=4, minutes=25))
    html = moderator(app).get(f"/incidents/{world['main']}").text
    assert "просрочен на 1 ч 25 мин" in html


def test_authors_other_messages_are_shown_and_scoped_for_officials(app, world):
    html = moderator(app).get(f"/incidents/{world['main']}").text
    section = html[html.index("Другие сообщения автора"):html.index("</aside>")]
    assert "не горит фонарь" in section and "лавочка" in section
    assert f'href="/incidents/{world["foreign"]}"' in section
    mine = official(app).get(f"/incidents/{world['main']}").text
    section = mine[mine.index("Другие сообщения автора"):mine.index("</aside>")]
    assert "не горит фонарь" in section and "лавочка" not in section
    assert f'/incidents/{world["foreign"]}"' not in mine
    assert "/labels" not in mine  # correcting labels is the moderators' job


def test_repeats_are_listed(app, wctx, world):
    act(wctx, world["own_other"], "link_repeat", "moderator", repeat_of=str(world["main"]))
    html = moderator(app).get(f"/incidents/{world['main']}").text
    section = html[html.index("Повторы"):html.index("Другие сообщения автора")]
    assert "не горит фонарь" in section


def test_official_starts_a_draft_from_a_canned_answer_with_the_place_filled_in(app, wctx, world):
    act(wctx, world["main"], "assign", "moderator",
        organisation_id=str(organisation_id(wctx.db, "adm-dzr")))
    client = official(app)
    page = client.get(f"/incidents/{world['main']}").text
    assert "?canned=housing-1#draft" in page and "Передано в управляющую компанию" in page
    filled = client.get(f"/incidents/{world['main']}?canned=housing-1").text
    draft = re.search(r'<textarea name="text" aria-label="Черновик ответа"[^>]*>([^<]*)</textarea>',
                      filled).group(1)
    assert "Гайдара, 12 (Дзержинск)" in draft and f"№ {world['main']}" in draft
    sent = client.post(f"/incidents/{world['main']}/act", follow_redirects=False, data={
        "action": "submit_draft", "text": draft.replace("&#34;", '"'),
        "csrf_token": csrf(client, f"/incidents/{world['main']}")})
    assert sent.status_code == 303
    assert wctx.db["incidents"].get(world["main"])["status"] == "draft_review"


# --- replies on the page ------------------------------------------------------------------


def test_a_draft_approved_by_the_moderator_reaches_vk_and_the_page_says_so(app, wctx, vk, world):
    act(wctx, world["main"], "assign", "moderator",
        organisation_id=str(organisation_id(wctx.db, "adm-dzr")))
    act(wctx, world["main"], "submit_draft", "dzerzhinsk", text="Бригада приедет сегодня <b>до 18:00</b>")
    client = moderator(app)
    token = csrf(client, f"/incidents/{world['main']}")
    client.post(f"/incidents/{world['main']}/act", data={"action": "approve_final",
                                                         "csrf_token": token})
    with httpx.Client(timeout=5) as http:
        run_once(wctx, http)
    [call] = vk.created_comments
    assert call["message"] == "Бригада приедет сегодня <b>до 18:00</b>"
    assert call["reply_to_comment"] == str(world["comment"]["id"]) and call["from_group"] == "100003"
    html = client.get(f"/incidents/{world['main']}").text
    section = html[html.index('id="replies"'):html.index('id="history-h"')]
    assert "опубликован" in section and "от vk:club100003" in section
    assert "&lt;b&gt;до 18:00&lt;/b&gt;" in section
    assert "Площадка приняла ответ" in html and "Ответ площадки" not in section
    assert "дан ответ" in html  # the platform accepted it: now, and only now


def test_a_failed_reply_shows_the_platforms_reason_and_a_moderator_retries_it(
        app, wctx, vk, world):
    act(wctx, world["main"], "acknowledge", "moderator", text="Передали в администрацию")
    vk.close_comments(-100003, world["news"]["id"])
    with httpx.Client(timeout=5) as http:
        run_once(wctx, http)
    client = moderator(app)
    html = client.get(f"/incidents/{world['main']}").text
    assert "VK error 212: Access to post comments denied" in html
    assert "комментарии к записи закрыты" in html and "Отправить снова" in html
    reply_id = wctx.db.execute("SELECT id FROM outbox WHERE audience = 'resident'").fetchone()[0]
    url = f"/incidents/{world['main']}/replies/{reply_id}/retry"
    assert client.post(url, data={}).status_code == 403  # no CSRF token
    assert official(app).post(url, data={"csrf_token": csrf(official(app))}).status_code == 403
    answer = client.post(url, data={"csrf_token": csrf(client)}, follow_redirects=False)
    assert answer.status_code == 303
    vk.posts[-100003][world["news"]["id"]]["comments"]["can_post"] = 1
    with httpx.Client(timeout=5) as http:
        run_once(wctx, http)
    html = client.get(f"/incidents/{world['main']}").text
    assert "опубликован" in html and "Анна Смирнова отправила ответ повторно" in html
    again = client.post(url, data={"csrf_token": csrf(client)})
    assert again.status_code == 409 and "снова отправляют только" in again.text


def test_an_unknown_reply_can_be_confirmed_after_checking(app, wctx, vk, world):
    act(wctx, world["main"], "acknowledge", "moderator", text="Передали")
    vk.inject("wall.createComment", "drop")
    with httpx.Client(timeout=5) as http:
        run_once(wctx, http)
    client = moderator(app)
    html = client.get(f"/incidents/{world['main']}").text
    assert "неизвестно, дошёл ли" in html and "Проверил: опубликован" in html
    reply_id = wctx.db.execute("SELECT id FROM outbox WHERE audience = 'resident'").fetchone()[0]
    done = client.post(f"/incidents/{world['main']}/replies/{reply_id}/confirm",
                       data={"csrf_token": csrf(client)}, follow_redirects=False)
    assert done.status_code == 303
    assert wctx.db["outbox"].get(reply_id)["status"] == "published"


# --- officials see only their organisation, on every route --------------------------------


def test_official_cannot_reach_another_organisations_incident_on_any_route(app, wctx, world):
    client = official(app)
    foreign = world["foreign"]
    act(wctx, foreign, "acknowledge", "moderator", text="Передали")
    reply_id = wctx.db.execute("SELECT id FROM outbox WHERE audience = 'resident' AND incident_id = ?",
                               [foreign]).fetchone()[0]
    token = csrf(client)
    assert client.get(f"/incidents/{foreign}").status_code == 404
    assert client.get(f"/incidents/{foreign}?canned=housing-1").status_code == 404
    assert client.post(f"/incidents/{foreign}/act", data={
        "action": "submit_draft", "text": "x", "csrf_token": token}).status_code == 404
    for what in ("retry", "confirm"):  # moderators only, whatever the incident
        assert client.post(f"/incidents/{foreign}/replies/{reply_id}/{what}",
                           data={"csrf_token": token}).status_code == 403
    assert client.post("/incidents/bulk", data={"action": "confirm", "ids": [str(foreign)],
                                                "csrf_token": token}).status_code == 403
    queue = client.get("/").text
    assert f'href="/incidents/{foreign}"' not in queue and 'name="ids"' not in queue


def test_a_reply_is_retried_only_through_its_own_incident(app, wctx, world):
    act(wctx, world["foreign"], "acknowledge", "moderator", text="Передали")
    reply_id = wctx.db.execute("SELECT id FROM outbox WHERE audience = 'resident'").fetchone()[0]
    client = moderator(app)
    answer = client.post(f"/incidents/{world['main']}/replies/{reply_id}/retry",
                         data={"csrf_token": csrf(client)})
    assert answer.status_code == 409 and f"нет ответа № {reply_id}" in answer.text


# --- bulk actions ---------------------------------------------------------------------------


def test_queue_has_a_checkbox_per_incident_and_one_bulk_form(app, world):
    html = moderator(app).get("/?status=new").text
    assert html.count('name="ids"') == 3 and html.count('action="/incidents/bulk"') == 1
    assert 'name="back" value="/?status=new"' in html


def test_bulk_confirm_acts_on_each_incident_and_reports_the_illegal_one(app, wctx, world):
    act(wctx, world["own_other"], "confirm", "moderator")  # already confirmed
    client = moderator(app)
    ids = [str(world["main"]), str(world["own_other"]), str(world["foreign"]), "99999"]
    answer = client.post("/incidents/bulk", data={"action": "confirm", "ids": ids,
                                                  "back": "/?status=new", "csrf_token": csrf(client)})
    assert answer.status_code == 200
    assert "выполнено 2 из 4" in answer.text and "возможно только в состояниях" in answer.text
    assert "инцидент не найден" in answer.text and 'href="/?status=new"' in answer.text
    statuses = {i: wctx.db["incidents"].get(i)["status"] for i in
                (world["main"], world["own_other"], world["foreign"])}
    assert set(statuses.values()) == {"confirmed"}
    for i in (world["main"], world["foreign"]):  # each incident got its own event
        assert [e["event"] for e in wctx.db["incident_events"].rows_where(
            "incident_id = ? AND event = 'confirm'", [i])] == ["confirm"]


def test_bulk_route_assigns_several_and_needs_csrf_and_an_organisation(app, wctx, world):
    client = moderator(app)
    org = str(organisation_id(wctx.db, "adm-dzr"))
    ids = [str(world["main"]), str(world["own_other"])]
    assert client.post("/incidents/bulk", data={"action": "assign", "ids": ids,
                                                "organisation_id": org}).status_code == 403
    none = client.post("/incidents/bulk", data={"action": "assign", "ids": ids,
                                                "csrf_token": csrf(client)})
    assert none.status_code == 409 and "Выберите организацию" in none.text
    done = client.post("/incidents/bulk", data={"action": "assign", "ids": ids,
                                                "organisation_id": org, "csrf_token": csrf(client),
                                                "back": "https://evil.example/"})
    assert done.status_code == 200 and "выполнено 2 из 2" in done.text
    assert "evil.example" not in done.text
    assert {wctx.db["incidents"].get(int(i))["status"] for i in ids} == {"assigned"}


def test_bulk_refuses_unknown_actions_and_empty_selections(app):
    client = moderator(app)
    assert client.post("/incidents/bulk", data={"action": "close", "ids": ["1"],
                                                "csrf_token": csrf(client)}).status_code == 400
    assert client.post("/incidents/bulk", data={"action": "confirm",
                                                "csrf_token": csrf(client)}).status_code == 400


def test_an_official_cannot_publish_unapproved_text_by_resolving(app, wctx, world):
    """After an interim answer is approved, «resolve» with a text from an official is
    refused: an official's words reach a resident only through an approved draft."""
    act(wctx, world["main"], "assign", "moderator", organisation_id=str(organisation_id(wctx.db, "adm-dzr")))
    act(wctx, world["main"], "submit_draft", "dzerzhinsk", text="Работы начнутся в понедельник")
    act(wctx, world["main"], "approve_interim", "moderator")
    def answers():
        return wctx.db["outbox"].count_where("audience = 'resident' AND purpose = 'answer'")

    queued = answers()
    client = official(app)
    token = csrf(client, f"/incidents/{world['main']}")
    refused = client.post(f"/incidents/{world['main']}/act", data={
        "action": "resolve", "text": "Никто ничего делать не будет", "csrf_token": token})
    assert refused.status_code == 403 and "утверждённый модератором" in refused.text
    assert answers() == queued
    assert wctx.db["incidents"].get(world["main"])["status"] != "resolved"
    done = client.post(f"/incidents/{world['main']}/act", data={"action": "resolve", "csrf_token": token},
                       follow_redirects=False)
    assert done.status_code == 303 and wctx.db["incidents"].get(world["main"])["status"] == "resolved"
    assert answers() == queued
