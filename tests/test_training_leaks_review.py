"""What training may see: no evaluation text comes back through the moderators' reviews,
and the features keep what the featuriser rewrite dropped (punctuation)."""

import json
from datetime import timedelta

from monitor.cli import cli
from monitor.demo import DEMO_CONFIG
from monitor.ingest import ingest
from monitor.ingest.post import Post
from monitor.retraining.corrections import export_id, record_review
from monitor.settings import DEFAULT_DATA_DIR
from nlp.data import labelled_files, read_labelled, split_of
from nlp.features import Featurizer
from nlp.registry import read_manifest, read_registry
from nlp.text import Morph, clean

SOURCE = "vk:-100003"
# Written for this test: a message of an evaluation set that a moderator also reviewed.
HOLDOUT_TEXT = "Третью неделю на Лесной 14 не горит ни один фонарь у подъездов, ходим с телефонами"


def test_a_reviewed_post_with_an_evaluation_text_is_not_trained_on(ctx, runner, tmp_path):
    data = tmp_path / "data"
    (data / "labelled").mkdir(parents=True)
    (data / "holdout").mkdir()
    (data / "regions").symlink_to(DEFAULT_DATA_DIR / "regions")
    sample = read_labelled(labelled_files(DEFAULT_DATA_DIR))[0][::12]
    (data / "labelled" / "sample.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in sample), encoding="utf-8")
    holdout = {"id": "ho-test-1", "text": HOLDOUT_TEXT, "kind": "complaint", "topic": "improvement",
               "urgency": "normal", "municipality": None}
    (data / "holdout" / "unseen.jsonl").write_text(json.dumps(holdout, ensure_ascii=False) + "\n",
                                                    encoding="utf-8")
    external = next(f"-100003_7_{i}" for i in range(100) if split_of(export_id(SOURCE, f"-100003_7_{i}")) == "train")
    now = ctx.clock.now()
    ingest(ctx, [Post(SOURCE, external, "vk_comment", HOLDOUT_TEXT, now - timedelta(hours=2))])
    post = next(r["id"] for r in ctx.db["posts"].rows if r["external_id"] == external)
    record_review(ctx.db, post, {"kind": "complaint", "topic": "improvement", "urgency": "normal"},
                  "moderator", now - timedelta(hours=1))
    config = tmp_path / "train.toml"
    config.write_text(DEMO_CONFIG.read_text(encoding="utf-8")
                      + f'\n[paths]\nmodels = "{tmp_path / "models"}"\ndata = "{data}"\n', encoding="utf-8")
    result = runner.invoke(cli, ["--config", str(config), "train", "--family", "svm",
                                 "--db", str(ctx.settings.database)])
    assert result.exit_code == 0, result.output
    version = read_registry(tmp_path / "models")["production"]["kind"]
    assert read_manifest(tmp_path / "models", "kind", version)["corrections"] == 0


def test_a_question_mark_changes_the_features():
    featurizer = Featurizer(Morph())
    with_mark, without = featurizer.transform([clean("когда дадут горячую воду?"),
                                               clean("когда дадут горячую воду")]).counts
    assert (with_mark != without).nnz > 0
