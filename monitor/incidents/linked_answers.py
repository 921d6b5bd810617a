"""One approved answer for every resident of a mass incident or an incident with repeats.

Twenty residents wrote «нет воды» and their posts were linked to one incident (repeats,
spike members). When a moderator approves the answer (final or interim), it goes out
under the incident's own post and, as a reply row of its own, under every linked post:

- once per thread and author: a resident who wrote three times under one wall post, or
  in one chat, gets one reply, under their earliest post there; the incident's own
  author is answered by the incident's own reply;
- never to a post a moderator left out (`exclude`; `include` puts it back) nor twice to
  a post that already has this draft's answer;
- paced within the platforms' limits: replies to one chat or from one account are
  spaced by `not_before`, so the publisher never bursts past them (VK: 20 requests a
  second with a community token; Telegram: about 20 messages a minute in one group and
  30 a second overall; MAX and Одноклассники publish no figure, one a second);
- a post linked after the answer was approved gets that answer too (`answer_latecomer`).

Each row is published, retried and shown like any reply; the moment the platform
accepted it is that post's own response time (monitor.reports.metrics, `linked_reply`).
The incident's own reply times (monitor.incidents.reply_times) count only its own post.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from monitor.clock import iso

from . import outbox
from .states import OPEN_STATUSES, Event, TransitionError, get_row, record_event

if TYPE_CHECKING:  # the Context type only: context.py imports this layer
    from monitor.context import Context

FANNED_OUT = ("answer", "interim")  # approved answers that reach every linked post
# platform -> (seconds between replies to one chat or account, seconds between any two)
PACE = {"vk": (0.05, 0.05), "telegram": (3.0, 1 / 30), "max": (1.0, 1.0), "ok": (1.0, 1.0)}
DEFAULT_PACE = (1.0, 1.0)
PRIVATE_CHAT_GAP = 1.0  # Telegram: one message a second in one private chat
CHATS = ("telegram", "max", "ok_message")  # the chat is the thread
COMMENTS = ("vk_comment", "ok_comment")  # the wall post or topic is the thread

SKIP_TITLES = {
    "same_author": "автор уже получит ответ в этой ветке",
    "excluded": "модератор исключил",
    "deleted": "сообщение удалено",
    "answered": "этот ответ уже поставлен",
}

_LINKED = """
SELECT p.id AS post_id, p.source_id, p.external_id, p.parent_external_id, p.channel,
       p.author_id, p.author_name, p.text, p.url, p.created_at, p.deleted_at,
       s.platform, s.name AS source_name, r.linked_at, r.linked_by,
       EXISTS (SELECT 1 FROM answer_exclusions x WHERE x.incident_id = r.incident_id
               AND x.post_id = p.id) AS excluded
FROM incident_repeats r JOIN posts p ON p.id = r.post_id JOIN sources s ON s.id = p.source_id
WHERE r.incident_id = ? AND r.unlinked_at IS NULL
ORDER BY p.created_at, p.id
"""


@dataclass(frozen=True)
class Plan:
    send: list[dict]  # linked posts to answer, earliest first
    skipped: list[tuple[dict, str]]  # (post, a key of SKIP_TITLES)


def thread_of(channel: str, external_id: str, parent: str | None) -> str:
    """The conversation a post belongs to: a chat, a wall post or topic, or the post."""
    parts = (external_id or "").split("_")
    if channel in CHATS:
        return parts[0]
    if channel in COMMENTS:
        return "_".join(parts[:2])
    return parent or external_id


def linked_posts(db, incident_id: int) -> list[dict]:
    """The posts linked to the incident (not unlinked), earliest first."""
    return list(db.query(_LINKED, [incident_id]))


def _own_post(db, incident: dict) -> dict:
    row = db.execute("SELECT source_id, external_id, parent_external_id, channel, author_id"
                     " FROM posts WHERE id = ?", [incident["post_id"]]).fetchone()
    return dict(zip(("source_id", "external_id", "parent_external_id", "channel", "author_id"),
                    row, strict=True))


def _key(post: dict) -> tuple | None:
    if not post["author_id"]:
        return None  # an unknown author: nothing to merge on
    return (post["source_id"], thread_of(post["channel"], post["external_id"],
                                         post["parent_external_id"]), post["author_id"])


def plan(db, incident: dict, draft_id: int | None = None) -> Plan:
    """Which linked posts get the answer, and why the others do not."""
    answered = {r[0] for r in db.execute(
        "SELECT post_id FROM outbox WHERE audience = ? AND incident_id = ? AND linked = 1"
        " AND draft_id IS ?", [outbox.RESIDENT, incident["id"], draft_id])} if draft_id is not None else set()
    seen = {_key(_own_post(db, incident))}
    send, skipped = [], []
    for post in linked_posts(db, incident["id"]):
        key = _key(post)
        if post["excluded"]:
            skipped.append((post, "excluded"))
        elif post["deleted_at"]:
            skipped.append((post, "deleted"))
        elif post["post_id"] in answered:
            skipped.append((post, "answered"))
        elif key is not None and key in seen:
            skipped.append((post, "same_author"))
        else:
            seen.add(key)
            send.append(post)
    return Plan(send, skipped)


def _pace(post: dict) -> tuple[tuple, float, float]:
    """(the chat or account a reply is paced in, gap within it, gap across the platform)."""
    platform = post["platform"]
    per_key, overall = PACE.get(platform, DEFAULT_PACE)
    chat = thread_of(post["channel"], post["external_id"], None) if post["channel"] in CHATS else ""
    if platform == "telegram" and not chat.startswith("-"):
        per_key = PRIVATE_CHAT_GAP
    return (platform, chat if post["channel"] in CHATS else post["source_id"]), per_key, overall


def _schedule(posts: list[dict], now: datetime) -> list[datetime]:
    """The earliest moment each reply may go out, keeping every pace."""
    last: dict = {}
    moments = []
    for post in posts:
        key, gap, overall = _pace(post)
        moment = max([now]
                     + ([last[key] + timedelta(seconds=gap)] if key in last else [])
                     + ([last[key[0]] + timedelta(seconds=overall)] if key[0] in last else []))
        last[key] = last[key[0]] = moment
        moments.append(moment)
    return moments


def queue_all(ctx: Context, incident: dict, purpose: str, text: str, now: datetime, *,
              draft_id: int | None = None) -> int:
    """Queue the approved answer under every linked post that should get it; the caller
    holds the transaction. Returns how many replies were queued."""
    if purpose not in FANNED_OUT:
        return 0
    chosen = plan(ctx.db, incident, draft_id).send
    for post, moment in zip(chosen, _schedule(chosen, now), strict=True):
        outbox.queue_reply(ctx.db, incident, purpose, text, now, draft_id=draft_id,
                           post_id=post["post_id"], linked=True,
                           not_before=iso(moment) if moment > now else None)
    return len(chosen)


def answer_latecomer(db, incident_id: int, post_id: int, now: datetime) -> int | None:
    """A post linked after the answer was approved gets the latest approved answer of the
    current cycle (None: there is none, or the post should not get it); the caller holds
    the transaction."""
    draft = db.execute(  # one query: most linked posts come before any answer
        "SELECT d.id, d.kind FROM drafts d JOIN incidents i ON i.id = d.incident_id"
        " WHERE d.incident_id = ? AND d.status = 'approved'"
        " AND d.decided_at >= COALESCE(i.assigned_at, '') ORDER BY d.id DESC LIMIT 1",
        [incident_id]).fetchone()
    if draft is None:
        return None
    incident = get_row(db, incident_id)
    reply = db.execute("SELECT text, purpose FROM outbox WHERE audience = ? AND draft_id = ?"
                       " AND linked = 0 ORDER BY id LIMIT 1", [outbox.RESIDENT, draft[0]]).fetchone()
    if reply is None or post_id not in {p["post_id"] for p in plan(db, incident, draft[0]).send}:
        return None
    return outbox.queue_reply(db, incident, reply[1], reply[0], now, draft_id=draft[0],
                              post_id=post_id, linked=True)


def exclude(ctx: Context, incident_id: int, post_id: int, actor: str) -> None:
    """Leave a linked post out of the incident's answers (its pending replies are withdrawn)."""
    db, now = ctx.db, ctx.clock.now()
    with db.atomic():
        if post_id not in {p["post_id"] for p in linked_posts(db, incident_id)}:
            raise TransitionError(f"post {post_id} is not linked to incident {incident_id}")
        db.execute("INSERT OR IGNORE INTO answer_exclusions (incident_id, post_id, excluded_by,"
                   " excluded_at) VALUES (?, ?, ?, ?)", [incident_id, post_id, actor, iso(now)])
        withdrawn = outbox.withdraw_linked(db, incident_id, post_id,
                                           f"исключено модератором {actor}")
        _event(db, incident_id, "answer_excluded", actor, now,
               {"post_id": post_id, "withdrawn": withdrawn})


def include(ctx: Context, incident_id: int, post_id: int, actor: str) -> None:
    """Put a left-out post back: later answers reach it again."""
    db, now = ctx.db, ctx.clock.now()
    with db.atomic():
        if not db.execute("DELETE FROM answer_exclusions WHERE incident_id = ? AND post_id = ?",
                          [incident_id, post_id]).rowcount:
            raise TransitionError(f"post {post_id} is not left out of incident {incident_id}")
        _event(db, incident_id, "answer_included", actor, now, {"post_id": post_id})


def _event(db, incident_id: int, name: str, actor: str, now: datetime, data: dict) -> None:
    status = db.execute("SELECT status FROM incidents WHERE id = ?", [incident_id]).fetchone()[0]
    record_event(db, Event(incident_id, name, actor, now, status, status, data))


def overview(db, incident_id: int) -> list[dict]:
    """Every linked post, with why it gets no answer when it gets none (`skipped`)."""
    rows = linked_posts(db, incident_id)
    if not rows:
        return []
    incident = db["incidents"].get(incident_id)
    skipped = {post["post_id"]: reason for post, reason in plan(db, incident).skipped}
    for row in rows:
        reason = skipped.get(row["post_id"])
        row["skipped"] = SKIP_TITLES[reason] if reason and reason != "answered" else None
    return rows


def most_linked(db) -> int | None:
    """The open incident with the most posts linked to it (a mass incident, usually)."""
    row = db.execute(
        f"SELECT i.id FROM incidents i WHERE i.status IN ({', '.join('?' * len(OPEN_STATUSES))})"
        " AND i.repeats > 0 ORDER BY i.repeats DESC, i.id LIMIT 1", list(OPEN_STATUSES)).fetchone()
    return row[0] if row else None


def most_answered(db) -> tuple[int, int, int] | None:
    """(incident, replies under its linked posts, of them published) of the incident
    answered under the most linked posts."""
    row = db.execute("SELECT incident_id, count(*), sum(status = ?) FROM outbox"
                     " WHERE audience = ? AND linked = 1 GROUP BY incident_id"
                     " ORDER BY 2 DESC, 1 LIMIT 1", [outbox.PUBLISHED, outbox.RESIDENT]).fetchone()
    return tuple(row) if row else None
