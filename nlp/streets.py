"""Streets and houses a resident names: «ул. Гайдара, 12», «дом 5 по Чкалова», «на Гайдара».

Repeats compare the places of two complaints, canned answers quote the first address;
both read them here. Patterns are tried in order; the ones without a street type accept
only a word that looks like a person's (or, with a house number, a place's) name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from nlp.text import Morph

# Words that are never a street (nor a problem): function words, street types, fillers.
STOP = frozenset(
    ["и", "в", "во", "на", "не", "что", "это", "как", "так", "но", "а", "или", "у", "к", "по", "с", "со", "за", "из", "от", "до", "для", "о", "об", "же", "ли", "бы", "уже", "еще", "ещё", "там", "тут", "здесь", "мы", "вы", "они", "он", "она", "оно", "я", "мой", "наш", "ваш", "весь", "все", "всё", "этот", "тот", "который", "быть", "есть", "нет", "очень", "просто", "когда", "где", "куда", "почему", "день", "два", "три", "год", "месяц", "неделя", "сутки", "уважаемый", "администрация", "пожалуйста", "просить", "помочь", "сделать", "город", "дом", "д", "ул", "пр", "пер", "улица", "проспект", "переулок", "бульвар", "шоссе", "площадь", "набережная", "проезд", "мкр", "микрорайон"]  # noqa: SIM905
)

_TYPE = (r"(?:ул(?:\.|ица|ице|ицу|ицы|ицей)|пр(?:\.|-т|осп\.|оспект\w*)|пер(?:\.|еул\w*)"
         r"|б-р|бульвар\w*|шоссе|пл(?:\.|ощад\w*)|наб(?:\.|ережн\w*)|проезд\w*"
         r"|мкр\.?|микрорайон\w*)")
_HOUSE = r"(?:,?\s*(?:д(?:ом)?\.?|№)?\s*(\d{1,4}\s?[а-яА-Я]?)\b)?"
_NAME = r"([А-ЯЁ0-9][а-яё0-9-]*)"
# (pattern, group of the street name, group of the house number)
STREET_PATTERNS = [
    (re.compile(_TYPE + r"\s+" + _NAME + _HOUSE), 1, 2),  # ул. Гайдара, 12 / проспекте Ленина
    (re.compile(r"([А-ЯЁ][а-яё-]+(?:ий|ый|ой|ом|ая|ое|ому))\s+" + _TYPE + _HOUSE), 1, 2),
    (re.compile(r"\b(?:дом\w*|д\.)\s*(\d{1,4}\s?[а-я]?)\s+по\s+(?:" + _TYPE + r"\s*)?"
                r"([А-ЯЁ][а-яё-]+)"), 2, 1),  # дом 5 по ул. Чкалова
    (re.compile(r"(?<![\w-])([А-ЯЁ][а-яё-]+),?\s*(?:д(?:ом)?\.?\s*)?(\d{1,4}\s?[а-я]?)\b"),
     1, 2),  # Гайдара 12 — only a surname-like word (see street_like)
    (re.compile(r"\b(?:[Нн]а|[Пп]о|[Уу]|[Оо]коло|[Вв]озле|[Нн]апротив)\s+([А-ЯЁ][а-яё-]+)"),
     1, None),
]
NEEDS_SURNAME = {3, 4}  # patterns without a street type: the name must look like a person's


@dataclass(frozen=True)
class Place:
    street: str  # the lemma of the street name: «гайдар»
    house: str | None  # «12а», without spaces


@dataclass(frozen=True)
class Mention:
    name: str  # the street name as written
    house: str | None
    start: int
    shown: str  # the words to quote: «ул. Гайдара, 12», «Гайдара»


@lru_cache(maxsize=1)
def default_morph() -> Morph:
    return Morph()


def street_like(morph: Morph, word: str, geo: bool) -> bool:
    """«Гайдара», «Чкалова 5»: streets named after people (or places, with a house
    number), told by pymorphy's tags; «Автобус 101» is not one."""
    marks = ("Surn", "Name", "Geox") if geo else ("Surn", "Name")
    return any(m in p.tag for p in morph.parse(word.lower())[:3] for m in marks)


def mentions(text: str, morph: Morph | None = None) -> list[Mention]:
    """Every street mention, pattern by pattern, in the order found."""
    morph = morph or default_morph()
    found = []
    for i, (pattern, name_group, house_group) in enumerate(STREET_PATTERNS):
        for m in pattern.finditer(text or ""):
            name = m.group(name_group)
            house = m.group(house_group) if house_group else None
            if i in NEEDS_SURNAME and not street_like(morph, name, geo=house is not None):
                continue
            shown = name if house_group is None else m.group(0).strip(" ,.")  # «на Гайдара»
            found.append(Mention(name, house, m.start(), shown))
    return found


def places(text: str, morph: Morph | None = None) -> set[Place]:
    """The places of a text; a street named with a house hides the same street without."""
    morph = morph or default_morph()
    found = set()
    for mention in mentions(text, morph):
        street = morph.lemma(mention.name.lower())
        if street in STOP or len(street) < 3:
            continue
        house = re.sub(r"\s", "", mention.house.lower()) if mention.house else None
        found.add(Place(street, house))
    with_house = {p.street for p in found if p.house}
    return {p for p in found if p.house or p.street not in with_house}


def first_address(text: str, morph: Morph | None = None) -> str | None:
    """The first street (and house) named in the text, as written; one with a house wins."""
    found = [(m.house is None, m.start, m.shown) for m in mentions(text, morph)]
    return min(found)[2] if found else None
