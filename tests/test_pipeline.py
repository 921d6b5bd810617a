import shutil

import pytest

from nlp import KINDS, TOPICS, URGENCIES, ModelError, Pipeline


def test_label_returns_every_label_with_scores_and_explanations(pipeline):
    [labels] = pipeline.label(["Третий день нет горячей воды на Гайдара в Дзержинске, УК молчит"])
    assert labels.kind == "complaint" and labels.topic == "housing"
    assert labels.municipality == "Дзержинск" and labels.urgency in URGENCIES
    assert set(labels.scores) == {"kind", "topic", "municipality", "urgency"}
    assert all(0 <= v <= 1 for v in labels.scores.values())
    assert "вода" in labels.explanations["topic"]
    assert "Дзержинске" in labels.explanations["municipality"]


@pytest.mark.parametrize("text, municipality", [
    ("В Нижнем Новгороде опять перекопали улицу", "Нижний Новгород"),
    ("на Автозаводе нет света второй день", "Нижний Новгород"),
    ("под Арзамасом дорога разбита", "Арзамасский"),  # «под <town>»: the district around it
    ("в Ворсме не вывозят мусор", "Павловский"),
    ("В Кстове отключили отопление", "Нижний Новгород"),
    ("в Большом Болдине нет связи", "Большеболдинский"),
    ("в Москве такого бардака нет", None),
])
def test_municipality_from_the_text_in_any_case_form(pipeline, text, municipality):
    [labels] = pipeline.label([text], source_municipality=None)
    assert labels.municipality == municipality


def test_the_text_place_wins_over_the_page_and_the_page_fills_in(pipeline):
    named, unnamed = pipeline.label(["в Дзержинске яма", "во дворе яма"], source_municipality="Арзамас")
    assert named.municipality == "Дзержинск"
    assert unnamed.municipality == "Арзамас"
    assert "страницы" in unnamed.explanations["municipality"]


def test_the_noun_bor_is_not_the_town_of_bor(pipeline):
    forest, town = pipeline.label(["сосновый бор вырубают", "В Бору опять нет воды"])
    assert forest.municipality is None
    assert town.municipality == "Бор"


def test_danger_rule_raises_urgency_and_names_itself(pipeline):
    [labels] = pipeline.label(["в подъезде пахнет газом"])
    assert labels.urgency == "critical"
    assert "газа" in labels.explanations["urgency"]


def test_news_about_a_fire_is_not_raised_by_the_rule(pipeline):
    [labels] = pipeline.label(["Спасибо огромное нашим коммунальщикам за быструю работу!"])
    assert labels.kind == "gratitude" and labels.urgency == "low"


@pytest.mark.parametrize("text", ["", "   ", "😡😡😡", "!!!", "нет воды " * 120_000])
def test_empty_emoji_and_huge_texts_are_labelled(pipeline, text):
    [labels] = pipeline.label([text], source_municipality="Выкса")
    assert labels.kind in KINDS and labels.topic in TOPICS and labels.urgency in URGENCIES


def test_source_municipality_per_text_must_match_the_texts(pipeline):
    with pytest.raises(ValueError, match="one value per text"):
        pipeline.label(["a", "b"], source_municipality=["Бор"])


def test_a_model_with_a_bad_checksum_is_refused(tmp_path, settings):
    models = tmp_path / "models"
    shutil.copytree(settings.models_dir, models)
    registry = (models / "registry.json").read_text()
    import json

    version = json.loads(registry)["production"]["topic"]
    model = models / "topic" / version / "model.skops"
    model.write_bytes(model.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(ModelError, match="checksum mismatch"):
        Pipeline.load(models)


def test_a_missing_registry_says_to_train(tmp_path):
    with pytest.raises(ModelError, match="tsur train"):
        Pipeline.load(tmp_path)


OUTAGE = "Плановое отключение холодной воды 18 ноября с 9 до 17 по ул. Гайдара, Белинского и Ефремова (Водоканал)."


def test_a_reply_with_an_unclear_topic_takes_the_topic_of_the_post_it_answers(pipeline):
    unclear, clear, emoji = pipeline.label(
        ["Досчатое — это стабильность 😂", "на Калинина яма огромная, когда заделают?", "😡😡"],
        context=[OUTAGE, OUTAGE, OUTAGE])
    assert unclear.topic == "housing"
    assert "тема обсуждения" in unclear.explanations["topic"]
    assert clear.topic == "roads_transport"  # a clear topic of its own wins
    assert emoji.topic == "other"
    [alone] = pipeline.label(["Досчатое — это стабильность 😂"])
    assert alone.topic == "other"


def test_context_needs_one_value_per_text(pipeline):
    with pytest.raises(ValueError, match="context"):
        pipeline.label(["a", "b"], context=[OUTAGE])


def test_a_place_named_only_for_a_distance_or_comparison_is_explained_and_the_page_decides(pipeline):
    [far] = pipeline.label(["до Арзамаса 150 км, а скорая к нам едет три часа"], source_municipality="Дивеевский")
    assert far.municipality == "Дивеевский"
    assert "«Арзамаса» — для сравнения или расстояния" in far.explanations["municipality"]
    assert "муниципалитет страницы: Дивеевский" in far.explanations["municipality"]


def test_the_shipped_lemma_table_agrees_with_pymorphy(pipeline):
    """The table (nlp/lemmas.tsv.gz) saves parsing; after pymorphy3's dictionaries change,
    rebuild it with `python -m nlp.lemmas` and retrain."""
    import random

    from nlp import lemmas
    from nlp.text import Morph

    shipped = lemmas.table()
    assert len(shipped) > 200_000
    parsing = Morph(pipeline.morph.analyzer, table={})
    sample = random.Random(7).sample(sorted(shipped), 3000) + ["фонари", "подъезде", "управляющей"]
    differ = [w for w in sample if w in shipped and parsing.lemma(w) != shipped[w]]
    assert not differ, f"rebuild nlp/lemmas.tsv.gz: {differ[:10]}"


def test_a_word_in_the_lemma_table_is_not_parsed_and_the_file_round_trips(tmp_path, pipeline):
    from nlp import lemmas
    from nlp.text import Morph

    morph = Morph(pipeline.morph.analyzer, table={"фонари": "фонарище"})
    assert morph.lemma("фонари") == "фонарище"  # the table answers first
    assert morph.lemma("подъезде") == "подъезд"  # the rest is parsed
    path = tmp_path / "lemmas.tsv.gz"
    path.write_bytes(lemmas.build(["фонари", "дом", "шёл", "abc", "во-первых"], pipeline.morph.lemma))
    assert lemmas.table.__wrapped__(path) == {"фонари": "фонарь", "дом": "дом", "шёл": "идти",
                                              "во-первых": "во-первых"}


def test_a_cache_past_its_limit_is_emptied_before_the_next_batch(pipeline):
    from nlp.caches import Table, bounded

    @bounded(limit=3)
    def double(x):
        return 2 * x

    for x in range(5):
        double(x)
    table = Table(limit=3)  # filled a batch at a time: the new keys computed in one call
    held = table.lookup([[1, 2], [2, 3, 4, 5]], lambda new: [2 * x for x in new])
    assert double.cache_info().currsize == 5 and len(table) == 5  # no bookkeeping while a batch runs
    pipeline.label(["нет воды"])
    assert double.cache_info().currsize == 0 and double(2) == 4
    assert len(table) == 0 and held[5] == 10  # a batch still reading its answer keeps it
    words = pipeline.featurizer._words
    assert words.limit >= 100_000 and len(words) > 0  # under its limit: kept
