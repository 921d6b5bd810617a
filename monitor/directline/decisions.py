"""What a moderator does with a group of questions: answered on air, or routed.

- `answer_on_air`: the group's question was answered during the broadcast, at this minute
  of it; all its questions count as answered then.
- `route`: the group goes to an executor as one incident: its earliest question opens it
  (assigned at once to the chosen organisation, or to the one routing picks for the
  topic and the municipality most of the group asked from), the other questions are
  linked to it, so the approved answer reaches every one of them
  (monitor.incidents.linked_answers). The group carries the event's own deadline (its
  end plus `answer_hours`); the incident's history names the event and that deadline.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from monitor.clock import iso
from monitor.incidents.lifecycle import act
from monitor.incidents.repeats import link
from monitor.incidents.routing import route as route_of
from monitor.incidents.states import Event, open_incident, record_event
from nlp import Labels

from .events import DirectLineError, event_of

if TYPE_CHECKING:  # the Context type only: context.py imports this layer
    from monitor.context import Context

ACTOR = "system:directline"


def _group(db, group_id: int, event_id: int) -> dict:
    rows = list(db["directline_groups"].rows_where("id = ? AND event_id = ?", [group_id, event_id]))
    if not rows:
        raise DirectLineError(f"группы № {group_id} в этой прямой линии нет")
    return rows[0]


def answer_on_air(ctx: Context, event_id: int, group_id: int, minute: int, actor: str) -> None:
    """Mark a group answered on air at `minute` of the broadcast."""
    db = ctx.db
    event = event_of(db, event_id)
    length = int((event.ends_at - event.starts_at).total_seconds() // 60)
    if not 0 <= minute <= length:
        raise DirectLineError(f"минута эфира — от 0 до {length}")
    with db.atomic():
        group = _group(db, group_id, event_id)
        if group["on_air_minute"] is not None:
            raise DirectLineError(f"группа уже отмечена: ответ в эфире на {group['on_air_minute']}-й минуте")
        db["directline_groups"].update(group_id, {"on_air_minute": minute, "on_air_by": actor,
                                                  "on_air_at": iso(ctx.clock.now())})


def route(ctx: Context, event_id: int, group_id: int, actor: str,
          organisation_id: int | None = None) -> int:
    """Send a group to an executor as one incident with the event's deadline; its id."""
    db, now = ctx.db, ctx.clock.now()
    event = event_of(db, event_id)
    with db.atomic():
        group = _group(db, group_id, event_id)
        if group["incident_id"] is not None:
            raise DirectLineError(f"группа уже направлена исполнителю: инцидент № {group['incident_id']}")
        questions = db.execute(
            "SELECT q.post_id, q.municipality, l.kind, l.topic, l.municipality, l.urgency"
            " FROM directline_questions q JOIN labels l ON l.id ="
            " (SELECT max(id) FROM labels WHERE post_id = q.post_id)"
            " WHERE q.group_id = ? ORDER BY q.created_at, q.id", [group_id]).fetchall()
        place = Counter(q[1] for q in questions if q[1]).most_common(1)
        municipality = place[0][0] if place else None
        if organisation_id is None:
            key, _ = route_of(ctx.settings, group["topic"], municipality, db)
            found = db.execute("SELECT id FROM organisations WHERE key = ?", [key]).fetchone() if key else None
            organisation_id = found[0] if found else None
        if organisation_id is None:
            raise DirectLineError("не найдено организации для этой темы и места: выберите её")
        first = questions[0]
        labels = Labels(first[2], group["topic"], municipality, first[5], {})
        incident_id = open_incident(ctx, first[0], labels, organisation_id,
                                    f"прямая линия «{event.name}»", actor=ACTOR)
        for question in questions[1:]:
            link(ctx, incident_id, question[0], None, ACTOR, f"прямая линия, группа {group_id}", now)
        act(ctx, incident_id, "assign", actor, organisation_id=organisation_id)
        status = db["incidents"].get(incident_id)["status"]
        record_event(db, Event(incident_id, "directline", actor, now, status, status, {
            "event_id": event_id, "group_id": group_id, "questions": len(questions),
            "due_at": iso(event.due_at)}))
        db["directline_groups"].update(group_id, {"incident_id": incident_id, "routed_by": actor,
                                                  "routed_at": iso(now), "due_at": iso(event.due_at)})
    return incident_id

