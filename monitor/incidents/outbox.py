"""One outbox for everything tsur sends: replies to residents and notifications to staff.

A row says who it goes to (`audience`): a resident (a reply under their post or in
private, published by monitor.replies.publisher through the platform's sender) or staff
(a message to a moderators' or a supervisor's Telegram chat, sent by
monitor.replies.notify through the same Telegram sender). The workflow only queues
(`queue_reply`, `queue_notification`). A sender takes the oldest due row of its audience
(`next_due`), claims it (`claim`: a conditional UPDATE, so a claimed row is never handed
out again and nothing is sent twice even if the sender dies mid-way), sends, and records
the outcome here (`mark_published`, `mark_sent`, `retry_later`, `mark_failed`).

Each audience keeps the words people already read for its states: a reply is pending |
sending | published | failed | unknown (sent, no answer: a moderator checks) | withdrawn;
a notification pending | sending | sent | failed.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlite_utils import Database

from monitor.clock import iso
from monitor.store import dicts

RESIDENT, STAFF = "resident", "staff"
PENDING, SENDING, PUBLISHED, FAILED = "pending", "sending", "published", "failed"
UNKNOWN = "unknown"  # a reply sent with no answer back: it may have been published
WITHDRAWN = "withdrawn"  # a moderator left its post out before it was sent
SENT = "sent"  # a notification Telegram accepted
NOTICE_PENDING = PENDING  # a notification waiting for monitor.replies.notify
MAX_TEXT = 4096
MAX_ATTEMPTS = 5  # transient failures in a row before a person is asked
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
    return db["outbox"].insert({
        "audience": RESIDENT, "incident_id": incident["id"], "draft_id": draft_id,
        "purpose": purpose, "mode": mode, "post_id": post_id or incident["post_id"],
        "text": text, "status": PENDING, "created_at": iso(now), "linked": int(linked),
        "not_before": not_before,
    }).last_pk


def queue_notification(db: Database, chat_id: int, text: str, now: datetime, *,
                       once_key: str | None = None, incident_id: int | None = None) -> int | None:
    """Queue a message to a moderators' or a supervisor's Telegram chat; one with a
    `once_key` already queued is ignored (None)."""
    cursor = db.execute(
        "INSERT OR IGNORE INTO outbox (audience, once_key, incident_id, chat_id, text, status,"
        " attempts, created_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
        [STAFF, once_key, incident_id, int(chat_id), text[:MAX_TEXT], PENDING, iso(now)])
    return cursor.lastrowid if cursor.rowcount == 1 else None


# A reply with what its publisher needs to know of the post it answers.
_REPLY_WITH_POST = """
SELECT r.*, p.external_id AS post_external_id, p.parent_external_id, p.author_id, p.channel,
       p.deleted_at AS post_deleted_at, s.key AS source_key, s.platform AS source_platform,
       s.organisation_id AS source_organisation_id,
       i.organisation_id AS incident_organisation_id
FROM outbox r JOIN posts p ON p.id = r.post_id JOIN sources s ON s.id = p.source_id
JOIN incidents i ON i.id = r.incident_id
WHERE r.audience = ? AND """


def pending(db: Database, limit: int = 100) -> list[dict]:
    """Replies waiting for the publisher, oldest first, with what it needs to post them."""
    return dicts(db, _REPLY_WITH_POST + "r.status = ? ORDER BY r.id LIMIT ?", [RESIDENT, PENDING, limit])


def describe(db: Database, reply_id: int) -> dict:
    """One reply with what deciding where it goes needs (monitor.replies.targets); {} if
    there is no such reply."""
    rows = dicts(db, _REPLY_WITH_POST + "r.id = ?", [RESIDENT, reply_id])
    return rows[0] if rows else {}


def waiting(db: Database, audience: str) -> bool:
    """Whether anything of this audience waits to be sent (due or not)."""
    return db.execute("SELECT 1 FROM outbox WHERE audience = ? AND status = ? LIMIT 1",
                      [audience, PENDING]).fetchone() is not None


def next_due(db: Database, audience: str, now: datetime) -> int | None:
    """The oldest pending row of this audience whose time has come."""
    row = db.execute(
        "SELECT id FROM outbox WHERE audience = ? AND status = ?"
        " AND (not_before IS NULL OR not_before <= ?) ORDER BY id LIMIT 1",
        [audience, PENDING, iso(now)]).fetchone()
    return row[0] if row else None


def claim(db: Database, row_id: int, now: datetime) -> bool:
    """Take a pending row for sending; False if someone else already has it. The attempt
    is counted, and a reply gets its idempotency key (kept by every later attempt)."""
    with db.atomic():
        cursor = db.execute(
            "UPDATE outbox SET status = ?, claimed_at = ?, attempts = attempts + 1,"
            " guid = CASE WHEN audience = ? THEN coalesce(guid, ?) END"
            " WHERE id = ? AND status = ?",
            [SENDING, iso(now), RESIDENT, uuid.uuid4().hex, row_id, PENDING])
    return cursor.rowcount == 1


def get(db: Database, row_id: int) -> dict:
    return db["outbox"].get(row_id)


def set_target(db: Database, reply_id: int, platform: str, account: str) -> None:
    """Where a reply is being published and by whom."""
    db["outbox"].update(reply_id, {"platform": platform, "account": account})


def mark_published(db: Database, reply_id: int, external_id: str, now: datetime,
                   url: str | None = None) -> None:
    """The platform accepted the reply."""
    with db.atomic():
        db["outbox"].update(reply_id, {"status": PUBLISHED, "published_at": iso(now),
                                       "external_id": external_id, "url": url, "error": None,
                                       "failure": None, "not_before": None})


def mark_sent(db: Database, notification_id: int, now: datetime) -> None:
    """Telegram accepted the notification."""
    with db.atomic():
        db["outbox"].update(notification_id, {"status": SENT, "sent_at": iso(now),
                                              "error": None})


def next_try(attempts: int, retry_after: float | None = None) -> timedelta | None:
    """How long to wait after a transient failure: what the platform asked, else 2, 4,
    8… minutes; None once MAX_ATTEMPTS were made (a person looks at it)."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return timedelta(seconds=retry_after) if retry_after else timedelta(minutes=2 ** attempts)


def retry_later(db: Database, row_id: int, not_before: datetime, error: str,
                failure: str | None = None) -> None:
    """Back to pending: the platform did not take it this time, try again from then."""
    with db.atomic():
        db["outbox"].update(row_id, {"status": PENDING, "error": error[:1000],
                                     "failure": failure, "not_before": iso(not_before)})


def mark_failed(db: Database, row_id: int, error: str, *, status: str = FAILED,
                failure: str | None = None) -> None:
    """It did not go out (`failed`), or went out with no answer back (`unknown`)."""
    with db.atomic():
        db["outbox"].update(row_id, {"status": status, "error": error[:1000],
                                     "failure": failure})


def stuck_replies(db: Database, claimed_before: datetime) -> list[int]:
    """Replies left `sending` since before that moment: their publisher died mid-way."""
    return [r[0] for r in db.execute(
        "SELECT id FROM outbox WHERE audience = ? AND status = ? AND claimed_at <= ?",
        [RESIDENT, SENDING, iso(claimed_before)])]


def mark_stuck(db: Database, reply_id: int, reason: str) -> bool:
    """A reply still `sending` becomes `unknown`; False if it moved on meanwhile."""
    changed = db.execute("UPDATE outbox SET status = ?, error = ?, failure = ?"
                         " WHERE id = ? AND status = ?",
                         [UNKNOWN, reason, "unknown", reply_id, SENDING]).rowcount
    return changed == 1


def requeue(db: Database, reply_id: int, statuses: tuple[str, ...]) -> bool:
    """A reply in one of these states goes back to the queue as new (its key kept)."""
    changed = db.execute(
        "UPDATE outbox SET status = ?, not_before = NULL, attempts = 0, claimed_at = NULL"
        f" WHERE id = ? AND audience = ? AND status IN ({', '.join('?' * len(statuses))})",
        [PENDING, reply_id, RESIDENT, *statuses]).rowcount
    return changed == 1


def confirm(db: Database, reply_id: int, published_at: str) -> None:
    """A person saw the reply on the platform: published then."""
    db["outbox"].update(reply_id, {"status": PUBLISHED, "error": None,
                                   "published_at": published_at})


def withdraw_linked(db: Database, incident_id: int, post_id: int, reason: str) -> int:
    """Pending replies under a linked post that was left out: withdrawn, how many."""
    return db.execute(
        "UPDATE outbox SET status = ?, error = ? WHERE audience = ? AND incident_id = ?"
        " AND post_id = ? AND linked = 1 AND status = ?",
        [WITHDRAWN, reason, RESIDENT, incident_id, post_id, PENDING]).rowcount


def reply_of(db: Database, incident_id: int, reply_id: int) -> dict | None:
    rows = list(db["outbox"].rows_where("id = ? AND audience = ? AND incident_id = ?",
                                        [reply_id, RESIDENT, incident_id]))
    return rows[0] if rows else None


def replies(db: Database, incident_id: int, linked: bool = False) -> list[dict]:
    """The incident's replies under its own post or (`linked`) under linked posts."""
    return list(db["outbox"].rows_where("incident_id = ? AND audience = ? AND linked = ?",
                                        [incident_id, RESIDENT, int(linked)], order_by="id"))


def recent_replies(db: Database, status: str | None, limit: int) -> list[dict]:
    """The newest replies, of one status or (None) of all."""
    where, params = "audience = ?", [RESIDENT]
    if status is not None:
        where, params = where + " AND status = ?", [*params, status]
    return list(db["outbox"].rows_where(where, params, order_by="id desc", limit=limit))


def incident_of_reply(db: Database, reply_id: int) -> int | None:
    row = db.execute("SELECT incident_id FROM outbox WHERE id = ? AND audience = ?",
                     [reply_id, RESIDENT]).fetchone()
    return row[0] if row else None


def counts(db: Database) -> list[tuple[str, str, int]]:
    """(audience, status, rows) over the whole outbox."""
    return db.execute("SELECT audience, status, count(*) FROM outbox"
                      " GROUP BY audience, status ORDER BY audience, status").fetchall()


PUBLISHER_GRACE_MINUTES = 5  # a due reply waiting longer, with no claim since: nobody sends


def publisher_idle_since(db: Database, now: datetime) -> str | None:
    """When replies started waiting with no publisher taking them (UTC ISO), or None.

    There is no heartbeat: a publisher shows itself by claiming rows, so a reply due for
    more than a few minutes while nothing was claimed since means none is running."""
    since = iso(now - timedelta(minutes=PUBLISHER_GRACE_MINUTES))
    oldest = db.execute(
        "SELECT min(coalesce(not_before, created_at)) FROM outbox WHERE audience = ?"
        " AND status = ? AND coalesce(not_before, created_at) <= ?",
        [RESIDENT, PENDING, since]).fetchone()[0]
    if oldest is None:
        return None
    claimed = db.execute("SELECT max(claimed_at) FROM outbox WHERE audience = ?",
                         [RESIDENT]).fetchone()[0]
    return None if claimed and claimed >= oldest else oldest
