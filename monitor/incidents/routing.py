"""Which organisation handles an incident, and which of its officials.

Most specific first: a rule for (topic, municipality), a rule for the municipality
alone, a rule for the topic alone, the municipality's administration, the regional
ministry for the topic, and last the ЦУР's own queue. Re-routing is an `assign`
action: the event keeps the organisation it came from.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from monitor.settings import RoutingRule, Settings
from monitor.titles import TOPIC_TITLES

if TYPE_CHECKING:  # the Context type only: context.py imports this layer
    from monitor.context import Context

CUR_KEY = "cur"


def rules(settings: Settings, db=None) -> list[RoutingRule]:
    """The routing rules in force: those admins added in the web UI (newest first),
    then those of tsur.toml."""
    edited = []
    if db is not None and db["routing_rules"].exists():
        edited = [RoutingRule(organisation=r[0], topic=r[1] or None, municipality=r[2] or None)
                  for r in db.execute("SELECT organisation_key, topic, municipality"
                                      " FROM routing_rules ORDER BY id DESC")]
    return [*edited, *settings.routing]


def edited_rules(db) -> list[dict]:
    """The rules admins added in the web UI, newest first, as rows."""
    return list(db.query("SELECT * FROM routing_rules ORDER BY id DESC"))


def rule_by_id(db, rule_id: int) -> dict | None:
    rows = list(db.query("SELECT * FROM routing_rules WHERE id = ?", [rule_id]))
    return rows[0] if rows else None


def add_rule(db, topic: str | None, municipality: str | None, organisation: str, actor: str,
             now) -> int:
    with db.atomic():
        return db["routing_rules"].insert({
            "topic": topic or None, "municipality": municipality or None,
            "organisation_key": organisation, "created_by": actor,
            "created_at": now.isoformat()}).last_pk


def delete_rule(db, rule_id: int) -> None:
    with db.atomic():
        db["routing_rules"].delete(rule_id)


def route(settings: Settings, topic: str, municipality: str | None,
          db=None, in_force: list[RoutingRule] | None = None) -> tuple[str | None, str]:
    """The organisation key (None if none is configured) and why it was chosen
    (`in_force`: the `rules` already read, e.g. once for a batch)."""
    in_force = rules(settings, db) if in_force is None else in_force
    for rule in in_force:
        if rule.topic == topic and rule.municipality == municipality and municipality:
            return rule.organisation, f"правило «{TOPIC_TITLES.get(topic, topic)}» + {municipality}"
    for rule in in_force:
        if rule.municipality == municipality and rule.topic is None and municipality:
            return rule.organisation, f"правило для {municipality}"
    for rule in in_force:
        if rule.topic == topic and rule.municipality is None:
            return rule.organisation, f"правило для темы «{TOPIC_TITLES.get(topic, topic)}»"
    for org in settings.organisations:
        if municipality and org.municipality == municipality and org.kind == "administration":
            return org.key, f"администрация: {municipality}"
    for org in settings.organisations:
        if topic in org.topics and org.municipality is None:
            return org.key, f"региональный орган по теме «{TOPIC_TITLES.get(topic, topic)}»"
    cur = settings.organisation(CUR_KEY) or next(
        (o for o in settings.organisations if o.kind == "cur"), None
    )
    return (cur.key if cur else None), "очередь ЦУР"


def pick_official(ctx: Context, organisation_id: int) -> int | None:
    """Round-robin: the active official after the one who got this organisation's
    latest incident (by user id, wrapping round); None if it has no officials."""
    db = ctx.db
    officials = [r[0] for r in db.execute(
        "SELECT id FROM users WHERE organisation_id = ? AND role = 'official' AND disabled = 0"
        " ORDER BY id", [organisation_id])]
    if not officials:
        return None
    last = db.execute(
        "SELECT assignee_id FROM incidents WHERE organisation_id = ? AND assignee_id IS NOT NULL"
        " ORDER BY assigned_at DESC, id DESC LIMIT 1", [organisation_id]).fetchone()
    if last is None:
        return officials[0]
    return next((o for o in officials if o > last[0]), officials[0])


def routing_history(db, incident_id: int) -> list[dict]:
    """Every organisation the incident was sent to, oldest first, with who sent it."""
    names = dict(db.execute("SELECT id, name FROM organisations").fetchall())
    out = []
    for occurred_at, actor, event, data in db.execute(
            "SELECT occurred_at, actor, event, data FROM incident_events WHERE incident_id = ?"
            " AND event IN ('opened', 'assign') ORDER BY id", [incident_id]):
        data = json.loads(data or "{}")
        org = data.get("organisation_id")
        out.append({"at": occurred_at, "actor": actor, "event": event, "organisation_id": org,
                    "organisation": names.get(org), "reason": data.get("route"),
                    "from_organisation_id": data.get("from_organisation_id")})
    return out
