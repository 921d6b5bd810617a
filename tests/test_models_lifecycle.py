"""Compare, promote and roll back model versions while the service keeps ingesting."""

import json
import re
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from monitor.cli import cli
from monitor.demo import DEMO_CONFIG, seed_users
from monitor.ingest import ingest
from monitor.ingest.post import Post
from monitor.retraining.corrections import record_review
from monitor.retraining.models import PipelineHolder, compare
from monitor.settings import DEFAULT_DATA_DIR, DEFAULT_MODELS_DIR
from monitor.web import auth
from monitor.web.app import create_app
from nlp.data import labelled_files, read_labelled, split
from nlp.labels import TASKS
from nlp.registry import read_registry, versions, write_registry
from nlp.train import train


@pytest.fixture(scope="session")
def trained(tmp_path_factory, pipeline):
    """The production versions (linked) and a candidate trained here on a third of the
    training split: the project's models/ is never written to."""
    folder = tmp_path_factory.mktemp("trained")
    for task, version in pipeline.versions.items():
        (folder / task).mkdir()
        (folder / task / version).symlink_to(DEFAULT_MODELS_DIR / task / version)
    production = dict(pipeline.versions)
    write_registry(folder, {"production": production, "history": []})
    train_records, test_records = split(read_labelled(labelled_files(DEFAULT_DATA_DIR))[0])
    candidates = train(train_records[::3], test_records[::4], folder, promote=False,
                       now=datetime(2026, 11, 20, tzinfo=UTC), family="svm", vector_weight=0.0)
    return folder, production, candidates


@pytest.fixture
def models_dir(tmp_path, trained):
    """A models/ of our own per test (version folders linked): production = the session
    pipeline's versions, candidate = the version trained above."""
    source, production, candidates = trained
    folder = tmp_path / "models"
    for task in TASKS:
        (folder / task).mkdir(parents=True)
        for version in versions(source, task):
            (folder / task / version).symlink_to((source / task / version).resolve())
    write_registry(folder, {"production": production, "history": [], "candidates": candidates})
    return folder


@pytest.fixture
def config(tmp_path, models_dir):
    path = tmp_path / "tsur.toml"
    path.write_text(DEMO_CONFIG.read_text(encoding="utf-8")
                    + f'\n[paths]\nmodels = "{models_dir}"\ndata = "{DEMO_CONFIG.parents[1]}"\n',
                    encoding="utf-8")
    return path


def tsur(runner, config, *args):
    result = runner.invoke(cli, ["--config", str(config), *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_promote_and_rollback_move_the_pointer_and_keep_history(runner, config, models_dir):
    before = read_registry(models_dir)
    output = tsur(runner, config, "models", "promote")
    after = read_registry(models_dir)
    assert after["production"] == before["candidates"]
    assert "→" in output
    assert after["history"][-1]["production"] == before["production"]
    assert after["history"][-1]["action"] == "promote"
    assert not list(models_dir.glob("*.tmp"))  # written atomically
    tsur(runner, config, "models", "rollback")
    rolled = read_registry(models_dir)
    assert rolled["production"] == before["production"]
    assert [h["action"] for h in rolled["history"]] == ["promote", "rollback"]
    result = runner.invoke(cli, ["--config", str(config), "models", "rollback"])
    assert result.exit_code == 1 and "no earlier production version" in result.output


def test_promote_refuses_a_version_that_does_not_load(runner, config, models_dir, tmp_path):
    damaged = models_dir / "kind" / "29990101.1"
    damaged.mkdir()
    (damaged / "model.skops").write_bytes(b"not a model")
    (damaged / "manifest.json").write_text(json.dumps({"sha256": "0" * 64}))
    before = read_registry(models_dir)
    result = runner.invoke(cli, ["--config", str(config), "models", "promote", "kind=29990101.1"])
    assert result.exit_code == 1 and "checksum mismatch" in result.output
    assert read_registry(models_dir) == before


def test_models_list_marks_production_and_candidate(runner, config, models_dir):
    output = tsur(runner, config, "models", "list")
    registry = read_registry(models_dir)
    assert f"*  {registry['production']['kind']}" in output or \
        f"*c {registry['production']['kind']}" in output
    assert f" c {registry['candidates']['kind']}" in output


def test_compare_shows_both_versions_per_label_on_the_test_split_and_recent_corrections(
        ctx, runner, config, models_dir):
    now = ctx.clock.now()
    ingest(ctx, [Post("vk:-100003", f"-100003_7_{i}", "vk_comment", text, now - timedelta(minutes=i))
                 for i, text in enumerate(["В подъезде пахнет газом, Гайдара 12",
                                           "Когда починят светофор на Пушкина?",
                                           "Спасибо за новую детскую площадку",
                                           "Третий день нет воды в Дзержинске",
                                           "Опять не вывезли мусор во дворе"])])
    for post_id in [r["id"] for r in ctx.db["posts"].rows]:
        record_review(ctx.db, post_id, {}, "moderator", now)
    output = tsur(runner, config, "models", "compare", "--db", str(ctx.settings.database))
    assert "=== test:" in output and "critical_recall" in output and "municipality_accuracy" in output
    assert "F1 prod" in output and "F1 cand" in output
    stored = json.loads(ctx.db.execute("SELECT report FROM model_comparisons").fetchone()[0])
    assert set(stored["sets"]) <= {"test", "registers", "unseen", "recent"} and "test" in stored["sets"]
    assert "=== registers:" in output and "needs_reaction_recall" in output
    test = stored["sets"]["test"]
    assert test["candidate"]["messages"] == test["production"]["messages"] == test["messages"]
    assert stored["candidate"] == read_registry(models_dir)["candidates"]


def _posts(start, n, now):
    texts = ["Нет горячей воды на Автозаводе", "Яма на дороге у школы 5", "Спасибо за уборку снега",
             "Когда будет запись к врачу?", "Во дворе не горят фонари"]
    return [Post("vk:-100001", f"-100001_8_{i}", "vk_comment", texts[i % len(texts)] + f" ({i})",
                 now + timedelta(seconds=i)) for i in range(start, start + n)]


def test_the_running_service_swaps_models_between_batches_and_loses_no_message(
        ctx, runner, config, models_dir, pipeline):
    ctx.settings = replace(ctx.settings, models_dir=models_dir)
    ctx.models = PipelineHolder(models_dir, pipeline)
    old, new = pipeline.version, None
    batches, size = 12, 5
    stored_one, promoted = threading.Event(), threading.Event()
    errors = []

    def collector():  # what `tsur collect` does: refresh before each batch, then ingest
        worker = ctx.fork()
        try:
            for b in range(batches):
                worker.refresh_pipeline()
                ingest(worker, _posts(b * size, size, worker.clock.now()))
                stored_one.set()
                if b == 2:
                    promoted.wait(60)
        except Exception as error:  # noqa: BLE001 - reported by the test
            errors.append(error)
        finally:
            worker.db.close()

    thread = threading.Thread(target=collector)
    thread.start()
    stored_one.wait(60)
    tsur(runner, config, "models", "promote")
    promoted.set()
    thread.join(120)
    assert not errors
    assert ctx.db["posts"].count == batches * size  # nothing lost
    per_post = ctx.db.execute("SELECT l.model_version FROM labels l JOIN posts p ON p.id = l.post_id"
                              " ORDER BY p.external_id").fetchall()
    used = [v for (v,) in per_post]
    assert len(used) == batches * size
    new = ctx.models.pipeline.version
    assert new != old and set(used) == {old, new}
    # every batch labelled by one version: swaps happen only between batches
    by_batch = ctx.db.execute(
        "SELECT CAST(substr(p.external_id, 11) AS INTEGER) / ? AS b, count(DISTINCT l.model_version)"
        " FROM posts p JOIN labels l ON l.post_id = p.id GROUP BY b", [size]).fetchall()
    assert all(n == 1 for _, n in by_batch)
    tsur(runner, config, "models", "rollback")
    assert ctx.refresh_pipeline().version == old


def test_a_version_that_fails_to_load_keeps_the_old_pipeline_and_says_why(models_dir, pipeline, caplog):
    holder = PipelineHolder(models_dir, pipeline)
    registry = read_registry(models_dir)
    registry["production"] = {**registry["production"], "kind": "19990101.1"}
    write_registry(models_dir, registry)
    assert holder.current() is pipeline
    assert "19990101.1" in holder.last_error and "still labelling with" in holder.last_error
    assert "model swap failed" in caplog.text


# --- the data scientists' page --------------------------------------------------------


def login(client, user, password):
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    client.post("/login", data={"login": user, "password": password, "csrf_token": token})


def test_data_scientists_see_versions_and_corrections_and_promote_from_the_page(ctx, models_dir,
                                                                               pipeline):
    ctx.settings = replace(ctx.settings, models_dir=models_dir)
    registry = read_registry(models_dir)
    records = [{"id": "x1", "text": "Третий день нет воды в Дзержинске", "kind": "complaint",
                "topic": "housing", "municipality": "Дзержинск", "urgency": "high"}]
    report = compare(pipeline, models_dir, registry["candidates"], registry["production"],
                     {"recent": records})
    ctx.db["model_comparisons"].insert({"at": "2026-11-16T06:00:00+00:00", "by": "analyst",
                                        "candidate": "{}", "production": "{}",
                                        "report": json.dumps(report)})
    seed_users(ctx)
    auth.limiter.failures.clear()
    ingest(ctx, [Post("vk:-100003", "-100003_1_1", "vk_comment", "ну такое", ctx.clock.now())])
    record_review(ctx.db, 1, {"kind": "complaint", "topic": "roads_transport"}, "moderator",
                  ctx.clock.now())
    client = TestClient(create_app(ctx, secret_key="test-secret"))
    login(client, "moderator", "moderator-demo")
    assert client.get("/models").status_code == 403
    client.cookies.clear()
    login(client, "analyst", "analyst-demo")
    page = client.get("/models")
    assert page.status_code == 200
    registry = read_registry(models_dir)
    assert registry["candidates"]["topic"] in page.text
    assert "Исправления модераторов" in page.text
    assert "Недавно исправленные сообщения (1)" in page.text and "critical_recall" in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    assert client.post("/models/promote", data={}).status_code == 403  # no CSRF token
    response = client.post("/models/promote", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    assert read_registry(models_dir)["production"] == registry["candidates"]
    assert ctx.db.execute("SELECT count(*) FROM audit WHERE action = 'models_promote'").fetchone()[0] == 1


def test_training_chooses_the_critical_threshold_on_the_training_split(trained):
    from nlp import Pipeline
    from nlp.registry import read_manifest
    from nlp.train import CRITICAL_PRECISION_FLOOR, CRITICAL_RECALL_GOAL, THRESHOLDS

    folder, _, candidates = trained
    chosen = read_manifest(folder, "urgency", candidates["urgency"])["critical_threshold"]
    assert chosen["value"] in THRESHOLDS and chosen["goal"] == CRITICAL_RECALL_GOAL
    # the recall goal is reached, or the precision floor stopped the search
    assert chosen["out_of_fold_recall"] >= CRITICAL_RECALL_GOAL or chosen["value"] in (THRESHOLDS[0], THRESHOLDS[-1]) \
        or chosen["out_of_fold_precision"] >= CRITICAL_PRECISION_FLOOR
    assert f"P(critical) ≥ {chosen['value']}" in (folder / "urgency" / candidates["urgency"] / "MODEL_CARD.md").read_text()
    loaded = Pipeline.load(folder, versions=candidates, ner=False)
    assert loaded.critical_threshold == chosen["value"]


def test_a_hot_swapped_pipeline_keeps_its_versions_critical_threshold(trained, pipeline):
    """A promotion picked up by the running service must not fall back to the default."""
    from monitor.retraining.models import load_like
    from nlp.registry import read_manifest

    folder, _, candidates = trained
    swapped = load_like(pipeline, folder, candidates)
    chosen = read_manifest(folder, "urgency", candidates["urgency"])["critical_threshold"]["value"]
    assert swapped.critical_threshold == chosen
    assert load_like(pipeline, folder, pipeline.versions).critical_threshold == pipeline.critical_threshold
