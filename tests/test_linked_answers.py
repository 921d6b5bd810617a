"""One approved answer published under every post linked to an incident, through the
loopback VK and Telegram servers."""

# ruff: noqa: F811 (the fixtures vk and tg come from tests.replying and are taken as arguments)
from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta

import httpx
import pytest

from monitor.catalog.organisations import organisation_id
from monitor.clock import iso
from monitor.incidents import linked_answers
from monitor.incidents.lifecycle import act
from monitor.incidents.repeats import link
from monitor.incidents.states import TransitionError, open_incident
from monitor.replies import replies_of, retry, run_once
from monitor.reports.metrics import aggregate
from nlp import Labels
from tests.replying import (  # noqa: F401 (fixtures)
    DZR_GROUP,
    DZR_WALL,
    TG_CHAT,
    VK_TOKEN,
    lose_the_answer,
    platform_context,
    tg,
    vk,
)

ANSWER = "Авария на водоводе устранена, вода подана в 15:00. Администрация г. Дзержинска."



@pytest.fixture
def mctx(settings, clock, vk, tg):
    yield from platform_context(settings, clock, None, {
        "TSUR_VK_API_URL": vk.url, "TSUR_TELEGRAM_API_URL": tg.url,
        "TSUR_TELEGRAM_BOT_TOKEN": tg.token, "TSUR_VK_TOKEN_ADM_DZR": VK_TOKEN},
        {"adm-dzr": "TSUR_VK_TOKEN_ADM_DZR"})


def store_post(ctx, source: str, external_id: str, channel: str, author: str,
               parent: str | None = None, text: str = "Нет воды на Гайдара") -> int:
    now = ctx.clock.now()
    source_id = ctx.db.execute("SELECT id FROM sources WHERE key = ?", [source]).fetchone()[0]
    return ctx.db["posts"].insert({
        "source_id": source_id, "external_id": external_id, "channel": channel,
        "parent_external_id": parent, "author_id": author, "text": text,
        "created_at": iso(now), "collected_at": iso(now)}).last_pk


class Burst:
    """A mass incident on the Дзержинск wall with posts linked from VK and Telegram."""

    def __init__(self, ctx, vk, tg):
        self.ctx = ctx
        self.wall_post = vk.post(DZR_WALL, "Плановые работы на водоводе")
        wall = f"{DZR_WALL}_{self.wall_post['id']}"

        def comment(author_id: int) -> str:
            made = vk.comment(DZR_WALL, self.wall_post["id"], "Нет воды", from_id=author_id)
            return f"{wall}_{made['id']}", made["id"]

        def message(from_id: int) -> tuple[str, int]:
            sent = tg.message(TG_CHAT, "Нет воды в Дзержинске", from_id=from_id)["message"]
            return f"{TG_CHAT}_{sent['message_id']}", sent["message_id"]

        with ctx.db.atomic():
            own, self.own_comment = comment(777)
            own_post = store_post(ctx, "vk:-100003", own, "vk_comment", "vk:777", wall)
            self.incident = open_incident(
                ctx, own_post, Labels("complaint", "housing", "Дзержинск", "high", {}),
                organisation_id(ctx.db, "adm-dzr"), "test")
            self.posts, self.targets = {}, {}
            for name, (external, target), channel, author, source in (
                    ("neighbour", comment(778), "vk_comment", "vk:778", "vk:-100003"),
                    ("neighbour_again", comment(778), "vk_comment", "vk:778", "vk:-100003"),
                    ("own_author_again", comment(777), "vk_comment", "vk:777", "vk:-100003"),
                    ("excluded", comment(779), "vk_comment", "vk:779", "vk:-100003"),
                    ("chat_one", message(5001), "telegram", "tg:5001", f"telegram:{TG_CHAT}"),
                    ("chat_two", message(5002), "telegram", "tg:5002", f"telegram:{TG_CHAT}"),
                    ("chat_one_again", message(5001), "telegram", "tg:5001", f"telegram:{TG_CHAT}")):
                post_id = store_post(ctx, source, external, channel, author,
                                     wall if channel == "vk_comment" else None)
                link(ctx, self.incident, post_id, 0.9, "system:spikes", "test", ctx.clock.now())
                self.posts[name], self.targets[name] = post_id, target

    def approve(self, text: str = ANSWER) -> dict:
        act(self.ctx, self.incident, "submit_draft", "dzerzhinsk", text=text)
        return act(self.ctx, self.incident, "approve_final", "moderator")

    def reply_of(self, name: str) -> dict:
        [row] = [r for r in replies_of(self.ctx.db, self.incident, linked=True)
                 if r["post_id"] == self.posts[name]]
        return row


def drain(ctx, seconds: int = 30):
    """The publisher's passes while the clock moves past every paced reply."""
    with httpx.Client(timeout=5) as client:
        for _ in range(seconds):
            run_once(ctx, client)
            ctx.clock.advance(timedelta(seconds=1))


def test_one_answer_reaches_every_linked_post_once_and_a_retry_never_doubles_it(mctx, vk, tg):
    burst = Burst(mctx, vk, tg)
    act(mctx, burst.incident, "assign", "moderator", organisation_id=organisation_id(mctx.db, "adm-dzr"))
    linked_answers.exclude(mctx, burst.incident, burst.posts["excluded"], "moderator")
    # Telegram refuses the reply to one resident's message once: the bot lost its rights.
    tg.inject("sendMessage", "error", 403, times=1)
    burst.approve()
    event = mctx.db.execute("SELECT data FROM incident_events WHERE incident_id = ? AND"
                            " event = 'approve_final'", [burst.incident]).fetchone()[0]
    assert '"linked_replies": 3' in event  # neighbour, chat_one, chat_two
    # Telegram replies to one group are paced; VK replies go at once.
    pending = {r["post_id"]: r["not_before"] for r in replies_of(mctx.db, burst.incident, linked=True)}
    assert pending[burst.posts["neighbour"]] is None
    assert sorted(v for k, v in pending.items() if v) == [iso(mctx.clock.now() + timedelta(seconds=3))]
    drain(mctx)

    comments = Counter(int(c["reply_to_comment"]) for c in vk.created_comments)
    assert comments == {burst.own_comment: 1, burst.targets["neighbour"]: 1}
    answered = Counter(int(json.loads(m["reply_parameters"])["message_id"])
                       for m in tg.sent)
    first_chat = min(burst.targets["chat_one"], burst.targets["chat_two"])
    failed_name = "chat_one" if first_chat == burst.targets["chat_one"] else "chat_two"
    other = "chat_two" if failed_name == "chat_one" else "chat_one"
    assert answered == {burst.targets[other]: 1}
    failed = burst.reply_of(failed_name)
    assert failed["status"] == "failed" and failed["failure"] == "access"
    assert burst.reply_of("neighbour")["status"] == "published"
    assert all(m["text"] == ANSWER for m in tg.sent)
    # The incident's own answer time is its own reply's; each linked post has its own.
    incident = mctx.db["incidents"].get(burst.incident)
    own = replies_of(mctx.db, burst.incident)
    assert [r["status"] for r in own] == ["published"]
    assert incident["answered_at"] == own[0]["published_at"]
    assert burst.reply_of(other)["published_at"] > own[0]["published_at"]

    # The moderator fixes the bot's rights and sends the failed one again: once.
    retry(mctx, burst.incident, failed["id"], "moderator")
    drain(mctx, 3)
    drain(mctx, 3)
    answered = Counter(int(json.loads(m["reply_parameters"])["message_id"])
                       for m in tg.sent)
    assert answered == {burst.targets["chat_one"]: 1, burst.targets["chat_two"]: 1}
    assert burst.reply_of(failed_name)["status"] == "published"
    assert {r["post_id"] for r in replies_of(mctx.db, burst.incident, linked=True)} == {
        burst.posts[n] for n in ("neighbour", "chat_one", "chat_two")}
    excluded = [r for r in linked_answers.overview(mctx.db, burst.incident)
                if r["post_id"] == burst.posts["excluded"]]
    assert excluded[0]["skipped"] == "модератор исключил"
    # Reply-time reports count each linked post's own reply.
    [figure] = aggregate(mctx.db, None, "linked_reply", "all", now=mctx.clock.now())
    assert (figure.incidents, figure.measured) == (7, 3) and figure.p90_h > 0


def test_a_lost_vk_answer_sent_again_keeps_one_comment(mctx, vk, tg):
    burst = Burst(mctx, vk, tg)
    act(mctx, burst.incident, "assign", "moderator", organisation_id=organisation_id(mctx.db, "adm-dzr"))
    burst.approve()
    drain(mctx, 5)  # every reply of the approval
    # A later post linked after the answer was approved gets the same answer.
    with mctx.db.atomic():
        wall = f"{DZR_WALL}_{burst.wall_post['id']}"
        late = vk.comment(DZR_WALL, burst.wall_post["id"], "И у нас нет воды", from_id=780)
        post_id = store_post(mctx, "vk:-100003", f"{wall}_{late['id']}", "vk_comment", "vk:780", wall)
        link(mctx, burst.incident, post_id, 0.9, "system:ingest", "test", mctx.clock.now())
    lose_the_answer(mctx, vk, "wall.createComment", lambda: any(
        int(c["reply_to_comment"]) == late["id"] for c in vk.created_comments))
    row = [r for r in replies_of(mctx.db, burst.incident, linked=True) if r["post_id"] == post_id][0]
    assert row["status"] == "unknown"
    retry(mctx, burst.incident, row["id"], "moderator")
    drain(mctx, 2)
    made = [c for c in vk.created_comments if int(c["reply_to_comment"]) == late["id"]]
    assert len({c["comment_id"] for c in made}) == 1  # the guid kept VK from a second comment


def test_only_a_linked_post_can_be_left_out_and_put_back(mctx, vk, tg):
    burst = Burst(mctx, vk, tg)
    with pytest.raises(TransitionError):
        linked_answers.exclude(mctx, burst.incident, 999_999, "moderator")
    linked_answers.exclude(mctx, burst.incident, burst.posts["neighbour"], "moderator")
    linked_answers.include(mctx, burst.incident, burst.posts["neighbour"], "moderator")
    with pytest.raises(TransitionError):
        linked_answers.include(mctx, burst.incident, burst.posts["neighbour"], "moderator")
    events = [e["event"] for e in mctx.db["incident_events"].rows_where(
        "incident_id = ? AND event LIKE 'answer_%'", [burst.incident], order_by="id")]
    assert events == ["answer_excluded", "answer_included"]


def test_the_incident_page_lists_linked_posts_and_a_moderator_leaves_one_out(mctx, vk, tg):
    from test_web_incident import client_for, csrf

    from monitor.demo import seed_users
    from monitor.web.app import create_app

    seed_users(mctx)
    burst = Burst(mctx, vk, tg)
    mctx.db["posts"].update(burst.posts["neighbour"], {"text": "<script>alert(1)</script> нет воды"})
    app = create_app(mctx, secret_key="test-secret")
    client = client_for(app, "moderator", "moderator-demo")
    page = client.get(f"/incidents/{burst.incident}").text
    assert "Ответ под связанными сообщениями" in page and "<script>alert(1)" not in page
    assert "автор уже получит ответ в этой ветке" in page
    url = f"/incidents/{burst.incident}/linked/{burst.posts['neighbour']}/exclude"
    official = client_for(app, "dzerzhinsk", "official-demo")
    assert official.post(url, data={"csrf_token": csrf(official)}).status_code == 403
    answer = client.post(url, data={"csrf_token": csrf(client)}, follow_redirects=False)
    assert answer.status_code == 303
    assert "Вернуть в рассылку" in client.get(f"/incidents/{burst.incident}").text
