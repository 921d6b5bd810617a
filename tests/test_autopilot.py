"""Autopilot: thresholds chosen from the moderators' history, respected by ingest,
reported on the Сводка and shown on /models."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest
from test_web_incident import client_for

from monitor.catalog.organisations import organisation_id
from monitor.cli import cli
from monitor.clock import iso
from monitor.demo import DEMO_CONFIG, seed_users
from monitor.incidents import autopilot
from monitor.incidents.lifecycle import act
from monitor.incidents.states import open_incident
from monitor.ingest import ingest
from monitor.ingest.post import Post
from monitor.reports.autopilot import summary
from monitor.retraining.autopilot import choose, history
from monitor.retraining.corrections import correct_labels, record_review
from monitor.settings import Autopilot
from monitor.web.app import create_app
from nlp import Labels
from nlp.labels import TOPICS

MODEL = {"kind": "complaint", "topic": "housing", "municipality": "Дзержинск", "urgency": "normal"}
SURE = {"kind": 0.97, "topic": 0.93, "municipality": 0.95, "urgency": 0.85}


def labelled_post(ctx, n: int, scores: dict, labels: dict = MODEL) -> int:
    now = iso(ctx.clock.now())
    source = ctx.db.execute("SELECT id FROM sources WHERE key = 'vk:-100003'").fetchone()[0]
    post_id = ctx.db["posts"].insert({
        "source_id": source, "external_id": f"-100003_1_{n}", "channel": "vk_comment",
        "author_id": f"vk:{n}", "text": f"Нет горячей воды, дом {n}", "created_at": now,
        "collected_at": now}).last_pk
    ctx.db["labels"].insert({"post_id": post_id, "model_version": "test", **labels,
                             "scores": json.dumps(scores), "created_at": now})
    return post_id


def build_history(ctx) -> None:
    """ЖКХ in Дзержинск: sure labels were confirmed; an unsure topic or a municipality
    taken from the page was corrected; roads have too few decisions."""
    now = ctx.clock.now()
    n = 0
    for _ in range(60):
        n += 1
        record_review(ctx.db, labelled_post(ctx, n, SURE), {}, "moderator", now)
    for _ in range(20):
        n += 1
        post = labelled_post(ctx, n, {**SURE, "topic": 0.62})
        record_review(ctx.db, post, {"topic": "improvement"}, "moderator", now)
    for _ in range(20):
        n += 1
        post = labelled_post(ctx, n, {**SURE, "municipality": 0.6})
        record_review(ctx.db, post, {"municipality": "Арзамас"}, "moderator", now)
    # Incidents decided without a review: one confirmed, one rejected as spam.
    for verdict in ("confirm", "reject"):
        n += 1
        with ctx.db.atomic():  # opening an incident: the caller holds the transaction
            post = labelled_post(ctx, n, SURE)
            incident = open_incident(ctx, post, Labels(**MODEL, scores=SURE),
                                     organisation_id(ctx.db, "adm-dzr"), "test")
        act(ctx, incident, verdict, "moderator", **({"reason": "spam"} if verdict == "reject" else {}))
    roads = {**MODEL, "topic": "roads_transport"}
    for _ in range(10):
        n += 1
        record_review(ctx.db, labelled_post(ctx, n, SURE, roads), {}, "moderator", now)


def test_thresholds_are_chosen_from_the_moderators_history(ctx, runner, settings):
    build_history(ctx)
    decided = history(ctx.db)
    assert len(decided) == 112 and sum(not d.right for d in decided) == 41
    by_topic = {t.topic: t for t in choose(decided, 0.97, 30)}
    housing = by_topic["housing"]
    assert housing.topic_min > 0.62 and housing.municipality_min == 0.95
    assert (housing.support, housing.evidence, housing.precision) == (62, 102, 0.9839)
    assert by_topic["roads_transport"].kind_min is None  # ten decisions are not enough
    # Stricter than the history allows: nothing is chosen.
    assert choose(decided, 0.999, 30)[0].kind_min is None
    ctx.db.close()
    result = runner.invoke(cli, ["--config", str(DEMO_CONFIG), "autopilot", "thresholds",
                                 "--db", str(settings.database)], env={"TSUR_DB": str(settings.database)})
    assert result.exit_code == 0, result.output
    assert "ЖКХ: kind ≥ 0.97, topic ≥ 0.93, municipality ≥ 0.95, urgency ≥ 0.85" in result.output
    assert "дороги и транспорт: not enough evidence" in result.output
    assert "nothing is sent without a moderator" not in result.output  # on in the demo


def post(text: str, n: int, at) -> Post:
    return Post("vk:-100003", f"-100003_9_{n}", "vk_comment", text, at, author_id=f"vk:{900 + n}",
                parent_id="-100003_9")


WHERE_NAMED = "В Дзержинске на улице Гайдара 12 третий день нет горячей воды"
NO_PLACE = "Третий день нет горячей воды, сколько можно"
GAS = "В Дзержинске на улице Гайдара 12 в подъезде сильно пахнет газом"
OTHER_GAS = "Дзержинск, проспект Ленина 50: в квартире пахнет газом"
OTHER_PLACE = "В Дзержинске на улице Чкалова 3 огромная яма на дороге"


@pytest.fixture
def pilot(ctx):
    """The autopilot on, every topic trusted when the place is named in the text."""
    ctx.settings = replace(ctx.settings, autopilot=Autopilot(enabled=True))
    autopilot.store(ctx, [autopilot.Thresholds(t, None, 0.0, 0.0, 0.95, 0.0, 1.0, 30, 30)
                          for t in TOPICS], 0.97, "test")
    return ctx


def incident_of(ctx, n: int) -> dict:
    return next(ctx.db.query("SELECT i.* FROM incidents i JOIN posts p ON p.id = i.post_id"
                             " WHERE p.external_id = ?", [f"-100003_9_{n}"]))


def test_ingest_sends_only_sure_incidents_to_their_executor(pilot):
    at = pilot.clock.now() - timedelta(minutes=5)
    report = ingest(pilot, [post(WHERE_NAMED, 1, at), post(NO_PLACE, 2, at), post(GAS, 3, at)])
    assert report.autopiloted == 1
    sure, unsure, danger = (incident_of(pilot, n) for n in (1, 2, 3))
    assert (sure["status"], sure["autopilot"]) == ("assigned", 1)
    assert sure["organisation_id"] == organisation_id(pilot.db, "adm-dzr") and sure["executor_at"]
    events = [(e["event"], e["actor"]) for e in pilot.db["incident_events"].rows_where(
        "incident_id = ?", [sure["id"]], order_by="id")]
    assert events[1:] == [("confirm", "system:autopilot"), ("assign", "system:autopilot"),
                          ("autopilot", "system:autopilot")]
    assert (unsure["status"], unsure["autopilot"]) == ("new", 0)  # the page's municipality
    assert danger["urgency"] == "critical" and danger["status"] == "new"  # a human looks
    # Configured so, `critical` goes too; switched off, nothing does.
    pilot.settings = replace(pilot.settings, autopilot=Autopilot(enabled=True, critical=True))
    assert ingest(pilot, [post(OTHER_GAS, 4, at)]).autopiloted == 1
    pilot.settings = replace(pilot.settings, autopilot=Autopilot(enabled=False))
    report = ingest(pilot, [post(OTHER_PLACE, 5, at)])
    assert (report.incidents, report.autopiloted) == (1, 0)


def test_the_summary_reports_the_share_time_saved_and_corrections(pilot):
    at = pilot.clock.now() - timedelta(minutes=5)
    ingest(pilot, [post(WHERE_NAMED, 1, at), post(NO_PLACE, 2, at)])
    pilot.clock.advance(timedelta(hours=3))
    act(pilot, incident_of(pilot, 2)["id"], "assign", "moderator",
        organisation_id=organisation_id(pilot.db, "adm-dzr"))
    figures = summary(pilot.db, None)
    assert (figures.incidents, figures.autopiloted, figures.share) == (2, 1, 0.5)
    assert figures.manual_median_h == 3.0 and figures.saved_h == 3.0 and figures.corrected == 0
    sure = incident_of(pilot, 1)
    other = "low" if sure["urgency"] != "low" else "normal"
    correct_labels(pilot, sure["post_id"], {"urgency": other}, "moderator")
    assert summary(pilot.db, None).corrected_share == 1.0

    seed_users(pilot)
    app = create_app(pilot, secret_key="test-secret")
    page = client_for(app, "moderator", "moderator-demo").get("/dashboard").text
    assert "Автопилот: передано исполнителю без модератора" in page and "50.0 %" in page
    models = client_for(app, "analyst", "analyst-demo").get("/models").text
    assert "Автопилот <small>включён</small>" in models and "ЖКХ" in models
