"""The incident's events told as sentences people read: «Анна Смирнова подтвердила»,
«Площадка приняла ответ» — the person's name and a verb in the past tense, never a login
and a code. The events themselves stay as they are stored (monitor.incidents.states)."""

from __future__ import annotations

import re

from monitor.titles import (
    ACTOR_TITLES,
    EVENT_TITLES,
    EVENT_VERBS,
    FAILURE_TITLES,
    LABEL_NAME_TITLES,
    PURPOSE_TITLES,
    STATUS_TITLES,
    SYSTEM_EVENTS,
    TARGET_TITLES,
    TOPIC_TITLES,
    URGENCY_TITLES,
)

from .lifecycle import REJECT_REASONS

# «дан ответ» is earned when the platform accepts the answer (its own event), not at approval.
ANSWER_APPROVED = "ответ утверждён"

# Men's first names that end like women's; «Саша», «Женя» stay feminine unless a surname says.
MEN_IN_A = frozenset({"никита", "илья", "фома", "кузьма", "лука", "савва", "данила", "гаврила",
                      "игнат", "миша", "ваня", "петя", "дима", "серёжа", "сережа", "паша",
                      "гоша", "лёша", "леша", "коля", "толя", "вова", "юра", "федя"})
WOMEN_SURNAME = ("ова", "ева", "ёва", "ина", "ына", "ая", "кая", "цкая")
MEN_SURNAME = ("ов", "ев", "ёв", "ин", "ын", "ий", "ой", "ский", "цкий")


def feminine(name: str) -> bool:
    """Whether a Russian name reads as a woman's: patronymic, then surname, then first name."""
    words = [w.lower().strip(".,") for w in name.split() if w]
    for word in words:
        if word.endswith(("овна", "евна", "ична", "инична")):
            return True
        if word.endswith(("ович", "евич", "ьич")):
            return False
    for word in words[1:] + words[:1]:
        if word.endswith(WOMEN_SURNAME) and len(word) > 4:
            return True
        if word.endswith(MEN_SURNAME) and len(word) > 3:
            return False
    first = words[0] if words else ""
    return first not in MEN_IN_A and first.endswith(("а", "я"))


def past(verb: str, woman: bool) -> str:
    """«подтвердил» → «подтвердила»: the first word of a masculine past takes «а»."""
    return re.sub(r"^(\w+)", r"\1а", verb) if woman else verb


def _who(actor: str, people: dict[str, str]) -> tuple[str, bool | None]:
    """(the name shown, feminine) — None for the system and residents, who take no verb."""
    if actor in people:
        return people[actor], feminine(people[actor])
    if actor in ACTOR_TITLES or actor.startswith("system:"):
        return ACTOR_TITLES.get(actor, "Система"), None
    if ":" in actor:  # a platform id: the resident answered on the platform
        return "Автор обращения", None
    return actor, False


def _labels(changes: dict) -> list[str]:
    def shown(name, value):
        table = {"urgency": URGENCY_TITLES, "topic": TOPIC_TITLES}.get(name, {})
        return table.get(value, value) or "—"
    return [f"{LABEL_NAME_TITLES.get(n, n)}: {shown(n, old)} → {shown(n, new)}"
            for n, (old, new) in changes.items()]


def _details(event: dict, organisations: dict[int, str]) -> list[str]:
    data, name = event["data"], event["event"]
    out = []
    if name in ("reject", "link_repeat") and data.get("reason"):
        out.append(REJECT_REASONS.get(data["reason"], data["reason"]))
    elif data.get("reason") and not name.startswith("reply_"):
        out.append(f"«{data['reason']}»")  # a hand-off's or an extension's own words
    if data.get("repeat_of"):
        out.append(f"повтор инцидента № {data['repeat_of']}")
    if data.get("changes"):
        out += _labels(data["changes"])
    if data.get("organisation_id") and name in ("assign", "opened", "relabel"):
        org = organisations.get(data["organisation_id"], f"№ {data['organisation_id']}")
        came = data.get("from_organisation_id")
        out.append(f"{organisations.get(came, '')} → {org}" if came else org)
    if data.get("route"):
        out.append(f"маршрут: {data['route']}")
    if suggested := data.get("suggested_route"):
        org = organisations.get(suggested.get("organisation_id"), "")
        out.append(f"предложен новый маршрут: {org} ({suggested.get('route')}) — направьте, если согласны")
    if data.get("target"):
        out.append(TARGET_TITLES.get(data["target"], data["target"]))
    if data.get("purpose"):
        out.append(PURPOSE_TITLES.get(data["purpose"], data["purpose"]))
    if name in ("reply_failed", "reply_unknown"):
        out.append(FAILURE_TITLES.get(data.get("failure") or "other", FAILURE_TITLES["other"]))
    if name == "feedback":
        solved = {True: "проблема решена", False: "проблема не решена"}.get(data.get("solved"))
        out += [x for x in (solved, f"оценка {data['rating']}" if data.get("rating") else None) if x]
    if data.get("edited"):
        out.append("текст исправлен модератором")
    if data.get("comment"):
        out.append(f"«{data['comment']}»")
    return out


def tell(events: list[dict], people: dict[str, str],
         organisations: dict[int, str] | None = None) -> list[dict]:
    """Each event as {at, says, details, status, event}; `people` maps logins to names."""
    organisations = organisations or {}
    told = []
    for event in events:
        name = event["event"]
        who, woman = _who(event["actor"], people)
        if woman is not None and name in EVENT_VERBS:
            says = f"{who} {past(EVENT_VERBS[name], woman)}"
        elif woman is None and name in SYSTEM_EVENTS:
            says = SYSTEM_EVENTS[name]
        else:
            says = f"{who}: {EVENT_TITLES.get(name, name)}"
        moved = event["new_status"] if event["new_status"] != event["old_status"] and name != "opened" else None
        status = ANSWER_APPROVED if moved == "answered" else STATUS_TITLES.get(moved)
        told.append({"at": event["occurred_at"], "says": says,
                     "details": _details(event, organisations), "event": name,
                     "status": status if moved else None})
    return told


def suggested_route(events: list[dict], organisation_id: int | None) -> dict | None:
    """The route a correction offered ({organisation_id, route}) while the incident was
    with its executor, if it was not taken since; None otherwise."""
    for event in reversed(events):
        if event["event"] == "assign":
            return None
        offer = event["data"].get("suggested_route") if event["event"] == "relabel" else None
        if offer:
            return offer if offer.get("organisation_id") != organisation_id else None
    return None
