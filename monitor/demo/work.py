"""The ЦУР at work in the demo: an incident taken through its lifecycle at the moments
people would have acted, its replies published at those moments.

`work` moves one incident as far as its age allows: the moderator confirms it and
answers the resident at once (an acknowledgement), sends it to its organisation; the
organisation drafts the answer from the canned ones, the moderator approves it and it
goes out; days later it is resolved and closed. Every step is
monitor.incidents.lifecycle.act with the clock at the step's moment, and every reply
goes through monitor.replies.publisher to the sandbox (monitor.demo.sandbox), on VK,
Telegram, MAX and Одноклассники alike, so the reply times on Сводка are the moments the platform accepted them. A step still in the
future is left for the people using the demo: the newest incidents stay in the queue.
A few incidents are handled late, as in any month, and a few rejected.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx

from monitor.clock import FrozenClock, iso, parse_time
from monitor.context import Context
from monitor.incidents.deadlines import target_hours
from monitor.incidents.lifecycle import act
from monitor.incidents.states import NEW, TransitionError
from monitor.replies import canned, publisher

MODERATOR = "moderator"
OFFICIALS = {"adm-dzr": "dzerzhinsk"}  # organisations with a demo login; the rest: the moderator
PUBLISHABLE = ("vk", "telegram", "max", "ok")  # what the sandbox speaks
SHIFT_HOURS = (8, 20)  # when the ЦУР's moderators and the organisations are at work
LATE_SHARE = 0.06  # handled after the deadline
REJECTED_SHARE = 0.03  # not a problem after all
FALLBACK_ANSWER = ("Здравствуйте! Проблему проверили на месте, работы выполнены. Если что-то "
                   "осталось не так, напишите в этой ветке. Спасибо за обращение.")
ACKNOWLEDGEMENTS = (  # the organisation's name is in the nominative: after a colon
    "Здравствуйте! Обращение получили и передали исполнителю: {organisation}. Ответим здесь же.",
    "Добрый день! Спасибо, что написали. Обращение передано исполнителю: {organisation}. "
    "Ответ будет в этой ветке.",
    "Здравствуйте! Обращение зарегистрировано. Исполнитель: {organisation}.",
)


@dataclass
class Staff:
    """What working incidents needs besides the context: the clock the steps set, the
    HTTP client the publisher sends with, and the time not to act after."""

    clock: FrozenClock
    client: httpx.Client
    until: datetime


@contextmanager
def on_shift(ctx: Context) -> Iterator[Staff]:
    """The context's clock frozen for the steps, and a client for the publisher; the live
    clock is back afterwards."""
    live = ctx.clock
    staff = Staff(FrozenClock(live.now()), httpx.Client(timeout=httpx.Timeout(5.0)), live.now())
    ctx.clock = staff.clock
    try:
        yield staff
    finally:
        ctx.clock = live
        staff.client.close()


def work_all(ctx: Context, staff: Staff, before: datetime | None = None) -> int:
    """Work every new incident opened before `before` (all: None), oldest first; how
    many moved."""
    cursor = ctx.db.execute(
        "SELECT i.*, s.platform FROM incidents i JOIN posts p ON p.id = i.post_id"
        " JOIN sources s ON s.id = p.source_id WHERE i.status = ? AND i.opened_at < ?"
        " ORDER BY i.opened_at, i.id", [NEW, iso(before or staff.until)])
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
    return sum(bool(work(ctx, staff, row, row["platform"])) for row in rows)


def at_work(moment: datetime, timezone: str, rng: random.Random) -> datetime:
    """The moment, or the start of the next shift when it falls outside one."""
    zone = ZoneInfo(timezone)
    local = moment.astimezone(zone)
    start, end = SHIFT_HOURS
    if start <= local.hour < end:
        return moment
    day = local.date() + timedelta(days=1 if local.hour >= end else 0)
    opening = datetime.combine(day, time(start), tzinfo=zone)
    return opening + timedelta(minutes=rng.randint(5, 50))


def steps(incident: dict, ctx: Context, rng: random.Random) -> list[tuple[datetime, str]]:
    """When each step of this incident happens: (moment, action)."""
    tz = ctx.settings.timezone
    opened = parse_time(incident["opened_at"])
    critical = incident["urgency"] == "critical"
    late = rng.random() < LATE_SHARE
    first = target_hours(ctx.settings, "first_reply", incident["urgency"], incident["topic"])
    quick = int(min(100, max(15, (first or 3) * 60 * 0.7)))  # within the target, usually
    react = timedelta(minutes=rng.randint(5, 25) if critical else rng.randint(10, quick))
    if late:
        react = timedelta(hours=first) + timedelta(minutes=rng.randint(60, 300))
    confirm = opened + react if critical else at_work(opened + react, tz, rng)
    if rng.random() < REJECTED_SHARE:
        return [(confirm, "reject")]
    acknowledge = confirm + timedelta(minutes=rng.randint(2, 8))
    assign = acknowledge + timedelta(minutes=rng.randint(1, 5))
    draft = at_work(assign + timedelta(minutes=rng.randint(40, 300)), tz, rng)
    approve = at_work(draft + timedelta(minutes=rng.randint(15, 90)), tz, rng)
    resolve = at_work(approve + timedelta(hours=rng.randint(20, 60)), tz, rng)
    close = resolve + timedelta(days=3)
    return [(confirm, "confirm"), (acknowledge, "acknowledge"), (assign, "assign"),
            (draft, "submit_draft"), (approve, "approve_final"), (resolve, "resolve"),
            (close, "close")]


def work(ctx: Context, staff: Staff, incident: dict, platform: str) -> int:
    """Take one new incident through the steps that are already past; the number taken.
    A message the sandbox cannot answer (a platform it does not speak) is confirmed and
    sent on, no more."""
    if incident["status"] != NEW:
        return 0
    rng = random.Random(f"{incident['id']}:{incident['opened_at']}")
    org = _organisation(ctx, incident["organisation_id"])
    done = 0
    for moment, action in steps(incident, ctx, rng):
        if moment > staff.until or (org is None and action != "confirm" and action != "reject"):
            break
        if platform not in PUBLISHABLE and action == "acknowledge":
            continue  # nothing the sandbox can carry: the moderator answers by hand
        if platform not in PUBLISHABLE and action not in ("confirm", "reject", "assign"):
            break
        staff.clock.set(moment)
        try:
            act(ctx, incident["id"], action, _actor(action, org), **_data(action, ctx, incident,
                                                                         org, rng))
        except TransitionError:  # moved on meanwhile (a repeat linked, a spike): leave it
            break
        done += 1
        if action in ("acknowledge", "approve_final"):
            staff.clock.set(moment + timedelta(seconds=rng.randint(20, 90)))
            publisher.run_once(ctx, staff.client)
    return done


def _organisation(ctx: Context, organisation_id: int | None) -> dict | None:
    if organisation_id is None:
        return None
    return ctx.db["organisations"].get(organisation_id)


def _actor(action: str, org: dict | None) -> str:
    if action in ("submit_draft", "resolve") and org:
        return OFFICIALS.get(org["key"], MODERATOR)
    return MODERATOR


def _data(action: str, ctx: Context, incident: dict, org: dict | None,
          rng: random.Random) -> dict:
    if action == "reject":
        return {"reason": "not_a_problem"}
    if action == "acknowledge":
        return {"text": rng.choice(ACKNOWLEDGEMENTS).format(organisation=org["name"])}
    if action == "assign":
        return {"organisation_id": org["id"]}
    if action == "submit_draft":
        return {"text": _answer(ctx, incident, rng)}
    return {}


def _answer(ctx: Context, incident: dict, rng: random.Random) -> str:
    """A canned answer of the incident's topic, filled in as an official would start."""
    row = ctx.db.execute("SELECT text FROM posts WHERE id = ?", [incident["post_id"]]).fetchone()
    choices = canned.for_topic(ctx.settings, incident["topic"])
    org = _organisation(ctx, incident["organisation_id"])
    text = canned.fill(rng.choice(choices), {
        **incident, "text": row[0] if row else "", "organisation_name": org and org["name"]}
    ) if choices else ""
    if not text or "[" in text:  # a placeholder nobody could fill: an official would rewrite it
        return FALLBACK_ANSWER
    return text


def stage(ctx: Context) -> str | None:
    """The stream's incidents worked as far as their age allows; a line for the console."""
    with on_shift(ctx) as staff:
        publisher.run_once(ctx, staff.client)  # what earlier scenes approved goes out now
        worked = work_all(ctx, staff)
    waiting = ctx.db.execute("SELECT COUNT(*) FROM incidents WHERE status = ?", [NEW]).fetchone()[0]
    return f"поток: в работе или с ответом — {worked}, новых ждут модератора — {waiting}"
