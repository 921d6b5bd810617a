"""What training may see: no evaluation text comes back through the moderators' reviews,
and the features keep what the featuriser rewrite dropped (punctuation)."""

from datetime import timedelta

from monitor.cli import cli
from monitor.ingest import ingest
from monitor.ingest.post import Post
from monitor.retraining.corrections import export_id, record_review
from nlp.data import split_of
from nlp.features import Featurizer
from nlp.registry import read_manifest, read_registry
from nlp.text import Morph, clean
from tests.training import small_training

SOURCE = "vk:-100003"
# Written for this test: a message of an evaluation set that a moderator also reviewed.
HOLDOUT_TEXT = "Третью неделю на Лесной 14 не горит ни один фонарь у подъездов, ходим с телефонами"


def test_a_reviewed_post_with_an_evaluation_text_is_not_trained_on(ctx, runner, tmp_path):
    holdout = {"id": "ho-test-1", "text": HOLDOUT_TEXT, "kind": "complaint", "topic": "improvement",
               "urgency": "normal", "municipality": None}
    config, _ = small_training(tmp_path, [holdout])
    external = next(f"-100003_7_{i}" for i in range(100) if split_of(export_id(SOURCE, f"-100003_7_{i}")) == "train")
    now = ctx.clock.now()
    ingest(ctx, [Post(SOURCE, external, "vk_comment", HOLDOUT_TEXT, now - timedelta(hours=2))])
    post = next(r["id"] for r in ctx.db["posts"].rows if r["external_id"] == external)
    record_review(ctx.db, post, {"kind": "complaint", "topic": "improvement", "urgency": "normal"},
                  "moderator", now - timedelta(hours=1))
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
