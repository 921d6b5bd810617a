"""Labelled messages: reading, validation and the fixed train/test split.

The split is a function of the message id alone (a hash), so it never changes when
data is added or reordered, and training can never see a test message.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .labels import KINDS, SOURCES, TOPICS, URGENCIES

TEST_SHARE_PERCENT = 22
FIELDS = ("id", "text", "kind", "topic", "urgency")


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    error: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.error}"


def split_of(message_id: str) -> str:
    bucket = int(hashlib.sha1(message_id.encode("utf-8")).hexdigest()[:8], 16) % 100
    return "test" if bucket < TEST_SHARE_PERCENT else "train"


def validate(record: dict, municipalities: set[str] | None = None) -> list[str]:
    errors = [f"missing {name}" for name in FIELDS if record.get(name) in (None, "")]
    checks = (("kind", KINDS), ("topic", TOPICS), ("urgency", URGENCIES))
    errors += [f"{name} {record.get(name)!r} is not one of {values}" for name, values in checks
               if record.get(name) not in values and name in record]
    if record.get("source") is not None and record["source"] not in SOURCES:
        errors.append(f"source {record['source']!r} is not one of {SOURCES}")
    if municipalities is not None:
        for name in ("municipality", "source_municipality"):
            value = record.get(name)
            if value is not None and value not in municipalities:
                errors.append(f"{name} {value!r} is not a municipality key of the region")
    return errors


def read_labelled(paths: Iterable[str | Path], municipalities: set[str] | None = None):
    """All valid records of the given JSONL files, and the problems found."""
    records, problems, seen = [], [], set()
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as error:
                    problems.append(Problem(str(path), number, f"not valid JSON: {error.msg}"))
                    continue
                errors = validate(record, municipalities) if isinstance(record, dict) else ["not an object"]
                if not errors and record["id"] in seen:
                    errors = [f"duplicate id {record['id']}"]
                if errors:
                    problems.append(Problem(str(path), number, "; ".join(errors)))
                    continue
                seen.add(record["id"])
                records.append(record)
    return records, problems


def text_records(paths: Iterable[str | Path]) -> Iterator[tuple[Path, dict]]:
    """(file, record) of every JSON line that holds a `text` string; other lines are
    skipped (speed figures need texts, not a validation)."""
    for path in map(Path, paths):
        with open(path, encoding="utf-8") as f:
            for line in f:
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if isinstance(record, dict) and isinstance(record.get("text"), str):
                    yield path, record


def labelled_files(data_dir: str | Path) -> list[Path]:
    return sorted((Path(data_dir) / "labelled").glob("*.jsonl"))


def holdout_files(data_dir: str | Path) -> list[Path]:
    """Sets written by other people to judge the models: evaluated, never trained on."""
    return sorted((Path(data_dir) / "holdout").glob("*.jsonl"))


# The registers holdout: residents' real registers (calm reports, formal appeals, work
# orders, telegraphic phrases) by writers who never opened the training files. Never
# trained on; the decision thresholds and the choice of model are made on it.
TUNING_FILE = "registers.jsonl"


def tuning_file(data_dir: str | Path) -> Path:
    return Path(data_dir) / "holdout" / TUNING_FILE


def split(records: list[dict]) -> tuple[list[dict], list[dict]]:
    train = [r for r in records if split_of(r["id"]) == "train"]
    test = [r for r in records if split_of(r["id"]) == "test"]
    return train, test


# --- the checks of data/README.md: near-duplicates and template families -----------

NEAR_DUPLICATE_JACCARD = 0.7
SHINGLE = 5


def _normalised(text: str) -> str:
    return " ".join(text.lower().replace("ё", "е").split())


def shingles(text: str) -> set[str]:
    """Character 5-grams of the normalised text; a shorter text (an emoji, «+») is one shingle."""
    text = _normalised(text)
    if len(text) < SHINGLE:
        return {text}
    return {text[i : i + SHINGLE] for i in range(len(text) - SHINGLE + 1)}


def near_duplicates(texts: list[str], threshold: float = NEAR_DUPLICATE_JACCARD,
                    block: int = 500) -> list[tuple[int, int, float]]:
    """Pairs (i, j, Jaccard) of texts whose 5-gram sets overlap at least `threshold`.

    Emoji-only and other very short texts have a single shingle, so they count as
    duplicates only when equal after normalisation («👍» and «👍👍» are different).
    Intersections come from a sparse product, a block of rows at a time.
    """
    import numpy as np
    import scipy.sparse as sp

    vocabulary: dict[str, int] = {}
    rows, cols = [], []
    for i, text in enumerate(texts):
        for gram in shingles(text):
            rows.append(i)
            cols.append(vocabulary.setdefault(gram, len(vocabulary)))
    matrix = sp.csr_matrix((np.ones(len(rows), dtype=np.int32), (rows, cols)),
                           shape=(len(texts), max(len(vocabulary), 1)))
    sizes = np.asarray(matrix.sum(axis=1)).ravel()
    pairs = []
    for start in range(0, len(texts), block):
        shared = (matrix[start : start + block] @ matrix.T).toarray()
        union = sizes[start : start + block, None] + sizes[None, :] - shared
        jaccard = shared / np.maximum(union, 1)
        for i, j in zip(*np.nonzero(jaccard >= threshold), strict=True):
            if start + i < j:
                pairs.append((int(start + i), int(j), round(float(jaccard[i, j]), 3)))
    return pairs


def template_skeleton(text: str) -> str:
    """The text with numbers and capitalised words masked: one template's messages share it."""
    import re

    text = re.sub(r"\d+", "0", text)
    text = re.sub(r"\b[А-ЯЁA-Z][\w-]*", "X", text)
    return _normalised(text)
