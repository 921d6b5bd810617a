"""Hashed counts of lemmas and character n-grams, computed once for all three tasks.

Columns: lemma unigrams and bigrams (what a message is about, whatever the case form)
in the first block, character 2–5-grams of each whitespace-separated word padded with
spaces (typos, slang, word pieces pymorphy3 does not know) in the second. Hashing keeps
no vocabulary, so a model file stays small. Residents repeat the same few thousand
words, so the columns of a word are computed once and cached: featurising a batch is
then mostly list look-ups, which is what makes the pipeline fast on one core.

The featuriser is code, not part of a model file: a model's manifest records the
`FEATURES` version it was trained with, and loading refuses a mismatch.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import scipy.sparse as sp
from sklearn.utils import murmurhash3_32

from .text import Morph, Token, tokenize

FEATURES = "lemma12-char25-v2"
LEMMA_FEATURES = 2**16
CHAR_FEATURES = 2**17
N_FEATURES = LEMMA_FEATURES + CHAR_FEATURES
CHAR_NGRAMS = (2, 5)

# Function words: never shown to a moderator as the reason for a label.
STOP_LEMMAS = frozenset(  # noqa: SIM905 (a word list reads better as text)
    ["в", "во", "на", "и", "а", "но", "или", "да", "же", "ли", "бы", "не", "ни", "что", "чтобы", "это", "этот", "тот", "то", "так", "как", "вот", "уже", "еще", "у", "с", "со", "по", "к", "ко", "за", "из", "от", "до", "для", "о", "об", "про", "при", "над", "под", "без", "через", "весь", "все", "всё", "сам", "я", "ты", "он", "она", "оно", "мы", "вы", "они", "мой", "твой", "наш", "ваш", "свой", "его", "её", "их", "себя", "кто", "который", "такой", "быть", "есть", "был", "там", "тут", "здесь", "вообще", "просто", "очень", "ну", "вон", "и", "т", "д", "ещё"]
)


@dataclass
class Batch:
    """Hashed counts of a batch, the tokens and lemmas of each text, the lemma columns."""

    counts: sp.csr_matrix
    tokens: list[list[Token]]
    lemmas: list[list[str]]
    terms: list[dict[str, int]]  # per text: lemma or bigram → column, for explanations


def explainable(term: str) -> bool:
    """A term worth showing a moderator: words, not only function words or numbers."""
    words = term.split()
    if any(not w.replace("-", "").isalpha() for w in words):
        return False
    return not all(w in STOP_LEMMAS for w in words)


def column(term: str) -> int:
    """The lemma column of a lemma or of a "lemma lemma" bigram."""
    return abs(murmurhash3_32(term, seed=0)) % LEMMA_FEATURES


class Featurizer:
    """Texts → hashed counts; built once (it holds the caches) and handed around."""

    def __init__(self, morph: Morph):
        self.morph = morph
        self._column = lru_cache(maxsize=400_000)(column)
        self._chars = lru_cache(maxsize=400_000)(self._char_columns)
        self._explainable = lru_cache(maxsize=400_000)(explainable)

    @staticmethod
    def _char_columns(word: str) -> tuple[int, ...]:
        padded = f" {word} "
        low, high = CHAR_NGRAMS
        grams = [padded[i : i + n] for n in range(low, high + 1) for i in range(len(padded) - n + 1)]
        return tuple(LEMMA_FEATURES + abs(murmurhash3_32(g, seed=0)) % CHAR_FEATURES for g in grams)

    def transform(self, cleaned: list[str]) -> Batch:
        """Counts for texts already passed through `text.clean`."""
        indices: list[int] = []
        indptr = [0]
        all_tokens, all_lemmas, all_terms = [], [], []
        lemma_of = self.morph.lemma
        col = self._column
        chars = self._chars
        for text in cleaned:
            tokens = tokenize(text)
            lemmas = [lemma_of(t.text.lower()) for t in tokens if t.is_word]
            terms = [(lemma, col(lemma)) for lemma in lemmas]
            terms += [(f"{a} {b}", col(f"{a} {b}")) for a, b in zip(lemmas, lemmas[1:], strict=False)]
            indices.extend(c for _, c in terms)
            shown = self._explainable
            all_terms.append({term: c for term, c in terms if shown(term)})
            for word in text.lower().split():
                indices.extend(chars(word))
            indptr.append(len(indices))
            all_tokens.append(tokens)
            all_lemmas.append(lemmas)
        data = np.ones(len(indices), dtype=np.float64)
        counts = sp.csr_matrix(
            (data, np.asarray(indices, dtype=np.int32), np.asarray(indptr, dtype=np.int64)),
            shape=(len(cleaned), N_FEATURES),
        )
        counts.sum_duplicates()
        return Batch(counts, all_tokens, all_lemmas, all_terms)
