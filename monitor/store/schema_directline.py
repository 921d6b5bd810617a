"""Migrations of the governor's direct line (monitor.directline).

Add a new function here and at the end of MIGRATIONS in monitor/store/schema.py;
never edit one that has been applied.
"""

from __future__ import annotations

from sqlite_utils import Database


def w012c_direct_line(db: Database) -> None:
    """An event attaches a source (a broadcast post's comments, a bot, a chat) for a time
    window; its messages are questions in the event's own queue, grouped by topic and by
    the question they ask; a group is answered on air or routed with the event's deadline."""
    db["directline_events"].create(
        {"id": int, "name": str, "source_id": int, "post_external_id": str, "starts_at": str,
         "ends_at": str, "answer_hours": float, "created_by": str, "created_at": str},
        pk="id", not_null={"name", "source_id", "starts_at", "ends_at", "answer_hours",
                           "created_by", "created_at"},
        foreign_keys=[("source_id", "sources", "id")],
    )
    db["directline_events"].create_index(["source_id", "starts_at"])
    db["directline_groups"].create(
        {"id": int, "event_id": int, "topic": str, "questions": int, "on_air_minute": int,
         "on_air_by": str, "on_air_at": str, "incident_id": int, "routed_by": str,
         "routed_at": str, "due_at": str, "created_at": str,
         "summary": str},  # JSON list: the group's most representative sentences, verbatim
        pk="id", not_null={"event_id", "topic", "questions", "created_at"},
        foreign_keys=[("event_id", "directline_events", "id"), ("incident_id", "incidents", "id")],
    )
    db["directline_groups"].create_index(["event_id", "topic"])
    db["directline_questions"].create(
        {"id": int, "event_id": int, "post_id": int, "topic": str, "municipality": str,
         "group_id": int, "created_at": str},
        pk="id", not_null={"event_id", "post_id", "topic", "created_at"},
        foreign_keys=[("event_id", "directline_events", "id"), ("post_id", "posts", "id"),
                      ("group_id", "directline_groups", "id")],
    )
    db["directline_questions"].create_index(["post_id"], unique=True)
    db["directline_questions"].create_index(["event_id", "group_id"])
