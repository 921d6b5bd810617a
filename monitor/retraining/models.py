"""Model versions in the running service: hot swap, and the candidate-vs-production report.

`tsur models promote` and `rollback` only move the pointer in models/registry.json. A
running collector calls `Context.refresh_pipeline()` before each ingest batch; the
`PipelineHolder` behind it notices the new pointer, loads the new classifiers (the
gazetteer and morphology are reused) and swaps them in between two batches, so no
message is lost and no batch is labelled by a half-loaded pipeline. A version that
fails to load is logged and the old pipeline keeps working.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import datetime
from pathlib import Path

from sqlite_utils import Database

from monitor.clock import iso
from nlp.evaluate import evaluate
from nlp.labels import TASKS
from nlp.pipeline import Pipeline, critical_threshold_of, load_classifier
from nlp.registry import ModelError, production_versions, read_manifest

log = logging.getLogger("tsur.models")


def check_version(models_dir: str | Path, task: str, version: str):
    """Load one classifier version: checksum, trusted types and feature set must match."""
    return load_classifier(models_dir, task, version)[0]


def load_like(base, models_dir: str | Path, versions: dict[str, str]):
    """A Pipeline with the given classifier versions, sharing `base`'s gazetteer,
    morphology and NER (they do not depend on the version, and take seconds to build)."""

    models_dir = Path(models_dir)
    classifiers = {}
    for task in TASKS:
        if task not in versions:
            raise ModelError(f"{models_dir}/registry.json names no production model for {task!r}")
        classifiers[task] = check_version(models_dir, task, versions[task])
    return Pipeline(classifiers, base.gazetteer, base.morph, {t: versions[t] for t in TASKS},
                    base.ner, critical_threshold(models_dir, versions["urgency"]), base.vectors)


def critical_threshold(models_dir: Path, version: str) -> float:
    """The threshold `tsur train` chose for this urgency version (its manifest)."""

    return critical_threshold_of(read_manifest(models_dir, "urgency", version))


class PipelineHolder:
    """The pipeline of the production versions named in registry.json, re-checked on demand."""

    def __init__(self, models_dir: str | Path, pipeline, loader=load_like):
        self.models_dir = Path(models_dir)
        self.pipeline = pipeline
        self.loader = loader
        self.last_error: str | None = None
        self._lock = threading.Lock()
        self._seen = self._stamp()
        self._failed: dict | None = None  # versions that failed to load: not retried until changed

    def _stamp(self):
        try:
            stat = (self.models_dir / "registry.json").stat()
        except OSError:
            return None
        return stat.st_mtime_ns, stat.st_size

    def current(self):
        """The pipeline to label the next batch with, swapped if the pointer moved."""
        with self._lock:
            stamp = self._stamp()
            if stamp == self._seen:
                return self.pipeline
            self._seen = stamp
            try:
                wanted = production_versions(self.models_dir)
            except ModelError as error:
                self._fail(f"cannot read the registry: {error}")
                return self.pipeline
            if wanted == dict(self.pipeline.versions) or wanted == self._failed:
                return self.pipeline
            try:
                fresh = self.loader(self.pipeline, self.models_dir, wanted)
            except (ModelError, OSError, ValueError) as error:
                self._failed = wanted
                self._fail(f"cannot load {wanted}: {error}; still labelling with "
                           f"{self.pipeline.version}")
                return self.pipeline
            log.warning("models swapped: %s → %s", self.pipeline.version, fresh.version)
            self.pipeline, self.last_error, self._failed = fresh, None, None
            return fresh

    def _fail(self, message: str) -> None:
        self.last_error = message
        log.error("model swap failed: %s", message)


# --- compare a candidate with production -------------------------------------------

FIGURES = ("needs_reaction_recall", "needs_reaction_precision", "topic_accuracy", "kind_macro_f1",
           "topic_macro_f1", "complaint_f1", "critical_recall", "critical_precision", "municipality_accuracy")


def compare(base, models_dir: str | Path, candidate: dict[str, str], production: dict[str, str],
            sets: dict[str, list[dict]]) -> dict:
    """Evaluate both versions on the same sets of labelled records, side by side."""

    pipelines = {"candidate": load_like(base, models_dir, candidate),
                 "production": load_like(base, models_dir, production)}
    report = {"candidate": candidate, "production": production, "sets": {}}
    for name, records in sets.items():
        if not records:
            continue
        both = {role: evaluate(p, records) for role, p in pipelines.items()}
        for figures in both.values():
            figures.pop("municipality_errors", None)
        report["sets"][name] = {"messages": len(records), **both}
    return report


def format_comparison(report: dict) -> str:
    """Candidate and production per label, with the difference, as a terminal table."""
    cand = ", ".join(f"{t}={v}" for t, v in report["candidate"].items())
    prod = ", ".join(f"{t}={v}" for t, v in report["production"].items())
    lines = [f"candidate:  {cand}", f"production: {prod}"]
    for name, figures in report["sets"].items():
        c, p = figures["candidate"], figures["production"]
        lines += ["", f"=== {name}: {figures['messages']} messages",
                  f"   {'figure':<24}{'prod':>8}{'cand':>8}{'Δ':>8}"]
        for key in FIGURES:
            lines.append(f"   {key:<24}{p[key]:>8.3f}{c[key]:>8.3f}{c[key] - p[key]:>+8.3f}")
        for task in c["tasks"]:
            lines.append(f"   {task + ':':<22}{'P prod':>8}{'P cand':>8}{'R prod':>8}"
                         f"{'R cand':>8}{'F1 prod':>9}{'F1 cand':>9}{'n':>5}")
            for label, cm in c["tasks"][task]["per_label"].items():
                pm = p["tasks"][task]["per_label"][label]
                lines.append(f"     {label:<20}{pm['precision']:>8.3f}{cm['precision']:>8.3f}"
                             f"{pm['recall']:>8.3f}{cm['recall']:>8.3f}{pm['f1']:>9.3f}"
                             f"{cm['f1']:>9.3f}{cm['support']:>5}")
    return "\n".join(lines)


def learnt_until(models_dir: str | Path) -> tuple[str | None, int]:
    """The latest review the production models learnt from (None: none) and how many
    reviews they learnt from, from their manifests: reviews after it still wait."""
    try:
        chosen = production_versions(models_dir)
    except ModelError:
        return None, 0
    manifests = [read_manifest(models_dir, task, v) for task, v in chosen.items()]
    until = [m.get("corrections_until") for m in manifests]
    if not manifests or not all(until):
        return None, 0
    return min(until), min(m.get("corrections", 0) for m in manifests)


def record_comparison(db: Database, report: dict, candidate: dict, production: dict, by: str,
                      now: datetime) -> None:
    """Keep a comparison for the models page (the latest one is shown)."""
    with db.atomic():
        db["model_comparisons"].insert({
            "at": iso(now), "by": by, "candidate": json.dumps(candidate),
            "production": json.dumps(production), "report": json.dumps(report, ensure_ascii=False),
        })


def latest_comparison(db: Database) -> dict | None:
    row = db.execute("SELECT at, by, report FROM model_comparisons ORDER BY id DESC LIMIT 1"
                     ).fetchone()
    if row is None:
        return None
    return {"at": row[0], "by": row[1], "report": json.loads(row[2])}
