"""What a complaint is about and where, read once per message for repeats and spikes.

Repeats compare a new complaint with every open incident of its municipality and
topic, spikes compare the messages of a burst with each other. Refitting TF-IDF over
the texts for every comparison made ingest slower the longer a region ran, so each
message's problem is read once, when it is stored, into a `Problem`:

- its places (street and house, `nlp.streets`), which decide same / other place;
- the lemmas of what is wrong: the text without the address words, function words
  and numbers;
- those lemmas, and the character 4–5-grams of each lemma padded with spaces (they
  carry «вода» / «водоснабжение»), as sublinear counts hashed into a fixed space: a
  cosine between two messages is a sparse dot product, with no vocabulary to fit;
- the unit mean of the words' navec vectors (`nlp.vectors`), for the soft match of
  words that share no letters («сухо» / «нет воды»).

Repeats compare these as they are (cosines of unit rows: on the labelled pairs of
`tsur bench repeats` inverse document frequencies changed no decision); spikes weigh
the lemmas by their frequency within the window (`cosine_matrix`), so the word every
message of a burst shares counts less than the ones only some share.

A `Problem` packs into about a kilobyte, so the store keeps one per message.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from sklearn.utils import murmurhash3_32

from .caches import bounded
from .streets import STOP, Place, places
from .text import Morph, clean, tokenize
from .vectors import DIMENSION, WordVectors

SPACE = 2**20  # hashed columns; lemma and gram columns share it (a gram is never a lemma)
GRAMS = (4, 5)
_SEED_LEMMA, _SEED_GRAM = 11, 12


@dataclass(frozen=True)
class Problem:
    places: frozenset[Place]
    words: tuple[str, ...]  # lemmas of what is wrong, in text order
    lemmas: tuple[np.ndarray, np.ndarray]  # (columns sorted, unit weights of 1 + ln count)
    grams: tuple[np.ndarray, np.ndarray]
    vector: np.ndarray  # unit mean word vector (zeros when no word is known)

    def to_bytes(self) -> bytes:
        """Header (JSON: places, words, sizes) then the arrays; float16 weights."""
        head = json.dumps({"p": sorted([p.street, p.house] for p in self.places),
                           "w": " ".join(self.words), "l": len(self.lemmas[0]),
                           "g": len(self.grams[0])}, ensure_ascii=False).encode()
        return b"".join([struct.pack("<I", len(head)), head,
                         self.lemmas[0].astype("<u4").tobytes(), self.lemmas[1].astype("<f2").tobytes(),
                         self.grams[0].astype("<u4").tobytes(), self.grams[1].astype("<f2").tobytes(),
                         self.vector.astype("<f2").tobytes()])

    @classmethod
    def from_bytes(cls, data: bytes) -> Problem:
        (size,) = struct.unpack_from("<I", data)
        head = json.loads(data[4:4 + size])
        at = 4 + size

        def take(dtype: str, n: int) -> np.ndarray:
            nonlocal at
            array = np.frombuffer(data, dtype=dtype, count=n, offset=at)
            at += array.nbytes
            return array

        lemmas = (take("<u4", head["l"]).astype(np.int32), take("<f2", head["l"]).astype(np.float32))
        grams = (take("<u4", head["g"]).astype(np.int32), take("<f2", head["g"]).astype(np.float32))
        vector = take("<f2", DIMENSION).astype(np.float32)
        return cls(frozenset(Place(s, h) for s, h in head["p"]), tuple(head["w"].split()),
                   lemmas, grams, vector)


def _weights_per_text(owners: np.ndarray, columns: np.ndarray, n: int
                      ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per text of `n`, from its (text, column) pairs: its distinct columns (sorted) and
    their unit-length sublinear weights (1 + ln count)."""
    keys, counts = np.unique(owners * SPACE + columns, return_counts=True)
    weights = np.log(counts, dtype=np.float32) + 1.0
    bounds = np.searchsorted(keys, np.arange(n + 1) * SPACE)
    distinct = (keys % SPACE).astype(np.int32)
    return [(distinct[a:b], _unit(weights[a:b])) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


@bounded(200_000)
def _problem_word(lemma: str) -> bool:
    """Not a function word and no number: a word that may say what is wrong."""
    return lemma not in STOP and not any(c.isdigit() for c in lemma)


def _unit(row: np.ndarray) -> np.ndarray:
    norm = np.sqrt(row.dot(row))  # as np.linalg.norm computes it, to the last bit
    return row / norm if norm else row


def char_grams(word: str) -> list[str]:
    """4- and 5-grams of « word » (one gram for a shorter word), as `char_wb` reads it."""
    padded = f" {word} "
    grams = []
    for n in range(GRAMS[0], GRAMS[1] + 1):
        if len(padded) <= n:
            grams.append(padded)
            continue
        grams += [padded[i:i + n] for i in range(len(padded) - n + 1)]
    return grams


class Words(NamedTuple):
    """The soft match's side of a problem: its distinct known words' unit vectors and
    how often each occurs (a repeated word counts as often as it is written)."""

    vectors: np.ndarray
    counts: np.ndarray


class Reader:
    """Texts → `Problem`s; built once: each distinct lemma's columns are computed once."""

    def __init__(self, morph: Morph, vectors: WordVectors):
        self.morph = morph
        self.vectors = vectors
        self._lemma = lru_cache(maxsize=200_000)(self._lemma_terms)
        self._words = lru_cache(maxsize=4096)(self._known_words)

    def _lemma_terms(self, lemma: str) -> tuple[int, np.ndarray, int]:
        """A lemma's column, its character n-grams' columns, its word-vector row."""
        grams = np.fromiter((abs(murmurhash3_32(g, seed=_SEED_GRAM)) % SPACE for g in char_grams(lemma)),
                            dtype=np.int32)
        return abs(murmurhash3_32(lemma, seed=_SEED_LEMMA)) % SPACE, grams, self.vectors.row(lemma)

    def read(self, text: str) -> Problem:
        return self.read_many([text])[0]

    def read_many(self, texts: list[str], lemmas: list[list[str]] | None = None) -> list[Problem]:
        """The problems of a batch: the words are read text by text, the arithmetic
        (counts, weights, norms, mean vectors) runs once for the whole batch. `lemmas`:
        each text's words' lemmas when the pipeline has just read them
        (`Pipeline.label_with_lemmas`), else they are read here."""
        found = [frozenset(places(text, self.morph)) for text in texts]
        if lemmas is None:
            lemmas = [self.morph.lemmas(tokenize(clean(text))) for text in texts]
        words = [self._words_of(text_lemmas, {p.street for p in where})
                 for text_lemmas, where in zip(lemmas, found, strict=True)]
        terms = [self._lemma(w) for text_words in words for w in text_words]
        sizes = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
        owners = np.repeat(np.arange(len(texts)), sizes)
        lemma_columns = np.fromiter((t[0] for t in terms), dtype=np.int64, count=len(terms))
        gram_sizes = np.fromiter((len(t[1]) for t in terms), dtype=np.int64, count=len(terms))
        gram_columns = np.concatenate([t[1] for t in terms]) if terms else np.zeros(0, np.int32)
        lemma_rows = _weights_per_text(owners, lemma_columns, len(texts))
        gram_rows = _weights_per_text(np.repeat(owners, gram_sizes), gram_columns, len(texts))
        vectors = self._mean_vectors(owners, np.fromiter((t[2] for t in terms), dtype=np.int64,
                                                         count=len(terms)), len(texts))
        return [Problem(*parts) for parts in zip(found, words, lemma_rows, gram_rows, vectors, strict=True)]

    @staticmethod
    def _words_of(lemmas: list[str], streets: set[str]) -> tuple[str, ...]:
        """The lemmas of what is wrong: no function words, street names or numbers."""
        return tuple(w for w in lemmas if _problem_word(w) and w not in streets)

    def _mean_vectors(self, owners: np.ndarray, rows: np.ndarray, n: int) -> list[np.ndarray]:
        """Each text's unit mean vector of its known words (zeros when none is known)."""
        known = rows >= 0
        owners, rows = owners[known], rows[known]
        vectors = [np.zeros(DIMENSION, dtype=np.float32) for _ in range(n)]
        if len(rows):
            texts, starts = np.unique(owners, return_index=True)
            block = self.vectors.table[rows]  # summed text by text: the same order of additions
            for text, a, b in zip(texts, starts, [*starts[1:], len(rows)], strict=True):
                vectors[text] = _unit(block[a:b].sum(axis=0)).astype(np.float32)
        return vectors

    def words(self, words: tuple[str, ...]) -> Words:
        """A problem's known words for the soft match (the same words, the same answer:
        a few thousand are kept)."""
        return self._words(words)

    def _known_words(self, words: tuple[str, ...]) -> Words:
        rows, counts = np.unique([r for r in (self._lemma(w)[2] for w in words) if r >= 0],
                                 return_counts=True)
        if not len(rows):
            return Words(np.zeros((0, DIMENSION), dtype=np.float32), np.zeros(0))
        matrix = self.vectors.table[rows]
        return Words(matrix / np.linalg.norm(matrix, axis=1, keepdims=True), counts.astype(np.float64))


def soft_matches(a: Words, others: list[Words]) -> np.ndarray:
    """The soft match of `a` with each of `others` (0..1): each word's best partner on
    the other side, averaged both ways; one product with all their words."""
    result = np.zeros(len(others))
    present = [k for k, words in enumerate(others) if len(words.counts)]
    if not len(a.counts) or not present:
        return result
    sizes = np.array([len(others[k].counts) for k in present])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    counts = np.concatenate([others[k].counts for k in present])
    sims = a.vectors @ np.vstack([others[k].vectors for k in present]).T
    there = a.counts @ np.maximum.reduceat(sims, starts, axis=1) / a.counts.sum()
    back = np.add.reduceat(sims.max(axis=0) * counts, starts) / np.add.reduceat(counts, starts)
    result[present] = np.maximum((there + back) / 2, 0.0)
    return result


def stack(rows: list[tuple[np.ndarray, np.ndarray]]) -> sp.csr_matrix:
    """Sparse rows (columns, weights) as one CSR matrix over the hashed space."""
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum([len(c) for c, _ in rows], out=indptr[1:])
    if not rows:
        return sp.csr_matrix((0, SPACE), dtype=np.float32)
    columns = np.concatenate([c for c, _ in rows])
    weights = np.concatenate([w for _, w in rows])
    return sp.csr_matrix((weights, columns, indptr), shape=(len(rows), SPACE))


def cosine_matrix(rows: list[tuple[np.ndarray, np.ndarray]], refs: np.ndarray | None = None
                  ) -> np.ndarray:
    """TF-IDF cosine of every row with every reference row (`refs`: row numbers; all rows
    by default), the inverse document frequencies (smoothed as scikit-learn's) counted
    over all the rows: a word every message of a burst shares («вода») weighs less than
    one only two share. A dense n × len(refs) matrix."""
    refs = np.arange(len(rows)) if refs is None else refs
    matrix = stack(rows)
    if not matrix.nnz:
        return np.zeros((len(rows), len(refs)))
    columns, where = np.unique(matrix.indices, return_inverse=True)
    df = np.bincount(where, minlength=len(columns))
    idf = np.log((len(rows) + 1) / (df + 1.0)) + 1.0
    weighted = sp.csr_matrix((matrix.data * idf[where], where, matrix.indptr),
                             shape=(len(rows), len(columns)))
    norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1)).ravel())
    unit = sp.diags(np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)) @ weighted
    return (unit @ unit[refs].T).toarray()


def soft_matrix(words: list[Words], refs: np.ndarray | None = None) -> np.ndarray:
    """The soft match of every problem with every reference problem (`refs`: positions;
    all by default) at once: one product of their words."""
    refs = np.arange(len(words)) if refs is None else np.asarray(refs)
    result = np.zeros((len(words), len(refs)))
    rows = np.array([k for k, w in enumerate(words) if len(w.counts)], dtype=int)
    cols = np.array([c for c, k in enumerate(refs) if len(words[k].counts)], dtype=int)
    if not len(rows) or not len(cols):
        return result
    a, b = _side([words[k] for k in rows]), _side([words[refs[c]] for c in cols])
    sims = a.vectors @ b.vectors.T  # every word of the rows with every word of the refs
    best = np.maximum.reduceat(sims, b.starts, axis=1)  # a row word's best in each ref
    there = np.add.reduceat(best * a.counts[:, None], a.starts, axis=0) / a.totals[:, None]
    best = np.maximum.reduceat(sims, a.starts, axis=0)  # a ref word's best in each row
    back = np.add.reduceat(best * b.counts[None, :], b.starts, axis=1) / b.totals[None, :]
    result[np.ix_(rows, cols)] = np.maximum((there + back) / 2, 0.0)
    return result


class _Side(NamedTuple):
    vectors: np.ndarray  # every word of every problem, one after another
    counts: np.ndarray
    starts: np.ndarray  # where each problem's words begin
    totals: np.ndarray  # words per problem, repeats counted


def _side(words: list[Words]) -> _Side:
    sizes = np.array([len(w.counts) for w in words])
    counts = np.concatenate([w.counts for w in words])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    return _Side(np.vstack([w.vectors for w in words]), counts, starts,
                 np.add.reduceat(counts, starts))
