"""The governor's direct line: a few hundred generated questions under a broadcast post,
grouped by topic and question, answered on air or routed, and reported."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import httpx
import pytest

from monitor.catalog.organisations import organisation_id
from monitor.demo.mass import QUESTIONS, questions
from monitor.directline import DirectLineError, answer_on_air, groups, route, start
from monitor.directline.questions import questions_of
from monitor.directline.report import states, tables
from monitor.incidents.lifecycle import act
from monitor.ingest import ingest
from monitor.ingest.post import Post
from monitor.replies import run_once
from monitor.reports.exports import read_xlsx, to_csv, to_xlsx
from tests.fakes.vk import FakeVK
from tests.replying import platform_context

WALL, GROUP, TOKEN = -100001, 100001, "nn-community-token"
def generated(vk, n: int, at, seed: int = 7) -> tuple[str, list[tuple[str, Post]]]:
    """The broadcast post, and (which question, the post) for `n` comments under it."""
    broadcast = vk.post(WALL, "Прямая линия губернатора: задайте вопрос в комментариях", event=False)
    wall = f"{WALL}_{broadcast['id']}"
    out = []
    for k, (name, text) in enumerate(questions(n, seed)):
        made = vk.comment(WALL, broadcast["id"], text, from_id=5000 + k, event=False)
        out.append((name, Post("vk:-100001", f"{wall}_{made['id']}", "vk_comment", text,
                               at + timedelta(seconds=20 * k), author_id=f"vk:{5000 + k}",
                               parent_id=wall)))
    return wall, out


@pytest.fixture
def vk():
    with FakeVK() as server:
        server.add_token(TOKEN, "community", group_id=GROUP)
        yield server


@pytest.fixture
def dctx(settings, clock, pipeline, vk):
    yield from platform_context(settings, clock, pipeline,
                                {"TSUR_VK_API_URL": vk.url, "TSUR_VK_TOKEN_ADM_NN": TOKEN},
                                {"adm-nn": "TSUR_VK_TOKEN_ADM_NN"})


def test_a_direct_line_groups_a_few_hundred_questions_and_reports_them(dctx, vk):
    begin = dctx.clock.now()
    broadcast, asked = generated(vk, 300, begin + timedelta(minutes=1))
    event = start(dctx, "Прямая линия губернатора", "vk:-100001", begin, begin + timedelta(hours=2),
                  post_external_id=broadcast, answer_hours=48, actor="moderator")
    outside = Post("vk:-100001", f"{WALL}_77_1", "vk_comment", "В Дзержинске нет горячей воды",
                   begin + timedelta(minutes=3), author_id="vk:42", parent_id=f"{WALL}_77")
    dctx.clock.advance(timedelta(hours=2))
    for i in range(0, len(asked), 50):
        report = ingest(dctx, [p for _, p in asked[i:i + 50]] + ([outside] if i == 0 else []))
    assert report.incidents == 0  # the event's questions open no incidents of their own
    assert dctx.db["incidents"].count == 1  # only the post outside the broadcast

    found = groups(dctx.db, event.id)
    asked_by = {p.external_id: name for name, p in asked}
    by_group = {g["id"]: Counter(asked_by[dctx.db["posts"].get(q["post_id"])["external_id"]]
                                 for q in questions_of(dctx.db, g["id"])) for g in found}
    taken = sum(sum(c.values()) for c in by_group.values())
    assert taken >= 250  # a few are read as thanks («Спасибо.»), not questions
    # Near-duplicates merged: few groups, each about one question.
    assert len(found) <= 2 * len(QUESTIONS)
    pure = sum(c.most_common(1)[0][1] for c in by_group.values()) / taken
    assert pure >= 0.95
    for name in QUESTIONS:  # a question's wordings fall in one group, or a few
        held = sorted((c[name] for c in by_group.values()), reverse=True)
        assert sum(held[:3]) >= 0.9 * sum(held)
    # The summary quotes the questions, word for word.
    texts = " ".join(p.text for _, p in asked)
    for g in found:
        assert g["summary"] and all(sentence in texts for sentence in g["summary"])
        assert g["questions"] == sum(by_group[g["id"]].values())

    largest, second = sorted(found, key=lambda g: -g["questions"])[:2]
    answer_on_air(dctx, event.id, largest["id"], 17, "moderator")
    with pytest.raises(DirectLineError):
        answer_on_air(dctx, event.id, largest["id"], 18, "moderator")
    with pytest.raises(DirectLineError):
        answer_on_air(dctx, event.id, second["id"], 500, "moderator")  # the broadcast is 120 min
    incident = route(dctx, event.id, second["id"], "moderator", organisation_id(dctx.db, "adm-nn"))
    assert dctx.db["incidents"].get(incident)["repeats"] == second["questions"] - 1
    act(dctx, incident, "submit_draft", "official", text="Ответ на ваш вопрос с прямой линии.")
    act(dctx, incident, "approve_final", "moderator")
    with httpx.Client(timeout=5) as client:
        for _ in range(30):
            run_once(dctx, client)
            dctx.clock.advance(timedelta(seconds=1))
    assert len(vk.created_comments) == second["questions"]  # one answer under each question

    counted = Counter(state for _, _, state in states(dctx.db, event.id, dctx.clock.now()))
    assert counted == {"on_air": largest["questions"], "later": second["questions"],
                       "waiting": taken - largest["questions"] - second["questions"]}
    late = Counter(s for _, _, s in states(dctx.db, event.id, event.due_at + timedelta(minutes=1)))
    assert late["overdue"] == counted["waiting"]

    by_topic, by_place, by_group_table = tables(dctx.db, event.id, dctx.clock.now())
    assert by_topic.rows[-1] == {"key": "всего", "questions": taken, **counted, "overdue": 0}
    assert sum(r["questions"] for r in by_place.rows[:-1]) == taken
    assert len(by_group_table.rows) == len(found)
    sheets = read_xlsx(to_xlsx([by_topic, by_place, by_group_table]))
    assert len(sheets) == 3 and f'"всего";"{taken}"' in to_csv(by_topic)


def test_the_pages_and_commands_of_a_direct_line(dctx, vk, runner, settings):
    from test_web_incident import client_for, csrf

    from monitor.cli import cli
    from monitor.demo import DEMO_CONFIG, seed_users
    from monitor.web.app import create_app

    seed_users(dctx)
    begin = dctx.clock.now()
    broadcast, asked = generated(vk, 30, begin + timedelta(minutes=1))
    app = create_app(dctx, secret_key="test-secret")
    client = client_for(app, "moderator", "moderator-demo")
    form = {"csrf_token": csrf(client, "/directline"), "name": "Прямая линия <script>x</script>",
            "source": "vk:-100001", "post": broadcast, "starts": "2026-11-16T10:00",
            "ends": "2026-11-16T12:00", "answer_hours": "24"}
    created = client.post("/directline", data=form, follow_redirects=False)
    assert created.status_code == 303
    again = client.post("/directline", data={**form, "csrf_token": csrf(client, "/directline")})
    assert again.status_code == 409 and "уже подключён" in again.text
    assert client_for(app, "dzerzhinsk", "official-demo").get("/directline").status_code == 403
    dctx.clock.advance(timedelta(hours=2))
    ingest(dctx, [p for _, p in asked])
    page = client.get(created.headers["location"])
    assert "Группы вопросов" in page.text and "<script>x" not in page.text
    [first] = groups(dctx.db, 1)[:1]
    url = f"/directline/1/groups/{first['id']}"
    on_air = client.post(f"{url}/on_air", data={"csrf_token": csrf(client, "/directline/1"),
                                                "minute": "12"}, follow_redirects=False)
    assert on_air.status_code == 303
    assert "Ответ в эфире на 12-й минуте" in client.get("/directline/1").text
    routed = client.post(f"{url}/route", data={"csrf_token": csrf(client, "/directline/1"),
                                               "organisation_id": ""}, follow_redirects=False)
    assert routed.status_code == 303 and groups(dctx.db, 1)[0]["incident_id"]
    xlsx = client.get("/directline/1/report.xlsx")
    assert set(read_xlsx(xlsx.content)) == {"directline-topics", "directline-municipalities",
                                            "directline-groups"}

    dctx.db.close()
    env = {"TSUR_DB": str(settings.database)}
    listed = runner.invoke(cli, ["--config", str(DEMO_CONFIG), "directline", "list"], env=env)
    assert listed.exit_code == 0 and "vk:-100001" in listed.output
    started = runner.invoke(cli, ["--config", str(DEMO_CONFIG), "directline", "start", "Вторая",
                                  "--source", "telegram:-1001000000007", "--from", "2026-11-17 12:00",
                                  "--until", "2026-11-17 14:00"], env=env)
    assert started.exit_code == 0 and "answers due 2026-11-20 14:00" in started.output
    report = runner.invoke(cli, ["--config", str(DEMO_CONFIG), "directline", "report", "1",
                                 "--format", "csv"], env=env)
    assert report.exit_code == 0 and '"всего"' in report.output
