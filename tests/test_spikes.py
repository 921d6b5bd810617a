"""Spike alerts: a planted burst becomes one mass incident with one alert; ordinary
traffic raises none. Replays go through ingest with the real NLP pipeline."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from monitor.catalog.organisations import sync_from_settings
from monitor.clock import parse_time
from monitor.commands.incidents import run_once
from monitor.context import Context
from monitor.demo import DEMO_STREAM, replay
from monitor.incidents.spikes import banner
from monitor.ingest import ingest
from monitor.ingest.post import Post
from monitor.settings import ConfigError, Spikes, settings_from_dict
from monitor.store import open_db
from tests.fakes.telegram import FakeTelegram

MODERATORS = -1009000000001
SOURCE = "vk:-100002"  # «Подслушано Нижний Новгород»: a city page, municipality НН

# A water main bursts in Сормово: thirty residents in their own words.
WATER = [
    "В Сормове нет воды с шести утра, ни холодной ни горячей",
    "Сормово, у кого-нибудь есть вода? У нас на Коминтерна сухо",
    "Третий час без воды в Сормовском районе, что случилось?",
    "Нет воды на Культуры, весь дом без воды, детей не умыть",
    "Водоканал не отвечает, в Сормове отключили воду без предупреждения",
    "Когда дадут воду в Сормово? Ни холодной, ни горячей воды",
    "На Ефремова тоже нет воды, краны сухие с утра",
    "В Сормовском районе авария? Воды нет во всём квартале",
    "Сормово без воды! Горячая линия водоканала не берёт трубку",
    "Ни капли воды на Машинной, в Сормове отключение воды",
    "Нет холодной воды на Станционной, Сормово, с 6 утра",
    "Воды нет, в туалет не сходить, Сормово, сколько ждать?",
    "Весь Сормовский район без воды, подвоз воды будет?",
    "Отключили воду в Сормове, информации никакой нет",
    "У нас на Баренца тоже нет воды, это авария на водоводе?",
    "Нет воды в Сормове уже два часа, администрация молчит",
    "В квартире нет воды, Сормово, Коминтерна 120",
    "Подскажите, где в Сормове подвоз воды? Дома ни капли воды",
    "Сормово сидит без воды, водоканал хоть бы объявление повесил",
    "Опять нет воды в Сормовском районе, холодной нет совсем",
    "Воды нет на Героев Космоса, Сормово, соседи тоже без воды",
    "Почему в Сормове нет воды? Дети в школу неумытые",
    "Нет воды с утра, Сормовское шоссе, что происходит",
    "Сормово: ни горячей, ни холодной воды, когда починят?",
    "В Сормове прорвало водовод, воды нет у половины района",
    "Без воды сидим в Сормове, бабушке попить нечего",
    "Нет воды в доме на Культуры 10, Сормово",
    "Вода пропала во всём Сормове, звоню в водоканал — сброс",
    "Сколько ещё Сормово будет без воды?",
    "И у нас в Сормове нет воды, краны пустые",
]

# An ordinary busy hour of the same city and topic: many problems, none shared.
BACKGROUND = [
    "В подъезде на Ильинской не работает лифт уже неделю",
    "Батареи холодные в квартире на Белинского, отопление еле тёплое",
    "Крыша течёт на Студёной 5, после дождя вода на потолке",
    "Пахнет газом в подъезде на Ванеева, вызвали аварийную",
    "УК не вывозит снег с крыши, сосульки над входом на Горького",
    "Нет света в доме на Родионова после грозы",
    "В подвале дома на Невзоровых стоит вода и комары",
    "Платёжка за отопление выросла вдвое, УК не объясняет",
    "Капремонт фасада на Минина начали и бросили, леса стоят",
    "Мусоропровод забит на Бекетова 12, запах на весь подъезд",
    "Домофон не работает третий месяц на Касьянова",
    "Плесень по стенам в угловой квартире на Львовской",
    "Слабый напор газа на плите, на Островского",
    "Электрик не приходит по заявке, на Веденяпина искрит щиток",
    "Трещина в балконной плите на Мончегорской, куски падают",
    "В подъезде не горит свет на Полтавской, темно и опасно",
    "Канализация засорилась, затапливает подвал на Адмирала Нахимова",
    "Счётчики воды меняют за наш счёт, законно ли это?",
    "Лифт застревает между этажами на Юбилейном бульваре",
    "Отопление включили, но в квартире 16 градусов, Бурнаковская",
    "Управляющая компания не убирает подъезд на Кузбасской",
    "Перерасчёт за горячую воду не сделали, хотя её не было месяц",
    "На чердаке живут голуби, всё загажено, УК не реагирует",
    "Газовую колонку отключили без объяснений на Чаадаева",
    "Протекает стояк отопления в подъезде на Челюскинцев",
    "Провода висят в подъезде на Героя Попова, дети могут схватиться",
    "Вентиляция не работает, в квартире сырость, Народная 40",
    "Почему в квитанции строка за антенну, которой нет?",
    "Окна в подъезде разбиты, холодно, Бетанкура 3",
    "Тараканы ползут от соседей, санобработку УК не делает",
]
START = datetime(2026, 11, 16, 6, 0, tzinfo=UTC)  # 09:00 in Нижний Новгород


@pytest.fixture
def fake():
    with FakeTelegram() as server:
        yield server


@pytest.fixture
def sctx(settings, clock, pipeline, fake):
    """Demo settings with the moderators' chat and the fake bot; the real pipeline."""
    s = replace(settings, workflow=replace(settings.workflow, moderators_chat_id=MODERATORS),
                environ={"TSUR_TELEGRAM_API_URL": fake.url, "TSUR_TELEGRAM_BOT_TOKEN": fake.token})
    db = open_db(s.database)
    sync_from_settings(db, s, clock.now())
    yield Context(db, s, clock, pipeline)
    db.close()


def feed(ctx, texts, *, start=START, every=timedelta(minutes=2), batch=5, prefix="s"):
    """Ingest texts as a collector would: a few at a time, the clock following them."""
    posts = [Post(SOURCE, f"-100002_{prefix}{n}", "vk_comment", text, start + n * every,
                  author_id=f"{prefix}{n}") for n, text in enumerate(texts)]
    for i in range(0, len(posts), batch):
        chunk = posts[i:i + batch]
        ctx.clock.set(chunk[-1].created_at + timedelta(seconds=30))
        ingest(ctx, chunk)
    return posts


def spikes(ctx):
    return list(ctx.db["spikes"].rows_where(order_by="id"))


def members(ctx, spike_id):
    return [r[0] for r in ctx.db.execute(
        "SELECT p.text FROM spike_members m JOIN posts p ON p.id = m.post_id"
        " WHERE m.spike_id = ? ORDER BY p.created_at", [spike_id])]


def test_the_demo_burst_in_sormovo_becomes_one_mass_incident_and_nothing_else_does(sctx):
    replay(sctx, DEMO_STREAM, rebase=False)
    found = spikes(sctx)
    assert len(found) == 1, "the rest of the stream is ordinary traffic: no other spike"
    spike = found[0]
    assert (spike["municipality"], spike["topic"]) == ("Нижний Новгород", "housing")
    assert spike["threshold"] == 7 and spike["messages"] >= 7
    texts = members(sctx, spike["id"])
    assert len(texts) == spike["messages"]
    assert all("вод" in t.lower() or "сух" in t.lower() or "ноль" in t for t in texts)
    detected = [parse_time(r[0]) for r in sctx.db.execute(
        "SELECT p.created_at FROM spike_members m JOIN posts p ON p.id = m.post_id"
        " WHERE m.added_at = ?", [spike["detected_at"]])]
    assert len(detected) >= 7 and max(detected) - min(detected) <= timedelta(hours=1)
    assert min(detected).date().isoformat() == "2026-11-18"

    mass = sctx.db["incidents"].get(spike["incident_id"])
    assert mass["status"] == "new" and mass["urgency"] == "high"
    assert mass["repeats"] == spike["messages"] - 1
    # every other member's incident is linked to the mass incident (a moderator can unlink)
    linked = sctx.db.execute(
        "SELECT COUNT(*) FROM spike_members m JOIN incidents i ON i.post_id = m.post_id"
        " JOIN incident_repeats r ON r.post_id = m.post_id AND r.incident_id = ?"
        " WHERE m.spike_id = ? AND i.status = 'rejected'", [mass["id"], spike["id"]]).fetchone()[0]
    assert linked == spike["messages"] - 1
    assert sctx.db["posts"].count == 382  # every message kept

    alerts = list(sctx.db["outbox"].rows_where("audience = 'staff'"))
    assert len(alerts) == 1 and alerts[0]["once_key"] == f"spike:{spike['id']}"
    assert alerts[0]["chat_id"] == MODERATORS and alerts[0]["incident_id"] == mass["id"]
    assert "Всплеск" in alerts[0]["text"] and "Нижний Новгород" in alerts[0]["text"]
    assert f"№{mass['id']}" in alerts[0]["text"]


def test_a_planted_water_burst_among_busy_background_is_grouped_without_the_background(sctx):
    # a busy hour: ten other housing complaints of the same city among the thirty
    mixed = [t for i, w in enumerate(WATER) for t in ([w, BACKGROUND[i // 3]] if i % 3 == 2
                                                       else [w])]
    feed(sctx, mixed, every=timedelta(seconds=90))
    found = spikes(sctx)
    assert len(found) == 1
    texts = members(sctx, found[0]["id"])
    assert not set(texts) & set(BACKGROUND)
    assert len(texts) >= 15, texts
    assert sctx.db["outbox"].count_where("audience = 'staff'") == 1


def test_ordinary_background_traffic_raises_no_alert(sctx):
    feed(sctx, BACKGROUND, every=timedelta(minutes=2))  # thirty housing complaints an hour
    assert spikes(sctx) == []
    assert sctx.db["outbox"].count_where("audience = 'staff'") == 0
    assert sctx.db.execute("SELECT COUNT(*) FROM incidents WHERE status = 'new'").fetchone()[0] \
        == sctx.db["incidents"].count


def test_the_same_burst_spread_over_a_day_is_not_a_spike(sctx):
    feed(sctx, WATER[:12], every=timedelta(hours=2))
    assert spikes(sctx) == []


def test_the_threshold_is_per_topic(sctx):
    strict = replace(sctx.settings.spikes, min_messages={"default": 10, "housing": 40})
    sctx.settings = replace(sctx.settings, spikes=strict)
    feed(sctx, WATER)
    assert spikes(sctx) == []


def test_the_alert_is_sent_once_and_later_messages_join_the_spike(sctx, fake):
    feed(sctx, WATER[:12], prefix="a")
    [spike] = spikes(sctx)
    before = spike["messages"]
    with httpx.Client() as client:
        assert run_once(sctx, client).notifications == 1
        assert run_once(sctx, client).notifications == 0
    # the burst goes on: the spike grows, no second alert, no second spike
    feed(sctx, WATER[12:], start=START + timedelta(minutes=40), prefix="b")
    with httpx.Client() as client:
        run_once(sctx, client)
    [grown] = spikes(sctx)
    assert grown["messages"] > before
    alerts = [m for m in fake.sent if "Всплеск" in m["text"]]  # deadline warnings aside
    assert len(alerts) == 1 and int(alerts[0]["chat_id"]) == MODERATORS
    mass = sctx.db["incidents"].get(grown["incident_id"])
    assert mass["repeats"] == grown["messages"] - 1


def test_a_message_is_in_one_spike_and_a_replayed_batch_adds_nothing(sctx):
    posts = feed(sctx, WATER[:12])
    [spike] = spikes(sctx)
    ingest(sctx, posts)  # the collector delivers the same batch again
    assert [s["messages"] for s in spikes(sctx)] == [spike["messages"]]
    assert sctx.db["outbox"].count_where("audience = 'staff'") == 1


def test_a_failing_detection_never_loses_the_batch(sctx, monkeypatch):
    import monitor.incidents.spikes

    def broken(ctx, post_ids):
        raise RuntimeError("boom")

    monkeypatch.setattr(monitor.incidents.spikes, "detect", broken)
    feed(sctx, WATER[:10])
    assert sctx.db["posts"].count == 10 and spikes(sctx) == []


def test_the_banner_shows_open_spikes_to_moderators_and_only_their_own_to_officials(sctx):
    feed(sctx, WATER[:12])
    [spike] = spikes(sctx)
    now = sctx.clock.now()
    shown = banner(sctx.db, {"role": "moderator"}, now, 12)
    assert [s["id"] for s in shown] == [spike["id"]]
    mass = sctx.db["incidents"].get(spike["incident_id"])
    other = sctx.db.execute("SELECT id FROM organisations WHERE key = 'adm-dzr'").fetchone()[0]
    assert other != mass["organisation_id"]
    assert banner(sctx.db, {"role": "official", "organisation_id": other}, now, 12) == []
    assert banner(sctx.db, {"role": "official", "organisation_id": mass["organisation_id"]},
                  now, 12)
    assert banner(sctx.db, {"role": "moderator"}, now + timedelta(hours=13), 12) == []


def test_spike_settings_are_checked():
    assert Spikes().threshold("housing") == 10
    conf = settings_from_dict({"spikes": {"min_messages": {"housing": 5}}}).spikes
    assert conf.threshold("housing") == 5 and conf.threshold("health") == 10
    with pytest.raises(ConfigError, match="unknown topic 'water'"):
        settings_from_dict({"spikes": {"min_messages": {"water": 5}}})
    with pytest.raises(ConfigError, match="similarity"):
        settings_from_dict({"spikes": {"similarity": 2}})
    with pytest.raises(ConfigError, match="unexpected keyword"):
        settings_from_dict({"spikes": {"window": 5}})


def test_the_mass_incident_records_why(sctx):
    feed(sctx, WATER[:12])
    [spike] = spikes(sctx)
    events = [e for e in sctx.db["incident_events"].rows_where(
        "incident_id = ? AND event = 'spike_detected'", [spike["incident_id"]])]
    assert len(events) == 1
    data = json.loads(events[0]["data"])
    assert data["spike_id"] == spike["id"] and data["threshold"] == 7


def test_a_burst_wider_than_the_references_is_found_without_the_background(sctx):
    from monitor.incidents.spikes import REFERENCES

    # four times the thirty residents in one hour, twenty other complaints once each among
    # them (the later ones of BACKGROUND speak of hot water and water meters)
    water = WATER * 4
    mixed = [t for i, w in enumerate(water) for t in ([w, BACKGROUND[i // 6]]
                                                      if i % 6 == 5 else [w])]
    assert len(water) > REFERENCES
    feed(sctx, mixed, every=timedelta(seconds=20), batch=len(mixed))  # one window, one look
    [spike] = spikes(sctx)
    texts = members(sctx, spike["id"])
    assert not set(texts) & set(BACKGROUND)
    assert len(texts) >= REFERENCES
    assert sctx.db["outbox"].count_where("audience = 'staff'") == 1
