"""A direct-line event: a source attached for a time window, with its own deadline.

The source is a broadcast post (the comments under it: `post_external_id`), a bot's
dialogs (`telegram:bot`, `max:bot`) or a chat; every message it brings between
`starts_at` and `ends_at` is a question of the event. Each question must be answered
within `answer_hours` of the event's end (answered on air counts).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from monitor.clock import iso, parse_time

if TYPE_CHECKING:  # the Context type only: context.py imports this layer
    from monitor.context import Context

DEFAULT_ANSWER_HOURS = 72.0


class DirectLineError(Exception):
    """What a moderator asked of a direct line cannot be done; the message says why."""


PLANNED, LIVE, FINISHED = "planned", "live", "finished"
STATE_TITLES = {PLANNED: "ещё не началась", LIVE: "идёт", FINISHED: "завершена"}


@dataclass(frozen=True)
class Event:
    id: int
    name: str
    source_id: int
    source_key: str
    source_name: str
    post_external_id: str | None
    starts_at: datetime
    ends_at: datetime
    answer_hours: float

    @property
    def due_at(self) -> datetime:
        """Every question answered by then."""
        return self.ends_at + timedelta(hours=self.answer_hours)

    def state(self, now: datetime) -> str:
        return PLANNED if now < self.starts_at else LIVE if now < self.ends_at else FINISHED

    def covers(self, external_id: str, parent_id: str | None, at: datetime) -> bool:
        """Whether a message of the event's source belongs to it."""
        if not self.starts_at <= at < self.ends_at:
            return False
        if not self.post_external_id:
            return True
        post = self.post_external_id
        return parent_id == post or (parent_id or "").startswith(post + "_") or \
            external_id.startswith(post + "_")


_SELECT = """SELECT e.id, e.name, e.source_id, s.key, s.name, e.post_external_id, e.starts_at,
                    e.ends_at, e.answer_hours FROM directline_events e
             JOIN sources s ON s.id = e.source_id"""


def _event(row) -> Event:
    return Event(row[0], row[1], row[2], row[3], row[4], row[5], parse_time(row[6]),
                 parse_time(row[7]), row[8])


def start(ctx: Context, name: str, source_key: str, starts_at: datetime, ends_at: datetime, *,
          post_external_id: str | None = None, answer_hours: float = DEFAULT_ANSWER_HOURS,
          actor: str) -> Event:
    """Attach `source_key` (and a broadcast post of it) for [starts_at, ends_at)."""
    db = ctx.db
    if not name.strip():
        raise DirectLineError("у прямой линии должно быть название")
    if ends_at <= starts_at:
        raise DirectLineError("конец прямой линии должен быть позже начала")
    if answer_hours <= 0:
        raise DirectLineError("срок ответа должен быть больше нуля часов")
    row = db.execute("SELECT id FROM sources WHERE key = ?", [source_key]).fetchone()
    if row is None:
        raise DirectLineError(f"источник {source_key} не найден: добавьте его (`tsur sources add`)")
    overlap = db.execute(
        "SELECT name FROM directline_events WHERE source_id = ? AND starts_at < ? AND ends_at > ?"
        " AND post_external_id IS ?", [row[0], iso(ends_at), iso(starts_at), post_external_id]).fetchone()
    if overlap:
        raise DirectLineError(f"в это время источник уже подключён к прямой линии «{overlap[0]}»")
    with db.atomic():
        event_id = db["directline_events"].insert({
            "name": name.strip(), "source_id": row[0], "post_external_id": post_external_id or None,
            "starts_at": iso(starts_at), "ends_at": iso(ends_at), "answer_hours": answer_hours,
            "created_by": actor, "created_at": iso(ctx.clock.now())}).last_pk
    return event_of(db, event_id)


def event_of(db, event_id: int) -> Event:
    row = db.execute(f"{_SELECT} WHERE e.id = ?", [event_id]).fetchone()
    if row is None:
        raise DirectLineError(f"прямой линии № {event_id} нет")
    return _event(row)


def events(db) -> list[Event]:
    """Every event, the newest first."""
    return [_event(r) for r in db.execute(f"{_SELECT} ORDER BY e.starts_at DESC, e.id DESC")]


def live_sources(db, lo: datetime, hi: datetime) -> set[int]:
    """The sources with an event open at some moment of [lo, hi]: ingest asks `covering`
    only for their messages."""
    return {r[0] for r in db.execute("SELECT DISTINCT source_id FROM directline_events"
                                     " WHERE starts_at <= ? AND ends_at > ?", [iso(hi), iso(lo)])}


def covering(db, source_id: int, external_id: str, parent_id: str | None,
             at: datetime) -> Event | None:
    """The event a message of this source at this moment belongs to, if any."""
    for row in db.execute(f"{_SELECT} WHERE e.source_id = ? AND e.starts_at <= ? AND e.ends_at > ?",
                          [source_id, iso(at), iso(at)]):
        event = _event(row)
        if event.covers(external_id, parent_id, at):
            return event
    return None
