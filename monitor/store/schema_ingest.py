"""Migrations of ingest: how long each stage of a batch takes (labelling above all).

Add a new function here and at the end of MIGRATIONS in monitor/store/schema.py;
never edit one that has been applied.
"""

from __future__ import annotations

from sqlite_utils import Database


def ingest_001_stage_timings(db: Database) -> None:
    """Cumulative seconds per ingest stage as histogram buckets (monitor.ingest.timings):
    the collector adds each batch, /metrics in the web app reads them. One row per
    stage and bucket upper bound `le`, so the table never grows with the traffic."""
    db["ingest_timings"].create(
        {"stage": str, "le": float, "batches": int, "seconds": float, "messages": int},
        pk=("stage", "le"), not_null={"stage", "le", "batches", "seconds", "messages"},
    )


def w014_lemma_cache(db: Database) -> None:
    """The lemmas pymorphy3 parsed for words outside nlp's shipped table
    (monitor.ingest.lemmas), kept across restarts; `morph` names the pymorphy3 version
    and dictionary that gave them (another version's rows are not read)."""
    db["lemma_cache"].create({"word": str, "lemma": str, "morph": str}, pk=("morph", "word"),
                             not_null={"word", "lemma", "morph"})
