"""What a place name is doing in a message: the place of the problem, or another place.

A message often names several places: where the writer comes from («я из Арзамаса»),
where a bus goes («автобус до Выксы», «езжу в Нижний»), how far it is («до Арзамаса
150 км»), what it is compared with («как в Дзержинске»). The place of the problem
decides; a destination or an origin only when no other place is named, a distance or a
comparison never. And a name right after a title, a profession or a
kind of building or organisation is a person or a building («депутат Семёнов», «врач
Павлова», «гостиница "Арзамас"»), and a name after «ул.» or «на» in the genitive is a
street named after it («ул. Володарского», «на Горького»), not a place at all.
"""

from __future__ import annotations

import re

from .declension import adjective_shaped

HOME, PROBLEM, DESTINATION, ORIGIN, ELSEWHERE = "home", "problem", "destination", "origin", "elsewhere"

# Lemmas after which a name is a person: «депутат Семёнов», «врач Павлова». Titles that
# are followed by a place as often («глава Арзамаса», «мэр Дзержинска») are left out.
PERSON = frozenset(["депутат", "депутатка", "сенатор", "судья", "прокурор", "следователь", "участковый", "врач", "доктор", "терапевт", "хирург", "педиатр", "окулист", "невролог", "кардиолог", "стоматолог", "гинеколог", "лор", "фельдшер", "медсестра", "акушерка", "учитель", "учительница", "воспитатель", "тренер", "профессор", "академик", "писатель", "поэт", "артист", "певец", "певица", "художник", "господин", "госпожа", "гражданин", "гражданка", "товарищ", "тёзка", "фамилия"])
# Lemmas after which a name in the nominative (or in quotes) names a building or an
# organisation: «гостиница "Арзамас"», «в кинотеатре Россия»; «магазины Выксы» is a place.
BUILDING = frozenset(["клиника", "ветклиника", "салон", "студия", "агентство", "автосервис", "автосалон", "ателье", "пекарня", "кофейня", "пиццерия", "гостиница", "отель", "хостел", "мотель", "собор", "храм", "церковь", "часовня", "монастырь", "мечеть", "кинотеатр", "театр", "кафе", "ресторан", "бар", "столовая", "магазин", "супермаркет", "гипермаркет", "аптека", "тц", "трц", "тк", "стадион", "дк", "клуб", "санаторий", "пансионат", "профилакторий", "ооо", "оао", "зао", "ао", "пао", "ип", "фирма", "компания", "холдинг", "бренд", "фабрика", "фк", "хк", "команда", "газета", "журнал", "телеканал", "радио", "издательство", "ансамбль", "хор", "фестиваль", "конкурс", "жк"])
# Words before «из» that make the place the writer's origin: «я из Арзамаса».
ORIGIN_WORDS = frozenset(["я", "мы", "сам", "сама", "сами", "родом", "приехал", "приехала", "приехали", "переехал", "переехала", "переехали", "уроженец", "уроженка", "родился", "родилась", "выходец"])
# Lemmas of people who come from a place: «сестра из Сарова ездила в Дивеево».
RELATIVES = frozenset(["сестра", "брат", "мать", "мама", "папа", "отец", "сын", "дочь", "бабушка", "дедушка",
                       "друг", "подруга", "знакомый", "родственник", "родня", "коллега", "муж", "жена"])
# Lemmas of travel: «езжу в Нижний», «автобус в Выксу», «лечат в Нижнем».
MOTION = frozenset(["ехать", "ездить", "поехать", "съездить", "уехать", "выехать", "доехать", "добраться", "добираться", "везти", "возить", "отвезти", "увезти", "отправить", "отправлять", "направить", "направлять", "перевести", "переводить", "госпитализировать", "рожать", "мотаться", "гонять", "лететь", "летать", "автобус", "маршрутка", "электричка", "поезд", "рейс", "маршрут", "такси", "билет", "сторона", "направление"])
# Treatment elsewhere: «лечат его в Нижнем» (a locative, unlike a journey).
TREATMENT = frozenset(["лечить", "лечиться", "наблюдаться", "обследоваться", "оперировать"])
COMPARISON = frozenset(["чем", "отличие", "сравнению", "сравнении", "сравнение", "пример", "примеру", "подобно"])
_DISTANCE_AFTER = re.compile(r"^[\s,—-]*(?:за |в |около |примерно |почти |всего |где-то )?\d+\s*(?:км|килом)")
_DISTANCE_BEFORE = re.compile(r"\d+\s*(?:км|километр\w*)\s+(?:от|до|за)\s+$")
_INITIALS_BEFORE = re.compile(r"(?:^|\s)[А-ЯЁ]\.\s?(?:[А-ЯЁ]\.)?\s*$")
_INITIALS_AFTER = re.compile(r"^\s+[А-ЯЁ]\.\s?[А-ЯЁ]\.")
SENTENCE_END = ".!?"
AFTER_PREPOSITION = frozenset(["в", "во", "на", "из", "под", "по", "с", "со", "у", "до", "от", "к", "около",
                               "возле", "за", "через", "между"])
NEAR = 40  # characters either side of a name that its neighbours are looked for in
# Words before a name that make it a street, a river or a namesake, not the place:
# «ул. Володарского» is no Володарский округ, «река Тёша» no town.
NOT_A_PLACE_BEFORE = frozenset(
    ["ул", "улица", "улице", "улицу", "улицы", "улицей", "пр", "пр-т", "пр-кт", "просп", "проспект", "проспекте",
     "проспекта", "пер", "переулок", "переулке", "переулка", "б-р", "бульвар", "бульваре", "бульвара", "ш",
     "пл", "площадь", "площади", "проезд", "проезде", "тупик", "река", "реке",
     "реки", "реку", "рекой", "им", "имени"]
)
# After «на» or «по» a name only in the genitive is a street named after it: «на Горького».
STREET_PREPOSITIONS = frozenset(["на", "по"])
GENITIVE = frozenset(["gent", "gen2"])
# Nouns after an adjective-shaped name that make it a street or a building: «Арзамасское шоссе».
STREET_NOUNS = frozenset(["улица", "шоссе", "проспект", "переулок", "бульвар", "проезд", "тракт", "площадь",
                          "набережная", "тупик", "съезд", "собор", "храм", "церковь", "монастырь"])


def is_person_or_building(text: str, tokens, words: list[str], i: int, n: int, cases: frozenset, morph) -> bool:
    """Whether the name at words[i:i+n] names a person or a building: a title, a profession
    or a kind of building before it, a first name or initials beside it."""
    start, stop = tokens[i].start, tokens[i + n - 1].stop
    if i > 0 and words[i - 1] in AFTER_PREPOSITION:  # «в Павлове»: no title nor building between
        return bool(_INITIALS_AFTER.match(text[stop: stop + NEAR]))
    if i > 0:
        before = words[i - 1]
        lemma = morph.lemma(before)
        if before in PERSON or lemma in PERSON or _is_first_name(tokens[i - 1].text, morph):
            return True
        quoted = any(q in text[tokens[i - 1].stop: tokens[i].start] for q in "«\"“'")
        if (before in BUILDING or lemma in BUILDING) and (quoted or "nomn" in cases):
            return True
    return bool(_INITIALS_BEFORE.search(text[max(0, start - NEAR): start])
                or _INITIALS_AFTER.match(text[stop: stop + NEAR]))


def _is_first_name(word: str, morph) -> bool:
    if not word[:1].isupper() or word.isupper() or len(word) < 3:
        return False
    parses = morph.parse(word.lower())
    return bool(parses) and "Name" in parses[0].tag


def role(text: str, tokens, words: list[str], i: int, n: int, cases: frozenset, morph) -> str:
    """HOME («у нас в …»), PROBLEM, DESTINATION («еду в …», «автобус до …»), ORIGIN («я из
    …») or ELSEWHERE (a distance, a comparison).

    `cases`: the cases the matched form can be in; a destination is an accusative
    («еду в Выксу»), while «автобус в Выксе сломался» is about Выкса.
    """
    before = words[i - 1] if i > 0 else ""
    window = words[max(0, i - 4): max(0, i - 1)]
    start, stop = tokens[i].start, tokens[i + n - 1].stop
    if _DISTANCE_AFTER.match(text[stop: stop + NEAR]) or _DISTANCE_BEFORE.search(text[max(0, start - NEAR): start]):
        return ELSEWHERE
    if COMPARISON.intersection(window) or "не то что" in " ".join(window):
        return ELSEWHERE
    k = i - 3 if words[i - 2: i - 1] == ["и"] else i - 2
    if before in ("в", "во", "у", "на") and k >= 0 and words[k] == "как" \
            and text[stop: stop + NEAR].lstrip()[:1] in ("", *",.!;—)") and not _starts_sentence(text, tokens, k):
        return ELSEWHERE  # «сделайте как в Дзержинске!», not «как в Выксе записаться?»
    if before in ("в", "во", "на") and window[-2:] == ["у", "нас"] or window[-1:] == ["в"] and before == "черте":
        return HOME  # «а у нас в Володарске», «в черте Арзамаса»
    if before in ("из", "с", "со"):
        near = words[max(0, i - 3): i - 1]
        if ORIGIN_WORDS.intersection(near) or RELATIVES.intersection(morph.lemma(w) for w in near):
            return ORIGIN
    if before == "до":
        return DESTINATION
    if before in ("в", "во", "на"):
        heading_to = "accs" in cases and not cases & {"loct", "loc2"}
        lemmas = {morph.lemma(w) for w in window}
        if heading_to and MOTION.intersection(lemmas) or TREATMENT.intersection(lemmas):
            return DESTINATION
    return PROBLEM


# Which named place decides, best first; ELSEWHERE never does.
DECIDING_ORDER = (HOME, PROBLEM, DESTINATION, ORIGIN)


def _starts_sentence(text: str, tokens, k: int) -> bool:
    return k == 0 or text[max(0, tokens[k].start - NEAR): tokens[k].start].rstrip()[-1:] in SENTENCE_END


def joined(text: str, previous_stop: int, start: int) -> bool:
    """Whether two names are joined by «и», «или», a comma: «в Городец или Нижний»."""
    between = text[previous_stop:start].strip(" ,").lower()
    return between in ("", "и", "или", "либо", "и в", "или в", "либо в")


def after_street_word(text: str, words, i: int) -> bool:
    """Whether word `i` directly follows «ул.», «улица», «река», «имени»… (a dot between
    at most), or follows one with capitalised words between («ул. Маршала Казакова», «ул.
    Героя Смирнова»): then it names a street, a river or a person, not a place."""
    for k in range(i - 1, max(-1, i - 4), -1):
        if words[k].text.lower().replace("ё", "е") in NOT_A_PLACE_BEFORE:
            return text[words[k].stop : words[k + 1].start].strip() in ("", ".") and all(
                text[words[j - 1].stop : words[j].start].strip() == "" for j in range(k + 2, i + 1))
        if not words[k].text[:1].isupper():
            return False
    return False


def names_no_place(text: str, tokens, words: list[str], i: int, n: int, cases: frozenset, morph) -> bool:
    """Whether a name that spells a place is a street named after it («на Горького»,
    «Арзамасское шоссе»), a person or a building."""
    if i > 0 and words[i - 1] in STREET_PREPOSITIONS and cases and cases <= GENITIVE:
        return True
    if i + n < len(words) and morph.lemma(words[i + n]) in STREET_NOUNS \
            and adjective_shaped(morph.lemma(words[i + n - 1])):
        return True
    return is_person_or_building(text, tokens, words, i, n, cases, morph)
