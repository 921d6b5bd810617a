"""Migrations for the retraining loop (label corrections by moderators).

Add a new function here and at the end of MIGRATIONS in monitor/store/schema.py;
never edit one that has been applied.
"""

from __future__ import annotations

from sqlite_utils import Database


def retraining_001_label_corrections(db: Database) -> None:
    """One row per label per review of a post by a moderator.

    A review writes one row for each of kind, topic, municipality and urgency: the value
    shown (`old_value`) and the value the moderator asserts (`new_value`). A changed
    value is a correction; a review whose four rows are unchanged is a confirmation.
    Both are training evidence. Append-only, like incident history.
    """
    db["label_corrections"].create(
        {
            "id": int,
            "review_id": int,  # groups the four rows of one submission
            "post_id": int,
            "incident_id": int,  # null for a post that opened no incident
            "label": str,  # kind | topic | municipality | urgency
            "old_value": str,  # null: no municipality
            "new_value": str,
            "model_version": str,  # labels.model_version of the post when reviewed
            "author": str,  # user login
            "at": str,  # UTC ISO
        },
        pk="id",
        not_null={"review_id", "post_id", "label", "author", "at"},
        foreign_keys=[("post_id", "posts", "id"), ("incident_id", "incidents", "id")],
    )
    db["label_corrections"].create_index(["post_id", "id"])
    db["label_corrections"].create_index(["at"])
    db["label_corrections"].create_index(["review_id"])
    db.execute(
        "CREATE TRIGGER label_corrections_no_update BEFORE UPDATE ON label_corrections"
        " BEGIN SELECT RAISE(ABORT, 'label corrections are append-only'); END"
    )
    db.execute(
        "CREATE TRIGGER label_corrections_no_delete BEFORE DELETE ON label_corrections"
        " BEGIN SELECT RAISE(ABORT, 'label corrections are append-only'); END"
    )


def retraining_002_model_comparisons(db: Database) -> None:
    """Each `tsur models compare` run: the versions compared and the full report (JSON),
    so the data scientists' page shows it without re-evaluating in a web request."""
    db["model_comparisons"].create(
        {
            "id": int,
            "at": str,  # UTC ISO
            "by": str,  # who ran it (OS user or web login)
            "candidate": str,  # JSON task → version
            "production": str,
            "report": str,  # JSON, monitor.retraining.models.compare
        },
        pk="id",
        not_null={"at", "candidate", "production", "report"},
    )
