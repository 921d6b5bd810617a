"""The core tables: organisations, users, sources, posts, incidents, post versions.

Add a new function here and at the end of MIGRATIONS in monitor/store/schema.py;
never edit one that has been applied.
"""

from __future__ import annotations

from sqlite_utils import Database


def m001_initial(db: Database) -> None:
    db["organisations"].create(
        {
            "id": int,
            "key": str,
            "name": str,
            "municipality": str,
            "kind": str,
            "topics": str,  # JSON list
            "vk_group_id": int,
            "telegram_chat_id": int,
        },
        pk="id",
        not_null={"key", "name", "kind"},
    )
    db["organisations"].create_index(["key"], unique=True)

    db["users"].create(
        {
            "id": int,
            "login": str,
            "name": str,
            "role": str,  # admin | moderator | official | data_scientist
            "organisation_id": int,
            "password_hash": str,
            "created_at": str,
            "disabled": int,
        },
        pk="id",
        not_null={"login", "role", "password_hash", "created_at"},
        foreign_keys=[("organisation_id", "organisations", "id")],
        defaults={"disabled": 0},
    )
    db["users"].create_index(["login"], unique=True)

    db["sources"].create(
        {
            "id": int,
            "key": str,  # platform:external id, e.g. vk:-100001
            "platform": str,
            "name": str,
            "role": str,  # official | watched
            "municipality": str,
            "organisation_id": int,
            "cursor": str,  # JSON, written in the same transaction as the posts it covers
            "paused": int,
            "last_success_at": str,
            "last_error": str,
            "last_error_at": str,
            "created_at": str,
        },
        pk="id",
        not_null={"key", "platform", "name", "role", "created_at"},
        foreign_keys=[("organisation_id", "organisations", "id")],
        defaults={"paused": 0},
    )
    db["sources"].create_index(["key"], unique=True)

    db["posts"].create(
        {
            "id": int,
            "source_id": int,
            "external_id": str,
            "channel": str,  # vk_post | vk_comment | telegram
            "parent_external_id": str,
            "author_id": str,
            "author_name": str,
            "text": str,
            "url": str,
            "created_at": str,
            "collected_at": str,
            "edited_at": str,
            "deleted_at": str,
            "raw": str,  # the platform's JSON as received
        },
        pk="id",
        not_null={"source_id", "external_id", "channel", "text", "created_at", "collected_at"},
        foreign_keys=[("source_id", "sources", "id")],
    )
    db["posts"].create_index(["source_id", "external_id"], unique=True)
    db["posts"].create_index(["created_at"])

    db["labels"].create(
        {
            "id": int,
            "post_id": int,
            "model_version": str,
            "kind": str,
            "topic": str,
            "municipality": str,
            "urgency": str,
            "scores": str,  # JSON: label -> probability of the chosen value
            "explanations": str,  # JSON: label -> short text
            "created_at": str,
        },
        pk="id",
        not_null={"post_id", "model_version", "kind", "topic", "urgency", "created_at"},
        foreign_keys=[("post_id", "posts", "id")],
    )
    db["labels"].create_index(["post_id", "model_version"], unique=True)

    db["incidents"].create(
        {
            "id": int,
            "post_id": int,
            "status": str,
            "kind": str,
            "topic": str,
            "municipality": str,
            "urgency": str,
            "organisation_id": int,
            "opened_at": str,
            "first_reply_due_at": str,
            "next_due_at": str,
            "first_reply_at": str,
            "updated_at": str,
        },
        pk="id",
        not_null={"post_id", "status", "kind", "topic", "urgency", "opened_at", "updated_at"},
        foreign_keys=[("post_id", "posts", "id"), ("organisation_id", "organisations", "id")],
    )
    db["incidents"].create_index(["post_id"], unique=True)
    db["incidents"].create_index(["status", "opened_at"])
    db["incidents"].create_index(["organisation_id", "status"])
    db["incidents"].create_index(["next_due_at"])

    db["incident_events"].create(
        {
            "id": int,
            "incident_id": int,
            "occurred_at": str,
            "actor": str,  # user login, or system:<component>
            "event": str,
            "old_status": str,
            "new_status": str,
            "data": str,  # JSON
            "processed_at": str,
        },
        pk="id",
        not_null={"incident_id", "occurred_at", "actor", "event"},
        foreign_keys=[("incident_id", "incidents", "id")],
    )
    db["incident_events"].create_index(["incident_id", "id"])
    # History is append-only: the database itself refuses edits and deletions.
    db.execute(
        "CREATE TRIGGER incident_events_no_update BEFORE UPDATE OF incident_id, occurred_at,"
        " actor, event, old_status, new_status, data ON incident_events"
        " BEGIN SELECT RAISE(ABORT, 'incident events are append-only'); END"
    )
    db.execute(
        "CREATE TRIGGER incident_events_no_delete BEFORE DELETE ON incident_events"
        " BEGIN SELECT RAISE(ABORT, 'incident events are append-only'); END"
    )


def m002_post_versions(db: Database) -> None:
    """Edits keep the text history: the replaced text of a post, one row per edit."""
    db["post_versions"].create(
        {"id": int, "post_id": int, "text": str, "raw": str, "replaced_at": str},
        pk="id",
        not_null={"post_id", "text", "replaced_at"},
        foreign_keys=[("post_id", "posts", "id")],
    )
    db["post_versions"].create_index(["post_id"])
