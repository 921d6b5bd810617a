"""A word → lemma table built in advance, so pymorphy3 parses only words it lacks.

A live service meets new words in almost every long appeal, and parsing one costs
about 15 µs. natasha's navec vocabulary (236,000 Cyrillic words of news text) covers
nearly all of them, so their lemmas, as `Morph` computes them, are shipped here
(`lemmas.tsv.gz`, under 1 MB) and read once per process. Rebuild the file after
upgrading pymorphy3's dictionaries, and retrain, since the models learnt those lemmas:

    python -m nlp.lemmas

Each line is a word alone (its own lemma) or «word, letters to cut, ending to add».
"""

from __future__ import annotations

import gzip
import re
from functools import cache
from pathlib import Path

PATH = Path(__file__).with_name("lemmas.tsv.gz")
_WORD = re.compile(r"[а-яё]+(?:-[а-яё]+)*")


@cache
def table(path: Path = PATH) -> dict[str, str]:
    """The shipped lemmas (empty if the file is missing: pymorphy3 then parses every word)."""
    if not path.exists():
        return {}
    lemmas = {}
    for line in gzip.decompress(path.read_bytes()).decode("utf-8").splitlines():
        word, _, rest = line.partition("\t")
        if not rest:
            lemmas[word] = word
            continue
        cut, _, ending = rest.partition("\t")
        lemmas[word] = word[: len(word) - int(cut)] + ending
    return lemmas


def encode(word: str, lemma: str) -> str:
    if lemma == word:
        return word
    same = 0
    while same < min(len(word), len(lemma)) and word[same] == lemma[same]:
        same += 1
    return f"{word}\t{len(word) - same}\t{lemma[same:]}"


def build(words, lemma) -> bytes:
    """The file's bytes for `words` (Cyrillic ones only), each lemmatised by `lemma`."""
    lines = [encode(word, lemma(word)) for word in words if _WORD.fullmatch(word)]
    return gzip.compress(("\n".join(lines) + "\n").encode("utf-8"), compresslevel=9, mtime=0)


def main() -> None:
    from .text import Morph
    from .vectors import news_embedding

    morph = Morph(table={})
    PATH.write_bytes(build(news_embedding().vocab.words, morph.lemma))
    print(f"{PATH}: {len(table.__wrapped__(PATH)):,} words")


if __name__ == "__main__":
    main()
