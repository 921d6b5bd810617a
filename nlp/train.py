"""Train the kind, topic and urgency classifiers and write them as new versions."""

from __future__ import annotations

import hashlib
import json
import platform
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import sklearn

from .evaluate import task_report
from .labels import TASKS
from .models import TextClassifier, feature_matrix
from .registry import new_version, read_registry, save_model, write_registry
from .text import Morph, clean, lemma_text


def data_fingerprint(records: list[dict]) -> str:
    digest = hashlib.sha256()
    for r in sorted(records, key=lambda r: r["id"]):
        digest.update(json.dumps([r["id"], r["text"], *(r[t] for t in TASKS)], ensure_ascii=False).encode())
    return digest.hexdigest()[:16]


def train(train_records: list[dict], test_records: list[dict], models_dir: str | Path, *,
          now: datetime, seed: int = 0, promote: bool | None = None,
          progress: Callable[[str], None] = lambda step: None) -> dict[str, str]:
    """Fit one classifier per task, evaluate it on the test split, save a new version.

    `promote=None` promotes only when no production version exists yet. Returns the
    new version of each task.
    """
    models_dir = Path(models_dir)
    morph = Morph()
    progress("lemmatising")
    def rows(records):
        cleaned = [clean(r["text"]) for r in records]
        return feature_matrix([lemma_text(t, morph) for t in cleaned], cleaned)
    train_rows, test_rows = rows(train_records), rows(test_records)
    fingerprint = data_fingerprint(train_records)
    created = {}
    for task in TASKS:
        progress(f"training {task}")
        classifier = TextClassifier.fit(task, train_rows, [r[task] for r in train_records], seed)
        predicted = [p[0] for p in classifier.predict(test_rows, explain=False)]
        metrics = task_report(task, [r[task] for r in test_records], predicted)
        version = new_version(models_dir, task, now)
        folder = models_dir / task / version
        manifest = save_model(folder, classifier.pipeline, {
            "task": task,
            "version": version,
            "created_at": now.isoformat(),
            "seed": seed,
            "classes": classifier.classes,
            "train_messages": len(train_records),
            "test_messages": len(test_records),
            "data_fingerprint": fingerprint,
            "sklearn": sklearn.__version__,
            "python": platform.python_version(),
        })
        (folder / "metrics.json").write_text(json.dumps(metrics, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        (folder / "MODEL_CARD.md").write_text(model_card(task, manifest, metrics, train_records), encoding="utf-8")
        created[task] = version
    try:
        registry = read_registry(models_dir)
    except Exception:
        registry = {"production": {}, "history": []}
    registry.setdefault("candidates", {}).update(created)
    if promote or (promote is None and not registry.get("production")):
        registry.setdefault("history", []).append({"at": now.isoformat(), "production": dict(registry.get("production", {}))})
        registry["production"] = {**registry.get("production", {}), **created}
    write_registry(models_dir, registry)
    return created


def model_card(task: str, manifest: dict, metrics: dict, records: list[dict]) -> str:
    counts = Counter(r[task] for r in records)
    weakest = sorted(metrics["per_label"].items(), key=lambda kv: kv[1]["f1"])[:3]
    lines = [
        f"# Model card: {task} {manifest['version']}",
        "",
        f"Classifies the `{task}` label of the label guide (data/labels.md) for messages of residents",
        "in VK comments, VK posts and Telegram chats.",
        "",
        "## Model",
        "TF-IDF over pymorphy3 lemmas (1–2-grams) and character 2–5-grams, a linear SVM with",
        "balanced class weights, calibrated by 3-fold cross-validation (sigmoid).",
        f"Seed {manifest['seed']}, scikit-learn {manifest['sklearn']}, SHA-256 `{manifest['sha256'][:16]}…`.",
        "",
        "## Data",
        f"{manifest['train_messages']} training messages (fingerprint {manifest['data_fingerprint']}),"
        f" {manifest['test_messages']} in the fixed test split (data/README.md).",
        "Training label counts: " + ", ".join(f"{k} {v}" for k, v in counts.most_common()),
        "",
        "## Metrics on the test split",
        f"macro-F1 {metrics['macro_f1']}, accuracy {metrics['accuracy']}",
        "",
        "| label | precision | recall | F1 | n |",
        "|---|---|---|---|---|",
        *[f"| {k} | {m['precision']} | {m['recall']} | {m['f1']} | {m['support']} |" for k, m in metrics["per_label"].items()],
        "",
        "## Known weaknesses",
        "- Trained on messages written by the project team, not on real residents' posts;",
        "  expect lower figures on real traffic until moderators' corrections are added.",
        "- Weakest labels here: " + ", ".join(f"{k} (F1 {m['f1']})" for k, m in weakest) + ".",
        "- Sarcasm and messages mixing several problems are the usual errors.",
        "",
    ]
    return "\n".join(lines)
