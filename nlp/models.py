"""One text classifier per task (kind, topic, urgency) and its explanations.

Input: the hashed counts of `features.Featurizer`, computed once for all three tasks.
Each task's scikit-learn Pipeline weighs them by TF-IDF and feeds a linear SVM
calibrated by cross-validation, so the probabilities a moderator sees mean something;
the SVM's weights say which of the message's own words decided, which is the
explanation.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import normalize
from sklearn.svm import LinearSVC

from .features import Batch

# Regularisation of the SVM per task (chosen on cross-validation of the train split).
C_BY_TASK = {"kind": 0.5, "topic": 0.5, "urgency": 0.5}


def build_pipeline(seed: int = 0, c: float = 0.5) -> Pipeline:
    svm = LinearSVC(C=c, class_weight="balanced", random_state=seed)
    # ensemble=False keeps one SVM fitted on all data (a third of the size of an
    # ensemble) and calibrates it on cross-validated decisions.
    calibrated = CalibratedClassifierCV(svm, cv=3, ensemble=False)
    return Pipeline([("tfidf", TfidfTransformer(sublinear_tf=True)), ("clf", calibrated)])


class TextClassifier:
    """A fitted pipeline for one task, with its label set and explanations.

    Prediction does by hand what the Pipeline's steps do (sublinear TF-IDF, the SVM's
    decision, one sigmoid calibrator per class), on the whole batch at once: the same
    numbers without scikit-learn's per-call validation, which costs more than the
    arithmetic on a batch of short messages. A test keeps it equal to `predict_proba`.
    """

    def __init__(self, task: str, pipeline: Pipeline):
        self.task = task
        self.pipeline = pipeline
        self.classes = [str(c) for c in pipeline.classes_]
        self.tfidf = pipeline.named_steps["tfidf"]
        self.clf = pipeline.named_steps["clf"]
        calibrated = self.clf.calibrated_classifiers_[0]
        self.svm = calibrated.estimator
        self._weights = self.svm.coef_
        self._calibrators = calibrated.calibrators
        self._calibrated_columns = np.searchsorted(calibrated.classes, self.svm.classes_)
        self._fast = (
            len(self.clf.calibrated_classifiers_) == 1 and calibrated.method in ("sigmoid", "isotonic")
            and self.tfidf.sublinear_tf and self.tfidf.norm == "l2" and len(self.classes) > 2
        )

    @classmethod
    def fit(cls, task: str, counts, labels: list[str], seed: int = 0) -> TextClassifier:
        pipeline = build_pipeline(seed, C_BY_TASK.get(task, 0.5))
        pipeline.fit(counts, labels)
        return cls(task, pipeline)

    def probabilities(self, counts, sublinear=None):
        """The TF-IDF weighted rows and the calibrated probability of every class.

        `sublinear`: `Batch.sublinear` of these counts, if already computed."""
        if not self._fast:
            weighted = self.tfidf.transform(counts).tocsr()
            weighted.sort_indices()
            return weighted, self.clf.predict_proba(weighted)
        if sublinear is None:
            counts = sp.csr_matrix(counts)
            counts.sort_indices()
            sublinear = sp.csr_matrix((np.log(counts.data) + 1.0, counts.indices, counts.indptr), shape=counts.shape)
        data = sublinear.data * self.tfidf.idf_[sublinear.indices]
        weighted = normalize(sp.csr_matrix((data, sublinear.indices, sublinear.indptr), shape=sublinear.shape),
                             copy=False)
        decision = weighted @ self._weights.T + self.svm.intercept_
        probabilities = np.zeros((counts.shape[0], len(self.classes)))
        for column, calibrator, values in zip(self._calibrated_columns, self._calibrators, decision.T, strict=True):
            probabilities[:, column] = calibrator.predict(values)
        total = probabilities.sum(axis=1, keepdims=True)
        uniform = np.full_like(probabilities, 1 / len(self.classes))
        probabilities = np.divide(probabilities, total, out=uniform, where=total != 0)
        probabilities[(probabilities > 1.0) & (probabilities <= 1.0 + 1e-5)] = 1.0
        return weighted, probabilities

    def predict(self, batch: Batch, explain: bool = True):
        """For each text: (label, probability, explanation words), and all probabilities."""
        weighted, probabilities = self.probabilities(batch.counts, batch.sublinear)
        best = probabilities.argmax(axis=1)
        words = self.explain(weighted, best, batch) if explain else [[] for _ in best]
        results = [(self.classes[column], float(probabilities[i, column]), words[i])
                   for i, column in enumerate(best)]
        return results, probabilities

    def explain(self, weighted, labels, batch: Batch, top: int = 3) -> list[list[str]]:
        """Per text, its own lemmas (and bigrams) that pushed hardest towards its label.

        A term's push is its TF-IDF weight in the text times the SVM's weight for the
        label; the whole batch is scored in a few array operations.
        """
        rows, columns, names = batch.term_rows, batch.term_columns, batch.term_names
        if not len(rows):
            return [[] for _ in labels]
        n_features = weighted.shape[1]
        present_rows = np.repeat(np.arange(weighted.shape[0]), np.diff(weighted.indptr))
        keys = present_rows * n_features + weighted.indices
        wanted = rows * n_features + columns
        at = np.minimum(np.searchsorted(keys, wanted), max(len(keys) - 1, 0))
        found = keys[at] == wanted if len(keys) else np.zeros(len(wanted), bool)
        values = np.where(found, weighted.data[at] if len(keys) else 0.0, 0.0)
        push = values * self._weights[labels[rows], columns]
        order = np.lexsort((-push, rows))
        starts = np.searchsorted(rows[order], np.arange(len(labels) + 1))
        words = []
        for i in range(len(labels)):
            chosen = order[starts[i] : min(starts[i] + top, starts[i + 1])]
            words.append([names[k] for k in chosen if push[k] > 0])
        return words
