"""Resident feedback: the question after resolution, answers parsed, thread replies wired."""

from __future__ import annotations

from datetime import timedelta

import pytest
from test_lifecycle import make_incident, wf  # noqa: F401 (the workflow fixture)

from monitor.incidents.feedback import record_feedback
from monitor.incidents.lifecycle import act
from monitor.ingest import ingest
from monitor.ingest.post import Post
from nlp.feedback import parse_feedback


@pytest.mark.parametrize("text, solved, rating", [
    ("да", True, None),
    ("Да, спасибо! 5", True, 5),
    ("Решили быстро, 5/5", True, 5),
    ("Всё отлично, спасибо большое", True, None),
    ("нет", False, None),
    ("Нет, до сих пор течёт", False, None),
    ("да ничего не сделали, как текло так и течёт", False, None),
    ("Не решено. Оценка 1", False, 1),
    ("Опять нет воды", False, None),
    ("никто не приехал", False, None),
    ("4 из 5", None, 4),
    ("оценка: 3", None, 3),
    ("⭐⭐⭐⭐", None, 4),
    ("отлично", None, 5),
    ("😡😡", None, None),
    ("", None, None),
    ("Кстати, у нас во дворе дома 5 тоже яма, посмотрите пожалуйста, она очень большая", None, None),
])
def test_parse_feedback(text, solved, rating):
    feedback = parse_feedback(text)
    assert (feedback.solved, feedback.rating) == (solved, rating)


def resolved(ctx) -> int:
    i = make_incident(ctx)
    for action, data in [("assign", {"organisation_id": "3"}),
                         ("submit_draft", {"text": "Вода будет к вечеру"}),
                         ("approve_final", {}), ("resolve", {})]:
        act(ctx, i, action, "moderator", **data)
    return i


def reply(ctx, text, author="777", parent="-100003_1", n=[0]):  # noqa: B006 (a counter)
    n[0] += 1
    ctx.clock.advance(timedelta(hours=2))
    return ingest(ctx, [Post("vk:-100003", f"-100003_1_{900 + n[0]}", "vk_comment", text,
                             ctx.clock.now(), author_id=author, parent_id=parent)])


def test_resolution_queues_the_question_to_the_resident(wf):  # noqa: F811
    i = resolved(wf)
    [question] = list(wf.db["outbox"].rows_where("audience = 'resident' AND purpose = 'feedback_question'"))
    assert question["mode"] == "reply" and "от 1 до 5" in question["text"]
    assert wf.db["incidents"].get(i)["feedback_asked_at"]


def test_the_residents_no_reopens_the_incident(wf):  # noqa: F811
    i = resolved(wf)
    report = reply(wf, "Нет, до сих пор нет горячей воды")
    assert report.incidents == 0
    row = wf.db["incidents"].get(i)
    assert (row["status"], row["feedback_solved"], row["reopened"]) == ("assigned", 0, 1)
    reopen = list(wf.db["incident_events"].rows_where("event = 'reopen'"))[0]
    assert reopen["actor"] == "resident:777"


def test_the_residents_yes_closes_it_with_the_rating(wf):  # noqa: F811
    i = resolved(wf)
    reply(wf, "Да, спасибо! 5")
    row = wf.db["incidents"].get(i)
    assert (row["status"], row["feedback_solved"], row["feedback_rating"]) == ("closed", 1, 5)


def test_someone_elses_reply_or_chatter_is_not_feedback(wf):  # noqa: F811
    i = resolved(wf)
    reply(wf, "Да, спасибо! 5", author="555")
    reply(wf, "Кстати, а когда будут чистить снег у школы?")
    assert wf.db["incidents"].get(i)["feedback_at"] is None


def test_the_authors_answer_resumes_an_incident_waiting_for_details(wf):  # noqa: F811
    i = make_incident(wf)
    act(wf, i, "assign", "moderator", organisation_id="3")
    act(wf, i, "ask_info", "moderator", text="Уточните номер дома")
    reply(wf, "Дом 12, второй подъезд")
    row = wf.db["incidents"].get(i)
    assert row["status"] == "assigned" and row["draft_due_at"]
    event = list(wf.db["incident_events"].rows_where("event = 'info_received'"))[0]
    assert event["actor"] == "resident:777" and "Дом 12" in event["data"]


def test_feedback_entered_by_a_moderator(wf):  # noqa: F811
    i = resolved(wf)
    feedback = record_feedback(wf, i, "жительница по телефону: всё сделали, 4", "moderator")
    assert (feedback.solved, feedback.rating) == (True, 4)
    assert wf.db["incidents"].get(i)["status"] == "closed"
