"""Normalisation, tokens with offsets, and lemmas.

Tokens keep offsets into the original text, so an explanation can point at the words.
The tokenizer is one regular expression that splits the way razdel does for what
the models and the gazetteer read (words, hyphenated words such as «Ханты-Мансийск»,
numbers such as «5-а») and is ten times faster; it differs only in punctuation runs
(«!!!» gives three tokens), which carry no features. pymorphy3 gives lemmas behind a
cache, since residents repeat the same few thousand words.
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import accumulate, repeat
from typing import NamedTuple

import pymorphy3

from . import lemmas
from .caches import bounded

# The models see at most this many characters; the full text stays in the database.
MAX_MODEL_CHARS = 4000
# Words parsed and not yet handed out by `Morph.learned` (a hostile stream of made-up
# words must not grow the process).
LEARNED_LIMIT = 100_000
# Bump when `Morph._lemma` changes how it turns a parse into a lemma: lemmas kept by an
# earlier version of these rules are then not read back.
LEMMA_RULES = 1

_URL = re.compile(r"https?://\S+|www\.\S+")
_MENTION = re.compile(r"\[(?:id|club|public)\d+\|([^\]]*)\]")  # VK's [id123|Имя] mention
_MARKUP = re.compile(r"<[^<>]{1,300}>")  # pasted HTML: noise for the models
_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"[а-яёa-z0-9]", re.IGNORECASE)
# Split around tokens: the parts alternate gap, token, gap, … and their running lengths
# are the tokens' offsets, so no match object is built per token.
_TOKENS = re.compile(r"(\w+(?:[-‐‑]\w+)*|[^\w\s])")


class Token(NamedTuple):
    start: int
    stop: int
    text: str
    is_word: bool  # holds a letter or a digit (not a punctuation mark, not only emoji)


@bounded(400_000)
def _is_word(text: str) -> bool:
    return _WORD.search(text) is not None


def clean(text: str) -> str:
    """Text as the models read it: no links, VK mentions reduced to the name, ё→е."""
    text = text[:MAX_MODEL_CHARS]
    text = _MENTION.sub(r"\1", text)
    text = _MARKUP.sub(" ", text)
    text = _URL.sub(" ", text)
    text = text.replace("ё", "е").replace("Ё", "Е")
    return _SPACES.sub(" ", text).strip()


def tokenize(text: str) -> list[Token]:
    """Words (hyphenated words whole), numbers and single punctuation marks, with offsets."""
    parts = _TOKENS.split(text)
    ends = list(accumulate(map(len, parts)))
    words = parts[1::2]
    # tuple.__new__ skips NamedTuple's keyword handling: tokenizing is hot. The gaps'
    # ends (the tokens' starts) have one more entry than the tokens: the last gap.
    spans = zip(ends[0::2], ends[1::2], words, map(_is_word, words), strict=False)
    return list(map(tuple.__new__, repeat(Token), spans))


class Morph:
    """pymorphy3 behind a cache and a table built in advance (nlp.lemmas); built once
    and handed to whoever needs lemmas.

    `table`: word → lemma known without parsing; the shipped one by default. The words
    pymorphy3 had to parse are handed out by `learned` and taken back by `remember`, so
    a service can keep them across restarts (the lemmas are those of `version`)."""

    def __init__(self, analyzer: pymorphy3.MorphAnalyzer | None = None, table: dict[str, str] | None = None):
        self.analyzer = analyzer or pymorphy3.MorphAnalyzer()
        self.table = lemmas.table() if table is None else table
        meta = self.analyzer.dictionary.meta
        self.version = (f"pymorphy3 {pymorphy3.__version__}, dictionary {meta.get('source_revision')}"
                        f"/{meta.get('corpus_revision')}, rules {LEMMA_RULES}")
        self.remembered: dict[str, str] = {}  # parsed by an earlier run of the same version
        self._learned: dict[str, str] = {}  # parsed since the last `learned`
        self.lemma = bounded(300_000)(self._lemma)
        self.parse = lru_cache(maxsize=100_000)(self.analyzer.parse)

    def _lemma(self, word: str) -> str:
        known = self.table.get(word)
        if known is None:
            known = self.remembered.get(word)
        if known is not None:
            return known
        if not word.replace("-", "").isalpha():
            return word
        lemma = self.analyzer.parse(word)[0].normal_form.replace("ё", "е")
        if len(self._learned) < LEARNED_LIMIT:
            self._learned[word] = lemma
        return lemma

    def learned(self) -> dict[str, str]:
        """The words parsed since the last call, each handed out once, with their lemmas."""
        learned, self._learned = self._learned, {}
        return learned

    def remember(self, parsed: dict[str, str]) -> None:
        """Lemmas parsed by an earlier run (of this `version`): read like the table's."""
        self.remembered.update(parsed)

    def lemmas(self, tokens: list[Token]) -> list[str]:
        return [self.lemma(t.text.lower()) for t in tokens if t.is_word]


def lemma_text(text: str, morph: Morph) -> str:
    """The space-joined lemmas of a cleaned text (the input of the word features)."""
    return " ".join(morph.lemmas(tokenize(text)))
