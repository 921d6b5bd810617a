"""Repeats: paraphrases of an open incident are linked to it, other problems are not."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from test_lifecycle import make_incident, wf  # noqa: F401 (the workflow fixture)

from monitor.cli import cli
from monitor.incidents.lifecycle import act
from monitor.incidents.repeat_quality import evaluate, read_pairs
from monitor.incidents.repeats import Place, Similarity, place_relation
from monitor.incidents.states import TransitionError
from monitor.ingest import ingest
from monitor.ingest.post import Post
from nlp import Labels
from nlp.likeness import Problem

N = iter(range(1, 10_000))


def say(ctx, text, topic="housing", municipality="Дзержинск", source="vk:-100003"):
    ctx.pipeline.labels = Labels("complaint", topic, municipality, "normal", {})
    n = next(N)
    ctx.clock.advance(timedelta(minutes=7))
    return ingest(ctx, [Post(source, f"-100003_5_{n}", "vk_comment", text, ctx.clock.now(),
                             author_id=str(1000 + n))])


PARAPHRASES = [
    ("housing",
     "Третий день нет горячей воды на Гайдара 12, УК не отвечает!",
     "На улице Гайдара, дом 12 уже трое суток отсутствует горячее водоснабжение. Когда дадут?"),
    ("roads_transport",
     "Огромная яма на проспекте Ленина у остановки Комсомольская, вчера пробил колесо",
     "На пр. Ленина возле Комсомольской остановки провал в асфальте, машины бьют диски"),
    ("ecology_waste",
     "Во дворе дома 5 по ул. Чкалова не вывозят мусор уже неделю, контейнеры переполнены",
     "Чкалова 5 — мусорные баки забиты, мусор не забирают с прошлой недели, крысы бегают"),
    ("improvement",
     "Не горят фонари на улице Пушкина, вечером идти страшно",
     "На Пушкина темно, уличное освещение не работает уже неделю"),
    ("housing",
     "Нет отопления в доме 17 по улице Маяковского, батареи холодные, дети мёрзнут",
     "Маяковского 17: батареи ледяные, в квартире +15, отопления нет"),
    ("improvement",
     "Двор на Гагарина 40 не чистят от снега, к подъезду не пройти",
     "Гагарина, 40 — сугробы во дворе по колено, дворник не появляется"),
]

DIFFERENT = [
    ("housing",  # same house, another problem
     "Третий день нет горячей воды на Гайдара 12",
     "В подъезде на Гайдара 12 сломан лифт, пожилые не могут выйти"),
    ("housing",  # same problem, another street
     "Нет горячей воды на Гайдара 12",
     "Нет горячей воды на Гагарина 40"),
    ("housing",  # same street, another house
     "Нет горячей воды на Гайдара 12",
     "Нет горячей воды на Гайдара 40"),
    ("ecology_waste",
     "Не вывозят мусор на Чкалова 5, баки переполнены",
     "На Чкалова 5 вырубили все деревья во дворе"),
    ("roads_transport",  # no place on one side and only a loose likeness
     "Автобус 101 опять отменили, на остановке толпа",
     "Огромная яма на проспекте Ленина у остановки"),
]


@pytest.mark.parametrize("topic, first, second", PARAPHRASES, ids=lambda v: v[:25])
def test_a_paraphrase_is_linked_as_a_repeat(wf, topic, first, second):  # noqa: F811
    assert say(wf, first, topic).incidents == 1
    report = say(wf, second, topic)
    assert (report.incidents, report.repeats) == (0, 1)
    [incident] = list(wf.db["incidents"].rows)
    assert incident["repeats"] == 1
    [link] = list(wf.db["incident_repeats"].rows)
    assert link["linked_by"] == "system:ingest" and link["score"] > 0


@pytest.mark.parametrize("topic, first, second", DIFFERENT, ids=lambda v: v[:25])
def test_a_different_problem_opens_its_own_incident(wf, topic, first, second):  # noqa: F811
    say(wf, first, topic)
    report = say(wf, second, topic)
    assert (report.incidents, report.repeats) == (1, 0)


def test_same_words_in_another_municipality_or_topic_are_not_repeats(wf):  # noqa: F811
    say(wf, "Третий день нет горячей воды на Гайдара 12")
    assert say(wf, "Третий день нет горячей воды на Гайдара 12", municipality="Арзамас").incidents == 1
    assert say(wf, "Третий день нет горячей воды на Гайдара 12", topic="health").incidents == 1


def test_a_closed_incident_is_not_reopened_by_a_repeat(wf):  # noqa: F811
    say(wf, "Нет горячей воды на Гайдара 12")
    act(wf, 1, "reject", "moderator", reason="not_a_problem")
    assert say(wf, "Нет горячей воды на Гайдара 12, третий день").incidents == 1


def test_repeats_are_counted_per_incident(wf):  # noqa: F811
    say(wf, "Третий день нет горячей воды на Гайдара 12, УК не отвечает!")
    for text in ("Гайдара 12 — горячей воды нет с понедельника",
                 "На Гайдара 12 отключили горячую воду и молчат",
                 "ул. Гайдара, д. 12: горячая вода отсутствует третьи сутки"):
        say(wf, text)
    assert wf.db["incidents"].count == 1
    assert wf.db["incidents"].get(1)["repeats"] == 3


def test_moderator_links_by_hand_and_unlinks_to_restore(wf):  # noqa: F811
    a = make_incident(wf, "Нет воды на Гайдара 12")
    b = make_incident(wf, "Воды нет в доме двенадцать, Гайдара")
    row = act(wf, b, "link_repeat", "moderator", repeat_of=str(a))
    assert row["status"] == "rejected"
    assert wf.db["incidents"].get(a)["repeats"] == 1
    post_b = row["post_id"]
    act(wf, a, "unlink_repeat", "moderator", post_id=str(post_b))
    assert wf.db["incidents"].get(a)["repeats"] == 0
    restored = wf.db["incidents"].get(b)
    assert restored["status"] == "new" and restored["next_due_at"]
    events = [e["event"] for e in wf.db["incident_events"].rows_where("incident_id = ?", [b])]
    assert events[-2:] == ["link_repeat", "restored"]
    with pytest.raises(TransitionError, match="не привязано как повтор"):
        act(wf, a, "unlink_repeat", "moderator", post_id=str(post_b))


def test_unlinking_an_automatic_repeat_opens_an_incident_for_it(wf):  # noqa: F811
    say(wf, "Третий день нет горячей воды на Гайдара 12, УК не отвечает!")
    say(wf, "На улице Гайдара, дом 12 уже трое суток отсутствует горячее водоснабжение")
    repeat_post = list(wf.db["incident_repeats"].rows)[0]["post_id"]
    act(wf, 1, "unlink_repeat", "moderator", post_id=str(repeat_post))
    [own] = list(wf.db["incidents"].rows_where("post_id = ?", [repeat_post]))
    assert own["status"] == "new" and own["topic"] == "housing"


@pytest.mark.parametrize("repeat_of, message", [("1", "не может быть повтором самого себя"),
                                                ("x", "не номер инцидента")])
def test_bad_manual_links_are_refused(wf, repeat_of, message):  # noqa: F811
    make_incident(wf)
    with pytest.raises(TransitionError, match=message):
        act(wf, 1, "link_repeat", "moderator", repeat_of=repeat_of)


@pytest.mark.parametrize("text, places", [
    ("Яма на ул. Гайдара, д. 12", {Place("гайдар", "12")}),
    ("На Гайдара 12 нет воды", {Place("гайдар", "12")}),
    ("дом 5 по улице Чкалова", {Place("чкалов", "5")}),
    ("на Ленинском проспекте пробка", {Place("ленинский", None)}),
    ("Автобус 101 опять не пришёл", set()),
    ("😡😡😡", set()),
])
def test_places_in_text(text, places):
    assert Similarity().places(text) == places


def test_place_relation():
    g12, g40, g = Place("гайдар", "12"), Place("гайдар", "40"), Place("гайдар", None)
    assert place_relation({g12}, {g12}) == "same"
    assert place_relation({g12}, {g}) == "same"
    assert place_relation({g12}, {g40}) == "different"
    assert place_relation({g12}, {Place("ленин", "12")}) == "different"
    assert place_relation({g12}, set()) == "unknown"


def test_an_incident_opened_outside_ingest_is_found_without_a_restart(wf):  # noqa: F811
    say(wf, "Не работает лифт на Строителей 8")  # the group is loaded now
    make_incident(wf, "Третий день нет горячей воды на Гайдара 12")  # by hand, no stored problem
    report = say(wf, "На улице Гайдара, дом 12 уже трое суток отсутствует горячее водоснабжение")
    assert (report.incidents, report.repeats) == (0, 1)


def test_an_incident_relabelled_by_a_moderator_is_found_in_its_new_topic(wf):  # noqa: F811
    say(wf, "Не работает лифт на Строителей 8")  # the housing group is held from now on
    wrong = say(wf, "Третий день нет горячей воды на Гайдара 12", topic="improvement")
    say(wf, "Не горят фонари на улице Пушкина", topic="improvement")  # the groups catch up
    assert wrong.incidents == 1
    incident_id = wf.db.execute("SELECT MAX(id) - 1 FROM incidents").fetchone()[0]
    act(wf, incident_id, "relabel", "moderator", labels={"topic": "housing"})
    report = say(wf, "На улице Гайдара, дом 12 уже трое суток отсутствует горячее водоснабжение")
    assert (report.incidents, report.repeats) == (0, 1)
    linked = wf.db.execute("SELECT incident_id FROM incident_repeats ORDER BY id DESC").fetchone()[0]
    assert linked == incident_id
    # and the group it left no longer offers it
    report = say(wf, "Нет горячей воды на Гайдара 12 третий день", topic="improvement")
    assert (report.incidents, report.repeats) == (1, 0)


def test_a_problem_keeps_what_repeats_compare_when_stored():
    problem = Similarity().read("Нет горячей воды на Гайдара 12, УК не отвечает")
    back = Problem.from_bytes(problem.to_bytes())
    assert back.places == problem.places == {Place("гайдар", "12")}
    assert back.words == problem.words and "вода" in back.words
    for stored, read in ((back.lemmas, problem.lemmas), (back.grams, problem.grams)):
        assert list(stored[0]) == list(read[0])
        assert np.allclose(stored[1], read[1], atol=1e-3)
    assert np.allclose(back.vector, problem.vector, atol=1e-3)


def test_a_batch_reads_each_problem_as_alone():
    texts = ["Нет горячей воды на Гайдара 12, УК не отвечает", "", "12 345", "😀 вода вода вода",
             "Яма на дороге по улице Ленина возле дома 5, яма глубокая", "спасибо"]
    similarity = Similarity()
    for batch, alone in zip(similarity.read_many(texts), map(similarity.read, texts), strict=True):
        assert batch.to_bytes() == alone.to_bytes()
        assert (batch.places, batch.words) == (alone.places, alone.words)
        for a, b in (batch.lemmas, alone.lemmas), (batch.grams, alone.grams):
            assert a[0].tolist() == b[0].tolist() and a[1].tolist() == b[1].tolist()
        assert batch.vector.tolist() == alone.vector.tolist()
    assert not similarity.read("").words and not similarity.read("").vector.any()


def test_problems_read_from_the_pipelines_lemmas_are_those_read_from_the_texts(pipeline):
    texts = ["Нет горячей воды на Гайдара 12, УК не отвечает!", "Ёлки во дворе спилили 😡",
             "[id123|Ольга], посмотрите https://vk.com/wall-1_2 — яма на Ленина 5", "",
             "Течёт крыша в доме 7 по ул. Чкалова. " * 200]  # past the 4,000 characters the models read
    labelled = pipeline.label_with_lemmas(texts)
    assert labelled.labels == pipeline.label(texts)
    similarity = Similarity.of(pipeline)
    given = similarity.read_many(texts, labelled.lemmas)
    assert [p.to_bytes() for p in given] == [p.to_bytes() for p in similarity.read_many(texts)]


def test_linking_on_the_labelled_pairs_is_no_worse_than_refitting_tfidf_per_post(runner):
    # measured with the TF-IDF refit over the candidates that ingest used before
    quality = evaluate(Similarity(), read_pairs())
    assert quality.precision >= 0.48 and quality.recall >= 0.31, quality.mistakes
    result = runner.invoke(cli, ["bench", "repeats"])
    assert result.exit_code == 0, result.output
    assert f"precision {quality.precision:.3f}, recall {quality.recall:.3f}" in result.output
