"""The model side's contracts: the hand-rolled prediction equals scikit-learn's for both
families with and without word vectors, the `other` threshold follows a version wherever
it is loaded, and the edge cases (no texts, no known words, no threshold) hold."""

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from monitor.ingest import ingest
from monitor.ingest.post import Post
from monitor.retraining.corrections import export_id, export_reviews, gathered_since, record_review
from monitor.retraining.models import load_like
from nlp import Pipeline
from nlp.data import labelled_files, read_labelled, split, split_of
from nlp.features import Featurizer
from nlp.models import FAMILIES, TextClassifier
from nlp.pipeline import load_classifier
from nlp.registry import production_versions, read_manifest
from nlp.text import clean
from nlp.train import corrections_used, train
from nlp.vectors import DIMENSION, WordVectors

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models"
TEXTS = ["третий день нет воды в Дзержинске!!!", "Прошу принять меры по вывозу ТКО", "спасибо", "",
         "😡😡", "ыфвапр щщзхъ жвлдоу", "поставьте лавочки у поликлиники " * 40]


@pytest.fixture(scope="module")
def train_sample():
    """Every 15th message of the train split: enough for each label, quick to fit."""
    records, _ = read_labelled(labelled_files(ROOT / "data"))
    return split(records)[0][::15]


def featurizer(pipeline, with_vectors: bool) -> Featurizer:
    return Featurizer(pipeline.morph, pipeline.vectors if with_vectors else None)


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("with_vectors", [True, False])
def test_hand_rolled_probabilities_equal_predict_proba(pipeline, train_sample, family, with_vectors):
    features = featurizer(pipeline, with_vectors)
    batch = features.transform([clean(r["text"]) for r in train_sample])
    texts = features.transform([clean(t) for t in TEXTS])
    assert texts.counts[5].nnz and (not with_vectors or not texts.vectors[5].any())  # only unknown words
    for task in ("kind", "urgency"):
        classifier = TextClassifier.fit(task, batch, [r[task] for r in train_sample], family=family)
        assert classifier._fast and classifier.family == family
        assert classifier.vector_weight == (0.5 if with_vectors else 0.0)
        _, probabilities = classifier.probabilities(texts.counts, texts.sublinear, texts.vectors)
        expected = classifier.predict_proba(texts.counts, texts.vectors)
        np.testing.assert_allclose(probabilities, expected, rtol=1e-9, atol=1e-12)


def test_a_text_gets_the_same_probabilities_alone_and_in_a_batch(pipeline):
    batch = pipeline.featurizer.transform([clean(t) for t in TEXTS])
    for i, text in enumerate(TEXTS):
        alone = pipeline.featurizer.transform([clean(text)])
        for classifier in pipeline.classifiers.values():
            _, together = classifier.probabilities(batch.counts[i], vectors=batch.vectors[i : i + 1])
            _, single = classifier.probabilities(alone.counts, alone.sublinear, alone.vectors)
            np.testing.assert_allclose(single, together, rtol=1e-6)


def test_the_pipeline_labels_a_batch_of_no_texts(pipeline):
    assert pipeline.label([]) == []
    assert pipeline.label([], source_municipality=[], context=[]) == []


@pytest.mark.parametrize("family", FAMILIES)
def test_a_classifier_predicts_a_batch_of_no_texts(pipeline, train_sample, family):
    features = featurizer(pipeline, True)
    batch = features.transform([clean(r["text"]) for r in train_sample])
    classifier = TextClassifier.fit("kind", batch, [r["kind"] for r in train_sample], family=family)
    classifier.other_threshold = 0.8
    empty = features.transform([])
    assert empty.counts.shape[0] == 0 and empty.vectors.shape == (0, DIMENSION)
    results, probabilities = classifier.predict(empty)
    assert results == [] and probabilities.shape == (0, len(classifier.classes))


def test_every_load_path_applies_the_threshold_its_manifest_names(pipeline):
    versions = production_versions(MODELS)
    swapped = load_like(pipeline, MODELS, versions)
    texts = ["нет воды", "в Сарове", "а вы куда смотрите", "фото во вложении", "оплата по QR"]
    for task, version in versions.items():
        manifest = json.loads((MODELS / task / version / "manifest.json").read_text(encoding="utf-8"))
        wanted = (manifest.get("other_threshold") or {}).get("value")
        assert pipeline.classifiers[task].other_threshold == wanted
        assert swapped.classifiers[task].other_threshold == wanted
    assert swapped.vectors is pipeline.vectors
    assert [x.to_dict() for x in swapped.label(texts)] == [x.to_dict() for x in pipeline.label(texts)]


def test_a_manifest_without_an_other_threshold_lets_the_likeliest_class_win(tmp_path):
    version = production_versions(MODELS)["kind"]
    folder = tmp_path / "kind" / version
    shutil.copytree(MODELS / "kind" / version, folder)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    manifest.pop("other_threshold")
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    classifier, _ = load_classifier(tmp_path, "kind", version)
    assert classifier.other_threshold is None
    probabilities = np.array([[0.2 if c != "other" else 0.6 for c in classifier.classes]])
    assert classifier.classes[classifier.decide(probabilities)[0]] == "other"


def test_a_model_without_vectors_works_beside_models_with_them(pipeline, train_sample):
    plain = featurizer(pipeline, False)
    batch = plain.transform([clean(r["text"]) for r in train_sample])
    kind = TextClassifier.fit("kind", batch, [r["kind"] for r in train_sample])
    assert kind.vector_weight == 0.0
    mixed = Pipeline({**pipeline.classifiers, "kind": kind}, pipeline.gazetteer, pipeline.morph,
                     pipeline.versions, None, pipeline.critical_threshold, pipeline.vectors)
    assert mixed.featurizer.vectors is pipeline.vectors  # the other two still get their vectors
    texts = ["в подъезде не убирают третий месяц", "подскажите график приёма", "спасибо!"]
    expected, _ = kind.predict(plain.transform([clean(t) for t in texts]), explain=False)
    assert [x.kind for x in mixed.label(texts, explain=False)] == [label for label, _, _ in expected]


class FakeEmbedding:
    """navec's `get`: a vector for every word of the form wNNN, None for the rest."""

    def get(self, word, default=None):
        if not word.startswith("w"):
            return default
        return np.full(DIMENSION, float(word[1:]) + 1.0, dtype=np.float32)


def test_word_vectors_keep_every_row_when_the_table_grows(pipeline):
    vectors = WordVectors(pipeline.morph, FakeEmbedding())
    rows = {f"w{k}": vectors.row(f"w{k}") for k in range(3000)}
    assert len(vectors.table) >= 3000 and vectors.size == 3000
    for word, row in rows.items():
        assert vectors.table[row][0] == float(word[1:]) + 1.0
    assert vectors.row("ыфва") == -1
    means = vectors.mean([[rows["w1"], rows["w2999"], -1], [-1], []])
    np.testing.assert_allclose(np.linalg.norm(means, axis=1), [1.0, 0.0, 0.0], atol=1e-6)


def test_navec_vectors_are_decoded_in_a_batch_exactly_as_navec_decodes_one(pipeline):
    embedding = pipeline.vectors.embedding
    vectors = WordVectors(pipeline.morph, embedding)
    words = ["фонари", "подъезде", "ыфва", "двор", "управляющая"]
    rows = [vectors.row(w) for w in words]
    assert rows[2] == -1 and len(set(rows)) == len(rows)
    for word, row in zip(words, rows, strict=True):
        if row >= 0:
            known = word if embedding.get(word) is not None else pipeline.morph.lemma(word)
            np.testing.assert_array_equal(vectors.table[row], embedding.get(known))


def test_a_word_looked_up_again_after_eviction_takes_no_new_row(pipeline):
    vectors = WordVectors(pipeline.morph, FakeEmbedding())
    first = vectors.row("w7")
    vectors.row.cache_clear()  # what the 400,000-entry LRU does to a word not seen for long
    assert vectors.row("w7") == first and vectors.size == 1


def test_train_fits_with_the_vector_weight_it_is_given(tmp_path, train_sample):
    records, _ = read_labelled(labelled_files(ROOT / "data"))
    test = split(records)[1][::40]
    created = train(train_sample[::3], test, tmp_path, now=datetime(2026, 12, 7, tzinfo=UTC), vector_weight=0.25)
    assert read_manifest(tmp_path, "kind", created["kind"])["vector_weight"] == 0.25


def test_after_training_no_review_waits_that_retraining_could_not_learn(ctx):
    source, now = "vk:-100003", ctx.clock.now()
    ids = [f"-100003_8_{i}" for i in range(60)]
    shares = {share: next(i for i in ids if split_of(export_id(source, i)) == share) for share in ("train", "test")}
    texts = {shares["train"]: "Во дворе на Гайдара 5 не вывозят мусор вторую неделю",
             shares["test"]: "Когда откроют запись в первый класс в школе 12?"}
    ingest(ctx, [Post(source, key, "vk_comment", text, now - timedelta(hours=5)) for key, text in texts.items()])
    posts = {r["external_id"]: r["id"] for r in ctx.db["posts"].rows}
    record_review(ctx.db, posts[shares["train"]], {"kind": "complaint", "topic": "ecology_waste"},
                  "moderator", now - timedelta(hours=2))
    record_review(ctx.db, posts[shares["test"]], {"kind": "question", "topic": "education"},
                  "moderator", now - timedelta(hours=1))
    export = export_reviews(ctx.db)
    assert len(export.train) == 1 and len(export.recent) == 1
    latest = max(r["provenance"]["decided_at"] for r in export.records)  # weighed by `tsur train`
    since = corrections_used(export.train, latest)["corrections_until"]  # what it records
    waiting = gathered_since(ctx.db, since)
    # the recent-share review is never trained on, so retraining cannot clear it
    assert waiting["confirmations"] + sum(waiting["corrections"].values()) == 0
