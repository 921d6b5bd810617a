"""Where a message is about: gazetteer matching of municipalities.

The gazetteer is data (``data/regions/<code>-*.csv``): municipalities, their
settlements, city districts and colloquial names. Every name is expanded into its
case forms (nlp.declension: pymorphy3, or the name's ending where its reading fails), so
matching is a dictionary look-up of token n-grams, longest first. A name that is also an
ordinary word («бор») or shaped like an adjective («Белая») counts only where the text
marks it as a place; a town's adjective counts before an institution («Борская ЦРБ»).
What each name does in the message (nlp.mentions) decides which one wins.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

from . import mentions
from .declension import Decliner, adjective_forms, adjective_shaped
from .text import Morph, Token, tokenize
from .translit import cyrillic, is_latin

MAX_NGRAM = 4
READING_CACHE = 300_000  # words whose look-up form is kept
NO_CASES: frozenset[str] = frozenset()
# Words before or after a name that mark it as a place (lower case, ё→е).
PLACE_MARKERS = frozenset(
    ["г", "гор", "город", "городе", "города", "городу", "городом", "пос", "поселок", "поселке", "поселка", "п", "рп", "пгт", "с", "село", "селе", "села", "д", "деревня", "деревне", "деревни", "мкр", "микрорайон", "микрорайоне", "округ", "округе", "округа", "район", "районе", "района", "р-н", "р-не", "городской", "городского"]
)
SETTLEMENT_MARKERS = frozenset(["пос", "поселок", "поселке", "поселка", "п", "рп", "пгт", "с", "село", "селе", "села",
                                "д", "деревня", "деревне", "деревни"])
PREPOSITIONS = frozenset(["в", "во", "на", "из", "под", "по", "с", "со", "у", "до", "от", "к", "около", "возле", "за"])
# Lemmas of the nouns that make a town's adjective mean the town: «Борская ЦРБ» → Бор.
INSTITUTIONS = frozenset(["црб", "црбы", "больница", "поликлиника", "роддом", "госпиталь", "администрация", "район", "округ", "водоканал", "теплосеть", "электросеть", "суд", "прокуратура", "полиция", "отдел", "управление", "мфц", "загс", "школа", "гимназия", "лицей", "техникум", "колледж", "автостанция", "автовокзал"])
# Adjectives that may stand between: «Арзамасская городская больница».
INSTITUTION_KINDS = frozenset(["городской", "районный", "центральный", "областной", "детский", "муниципальный",
                               "поселковый", "межрайонный"])
# Lemmas of the nouns that make «<прилагательное> …» a region: «Оренбургской области».
REGION_NOUNS = frozenset(["область", "обл", "край", "республика"])
_ADJECTIVE_ENDING = re.compile(r"(ая|ой|ую|ий|ый|ого|ому|ом|ые|их|ими)$")


def _stem(word: str) -> str:
    return _ADJECTIVE_ENDING.sub("", _norm(word))


@dataclass(frozen=True)
class Place:
    name: str
    municipality: str | None  # None: a place outside the region
    kind: str
    ambiguous: bool = False


@dataclass(frozen=True)
class PlaceMatch:
    place: Place
    start: int
    stop: int
    text: str
    source: str = "gazetteer"  # or "ner" when natasha's NER found the span
    role: str = mentions.PROBLEM  # or ORIGIN, ELSEWHERE (nlp.mentions)


def _norm(word: str) -> str:
    return word.lower().replace("ё", "е")


class Gazetteer:
    """Case forms of place names → places, for one region."""

    def __init__(self, region: str, morph: Morph):
        self.region = region
        self.morph = morph
        self.decliner = Decliner(morph)
        self._reading: dict[str, str] = {}  # a word of a text → its look-up form
        self.forms: dict[tuple[str, ...], list[Place]] = {}
        self.cases: dict[tuple[str, ...], frozenset[str]] = {}  # the cases each form stands in
        self.adjectives: dict[str, Place] = {}  # «борской» → Бор, before INSTITUTIONS only
        self.surrounding: dict[str, str] = {}  # town → the district named after it («под Арзамасом»)
        self.lemma_forms: dict[tuple[str, ...], list[Place]] = {}
        self.first_words: set[str] = set()
        self.longest = 1  # words in the longest name
        self.municipalities: dict[str, dict] = {}
        self.own_region_stems: set[str] = set()
        self.own_region_names: list[str] = []  # «Нижегородская область»: never a place outside

    @classmethod
    def load(cls, regions_dir: str | Path, region: str, morph: Morph | None = None) -> Gazetteer:
        regions_dir = Path(regions_dir)
        morph = morph or Morph()
        gazetteer = cls(region, morph)
        main = [p for p in regions_dir.glob(f"{region}-*.csv") if p.name.count(".") == 1]
        if not main:
            raise FileNotFoundError(f"no municipality list {region}-*.csv in {regions_dir}")
        stem = main[0].stem
        rows = _rows(main[0])
        for row in rows:
            gazetteer.municipalities[row["key"]] = row
            # A town named like an adjective («Советский») needs a place marker, like a centre.
            gazetteer.add(Place(row["key"], row["key"], "municipality",
                                row.get("center") == row["key"] and _adjective_name(row["key"])))
            if row.get("center"):
                gazetteer.add(Place(row["center"], row["key"], "center", _adjective_name(row["center"])))
            if row["key"].endswith(("ский", "цкий")):
                for word in ("район", "округ", "муниципальный округ"):
                    gazetteer.add(Place(f"{row['key']} {word}", row["key"], "district"))
                gazetteer.add_adjective(Place(row["key"], row["key"], "adjective"))
        gazetteer.surrounding = _surrounding_districts(rows)
        for row in _rows(regions_dir / f"{stem}.settlements.csv"):
            kind = row.get("kind") or "settlement"
            gazetteer.add(Place(row["name"], row["municipality"], kind, _adjective_name(row["name"])))
        for row in _rows(regions_dir / f"{stem}.aliases.csv"):
            place = Place(row["alias"], row["municipality"], row.get("kind") or "alias",
                          "ambiguous" in (row.get("note") or ""))
            gazetteer.add_adjective(place) if place.kind == "adjective" else gazetteer.add(place)
        own = _own_region_names(regions_dir, stem)
        for row in _rows(regions_dir / "outside.csv"):
            if row.get("region") != region:
                gazetteer.add(Place(row["name"], None, row.get("kind") or "outside"))
            elif row.get("kind") == "region":
                own.append(row["name"])
        gazetteer.own_region_names = list(dict.fromkeys(own))
        gazetteer.own_region_stems = {_stem(name.split()[0]) for name in own}
        for other in regions_dir.glob("*-*.csv"):
            # Another region's municipalities and their centres are places outside this one.
            if other.name.count(".") == 1 and not other.name.startswith(f"{region}-"):
                for row in _rows(other):
                    for name in {row["key"], row.get("center") or row["key"]}:
                        if tuple(_norm(name).split()) not in gazetteer.forms:
                            gazetteer.add(Place(name, None, "outside"))
        gazetteer._mark_common_words()
        return gazetteer

    def add(self, place: Place) -> None:
        for form, cases in self.decliner.name_forms(place.name).items():
            bucket = self.forms.setdefault(form, [])
            if place not in bucket:
                bucket.append(place)
            self.cases[form] = self.cases.get(form, NO_CASES) | cases
            self.first_words.add(form[0])
            self.longest = max(self.longest, len(form))
        lemmas = tuple(self.morph.lemma(w) for w in _norm(place.name).split())
        bucket = self.lemma_forms.setdefault(lemmas, [])
        if place not in bucket:
            bucket.append(place)
        self.first_words.add(lemmas[0])
        self.longest = max(self.longest, len(lemmas))

    def add_adjective(self, place: Place) -> None:
        """A town's or district's adjective in every form; a later one wins («Арзамасская
        ЦРБ» is the town's, though the district is called the same)."""
        for form in adjective_forms(_norm(place.name)):
            self.adjectives[form] = place
            self.first_words.add(form)

    def lookup(self, words: list[str]) -> Place | None:
        """The place a span of words names (any case form or its lemmas), ambiguous or not."""
        key = tuple(_norm(w) for w in words)
        if not key:
            return None
        places = self.forms.get(key)
        if not places:
            # A form the generator missed, by its lemmas; but not a street named after an
            # adjective-shaped place in another gender («на Советской», «Октябрьской»).
            places = [p for p in self.lemma_forms.get(tuple(self.morph.lemma(w) for w in key), ())
                      if not adjective_shaped(_norm(p.name).split()[-1])]
        return places[0] if places else None

    def names_no_place(self, text: str, tokens: list[Token], i: int, n: int) -> bool:
        """Whether words i..i+n-1 (word tokens) are a street, a person or a building though
        they spell a place: «ул. Горького», «на Кирова», «врач Павлова», «гостиница "Арзамас"»."""
        words = [_norm(t.text) for t in tokens]
        cases = self.cases.get(tuple(words[i: i + n]), NO_CASES)
        return mentions.after_street_word(text, tokens, i) or mentions.names_no_place(
            text, tokens, words, i, n, cases, self.morph)

    def named_spans(self, text: str, tokens: list[Token]) -> list[tuple[Token, Token]]:
        """(first, last) word token of every run of words that `lookup` knows as a place.

        NER's spans count only through `lookup`, so text outside these runs cannot
        change what NER finds: it is tagged on windows around them.
        """
        words = [t for t in tokens if t.is_word]
        texts = [t.text for t in words]
        spans = []
        for i in range(len(words)):
            if not self._may_start(texts[i]) or mentions.after_street_word(text, words, i):
                continue
            for n in range(1, min(self.longest, len(words) - i) + 1):
                if self.lookup(texts[i : i + n]) is not None:
                    spans.append((words[i], words[i + n - 1]))
        return spans

    def adjective_names(self) -> list[str]:
        """The region's own names shaped like adjectives («Белая», «Октябрьский»): they count
        as places only with a marker («в Белой», «пос. Октябрьский»), not as a shop or a hotel."""
        return sorted({p.name for places in self.forms.values() for p in places
                       if p.municipality and p.ambiguous and _adjective_name(p.name)})

    def _may_start(self, word: str) -> bool:
        word = _norm(word)
        return word in self.first_words or self.morph.lemma(word) in self.first_words

    def has_candidate(self, tokens: list[Token]) -> bool:
        """Whether a capitalised word could start one of the gazetteer's names."""
        return any(t.is_word and t.text[:1].isupper() and len(t.text) > 2 and self._may_start(t.text)
                   for t in tokens)

    def _mark_common_words(self) -> None:
        """Single-word names that are also ordinary words need a place marker."""
        for form, places in self.forms.items():
            if len(form) != 1:
                continue
            if not self.morph.analyzer.word_is_known(form[0]):
                continue  # pymorphy3 only guesses it («Сеченово»): no ordinary word
            parses = self.morph.parse(form[0])
            if any("Geox" not in p.tag and p.score > 0.2 and p.tag.POS != "ADJF" for p in parses) and not any(
                "Geox" in p.tag for p in parses[:1]
            ):
                self.forms[form] = [
                    Place(p.name, p.municipality, p.kind, True) for p in places
                ]

    def find(self, text: str, tokens: list[Token] | None = None) -> list[PlaceMatch]:
        """Every place named in the text, longest match first, left to right, with its role."""
        tokens = [t for t in (tokens or tokenize(text)) if t.is_word]
        words = list(map(self._reading.get, [t.text for t in tokens]))
        if None in words:
            words = [word if word is not None else self._read(t.text) for word, t in zip(words, tokens, strict=True)]
        matches: list[PlaceMatch] = []
        first_words, after = self.first_words, 0
        for i in [k for k, word in enumerate(words) if word in first_words]:  # most words start no name
            found = self._match_at(text, tokens, words, i) if i >= after else None
            if found is None:
                continue
            match, n = found
            if matches and match.place.kind == "district" and matches[-1].place.kind not in ("district", "municipality") \
                    and not text[matches[-1].stop: match.start].strip(" ,"):
                matches.pop()  # «деревня Лукино Семёновского округа»: the district says which Лукино
            if matches and match.role == mentions.PROBLEM and matches[-1].role != mentions.PROBLEM \
                    and mentions.joined(text, matches[-1].stop, match.start):
                match = replace(match, role=matches[-1].role)  # «рожать в Городец или Нижний»
            matches.append(match)
            after = i + n
        return matches

    def _match_at(self, text: str, tokens: list[Token], words: list[str], i: int):
        """(the match starting at word i, its length in words), or None."""
        for n in range(min(MAX_NGRAM, len(words) - i), 0, -1):
            form = tuple(words[i : i + n])
            places = self.forms.get(form)
            if n == 1 and words[i] in self.adjectives and (adjective := self._institution_adjective(words, i)):
                places, form = [adjective], (words[i],)
            if not places:
                continue
            if mentions.after_street_word(text, tokens, i):
                return None
            place = self._preferred(places, words[i - 1] if i > 0 else "")
            if place.ambiguous and place.kind != "adjective" and not self._marked(text, tokens, words, i, n):
                continue
            cases = self.cases.get(form, NO_CASES)
            if place.kind != "adjective" and mentions.names_no_place(text, tokens, words, i, n, cases, self.morph):
                return None
            if place.kind != "region" and self._in_other_region(words, i + n):
                place = Place(place.name, None, "outside")
            elif i > 0 and words[i - 1] == "под" and place.municipality in self.surrounding \
                    and place.kind in ("municipality", "center"):
                place = Place(place.name, self.surrounding[place.municipality], "surroundings")
            start, stop = tokens[i].start, tokens[i + n - 1].stop
            role = mentions.role(text, tokens, words, i, n, cases, self.morph)
            return PlaceMatch(place, start, stop, text[start:stop], role=role), n
        return None

    def _read(self, text: str) -> str:
        """A word of a text as names are looked up (cached: residents repeat their words):
        lower case, ё→е, translit in Cyrillic, and «щербинки-1» → «щербинки», a numbered
        part of a known place («Арзамас-16» is a name of its own)."""
        word = cyrillic(text.lower()) if is_latin(text) else _norm(text)
        if "-" in word and word not in self.first_words:
            base, _, number = word.rpartition("-")
            if number.isdigit() and base in self.first_words:
                word = base
        if len(self._reading) > READING_CACHE:
            self._reading.clear()
        self._reading[text] = word
        return word

    @staticmethod
    def _preferred(places: list[Place], before: str) -> Place:
        """The first place of a name, or after «посёлок», «село»… the settlement of that name
        («посёлок Ветлужский» is not Ветлужский округ)."""
        if before in SETTLEMENT_MARKERS:
            return next((p for p in places if p.kind not in ("municipality", "district", "center")), places[0])
        return places[0]

    def _institution_adjective(self, words: list[str], i: int) -> Place | None:
        """«Борская ЦРБ», «Лысковской районной больницы»: a town's adjective before an institution."""
        place = self.adjectives.get(words[i])
        if place is None or i + 1 >= len(words):
            return None
        k = i + 2 if i + 2 < len(words) and self.morph.lemma(words[i + 1]) in INSTITUTION_KINDS else i + 1
        noun = words[k] if words[k] in INSTITUTIONS else self.morph.lemma(words[k])
        if noun not in INSTITUTIONS or (place.ambiguous and noun in ("район", "округ")):
            return None
        return place


    def _in_other_region(self, words: list[str], after: int) -> bool:
        """«Первомайск Оренбургской области»: the next words name another region."""
        for k in range(after, min(after + 2, len(words) - 1)):
            stem = _stem(words[k])
            if self.morph.lemma(words[k + 1]) in REGION_NOUNS and stem.endswith(("ск", "цк")):
                return stem not in self.own_region_stems
        return False

    @staticmethod
    def _marked(text, tokens, words, i, n) -> bool:
        before = words[i - 1] if i > 0 else ""
        after = words[i + n] if i + n < len(words) else ""
        if before in PLACE_MARKERS or after in PLACE_MARKERS:
            return True
        first = tokens[i].text
        stop, start = tokens[i + n - 1].stop, tokens[i].start
        heading = text[stop : stop + 40].lstrip()[:1] in (",", ":", ".", "—", "–", "(")
        if first[:1].isupper() and heading:
            return True  # «Автозавод, ул. Веденяпина 12»: a place given as a heading
        sentence_start = i == 0 or text[max(0, start - 40) : start].rstrip()[-1:] in ".!?"
        return first[:1].isupper() and not first.isupper() and not sentence_start or (
            first[:1].isupper() and before in PREPOSITIONS
        )

    def resolve(self, text: str, tokens: list[Token] | None = None):
        """The municipality the text is about, the decisive match, and all matches.

        The places of the best role decide (nlp.mentions.DECIDING_ORDER: «у нас в …», the
        problem, a destination, an origin); when every place named is a distance or a
        comparison the text decides nothing: (None, None, matches), and the page's
        municipality is used.
        Inside-region places outvote outside ones; the most mentioned municipality wins,
        ties going to the first mention.
        """
        matches = self.find(text, tokens)
        deciding = next(([m for m in matches if m.role == role] for role in mentions.DECIDING_ORDER
                         if any(m.role == role for m in matches)), [])
        if not deciding:
            return None, None, matches
        inside = [m for m in deciding if m.place.municipality is not None]
        if len(inside) < len(deciding) and all(
            m.place.ambiguous and m.place.kind in ("district", "microdistrict") for m in inside
        ):
            # «в Тольятти, Автозаводский район»: a district name shared with the outside place.
            inside = []
        if not inside:
            return None, deciding[0], matches
        counts = Counter(m.place.municipality for m in inside)
        best = max(counts.values())
        decisive = next(m for m in inside if counts[m.place.municipality] == best)
        return decisive.place.municipality, decisive, matches


def _rows(path: Path):
    if not path.exists():
        return []
    with open(path, encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _adjective_name(name: str) -> bool:
    """«Белая», «Октябрьский», «Советский»: a one-word name shaped like an adjective is
    also a hotel, a shop, a company or a street, so it needs a place marker («Гусь-Хрустальный»
    is no such word)."""
    return " " not in name.strip() and "-" not in name and adjective_shaped(_norm(name))


def _surrounding_districts(rows: list[dict]) -> dict[str, str]:
    """Town key → the district named after it («Арзамас» → «Арзамасский»): «под Арзамасом»."""
    districts = [r for r in rows if r["key"].endswith(("ский", "цкий"))]
    out = {}
    for row in rows:
        if row in districts:
            continue
        stem = row["key"].rstrip("аеиоуыя")
        for district in districts:
            if district.get("center") == row["key"] or district["key"].startswith(stem) \
                    and len(district["key"]) - len(stem) <= 5:
                out[row["key"]] = district["key"]
    return out


def _own_region_names(regions_dir: Path, stem: str) -> list[str]:
    """The region's own name as `tsur region add --name` recorded it («Владимирская область»)."""
    path = regions_dir / f"{stem}.region.json"
    try:
        name = json.loads(path.read_text(encoding="utf-8")).get("name") if path.exists() else None
    except (OSError, ValueError):
        return []
    return [name] if name else []
