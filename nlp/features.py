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
from functools import cached_property, lru_cache

import numpy as np
import scipy.sparse as sp
from sklearn.utils import murmurhash3_32

from .text import Morph, Token, tokenize
from .vectors import WordVectors

FEATURES = "lemma12-char25-v2"
LEMMA_FEATURES = 2**16
CHAR_FEATURES = 2**17
N_FEATURES = LEMMA_FEATURES + CHAR_FEATURES
CHAR_NGRAMS = (2, 5)

# Function words: never shown to a moderator as the reason for a label.
STOP_LEMMAS = frozenset(  # noqa: SIM905 (a word list reads better as text)
    ["в", "во", "на", "и", "а", "но", "или", "да", "же", "ли", "бы", "не", "ни", "что", "чтобы", "это", "этот", "тот", "то", "так", "как", "вот", "уже", "еще", "у", "с", "со", "по", "к", "ко", "за", "из", "от", "до", "для", "о", "об", "про", "при", "над", "под", "без", "через", "весь", "все", "всё", "сам", "я", "ты", "он", "она", "оно", "мы", "вы", "они", "мой", "твой", "наш", "ваш", "свой", "его", "её", "их", "себя", "кто", "который", "такой", "быть", "есть", "был", "там", "тут", "здесь", "вообще", "просто", "очень", "ну", "вон", "и", "т", "д", "ещё", "ул", "г", "пр", "кв", "тот"]
)


@dataclass
class Batch:
    """Hashed counts of a batch, the tokens of each text, and its explainable terms."""

    counts: sp.csr_matrix
    tokens: list[list[Token]]
    # Lemmas and bigrams worth showing a moderator, flattened over the batch (text
    # index, column, term), for scoring every explanation of a batch at once.
    term_rows: np.ndarray
    term_columns: np.ndarray
    term_names: list[str]
    # Averaged word vectors (nlp/vectors.py), one row per text, when the featuriser has them.
    vectors: np.ndarray | None = None

    @cached_property
    def sublinear(self) -> sp.csr_matrix:
        """1 + log(count) per feature: TF-IDF's sublinear term frequency, computed once
        for the three tasks."""
        return sp.csr_matrix((np.log(self.counts.data) + 1.0, self.counts.indices, self.counts.indptr),
                             shape=self.counts.shape)


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

    def __init__(self, morph: Morph, vectors: WordVectors | None = None):
        self.morph = morph
        self.vectors = vectors
        self._word = lru_cache(maxsize=400_000)(self._word_terms)
        self._pair = lru_cache(maxsize=400_000)(self._pair_terms)
        self._chars = lru_cache(maxsize=400_000)(self._char_columns)

    def _word_terms(self, token: str) -> tuple[str, int, bool]:
        """A word token's lemma, its column and whether it may explain a label."""
        lemma = self.morph.lemma(token.lower())
        return lemma, column(lemma), explainable(lemma)

    @staticmethod
    def _pair_terms(first: str, second: str) -> tuple[str, int, bool]:
        """The same for the bigram of two lemmas."""
        bigram = f"{first} {second}"
        return bigram, column(bigram), explainable(bigram)

    @staticmethod
    def _char_columns(word: str) -> np.ndarray:
        padded = f" {word} "
        low, high = CHAR_NGRAMS
        grams = [padded[i : i + n] for n in range(low, high + 1) for i in range(len(padded) - n + 1)]
        return np.fromiter((LEMMA_FEATURES + abs(murmurhash3_32(g, seed=0)) % CHAR_FEATURES for g in grams),
                           dtype=np.int32, count=len(grams))

    def transform(self, cleaned: list[str]) -> Batch:
        """Counts for texts already passed through `text.clean`."""
        pieces: list[np.ndarray] = []
        indptr = [0]
        all_tokens, all_terms = [], []
        word, pair, chars = self._word, self._pair, self._chars
        for text in cleaned:
            tokens = tokenize(text)
            terms = [word(t.text) for t in tokens if t.is_word]
            lemmas = [lemma for lemma, _, _ in terms]
            terms += [pair(a, b) for a, b in zip(lemmas, lemmas[1:], strict=False)]
            row = [np.fromiter((c for _, c, _ in terms), dtype=np.int32, count=len(terms))]
            row += [chars(w) for w in text.lower().split()]
            pieces += row
            indptr.append(indptr[-1] + sum(map(len, row)))
            all_terms.append({term: c for term, c, shown in terms if shown})
            all_tokens.append(tokens)
        indices = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int32)
        counts = sp.csr_matrix(
            (np.ones(len(indices)), indices, np.asarray(indptr, dtype=np.int64)),
            shape=(len(cleaned), N_FEATURES),
        )
        counts.sum_duplicates()
        names = [term for terms in all_terms for term in terms]
        columns = np.fromiter((c for terms in all_terms for c in terms.values()), dtype=np.int64, count=len(names))
        rows = np.repeat(np.arange(len(all_terms), dtype=np.int64), [len(terms) for terms in all_terms])
        vectors = self.vectors.transform(all_tokens) if self.vectors is not None else None
        return Batch(counts, all_tokens, rows, columns, names, vectors)
