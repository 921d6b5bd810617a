"""Model versions, checksums, explanations and the urgency rules that moderators rely on."""

import json
import re
import shutil

import numpy as np
import pytest

from nlp import ModelError, Pipeline
from nlp.features import STOP_LEMMAS
from nlp.registry import production_versions
from nlp.rules import CRITICAL_RULES, ClueIndex, danger_signal, required_strings
from nlp.text import clean


def test_registry_names_a_production_version_of_each_task_with_card_and_metrics(settings):
    versions = production_versions(settings.models_dir)
    assert set(versions) == {"kind", "topic", "urgency"}
    for task, version in versions.items():
        folder = settings.models_dir / task / version
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        metrics = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
        card = (folder / "MODEL_CARD.md").read_text(encoding="utf-8")
        assert manifest["task"] == task and len(manifest["sha256"]) == 64
        assert "test" in metrics and "macro_f1" in metrics["test"]
        assert "## Known weaknesses" in card and "## Data" in card
        assert (folder / "model.skops").stat().st_size < 50 * 2**20


def test_a_model_with_a_bad_checksum_is_refused_with_a_clear_message(tmp_path, settings):
    models = tmp_path / "models"
    shutil.copytree(settings.models_dir, models)
    version = production_versions(models)["kind"]
    model = models / "kind" / version / "model.skops"
    model.write_bytes(model.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(ModelError, match="checksum mismatch.*retrain or restore"):
        Pipeline.load(models)


def test_a_model_trained_with_other_features_is_refused(tmp_path, settings):
    models = tmp_path / "models"
    shutil.copytree(settings.models_dir, models)
    version = production_versions(models)["topic"]
    path = models / "topic" / version / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({**manifest, "features": "old"}), encoding="utf-8")
    with pytest.raises(ModelError, match="tsur train"):
        Pipeline.load(models, ner=False)


def test_explanations_name_content_words_not_function_words(pipeline):
    texts = ["У нас в доме на Ленина уже неделю нет горячей воды, и никто не чинит",
             "Спасибо большое за новую детскую площадку во дворе!",
             "Когда начнётся запись в первый класс?"]
    for labels in pipeline.label(texts):
        for task in ("kind", "topic"):
            words = [w for term in labels.explanations[task].split(", ") for w in term.split()]
            assert words, f"no explanation for {task}"
            assert not all(w in STOP_LEMMAS for w in words)
            assert not {t for t in labels.explanations[task].split(", ")} & STOP_LEMMAS


def test_a_danger_rule_raises_a_complaint_and_names_itself(pipeline):
    [labels] = pipeline.label(["во дворе на Чкалова оборванный провод лежит на земле, искрит"])
    assert labels.kind == "complaint" and labels.urgency == "critical"
    assert "провод" in labels.explanations["urgency"]


def test_rules_never_raise_what_is_not_a_complaint(pipeline):
    [news] = pipeline.label(["Спасибо пожарным, что быстро потушили пожар на Ленина! Молодцы"])
    assert news.kind == "gratitude" and news.urgency == "low"


@pytest.mark.parametrize("text", [
    "Сосновское, на улице Ленина по вечерам горит один фонарь на весь квартал",
    "Газ еле горит по вечерам",
    "площадь Минина и Пожарского вся в ямах",
    "светофор горит зелёным три секунды",
    "батареи еле тёплые, плохо топит котельная дома",
    "положили новую плитку, сквер открыли, а она уже вся разбита",
    "руководитель управляющей компании не отвечает, качество уборки падает",
    "температура 40 у горячей воды вместо 60",
    "на азс на ленина пистолет с 95-м не работает, очередь",
    "сосульки сбили, спасибо",
])
def test_harmless_uses_of_danger_words_raise_nothing(text):
    assert danger_signal(text) is None


@pytest.mark.parametrize("rule", CRITICAL_RULES, ids=lambda r: r.name)
def test_every_danger_rule_fires_on_its_own_example(rule):
    assert danger_signal(rule.example) is not None


def test_non_complaints_are_never_urgent(pipeline):
    results = pipeline.label(["подскажите, где получить справку для садика?",
                              "поставьте лавочки у поликлиники", "ахахах 😂"])
    assert {r.urgency for r in results} == {"low"}


def test_the_hand_rolled_prediction_equals_scikit_learns(pipeline):
    """`TextClassifier.probabilities` skips the Pipeline's steps for speed: same numbers."""
    texts = [clean(t) for t in ["третий день нет воды в Дзержинске!!!", "Прошу принять меры по вывозу ТКО",
                                "спасибо", "", "😡😡", "поставьте лавочки у поликлиники " * 40]]
    batch = pipeline.featurizer.transform(texts)
    for classifier in pipeline.classifiers.values():
        assert classifier._fast
        weighted, probabilities = classifier.probabilities(batch.counts, vectors=batch.vectors)
        expected = classifier.predict_proba(batch.counts, batch.vectors)
        np.testing.assert_allclose(probabilities, expected, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(weighted.toarray(), classifier.tfidf.transform(batch.counts).toarray())


def test_explanations_of_a_batch_equal_those_of_each_text_alone(pipeline):
    texts = ["в подъезде опять шприцы, наркоманы совсем обнаглели", "спасибо за уборку двора",
             "подскажите, когда дадут горячую воду на Автозаводе?", "", "!!!"]
    together = pipeline.label(texts)
    alone = [pipeline.label([text])[0] for text in texts]
    assert [r.explanations for r in together] == [r.explanations for r in alone]
    assert "шприц" in together[0].explanations["topic"]


def test_rule_clues_are_read_off_the_pattern():
    assert required_strings(re.compile(r"\bпожар(а|е)?\b|горит|(сорвало|снесло)\W+крыш")) == (
        "горит", "несло", "орвало", "пожар")  # the longer clue of a part every match has
    assert required_strings(re.compile(r"(a|b)c?")) == ("a", "b")
    assert required_strings(re.compile(r"\w+")) is None  # nothing literal: the pattern runs on every text
    assert required_strings(re.compile(r"x?y*")) is None  # optional parts are no clue
    assert required_strings(re.compile("газ", re.IGNORECASE)) is None


@pytest.mark.parametrize("rule", CRITICAL_RULES, ids=lambda r: r.name)
def test_every_text_a_rule_matches_holds_one_of_its_clues(rule, settings):
    """The clues only skip texts the pattern cannot match: checked on every labelled text."""
    assert rule.clues, "every danger rule has clues, or it runs its pattern on every message"
    texts = [rule.example.lower()]
    for path in sorted((settings.data_dir / "labelled").glob("*.jsonl")):
        texts += [json.loads(line)["text"].lower().replace("ё", "е") for line in path.open(encoding="utf-8")]
    matched = [t for t in texts if rule.pattern.search(t)]
    assert matched
    assert all(any(clue in t for clue in rule.clues) for t in matched)


def test_alternatives_split_only_at_the_top_level():
    from nlp.rules import alternatives

    assert alternatives(r"a(b|c)|[|x]d|e\|f") == ["a(b|c)", "[|x]d", "e\\|f"]
    assert alternatives(r"[^]|]x|y") == ["[^]|]x", "y"]
    for whole in (r"(?x) a # b|c", r"(?i)a|b", r"(a)x|(b)\1", r"(?P<n>a)|(?P=n)b"):
        assert alternatives(whole) == [whole]  # a part alone would mean something else
    assert all("|".join(alternatives(rule.pattern.pattern)) == rule.pattern.pattern for rule in CRITICAL_RULES)


def test_the_clue_index_fires_the_rule_a_whole_pattern_search_fires(settings):
    """Only the alternatives whose clues a text holds are run: the same rule fires as when
    every rule's whole pattern is searched, on every labelled text and every example."""
    texts = [rule.example for rule in CRITICAL_RULES]
    for path in sorted((settings.data_dir / "labelled").glob("*.jsonl")):
        texts += [json.loads(line)["text"] for line in path.open(encoding="utf-8")]
    texts += ["провели трубу, теперь запах в квартире, газом пахнет постоянно"]  # a veto, then a later match
    index = ClueIndex(CRITICAL_RULES)
    fired = 0
    for text in texts:
        lowered = text.lower().replace("ё", "е")
        whole = next((rule for rule in CRITICAL_RULES if rule.search(lowered)), None)
        assert index.first(lowered) is whole, text
        fired += whole is not None
    assert fired > 100


def test_a_clue_inside_a_long_run_without_spaces_is_still_found():
    assert danger_signal("сарай " + "-" * 100 + "горит" + "-" * 100 + " дым валит").name == "пожар"


def test_alternatives_that_cannot_match_are_left_out_without_changing_the_leftmost_match():
    from nlp.rules import _rule

    rule = _rule("x", r"xb{30}|b+c", "x", unless="veto")
    index = ClueIndex((rule,))
    for text in ["veto x" + "b" * 60 + "c", "x" + "b" * 40, "bbbc", "veto bbbc"]:
        assert index.first(text) is (rule if rule.search(text) else None), text


def test_a_new_version_sorts_after_every_older_one(tmp_path):
    from datetime import UTC, datetime

    from nlp.registry import new_version, versions

    for name in ("20261123.2", "20261123.9", "20261122.14"):
        (tmp_path / "kind" / name).mkdir(parents=True)
        (tmp_path / "kind" / name / "manifest.json").write_text("{}")
    assert new_version(tmp_path, "kind", datetime(2026, 11, 23, 12, tzinfo=UTC)) == "20261123.10"
    assert new_version(tmp_path, "kind", datetime(2026, 11, 24, 12, tzinfo=UTC)) == "20261124.1"
    assert versions(tmp_path, "kind") == ["20261122.14", "20261123.2", "20261123.9"]


def test_a_likely_danger_is_raised_at_the_models_threshold_not_below():
    from nlp.pipeline import decide_urgency

    def urgency(threshold):
        return decide_urgency("во дворе что-то странное", "complaint", 0.9, "normal", 0.6, "двор", 0.3, threshold)[0]

    assert urgency(0.25) == "critical" and urgency(0.35) == "normal"
    assert decide_urgency("что-то", "question", 0.9, "normal", 0.6, "", 0.9, 0.25)[0] == "low"


def test_the_pipeline_uses_the_threshold_its_urgency_model_was_trained_with(pipeline, settings):
    from nlp.registry import read_manifest

    manifest = read_manifest(settings.models_dir, "urgency", pipeline.versions["urgency"])
    assert pipeline.critical_threshold == manifest["critical_threshold"]["value"]


@pytest.mark.parametrize("text, rule", [
    ("пахнет газом в подъезде, газовщики бесплатно не приедут", "запах газа"),  # «бесплатно» is no payment
    ("газ в подъезде!!! у меня дети", "запах газа"),
    ("сосульки так и не сбили, висят над входом в садик", "обрушение"),
    ("ель у подъезда качается, вот-вот упадёт на машины", "обрушение"),
    ("у нас трое малышей, в доме +8, на улице под двадцать, топить нечем", "мороз без отопления"),
])
def test_dangers_without_the_obvious_words_are_caught(text, rule):
    found = danger_signal(text.lower().replace("ё", "е"))
    assert found is not None and found.name == rule


def test_a_case_insensitive_group_gives_no_clue():
    assert required_strings(re.compile(r"(?i:газ)ом")) == ("ом",)
    assert required_strings(re.compile(r"(?i:газ)")) is None


def test_other_is_chosen_only_when_the_model_is_sure():
    from nlp.models import decide

    classes = ["complaint", "other", "question"]
    probabilities = np.array([[0.30, 0.60, 0.10],   # other, but not sure enough
                              [0.05, 0.90, 0.05],   # surely other
                              [0.70, 0.20, 0.10]])
    assert list(decide(probabilities, classes, None)) == [1, 1, 0]
    assert list(decide(probabilities, classes, 0.8)) == [0, 1, 0]


def test_the_needs_reaction_threshold_puts_recall_first_then_keeps_precision():
    from nlp.train import needs_reaction_threshold

    classes = ["complaint", "other"]
    # 40 complaints: 39 the model calls complaint, one it calls other with P 0.7;
    # 10 others: 9 sure (P 0.95), one at P 0.6.
    p_other = [0.1] * 39 + [0.7] + [0.95] * 9 + [0.6]
    records = [{"kind": "complaint"}] * 40 + [{"kind": "other"}] * 10
    probabilities = np.array([[1 - p, p] for p in p_other])
    chosen = needs_reaction_threshold(probabilities, classes, records)
    # at 0.71 the hesitant complaint is kept (recall 1.0); at 0.96 the sure others would
    # be flagged too (precision 40/49 < 0.97), so the highest threshold before that wins
    assert chosen["recall"] == 1.0 and 0.7 < chosen["value"] <= 0.95
    assert chosen["precision"] == round(40 / 41, 3)


def test_word_vectors_average_known_words_and_leave_unknown_text_at_zero(pipeline):
    from nlp.text import tokenize

    vectors = pipeline.vectors
    rows = vectors.transform([tokenize("вода"), tokenize("воды"), tokenize("ыфвапр"), []])
    assert np.linalg.norm(rows[0]) == pytest.approx(1.0)
    assert rows[0] @ rows[1] > 0.5  # a case form sits near its word
    assert not rows[2].any() and not rows[3].any()


def test_unit_rows_equal_sklearn_normalize_with_empty_rows_anywhere():
    import numpy as np
    import scipy.sparse as sp
    from sklearn.preprocessing import normalize

    from nlp.models import unit_rows

    dense = np.array([[0, 0, 0], [1, 2, 0], [0, 0, 0], [0, 3, 4], [0, 0, 0]], dtype=float)
    for matrix in (sp.csr_matrix(dense), sp.csr_matrix(dense[1:4]), sp.csr_matrix(dense[:1])):
        np.testing.assert_allclose(unit_rows(matrix.data, matrix.indptr), normalize(matrix).data)
    assert len(unit_rows(np.zeros(0), np.zeros(1, dtype=np.int32))) == 0  # a batch of no texts
