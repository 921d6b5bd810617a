"""`tsur labels export`: reviewed posts → training set with provenance, honest splits."""

import json
from datetime import timedelta

import pytest

from monitor.cli import cli
from monitor.demo import DEMO_CONFIG
from monitor.ingest import ingest
from monitor.ingest.post import Post
from monitor.retraining.corrections import export_id, export_reviews, record_review
from nlp.data import labelled_files, read_labelled, split, split_of

SOURCE = "vk:-100003"


def external_ids(share: str, n: int, start: int = 0) -> list[str]:
    """External ids whose export id falls into the given share of the fixed split."""
    found, i = [], start
    while len(found) < n:
        candidate = f"-100003_9_{i}"
        if split_of(export_id(SOURCE, candidate)) == share:
            found.append(candidate)
        i += 1
    return found


@pytest.fixture
def reviewed(ctx):
    """Two train-share posts, one test-share post, a repost, and a text from data/labelled."""
    now = ctx.clock.now()
    train_a, train_b, repost = external_ids("train", 3)
    (recent,) = external_ids("test", 1)
    in_data = read_labelled(labelled_files(ctx.settings.data_dir))[0][0]
    texts = {train_a: "Во дворе на Гайдара 5 не вывозят мусор вторую неделю",
             train_b: "Спасибо за новую остановку на Октябрьской!",
             recent: "Когда откроют запись в первый класс в школе 12?",
             repost: "Во дворе на Гайдара 5 не вывозят мусор вторую неделю",
             "-100003_9_data": in_data["text"]}
    ingest(ctx, [Post(SOURCE, key, "vk_comment", text, now - timedelta(minutes=5))
                 for key, text in texts.items()])
    ids = {r["external_id"]: r["id"] for r in ctx.db["posts"].rows}
    at = now - timedelta(hours=3)
    record_review(ctx.db, ids[train_a], {"kind": "complaint", "topic": "ecology_waste",
                                         "urgency": "normal", "municipality": "Дзержинск"},
                  "moderator", at)
    record_review(ctx.db, ids[train_b], {"kind": "gratitude", "topic": "roads_transport",
                                         "urgency": "low"}, "moderator", at)
    record_review(ctx.db, ids[recent], {"kind": "question", "topic": "education",
                                        "urgency": "low"}, "moderator", at)
    record_review(ctx.db, ids[repost], {"kind": "complaint", "topic": "ecology_waste",
                                        "urgency": "normal"}, "moderator", at + timedelta(hours=1))
    record_review(ctx.db, ids["-100003_9_data"], {}, "moderator", at)
    return {"ids": ids, "train_a": train_a, "train_b": train_b, "recent": recent, "repost": repost}


def test_export_partitions_by_the_fixed_split_and_keeps_provenance(ctx, reviewed):
    out = export_reviews(ctx.db, labelled=read_labelled(labelled_files(ctx.settings.data_dir))[0])
    assert all(split_of(r["id"]) == "train" for r in out.train)
    assert [r["text"] for r in out.recent] == ["Когда откроют запись в первый класс в школе 12?"]
    assert out.in_data == 1 and out.same_text == 1
    waste = next(r for r in out.train if "мусор" in r["text"])
    assert waste["topic"] == "ecology_waste"
    assert waste["provenance"]["decided_by"] == "moderator"
    assert waste["provenance"]["model_version"] == ctx.pipeline.version
    assert waste["provenance"]["reviews"][0]["at"].startswith("2026-11-16T05:00")


def test_conflicting_reviews_are_reported_and_the_latest_wins_or_the_post_is_left_out(ctx, reviewed):
    post_id = reviewed["ids"][reviewed["train_b"]]
    later = ctx.clock.now()
    record_review(ctx.db, post_id, {"topic": "other"}, "admin", later)
    out = export_reviews(ctx.db)
    conflict = next(c for c in out.conflicts if c["post_id"] == post_id)
    assert conflict["label"] == "topic" and conflict["resolved"] == "other"
    assert [d["author"] for d in conflict["decisions"]] == ["moderator", "admin"]
    assert next(r for r in out.train if r["provenance"]["post_id"] == post_id)["topic"] == "other"
    skipped = export_reviews(ctx.db, on_conflict="skip")
    assert post_id not in [r["provenance"]["post_id"] for r in skipped.records]


def test_cli_writes_a_training_set_that_reads_back_and_keeps_the_test_split(ctx, reviewed, runner, tmp_path):
    post_id = reviewed["ids"][reviewed["train_b"]]
    record_review(ctx.db, post_id, {"topic": "other"}, "admin", ctx.clock.now())
    output = tmp_path / "training.jsonl"
    result = runner.invoke(cli, ["--config", str(DEMO_CONFIG), "labels", "export",
                                 "--db", str(ctx.settings.database), "--output", str(output)])
    assert result.exit_code == 0, result.output
    assert "conflict: post" in result.output and "latest review wins" in result.output
    merged, problems = read_labelled([output])
    assert problems == []
    labelled = read_labelled(labelled_files(ctx.settings.data_dir))[0]
    assert len(merged) == len(labelled) + 2
    assert [r["id"] for r in split(merged)[1]] == [r["id"] for r in split(labelled)[1]]
    recent = [json.loads(line) for line in (tmp_path / "training.recent.jsonl").read_text().splitlines()]
    assert len(recent) == 1 and recent[0]["kind"] == "question"
    assert recent[0]["provenance"]["decided_by"] == "moderator"
    assert "wrote" in result.output and "evaluation set" in result.output


def test_export_of_a_missing_database_is_a_clear_error(runner, tmp_path):
    result = runner.invoke(cli, ["--config", str(DEMO_CONFIG), "labels", "export",
                                 "--db", str(tmp_path / "none.db")])
    assert result.exit_code == 1 and "does not exist" in result.output


def test_train_learns_from_the_reviews_and_records_how_many(ctx, reviewed, runner, tmp_path):
    """The loop from moderators to models: `tsur train` adds the train share of the
    reviewed posts to data/labelled and the new version says how many it learnt from."""
    from monitor.retraining.corrections import gathered_since
    from monitor.retraining.models import learnt_until
    from nlp.registry import read_manifest, read_registry
    from tests.training import small_training

    config, sample = small_training(tmp_path)
    result = runner.invoke(cli, ["--config", str(config), "train", "--family", "svm",
                                 "--db", str(ctx.settings.database)])
    assert result.exit_code == 0, result.output
    assert "2 to train on, 1 kept for the recent-corrections set" in result.output
    version = read_registry(tmp_path / "models")["production"]["kind"]
    manifest = read_manifest(tmp_path / "models", "kind", version)
    assert manifest["corrections"] == 2
    learnt = export_reviews(ctx.db, labelled=sample).train
    assert manifest["corrections_until"] == max(r["provenance"]["decided_at"] for r in learnt)
    # /models counts as waiting only the reviews the production versions did not learn from
    since, learnt = learnt_until(tmp_path / "models")
    assert (since, learnt) == (manifest["corrections_until"], 2)
    def reviews(figures):
        return figures["confirmations"] + sum(figures["corrections"].values())

    assert reviews(gathered_since(ctx.db, since)) == 0
    assert reviews(gathered_since(ctx.db, None)) > 0
    alone = runner.invoke(cli, ["--config", str(config), "train", "--family", "svm", "--no-corrections"])
    assert alone.exit_code == 0, alone.output
    version = read_registry(tmp_path / "models")["candidates"]["kind"]
    assert read_manifest(tmp_path / "models", "kind", version)["corrections"] == 0
