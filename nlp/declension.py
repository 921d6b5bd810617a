"""Case forms of place names: pymorphy3 where its reading holds, endings where it does not.

pymorphy3 reads many settlement names as adjectives, short adjectives or surnames
(«Решётиха», «Шатки», «Пильна», «Семёнов») or a plural name as a singular genitive
(«Щербинки»), and then inflects them wrongly («решетихая»). Its reading is trusted
only when it is a noun in the nominative, of the name's number, and every form it
generates parses back to the same lemma in that case; otherwise the word is declined
by its ending, as a resident would: «в Решётихе», «из Шаток», «в Красных Баках».
"""

from __future__ import annotations

import itertools

from .text import tokenize

CASES = ("nomn", "gent", "datv", "accs", "ablt", "loct", "loc2", "gen2")
# Nominative endings of adjectives, and whether they are masculine, neuter, feminine or plural.
ADJECTIVE_ENDINGS = {"ый": "m", "ий": "m", "ой": "m", "ое": "n", "ее": "n", "ая": "f", "яя": "f",
                     "ые": "p", "ие": "p"}
_VELAR_OR_HUSHING = set("гкхжшчщ")
_PERSONAL = frozenset(["Surn", "Name", "Patr"])
# The cases a generated form may be read back in: a name with no second locative or
# genitive gets the first one, an inanimate accusative is the nominative.
_READ_AS = {case: {case} for case in CASES} | {"loc2": {"loc2", "loct"}, "gen2": {"gen2", "gent"},
                                               "accs": {"accs", "nomn"}}


def adjective_shaped(word: str) -> bool:
    return len(word) > 3 and word[-2:] in ADJECTIVE_ENDINGS


def _adjective_cases(word: str) -> list[tuple[str, ...]]:
    """An adjective in each case, in its own gender and number («большое» → «большом»)."""
    stem, ending = word[:-2], word[-2:]
    soft = ending in ("ий", "ее", "яя", "ие") and stem[-1:] not in _VELAR_OR_HUSHING
    i = "и" if soft or stem[-1:] in _VELAR_OR_HUSHING else "ы"
    if ADJECTIVE_ENDINGS[ending] == "f":
        oblique = "ей" if soft else "ой"
        return _aligned(word, oblique, oblique, "юю" if soft else "ую", oblique, oblique, stem=stem)
    if ADJECTIVE_ENDINGS[ending] == "p":
        return _aligned(word, i + "х", i + "м", word[-2:], i + "ми", i + "х", stem=stem)
    gent, datv, loct = ("его", "ему", "ем") if soft else ("ого", "ому", "ом")
    return _aligned(word, gent, datv, ending, i + "м", loct, stem=stem)


def _aligned(word, gent, datv, accs, ablt, loct, stem) -> list[tuple[str, ...]]:
    """Per CASES, the forms made of `stem` and each ending (a tuple holds alternatives)."""
    def forms(endings):
        return tuple(dict.fromkeys(stem + e for e in (endings if isinstance(endings, tuple) else (endings,))))
    return [(word,), forms(gent), forms(datv), forms(accs), forms(ablt), forms(loct), forms(loct), forms(gent)]


def by_ending(word: str) -> list[tuple[str, ...]] | None:
    """The word declined by its ending alone, or None for an ending with no rule."""
    if adjective_shaped(word):
        return _adjective_cases(word)
    last, stem = word[-1:], word[:-1]
    if len(word) < 3 or not word.isalpha():
        return None
    if last in "ое":  # Кстово, Тумботино: neuter
        return _aligned(word, "а", "у", last, "ом", "е", stem=stem)
    if last in "ая":  # Решётиха, Пильна, Ельня, Сява
        gent = "и" if last == "я" or stem[-1] in _VELAR_OR_HUSHING else "ы"
        loct = "и" if stem.endswith("и") else "е"
        ablt = ("ей", "ой") if last == "я" or stem[-1] in "жшчщц" else "ой"
        return _aligned(word, gent, loct, "ю" if last == "я" else "у", ablt, loct, stem=stem)
    if last in "иы":  # Шатки, Кулебаки, Щербинки, Печёры: plural
        cases = _aligned(word, ("", "ов"), "ам", last, "ами", "ах", stem=stem)  # Кулебак, Печёр
        if stem.endswith("к") and stem[-2:-1] not in "аеёиоуыэюя":
            cases[1] = cases[7] = (stem[:-1] + "ок", stem + "ов")  # Шатки → Шаток
        return cases
    if last == "ь":  # Урень (masculine) or Тверь (feminine)
        return _aligned(word, ("я", "и"), ("ю", "и"), "ь", ("ем", "ью"), ("е", "и"), stem=stem)
    if last not in "аеёиоуыэюяй":  # Саров, Семёнов: a masculine consonant stem
        return _aligned(word, "а", "у", "", "ом", "е", stem=word)
    return None


def adjective_forms(masculine: str) -> set[str]:
    """Every form of an adjective in every gender and number («борский» → «борской», «борскую»…)."""
    stem = masculine[:-2]
    forms: set[str] = set()
    for ending in ("ий" if stem[-1:] in _VELAR_OR_HUSHING else masculine[-2:], "ое", "ая", "ые"):
        word = stem + (ending if ending != "ые" or stem[-1:] not in _VELAR_OR_HUSHING else "ие")
        forms.update(f for case in _adjective_cases(word) for f in case)
    return forms


class Decliner:
    """Case forms of single words, each reading checked (morph: nlp.text.Morph)."""

    def __init__(self, morph):
        self.morph = morph

    def inflections(self, word: str) -> list[tuple[str, ...]]:
        """Per CASES, the forms of the word (alternatives in a tuple; itself when none)."""
        trusted = self._trusted_forms(word)
        if trusted is not None:
            return trusted
        return by_ending(word) or self._pymorphy_forms(word, self._best_parse(word)) or [(word,)] * len(CASES)

    def _best_parse(self, word: str):
        parses = self.morph.parse(word) if word.isalpha() else []
        geo = [p for p in parses if "Geox" in p.tag]
        nominative = [p for p in parses if p.tag.case == "nomn"]
        return (geo or nominative or parses or [None])[0]

    def _trusted_forms(self, word: str) -> list[tuple[str, ...]] | None:
        """pymorphy3's forms when its reading holds (a noun of the right number, round trip)."""
        if adjective_shaped(word):
            return None
        parse = self._best_parse(word)
        if (parse is None or parse.tag.POS != "NOUN" or parse.tag.case != "nomn"
                or _PERSONAL & parse.tag.grammemes or "Fixd" in parse.tag):
            return None
        plural_name = word[-1] in "иы"
        if plural_name != (parse.tag.number == "plur" or "Pltm" in parse.tag):
            return None
        forms = self._pymorphy_forms(word, parse)
        for case, (form,) in zip(CASES, forms, strict=True):
            if not any(p.normal_form == parse.normal_form and p.tag.case in _READ_AS[case]
                       for p in self.morph.parse(form)):
                return None
        return forms

    @staticmethod
    def _pymorphy_forms(word: str, parse) -> list[tuple[str, ...]] | None:
        if parse is None:
            return None
        out = []
        for case in CASES:
            form = parse.inflect({case})
            out.append(((form.word.replace("ё", "е") if form else word),))
        return out

    def name_forms(self, name: str) -> dict[tuple[str, ...], set[str]]:
        """Every case form of a name, tokenised as texts are («в Нижнем Новгороде»), with
        the cases it stands in.

        Abbreviations («НН», «Н.») and numbers stay as written; adjectives agree with the
        head noun, and the words after it stay as written («площади Минина», «Памяти
        Парижской Коммуны»); a hyphenated word is inflected whole, by its last part and by
        every part («Ханты-Мансийске», «Павлово-на-Оке»).
        """
        originals = [t.text for t in tokenize(name) if t.is_word]
        words = [w.lower().replace("ё", "е") for w in originals]
        variants: list[list[tuple[str, ...]]] = []
        head_seen = False
        for original, word in zip(originals, words, strict=True):
            fixed = (original.isupper() and len(original) <= 3) or not word.replace("-", "").isalpha()
            if fixed or head_seen or (len(words) > 1 and self._not_nominative(word)):
                variants.append([(word,)] * len(CASES))
                continue
            variants.append(self._hyphenated(word) if "-" in word else self.inflections(word))
            head_seen = not adjective_shaped(word.rsplit("-", 1)[-1])
        forms: dict[tuple[str, ...], set[str]] = {tuple(words): {"nomn"}}
        for k, case in enumerate(CASES):
            for form in itertools.product(*(v[k] for v in variants)):
                forms.setdefault(form, set()).add(case)
        return forms

    def _not_nominative(self, word: str) -> bool:
        """«Фёдоровского» in «Фёдоровского набережная»: a genitive complement, kept as is."""
        return not adjective_shaped(word) and not any(p.tag.case == "nomn" for p in self.morph.parse(word))

    def _hyphenated(self, word: str) -> list[tuple[str, ...]]:
        """A hyphenated word's forms: inflected whole, by its last part, by every part."""
        parts = word.split("-")
        inflected = [self.inflections(p) for p in parts]
        out = []
        for k in range(len(CASES)):
            forms = set(self.inflections(word)[k])
            forms.update("-".join([*parts[:-1], f]) for f in inflected[-1][k])
            forms.update("-".join(combo) for combo in itertools.product(*(i[k] for i in inflected)))
            out.append(tuple(sorted(forms)))
        return out
