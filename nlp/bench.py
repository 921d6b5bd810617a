"""Throughput of the pipeline against natasha running everything, on the same messages.

The pipeline is timed end to end (cleaning, tokens, lemmas, hashing, three calibrated
classifiers with explanations, danger rules, gazetteer and NER fallback) in batches as
`tsur classify` sends them. The baseline builds natasha's full `Doc` for every message
(segmentation, morphology tagging, NER), which is what "just use natasha" would cost.
Both run in this process, so pin it to one core first (`pin_to_one_core`). Time is
the process's CPU time, so other programs on a busy machine do not skew the figures.
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Sequence

BATCH = 256


def pin_to_one_core() -> str:
    """Restrict this process to one CPU core (Linux) and its BLAS to one thread.

    NumPy's BLAS starts one thread per core at import; left alone, those threads would
    share the one core and spin, and their CPU time would count against the pipeline.
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    if not hasattr(os, "sched_setaffinity"):
        return "BLAS limited to one thread; not pinned (no sched_setaffinity on this platform)"
    core = max(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {core})
    return f"pinned to core {core}, BLAS limited to one thread"


def time_pipeline(pipeline, texts: Sequence[str], batch: int = BATCH) -> float:
    """Messages per second of `pipeline.label` with explanations, one pass over `texts`."""
    start = time.process_time()
    for i in range(0, len(texts), batch):
        pipeline.label(list(texts[i : i + batch]), source_municipality=None, explain=True)
    return len(texts) / max(time.process_time() - start, 1e-9)


class NatashaEverything:
    """natasha's Doc pipeline with every tagger, built once."""

    def __init__(self):
        from natasha import Doc, NewsEmbedding, NewsMorphTagger, NewsNERTagger, Segmenter

        embedding = NewsEmbedding()
        self.doc = Doc
        self.segmenter = Segmenter()
        self.morph_tagger = NewsMorphTagger(embedding)
        self.ner_tagger = NewsNERTagger(embedding)

    def __call__(self, text: str):
        doc = self.doc(text)
        doc.segment(self.segmenter)
        doc.tag_morph(self.morph_tagger)
        doc.tag_ner(self.ner_tagger)
        return doc


def time_baseline(texts: Sequence[str], baseline: NatashaEverything | None = None) -> float:
    """Messages per second of natasha's full Doc pipeline, one message at a time."""
    baseline = baseline or NatashaEverything()
    for text in texts[:5]:
        baseline(text)
    start = time.process_time()
    for text in texts:
        baseline(text)
    return len(texts) / max(time.process_time() - start, 1e-9)


# Short social posts and long appeals are measured apart: cost grows with length, and a
# regional feedback platform's appeals (median about 40 words) are the long kind.
LONG_WORDS = 20


def split_by_length(texts: Sequence[str]) -> dict[str, list[str]]:
    """{"short": texts under LONG_WORDS words, "long": the rest}."""
    groups: dict[str, list[str]] = {"short": [], "long": []}
    for text in texts:
        groups["long" if len(text.split()) >= LONG_WORDS else "short"].append(text)
    return groups


def bench(pipeline, texts: Sequence[str], baseline_sample: int = 300) -> dict:
    """Both throughputs and their ratio, for short posts and long appeals apart.

    The pipeline first reads one half of each group, meeting most of its words for the
    first time (`cold`); then the other half, texts it has never seen with caches warmed
    on other texts, as a live service meets new posts (`pipeline_unseen_msg_per_s`); then
    the whole group again, with the caches a long-running service has for repeated
    wording (`pipeline_msg_per_s`). The baseline runs on an evenly spaced sample.
    """
    texts = [t for t in texts if t]
    baseline = NatashaEverything()
    gc.freeze()  # as `Pipeline.load` did for the pipeline's objects: the same footing
    figures: dict = {"messages": len(texts), "groups": {}}
    for name, group in split_by_length(texts).items():
        if not group:
            continue
        step = max(1, len(group) // max(baseline_sample, 1))
        sample = group[::step][:baseline_sample]
        half = max(1, len(group) // 2)
        cold = time_pipeline(pipeline, group[:half])
        unseen = time_pipeline(pipeline, group[half:]) if group[half:] else cold
        ours = time_pipeline(pipeline, group)
        theirs = time_baseline(sample, baseline)
        figures["groups"][name] = {
            "messages": len(group),
            "baseline_messages": len(sample),
            "median_words": sorted(len(t.split()) for t in group)[len(group) // 2],
            "pipeline_cold_msg_per_s": round(cold, 1),
            "pipeline_unseen_msg_per_s": round(unseen, 1),
            "pipeline_msg_per_s": round(ours, 1),
            "natasha_msg_per_s": round(theirs, 1),
            "ratio": round(ours / theirs, 1),
        }
    return figures
