"""Migrations for collectors and sources (health, cursors, platform state).

Add a new function here and at the end of MIGRATIONS in monitor/store/schema.py;
never edit one that has been applied.
"""

from __future__ import annotations

from sqlite_utils import Database


def collectors_001_source_health(db: Database) -> None:
    """What `tsur sources list` shows and what the runner needs to pace a source.

    status: ok | failing | no_access | quota (paused is its own flag). retry_at: the
    runner leaves the source alone until then (back-off, daily quota). A removed source
    keeps its row (posts point at it) with removed_at set.
    """
    sources = db["sources"]
    sources.add_column("external_id", str)  # VK owner id, Telegram chat id, channel name, query
    sources.add_column("options", str)  # JSON: keywords of a search source…
    sources.add_column("status", str, not_null_default="ok")
    sources.add_column("error_count", int, not_null_default=0)
    sources.add_column("last_error_code", int)
    sources.add_column("retry_at", str)
    sources.add_column("removed_at", str)

    # A status change that needs a human (token dead, page changed shape): one row each;
    # notifications go out from rows with processed_at still null.
    db["collector_alerts"].create(
        {"id": int, "source_id": int, "occurred_at": str, "kind": str, "message": str,
         "processed_at": str},
        pk="id",
        not_null={"source_id", "occurred_at", "kind", "message"},
        foreign_keys=[("source_id", "sources", "id")],
    )
    db["collector_alerts"].create_index(["processed_at"])

    # Events pushed to the web app (VK Callback API, Telegram webhook), stored before
    # the platform gets its "ok"; `tsur collect` drains them in id order. The unique
    # key makes a re-sent event harmless.
    db["callback_inbox"].create(
        {"id": int, "platform": str, "group_id": int, "event_id": str, "payload": str,
         "received_at": str},
        pk="id",
        not_null={"platform", "event_id", "payload", "received_at"},
    )
    db["callback_inbox"].create_index(["platform", "event_id"], unique=True)
