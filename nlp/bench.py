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


def bench(pipeline, texts: Sequence[str], baseline_sample: int = 300) -> dict:
    """Both throughputs and their ratio. The baseline runs on an evenly spaced sample.

    The pipeline makes two passes: the first meets every word for the first time
    (pymorphy3 parses, character n-grams: `cold`), the second runs with the caches a
    long-running service has after a few thousand messages (`pipeline_msg_per_s`).
    """
    texts = [t for t in texts if t]
    step = max(1, len(texts) // max(baseline_sample, 1))
    sample = texts[::step][:baseline_sample]
    baseline = NatashaEverything()
    gc.freeze()  # as `Pipeline.load` did for the pipeline's objects: the same footing
    cold = time_pipeline(pipeline, texts)
    ours = time_pipeline(pipeline, texts)
    theirs = time_baseline(sample, baseline)
    return {
        "messages": len(texts),
        "baseline_messages": len(sample),
        "mean_chars": round(sum(map(len, texts)) / max(len(texts), 1)),
        "pipeline_cold_msg_per_s": round(cold, 1),
        "pipeline_msg_per_s": round(ours, 1),
        "natasha_msg_per_s": round(theirs, 1),
        "ratio": round(ours / theirs, 1),
    }
