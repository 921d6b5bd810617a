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

from functools import lru_cache

import numpy as np

from .text import Morph, Token

VECTORS = "navec-news-mean-v1"
DIMENSION = 300


def news_embedding():
    """natasha's navec news embeddings (about 1 s to load, 50 MB in memory)."""
    from natasha import NewsEmbedding

    return NewsEmbedding()


class WordVectors:
    """Texts' tokens → unit-length mean vectors; built once and shared."""

    name = VECTORS

    def __init__(self, morph: Morph, embedding=None):
        self.morph = morph
        self.embedding = embedding if embedding is not None else news_embedding()
        self._word = lru_cache(maxsize=400_000)(self._word_vector)

    def _word_vector(self, word: str):
        vector = self.embedding.get(word)
        if vector is None:
            vector = self.embedding.get(self.morph.lemma(word))
        return vector

    def transform(self, tokens: list[list[Token]]) -> np.ndarray:
        """One row per text: the mean vector of its known words, unit length."""
        rows = np.zeros((len(tokens), DIMENSION), dtype=np.float64)
        word = self._word
        for i, text in enumerate(tokens):
            found = [v for v in (word(t.text.lower()) for t in text if t.is_word) if v is not None]
            if found:
                rows[i] = np.sum(found, axis=0)
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        return np.divide(rows, norms, out=rows, where=norms > 0)
