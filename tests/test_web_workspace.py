"""A shift's workspace: only the actions a state allows, refusals in Russian that keep the
text, drafts a moderator edits, honest reply states, corrections that take effect, the
history in sentences, triage from the queue and saved views (through the test client)."""

# ruff: noqa: F811 (the fixtures of test_web_incident are imported and taken as arguments)
from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import httpx
import pytest
from test_web_incident import app, csrf, moderator, official, vk, wctx, world  # noqa: F401

from monitor.catalog.organisations import organisation_id
from monitor.incidents.history import feminine, tell
from monitor.incidents.lifecycle import act
from monitor.replies import run_once
from monitor.web.display import model_date


def page(client, incident_id):
    return client.get(f"/incidents/{incident_id}").text


def post_act(client, incident_id, **data):
    token = csrf(client, f"/incidents/{incident_id}")
    return client.post(f"/incidents/{incident_id}/act", data={**data, "csrf_token": token},
                       follow_redirects=False)


def assign(wctx, incident_id, org="adm-dzr"):
    act(wctx, incident_id, "assign", "moderator", organisation_id=str(organisation_id(wctx.db, org)))


def heading(html):
    return re.search(r"<h1>(.*?)</h1>", html, re.S).group(1)


# --- the incident page offers only what the state allows ---------------------------------


def test_a_new_incident_offers_only_the_actions_its_state_allows(app, world):
    html = page(moderator(app), world["main"])
    assert 'value="confirm"' in html and 'value="assign"' in html and 'value="reject"' in html
    for absent in ('value="close"', 'value="reopen"', 'value="approve_final"', 'value="resolve"',
                   'value="info_received"', "Утвердить как итоговый"):
        assert absent not in html


def test_the_reject_reason_has_no_default_and_a_missing_one_is_refused_in_russian(app, wctx, world):
    client = moderator(app)
    html = page(client, world["main"])
    reasons = re.search(r'<select name="reason"[^>]*>(.*?)</select>', html, re.S).group(1)
    assert reasons.startswith('<option value="">') and "selected" not in reasons
    refused = post_act(client, world["main"], action="reject")
    assert refused.status_code == 409 and "выберите причину" in refused.text
    assert wctx.db["incidents"].get(world["main"])["status"] == "new"


def test_an_empty_question_to_the_author_is_refused_and_nothing_is_sent(app, wctx, world):
    refused = post_act(moderator(app), world["main"], action="ask_info", text="")
    assert refused.status_code == 409 and "пустой вопрос не отправляется" in refused.text
    assert wctx.db["outbox"].count_where("audience = 'resident'") == 0
    assert wctx.db["incidents"].get(world["main"])["status"] == "new"


def test_an_officials_draft_survives_a_refused_action_with_a_russian_reason(app, wctx, world):
    assign(wctx, world["main"])
    act(wctx, world["main"], "ask_info", "moderator", text="Какой подъезд?")
    text = "Бригада приедет завтра <b>к 10:00</b>"
    refused = post_act(official(app), world["main"], action="submit_draft", text=text)
    assert refused.status_code == 409
    assert "сейчас «ждём автора»" in refused.text and "возможно только" in refused.text
    assert "is «" not in refused.text and "allowed only" not in refused.text
    assert "Бригада приедет завтра &lt;b&gt;к 10:00&lt;/b&gt;</textarea>" in refused.text


def test_a_draft_refused_for_a_missing_comment_keeps_the_moderators_edit(app, wctx, world):
    assign(wctx, world["main"])
    act(wctx, world["main"], "submit_draft", "dzerzhinsk", text="Сделаем")
    refused = post_act(moderator(app), world["main"], action="return_draft", text="Сделаем к пятнице")
    assert refused.status_code == 409 and "что доработать" in refused.text
    assert ">Сделаем к пятнице</textarea>" in refused.text


def test_a_moderator_edits_an_officials_draft_and_approves_it(app, wctx, world):
    assign(wctx, world["main"])
    act(wctx, world["main"], "submit_draft", "dzerzhinsk", text="Сделаем")
    client = moderator(app)
    html = page(client, world["main"])
    assert re.search(r'<textarea name="text" aria-label="Текст ответа \(можно исправить\)"[^>]*>Сделаем</textarea>', html)
    done = post_act(client, world["main"], action="approve_final",
                    text="Здравствуйте! Трубу заменят до пятницы.")
    assert done.status_code == 303
    [reply] = wctx.db["outbox"].rows_where("audience = 'resident'")
    assert reply["text"] == "Здравствуйте! Трубу заменят до пятницы."
    html = page(client, world["main"])
    assert "Анна Смирнова утвердила итоговый ответ" in html and "текст исправлен модератором" in html
    assert "Игорь Петров отправил черновик ответа на проверку" in html


# --- honest reply states ---------------------------------------------------------------------


def approved(wctx, world):
    assign(wctx, world["main"])
    act(wctx, world["main"], "submit_draft", "dzerzhinsk", text="Трубу заменят до пятницы")
    act(wctx, world["main"], "approve_final", "moderator")


def test_an_approved_answer_is_not_called_given_until_the_platform_accepts_it(app, wctx, vk, world):
    approved(wctx, world)
    client = moderator(app)
    html = page(client, world["main"])
    assert "ответ утверждён, ждёт отправки" in heading(html) and "дан ответ" not in html
    assert "Публикатор ответов не запущен" not in html  # it may just not have had its turn
    assert "ответ утверждён, ждёт отправки" in client.get("/?status=answered").text
    wctx.clock.advance(timedelta(minutes=10))
    assert "Публикатор ответов не запущен" in page(client, world["main"])
    assert "Публикатор ответов не запущен" in client.get("/").text
    with httpx.Client(timeout=5) as http:
        run_once(wctx, http)
    html = page(client, world["main"])
    assert "дан ответ" in heading(html) and "Публикатор ответов не запущен" not in html
    assert "Публикатор ответов не запущен" not in client.get("/").text


def test_a_failed_answer_says_what_to_do_in_russian_and_the_incident_is_not_answered(
        app, wctx, vk, world):
    approved(wctx, world)
    vk.close_comments(-100003, world["news"]["id"])
    with httpx.Client(timeout=5) as http:
        run_once(wctx, http)
    html = page(moderator(app), world["main"])
    assert "ответ утверждён, но не отправлен" in heading(html)
    assert "Что делать: комментарии к записи закрыты" in html
    assert "Ответ платформы:" not in html and "Ответ площадки (как есть)" in html
    start = html.index('id="replies"')
    replies = html[start:html.index("</section>", start)]
    assert "Администрация г. Дзержинска" not in replies and "VK error" not in replies.split("<details>")[0]


def test_a_reply_that_never_left_shows_no_platform_answer(app, wctx, vk, world):
    wctx.settings = replace(wctx.settings, environ={"TSUR_VK_API_URL": vk.url})  # no token
    act(wctx, world["main"], "acknowledge", "moderator", text="Передали в администрацию")
    with httpx.Client(timeout=5) as http:
        run_once(wctx, http)
    html = page(moderator(app), world["main"])
    assert "ответ не уходил: токен аккаунта организации не задан" in html
    assert "Ответ площадки" not in html and "environment variable" not in html


# --- corrections take effect -----------------------------------------------------------------


def correct(client, incident_id, back="", **values):
    token = csrf(client, f"/incidents/{incident_id}")
    return client.post(f"/incidents/{incident_id}/attributes",
                       data={**values, "back": back, "csrf_token": token}, follow_redirects=False)


def test_urgency_corrected_on_the_page_recomputes_deadlines_and_becomes_training_data(
        app, wctx, world):
    before = wctx.db["incidents"].get(world["main"])
    client = moderator(app)
    assert 'action="/incidents/{}/attributes"'.format(world["main"]) in page(client, world["main"])
    assert correct(client, world["main"], urgency="critical").status_code == 303
    after = wctx.db["incidents"].get(world["main"])
    assert after["urgency"] == "critical"
    assert after["first_reply_due_at"] < before["first_reply_due_at"]
    rows = list(wctx.db["label_corrections"].rows_where("incident_id = ?", [world["main"]]))
    assert any(r["label"] == "urgency" and r["new_value"] == "critical" for r in rows)
    assert "Анна Смирнова исправила метки: срочность: обычная → критично" in page(client, world["main"])


def test_a_new_municipality_reroutes_a_new_incident_and_says_why(app, wctx, world):
    client = moderator(app)
    correct(client, world["main"], municipality="Арзамас")
    incident = wctx.db["incidents"].get(world["main"])
    assert incident["organisation_id"] == organisation_id(wctx.db, "adm-arz")
    html = page(client, world["main"])
    assert "муниципалитет: Дзержинск → Арзамас" in html
    assert "Администрация г. Дзержинска → Администрация г. Арзамаса" in html and "маршрут:" in html


def test_a_new_topic_for_an_incident_with_its_executor_offers_the_new_route(app, wctx, world):
    assign(wctx, world["main"])
    client = moderator(app)
    correct(client, world["main"], municipality="Арзамас")
    assert wctx.db["incidents"].get(world["main"])["organisation_id"] == organisation_id(wctx.db, "adm-dzr")
    html = page(client, world["main"])
    assert "предложен новый маршрут: Администрация г. Арзамаса" in html
    arzamas = organisation_id(wctx.db, "adm-arz")
    assert re.search(rf'<option value="{arzamas}" selected>Администрация г. Арзамаса', html)
    post_act(client, world["main"], action="assign", organisation_id=str(arzamas))
    assert "предложен новый маршрут" not in page(client, world["main"]).split('id="history-h"')[0]


def test_an_official_cannot_correct_attributes(app, world):
    client = official(app)
    assert "/attributes" not in page(client, world["main"])
    assert correct(client, world["main"], urgency="critical").status_code == 403


# --- Russian everywhere ---------------------------------------------------------------------


def test_history_reads_as_sentences_with_the_persons_name(app, wctx, world):
    client = moderator(app)
    post_act(client, world["main"], action="confirm")
    html = page(client, world["main"])
    history = html[html.index('id="history-h"'):]
    history = history[:history.index("</section>")]
    assert "Анна Смирнова подтвердила" in history and "Инцидент открыт" in history
    assert "moderator:" not in history and "подтвердить" not in history


@pytest.mark.parametrize("name, woman", [
    ("Анна Смирнова", True), ("Игорь Петров", False), ("Никита Орлов", False),
    ("Мария Ивановна Волкова", True), ("Илья", False), ("Ольга", True), ("Администратор", False),
])
def test_the_verb_agrees_with_the_person(name, woman):
    assert feminine(name) is woman
    [told] = tell([{"event": "confirm", "actor": "x", "occurred_at": "2026-12-07T07:00:00+00:00",
                    "old_status": "new", "new_status": "confirmed", "data": {}}], {"x": name})
    assert told["says"] == f"{name} {'подтвердила' if woman else 'подтвердил'}"


def test_model_versions_are_shown_as_dates():
    assert model_date("kind=20261207.4,topic=20261201.2,urgency=20261207.4") == "от 07.12.2026"
    assert model_date("20261130.1") == "от 30.11.2026" and model_date(None) == "—"


def test_refusals_of_reply_actions_are_in_russian(app, wctx, world):
    client = moderator(app)
    token = csrf(client, f"/incidents/{world['main']}")
    answer = client.post(f"/incidents/{world['main']}/replies/999/retry", data={"csrf_token": token})
    assert answer.status_code == 409 and "нет ответа № 999" in answer.text


# --- triage from the queue --------------------------------------------------------------------


def test_confirm_route_reject_and_urgency_from_the_queue_return_to_the_row(app, wctx, world):
    client = moderator(app)
    queue = client.get("/?status=new").text
    row = queue[queue.index(f'id="i{world["main"]}"'):]
    row = row[:row.index("</tr>")]
    for control in ('value="confirm"', 'name="organisation_id"', 'name="reason"', 'name="urgency"'):
        assert control in row
    token = csrf(client)
    back = "/?status=new"
    done = client.post(f"/incidents/{world['main']}/act", follow_redirects=False, data={
        "action": "confirm", "back": back, "csrf_token": token})
    assert done.status_code == 303 and done.headers["location"] == f"/?status=new#i{world['main']}"
    client.post(f"/incidents/{world['main']}/act", data={
        "action": "assign", "organisation_id": organisation_id(wctx.db, "adm-dzr"), "back": back,
        "csrf_token": token})
    assert wctx.db["incidents"].get(world["main"])["status"] == "assigned"
    urgent = correct(client, world["own_other"], back=back, urgency="high")
    assert urgent.headers["location"] == f"/?status=new#i{world['own_other']}"
    assert wctx.db["incidents"].get(world["own_other"])["urgency"] == "high"
    client.post(f"/incidents/{world['own_other']}/act", data={
        "action": "reject", "reason": "not_a_problem", "back": back, "csrf_token": token})
    assert wctx.db["incidents"].get(world["own_other"])["status"] == "rejected"
    evil = client.post(f"/incidents/{world['foreign']}/act", follow_redirects=False, data={
        "action": "confirm", "back": "https://evil.example/", "csrf_token": token})
    assert evil.headers["location"] == f"/#i{world['foreign']}"


def test_queue_rows_show_channel_author_and_the_next_due_deadline(app, wctx, world):
    client = moderator(app)
    act(wctx, world["main"], "acknowledge", "moderator", text="Приняли")
    queue = client.get("/").text
    row = queue[queue.index(f'id="i{world["main"]}"'):]
    row = row[:row.index("</tr>")]
    assert "комментарий ВК" in row and "Ольга" in row
    due = row[row.index('class="due"'):]
    assert "первый ответ" not in due  # met: the next one is shown
    assert "передача исполнителю" in due
    wctx.clock.advance(timedelta(days=3))
    queue = moderator(app).get("/").text  # a new login: sessions do not last three days
    row = queue[queue.index(f'id="i{world["own_other"]}"'):]
    assert "просрочен на" in row[:row.index("</tr>")]


def test_saved_views_are_per_person_and_the_presets_work(app, wctx, world):
    client = moderator(app)
    queue = client.get("/").text
    for preset in ("моя организация", "просрочено", "критично сегодня"):
        assert preset in queue
    token = csrf(client)
    saved = client.post("/views", data={"name": "Дзержинск, новые", "status": "new",
                                        "municipality": "Дзержинск", "junk": "x",
                                        "csrf_token": token}, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == "/?municipality=%D0%94%D0%B7%D0%B5%D1%80%D0%B6%D0%B8%D0%BD%D1%81%D0%BA&status=new"
    assert "Дзержинск, новые" in client.get("/").text
    assert "Дзержинск, новые" not in official(app).get("/").text
    empty = client.post("/views", data={"name": "пусто", "csrf_token": token})
    assert empty.status_code == 400 and "Выберите хотя бы один фильтр" in empty.text
    correct(client, world["main"], urgency="critical")
    critical = client.get("/?urgency=critical&today=1").text
    assert f'id="i{world["main"]}"' in critical and f'id="i{world["own_other"]}"' not in critical
    [view] = list(wctx.db["saved_filters"].rows)
    client.post(f"/views/{view['id']}/delete", data={"csrf_token": token})
    assert wctx.db["saved_filters"].count == 0


def test_label_pages_show_no_codes(app, world):
    client = moderator(app)
    edit = client.get(f"/incidents/{world['main']}/labels").text
    assert "комментарий ВК" in edit and "vk_comment" not in edit and "vk:-100003" not in edit
    assert "(complaint)" not in edit and "(housing)" not in edit and "модель без даты" in edit
    weak = client.get("/labels/queue").text
    assert not re.search(r"<td>(kind|topic|urgency)</td>", weak) and "Слабая метка" not in weak


def test_a_stale_form_keeps_the_typed_draft_and_changes_nothing(app, wctx, world):
    assign(wctx, world["main"])
    client = official(app)
    text = "Бригада приедет <b>в четверг</b>"
    stale = client.post(f"/incidents/{world['main']}/act",
                        data={"action": "submit_draft", "text": text, "csrf_token": "старый"},
                        follow_redirects=False)
    assert stale.status_code == 403 and "Текст сохранён" in stale.text
    assert "Бригада приедет &lt;b&gt;в четверг&lt;/b&gt;</textarea>" in stale.text
    assert not wctx.db.execute("SELECT COUNT(*) FROM drafts").fetchone()[0]
    token = re.search(r'name="csrf_token" value="([^"]+)"', stale.text).group(1)
    again = client.post(f"/incidents/{world['main']}/act",  # the fresh page's token works
                        data={"action": "submit_draft", "text": text, "csrf_token": token},
                        follow_redirects=False)
    assert again.status_code == 303
