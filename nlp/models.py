"""One text classifier per task (kind, topic, urgency) and its explanations.

Input: the hashed counts of `features.Featurizer`, computed once for all three tasks.
Each task's scikit-learn Pipeline weighs them by TF-IDF and feeds a linear SVM
calibrated by cross-validation, so the probabilities a moderator sees mean something;
the SVM's weights say which of the message's own words decided, which is the
explanation.
"""

from __future__ import annotations

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.pipeline import Pipeline
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
    """A fitted pipeline for one task, with its label set and explanations."""

    def __init__(self, task: str, pipeline: Pipeline):
        self.task = task
        self.pipeline = pipeline
        self.classes = [str(c) for c in pipeline.classes_]
        self.tfidf = pipeline.named_steps["tfidf"]
        self.clf = pipeline.named_steps["clf"]
        self._weights = self.clf.calibrated_classifiers_[0].estimator.coef_

    @classmethod
    def fit(cls, task: str, counts, labels: list[str], seed: int = 0) -> TextClassifier:
        pipeline = build_pipeline(seed, C_BY_TASK.get(task, 0.5))
        pipeline.fit(counts, labels)
        return cls(task, pipeline)

    def probabilities(self, counts):
        """The TF-IDF weighted rows and the calibrated probability of every class."""
        weighted = self.tfidf.transform(counts).tocsr()
        weighted.sort_indices()
        return weighted, self.clf.predict_proba(weighted)

    def predict(self, batch: Batch, explain: bool = True):
        """For each text: (label, probability, explanation words), and all probabilities."""
        weighted, probabilities = self.probabilities(batch.counts)
        best = probabilities.argmax(axis=1)
        results = []
        for i, column in enumerate(best):
            words = self.explain(weighted, i, column, batch.terms[i]) if explain else []
            results.append((self.classes[column], float(probabilities[i, column]), words))
        return results, probabilities

    def explain(self, weighted, row: int, label_column: int, unique: dict[str, int],
                top: int = 3) -> list[str]:
        """The message's own lemmas (and bigrams) that pushed hardest towards the label."""
        if not unique:
            return []
        start, stop = weighted.indptr[row], weighted.indptr[row + 1]
        present, values = weighted.indices[start:stop], weighted.data[start:stop]
        names = list(unique)
        columns = np.fromiter(unique.values(), dtype=np.int64, count=len(unique))
        at = np.minimum(np.searchsorted(present, columns), max(len(present) - 1, 0))
        found = present[at] == columns if len(present) else np.zeros(len(columns), bool)
        contribution = np.where(found, values[at] if len(present) else 0.0, 0.0)
        contribution = contribution * self._weights[label_column, columns]
        order = np.argsort(-contribution)[:top]
        return [names[k] for k in order if contribution[k] > 0]
