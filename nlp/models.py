"""One text classifier per task (kind, topic, urgency) and its explanations.

Input: the hashed counts of `features.Featurizer`, computed once for all three tasks,
weighed by TF-IDF, and optionally the message's averaged word vectors (nlp/vectors.py)
beside them. Two families of linear model are available:

- `svm`: a linear SVM calibrated by cross-validation (sigmoid). The default: on the
  registers holdout it beat logistic regression on every figure (README, «The NLP
  pipeline»).
- `logreg`: multinomial logistic regression, whose probabilities are softer.

Either way `other` is chosen only when its probability reaches a threshold chosen on
the registers holdout (`decide`), so the model has to be sure that nobody need answer.

Both are linear, so the weights say which of the message's own words decided: that is
the explanation. A model file holds a dict {"tfidf", "clf", "vector_weight"}.
"""

from __future__ import annotations

import hashlib

import numpy as np
import scipy.sparse as sp
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

from .features import N_FEATURES, Batch, sublinear_counts, term_positions

FAMILIES = ("logreg", "svm")
DEFAULT_FAMILY = "svm"
# Regularisation per family (chosen on cross-validation of the train split).
C_BY_FAMILY = {"logreg": 20.0, "svm": 0.5}
# How much the averaged word vector (unit length) counts beside the TF-IDF row (unit
# length too); 0 leaves the vectors out.
VECTOR_WEIGHT = 0.5


def build_estimator(family: str, c: float, seed: int = 0):
    if family == "svm":
        svm = LinearSVC(C=c, class_weight="balanced", random_state=seed)
        # ensemble=False keeps one SVM fitted on all data and calibrates it on
        # cross-validated decisions.
        return CalibratedClassifierCV(svm, cv=3, ensemble=False)
    if family == "logreg":
        return LogisticRegression(C=c, class_weight="balanced", max_iter=3000, tol=1e-3, random_state=seed)
    raise ValueError(f"unknown model family {family!r}: one of {FAMILIES}")


class TextClassifier:
    """A fitted model for one task, with its label set and explanations.

    Prediction does by hand what scikit-learn's steps do (sublinear TF-IDF, the linear
    decision, softmax or one sigmoid calibrator per class), on the whole batch at once:
    the same numbers without scikit-learn's per-call validation, which costs more than
    the arithmetic on a batch of short messages. A test keeps it equal to `predict_proba`.
    """

    def __init__(self, task: str, stored, other_threshold: float | None = None):
        self.task = task
        self.stored = stored
        # `other` only when its probability reaches this (None: the likeliest class wins).
        self.other_threshold = other_threshold
        self.tfidf = stored["tfidf"]
        self.clf = stored["clf"]
        self.vector_weight = float(stored.get("vector_weight") or 0.0)
        self.classes = [str(c) for c in self.clf.classes_]
        if isinstance(self.clf, CalibratedClassifierCV):
            self.family = "svm"
            calibrated = self.clf.calibrated_classifiers_[0]
            linear = calibrated.estimator
            self._calibrators = calibrated.calibrators
            self._calibrated_columns = np.searchsorted(calibrated.classes, linear.classes_)
            fast = len(self.clf.calibrated_classifiers_) == 1 and calibrated.method in ("sigmoid", "isotonic")
        else:
            self.family = "logreg"
            linear = self.clf
            fast = getattr(linear, "multi_class", "auto") in ("auto", "multinomial")
        self._weights_all = linear.coef_
        self._weights = linear.coef_[:, :N_FEATURES]  # the words' part: explanations
        # Transposed once into contiguous arrays: a sparse product copies a strided
        # operand on every call (20 MB per batch and model).
        self._weights_t = np.ascontiguousarray(self._weights.T)
        self._vector_weights_t = np.ascontiguousarray(linear.coef_[:, N_FEATURES:].T)
        self._intercept = linear.intercept_
        # Sigmoid calibrators as two arrays, so a batch is calibrated in one expression.
        self._sigmoid = None
        if self.family == "svm" and all(hasattr(c, "a_") for c in self._calibrators):
            self._sigmoid = (np.array([c.a_ for c in self._calibrators]), np.array([c.b_ for c in self._calibrators]))
        self._stack = None  # set by `stack_weights`
        idf = getattr(self.tfidf, "idf_", None)
        self._idf_key = ("tfidf", hashlib.blake2b(b"" if idf is None else idf.tobytes(), digest_size=16).digest())
        self._fast = (fast and self.tfidf.sublinear_tf and self.tfidf.norm == "l2" and len(self.classes) > 2)

    @classmethod
    def fit(cls, task: str, batch: Batch, labels: list[str], seed: int = 0, family: str = DEFAULT_FAMILY,
            c: float | None = None, vector_weight: float = VECTOR_WEIGHT) -> TextClassifier:
        """Fit on a featurised batch; `vector_weight` applies when the batch has vectors."""
        tfidf = TfidfTransformer(sublinear_tf=True).fit(batch.counts)
        weight = vector_weight if batch.vectors is not None else 0.0
        clf = build_estimator(family, C_BY_FAMILY[family] if c is None else c, seed)
        clf.fit(_inputs(tfidf.transform(batch.counts), batch.vectors, weight), labels)
        return cls(task, {"tfidf": tfidf, "clf": clf, "vector_weight": weight})

    def weighted(self, counts, sublinear=None) -> sp.csr_matrix:
        """The TF-IDF rows (L2-normalised), by hand on the fast path."""
        if not self._fast:
            weighted = self.tfidf.transform(counts).tocsr()
            weighted.sort_indices()
            return weighted
        sublinear = sublinear_counts(counts) if sublinear is None else sublinear
        data = sublinear.data * self.tfidf.idf_[sublinear.indices]
        return sp.csr_matrix((unit_rows(data, sublinear.indptr), sublinear.indices, sublinear.indptr),
                             shape=sublinear.shape)

    def probabilities(self, counts, sublinear=None, vectors=None, weighted=None, decision=None):
        """The TF-IDF weighted rows and the probability of every class.

        `sublinear`: `Batch.sublinear` of these counts, if already computed; `vectors`:
        the batch's averaged word vectors (needed when the model was trained with them)."""
        if self.vector_weight and vectors is None:
            raise ValueError(f"the {self.task} model needs word vectors: build the Featurizer with WordVectors")
        weighted = self.weighted(counts, sublinear) if weighted is None else weighted
        if not self._fast:
            return weighted, self.clf.predict_proba(_inputs(weighted, vectors, self.vector_weight))
        decision = (weighted @ self._weights_t if decision is None else decision) + self._intercept
        if self.vector_weight:
            decision += self.vector_weight * (vectors @ self._vector_weights_t)
        if self.family == "logreg":
            decision -= decision.max(axis=1, keepdims=True)
            probabilities = np.exp(decision)
            probabilities /= probabilities.sum(axis=1, keepdims=True)
            return weighted, probabilities
        probabilities = np.zeros((counts.shape[0], len(self.classes)))
        if self._sigmoid is not None:  # what _SigmoidCalibration.predict computes
            slopes, offsets = self._sigmoid
            probabilities[:, self._calibrated_columns] = expit(-(slopes * decision + offsets))
        else:
            for column, calibrator, values in zip(self._calibrated_columns, self._calibrators, decision.T,
                                                  strict=True):
                probabilities[:, column] = calibrator.predict(values)
        total = probabilities.sum(axis=1, keepdims=True)
        uniform = np.full_like(probabilities, 1 / len(self.classes))
        probabilities = np.divide(probabilities, total, out=uniform, where=total != 0)
        probabilities[(probabilities > 1.0) & (probabilities <= 1.0 + 1e-5)] = 1.0
        return weighted, probabilities

    def decide(self, probabilities: np.ndarray) -> np.ndarray:
        """The chosen column per row: the likeliest class, except that `other` must be sure.

        A missed complaint is a resident nobody answers, a false alarm costs a moderator
        a second: when `other` is likeliest but below `other_threshold`, the likeliest
        of the rest is chosen instead."""
        return decide(probabilities, self.classes, self.other_threshold)

    def predict_proba(self, counts, vectors=None):
        """scikit-learn's own prediction, for tests that hold the hand-rolled one to it."""
        weighted = self.tfidf.transform(counts)
        return self.clf.predict_proba(_inputs(weighted, vectors, self.vector_weight))

    def predict(self, batch: Batch, explain: bool = True):
        """For each text: (label, probability, explanation words), and all probabilities."""
        weighted = decision = None
        if self._fast:  # models trained on the same texts share their IDF: one TF-IDF matrix for all
            weighted = batch.shared(self._idf_key, lambda: self.weighted(batch.counts, batch.sublinear))
        if self._stack is not None:  # and one product with all their weights
            key, stack, start, stop = self._stack
            decision = batch.shared(key, lambda: weighted @ stack)[:, start:stop]
        weighted, probabilities = self.probabilities(batch.counts, batch.sublinear, batch.vectors, weighted, decision)
        best = self.decide(probabilities)
        words = self.explain(weighted, best, batch) if explain else [[] for _ in best]
        results = [(self.classes[column], float(probabilities[i, column]), words[i])
                   for i, column in enumerate(best)]
        return results, probabilities

    def explain(self, weighted, labels, batch: Batch, top: int = 3) -> list[list[str]]:
        """Per text, its own lemmas (and bigrams) that pushed hardest towards its label.

        A term's push is its TF-IDF weight in the text times the model's weight for the
        label; the whole batch is scored in a few array operations.
        """
        rows, columns, names = batch.term_rows, batch.term_columns, batch.term_names
        if not len(rows):
            return [[] for _ in labels]
        at, found = batch.term_positions if weighted.indptr is batch.sublinear.indptr else term_positions(
            weighted, rows, columns)
        values = np.where(found, weighted.data[at] if len(weighted.data) else 0.0, 0.0)
        push = values * self._weights[labels[rows], columns]
        pushing = np.flatnonzero(push > 0)  # only terms that push towards the label are shown
        order = pushing[np.lexsort((-push[pushing], rows[pushing]))]
        ordered_rows = rows[order]
        starts = np.searchsorted(ordered_rows, np.arange(len(labels) + 1))
        chosen = order[np.arange(len(order)) - starts[ordered_rows] < top]
        words: list[list[str]] = [[] for _ in labels]
        for row, k in zip(rows[chosen].tolist(), chosen.tolist(), strict=True):
            words[row].append(names[k])
        return words


def stack_weights(classifiers) -> None:
    """Let classifiers that share their IDF compute their decisions in one sparse product:
    one pass over a batch's TF-IDF rows instead of one per task (a third less time)."""
    classifiers = list(classifiers)
    for c in classifiers:
        c._stack = None
    classifiers = [c for c in classifiers if c._fast]
    if len(classifiers) < 2 or len({c._idf_key for c in classifiers}) > 1:
        return
    stack = np.ascontiguousarray(np.hstack([c._weights_t for c in classifiers]))
    key, start = ("decision", id(stack)), 0
    for c in classifiers:
        c._stack = (key, stack, start, start + c._weights_t.shape[1])
        start += c._weights_t.shape[1]


def unit_rows(data: np.ndarray, indptr: np.ndarray) -> np.ndarray:
    """The values of a CSR matrix scaled so each row has unit length (empty rows stay);
    each row's norm from its own values alone, whatever else the batch holds."""
    lengths = np.diff(indptr)
    if not len(lengths):
        return data
    # A zero at the end: trailing empty rows start there (reduceat needs valid starts).
    sums = np.add.reduceat(np.append(data * data, 0.0), indptr[:-1])
    norms = np.sqrt(np.where(lengths > 0, sums, 1.0))
    norms[norms == 0] = 1.0
    return data / np.repeat(norms, lengths)


def _inputs(weighted, vectors, weight: float):
    """The model's input rows: TF-IDF, then the weighted word vectors when it uses them."""
    if not weight:
        return weighted
    return sp.hstack([weighted, sp.csr_matrix(weight * np.asarray(vectors))], format="csr")


def decide(probabilities: np.ndarray, classes: list[str], other_threshold: float | None) -> np.ndarray:
    """Argmax per row, with `other` chosen only at `other_threshold` or above."""
    best = probabilities.argmax(axis=1)
    if other_threshold is None or "other" not in classes or not len(best):
        return best
    other = classes.index("other")
    unsure = (best == other) & (probabilities[:, other] < other_threshold)
    if unsure.any():
        rest = probabilities.copy()
        rest[:, other] = -1.0
        best = np.where(unsure, rest.argmax(axis=1), best)
    return best
