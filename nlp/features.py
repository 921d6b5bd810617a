"""Hashed counts of lemmas and character n-grams, computed once for all three tasks.

Columns: lemma unigrams and bigrams (what a message is about, whatever the case form)
in the first block, character 2–5-grams of each token in lower case, padded with spaces
(typos, slang, word pieces pymorphy3 does not know; «?», «!» and emoji, which tell a
question or a mood) in the second. Hashing keeps
no vocabulary, so a model file stays small. Residents repeat the same few thousand
words, so everything a word contributes (lemma, columns, word-vector row) is computed
once and cached: featurising a batch is then mostly list look-ups, which is what makes
the pipeline fast on one core. The words a batch meets for the first time are gathered
and computed together: the character n-grams of all of them are hashed in one pass of
array arithmetic (`nlp/hashing.py`), not one Python call per n-gram.

The featuriser is code, not part of a model file: a model's manifest records the
`FEATURES` version it was trained with, and loading refuses a mismatch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from itertools import repeat
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from sklearn.utils import murmurhash3_32

from . import hashing
from .caches import Table, bounded
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
    # Each text's words' lemmas in order (what nlp.likeness reads of a complaint).
    lemmas: list[list[str]] = field(default_factory=list)
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


@bounded(400_000)
def _word_kind(lemma: str) -> tuple[bool, bool]:
    """(only letters, a function word) of one lemma: asked again for every new bigram.

    A term worth showing a moderator (`shown`) is words, not only function words or
    numbers: all its lemmas letters only, not all of them function words."""
    return lemma.replace("-", "").isalpha(), lemma in STOP_LEMMAS


def column(term: str) -> int:
    """The lemma column of a lemma or of a "lemma lemma" bigram."""
    return abs(murmurhash3_32(term, seed=0)) % LEMMA_FEATURES


def char_columns(tokens: list[str], lead: np.ndarray | None = None) -> list[np.ndarray]:
    """Each token's character 2–5-gram columns (the token padded with spaces), n-grams
    of all tokens hashed in one go; `lead`: one column per token to put first (its lemma's)."""
    if not tokens:
        return []
    padded = [f" {token} " for token in tokens]
    data, at = hashing.utf8("".join(padded))
    lengths = np.fromiter(map(len, padded), dtype=np.int64, count=len(padded))
    firsts = np.cumsum(lengths) - lengths  # where each padded token starts, in characters
    grams = range(CHAR_NGRAMS[0], CHAR_NGRAMS[1] + 1)
    counts = [np.maximum(lengths - n + 1, 0) for n in grams]  # of each token's n-grams, per n
    sizes = sum(counts) + (lead is not None)
    ends = np.cumsum(sizes)
    out = np.empty(ends[-1], dtype=np.int32)
    place = ends - sizes  # where each token's next column goes: its lead, then n-grams by n
    if lead is not None:
        out[place] = lead
        place += 1
    starts, stops, slots = [], [], []
    for n, count in zip(grams, counts, strict=True):
        owner = np.repeat(np.arange(len(tokens)), count)
        i = np.arange(len(owner)) - np.repeat(np.cumsum(count) - count, count)  # within its token
        starts.append(firsts[owner] + i)
        stops.append(starts[-1] + n)
        slots.append(place[owner] + i)
        place += count
    start, stop = np.concatenate(starts), np.concatenate(stops)
    hashes = hashing.murmurhash3_32(data, at[start], at[stop])
    out[np.concatenate(slots)] = LEMMA_FEATURES + hashing.columns(hashes, CHAR_FEATURES)
    bounds = ends.tolist()
    return [out[a:b] for a, b in zip([0, *bounds[:-1]], bounds, strict=True)]


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
        self._words = Table(400_000)  # word token → WordTerms
        self._pair = bounded(400_000)(self._pair_terms)
        self._marks = Table(20_000)  # «?», «!», emoji → their n-gram columns

    def _new_words(self, tokens: list[str]) -> list[WordTerms]:
        """What each new word token contributes: its lemma, its columns, whether it may
        explain a label, its vector; the columns of all of them hashed together."""
        lower = [token.lower() for token in tokens]
        lemmas = list(map(self.morph.lemma, lower))
        lemma_columns = list(map(column, lemmas))  # a few long strings: faster one by one
        grams = char_columns(lower, lead=np.array(lemma_columns, dtype=np.int32))
        shown = [letters and not stop for letters, stop in map(_word_kind, lemmas)]
        rows = list(map(self.vectors.row, lower)) if self.vectors is not None else repeat(-1)
        return list(map(WordTerms, lemmas, lemma_columns, shown, grams, rows))

    @staticmethod
    def _pair_terms(first: str, second: str) -> tuple[str, int, bool]:
        """The bigram of two lemmas, its column and whether it may explain a label."""
        bigram = f"{first} {second}"
        (letters, stop), (next_letters, next_stop) = _word_kind(first), _word_kind(second)
        return bigram, column(bigram), letters and next_letters and not (stop and next_stop)

    def transform(self, cleaned: list[str]) -> Batch:
        """Counts for texts already passed through `text.clean`.

        The batch's new words (and marks) are computed together first; then per text
        this is look-ups of cached records, and the arithmetic (summing duplicate
        columns, averaging vectors) runs once for the whole batch."""
        all_tokens = list(map(tokenize, cleaned))
        spelled = [[t.text for t in tokens if t.is_word] for tokens in all_tokens]
        marked = [[t.text for t in tokens if not t.is_word] for tokens in all_tokens]  # «?», «!», emoji
        word = self._words.lookup(spelled, self._new_words).__getitem__
        mark = self._marks.lookup(marked, char_columns).__getitem__
        texts = [list(map(word, text)) for text in spelled]
        pair = self._pair
        pieces: list[np.ndarray] = []
        indptr = [0]
        vector_rows, all_lemmas = [], []
        term_rows: list[int] = []
        term_columns: list[int] = []
        term_names: list[str] = []
        for number, (words, marks) in enumerate(zip(texts, marked, strict=True)):
            lemmas = [w.lemma for w in words]
            all_lemmas.append(lemmas)
            pairs = list(map(pair, lemmas, lemmas[1:]))
            row = [w.columns for w in words]
            row += map(mark, marks)
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
                     np.asarray(term_columns, dtype=np.int64), term_names, vectors, all_lemmas)
