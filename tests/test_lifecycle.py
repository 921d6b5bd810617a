"""The incident state machine: every legal transition, every illegal one refused."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from monitor.catalog.organisations import organisation_id
from monitor.context import Context
from monitor.incidents.lifecycle import TRANSITIONS, act
from monitor.incidents.states import (
    ANSWERED,
    ASSIGNED,
    CLOSED,
    CONFIRMED,
    DRAFT_REVIEW,
    IN_PROGRESS,
    NEEDS_INFO,
    NEW,
    REJECTED,
    RESOLVED,
    STATUSES,
    TransitionError,
    open_incident,
)
from nlp import Labelled, Labels

H = timedelta(hours=1)


class FixedPipeline:
    """Labels chosen by the test: the workflow is tested, not the models."""

    version = "fixed"

    def __init__(self, labels: Labels | None = None):
        self.labels = labels or Labels("complaint", "housing", "Дзержинск", "normal", {})
        self.morph = None

    def label(self, texts, source_municipality=None, context=None):
        return [self.labels for _ in texts]

    def label_with_lemmas(self, texts, source_municipality=None, context=None):
        return Labelled(self.label(texts), None)  # no lemmas: repeats read the texts


@pytest.fixture
def wf(settings, clock):
    from monitor.catalog.organisations import sync_from_settings
    from monitor.store import open_db

    db = open_db(settings.database)
    sync_from_settings(db, settings, clock.now())
    yield Context(db, settings, clock, FixedPipeline())
    db.close()


def make_incident(ctx, text="Третий день нет горячей воды на Гайдара 12", urgency="normal",
                  topic="housing", municipality="Дзержинск", org="adm-dzr") -> int:
    now = ctx.clock.now()
    with ctx.db.atomic():
        source = ctx.db.execute("SELECT id FROM sources WHERE key = 'vk:-100003'").fetchone()[0]
        n = ctx.db["posts"].count + 1
        post_id = ctx.db["posts"].insert({
            "source_id": source, "external_id": f"-100003_1_{n}", "channel": "vk_comment",
            "parent_external_id": "-100003_1", "author_id": "777", "text": text,
            "created_at": now.isoformat(), "collected_at": now.isoformat()}).last_pk
        labels = Labels("complaint", topic, municipality, urgency, {})
        ctx.db["labels"].insert({"post_id": post_id, "model_version": "fixed", "kind": "complaint",
                                 "topic": topic, "municipality": municipality,
                                 "urgency": urgency, "scores": "{}", "created_at": now.isoformat()})
        return open_incident(ctx, post_id, labels, organisation_id(ctx.db, org), "test")


def status(ctx, incident_id) -> str:
    return ctx.db["incidents"].get(incident_id)["status"]


ORG = {"organisation_id": "3"}
DRIVE = {  # how to bring a fresh incident into each status
    NEW: [],
    CONFIRMED: [("confirm", {})],
    ASSIGNED: [("confirm", {}), ("assign", ORG)],
    DRAFT_REVIEW: [("confirm", {}), ("assign", ORG), ("submit_draft", {"text": "Черновик"})],
    ANSWERED: [("assign", ORG), ("submit_draft", {"text": "Ответ"}), ("approve_final", {})],
    IN_PROGRESS: [("assign", ORG), ("submit_draft", {"text": "Работаем"}),
                  ("approve_interim", {})],
    NEEDS_INFO: [("ask_info", {"text": "Уточните адрес"})],
    RESOLVED: [("assign", ORG), ("submit_draft", {"text": "Сделано"}), ("approve_final", {}),
               ("resolve", {})],
    CLOSED: [("assign", ORG), ("submit_draft", {"text": "Сделано"}), ("approve_final", {}),
             ("resolve", {}), ("close", {})],
    REJECTED: [("reject", {"reason": "spam"})],
}
GOOD_DATA = {
    "reject": {"reason": "not_a_problem"}, "assign": {"organisation_id": "4"},
    "acknowledge": {"text": "Обращение принято"}, "submit_draft": {"text": "Черновик"},
    "return_draft": {"comment": "Нет сроков"}, "link_repeat": {"repeat_of": "OTHER"},
    "unlink_repeat": {"post_id": "1"},  # refused: linking is tested in test_repeats.py
    "relabel": {"labels": {"urgency": "high"}},  # its effects: tests/test_corrections.py
    "ask_info": {"text": "Уточните адрес"},
}
EXPECTED = {  # (action, from) -> to, where it depends on the path taken
    ("return_draft", DRAFT_REVIEW): ASSIGNED, ("info_received", NEEDS_INFO): NEW,
    ("acknowledge", None): "same", ("unlink_repeat", None): "same", ("relabel", None): "same",
}


def bring(ctx, incident_id, target):
    for action, data in DRIVE[target]:
        act(ctx, incident_id, action, "moderator", **data)
    assert status(ctx, incident_id) == target


def test_drive_table_covers_every_status():
    assert set(DRIVE) == set(STATUSES)


@pytest.mark.parametrize("action", sorted(TRANSITIONS))
@pytest.mark.parametrize("start", STATUSES)
def test_every_action_from_every_status(wf, action, start):
    incident_id = make_incident(wf)
    bring(wf, incident_id, start)
    data = dict(GOOD_DATA.get(action, {}))
    if data.get("repeat_of") == "OTHER":
        data["repeat_of"] = str(make_incident(wf, "другое"))
    allowed, target = TRANSITIONS[action]
    before = wf.db["incident_events"].count
    if start not in allowed:
        with pytest.raises(TransitionError, match="возможно только в состояниях"):
            act(wf, incident_id, action, "moderator", **data)
        assert status(wf, incident_id) == start
        assert wf.db["incident_events"].count == before  # nothing recorded
        return
    if action == "unlink_repeat":
        with pytest.raises(TransitionError, match="не привязано как повтор"):
            act(wf, incident_id, action, "moderator", **data)
        return
    row = act(wf, incident_id, action, "moderator", **data)
    expected = EXPECTED.get((action, start)) or EXPECTED.get((action, None)) or target
    assert row["status"] == (start if expected == "same" else expected)
    event = list(wf.db["incident_events"].rows_where(
        "incident_id = ? AND event = ?", [incident_id, action], order_by="id desc", limit=1))[0]
    assert (event["actor"], event["old_status"], event["new_status"]) == (
        "moderator", start, row["status"])


@pytest.mark.parametrize("action, data, message", [
    ("reject", {}, "выберите причину"),
    ("reject", {"reason": "не нравится"}, "выберите причину"),
    ("assign", {}, "Выберите организацию"),
    ("assign", {"organisation_id": "9999"}, "Организации № 9999 нет"),
    ("assign", {"organisation_id": "abc"}, "не номером"),
    ("acknowledge", {}, "Впишите текст первого ответа"),
    ("submit_draft", {}, "Впишите текст черновика"),
    ("ask_info", {}, "пустой вопрос не отправляется"),
    ("link_repeat", {"repeat_of": "9999"}, "Инцидента № 9999 нет"),
    ("fly_to_the_moon", {}, "Неизвестное действие"),
])
def test_missing_or_bad_data_is_refused_with_a_reason(wf, action, data, message):
    incident_id = make_incident(wf)
    if action == "submit_draft":
        bring(wf, incident_id, ASSIGNED)
    with pytest.raises(TransitionError, match=message):
        act(wf, incident_id, action, "moderator", **data)


def test_unknown_incident_is_refused(wf):
    with pytest.raises(TransitionError, match="Инцидента № 12345 нет"):
        act(wf, 12345, "confirm", "moderator")


def test_full_path_with_rework_interim_reply_and_resolution(wf):
    i = make_incident(wf)
    for action, actor, data in [
        ("confirm", "moderator", {}),
        ("acknowledge", "moderator", {"text": "Передали в администрацию"}),
        ("assign", "moderator", ORG),
        ("submit_draft", "dzerzhinsk", {"text": "Разберёмся"}),
        ("return_draft", "moderator", {"comment": "Укажите сроки"}),
        ("submit_draft", "dzerzhinsk", {"text": "Бригада приедет до 18:00"}),
        ("approve_interim", "moderator", {}),
        ("submit_draft", "dzerzhinsk", {"text": "Водоснабжение восстановлено"}),
        ("approve_final", "moderator", {}),
        ("resolve", "dzerzhinsk", {}),
        ("close", "moderator", {}),
    ]:
        wf.clock.advance(H)
        act(wf, i, action, actor, **data)
    row = wf.db["incidents"].get(i)
    assert row["status"] == CLOSED
    assert row["first_reply_at"] < row["executor_at"] < row["interim_at"] < row["answered_at"]
    drafts = [(d["status"], d["kind"], d["comment"]) for d in wf.db["drafts"].rows]
    assert drafts == [("returned", None, "Укажите сроки"), ("approved", "interim", None),
                      ("approved", "final", None)]
    outbox = [(r["purpose"], r["status"]) for r in wf.db["outbox"].rows_where("audience = 'resident'")]
    assert outbox == [("acknowledgement", "pending"), ("interim", "pending"),
                      ("answer", "pending"), ("feedback_question", "pending")]
    events = [e["event"] for e in wf.db["incident_events"].rows_where("incident_id = ?", [i])]
    assert events[0] == "opened" and events[-1] == "close" and len(events) == 12


def test_approved_reply_waits_in_the_outbox_with_the_post_to_answer(wf):
    from monitor.incidents import outbox

    i = make_incident(wf)
    bring(wf, i, DRAFT_REVIEW)
    act(wf, i, "approve_final", "moderator", text="Исправленный модератором ответ")
    [reply] = outbox.pending(wf.db)
    assert reply["text"] == "Исправленный модератором ответ"
    assert (reply["purpose"], reply["source_key"], reply["post_external_id"]) == (
        "answer", "vk:-100003", wf.db["posts"].get(reply["post_id"])["external_id"])
    assert outbox.claim(wf.db, reply["id"], wf.clock.now())
    assert not outbox.claim(wf.db, reply["id"], wf.clock.now())  # never handed out twice
    outbox.mark_published(wf.db, reply["id"], "-100003_1_99", wf.clock.now())
    assert outbox.pending(wf.db) == []
    event = list(wf.db["incident_events"].rows_where("event = 'approve_final'"))[0]
    assert json.loads(event["data"])["edited"] is True


def test_return_to_in_progress_after_rework_of_the_final_answer(wf):
    i = make_incident(wf)
    bring(wf, i, IN_PROGRESS)
    act(wf, i, "submit_draft", "dzerzhinsk", text="Готово")
    assert act(wf, i, "return_draft", "moderator", comment="Фото?")["status"] == IN_PROGRESS


def test_info_received_returns_to_the_status_before_the_question(wf):
    i = make_incident(wf)
    bring(wf, i, ASSIGNED)
    act(wf, i, "ask_info", "moderator", text="Какой дом?")
    assert act(wf, i, "info_received", "moderator")["status"] == ASSIGNED


def test_reassign_keeps_the_routing_history_and_withdraws_the_pending_draft(wf):
    from monitor.incidents.routing import routing_history

    i = make_incident(wf)
    bring(wf, i, DRAFT_REVIEW)
    act(wf, i, "assign", "moderator", organisation_id=str(organisation_id(wf.db, "minzhkh")))
    history = routing_history(wf.db, i)
    assert [h["event"] for h in history] == ["opened", "assign", "assign"]
    assert history[-1]["from_organisation_id"] == organisation_id(wf.db, "adm-dzr")
    assert [d["status"] for d in wf.db["drafts"].rows] == ["withdrawn"]


def test_reopen_starts_a_new_cycle(wf):
    i = make_incident(wf)
    bring(wf, i, CLOSED)
    row = act(wf, i, "reopen", "resident:777")
    assert row["status"] == ASSIGNED and row["reopened"] == 1
    assert row["resolved_at"] is None and row["closed_at"] is None and row["draft_due_at"]


def test_events_are_append_only(wf):
    import sqlite3

    make_incident(wf)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        wf.db.execute("UPDATE incident_events SET actor = 'someone else'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        wf.db.execute("DELETE FROM incident_events")


def test_a_failed_action_leaves_no_trace(wf):
    i = make_incident(wf)
    bring(wf, i, ASSIGNED)
    counts = {t: wf.db[t].count for t in ("incident_events", "drafts", "outbox")}
    with pytest.raises(TransitionError):
        act(wf, i, "approve_final", "moderator")
    assert {t: wf.db[t].count for t in counts} == counts
