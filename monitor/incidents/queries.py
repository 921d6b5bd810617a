"""Reading incidents, always through the viewer: an official sees only the
incidents of their organisation, a municipal moderator only those of their centre
(monitor.incidents.access), enforced here in SQL and nowhere else."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlite_utils import Database

from monitor.store import dicts
from monitor.titles import ANSWER_STATE_TITLES, SORT_TITLES, STATUS_TITLES

from .access import may_see, scope_of, visible_to

PAGE_SIZE = 50
FILTERS = ("status", "topic", "municipality", "urgency", "organisation_id", "tier")
FLAGS = ("source", "overdue", "repeats", "mine", "today")  # filters that are not a plain column
SORTS = SORT_TITLES  # the queue orders and their names
# The queue order of the `deadline` sort: the soonest deadline first, then the more
# urgent, incidents without a running deadline last. The same expressions are indexed
# (store/schema_incidents.py), so a page is an index walk, not a sort.
DUE_KEY = "COALESCE(i.next_due_at, '9999')"
URGENCY_RANK = ("CASE i.urgency WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2"
                " ELSE 3 END")

_BASE = """
SELECT i.*, p.text, p.url, p.channel, p.author_name, p.created_at AS posted_at,
       s.name AS source_name, s.key AS source_key, o.name AS organisation_name,
       (SELECT r.status FROM outbox r WHERE r.incident_id = i.id AND r.audience = 'resident'
          AND r.purpose = 'answer' ORDER BY r.id DESC LIMIT 1) AS answer_status
FROM incidents i
JOIN posts p ON p.id = i.post_id
JOIN sources s ON s.id = p.source_id
LEFT JOIN organisations o ON o.id = i.organisation_id
"""


def shown_status(row: dict) -> dict:
    """The status as people should read it: «дан ответ» only once the platform accepted
    the answer; before that, whether it waits, failed or went missing (`status_title`)."""
    row = dict(row)
    waiting = row["status"] == "answered" and row.get("answer_status") in ANSWER_STATE_TITLES
    row["status_title"] = (ANSWER_STATE_TITLES[row["answer_status"]] if waiting
                           else STATUS_TITLES.get(row["status"], row["status"]))
    row["answer_waiting"] = row["answer_status"] if waiting else None
    return row


class NotVisible(Exception):
    """No such incident for this viewer (it does not exist or belongs to another body)."""


@dataclass(frozen=True)
class Page:
    rows: list[dict]
    next_before: int | None
    next_cursor: str | None = None  # for sort="deadline"


def list_incidents(db: Database, viewer: dict, filters: dict | None = None,
                   before: int | None = None, limit: int = PAGE_SIZE,
                   after: int | None = None, sort: str = "newest", cursor: str | None = None,
                   now: str | None = None, day_start: str | None = None) -> Page:
    """One page of the queue, keyset-paginated.

    `sort="newest"`: by id, newest first (`before` = the last id shown; `after` keeps
    only incidents newer than an id, for live updates). `sort="deadline"`: soonest
    deadline, then urgency (`cursor` = the `next_cursor` of the previous page).
    Filters: the columns of FILTERS, plus `source` (a source key), `overdue` (needs
    `now`, an ISO UTC moment), `repeats` (only incidents that gathered repeats), `mine`
    (the viewer's organisation; for the ЦУР's own staff, what waits on the ЦУР) and `today`
    (opened since `day_start`, the region's midnight in UTC).
    """
    filters = filters or {}
    where, params = visible_to(viewer)
    clauses = [where]
    for name in FILTERS:
        value = filters.get(name)
        if value not in (None, ""):
            clauses.append(f"i.{name} = ?")
            params.append(value)
    if filters.get("source"):
        clauses.append("s.key = ?")
        params.append(filters["source"])
    if filters.get("overdue") and now:
        clauses.append("i.next_due_at < ?")
        params.append(now)
    if filters.get("repeats"):
        clauses.append("i.repeats > 0")
    if filters.get("mine"):
        if viewer.get("organisation_id"):
            clauses.append("i.organisation_id = ?")
            params.append(viewer["organisation_id"])
        else:
            clauses.append("(i.organisation_id IS NULL OR i.status IN ('new', 'confirmed',"
                           " 'draft_review'))")
    if filters.get("today") and day_start:
        clauses.append("i.opened_at >= ?")
        params.append(day_start)
    if sort == "deadline":
        order = f"{DUE_KEY}, {URGENCY_RANK}, i.id"
        if cursor:
            due, rank, last_id = _parse_cursor(cursor)
            clauses.append(f"({DUE_KEY}, {URGENCY_RANK}, i.id) > (?, ?, ?)")
            params += [due, rank, last_id]
    else:
        order = "i.id DESC"
        if before:
            clauses.append("i.id < ?")
            params.append(before)
        if after is not None:
            clauses.append("i.id > ?")
            params.append(after)
    # Walk incidents in queue order and look up each row's post and source: CROSS JOIN
    # pins that order, so missing or stale statistics (a new index on posts) cannot
    # turn the page into a scan and a sort of a million rows.
    base = _BASE.replace("\nJOIN posts", "\nCROSS JOIN posts").replace("\nJOIN sources",
                                                                     "\nCROSS JOIN sources")
    sql = f"{base} WHERE {' AND '.join(clauses)} ORDER BY {order} LIMIT ?"
    rows = [shown_status(r) for r in dicts(db, sql, params + [limit + 1])]
    more = len(rows) > limit
    rows = rows[:limit]
    if not more:
        return Page(rows, None)
    last = rows[-1]
    if sort == "deadline":
        rank = {"critical": 0, "high": 1, "normal": 2}.get(last["urgency"], 3)
        return Page(rows, last["id"], f"{last['next_due_at'] or '9999'}~{rank}~{last['id']}")
    return Page(rows, last["id"])


def _parse_cursor(cursor: str) -> tuple[str, int, int]:
    try:
        due, rank, last_id = cursor.rsplit("~", 2)
        return due, int(rank), int(last_id)
    except ValueError:
        raise ValueError(f"bad queue cursor {cursor!r}") from None


def count_by_status(db: Database, viewer: dict) -> dict[str, int]:
    """From the trigger-kept counters (store/schema_incidents.py), scoped by `visible_to`;
    a municipal centre's few incidents are counted directly (the counters hold no place)."""
    if scope_of(viewer):
        where, params = visible_to(viewer)
        return dict(db.execute(f"SELECT status, count(*) FROM incidents i WHERE {where}"
                               " GROUP BY status", params).fetchall())
    where, params = visible_to(viewer, "organisation_id")
    sql = (f"SELECT status, sum(n) FROM incident_counts WHERE {where}"
           " GROUP BY status HAVING sum(n) > 0")
    return dict(db.execute(sql, params).fetchall())


def get_incident(db: Database, viewer: dict, incident_id: int) -> dict:
    where, params = visible_to(viewer)
    rows = dicts(db, f"{_BASE} WHERE i.id = ? AND {where}", [incident_id, *params])
    if not rows:
        raise NotVisible(f"incident {incident_id} not found")
    incident = shown_status(rows[0])
    label = db.execute(
        "SELECT model_version, scores, explanations FROM labels WHERE post_id = ? ORDER BY id DESC LIMIT 1",
        [incident["post_id"]],
    ).fetchone()
    incident["model_version"] = label[0] if label else None
    incident["scores"] = json.loads(label[1]) if label else {}
    incident["explanations"] = json.loads(label[2]) if label and label[2] else {}
    incident["events"] = dicts(
        db, "SELECT * FROM incident_events WHERE incident_id = ? ORDER BY id", [incident_id]
    )
    for event in incident["events"]:
        event["data"] = json.loads(event["data"] or "{}")
    incident["people"] = dict(db.execute(
        "SELECT login, name FROM users WHERE login IN (SELECT actor FROM incident_events"
        " WHERE incident_id = ? UNION SELECT author FROM drafts WHERE incident_id = ?"
        " UNION SELECT moderator FROM drafts WHERE incident_id = ?)",
        [incident_id, incident_id, incident_id]).fetchall())
    incident["drafts"] = dicts(db, "SELECT * FROM drafts WHERE incident_id = ? ORDER BY id",
                                [incident_id])
    incident["repeat_posts"] = dicts(
        db, "SELECT r.post_id, r.score, r.linked_by, r.linked_at, p.text, p.author_name"
        " FROM incident_repeats r JOIN posts p ON p.id = r.post_id"
        " WHERE r.incident_id = ? AND r.unlinked_at IS NULL ORDER BY r.id", [incident_id])
    post = dicts(db, "SELECT source_id, external_id, parent_external_id, author_id, deleted_at,"
                      " edited_at FROM posts WHERE id = ?", [incident["post_id"]])[0]
    incident.update({f"post_{k}": v for k, v in post.items()})
    incident["thread"] = thread_of(db, viewer, incident)
    incident["author_posts"] = author_posts(db, viewer, incident)
    return incident


THREAD_SIDE = 5  # neighbouring comments shown before and after the post
AUTHOR_POSTS = 10

_POST = """
SELECT p.id, p.external_id, p.parent_external_id, p.text, p.author_name, p.created_at, p.url,
       p.channel, p.deleted_at, s.name AS source_name, i.id AS incident_id, i.status,
       i.organisation_id AS incident_organisation_id, i.municipality AS incident_municipality,
       i.tier AS incident_tier
FROM posts p JOIN sources s ON s.id = p.source_id LEFT JOIN incidents i ON i.post_id = p.id
"""


def _visible_links(viewer: dict, rows: list[dict]) -> list[dict]:
    """Another incident is linked only if this viewer may open it."""
    for row in rows:
        if row["incident_id"] and not may_see(viewer, row["incident_organisation_id"],
                                              row["incident_municipality"], row["incident_tier"]):
            row["incident_id"] = row["status"] = None
    return rows


def thread_of(db: Database, viewer: dict, incident: dict) -> dict:
    """The thread around the post: its parents (the wall post, the comment it answers),
    its neighbours under the same parent, and the replies to it, oldest first."""
    source, own = incident["post_source_id"], incident["post_external_id"]
    parents, parent = [], incident["post_parent_external_id"]
    while parent and len(parents) < 3:
        rows = dicts(db, f"{_POST} WHERE p.source_id = ? AND p.external_id = ?", [source, parent])
        if not rows:
            break
        parents.insert(0, rows[0])
        parent = rows[0]["parent_external_id"]
    before = after = []
    if incident["post_parent_external_id"]:
        same = f"{_POST} WHERE p.source_id = ? AND p.parent_external_id = ? AND p.id != ?"
        args = [source, incident["post_parent_external_id"], incident["post_id"]]
        before = dicts(db, f"{same} AND p.created_at <= ? ORDER BY p.created_at DESC, p.id DESC"
                            " LIMIT ?", [*args, incident["posted_at"], THREAD_SIDE])[::-1]
        after = dicts(db, f"{same} AND p.created_at > ? ORDER BY p.created_at, p.id LIMIT ?",
                       [*args, incident["posted_at"], THREAD_SIDE])
    replies = dicts(db, f"{_POST} WHERE p.source_id = ? AND p.parent_external_id = ?"
                         " ORDER BY p.created_at, p.id LIMIT ?", [source, own, 2 * THREAD_SIDE])
    return {key: _visible_links(viewer, rows) for key, rows in (
        ("parents", parents), ("before", before), ("after", after), ("replies", replies))}


def author_posts(db: Database, viewer: dict, incident: dict) -> list[dict]:
    """The author's other messages, newest first; an official (a municipal moderator) sees
    only those that are incidents of their own organisation (centre)."""
    if not incident.get("post_author_id"):
        return []
    scope, params = visible_to(viewer)
    where = f"p.author_id = ? AND p.id != ? AND {scope}"
    params = [incident["post_author_id"], incident["post_id"], *params]
    return dicts(db, f"{_POST} WHERE {where} ORDER BY p.created_at DESC, p.id DESC LIMIT ?",
                  [*params, AUTHOR_POSTS])


def organisation_choices(db: Database) -> list[tuple[int, str]]:
    """(id, name) of every organisation, by name: where an incident may be sent."""
    return db.execute("SELECT id, name FROM organisations ORDER BY name").fetchall()


def source_choices(db: Database) -> list[tuple[str, str]]:
    """(key, name) of every source, by name: the queue's source filter."""
    return db.execute("SELECT key, name FROM sources ORDER BY name").fetchall()


def municipality_choices(db: Database) -> list[str]:
    """The municipalities incidents were opened in: the queue's municipality filter."""
    return [r[0] for r in db.execute(
        "SELECT DISTINCT municipality FROM incidents WHERE municipality IS NOT NULL ORDER BY 1")]


def newest_incident_id(db: Database) -> int:
    """The highest incident id (0 if none): live updates announce those opened after it."""
    return db.execute("SELECT COALESCE(MAX(id), 0) FROM incidents").fetchone()[0]


def incident_count(db: Database) -> int:
    return db.execute("SELECT count(*) FROM incidents").fetchone()[0]


def post_of(db: Database, incident_id: int, viewer: dict | None = None) -> int | None:
    """The post an incident was opened for; None if there is no such incident (for
    this viewer)."""
    where, params = visible_to(viewer)
    row = db.execute(f"SELECT post_id FROM incidents i WHERE i.id = ? AND {where}",
                     [incident_id, *params]).fetchone()
    return row[0] if row else None
