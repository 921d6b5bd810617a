"""After the event: what was asked, and what was answered on air, later, or late.

Each question is in one state: `on_air` (its group was answered during the broadcast),
`later` (an answer under it, or under another question of its author in the group, was
published by the event's deadline), `overdue` (published after the deadline, or none
yet and the deadline passed), `waiting` (none yet, the deadline still ahead). The tables
are monitor.reports.exports tables, written as CSV, XLSX or JSON by the same writers.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from monitor.clock import iso
from monitor.reports.exports import Table
from monitor.titles import TOPIC_TITLES

from .events import event_of
from .questions import groups

STATES = ("on_air", "later", "overdue", "waiting")
STATE_TITLES = {"on_air": "ответ в эфире", "later": "ответ позже, в срок",
                "overdue": "просрочено", "waiting": "ждёт ответа, срок не истёк"}

# Per question: its topic, municipality, whether answered on air, when first answered later.
_QUESTIONS = """
SELECT q.topic, q.municipality, g.on_air_minute IS NOT NULL,
       (SELECT min(r.published_at) FROM outbox r
        JOIN directline_questions q2 ON q2.post_id = r.post_id JOIN posts p2 ON p2.id = q2.post_id
        WHERE q2.group_id = q.group_id AND (q2.post_id = q.post_id OR p2.author_id = p.author_id)
          AND r.audience = 'resident' AND r.status = 'published'
          AND r.purpose IN ('answer', 'interim'))
FROM directline_questions q JOIN posts p ON p.id = q.post_id
LEFT JOIN directline_groups g ON g.id = q.group_id
WHERE q.event_id = ?
"""


def states(db, event_id: int, now: datetime) -> list[tuple[str, str | None, str]]:
    """(topic, municipality, state) of every question of the event."""
    due = iso(event_of(db, event_id).due_at)
    out = []
    for topic, municipality, on_air, answered in db.execute(_QUESTIONS, [event_id]):
        if on_air:
            state = "on_air"
        elif answered:
            state = "later" if answered <= due else "overdue"
        else:
            state = "overdue" if iso(now) > due else "waiting"
        out.append((topic, municipality, state))
    return out


def _table(name: str, title: str, heading: str, counts: dict[str, Counter],
           label=lambda key: key) -> Table:
    columns = [("key", heading), ("questions", "вопросов"),
               *((state, STATE_TITLES[state]) for state in STATES)]
    rows = [{"key": label(key), "questions": sum(c.values()), **{s: c.get(s, 0) for s in STATES}}
            for key, c in sorted(counts.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))]
    total = Counter()
    for c in counts.values():
        total.update(c)
    rows.append({"key": "всего", "questions": sum(total.values()), **{s: total.get(s, 0) for s in STATES}})
    return Table(name, title, columns, rows)


def tables(db, event_id: int, now: datetime) -> list[Table]:
    """Questions by topic and by municipality, each by state, and the groups."""
    by_topic: dict[str, Counter] = {}
    by_place: dict[str, Counter] = {}
    for topic, municipality, state in states(db, event_id, now):
        by_topic.setdefault(topic, Counter())[state] += 1
        by_place.setdefault(municipality or "—", Counter())[state] += 1
    event = event_of(db, event_id)
    return [
        _table("directline-topics", f"Прямая линия «{event.name}»: вопросы по темам", "тема",
               by_topic, lambda key: TOPIC_TITLES.get(key, key)),
        _table("directline-municipalities", f"Прямая линия «{event.name}»: вопросы по муниципалитетам",
               "муниципалитет", by_place),
        _groups_table(db, event_id),
    ]


def _groups_table(db, event_id: int) -> Table:
    rows = [{"topic": TOPIC_TITLES.get(g["topic"], g["topic"]), "questions": g["questions"],
             "summary": " / ".join(g["summary"]), "on_air_minute": g["on_air_minute"],
             "incident_id": g["incident_id"], "organisation": g["organisation_name"]}
            for g in groups(db, event_id)]
    columns = [("topic", "тема"), ("questions", "вопросов"), ("summary", "о чём (цитаты)"),
               ("on_air_minute", "минута эфира"), ("incident_id", "инцидент"),
               ("organisation", "исполнитель")]
    return Table("directline-groups", "Группы вопросов", columns, rows)
