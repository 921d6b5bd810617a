"""Hostile records through every collector path: no crash, no valid record lost.

Each path is served by its loopback fake with 200 valid records and at least 1,000
hostile ones mixed in (seeded): one field of a real-looking record replaced by junk (a
lone surrogate, 10**30, 2**63, a date of year 1 or 9999, lists and objects nested where
a value belongs), or junk in place of the whole record. Every valid record must be
stored, a record whose only fault is a lone surrogate in its text is stored with
U+FFFD, every record left out is reported with its place and a reason, and the source
never fails.
"""

from __future__ import annotations

import asyncio
import copy
import random

import pytest

from monitor.collectors.max import MaxCollector
from monitor.collectors.ok import GroupCollector, OkClient
from monitor.collectors.registry import Plan
from monitor.collectors.runner import Runner
from monitor.collectors.telegram import TelegramCollector
from monitor.collectors.tgweb import TgWebCollector, TgWebOptions
from monitor.collectors.vk import client as vk_client
from monitor.collectors.vk.client import VkClient
from monitor.collectors.vk.longpoll import LongPollCollector
from monitor.collectors.vk.wall import WallCollector
from tests.fakes.max import FakeMax
from tests.fakes.ok import FakeOK
from tests.fakes.telegram import FakeTelegram
from tests.fakes.tgweb import TgWebFake
from tests.fakes.vk import FakeVK

VALID, HOSTILE = 200, 1000
YEAR_1, YEAR_9999 = -62135596800, 253402300799


def fake_at(cls, clock):
    """A loopback fake whose time is the test's clock."""
    return cls(now=lambda: int(clock.now().timestamp()))


def nested(depth: int):
    value: object = "дно"
    for _ in range(depth):
        value = [value]
    return value


JUNK = ["\ud800", 10**30, 2**63, -(2**64), 1.5, True, None, "", [], {}, ["a", 1],
        {"text": {"text": ["\udfff"]}}, nested(200), "9" * 40, "0001-01-01T00:00:00",
        YEAR_1, YEAR_9999, "<script>alert(1)</script>"]


def set_path(record, path: str, value) -> None:
    """record["a"]["0"]… = value along a dotted path (digits index lists)."""
    *parents, last = [int(n) if n.isdigit() else n for n in path.split(".")]
    for name in parents:
        record = record[name]
    record[last] = value


class Mix:
    """Valid and hostile records of one path, with what must come out of them."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.stored: dict[str, str] = {}  # external id → the text it must be stored with
        self.hostile = 0

    def valid(self, external_id: str, text: str) -> None:
        self.stored[external_id] = text

    def interleave(self, valid, hostile) -> None:
        """`valid(n)` → (external id, text) every sixth turn, `hostile(n)` in the others:
        200 valid records among 1,000 hostile ones."""
        for n in range(VALID + HOSTILE):
            if n % 6 == 0:
                self.valid(*valid(n))
            else:
                hostile(n)

    def spoil(self, record: dict, fields: list[str], text_path: str, external_id: str,
              text: str):
        """A hostile version of `record` (None: it must not go out at all)."""
        self.hostile += 1
        kind = self.rng.randrange(10)
        if kind == 0:  # a lone surrogate in the text: stored, replaced
            set_path(record, text_path, text + " \ud800")
            self.stored[external_id] = text + " \ufffd"
            return record
        if kind == 1:  # junk in place of the record
            return copy.deepcopy(self.rng.choice(JUNK))
        set_path(record, self.rng.choice(fields), copy.deepcopy(self.rng.choice(JUNK)))
        return record

    def check(self, ctx, report) -> None:
        assert self.hostile >= HOSTILE
        assert report.failures == {}, report.failures
        rows = {r["external_id"]: r["text"] for r in ctx.db["posts"].rows}
        missing = {e: t for e, t in self.stored.items() if rows.get(e) != t}
        assert not missing, f"{len(missing)} valid record(s) lost, e.g. {list(missing.items())[:3]}"
        assert report.rejected, "the hostile records were reported"
        assert all(item.where and item.error for _, item in report.rejected)
        print(f"{len(self.stored)} valid stored, {len(report.rejected)} rejected with a place "
              f"and a reason, of {self.hostile} hostile")


def collect(ctx, *plans: Plan, runs: int = 1):
    """`tsur collect --once`, `runs` times; the last report with every rejection."""
    rejected = []
    for _ in range(runs):
        report = asyncio.run(Runner(ctx, once=True, plans=list(plans)).run())
        rejected += report.rejected
        if report.failures:
            break
    report.rejected = rejected
    return report


@pytest.fixture(autouse=True)
def fast_tokens(monkeypatch):
    monkeypatch.setitem(vk_client.RATE_LIMITS, "user", 500.0)
    monkeypatch.setitem(vk_client.RATE_LIMITS, "community", 500.0)


@pytest.fixture
def vk(clock):

    fake = fake_at(FakeVK, clock).start()
    fake.add_token("user-token", "user")
    fake.add_token("community-token", "community", group_id=100001)
    yield fake
    fake.stop()


COMMENT_FIELDS = ["id", "from_id", "date", "text", "parents_stack", "thread", "thread.count"]


def hostile_comment(mix: Mix, vk, owner: int, post_id: int, n: int) -> object:
    comment_id = vk._new_id(owner)
    text = f"Не вывозят мусор на Гагарина {n}"
    record = {"id": comment_id, "from_id": 700001 + n, "date": vk.now(), "text": text,
              "post_id": post_id, "parents_stack": [], "thread": {"count": 0, "items": []}}
    return mix.spoil(record, COMMENT_FIELDS, "text", f"{owner}_{post_id}_{comment_id}", text)


def test_vk_wall_and_comment_polls_survive_hostile_items(ctx, vk, clock):
    mix, owner = Mix(11), -100002
    posts = [vk.post(owner, f"Новости района {n}") for n in range(5)]
    for n in range(VALID):
        post = posts[n % 5]
        comment = vk.comment(owner, post["id"], f"Яма у дома {n} на Ленина")
        mix.valid(f"{owner}_{post['id']}_{comment['id']}", comment["text"])
    client = VkClient("user-token", "user", vk.url, clock=clock)
    wall = WallCollector(f"vk:{owner}", owner, client, clock=clock)
    collect(ctx, Plan(f"vk:{owner}", "Подслушано", wall))  # the posts are watched from now on
    for n in range(HOSTILE - 100):
        post = posts[n % 5]
        vk.junk_comments[(owner, post["id"])].append(hostile_comment(mix, vk, owner, post["id"], n))
    for n in range(100):  # new posts of the wall itself
        post_id = vk._new_id(owner)
        record = {"id": post_id, "owner_id": owner, "from_id": owner, "date": vk.now(),
                  "text": f"Объявление {n}", "comments": {"count": 0}}
        vk.junk_posts[owner].append(mix.spoil(record, ["id", "owner_id", "from_id", "date",
                                                       "text", "comments", "is_pinned"],
                                              "text", f"{owner}_{post_id}", f"Объявление {n}"))

    report = collect(ctx, Plan(f"vk:{owner}", "Подслушано", wall))
    mix.check(ctx, report)
    again = collect(ctx, Plan(f"vk:{owner}", "Подслушано", wall))  # the cursor holds
    assert again.failures == {} and again.ingested.stored == 0


def test_vk_long_poll_survives_hostile_events(ctx, vk, clock):
    mix, owner, key = Mix(12), -100001, "vk:-100001"
    post = vk.post(owner, "Отключение воды 17 ноября")
    user = VkClient("user-token", "user", vk.url, clock=clock)
    community = VkClient("community-token", "community", vk.url, clock=clock)
    plan = Plan(key, "Администрация", LongPollCollector(
        key, 100001, community, clock, wall=WallCollector(key, owner, user, clock=clock), wait=0))
    collect(ctx, plan)  # the first start: a sweep, then events from the new ts

    def valid(n):
        comment = vk.comment(owner, post["id"], f"Нет воды в доме {n}")
        return f"{owner}_{post['id']}_{comment['id']}", comment["text"]

    def hostile(n):
        record = hostile_comment(mix, vk, owner, post["id"], n)
        if not isinstance(record, dict):
            return vk.push_raw(100001, record)
        record["post_owner_id"] = owner
        surrogate = f"{owner}_{post['id']}_{record.get('id')}" in mix.stored
        vk.push(100001, "wall_reply_new" if surrogate else mix.rng.choice(
            ["wall_reply_new", "wall_reply_edit", "wall_reply_delete", "message_new"]), record)

    mix.interleave(valid, hostile)
    mix.check(ctx, collect(ctx, plan))


def test_telegram_get_updates_survives_hostile_updates(ctx, clock):
    mix, chat = Mix(13), -1001000000008
    with fake_at(FakeTelegram, clock) as tg:
        def valid(n):
            update = tg.message(chat, f"Когда починят светофор {n}?")
            return f"{chat}_{update['message']['message_id']}", update["message"]["text"]

        def hostile(n):
            text = f"Когда починят светофор {n}?"
            record = tg._message({"id": chat, "type": "supergroup", "title": "Выкса"}, text,
                                 sender=tg._user(5000 + n, "Ольга"))
            external = f"{chat}_{record['message_id']}"
            tg.queue(mix.rng.choice(["message", "edited_message"]), mix.spoil(
                record, ["message_id", "date", "chat", "chat.id", "chat.type", "text", "from",
                         "from.id", "reply_to_message"], "text", external, text))

        mix.interleave(valid, hostile)
        plan = Plan("telegram:bot", "Бот", TelegramCollector(tg.token, tg.url, wait=0))
        mix.check(ctx, collect(ctx, plan))


def test_tme_pages_survive_hostile_posts(ctx):
    mix, key = Mix(14), "tgweb:gorodets_live"
    markup = ["<b>" * 300 + "Яма" + "</b>" * 300, "&#xD800; нет воды", "&#99999999; свет",
              "<script>alert(1)</script> мусор", "<a href='javascript:1'>ссылка</a> двор",
              "\u202eтекст справа налево", "<div><p><blockquote>лёд</blockquote></p></div>"]
    with TgWebFake() as fake:
        channel = fake.channel("Gorodets_Live", "Городец Live")

        def valid(n):
            post = channel.publish(f"Нет света на Ленина {n}")
            return f"gorodets_live_{post.id}", post.text

        def hostile(n):
            mix.hostile += 1
            kind = mix.rng.randrange(8)
            if kind == 0:  # a value no post can have: left out, the rest of the page stays
                channel.publish(f"Пост {n}", shown_id=mix.rng.choice(["abc", "9" * 30, "-5", ""]))
            elif kind == 1:
                channel.publish(f"Пост {n}", shown_date=mix.rng.choice([
                    "0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59+00:00", "не дата", ""]))
            else:  # hostile text: stored as the text a reader sees, never dropped
                post = channel.publish("x", text_html=mix.rng.choice(markup) + f" {n}")
                mix.stored[f"gorodets_live_{post.id}"] = None  # any text, but stored

        mix.interleave(valid, hostile)
        collector = TgWebCollector(key, "gorodets_live", base_url=fake.url,
                                   options=TgWebOptions(interval_seconds=0, depth_pages=100))
        report = collect(ctx, Plan(key, "Городец Live", collector), runs=3)
    rows = {r["external_id"]: r["text"] for r in ctx.db["posts"].rows}
    for external_id in [e for e, t in mix.stored.items() if t is None]:
        assert rows.get(external_id), f"{external_id}: hostile text lost"
        mix.stored[external_id] = rows[external_id]
    assert "\ufffd" in "".join(rows.values())
    mix.check(ctx, report)


def test_max_updates_survive_hostile_updates(ctx, clock):
    mix, chat = Mix(15), -70001
    with fake_at(FakeMax, clock) as fake:
        def valid(n):
            message = fake.chat_message(chat, f"В подъезде {n} не горит свет")
            return f"{chat}_{message['body']['mid']}", message["body"]["text"]

        def hostile(n):
            text = f"В подъезде {n} не горит свет"
            message = fake._message(chat, "chat", text, 5000 + n, "Ольга")
            external = f"{chat}_{message['body']['mid']}"
            update = {"update_type": mix.rng.choice(["message_created", "message_edited",
                                                     "message_removed", "bot_added"]),
                      "message": message, "chat_id": chat, "message_id": message["body"]["mid"],
                      "title": "Чат дома", "timestamp": message["timestamp"]}
            update = mix.spoil(update, [
                "message", "message.recipient", "message.recipient.chat_id", "message.body",
                "message.body.mid", "message.body.text", "message.timestamp", "message.sender",
                "message.sender.user_id", "message.link", "chat_id", "message_id", "title",
                "update_type"], "message.body.text", external, text)
            if external in mix.stored:  # only its text is spoilt: a message it stays
                update["update_type"] = "message_created"
            fake.queue_raw(update)

        mix.interleave(valid, hostile)
        plan = Plan("max:bot", "MAX", MaxCollector(fake.token, fake.url, wait=0))
        mix.check(ctx, collect(ctx, plan))


def test_ok_topics_and_comments_survive_hostile_items(ctx, clock):
    mix, group = Mix(16), "53038939046008"
    with fake_at(FakeOK, clock) as fake:
        topics = [fake.topic(group, f"Отключение воды, район {n}") for n in range(4)]
        for n in range(VALID):
            topic = topics[n % 4]
            comment = fake.comment(topic["id"], f"На Гайдара {n} нет воды")
            mix.valid(f"{group}_{topic['id']}_{comment['id']}", comment["text"])
        for n in range(HOSTILE):
            topic = topics[n % 4]
            if n % 10 == 0:
                topic_id = str(next(fake.ids))
                text = f"Тема {n}"
                record = {"id": topic_id, "created_ms": fake.now() * 1000,
                          "media": [{"type": "text", "text": text}], "author_ref": "user:5"}
                fake.junk_topics.setdefault(group, []).append(mix.spoil(
                    record, ["id", "created_ms", "media", "media.0", "media.0.text",
                             "author_ref", "discussion_summary"], "media.0.text",
                    f"{group}_{topic_id}", text))
                continue
            comment_id = str(next(fake.ids))
            text = f"Двор {n} не убран"
            record = {"id": comment_id, "text": text, "author_id": str(5000 + n),
                      "date": "2026-11-16 10:00:00"}
            fake.junk_comments.setdefault(topic["id"], []).append(mix.spoil(
                record, ["id", "text", "author_id", "date", "date_ms", "reply_to_comment_id"],
                "text", f"{group}_{topic['id']}_{comment_id}", text))
        client = OkClient(fake.url, *fake.env.values())
        plan = Plan(f"ok:{group}", "Группа", GroupCollector(f"ok:{group}", group, client))
        mix.check(ctx, collect(ctx, plan))
