"""Danger rules: lamps, traffic lights, deadlines and praise are no fire; thanks raise nothing."""

import pytest

from nlp.pipeline import decide_urgency
from nlp.rules import danger_signal


@pytest.mark.parametrize("text", [
    "фонарь у подъезда уже горит, спасибо",
    "фонарь на столбе напротив третьего подъезда наконец горит",
    "на переходе у школы горит зелёный пять секунд, не успеваем",
    "зелёный горит пять секунд, бабушки не успевают",
    "горит срок подачи документов на субсидию, а МФЦ закрыт",
    "срок горит, а ответа из управы нет",
    "вывеска аптеки горит всю ночь прямо в окна",
    "на табло в автобусе горит ошибка, оплатить картой нельзя",
    "новая площадка во дворе — огонь!",
    "концерт на набережной вчера просто огонь 🔥",
])
def test_the_fire_rule_does_not_fire_on_light_deadlines_or_praise(text):
    assert danger_signal(text) is None


@pytest.mark.parametrize("text", [
    "наконец-то убрали сосульки над входом, молодцы",
    "Потушили пожар в сарае за десять минут, спасибо пожарным!",
    "спасибо пожарным, отстояли дом соседей",
    "Благодарю газовую службу: утечку газа нашли и устранили за час",
    "наконец-то заменили оборванный провод у остановки, молодцы",
])
def test_thanks_are_never_raised_to_critical_by_a_rule(text):
    assert danger_signal(text) is None
    assert decide_urgency(text, "complaint", 0.6, "normal", 0.5, "", 0.0)[0] != "critical"


@pytest.mark.parametrize("text, rule", [
    ("горит сарай за домом, огонь уже на заборе", "пожар"),
    ("огонь перекинулся на соседний дом", "пожар"),
    ("горит дом на Красной улице, вызвали пожарных", "пожар"),
    ("из окна третьего этажа дым, горит квартира", "пожар"),
    ("Спасибо за очередной пожар на свалке, горит третий день, дышать нечем", "пожар"),
    ("в подъезде сильно пахнет газом, примите меры. Заранее спасибо", "запах газа"),
    ("спасибо, что приехали, но оборванный провод до сих пор на земле", "провод"),
])
def test_real_dangers_still_fire_with_polite_or_sarcastic_thanks(text, rule):
    found = danger_signal(text)
    assert found is not None and found.name == rule


def test_sarcastic_thanks_for_a_danger_still_raise_it():
    found = danger_signal("Огромное спасибо котельной, что в минус тридцать батареи ледяные, а дома двое малышей")
    assert found is not None and found.name == "мороз без отопления"


@pytest.mark.parametrize("text", [
    "Фонарь у дома 15 по ул. Гайдара горит днём, всю неделю.",  # «ул.» ends no sentence
    "Прошу проверить гидранты: в случае пожара машина к дому не подъедет",
    "Пожарный водоём зарос, при пожаре воду брать неоткуда",
    "Семёнов — пожарище на месте бани никто не разбирает",
    "на освещении объездной то горит вся линия, то половина",
    "для пешеходов зелёный сигнал горит двенадцать секунд",
    "Отец после инфаркта, а талонов к кардиологу нет на месяц",
])
def test_rules_stay_quiet_on_a_fire_that_may_happen_lighting_and_a_past_illness(text):
    assert danger_signal(text) is None


@pytest.mark.parametrize("text, rule", [
    ("горит сарай на ул. Ленина, дым валит", "пожар"),
    ("Пожар в подъезде д. 5 по ул. Мира, всё в дыму", "пожар"),
    ("у соседа инфаркт, скорая не едет уже час", "угроза жизни"),
])
def test_present_dangers_still_fire_beside_addresses(text, rule):
    assert danger_signal(text).name == rule
