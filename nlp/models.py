"""One text classifier per task (kind, topic, urgency) and its explanations.

Features: hashed counts of lemmas and lemma bigrams (what the message is about,
whatever the case form) plus hashed character 2–5-grams (typos, slang, word pieces
pymorphy does not know), weighted by TF-IDF. Hashing keeps no vocabulary, so a model
file is small and loads fast, and the counts are computed once for all three tasks.
A linear SVM calibrated by cross-validation gives probabilities a moderator can
trust; its weights say which words decided, which is the explanation.
"""

from __future__ import annotations

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC
from sklearn.utils import murmurhash3_32

LEMMAS, CHARS = 0, 1
LEMMA_FEATURES = 2**16
CHAR_FEATURES = 2**17


def build_counts() -> ColumnTransformer:
    """The stateless first step, identical for every task."""
    return ColumnTransformer(
        [
            ("lemmas", HashingVectorizer(
                ngram_range=(1, 2), n_features=LEMMA_FEATURES, alternate_sign=False,
                norm=None, token_pattern=r"\S+", lowercase=False), LEMMAS),
            ("chars", HashingVectorizer(
                analyzer="char_wb", ngram_range=(2, 5), n_features=CHAR_FEATURES,
                alternate_sign=False, norm=None), CHARS),
        ]
    )


def build_pipeline(seed: int = 0) -> Pipeline:
    svm = LinearSVC(C=0.5, class_weight="balanced", random_state=seed)
    # ensemble=False keeps one SVM fitted on all data (a third of the size of an
    # ensemble) and calibrates it on cross-validated decisions.
    calibrated = CalibratedClassifierCV(svm, cv=3, ensemble=False)
    return Pipeline([
        ("counts", build_counts()),
        ("tfidf", TfidfTransformer(sublinear_tf=True)),
        ("clf", calibrated),
    ])


def feature_matrix(lemma_texts: list[str], clean_texts: list[str]) -> np.ndarray:
    rows = np.empty((len(lemma_texts), 2), dtype=object)
    rows[:, LEMMAS] = lemma_texts
    rows[:, CHARS] = clean_texts
    return rows


def lemma_index(term: str) -> int:
    """The column of a lemma (or "lemma lemma" bigram), as HashingVectorizer puts it."""
    return abs(murmurhash3_32(term, seed=0)) % LEMMA_FEATURES


def counts(rows: np.ndarray):
    """Hashed counts for many rows; the same for every task, so compute them once."""
    return build_counts().fit_transform(rows)


class TextClassifier:
    """A fitted pipeline for one task, with its label set and explanations."""

    def __init__(self, task: str, pipeline: Pipeline):
        self.task = task
        self.pipeline = pipeline
        self.classes = [str(c) for c in pipeline.classes_]
        self._weights = pipeline.named_steps["clf"].calibrated_classifiers_[0].estimator.coef_

    @classmethod
    def fit(cls, task: str, rows: np.ndarray, labels: list[str], seed: int = 0) -> TextClassifier:
        pipeline = build_pipeline(seed)
        pipeline.fit(rows, labels)
        return cls(task, pipeline)

    def predict_counts(self, counted, lemma_texts: list[str] | None = None):
        """For each row of hashed counts: (label, probability, explanation words)."""
        weighted = self.pipeline.named_steps["tfidf"].transform(counted).tocsr()
        probabilities = self.pipeline.named_steps["clf"].predict_proba(weighted)
        best = probabilities.argmax(axis=1)
        results = []
        for i, column in enumerate(best):
            words = self._explain(weighted[i], column, lemma_texts[i]) if lemma_texts else []
            results.append((self.classes[column], float(probabilities[i, column]), words))
        return results

    def predict(self, rows: np.ndarray, explain: bool = True):
        lemma_texts = list(rows[:, LEMMAS]) if explain else None
        return self.predict_counts(counts(rows), lemma_texts)

    def _explain(self, row, column: int, lemma_text: str, top: int = 3) -> list[str]:
        """The message's own lemmas (and bigrams) that pushed hardest towards the label."""
        lemmas = lemma_text.split()
        terms = set(lemmas) | {f"{a} {b}" for a, b in zip(lemmas, lemmas[1:], strict=False)}
        values = dict(zip(row.indices, row.data, strict=True))
        scored = []
        for term in terms:
            index = lemma_index(term)
            contribution = values.get(index, 0.0) * self._weights[column, index]
            if contribution > 0:
                scored.append((contribution, term))
        return [term for _, term in sorted(scored, reverse=True)[:top]]
