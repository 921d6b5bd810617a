"""The demo's regional scene: the municipal ЦУР of Дзержинск at work, an extension
asked and approved, and a month of answers that the ratings page can rank.

Through the domain functions the pages use: the municipal moderator (`dzr-cur`) routes
one of Дзержинск's incidents to the administration, its official submits a draft, the
interim answer is approved and the official asks to move the final-answer deadline
(«замена участка трубы после отопительного сезона»), which the centre approves; an
incident for a regional ministry goes back up to the region with a reason; a handful
of incidents across the region are answered, their answers marked for quality and
rated by their residents.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from monitor.catalog.users import user_by_login
from monitor.context import Context
from monitor.incidents.extensions import decide_extension, request_extension
from monitor.incidents.feedback import record_feedback
from monitor.incidents.handoffs import hand_off
from monitor.incidents.lifecycle import act
from monitor.incidents.quality import approved_answers, mark_answer
from monitor.incidents.queries import list_incidents

CENTRE, OFFICIAL, MODERATOR = "dzr-cur", "dzerzhinsk", "moderator"
ANSWERED = 6  # incidents across the region answered and rated for the ratings page
RESIDENTS = ("да, починили, спасибо! 5", "да, 4", "нет, ничего не сделали, 2", "да 5", "да, 3",
             "нет 1")
MARKS = ("good", "good", "formal", "good", "empty", "formal")


def _answer(ctx: Context, incident: dict, n: int) -> bool:
    """Confirm, route, draft, approve as final, mark, resolve, and the resident's rating."""
    org = incident["organisation_id"]  # where routing sent it
    if org is None:
        return False
    iid = incident["id"]
    act(ctx, iid, "confirm", MODERATOR)
    act(ctx, iid, "assign", MODERATOR, organisation_id=org)
    act(ctx, iid, "submit_draft", OFFICIAL, text="Работы выполнены, проблема устранена.")
    act(ctx, iid, "approve_final", MODERATOR)
    moderator = user_by_login(ctx.db, MODERATOR)
    for answer in approved_answers(ctx.db, iid):
        mark_answer(ctx, iid, answer["id"], MARKS[n % len(MARKS)], moderator)
    act(ctx, iid, "resolve", MODERATOR)
    record_feedback(ctx, iid, RESIDENTS[n % len(RESIDENTS)], f"resident:demo-{n}")
    return True


def regional_scene(ctx: Context) -> str | None:
    centre, official = user_by_login(ctx.db, CENTRE), user_by_login(ctx.db, OFFICIAL)
    region = user_by_login(ctx.db, MODERATOR)
    if not (centre and official and region):
        return None
    own = list_incidents(ctx.db, centre, {"status": "new"}, limit=20, sort="deadline").rows
    if not own:
        return "муниципальный ЦУР Дзержинска: новых обращений нет"
    first, *rest = own
    org = first["organisation_id"] or official["organisation_id"]
    act(ctx, first["id"], "confirm", CENTRE)
    act(ctx, first["id"], "assign", CENTRE, organisation_id=org)
    act(ctx, first["id"], "submit_draft", OFFICIAL,
        text="Аварийный участок отключён, подача воды восстановлена по временной схеме.")
    act(ctx, first["id"], "approve_interim", CENTRE)
    zone = ZoneInfo(ctx.settings.timezone)
    today = ctx.clock.now().astimezone(zone).date()
    extension = request_extension(
        ctx, first["id"], official, "resolve", today + timedelta(days=21),
        "Замена участка трубы возможна только после отопительного сезона",
        planned_fix=today + timedelta(days=20))
    decide_extension(ctx, extension, centre, "approve", comment="Согласовано с ресурсоснабжающей организацией")
    if rest:
        hand_off(ctx, rest[0]["id"], "regional", centre,
                 "Вопрос регионального министерства, а не администрации города")
    answered = 0
    for n, incident in enumerate(list_incidents(ctx.db, region, {"status": "new"}, limit=60,
                                                      sort="deadline").rows):
        if answered >= ANSWERED:
            break
        if incident["id"] != first["id"] and _answer(ctx, incident, n):
            answered += 1
    return (f"муниципальный ЦУР Дзержинска (вход {CENTRE}): инцидент №{first['id']} — перенос "
            f"срока запрошен и одобрен; {answered} ответов оценены для рейтинга (/ratings)")
