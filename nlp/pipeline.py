"""Text in, labels out: the one entry point of the NLP library.

    pipeline = Pipeline.load("models", region="52")
    pipeline.label(["третий день нет воды в Дзержинске"], source_municipality=None)

Everything heavy (morphology, gazetteer, classifiers) is built once in `load`.
"""

from __future__ import annotations

import gc
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import NamedTuple

from natasha import NewsNERTagger

from .caches import trim
from .features import FEATURES, Featurizer
from .labels import TASKS
from .mentions import ELSEWHERE
from .models import TextClassifier, stack_weights
from .ner import LocationTagger
from .places import Gazetteer
from .registry import ModelError, load_model, production_versions
from .rules import danger_signal
from .text import Morph, clean
from .vectors import VECTORS, WordVectors, news_embedding

DEFAULT_REGIONS_DIR = Path(__file__).resolve().parents[1] / "data" / "regions"
# A complaint whose probability of `critical` reaches this is raised to `critical`,
# unless the urgency model's manifest names its own (`tsur train` chooses it).
CRITICAL_PROBABILITY = 0.35
TEXT_MUNICIPALITY_SCORE = 0.95
NO_WORDS = "в сообщении нет слов"
PAGE_MUNICIPALITY_SCORE = 0.6


class Labelled(NamedTuple):
    labels: list[Labels]
    lemmas: list[list[str]]  # per text, its words' lemmas in order


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


def load_classifier(models_dir: str | Path, task: str, version: str) -> tuple[TextClassifier, dict]:
    """One classifier version and its manifest: checksum, trusted types, the feature set
    it was trained with, and the `other` threshold `tsur train` chose for it."""
    stored, manifest = load_model(Path(models_dir) / task / version)
    if manifest.get("features") != FEATURES:
        raise ModelError(f"model {task} {version} was trained with features {manifest.get('features')!r}, "
                         f"this code computes {FEATURES!r}: retrain with `tsur train`")
    if manifest.get("vectors") not in (None, VECTORS):
        raise ModelError(f"model {task} {version} was trained with word vectors {manifest['vectors']!r}, "
                         f"this code computes {VECTORS!r}: retrain with `tsur train`")
    threshold = (manifest.get("other_threshold") or {}).get("value")
    return TextClassifier(task, stored, threshold), manifest


def critical_threshold_of(manifest: dict) -> float:
    """The threshold `tsur train` chose for an urgency model (its manifest), or the default."""
    return (manifest.get("critical_threshold") or {}).get("value", CRITICAL_PROBABILITY)


@contextmanager
def cycle_collection_paused():
    """Labelling a batch builds hundreds of thousands of small containers (tokens, rows,
    cache entries) that reference counting frees at its end; the cycle collector would
    walk them again at every threshold, which cost a third of the time. Threads may
    label at once: collection resumes when the batch that paused it ends."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


class Pipeline:
    def __init__(self, classifiers: dict[str, TextClassifier], gazetteer: Gazetteer, morph: Morph,
                 versions: dict[str, str], ner: LocationTagger | None = None,
                 critical_threshold: float = CRITICAL_PROBABILITY, vectors: WordVectors | None = None):
        """`vectors`: shared word vectors; loaded here when a classifier needs them and
        none are given."""
        missing = set(TASKS) - set(classifiers)
        if missing:
            raise ValueError(f"pipeline needs classifiers for {sorted(missing)}")
        self.classifiers = classifiers
        stack_weights(classifiers.values())
        self.gazetteer = gazetteer
        self.morph = morph
        needs_vectors = _needs_vectors(classifiers)
        if vectors is None and needs_vectors:
            vectors = WordVectors(morph)
        self.vectors = vectors
        self.featurizer = Featurizer(morph, vectors if needs_vectors else None)
        self.versions = versions
        self.critical_threshold = critical_threshold
        self.ner = ner

    @classmethod
    def load(cls, models_dir: str | Path, region: str = "52", regions_dir: str | Path | None = None,
             versions: dict[str, str] | None = None, ner: bool = True) -> Pipeline:
        """Load the production version of each task (or the given `versions`).

        `ner=False` skips natasha's NER fallback for place names (faster start, for
        tools that label no municipality).

        Ends with `gc.freeze()`: the millions of objects just built (dictionaries,
        gazetteer, models) live as long as the process, and taking them out of the
        cyclic collector's full passes makes labelling about 15 % faster. Objects
        freed by reference counting are still freed.
        """
        models_dir = Path(models_dir)
        versions = {**production_versions(models_dir), **(versions or {})}
        morph = Morph()
        classifiers = {}
        for task in TASKS:
            if task not in versions:
                raise ModelError(f"{models_dir}/registry.json names no production model for {task!r}")
            classifiers[task], manifest = load_classifier(models_dir, task, versions[task])
            if task == "urgency":
                threshold = critical_threshold_of(manifest)
        gazetteer = Gazetteer.load(regions_dir or DEFAULT_REGIONS_DIR, region, morph)
        # natasha's NER and the word vectors share one copy of navec's embeddings.
        embedding = news_embedding() if ner or _needs_vectors(classifiers) else None
        tagger = LocationTagger(NewsNERTagger(embedding)) if ner else None
        pipeline = cls(classifiers, gazetteer, morph, {t: versions[t] for t in TASKS}, tagger, threshold,
                       WordVectors(morph, embedding) if embedding is not None else None)
        gc.freeze()
        return pipeline

    @property
    def version(self) -> str:
        return ",".join(f"{task}={self.versions[task]}" for task in TASKS)

    def label(self, texts: Sequence[str], source_municipality=None, explain: bool = True,
              context: Sequence[str | None] | None = None) -> list[Labels]:
        """Label each text. `source_municipality`: one key for all, or one per text.

        `context`: per text, the post it answers in a thread (or None). A reply whose own
        topic is unclear («Ефремова — тоже сухо», «звоните на 122») takes the topic of
        the discussion when that post's topic is clear (`_thread_topic`).
        """
        return self.label_with_lemmas(texts, source_municipality, explain, context).labels

    def label_with_lemmas(self, texts: Sequence[str], source_municipality=None, explain: bool = True,
                          context: Sequence[str | None] | None = None) -> Labelled:
        """`label`, and each text's words' lemmas as it read them: what a complaint is
        about is read from them next (nlp.likeness), without reading the text again."""
        texts = list(texts)
        sources = _per_text(source_municipality, len(texts), "source_municipality")
        contexts = _per_text(context, len(texts), "context")
        if not texts:
            return Labelled([], [])
        trim()  # the caches past their limits are emptied between batches
        with cycle_collection_paused():
            return self._label(texts, sources, contexts, explain)

    def _label(self, texts: list[str], sources: list, contexts: list, explain: bool) -> Labelled:
        threads = list(dict.fromkeys(c for c in contexts if c))  # each discussion post once
        cleaned = [clean(t or "") for t in texts + threads]
        batch = self.featurizer.transform(cleaned)
        predictions, probabilities = {}, {}
        for task, clf in self.classifiers.items():
            predictions[task], probabilities[task] = clf.predict(batch, explain)
        critical = self.classifiers["urgency"].classes.index("critical")
        places = self._places(cleaned[: len(texts)], batch.tokens)
        row = {thread: len(texts) + k for k, thread in enumerate(threads)}
        labels = []
        for i, text in enumerate(cleaned[: len(texts)]):
            own = self._combine(text, batch.tokens[i], sources[i], {t: p[i] for t, p in predictions.items()},
                                float(probabilities["urgency"][i, critical]), places[i])
            in_thread = contexts[i] and any(t.is_word for t in batch.tokens[i])  # «😡» stays `other`
            labels.append(_thread_topic(own, predictions["topic"][row[contexts[i]]]) if in_thread else own)
        return Labelled(labels, batch.lemmas[: len(texts)])

    def _places(self, texts: list[str], tokens: list) -> list[tuple]:
        """(municipality, match) per text: the gazetteer, then NER for the texts it left
        without a place, tagged in one batch."""
        resolved = [self.gazetteer.resolve(text, tokens[i]) for i, text in enumerate(texts)]
        places = [(municipality, match or _only_elsewhere(matches)) for municipality, match, matches in resolved]
        if self.ner is not None:
            need = [i for i, (municipality, match) in enumerate(places)
                    if municipality is None and match is None]
            found = self.ner.resolve_many([(texts[i], tokens[i]) for i in need], self.gazetteer)
            for i, place in zip(need, found, strict=True):
                places[i] = place
        return places

    def _combine(self, text: str, tokens, source: str | None, predicted: dict,
                 critical_probability: float, place: tuple) -> Labels:
        if not any(t.is_word for t in tokens):
            return Labels("other", "other", source, "low",
                          {"kind": 1.0, "topic": 1.0, "municipality": PAGE_MUNICIPALITY_SCORE, "urgency": 1.0},
                          {"kind": NO_WORDS, "topic": NO_WORDS, "urgency": NO_WORDS,
                           "municipality": _page_reason(source)})
        labels = {task: value for task, (value, _, _) in predicted.items()}
        scores = {task: round(p, 3) for task, (_, p, _) in predicted.items()}
        reasons = {task: ", ".join(words) or f"ни одно слово не решило, вероятность {p:.2f}"
                   for task, (_, p, words) in predicted.items()}
        labels["urgency"], scores["urgency"], reasons["urgency"] = decide_urgency(
            text, labels["kind"], scores["kind"], labels["urgency"], scores["urgency"],
            reasons["urgency"], critical_probability, self.critical_threshold)
        municipality, match = place
        if municipality is not None:
            scores["municipality"] = TEXT_MUNICIPALITY_SCORE
            reasons["municipality"] = f"«{match.text}» → {municipality}" + _via(match)
        elif match is not None and match.role == ELSEWHERE:  # only a distance or a comparison
            municipality = source
            scores["municipality"] = PAGE_MUNICIPALITY_SCORE
            reasons["municipality"] = (f"«{match.text}» — для сравнения или расстояния, не место проблемы; "
                                       + _page_reason(source, "другого места нет"))
        elif match is not None:
            scores["municipality"] = TEXT_MUNICIPALITY_SCORE
            reasons["municipality"] = f"«{match.text}» — за пределами региона" + _via(match)
        else:
            municipality = source
            scores["municipality"] = PAGE_MUNICIPALITY_SCORE
            reasons["municipality"] = _page_reason(source)
        return Labels(labels["kind"], labels["topic"], municipality, labels["urgency"], scores, reasons)


# A reply whose topic probability is below this (or whose topic is `other`) takes the
# topic of the post it answers, when that post's topic is not `other` and reaches it.
THREAD_TOPIC_PROBABILITY = 0.5


def _thread_topic(own: Labels, thread: tuple) -> Labels:
    """The reply's labels with the discussion's topic when its own is unclear."""
    topic, probability, words = thread
    if own.topic == topic or topic == "other" or probability < THREAD_TOPIC_PROBABILITY:
        return own
    if own.topic != "other" and own.scores["topic"] >= THREAD_TOPIC_PROBABILITY:
        return own
    reason = "тема обсуждения" + (f": {', '.join(words)}" if words else "") + " (пост, на который это ответ)"
    return replace(own, topic=topic, scores={**own.scores, "topic": round(probability, 3)},
                   explanations={**own.explanations, "topic": reason})


def _per_text(value, n: int, name: str) -> list:
    """One value for all texts (a string or None), or one per text."""
    if isinstance(value, str) or value is None:
        return [value] * n
    values = list(value)
    if len(values) != n:
        raise ValueError(f"{name} needs one value per text")
    return values


def decide_urgency(text: str, kind: str, kind_score: float, urgency: str, score: float,
                   reason: str, critical_probability: float,
                   threshold: float = CRITICAL_PROBABILITY) -> tuple[str, float, str]:
    """The model's urgency after the consistency rules of the label guide and the danger rules.

    Only complaints are urgent (anything else is `low`). A complaint is raised to
    `critical` when a danger rule fires or when the model gives `critical` a
    probability of at least `threshold` even if another value is likelier:
    missing a danger costs more than a moderator's glance.
    """
    if kind != "complaint":
        return "low", kind_score, f"{kind} не требует срочности"
    rule = danger_signal(text)
    if rule:
        return "critical", 1.0 if urgency != "critical" else score, f"правило «{rule.name}»"
    if urgency != "critical" and critical_probability >= threshold:
        return "critical", round(critical_probability, 3), f"возможная угроза: {reason}".rstrip(": ")
    return urgency, score, reason


def _via(match) -> str:
    return " (по NER natasha)" if getattr(match, "source", "") == "ner" else ""


def _only_elsewhere(matches) -> object | None:
    """The first place named only as a distance or a comparison, when every place is one
    (the text then decides nothing, but the explanation should say why)."""
    if matches and all(m.role == ELSEWHERE for m in matches):
        return matches[0]
    return None


def _page_reason(source: str | None, lead: str = "место не названо") -> str:
    if source is None:
        return f"{lead}, страница без муниципалитета"
    return f"{lead}; муниципалитет страницы: {source}"


def _needs_vectors(classifiers: dict[str, TextClassifier]) -> bool:
    return any(c.vector_weight for c in classifiers.values())
