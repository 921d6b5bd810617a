"""The demo's mass answer, a finished direct line and the autopilot.

- The mass incident: the open incident with the most linked posts, when nobody has
  answered it yet, gets an approved interim answer, queued under its own post and under
  every linked post, once per author in a thread; the line names the incident answered
  under the most linked posts (an earlier scene may have answered the stream's burst).
- A direct line of the city's head held yesterday under a post of the administration's
  page: generated questions grouped by topic and question, the two largest groups
  answered on air, the next three routed, one of them already answered; its report is
  on /directline.
- The autopilot: the moderators' history is the stream's expected labels taken as their
  reviews of the replayed incidents; thresholds are chosen from it, and a few messages
  that arrive now go to their executor without a moderator when they reach them.

Each part runs once: a database that already holds it is left as it is.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from monitor.context import Context
from monitor.directline import answer_on_air, events, groups, route, start
from monitor.incidents import autopilot
from monitor.incidents.lifecycle import act
from monitor.incidents.linked_answers import most_answered, most_linked
from monitor.incidents.states import ASSIGNED, CONFIRMED, NEW, get_row
from monitor.ingest import ingest
from monitor.ingest.post import Post
from monitor.retraining.autopilot import choose_and_store, incident_posts, sent_right
from monitor.retraining.corrections import record_review
from monitor.titles import TOPIC_TITLES

from . import DEMO_DIR

MODERATOR = "moderator"
INTERIM = ("Здравствуйте! Спасибо всем, кто написал. Причина известна: авария на сети, аварийная "
           "бригада работает на месте, восстановить обещают сегодня до 18:00. Напишем здесь же, "
           "когда всё заработает.")


def answer_the_mass_incident(ctx: Context) -> str | None:
    incident_id = most_linked(ctx.db)
    if incident_id is not None:
        incident = get_row(ctx.db, incident_id)
        if incident["status"] in (NEW, CONFIRMED, ASSIGNED) and incident["organisation_id"]:
            if incident["status"] != ASSIGNED:
                act(ctx, incident_id, "assign", MODERATOR, organisation_id=incident["organisation_id"])
            act(ctx, incident_id, "submit_draft", MODERATOR, text=INTERIM)
            act(ctx, incident_id, "approve_interim", MODERATOR)
    answered = most_answered(ctx.db)  # this one, or one the earlier scenes answered
    if answered is None:
        return None
    incident_id, linked, published = answered
    return (f"массовый инцидент №{incident_id}: ответ поставлен под его сообщением и под {linked} "
            f"связанными, опубликовано {published} (/incidents/{incident_id})")


# --- the direct line ------------------------------------------------------------------

DIRECT_LINE = "Прямая линия главы города Нижнего Новгорода"
PAGE, BROADCAST = "vk:-100001", "-100001_777000"
PLACES = ("Сормове", "Автозаводском районе", "Канавинском районе", "Московском районе",
          "Нижегородском районе", "Ленинском районе")
STREETS = ("Ленина", "Гагарина", "Чкалова", "Советской", "Мира", "Культуры")
# The questions residents ask, each in a few wordings; {place} and {street} filled in.
QUESTIONS = {
    "hot_water": ("Когда дадут горячую воду в {place}?",
                  "Сколько ещё ждать горячую воду в {place}?",
                  "В {place} уже месяц нет горячей воды, когда дадут?"),
    "bus": ("Почему отменили автобус номер 5 в {place}?",
            "Верните автобус номер 5 в {place}, почему его отменили?"),
    "school": ("Когда построят новую школу в {place}?",
               "Будет ли в {place} новая школа, когда начнут строить?"),
    "doctors": ("Почему в поликлинике в {place} нет врачей, к терапевту не записаться?",
                "В поликлинике в {place} не хватает врачей, к терапевту запись на месяц вперёд."),
    "road": ("Когда отремонтируют дорогу на улице {street} в {place}?",
             "Дорога на улице {street} в {place} вся в ямах, когда будет ремонт?"),
    "roof": ("Когда починят крышу нашего дома на улице {street} в {place}? Течёт на пятый этаж.",
             "Течёт крыша дома на улице {street} в {place}, управляющая компания не чинит."),
    "heating_bill": ("Почему так выросла плата за отопление в {place}?",
                     "Плата за отопление в {place} выросла вдвое, почему?"),
    "meals": ("Вернут ли бесплатное питание в школах {place}?",
              "Почему в школах {place} отменили бесплатное питание для детей?"),
}
OPENINGS = ("", "Здравствуйте! ", "Добрый день. ", "Уважаемый глава города, ")
CLOSINGS = ("", " Спасибо.", " Ждём ответа.", " Очень просим разобраться.")


def questions(n: int, seed: int = 52) -> list[tuple[str, str]]:
    """(which question, its text) for `n` generated questions of a direct line."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        name = rng.choice(list(QUESTIONS))
        text = rng.choice(OPENINGS) + rng.choice(QUESTIONS[name]).format(
            place=rng.choice(PLACES), street=rng.choice(STREETS)) + rng.choice(CLOSINGS)
        out.append((name, text))
    return out


def finished_direct_line(ctx: Context) -> str | None:
    if any(e.name == DIRECT_LINE for e in events(ctx.db)):
        return None
    zone = ZoneInfo(ctx.settings.timezone)
    yesterday = (ctx.clock.now().astimezone(zone) - timedelta(days=1)).date()
    begin = datetime.combine(yesterday, time(12, 0), tzinfo=zone)
    event = start(ctx, DIRECT_LINE, PAGE, begin, begin + timedelta(hours=2),
                  post_external_id=BROADCAST, answer_hours=72, actor=MODERATOR)
    posts = [Post(PAGE, BROADCAST, "vk_post", "Прямая линия главы города: задавайте вопросы в "
                  "комментариях, на самые частые ответим в эфире.", begin, author_id=PAGE)]
    posts += [Post(PAGE, f"{BROADCAST}_{k + 1}", "vk_comment", text,
                   begin + timedelta(seconds=45 * k), author_id=f"vk:{880000 + k}",
                   author_name=f"Житель {k + 1}", parent_id=BROADCAST)
              for k, (_, text) in enumerate(questions(150))]
    for i in range(0, len(posts), 50):
        ingest(ctx, posts[i:i + 50])
    found = sorted(groups(ctx.db, event.id), key=lambda g: -g["questions"])
    for minute, group in zip((14, 41), found[:2], strict=False):
        answer_on_air(ctx, event.id, group["id"], minute, MODERATOR)
    routed = [route(ctx, event.id, g["id"], MODERATOR) for g in found[2:5]]
    if routed:
        act(ctx, routed[0], "submit_draft", MODERATOR,
            text="Здравствуйте! Ответ на вопрос, заданный на прямой линии главы города: работы "
                 "включены в план этого года, сроки опубликуем на странице администрации.")
        act(ctx, routed[0], "approve_final", MODERATOR)
    asked = sum(g["questions"] for g in found)
    return (f"«{DIRECT_LINE}» завершена: {asked} вопросов в {len(found)} группах, "
            f"{min(len(found), 2)} группы — ответ в эфире, {len(routed)} направлены исполнителям "
            f"(/directline/{event.id})")


# --- the autopilot --------------------------------------------------------------------

LATER = (  # messages arriving after the replay, for the autopilot to pick up
    ("vk:-100003", "Дзержинск, улица Гагарина 9: во дворе неделю не вывозят мусор, контейнеры переполнены"),
    ("vk:-100003", "Дзержинск, проспект Ленина 41: на остановке разбит павильон, стекло на земле"),
    ("vk:-100004", "Арзамас, улица Калинина: огромная яма на дороге у школы, машины бьют колёса"),
    ("vk:-100005", "Богородск, улица Ленина 120: мусорная площадка завалена, мусор не вывозят"),
    ("telegram:-1001000000008", "Выкса, улица Островского 5: третий день не вывозят мусор из контейнеров"),
    ("vk:-100001", "Нижний Новгород, улица Бекетова 13: яма на дороге у перехода, уже две машины пробили колесо"),
    ("vk:-100001", "Нижний Новгород, Автозаводский район: свалка строительного мусора у гаражей на улице Веденяпина"),
    ("telegram:-1001000000007", "Кстово, улица Чванова: автобус 101 не пришёл утром, ждали сорок минут"),
)


def autopilot_on(ctx: Context) -> str | None:
    if not ctx.settings.autopilot.enabled or autopilot.current(ctx.db):
        return None
    expected = {}
    with open(DEMO_DIR / "expected.jsonl", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            expected[(row["source"], row["external_id"])] = row
    now = ctx.clock.now()
    reviewed, sent = 0, 0
    for key, (post_id, incident_id) in sorted(incident_posts(ctx.db).items(), key=lambda kv: -kv[1][1]):
        if key in expected:
            values = {name: expected[key][name] for name in autopilot.LABELS}
            record_review(ctx.db, post_id, values, MODERATOR, now)
            reviewed += 1
            sent += _send_by_hand(ctx, incident_id, values, sent)
    chosen = choose_and_store(ctx, "demo")
    at = now - timedelta(minutes=10)
    report = ingest(ctx, [Post(source, f"{source.split(':')[1]}_{990000 + k}",
                               "vk_post" if source.startswith("vk") else "telegram", text, at,
                               author_id=f"{source.split(':')[0]}:{770000 + k}")
                          for k, (source, text) in enumerate(LATER)])
    trusted = ", ".join(TOPIC_TITLES[t.topic] for t in chosen if t.kind_min is not None) or "нет"
    return (f"автопилот: {reviewed} проверок модераторов ({sent} направлены вручную), пороги для тем: "
            f"{trusted}; {report.autopiloted} из {report.incidents} новых инцидентов ушли исполнителю "
            "без модератора (/dashboard)")


BY_HAND = 25  # the latest incidents the moderators have just sent on


def _send_by_hand(ctx: Context, incident_id: int, asserted: dict, sent: int) -> int:
    """The moderators sent the latest incidents they confirmed to their executor."""
    incident = get_row(ctx.db, incident_id)
    if sent >= BY_HAND or incident["status"] != NEW or incident["organisation_id"] is None \
            or not sent_right(incident, asserted):
        return 0
    act(ctx, incident_id, "assign", MODERATOR, organisation_id=incident["organisation_id"])
    return 1


SCENES = [answer_the_mass_incident, finished_direct_line, autopilot_on]
