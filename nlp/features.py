"""Hashed counts of lemmas and character n-grams, computed once for all three tasks.

Columns: lemma unigrams and bigrams (what a message is about, whatever the case form)
in the first block, character 2–5-grams of each token in lower case, padded with spaces
(typos, slang, word pieces pymorphy3 does not know; «?», «!» and emoji, which tell a
question or a mood) in the second. Hashing keeps
no vocabulary, so a model file stays small. Residents repeat the same few thousand
words, so everything a word contributes (lemma, columns, word-vector row) is computed
once and cached: featurising a batch is then mostly list look-ups, which is what makes
the pipeline fast on one core.

The featuriser is code, not part of a model file: a model's manifest records the
`FEATURES` version it was trained with, and loading refuses a mismatch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from sklearn.utils import murmurhash3_32

from .caches import bounded
from .text import Morph, Token, tokenize
from .vectors import WordVectors

FEATURES = "lemma12-char25-v4"
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
    # What the three tasks' models compute alike from this batch (`shared`).
    _shared: dict = field(default_factory=dict, repr=False)

    def shared(self, key, compute):
        """`compute()` once per batch and key."""
        if key not in self._shared:
            self._shared[key] = compute()
        return self._shared[key]

    @cached_property
    def sublinear(self) -> sp.csr_matrix:
        """TF-IDF's sublinear term frequency, computed once for the three tasks."""
        return sublinear_counts(self.counts)

    @cached_property
    def term_positions(self) -> tuple[np.ndarray, np.ndarray]:
        """Where each explainable term sits in `sublinear` (the TF-IDF rows of every
        task share its layout): looked up once for the three explanations."""
        return term_positions(self.sublinear, self.term_rows, self.term_columns)


def term_positions(weighted, rows: np.ndarray, columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each (row, column) term sits in a CSR matrix with sorted indices, and
    whether it is there at all."""
    n_features = weighted.shape[1]
    present_rows = np.repeat(np.arange(weighted.shape[0]), np.diff(weighted.indptr))
    keys = present_rows * n_features + weighted.indices
    wanted = rows * n_features + columns
    at = np.minimum(np.searchsorted(keys, wanted), max(len(keys) - 1, 0))
    found = keys[at] == wanted if len(keys) else np.zeros(len(wanted), bool)
    return at, found


def sublinear_counts(counts) -> sp.csr_matrix:
    """1 + log(count) per feature of a count matrix."""
    counts = sp.csr_matrix(counts)
    counts.sort_indices()
    return sp.csr_matrix((np.log(counts.data) + 1.0, counts.indices, counts.indptr), shape=counts.shape)


def explainable(term: str) -> bool:
    """A term worth showing a moderator: words, not only function words or numbers."""
    kinds = [_word_kind(w) for w in term.split()]
    return all(alpha for alpha, _ in kinds) and not all(stop for _, stop in kinds)


@bounded(400_000)
def _word_kind(lemma: str) -> tuple[bool, bool]:
    """(only letters, a function word) of one lemma: asked again for every new bigram."""
    return lemma.replace("-", "").isalpha(), lemma in STOP_LEMMAS


def column(term: str) -> int:
    """The lemma column of a lemma or of a "lemma lemma" bigram."""
    return abs(murmurhash3_32(term, seed=0)) % LEMMA_FEATURES


def char_columns(token: str) -> np.ndarray:
    """The character 2–5-gram columns of a token padded with spaces (lower case)."""
    grams = char_grams(token)
    return np.fromiter(map(gram_column, grams), dtype=np.int32, count=len(grams))


def char_grams(token: str) -> list[str]:
    padded = f" {token} "
    low, high = CHAR_NGRAMS
    return [padded[i : i + n] for n in range(low, high + 1) for i in range(len(padded) - n + 1)]


@bounded(200_000)  # about 30 MB at most: n-grams of a few tens of thousands of words
def gram_column(gram: str) -> int:
    """A character n-gram's column; cached, since a new word is mostly known n-grams."""
    return LEMMA_FEATURES + abs(murmurhash3_32(gram, seed=0)) % CHAR_FEATURES


class WordTerms(NamedTuple):
    """What one word token contributes, computed once per distinct token."""

    lemma: str
    lemma_column: int
    shown: bool  # may explain a label
    columns: np.ndarray  # its lemma column and its character n-gram columns
    vector_row: int  # its row in WordVectors' table, -1 if none (or no vectors)


class Featurizer:
    """Texts → hashed counts; built once (it holds the caches) and handed around."""

    def __init__(self, morph: Morph, vectors: WordVectors | None = None):
        self.morph = morph
        self.vectors = vectors
        self._word = bounded(400_000)(self._word_terms)
        self._pair = bounded(400_000)(self._pair_terms)
        self._mark = bounded(20_000)(char_columns)

    def _word_terms(self, token: str) -> WordTerms:
        """A word token's lemma, its columns, whether it may explain a label, its vector."""
        lower = token.lower()
        lemma = self.morph.lemma(lower)
        lemma_column = column(lemma)
        columns = np.concatenate([np.array([lemma_column], dtype=np.int32), char_columns(lower)])
        row = self.vectors.row(lower) if self.vectors is not None else -1
        return WordTerms(lemma, lemma_column, explainable(lemma), columns, row)

    @staticmethod
    def _pair_terms(first: str, second: str) -> tuple[str, int, bool]:
        """The bigram of two lemmas, its column and whether it may explain a label."""
        bigram = f"{first} {second}"
        (letters, stop), (next_letters, next_stop) = _word_kind(first), _word_kind(second)
        return bigram, column(bigram), letters and next_letters and not (stop and next_stop)  # `explainable`

    def transform(self, cleaned: list[str]) -> Batch:
        """Counts for texts already passed through `text.clean`.

        Per text this is list look-ups of cached word records; the arithmetic (summing
        duplicate columns, averaging vectors) runs once for the whole batch."""
        pieces: list[np.ndarray] = []
        indptr = [0]
        all_tokens, vector_rows = [], []
        term_rows: list[int] = []
        term_columns: list[int] = []
        term_names: list[str] = []
        word, pair, mark = self._word, self._pair, self._mark
        for number, text in enumerate(cleaned):
            tokens = tokenize(text)
            words = [word(t.text) for t in tokens if t.is_word]
            lemmas = [w.lemma for w in words]
            pairs = list(map(pair, lemmas, lemmas[1:]))
            row = [w.columns for w in words]
            row += [mark(t.text) for t in tokens if not t.is_word]  # «?», «!», emoji: n-grams only
            if pairs:
                row.append(np.array([c for _, c, _ in pairs], dtype=np.int32))
            pieces += row
            indptr.append(indptr[-1] + sum(map(len, row)))
            shown = {w.lemma: w.lemma_column for w in words if w.shown}
            shown.update((name, c) for name, c, visible in pairs if visible)
            term_rows += [number] * len(shown)
            term_names += shown
            term_columns += shown.values()
            vector_rows.append([w.vector_row for w in words])
            all_tokens.append(tokens)
        indices = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int32)
        counts = sp.csr_matrix(
            (np.ones(len(indices)), indices, np.asarray(indptr, dtype=np.int64)),
            shape=(len(cleaned), N_FEATURES),
        )
        # Through CSC and back, each row's columns come out in order in two linear passes;
        # the duplicates are then adjacent and summed without sorting each row (2.4× faster).
        counts = counts.tocsc().tocsr()
        counts.sum_duplicates()
        vectors = self.vectors.mean(vector_rows) if self.vectors is not None else None
        return Batch(counts, all_tokens, np.asarray(term_rows, dtype=np.int64),
                     np.asarray(term_columns, dtype=np.int64), term_names, vectors)
