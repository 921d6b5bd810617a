"""Text in, labels out: the one entry point of the NLP library.

    pipeline = Pipeline.load("models", region="52")
    pipeline.label(["третий день нет воды в Дзержинске"], source_municipality=None)

Everything heavy (morphology, gazetteer, classifiers) is built once in `load`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .labels import TASKS
from .models import LEMMAS, TextClassifier, counts, feature_matrix
from .places import Gazetteer
from .registry import ModelError, load_model, production_versions
from .rules import danger_signal
from .text import Morph, clean, lemma_text, tokenize

DEFAULT_REGIONS_DIR = Path(__file__).resolve().parents[1] / "data" / "regions"
LOW_URGENCY_KINDS = frozenset({"gratitude", "other", "suggestion"})
TEXT_MUNICIPALITY_SCORE = 0.95
PAGE_MUNICIPALITY_SCORE = 0.6


@dataclass(frozen=True)
class Labels:
    kind: str
    topic: str
    municipality: str | None
    urgency: str
    scores: dict[str, float]
    explanations: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


class Pipeline:
    def __init__(self, classifiers: dict[str, TextClassifier], gazetteer: Gazetteer, morph: Morph,
                 versions: dict[str, str]):
        missing = set(TASKS) - set(classifiers)
        if missing:
            raise ValueError(f"pipeline needs classifiers for {sorted(missing)}")
        self.classifiers = classifiers
        self.gazetteer = gazetteer
        self.morph = morph
        self.versions = versions

    @classmethod
    def load(cls, models_dir: str | Path, region: str = "52", regions_dir: str | Path | None = None,
             versions: dict[str, str] | None = None) -> Pipeline:
        """Load the production version of each task (or the given `versions`)."""
        models_dir = Path(models_dir)
        versions = {**production_versions(models_dir), **(versions or {})}
        morph = Morph()
        classifiers = {}
        for task in TASKS:
            if task not in versions:
                raise ModelError(f"{models_dir}/registry.json names no production model for {task!r}")
            pipeline, _ = load_model(models_dir / task / versions[task])
            classifiers[task] = TextClassifier(task, pipeline)
        gazetteer = Gazetteer.load(regions_dir or DEFAULT_REGIONS_DIR, region, morph)
        return cls(classifiers, gazetteer, morph, {t: versions[t] for t in TASKS})

    @property
    def version(self) -> str:
        return ",".join(f"{task}={self.versions[task]}" for task in TASKS)

    def features(self, texts: Sequence[str]):
        cleaned = [clean(t or "") for t in texts]
        return feature_matrix([lemma_text(t, self.morph) for t in cleaned], cleaned), cleaned

    def label(self, texts: Sequence[str], source_municipality=None, explain: bool = True) -> list[Labels]:
        """Label each text. `source_municipality`: one key for all, or one per text."""
        texts = list(texts)
        if isinstance(source_municipality, str) or source_municipality is None:
            sources = [source_municipality] * len(texts)
        else:
            sources = list(source_municipality)
            if len(sources) != len(texts):
                raise ValueError("source_municipality needs one value per text")
        if not texts:
            return []
        rows, cleaned = self.features(texts)
        counted = counts(rows)
        lemma_texts = list(rows[:, LEMMAS]) if explain else None
        predictions = {
            task: clf.predict_counts(counted, lemma_texts) for task, clf in self.classifiers.items()
        }
        results = []
        for i, text in enumerate(cleaned):
            results.append(self._combine(text, sources[i], {t: p[i] for t, p in predictions.items()}))
        return results

    def _combine(self, text: str, source: str | None, predicted: dict) -> Labels:
        tokens = tokenize(text)
        if not any(t.is_word for t in tokens):
            return Labels("other", "other", source, "low",
                          {"kind": 1.0, "topic": 1.0, "municipality": PAGE_MUNICIPALITY_SCORE, "urgency": 1.0},
                          {"kind": "в сообщении нет слов", "municipality": _page_reason(source)})
        labels = {task: value for task, (value, _, _) in predicted.items()}
        scores = {task: round(p, 3) for task, (_, p, _) in predicted.items()}
        reasons = {task: ", ".join(words) for task, (_, _, words) in predicted.items()}
        if labels["kind"] in LOW_URGENCY_KINDS and labels["urgency"] != "low":
            labels["urgency"], scores["urgency"] = "low", scores["kind"]
            reasons["urgency"] = f"{labels['kind']} не требует срочности"
        rule = danger_signal(text) if labels["kind"] == "complaint" else None
        if rule and labels["urgency"] != "critical":
            labels["urgency"], scores["urgency"] = "critical", 1.0
            reasons["urgency"] = f"правило «{rule.name}»"
        elif rule:
            reasons["urgency"] = f"правило «{rule.name}»; {reasons['urgency']}".rstrip("; ")
        municipality, match, _ = self.gazetteer.resolve(text, tokens)
        if municipality is not None:
            scores["municipality"] = TEXT_MUNICIPALITY_SCORE
            reasons["municipality"] = f"«{match.text}» → {municipality}"
        elif match is not None:
            scores["municipality"] = TEXT_MUNICIPALITY_SCORE
            reasons["municipality"] = f"«{match.text}» — за пределами региона"
        else:
            municipality = source
            scores["municipality"] = PAGE_MUNICIPALITY_SCORE
            reasons["municipality"] = _page_reason(source)
        return Labels(labels["kind"], labels["topic"], municipality, labels["urgency"], scores, reasons)


def _page_reason(source: str | None) -> str:
    if source is None:
        return "место не названо, страница без муниципалитета"
    return f"место не названо; муниципалитет страницы: {source}"
