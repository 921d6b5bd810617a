"""The chain of executors of an incident: the official, their head, the head's head.

An organisation names its `head` (an older configuration's `supervisor` counts as the
head) and the head's own head, `head_of_head`, each with an optional Telegram chat. A
breach escalates one step up the chain: the first breach of an incident to the head,
later ones to the head's head (monitor.incidents.worker). The region sees the whole
chain and how far up an incident has climbed on the incident page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from monitor.settings import Organisation, Settings

from .tiers import organisation_key


@dataclass(frozen=True)
class Link:
    level: int  # 0 the executor, 1 the head, 2 the head's head
    role: str
    title: str
    chat_id: int | None = None


def heads(org: Organisation | None) -> list[Link]:
    """The organisation's head and the head's head, as far as configured."""
    if org is None:
        return []
    links = []
    head, chat = org.head or org.supervisor, org.head_chat_id or org.supervisor_chat_id
    if head:
        links.append(Link(1, "руководитель", head, chat))
    if org.head_of_head:
        links.append(Link(len(links) + 1, "руководитель руководителя", org.head_of_head,
                          org.head_of_head_chat_id))
    return links


def escalation_step(org: Organisation | None, escalations_so_far: int) -> Link | None:
    """Whom the next escalation goes to: one step further up per breach, the top stays."""
    links = heads(org)
    return links[min(escalations_so_far, len(links) - 1)] if links else None


def chain_of(db, settings: Settings, incident: dict) -> list[dict]:
    """The incident's chain for its page: each link and whether an escalation reached it."""
    key = organisation_key(db, incident.get("organisation_id"))
    if key is None:
        return []
    org = settings.organisation(key)
    executor = "сотрудники организации"
    if incident.get("assignee_id"):
        row = db.execute("SELECT name FROM users WHERE id = ?", [incident["assignee_id"]]).fetchone()
        executor = row[0] if row else executor
    reached = max((json.loads(r[0] or "{}").get("level", 1) for r in db.execute(
        "SELECT data FROM incident_events WHERE incident_id = ? AND event = 'escalated'",
        [incident["id"]])), default=0)
    links = [Link(0, "исполнитель", executor), *heads(org)]
    name = org.name if org else key
    return [{"level": link.level, "role": link.role, "title": link.title, "organisation": name,
             "reached": 0 < link.level <= reached} for link in links]
