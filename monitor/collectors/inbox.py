"""The callback inbox: events VK, Telegram, MAX and OK pushed to the web app, waiting for
`tsur collect` to read them like any other source (the web request stays fast).

The unique (platform, event id) key makes an event the platform sends again harmless.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlite_utils import Database

from monitor.clock import iso


def store_event(db: Database, platform: str, group_id: int | None, event_id: str,
                payload: dict, now: datetime) -> None:
    with db.atomic():
        db.execute(
            "INSERT OR IGNORE INTO callback_inbox (platform, group_id, event_id, payload, "
            "received_at) VALUES (?, ?, ?, ?, ?)",
            [platform, group_id, event_id, json.dumps(payload, ensure_ascii=False), iso(now)])


def events_after(db: Database, platform: str, after: int, limit: int) -> list[dict]:
    """The platform's events stored after inbox row `after`, oldest first."""
    return list(db["callback_inbox"].rows_where("platform = ? AND id > ?", [platform, after],
                                                order_by="id", limit=limit))
