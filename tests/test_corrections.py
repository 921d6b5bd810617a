"""Moderators correct or confirm labels; the page, its roles, and the low-confidence queue."""

import json
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from monitor.demo import seed_users
from monitor.ingest import ingest
from monitor.ingest.post import Post
from monitor.retraining.corrections import (
    CorrectionError,
    gathered_since,
    low_confidence,
    post_labels,
    record_review,
)
from monitor.web import auth
from monitor.web.app import create_app

HOSTILE = 'Яма на Гайдара <script>alert(1)</script> <img src=x onerror=alert(2)>'


@pytest.fixture
def posts(ctx):
    now = ctx.clock.now()
    ingest(ctx, [
        Post("vk:-100003", "-100003_1_1", "vk_comment", HOSTILE, now - timedelta(minutes=9)),
        Post("vk:-100001", "-100001_2_1", "vk_comment", "На Автозаводе третий день нет горячей воды",
             now - timedelta(minutes=8)),
        Post("vk:-100003", "-100003_1_2", "vk_comment", "ну такое", now - timedelta(minutes=7)),
    ])
    return {r["external_id"]: r["id"] for r in ctx.db["posts"].rows}


def test_a_correction_stores_author_time_old_and_new_value_and_model_version(ctx, posts):
    post_id = posts["-100001_2_1"]
    before = post_labels(ctx.db, post_id)
    record_review(ctx.db, post_id, {"topic": "improvement", "urgency": "critical"}, "moderator",
                  ctx.clock.now())
    rows = {r["label"]: r for r in ctx.db["label_corrections"].rows_where("post_id = ?", [post_id])}
    assert set(rows) == {"kind", "topic", "municipality", "urgency"}
    topic = rows["topic"]
    assert (topic["old_value"], topic["new_value"]) == (before.model["topic"], "improvement")
    assert topic["author"] == "moderator" and topic["at"] == "2026-11-16T07:00:00+00:00"
    assert topic["model_version"] == ctx.pipeline.version
    after = post_labels(ctx.db, post_id)
    assert after.current["topic"] == "improvement" and after.current["urgency"] == "critical"
    assert after.model == before.model  # the model's own labels stay as they were


def test_an_unchanged_review_is_a_confirmation(ctx, posts):
    record_review(ctx.db, posts["-100001_2_1"], {}, "moderator", ctx.clock.now())
    figures = gathered_since(ctx.db, None)
    assert figures["confirmations"] == 1
    assert sum(figures["corrections"].values()) == 0


def test_corrections_are_counted_per_label_since_a_moment(ctx, posts):
    record_review(ctx.db, posts["-100001_2_1"], {"topic": "improvement"}, "moderator",
                  ctx.clock.now() - timedelta(days=10))
    record_review(ctx.db, posts["-100003_1_2"], {"kind": "complaint", "topic": "roads_transport"},
                  "moderator", ctx.clock.now())
    figures = gathered_since(ctx.db, "2026-11-10T00:00:00+00:00")
    assert figures["corrections"]["kind"] == 1 and figures["corrections"]["topic"] == 1


def test_a_review_with_an_unknown_value_is_refused_and_stores_nothing(ctx, posts):
    with pytest.raises(CorrectionError, match="topic 'water'"):
        record_review(ctx.db, posts["-100001_2_1"], {"topic": "water"}, "moderator", ctx.clock.now())
    with pytest.raises(CorrectionError, match="не муниципалитет региона"):
        record_review(ctx.db, posts["-100001_2_1"], {"municipality": "Москва"}, "moderator",
                      ctx.clock.now(), municipalities={"Дзержинск"})
    assert ctx.db["label_corrections"].count == 0


def test_corrections_are_append_only(ctx, posts):
    record_review(ctx.db, posts["-100001_2_1"], {}, "moderator", ctx.clock.now())
    with pytest.raises(Exception, match="append-only"):
        ctx.db.execute("UPDATE label_corrections SET new_value = 'x'")
    with pytest.raises(Exception, match="append-only"):
        ctx.db.execute("DELETE FROM label_corrections")


def test_low_confidence_queue_lists_least_sure_first_and_drops_reviewed_posts(ctx, posts):
    rows = low_confidence(ctx.db)
    assert [r["confidence"] for r in rows] == sorted(r["confidence"] for r in rows)
    assert len(rows) == 3
    record_review(ctx.db, rows[0]["id"], {}, "moderator", ctx.clock.now())
    assert rows[0]["id"] not in [r["id"] for r in low_confidence(ctx.db)]


# --- the web page --------------------------------------------------------------------


@pytest.fixture
def client(ctx, posts):
    seed_users(ctx)
    auth.limiter.failures.clear()
    return TestClient(create_app(ctx, secret_key="test-secret"))


def login(client, user, password):
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    client.post("/login", data={"login": user, "password": password, "csrf_token": token})


def token(page) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def test_moderator_corrects_an_incidents_labels_on_the_page(ctx, client, posts):
    login(client, "moderator", "moderator-demo")
    incident_id = ctx.db.execute("SELECT id FROM incidents WHERE post_id = ?",
                                 [posts["-100001_2_1"]]).fetchone()[0]
    page = client.get(f"/incidents/{incident_id}/labels")
    assert page.status_code == 200 and "нет горячей воды" in page.text
    response = client.post(f"/incidents/{incident_id}/labels", data={
        "csrf_token": token(page), "kind": "complaint", "topic": "housing",
        "municipality": "Нижний Новгород", "urgency": "high"}, follow_redirects=False)
    assert response.status_code == 303
    assert post_labels(ctx.db, posts["-100001_2_1"]).current["urgency"] == "high"
    history = client.get(response.headers["location"])
    assert "Сохранено" in history.text and "moderator" in history.text


def test_post_without_incident_is_reviewed_and_an_empty_municipality_means_none(ctx, client, posts):
    login(client, "admin", "admin-demo-1")
    post_id = posts["-100003_1_2"]
    page = client.get(f"/posts/{post_id}/labels")
    response = client.post(f"/posts/{post_id}/labels", data={
        "csrf_token": token(page), "kind": "other", "topic": "other", "municipality": "",
        "urgency": "low"}, follow_redirects=False)
    assert response.status_code == 303
    assert post_labels(ctx.db, post_id).current["municipality"] is None


def test_post_text_is_escaped_on_the_labels_page_and_in_the_queue(ctx, client, posts):
    login(client, "moderator", "moderator-demo")
    page = client.get(f"/posts/{posts['-100003_1_1']}/labels")
    queue = client.get("/labels/queue")
    for html in (page.text, queue.text):
        assert "<script>alert(1)</script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in page.text
    assert f"/posts/{posts['-100003_1_2']}/labels" in queue.text or "/incidents/" in queue.text


def test_officials_and_data_scientists_cannot_correct_labels(ctx, client, posts):
    login(client, "dzerzhinsk", "official-demo")
    assert client.get(f"/posts/{posts['-100003_1_1']}/labels").status_code == 403
    assert client.get("/labels/queue").status_code == 403
    client.cookies.clear()
    login(client, "analyst", "analyst-demo")
    assert client.get(f"/posts/{posts['-100003_1_1']}/labels").status_code == 403


def test_a_correction_without_the_csrf_token_is_refused(ctx, client, posts):
    login(client, "moderator", "moderator-demo")
    response = client.post(f"/posts/{posts['-100003_1_1']}/labels", data={
        "kind": "other", "topic": "other", "municipality": "", "urgency": "low"})
    assert response.status_code == 403
    assert ctx.db["label_corrections"].count == 0


def test_an_invalid_value_posted_shows_the_error_and_stores_nothing(ctx, client, posts):
    login(client, "moderator", "moderator-demo")
    page = client.get(f"/posts/{posts['-100003_1_1']}/labels")
    response = client.post(f"/posts/{posts['-100003_1_1']}/labels", data={
        "csrf_token": token(page), "kind": "complaint", "topic": "roads_transport",
        "municipality": "Атлантида", "urgency": "low"})
    assert response.status_code == 400 and "Атлантида" in response.text
    assert ctx.db["label_corrections"].count == 0


def test_unknown_post_or_incident_is_not_found(client):
    login(client, "moderator", "moderator-demo")
    assert client.get("/posts/9999/labels").status_code == 404
    assert client.get("/incidents/9999/labels").status_code == 404


def test_a_correction_takes_effect_on_the_incident_deadlines_route_and_history(ctx, client, posts):
    """The labels page says «Сохранено» and the incident follows: urgency → deadlines,
    municipality → the new route while it is not yet with an executor; both in the history."""
    login(client, "moderator", "moderator-demo")
    incident_id = ctx.db.execute("SELECT id FROM incidents WHERE post_id = ?",
                                 [posts["-100001_2_1"]]).fetchone()[0]
    before = ctx.db["incidents"].get(incident_id)
    urgent = "critical" if before["urgency"] != "critical" else "low"
    page = client.get(f"/incidents/{incident_id}/labels")
    client.post(f"/incidents/{incident_id}/labels", data={
        "csrf_token": token(page), "kind": "complaint", "topic": "housing",
        "municipality": "Дзержинск", "urgency": urgent}, follow_redirects=False)
    after = ctx.db["incidents"].get(incident_id)
    assert (after["urgency"], after["municipality"], after["topic"]) == (urgent, "Дзержинск", "housing")
    assert after["first_reply_due_at"] != before["first_reply_due_at"]  # deadlines follow the urgency
    dzerzhinsk = ctx.db.execute("SELECT id FROM organisations WHERE key = 'adm-dzr'").fetchone()[0]
    assert before["status"] == "new" and before["organisation_id"] != dzerzhinsk
    assert after["organisation_id"] == dzerzhinsk  # not yet with an executor: re-routed
    event = ctx.db.execute("SELECT actor, data FROM incident_events WHERE incident_id = ? AND event = 'relabel'",
                           [incident_id]).fetchone()
    assert event[0] == "moderator" and json.loads(event[1])["changes"]["urgency"] == [before["urgency"], urgent]
    assert "исправил" in client.get(f"/incidents/{incident_id}").text  # «… исправила метки»
