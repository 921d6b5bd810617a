"""Averaged word vectors: what a message is about, for words the training data never had.

The hashed lemma and character features know only the words of the training data. A
resident who writes «несанкционированное размещение объявлений» or «аварийная опора
освещения» may use none of them; pretrained vectors place such words near the ones the
models did see. natasha ships navec's news embeddings (250k words, 300 dimensions,
quantised) inside its package, and its NER uses the same object, so one copy is loaded
and shared: nothing is downloaded.

A text's vector is the mean of its words' vectors, scaled to unit length; a word not in
navec's vocabulary is looked up by its lemma, and a text with no known word gets zeros.
"""

from __future__ import annotations

import threading

import numpy as np
import scipy.sparse as sp

from .caches import bounded
from .text import Morph, Token

VECTORS = "navec-news-mean-v1"
DIMENSION = 300


def news_embedding():
    """natasha's navec news embeddings (about 1 s to load, 50 MB in memory)."""
    from natasha import NewsEmbedding

    return NewsEmbedding()


class WordVectors:
    """Texts' words → unit-length mean vectors; built once and shared.

    Each distinct word is looked up once: its vector goes into a growing table and the
    word keeps its row number, so averaging a batch is one sparse product."""

    name = VECTORS

    def __init__(self, morph: Morph, embedding=None):
        self.morph = morph
        self.embedding = embedding if embedding is not None else news_embedding()
        self._table = np.zeros((1024, DIMENSION), dtype=np.float32)
        self.size = 0
        self._rows: dict[str, int] = {}  # navec's word → table row
        # navec stores its vectors quantised: a new word's vector is decoded later, with
        # every other new word of the batch in one array operation (`_pending`).
        self._ids = getattr(getattr(self.embedding, "vocab", None), "word_ids", None)
        self._pending: list[tuple[int, int]] = []  # (table row, navec id) not yet decoded
        self._lock = threading.Lock()  # the web server and a collector may label at once
        self.row = bounded(400_000)(self._row)

    def _row(self, word: str) -> int:
        """The table row of a lower-case word's vector, or -1 if navec does not know it
        (nor its lemma). Rows are kept per navec word, so a word the cache forgot and
        meets again takes no new row: the table never holds more than navec's words."""
        for known in (word, self.morph.lemma(word)):
            row = self._rows.get(known)
            if row is not None:
                return row
            if self._ids is not None:
                navec_id = self._ids.get(known)
                if navec_id is not None:
                    return self._append(known, navec_id=navec_id)
                continue
            vector = self.embedding.get(known)
            if vector is not None:
                return self._append(known, vector)
        return -1

    def _append(self, word: str, vector=None, navec_id: int | None = None) -> int:
        with self._lock:
            row = self._rows.get(word)
            if row is None:
                table = self._table
                if self.size == len(table):  # double it; np.zeros leaves the new half untouched
                    table = np.zeros((2 * len(table), DIMENSION), dtype=np.float32)
                    table[: self.size] = self._table
                if navec_id is None:
                    table[self.size] = vector
                else:
                    self._pending.append((self.size, navec_id))
                self._table = table
                row = self.size
                self.size += 1  # before the row is given out: `mean` sizes by it
                self._rows[word] = row
            return row

    @property
    def table(self) -> np.ndarray:
        """Every row's vector (rows given out so far are all decoded)."""
        if self._pending:
            with self._lock:
                if self._pending:
                    rows, ids = zip(*self._pending, strict=True)
                    pq = self.embedding.pq
                    self._table[list(rows)] = pq.codes[pq.qdims, pq.indexes[list(ids)]].reshape(len(ids), -1)
                    self._pending = []
        return self._table

    def mean(self, rows: list[list[int]]) -> np.ndarray:
        """One unit-length vector per text from its words' table rows (-1: unknown)."""
        indptr, indices = [0], []
        for text in rows:
            indices += [r for r in text if r >= 0]
            indptr.append(len(indices))
        size = max(self.size, 1)  # first the size, then the table (it only grows and decodes
        table = self.table        # every row given out so far): another thread may append meanwhile
        counts = sp.csr_matrix((np.ones(len(indices), dtype=np.float32), indices, indptr),
                               shape=(len(rows), size))
        sums = np.asarray(counts @ table[:size], dtype=np.float64)
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        return np.divide(sums, norms, out=sums, where=norms > 0)

    def transform(self, tokens: list[list[Token]]) -> np.ndarray:
        """One row per text: the mean vector of its known words, unit length."""
        row = self.row
        return self.mean([[row(t.text.lower()) for t in text if t.is_word] for text in tokens])
