"""How well repeats are linked: precision and recall on labelled pairs of complaints.

A pair is two complaints of one topic and municipality, marked as the same problem at
the same place (the second should be linked to the first) or not (another problem at
the same place, the same problem at another place, or no place and only a loose
likeness). The first complaint of every pair of a topic is an open incident at once,
so a second complaint may also be linked to the wrong pair's incident: that counts
against precision like any link that should not be.

The pairs live in `tests/data/repeat_pairs.jsonl`; `tsur bench repeats` prints the figures.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from .open_problems import Group, OpenProblems
from .repeats import Similarity, rank

PAIRS = Path(__file__).resolve().parents[2] / "tests" / "data" / "repeat_pairs.jsonl"


@dataclass
class Quality:
    pairs: int = 0
    linked_right: int = 0  # a repeat linked to its own first complaint
    linked_wrong: int = 0  # a link that should not be (or to another pair's incident)
    missed: int = 0  # a repeat left on its own
    seconds: float = 0.0
    mistakes: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        links = self.linked_right + self.linked_wrong
        return self.linked_right / links if links else 1.0

    @property
    def recall(self) -> float:
        same = self.linked_right + self.missed
        return self.linked_right / same if same else 1.0


def read_pairs(path: Path = PAIRS) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def evaluate(similarity: Similarity, pairs: list[dict]) -> Quality:
    """Link each pair's second complaint against every first complaint of its topic."""
    quality = Quality(pairs=len(pairs))
    by_topic: dict[str, list[int]] = defaultdict(list)
    for number, pair in enumerate(pairs):
        by_topic[pair["topic"]].append(number)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    dense = OpenProblems().dense
    began = time.perf_counter()
    for numbers in by_topic.values():
        group = Group()
        for number in numbers:
            group.add(number + 1, now, similarity.read(pairs[number]["first"]))
        for number in numbers:
            pair = pairs[number]
            ranked = rank(similarity.reader, group, similarity.read(pair["second"]),
                          now - timedelta(days=1), dense)
            linked = group.ids[ranked[0][0]] - 1 if ranked else None
            if pair["same"] and linked == number:
                quality.linked_right += 1
                continue
            if linked is None and not pair["same"]:
                continue
            if linked is not None:
                quality.linked_wrong += 1
            if pair["same"]:
                quality.missed += 1
            quality.mistakes.append(f"{pair['case']}: «{pair['second']}» → "
                                    + (f"«{pairs[linked]['first']}»" if linked is not None
                                       else "not linked"))
    quality.seconds = time.perf_counter() - began
    return quality
