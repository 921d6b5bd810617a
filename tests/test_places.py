"""Where a message is about: case forms, districts, ambiguity, other regions, region 86."""

import json

import pytest

from monitor.cli import cli
from nlp import Pipeline
from nlp.places import Gazetteer


@pytest.mark.parametrize("text, municipality", [
    ("в Нижнем Новгороде опять перекопали улицу", "Нижний Новгород"),
    ("Нижний Новгород, Сормово: нет света", "Нижний Новгород"),
    ("под Нижним Новгородом дорога разбита", "Нижний Новгород"),
    ("в Дзержинске яма", "Дзержинск"),
    ("из Дзержинска не доехать", "Дзержинск"),
    ("за Арзамасом свалка", "Арзамас"),
    ("в Большом Болдине нет связи", "Большеболдинский"),
    ("из Большого Мурашкина автобус не пришёл", "Большемурашкинский"),
    ("в Ворсме не вывозят мусор", "Павловский"),
    ("в Кстове отключили отопление", "Нижний Новгород"),
])
def test_settlements_are_found_in_any_case_form(pipeline, text, municipality):
    [labels] = pipeline.label([text], source_municipality="Выкса")
    assert labels.municipality == municipality


@pytest.mark.parametrize("text", [
    "на Автозаводе нет света", "в Сормове прорвало трубу", "на Мещере не убирают снег",
    "Щербинки: автобус не ходит", "в Автозаводском районе ямы", "в НН опять пробки",
    "в Нижнем опять пробки", "в Н. Новгороде ямы",
])
def test_city_districts_colloquial_names_and_abbreviations_mean_nizhny(pipeline, text):
    [labels] = pipeline.label([text], source_municipality="Выкса")
    assert labels.municipality == "Нижний Новгород"


def test_a_common_word_is_not_a_place(pipeline):
    forest, floor, town = pipeline.label(
        ["сосновый бор вырубают", "на нижний этаж течёт вода", "В Бору опять нет воды"], source_municipality=None)
    assert forest.municipality is None and floor.municipality is None
    assert town.municipality == "Бор"


def test_ner_marks_a_sentence_initial_ambiguous_name_as_a_place(pipeline):
    [labels] = pipeline.label(["Бор опять без воды третий день"], source_municipality=None)
    assert labels.municipality == "Бор"
    assert "NER" in labels.explanations["municipality"]


@pytest.mark.parametrize("text", [
    "в Москве такого бардака нет",
    "у сестры в Первомайске Оренбургской области то же самое",
    "в Тольятти в Автозаводском районе тоже ямы",
    "в Казани давно сделали",
])
def test_a_place_outside_the_region_gives_no_municipality(pipeline, text):
    [labels] = pipeline.label([text], source_municipality="Арзамас")
    assert labels.municipality is None
    assert "за пределами региона" in labels.explanations["municipality"]


def test_the_region_itself_does_not_make_a_place_outside(pipeline):
    [labels] = pipeline.label(["Первомайск Нижегородской области, нет воды"], source_municipality=None)
    assert labels.municipality == "Первомайск"


def test_the_text_wins_over_the_page_and_the_page_fills_in(pipeline):
    named, unnamed = pipeline.label(["в Дзержинске яма", "во дворе яма"], source_municipality="Арзамас")
    assert (named.municipality, unnamed.municipality) == ("Дзержинск", "Арзамас")
    assert "страницы" in unnamed.explanations["municipality"]


def test_the_gazetteer_of_region_52_knows_400_settlements(pipeline):
    gazetteer = pipeline.gazetteer
    inside = {p.name for places in gazetteer.forms.values() for p in places if p.municipality}
    assert len(inside) >= 400


def test_region_86_is_a_gazetteer_of_its_own(settings):
    gazetteer = Gazetteer.load(settings.data_dir / "regions", "86")
    assert gazetteer.resolve("в Сургуте нет воды")[0] == "Сургут"
    assert gazetteer.resolve("Вартовск опять без света")[0] == "Нижневартовск"
    assert gazetteer.resolve("в Нижнем Новгороде нет воды")[0] is None


def test_region_86_works_by_switching_the_config_only(tmp_path, runner, settings):
    config = tmp_path / "tsur.toml"
    config.write_text(
        '[region]\ncode = "86"\ntimezone = "Asia/Yekaterinburg"\n\n'
        f'[paths]\ndata = "{settings.data_dir}"\nmodels = "{settings.models_dir}"\n', encoding="utf-8")
    lines = [{"id": "1", "text": "в Нефтеюганске третий день нет горячей воды", "source": "vk_comment",
              "source_municipality": None},
             {"id": "2", "text": "во дворе яма", "source": "vk_comment", "source_municipality": "Сургут"},
             {"id": "3", "text": "в Дзержинске яма", "source": "vk_comment", "source_municipality": "Сургут"}]
    result = runner.invoke(cli, ["--config", str(config), "classify"],
                           input="\n".join(json.dumps(x, ensure_ascii=False) for x in lines))
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.output.splitlines()]
    assert [o["municipality"] for o in out] == ["Нефтеюганск", "Сургут", None]


def test_pipeline_for_region_86_loads_the_same_models(settings):
    pipeline = Pipeline.load(settings.models_dir, region="86", regions_dir=settings.data_dir / "regions",
                             ner=False)
    [labels] = pipeline.label(["в Ханты-Мансийске отключили свет"])
    assert labels.municipality == "Ханты-Мансийск"


def test_ner_reads_only_a_window_around_the_candidate_and_maps_offsets_back(pipeline, monkeypatch):
    """A long appeal: NER sees a few words around «Бор», and the match points into the full text."""
    seen = []
    tag = pipeline.ner.locations_many
    monkeypatch.setattr(pipeline.ner, "locations_many", lambda texts: seen.extend(texts) or tag(texts))
    opening = "Здравствуйте. Пишу уже не первый раз, ответа так и не получил. " * 10
    text = opening + "Бор опять без воды третий день, сколько можно."
    [labels] = pipeline.label([text], source_municipality=None)
    assert labels.municipality == "Бор"
    assert "«Бор» → Бор" in labels.explanations["municipality"]
    assert seen and all(len(piece) < 150 for piece in seen)


def test_ner_is_not_run_when_no_words_could_name_a_place(pipeline, monkeypatch):
    seen = []
    monkeypatch.setattr(pipeline.ner, "locations_many", lambda texts: seen.extend(texts) or [[] for _ in texts])
    pipeline.label(["Здравствуйте, Иван Петрович! Прошу принять меры."], source_municipality=None)
    assert seen == []


@pytest.mark.parametrize("text, municipality", [
    ("на ул. Володарского яма третий месяц", "Дзержинск"),  # a street, not Володарский округ
    ("ремонт улицы Горького затянули", "Дзержинск"),  # not Горький = Нижний Новгород
    ("река Тёша разлилась, дорогу подтопило", "Дзержинск"),  # a river, not a town (nor NER's LOC)
    ("школа имени Гагарина без отопления", "Дзержинск"),
    ("дом трещит, жильцы выбежали на улицу, Вача", "Вачский"),  # the street word must touch the name
    ("в Володарске нет воды", "Володарский"),
])
def test_streets_rivers_and_namesakes_are_not_places(pipeline, text, municipality):
    [labels] = pipeline.label([text], source_municipality="Дзержинск")
    assert labels.municipality == municipality


@pytest.mark.parametrize("text, municipality", [
    ("у Чкаловской лестницы разбита плитка, ноги ломаем", "Нижний Новгород"),
    ("на площади Минина опять перекопали всё", "Нижний Новгород"),
    ("на пл. Горького не убирают снег", "Нижний Новгород"),
    ("возле Мытного рынка стихийная свалка", "Нижний Новгород"),
    ("в парке Швейцария упало дерево на дорожку", "Нижний Новгород"),
    ("на Нижне-Волжской набережной не горят фонари", "Нижний Новгород"),
    ("в ГКБ №13 нет мест, лежим в коридоре", "Нижний Новгород"),
    ("в больнице № 33 опять не работает лифт", "Нижний Новгород"),
    ("на Верхних Печёрах третий день без воды", "Нижний Новгород"),
    ("на Бурнаковке затопило подвал", "Нижний Новгород"),
    ("в Американском посёлке не ходит автобус", "Нижний Новгород"),
    ("у Московского вокзала опять раскопали тротуар", "Нижний Новгород"),
    ("в Дубёнках не чистят дороги", "Нижний Новгород"),
    ("Щербинки-2, дом 5: нет света с утра", "Нижний Новгород"),
    ("у Гребного канала валяются покрышки", "Нижний Новгород"),
    ("в Ольгино не вывозят мусор", "Нижний Новгород"),
    ("в Кстово закрыли поликлинику на ремонт", "Нижний Новгород"),
    ("в Правдинске опять нет горячей воды", "Балахнинский"),
    ("в Заволжье сломали детскую площадку", "Городецкий"),
    ("в Дзерже опять воняет", "Дзержинск"),
    ("из Дзера до города не доехать", "Дзержинск"),
    ("в Арзе опять перекопали центр", "Арзамас"),
    ("в Новинках нет ни одной школы", "Нижний Новгород"),
    ("на Стрелке сломали ограждение", "Нижний Новгород"),
    ("новинки в магазине у дома дорогие", "Шахунья"),  # ambiguous names need a marker
    ("стрелка на указателе отвалилась", "Шахунья"),
    ("солнечный луч не попадает во двор из-за стройки", "Шахунья"),
])
def test_micro_districts_landmarks_and_clippings_of_the_big_towns(pipeline, text, municipality):
    [labels] = pipeline.label([text], source_municipality="Шахунья")
    assert labels.municipality == municipality


@pytest.mark.parametrize("text, municipality", [
    ("в Решётихе опять отключили свет", "Володарский"),
    ("из Мухтолова не ходит автобус", "Ардатовский"),
    ("в Тумботине размыло дорогу", "Павловский"),
    ("в Сяве нет аптеки", "Шахунья"),
    ("в Красных Баках горит свалка", "Краснобаковский"),
    ("из Шаток в район не уехать", "Шатковский"),
    ("в Шатках нет воды", "Шатковский"),
    ("в Пильне закрыли почту", "Пильнинский"),
    ("из Вачи пишу, дорога разбита", "Вачский"),
    ("в Семёнове не убирают снег", "Семёновский"),
    ("в Большой Ельне нет газа", "Нижний Новгород"),
    ("в Починках нет педиатра", "Починковский"),
    ("в Моксе размыло мост", "Бутурлинский"),
    ("в Досчатом нет воды", "Выкса"),  # «-ое»: an adjective in form
    ("из Шиморского не ходит автобус", "Выкса"),
    ("в Ждановском отключили свет", "Нижний Новгород"),  # «-ый»
])
def test_names_pymorphy_reads_as_adjectives_or_surnames_are_declined_by_their_ending(pipeline, text, municipality):
    [labels] = pipeline.label([text], source_municipality="Выкса")
    assert labels.municipality == municipality


@pytest.mark.parametrize("text, municipality", [
    ("Борская ЦРБ закрыла хирургию на лето", "Бор"),
    ("в Кстовской больнице нет анализов", "Нижний Новгород"),
    ("Выксунская ЦРБ не берёт трубку", "Выкса"),
    ("Арзамасская городская больница — очереди по три часа", "Арзамас"),
    ("в Лысковской районной больнице нет рентгена", "Лысковский"),
    ("администрация Арзамасского района не отвечает", "Арзамасский"),
    ("на Арзамасском шоссе яма", "Кулебаки"),  # a road named after the town: the page decides
    ("ул. Арзамасская не чищена", "Кулебаки"),
])
def test_a_towns_adjective_before_an_institution_means_the_town(pipeline, text, municipality):
    [labels] = pipeline.label([text], source_municipality="Кулебаки")
    assert labels.municipality == municipality


@pytest.mark.parametrize("text, municipality", [
    ("я из Арзамаса, а у нас в Выксе нет воды", "Выкса"),
    ("в Шатках нет аптеки, до Арзамаса 60 км", "Шатковский"),
    ("в 40 км от Арзамаса, в Шатках, нет скорой", "Шатковский"),
    ("езжу на работу в Нижний, а в Бору опять нет воды", "Бор"),
    ("автобус до Арзамаса из Шатков не пришёл", "Шатковский"),
    ("в Кулебаках дороги хуже, чем в Выксе", "Кулебаки"),
    ("в отличие от Дзержинска, у нас в Володарске тротуаров нет", "Володарский"),
    ("в Дзержинске давно сделали, а у нас в Володарске даже тротуара нет", "Володарский"),
    ("сестра из Сарова ездила в Дивеево, там в поликлинике нет окулиста", "Дивеевский"),
    ("рожать теперь в Городец или Нижний, в Чкаловске роддом закрыли", "Чкаловск"),
    ("я из Арзамаса, у нас во дворе яма", "Арзамас"),  # the only place: the writer's own
    ("сделайте как в Дзержинске!", "Навашинский"),  # a comparison only: the page decides
])
def test_the_place_of_the_problem_wins_over_origins_destinations_distances_and_comparisons(
        pipeline, text, municipality):
    [labels] = pipeline.label([text], source_municipality="Навашинский")
    assert labels.municipality == municipality


@pytest.mark.parametrize("text, municipality", [
    ("депутат Семёнов обещал отремонтировать дорогу", "Выкса"),
    ("врач Павлова не принимает вторую неделю", "Выкса"),
    ("в гостинице «Арзамас» нет горячей воды", "Выкса"),
    ("ветклиника «Бор» выбрасывает отходы в общий контейнер", "Выкса"),
    ("Семёнов И. П., участковый, не выходит на связь", "Выкса"),
    ("на Горького 15 течёт крыша", "Выкса"),  # a street named after Горький, not the city
    ("на Советской яма", "Выкса"),
    ("на Октябрьской нет света третий день", "Выкса"),
    ("на Кирова прорвало трубу", "Выкса"),
    ("магазины Дзержинска закрываются в восемь", "Дзержинск"),  # the town's shops: a place
    ("у Спасского собора сломали лавку", "Выкса"),  # Спасский округ is no cathedral
    ("в кинотеатре «Арзамас» не работает вентиляция", "Выкса"),
    ("ТЦ «Нижний» закрыл парковку", "Выкса"),
])
def test_people_buildings_and_streets_named_like_places_are_no_places(pipeline, text, municipality):
    [labels] = pipeline.label([text], source_municipality="Выкса")
    assert labels.municipality == municipality


@pytest.mark.parametrize("text, municipality", [
    ("под Арзамасом устроили свалку", "Арзамасский"),  # the district named after the town
    ("в Арзамасе устроили свалку", "Арзамас"),
    ("посёлок Ветлужский, ул. Лесная: упала опора", "Краснобаковский"),  # the settlement, not the okrug
    ("деревня Лукино Семёновского округа без света", "Семёновский"),  # the district says which Лукино
])
def test_surroundings_settlements_and_their_districts(pipeline, text, municipality):
    [labels] = pipeline.label([text], source_municipality=None)
    assert labels.municipality == municipality


@pytest.mark.parametrize("text", [
    "на ул. Маршала Казакова течёт труба",  # Казаково is a village of Вачский
    "свалка шин за гаражами на улице Героя Смирнова",
    "во дворе по ул. Карла Маркса яма",
])
def test_a_street_named_after_a_person_with_a_title_is_no_place(pipeline, text):
    [labels] = pipeline.label([text], source_municipality="Нижний Новгород")
    assert labels.municipality == "Нижний Новгород"


@pytest.mark.parametrize("text, municipality", [
    ("берег Тёши в черте Арзамаса завален мусором", "Арзамас"),
    ("свалка в Мещерском лесу у кольцевой", "Нижний Новгород"),
    ("от НОРСИ опять воняет на весь район", "Нижний Новгород"),
])
def test_within_a_town_and_more_landmarks(pipeline, text, municipality):
    [labels] = pipeline.label([text], source_municipality="Навашинский")
    assert labels.municipality == municipality


@pytest.mark.parametrize("text, municipality", [
    ("voda net uzhe nedelyu v Balakhne, pomogite", "Балахнинский"),
    ("stoyu na ostanovke v Dzerzhinske, avtobusa net", "Дзержинск"),
    ("v Boru opyat net sveta", "Бор"),
    ("please fix the road", "Выкса"),  # English stays English
])
def test_place_names_written_in_translit(pipeline, text, municipality):
    [labels] = pipeline.label([text], source_municipality="Выкса")
    assert labels.municipality == municipality
