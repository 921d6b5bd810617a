"""A group's extractive summary: its most representative sentences, word for word.

Every sentence of the group's questions is read as a problem (nlp.likeness, as repeats
and spikes read them); the sentences most like all the others (the highest mean
similarity, monitor.incidents.spikes.pairwise) are the summary, each quoted as written
and none repeating another. Nothing is generated.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import numpy as np

from monitor.incidents.repeats import Similarity
from monitor.incidents.spikes import Candidate, pairwise, problems

SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
MAX_SENTENCES = 60  # read at most this many sentences of a group (the earliest)
MIN_WORDS = 3  # shorter sentences («Здравствуйте!») say nothing of the question
SAME = 0.9  # a sentence this like one already picked is left out
PICK = 2
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def sentences(text: str) -> list[str]:
    return [s.strip() for s in SENTENCE_END.split(text or "") if s.strip()]


def summarise(similarity: Similarity, texts: list[str], pick: int = PICK) -> list[str]:
    """The `pick` most representative sentences of these texts, as written."""
    every = [s for text in texts for s in sentences(text)]
    long = [s for s in every if len(s.split()) >= MIN_WORDS] or every
    chosen = list(dict.fromkeys(long))[:MAX_SENTENCES]
    if len(chosen) <= 1:
        return chosen
    matrix = pairwise(problems(similarity, [Candidate(k, _EPOCH, s, None, None)
                                            for k, s in enumerate(chosen)]))
    centrality = matrix.sum(axis=1) / (len(chosen) - 1)
    picked: list[int] = []
    for k in np.argsort(-centrality, kind="stable"):
        if all(matrix[k, j] < SAME for j in picked):
            picked.append(int(k))
        if len(picked) == pick:
            break
    return [chosen[k] for k in picked]
