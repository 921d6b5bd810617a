"""Messages to residents waiting to be published, and their fate.

The workflow only queues: an approved reply, an acknowledgement, a question to the
author or the request to rate a solution becomes a `pending` row. The publisher
(monitor.replies, VK / Telegram) claims a row with `claim`, posts it, and records
`mark_published` or `mark_failed`; a row claimed once is never handed out again, so
nothing is posted twice even if the publisher dies mid-way. Notifications to the
moderators' Telegram chats are queued here too (`queue_notification`) and sent by
monitor.replies.notify.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlite_utils import Database

from monitor.clock import iso

PENDING, SENDING, PUBLISHED, FAILED = "pending", "sending", "published", "failed"
WITHDRAWN = "withdrawn"  # a moderator left its post out before it was sent
NOTICE_PENDING = "pending"  # a notification waiting for monitor.replies.notify
MAX_TEXT = 4096
PURPOSES = ("acknowledgement", "interim", "answer", "info_request", "info_reminder",
            "feedback_question", "info_closed")


def queue_reply(db: Database, incident: dict, purpose: str, text: str, now: datetime, *,
                draft_id: int | None = None, mode: str = "reply", post_id: int | None = None,
                linked: bool = False, not_before: str | None = None) -> int:
    """A message to the incident's author, under their post (`reply`) or in private (`dm`);
    with `post_id` and `linked`, under a post linked to the incident
    (monitor.incidents.linked_answers), not before `not_before`."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown reply purpose {purpose!r}")
    return db["reply_outbox"].insert({
        "incident_id": incident["id"], "draft_id": draft_id, "purpose": purpose, "mode": mode,
        "post_id": post_id or incident["post_id"], "text": text, "status": PENDING,
        "created_at": iso(now), "linked": int(linked), "not_before": not_before,
    }).last_pk


def pending(db: Database, limit: int = 100) -> list[dict]:
    """Replies waiting for the publisher, oldest first, with what it needs to post them."""
    sql = """
    SELECT r.*, p.external_id AS post_external_id, p.parent_external_id, p.author_id,
           p.channel, s.key AS source_key
    FROM reply_outbox r JOIN posts p ON p.id = r.post_id JOIN sources s ON s.id = p.source_id
    WHERE r.status = ? ORDER BY r.id LIMIT ?"""
    cursor = db.execute(sql, [PENDING, limit])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def claim(db: Database, reply_id: int, now: datetime) -> bool:
    """Take a pending reply for publishing; False if someone else already has it."""
    with db.atomic():
        cursor = db.execute(
            "UPDATE reply_outbox SET status = ?, claimed_at = ? WHERE id = ? AND status = ?",
            [SENDING, iso(now), reply_id, PENDING])
    return cursor.rowcount == 1


def mark_published(db: Database, reply_id: int, external_id: str, now: datetime) -> None:
    with db.atomic():
        db["reply_outbox"].update(reply_id, {"status": PUBLISHED, "published_at": iso(now),
                                             "external_id": external_id, "error": None})


def mark_failed(db: Database, reply_id: int, error: str) -> None:
    with db.atomic():
        db["reply_outbox"].update(reply_id, {"status": FAILED, "error": error[:1000]})


def queue_notification(db: Database, chat_id: int, text: str, now: datetime, *,
                       once_key: str | None = None, incident_id: int | None = None) -> int | None:
    """Queue a message to a moderators' or a supervisor's Telegram chat; one with a
    `once_key` already queued is ignored (None)."""
    cursor = db.execute(
        "INSERT OR IGNORE INTO notifications (once_key, incident_id, chat_id, text, status,"
        " attempts, created_at) VALUES (?, ?, ?, ?, ?, 0, ?)",
        [once_key, incident_id, int(chat_id), text[:MAX_TEXT], NOTICE_PENDING, iso(now)])
    return cursor.lastrowid if cursor.rowcount == 1 else None


PUBLISHER_GRACE_MINUTES = 5  # a due reply waiting longer, with no claim since: nobody sends


def publisher_idle_since(db: Database, now: datetime) -> str | None:
    """When replies started waiting with no publisher taking them (UTC ISO), or None.

    There is no heartbeat: a publisher shows itself by claiming rows, so a reply due for
    more than a few minutes while nothing was claimed since means none is running."""
    since = iso(now - timedelta(minutes=PUBLISHER_GRACE_MINUTES))
    oldest = db.execute(
        "SELECT min(coalesce(not_before, created_at)) FROM reply_outbox WHERE status = ?"
        " AND coalesce(not_before, created_at) <= ?", [PENDING, since]).fetchone()[0]
    if oldest is None:
        return None
    claimed = db.execute("SELECT max(claimed_at) FROM reply_outbox").fetchone()[0]
    return None if claimed and claimed >= oldest else oldest
