"""Which organisation handles an incident.

Most specific first: a rule for (topic, municipality), a rule for the topic alone in
that municipality's absence, the municipality's administration, the regional body
for the topic, and last the ЦУР's own queue.
"""

from __future__ import annotations

from monitor.settings import Settings

CUR_KEY = "cur"


def route(settings: Settings, topic: str, municipality: str | None) -> tuple[str | None, str]:
    """The organisation key (None if none is configured) and why it was chosen."""
    for rule in settings.routing:
        if rule.topic == topic and rule.municipality == municipality and municipality:
            return rule.organisation, f"правило {topic} + {municipality}"
    for rule in settings.routing:
        if rule.municipality == municipality and rule.topic is None and municipality:
            return rule.organisation, f"правило для {municipality}"
    for rule in settings.routing:
        if rule.topic == topic and rule.municipality is None:
            return rule.organisation, f"правило для темы {topic}"
    for org in settings.organisations:
        if municipality and org.municipality == municipality and org.kind == "administration":
            return org.key, f"администрация: {municipality}"
    for org in settings.organisations:
        if topic in org.topics and org.municipality is None:
            return org.key, f"региональный орган по теме {topic}"
    cur = settings.organisation(CUR_KEY) or next(
        (o for o in settings.organisations if o.kind == "cur"), None
    )
    return (cur.key if cur else None), "очередь ЦУР"
