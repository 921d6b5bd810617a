"""«Перенос срока» at the edges of its policy, the interim answer that no longer moves
the final deadline, the unanswered question that closes an incident, and the chain of
heads an escalation climbs."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
import test_web_admin as admin_tests
from test_tiers import add
from test_web_admin import logged_in, token_of

from monitor.catalog.organisations import organisation_id
from monitor.catalog.users import create_user, user_by_login
from monitor.clock import parse_time
from monitor.incidents.chain import chain_of, escalation_step
from monitor.incidents.extensions import (
    ExtensionError,
    NotAllowed,
    decide_extension,
    request_extension,
)
from monitor.incidents.lifecycle import act
from monitor.incidents.states import TransitionError
from monitor.incidents.worker import handle_due
from monitor.settings import Extensions, Organisation, Workflow
from monitor.web.app import create_app

seeded_template, web_ctx = admin_tests.seeded_template, admin_tests.web_ctx
ZONE = ZoneInfo("Europe/Moscow")


@pytest.fixture
def ctx(web_ctx):
    web_ctx.settings = replace(web_ctx.settings, extensions=Extensions(("draft", "resolve"), 2, 30))
    return web_ctx


@pytest.fixture
def interim(ctx):
    """A Дзержинск incident with an approved interim answer: the final-answer clock runs."""
    iid = add(ctx, "Течёт труба в подвале, Гагарина 5", "housing", "Дзержинск", "adm-dzr", 1)
    act(ctx, iid, "confirm", "moderator")
    act(ctx, iid, "assign", "moderator", organisation_id=organisation_id(ctx.db, "adm-dzr"))
    act(ctx, iid, "submit_draft", "dzerzhinsk", text="Бригада выехала, воду перекрыли")
    act(ctx, iid, "approve_interim", "moderator")
    return iid


def who(ctx, login):
    return user_by_login(ctx.db, login)


def due(ctx, iid, target="resolve"):
    return parse_time(ctx.db["incidents"].get(iid)[f"{target}_due_at"])


def local_day(moment):
    return moment.astimezone(ZONE).date()


def test_an_approved_extension_moves_the_deadline_to_the_end_of_that_day(ctx, interim):
    before = due(ctx, interim)
    wanted = local_day(before) + timedelta(days=10)
    ext = request_extension(ctx, interim, who(ctx, "dzerzhinsk"), "resolve", wanted,
                            "Замена трубы — после отопительного сезона", planned_fix=wanted)
    assert due(ctx, interim) == before  # a request alone moves nothing
    row = decide_extension(ctx, ext, who(ctx, "moderator"), "approve")
    assert row["status"] == "approved" and row["repeated"] == 0
    moved = due(ctx, interim).astimezone(ZONE)
    assert (moved.date(), moved.hour, moved.minute) == (wanted, 23, 59)
    events = {e["event"]: json.loads(e["data"]) for e in ctx.db["incident_events"].rows_where(
        "incident_id = ?", [interim])}
    assert events["extension_requested"]["planned_fix"] == wanted.isoformat()
    assert events["extension_approved"]["old_due"] == before.isoformat()


@pytest.mark.parametrize("days, allowed", [(0, False), (1, True), (30, True), (31, False)])
def test_how_far_a_deadline_may_move_at_the_edges(ctx, interim, days, allowed):
    wanted = local_day(due(ctx, interim)) + timedelta(days=days)
    ask = lambda: request_extension(ctx, interim, who(ctx, "dzerzhinsk"), "resolve", wanted,  # noqa: E731
                                    "нужен подрядчик")
    if allowed:
        assert ask()
    else:
        with pytest.raises(ExtensionError, match="позже действующего|не больше чем на 30"):
            ask()


def test_how_many_extensions_an_incident_may_get_and_the_second_is_repeated(ctx, interim):
    official, moderator = who(ctx, "dzerzhinsk"), who(ctx, "moderator")
    for n in (1, 2):
        ext = request_extension(ctx, interim, official, "resolve",
                                local_day(due(ctx, interim)) + timedelta(days=5), f"причина {n}")
        assert decide_extension(ctx, ext, moderator, "approve")["repeated"] == (n == 2)
    with pytest.raises(ExtensionError, match="Лимит переносов срока исчерпан: не больше 2"):
        request_extension(ctx, interim, official, "resolve",
                          local_day(due(ctx, interim)) + timedelta(days=5), "причина 3")


def test_a_refusal_or_a_changed_date_is_the_moderators_and_limits_still_hold(ctx, interim):
    official, moderator = who(ctx, "dzerzhinsk"), who(ctx, "moderator")
    start = local_day(due(ctx, interim))
    ext = request_extension(ctx, interim, official, "resolve", start + timedelta(days=20), "долго")
    with pytest.raises(ExtensionError, match="Предыдущий запрос"):
        request_extension(ctx, interim, official, "resolve", start + timedelta(days=3), "ещё")
    with pytest.raises(NotAllowed):
        decide_extension(ctx, ext, official, "approve")
    with pytest.raises(ExtensionError, match="требует комментария"):
        decide_extension(ctx, ext, moderator, "refuse")
    with pytest.raises(ExtensionError, match="не больше чем на 30"):
        decide_extension(ctx, ext, moderator, "change", until=start + timedelta(days=31))
    decide_extension(ctx, ext, moderator, "change", until=start + timedelta(days=7))
    assert local_day(due(ctx, interim)) == start + timedelta(days=7)
    second = request_extension(ctx, interim, official, "resolve",
                               start + timedelta(days=9), "ещё неделя")
    decide_extension(ctx, second, moderator, "refuse", comment="сроки не переносим дважды")
    assert local_day(due(ctx, interim)) == start + timedelta(days=7)


def test_only_the_policys_targets_and_running_deadlines_move(ctx, interim):
    official = who(ctx, "dzerzhinsk")
    with pytest.raises(ExtensionError, match="только эти сроки"):
        request_extension(ctx, interim, official, "first_reply", date(2026, 12, 1), "x")
    with pytest.raises(ExtensionError, match="сейчас не идёт"):  # the draft was submitted
        request_extension(ctx, interim, official, "draft", date(2026, 12, 1), "x")


def test_another_organisations_official_and_another_centre_cannot_ask(ctx, interim):
    create_user(ctx.db, "nn-official", "long-enough-1", "official", ctx.clock.now(),
                organisation="adm-nn")
    create_user(ctx.db, "arz-cur", "long-enough-1", "moderator", ctx.clock.now(),
                municipalities=["Арзамас"])
    for login in ("nn-official", "arz-cur"):
        with pytest.raises(NotAllowed, match="не найден"):
            request_extension(ctx, interim, who(ctx, login), "resolve", date(2026, 12, 1), "x")


def test_the_extension_form_on_the_incident_page(ctx, interim):
    app = create_app(ctx, secret_key="test-secret")
    client = logged_in(app, "dzerzhinsk", "official-demo")
    page = client.get(f"/incidents/{interim}").text
    assert "Запросить перенос срока" in page and "Не больше 2 переносов" in page
    wanted = (local_day(due(ctx, interim)) + timedelta(days=40)).isoformat()
    refused = client.post(f"/incidents/{interim}/extensions", data={
        "target": "resolve", "until": wanted, "reason": "x", "csrf_token": token_of(page)})
    assert refused.status_code == 409 and "не больше чем на 30" in refused.text
    centre = logged_in(app, "dzr-cur", "municipal-demo")
    assert "Одобрить" not in centre.get(f"/incidents/{interim}").text


# --- interim answers and unanswered questions -----------------------------------------------


def test_a_further_interim_answer_keeps_the_final_deadline(ctx, interim):
    before = due(ctx, interim)
    ctx.clock.advance(timedelta(days=3))
    act(ctx, interim, "submit_draft", "dzerzhinsk", text="Ждём поставку трубы")
    act(ctx, interim, "approve_interim", "moderator")
    assert due(ctx, interim) == before
    last = list(ctx.db["incident_events"].rows_where(
        "incident_id = ? AND event = 'approve_interim'", [interim], order_by="id desc", limit=1))[0]
    assert json.loads(last["data"])["clock_kept"]


def test_an_unanswered_question_closes_the_incident_at_the_configured_time(ctx):
    ctx.settings = replace(ctx.settings, workflow=replace(ctx.settings.workflow,
                                                          info_close_hours=48))
    iid = add(ctx, "Где-то у нас яма", "roads_transport", "Дзержинск", "adm-dzr", 7)
    act(ctx, iid, "ask_info", "moderator", text="Уточните адрес, пожалуйста")
    asked = ctx.clock.now()
    ctx.clock.set(asked + timedelta(hours=48) - timedelta(seconds=1))
    while handle_due(ctx):
        pass
    assert ctx.db["incidents"].get(iid)["status"] == "needs_info"
    ctx.clock.set(asked + timedelta(hours=48))
    while handle_due(ctx):
        pass
    row = ctx.db["incidents"].get(iid)
    assert row["status"] == "closed"
    purposes = [r["purpose"] for r in ctx.db["outbox"].rows_where("audience = 'resident' AND incident_id = ?", [iid])]
    assert purposes == ["info_request", "info_reminder", "info_closed"]


def test_a_question_waits_forever_only_when_the_policy_says_so(ctx):
    ctx.settings = replace(ctx.settings, workflow=Workflow(info_close_hours=0))
    iid = add(ctx, "Где-то у нас яма", "roads_transport", "Дзержинск", "adm-dzr", 8)
    act(ctx, iid, "ask_info", "moderator", text="Уточните адрес")
    ctx.clock.advance(timedelta(days=60))
    while handle_due(ctx):
        pass
    assert ctx.db["incidents"].get(iid)["status"] == "needs_info"


# --- the chain of heads -----------------------------------------------------------------------


def test_escalations_climb_from_the_head_to_the_heads_head():
    org = Organisation("x", "Администрация", head="заместитель главы", head_chat_id=1,
                       head_of_head="глава города", head_of_head_chat_id=2)
    steps = [escalation_step(org, n) for n in range(4)]
    assert [(s.title, s.chat_id) for s in steps] == [
        ("заместитель главы", 1), ("глава города", 2), ("глава города", 2), ("глава города", 2)]
    legacy = Organisation("y", "Старая", supervisor="заместитель", supervisor_chat_id=5)
    assert escalation_step(legacy, 3).title == "заместитель" and escalation_step(None, 0) is None


def test_the_incident_page_shows_the_chain_and_how_far_an_escalation_climbed(ctx, interim):
    chain = chain_of(ctx.db, ctx.settings, ctx.db["incidents"].get(interim))
    assert [(c["role"], c["title"], c["reached"]) for c in chain] == [
        ("исполнитель", "сотрудники организации", False),
        ("руководитель", "заместитель главы администрации", False),
        ("руководитель руководителя", "глава города Дзержинска", False)]
    ctx.clock.set(due(ctx, interim) + timedelta(minutes=1))
    while handle_due(ctx):
        pass
    chain = chain_of(ctx.db, ctx.settings, ctx.db["incidents"].get(interim))
    assert [c["reached"] for c in chain] == [False, True, False]
    escalated = json.loads(ctx.db.execute("SELECT data FROM incident_events WHERE incident_id = ?"
                                          " AND event = 'escalated'", [interim]).fetchone()[0])
    assert escalated["to"] == ["заместитель главы администрации", "ЦУР"]
    html = logged_in(create_app(ctx, secret_key="t"), "moderator", "moderator-demo").get(
        f"/incidents/{interim}").text
    assert "глава города Дзержинска" in html and "эскалация дошла" in html


def test_a_request_is_announced_in_the_moderators_chat(ctx, interim):
    ctx.settings = replace(ctx.settings, workflow=replace(ctx.settings.workflow,
                                                          moderators_chat_id=-100500))
    ext = request_extension(ctx, interim, who(ctx, "dzerzhinsk"), "resolve",
                            local_day(due(ctx, interim)) + timedelta(days=3), "ждём подрядчика")
    [note] = ctx.db["outbox"].rows_where("audience = 'staff' AND once_key = ?", [f"extension:{ext}"])
    assert note["chat_id"] == -100500 and "ждём подрядчика" in note["text"]


def test_a_moderator_marks_the_answers_quality_while_approving(ctx):
    iid = add(ctx, "Не убран снег во дворе", "improvement", "Дзержинск", "adm-dzr", 9)
    act(ctx, iid, "assign", "moderator", organisation_id=organisation_id(ctx.db, "adm-dzr"))
    act(ctx, iid, "submit_draft", "dzerzhinsk", text="Убрали")
    with pytest.raises(TransitionError, match="Неизвестная оценка качества"):
        act(ctx, iid, "approve_final", "moderator", quality="superb")
    act(ctx, iid, "approve_final", "moderator", quality="formal")
    [draft] = ctx.db["drafts"].rows_where("incident_id = ?", [iid])
    assert (draft["quality"], draft["quality_by"]) == ("formal", "moderator")


def test_users_add_scopes_a_moderator_to_a_municipality(ctx, runner, settings):
    from monitor.cli import cli

    answer = runner.invoke(cli, ["--config", str(settings.path), "users", "add", "bor-cur",
                                 "--role", "moderator", "--municipality", "Бор"],
                           env={"TSUR_DB": str(settings.database),
                                "TSUR_NEW_USER_PASSWORD": "long-enough-1"})
    assert answer.exit_code == 0, answer.output
    assert json.loads(who(ctx, "bor-cur")["municipalities"]) == ["Бор"]


def test_hostile_reasons_render_as_text(ctx, interim):
    from test_web_security import assert_inert

    hostile = '<script>alert(1)</script><img src=x onerror=alert(2)>'
    request_extension(ctx, interim, who(ctx, "dzerzhinsk"), "resolve",
                      local_day(due(ctx, interim)) + timedelta(days=2), hostile)
    client = logged_in(create_app(ctx, secret_key="t"), "moderator", "moderator-demo")
    for url in (f"/incidents/{interim}", "/extensions"):
        html = client.get(url).text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert_inert(html)
