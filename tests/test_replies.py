"""Publishing replies to residents through the loopback VK and Telegram servers."""

# ruff: noqa: F811 (the fixtures vk and tg come from tests.replying and are taken as arguments)
from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import timedelta

import httpx
import pytest

from monitor.catalog.organisations import organisation_id, sync_from_settings
from monitor.cli import cli
from monitor.clock import iso
from monitor.commands.incidents import run_once as worker_pass
from monitor.context import Context
from monitor.incidents.lifecycle import act
from monitor.incidents.states import open_incident
from monitor.replies import ReplyError, confirm_published, publish_one, retry, run_once, sweep_stuck
from monitor.replies.canned import CannedError, address_in, fill, for_topic, load
from monitor.store import open_db
from nlp import Labels
from tests.replying import DZR_GROUP, DZR_WALL, TG_CHAT, VK_TOKEN, tg, vk  # noqa: F401 (fixtures)

HOSTILE = ('<b>жирный</b> <script>alert(1)</script> *звёзды* _курсив_ '
           '[ссылка](javascript:alert(1)) &amp; {address}')



def environ(vk, tg) -> dict:
    return {"TSUR_VK_API_URL": vk.url, "TSUR_TELEGRAM_API_URL": tg.url,
            "TSUR_TELEGRAM_BOT_TOKEN": tg.token, "TSUR_VK_TOKEN_ADM_DZR": VK_TOKEN}


@pytest.fixture
def rctx(settings, clock, vk, tg):
    """Demo settings; adm-dzr's community token is in TSUR_VK_TOKEN_ADM_DZR."""
    orgs = tuple(replace(o, vk_token_env="TSUR_VK_TOKEN_ADM_DZR") if o.key == "adm-dzr" else o
                 for o in settings.organisations)
    s = replace(settings, organisations=orgs, environ=environ(vk, tg))
    db = open_db(s.database)
    sync_from_settings(db, s, clock.now())
    yield Context(db, s, clock, None)
    db.close()


@pytest.fixture
def client():
    with httpx.Client(timeout=httpx.Timeout(5.0, connect=2.0)) as c:
        yield c


def incident_for(ctx, source: str, external_id: str, channel: str, parent: str | None = None,
                 text: str = "Третий день нет горячей воды на Гайдара 12", org: str = "adm-dzr",
                 author: str = "vk:777") -> int:
    now = ctx.clock.now()
    with ctx.db.atomic():
        source_id = ctx.db.execute("SELECT id FROM sources WHERE key = ?", [source]).fetchone()[0]
        post_id = ctx.db["posts"].insert({
            "source_id": source_id, "external_id": external_id, "channel": channel,
            "parent_external_id": parent, "author_id": author, "text": text,
            "created_at": iso(now), "collected_at": iso(now)}).last_pk
        labels = Labels("complaint", "housing", "Дзержинск", "normal", {})
        return open_incident(ctx, post_id, labels, organisation_id(ctx.db, org), "test")


def vk_comment_incident(ctx, vk, **kw) -> tuple[int, dict, dict]:
    post = vk.post(DZR_WALL, "Отключения воды на неделе")
    comment = vk.comment(DZR_WALL, post["id"], "Третий день нет горячей воды на Гайдара 12")
    i = incident_for(ctx, "vk:-100003", f"{DZR_WALL}_{post['id']}_{comment['id']}", "vk_comment",
                     parent=f"{DZR_WALL}_{post['id']}", **kw)
    return i, post, comment


def tg_incident(ctx, tg) -> tuple[int, int]:
    update = tg.message(TG_CHAT, "Яма у школы №5 на Ленина 3", from_id=5001)
    message_id = update["message"]["message_id"]
    i = incident_for(ctx, f"telegram:{TG_CHAT}", f"{TG_CHAT}_{message_id}", "telegram",
                     author="tg:5001", org="adm-vyksa")
    return i, message_id


def reply(ctx, incident_id) -> dict:
    return list(ctx.db["outbox"].rows_where("audience = 'resident' AND incident_id = ?", [incident_id],
                                                  order_by="id desc", limit=1))[0]


def events(ctx, incident_id, prefix="reply_") -> list[str]:
    return [e["event"] for e in ctx.db["incident_events"].rows_where(
        "incident_id = ? AND event LIKE ?", [incident_id, f"{prefix}%"], order_by="id")]


def wait_for(predicate, seconds=5.0):
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "the fake never got there"
        time.sleep(0.05)


# --- the three kinds of reply ------------------------------------------------------------


def test_reply_to_a_vk_comment_comes_from_the_community_under_the_residents_comment(
        rctx, vk, client):
    i, post, comment = vk_comment_incident(rctx, vk)
    act(rctx, i, "acknowledge", "moderator", text="Здравствуйте! Передали в администрацию.")
    rctx.clock.advance(timedelta(minutes=3))
    assert publish_one(rctx, client) is True
    [call] = vk.created_comments
    assert (call["owner_id"], call["post_id"], call["reply_to_comment"], call["from_group"]) == (
        str(DZR_WALL), str(post["id"]), str(comment["id"]), str(DZR_GROUP))
    assert call["message"] == "Здравствуйте! Передали в администрацию." and call["guid"]
    created = vk.comments[DZR_WALL][call["comment_id"]]
    assert created["from_id"] == -DZR_GROUP and created["reply_to_comment"] == comment["id"]
    row = reply(rctx, i)
    assert row["status"] == "published" and row["guid"] == call["guid"]
    assert row["external_id"] == f"{DZR_WALL}_{post['id']}_{call['comment_id']}"
    assert row["url"].startswith(f"https://vk.com/wall{DZR_WALL}_{post['id']}?reply=")
    assert row["account"] == f"vk:club{DZR_GROUP}"
    # the first reply counts from the moment VK accepted it, not from the approval
    assert rctx.db["incidents"].get(i)["first_reply_at"] == iso(rctx.clock.now())
    assert events(rctx, i) == ["reply_published"]
    assert publish_one(rctx, client) is False


def test_reply_to_a_vk_wall_post_is_a_comment_under_the_post(rctx, vk, client):
    post = vk.post(DZR_WALL, "Во дворе на Гайдара 12 не вывозят мусор", from_id=700002)
    i = incident_for(rctx, "vk:-100003", f"{DZR_WALL}_{post['id']}", "vk_post")
    act(rctx, i, "acknowledge", "moderator", text="Передали региональному оператору.")
    publish_one(rctx, client)
    [call] = vk.created_comments
    assert call["post_id"] == str(post["id"]) and "reply_to_comment" not in call
    assert reply(rctx, i)["status"] == "published"


def test_reply_to_a_telegram_message_replies_to_it_from_the_bot(rctx, tg, client):
    i, message_id = tg_incident(rctx, tg)
    act(rctx, i, "acknowledge", "moderator", text="Спасибо, передали в администрацию.")
    publish_one(rctx, client)
    [sent] = tg.sent
    assert int(sent["chat_id"]) == TG_CHAT and sent["text"] == "Спасибо, передали в администрацию."
    assert json.loads(sent["reply_parameters"])["message_id"] == message_id
    assert "parse_mode" not in sent
    row = reply(rctx, i)
    assert row["status"] == "published" and row["external_id"].startswith(f"{TG_CHAT}_")
    assert row["url"].startswith("https://t.me/c/1000000008/")
    assert rctx.db["incidents"].get(i)["first_reply_at"] == iso(rctx.clock.now())


def test_hostile_text_is_sent_as_plain_text_exactly_as_written(rctx, vk, tg, client):
    a, _, _ = vk_comment_incident(rctx, vk)
    b, _ = tg_incident(rctx, tg)
    for i in (a, b):
        act(rctx, i, "acknowledge", "moderator", text=HOSTILE)
    run_once(rctx, client)
    assert vk.created_comments[0]["message"] == HOSTILE
    assert tg.sent[0]["text"] == HOSTILE and "parse_mode" not in tg.sent[0]


def test_final_answer_time_is_the_moment_of_acceptance(rctx, vk, client):
    i, _, _ = vk_comment_incident(rctx, vk)
    for action, data in [("assign", {"organisation_id": str(organisation_id(rctx.db, "adm-dzr"))}),
                         ("submit_draft", {"text": "Горячую воду дали."}), ("approve_final", {})]:
        act(rctx, i, action, "moderator", **data)
    rctx.clock.advance(timedelta(minutes=1))
    run_once(rctx, client)
    row = rctx.db["incidents"].get(i)
    assert row["answered_at"] == row["first_reply_at"] == iso(rctx.clock.now())


# --- failures --------------------------------------------------------------------------


def break_vk(kind, vk, post, comment):
    if kind == "token expired":
        vk.expire_token(VK_TOKEN)
    elif kind == "comments closed":
        vk.close_comments(DZR_WALL, post["id"])
    elif kind == "post deleted":
        vk.delete_post(DZR_WALL, post["id"])
    elif kind == "access denied":
        vk.inject("wall.createComment", "error", 15)
    elif kind == "page deleted":
        vk.inject("wall.createComment", "error", 18)


@pytest.mark.parametrize("kind, failure, reason", [
    ("token expired", "token", "VK error 5: User authorization failed"),
    ("comments closed", "comments_closed", "VK error 212: Access to post comments denied"),
    ("post deleted", "deleted", "VK error 100"),
    ("access denied", "comments_closed", "VK error 15: Access denied"),
    ("page deleted", "deleted", "VK error 18"),
])
def test_a_vk_failure_is_stored_with_the_platforms_reason_and_no_reply_time(
        rctx, vk, client, kind, failure, reason):
    i, post, comment = vk_comment_incident(rctx, vk)
    act(rctx, i, "acknowledge", "moderator", text="Передали в администрацию.")
    assert rctx.db["incidents"].get(i)["first_reply_at"]  # stamped by the approval…
    break_vk(kind, vk, post, comment)
    publish_one(rctx, client)
    row = reply(rctx, i)
    assert (row["status"], row["failure"]) == ("failed", failure)
    assert row["error"].startswith(reason)
    incident = rctx.db["incidents"].get(i)
    assert incident["first_reply_at"] is None  # …and cleared: nothing reached the resident
    assert incident["next_due_at"] == incident["first_reply_due_at"]  # the clock runs again
    assert events(rctx, i) == ["reply_failed"]
    assert publish_one(rctx, client) is False  # a person must act: not retried by itself


@pytest.mark.parametrize("kind, failure, reason", [
    ("bot kicked", "access", "Telegram 403: Forbidden: bot was kicked"),
    ("message deleted", "deleted", "Telegram 400: Bad Request: message to be replied not found"),
    ("bad token", "token", "Telegram 401"),
])
def test_a_telegram_failure_is_stored_with_the_platforms_reason(rctx, tg, client, kind, failure,
                                                                reason):
    i, message_id = tg_incident(rctx, tg)
    act(rctx, i, "acknowledge", "moderator", text="Передали в администрацию.")
    if kind == "bot kicked":
        tg.inject("sendMessage", "error", 403)
    elif kind == "message deleted":
        tg.delete_message(TG_CHAT, message_id)
    else:
        tg.revoked = True
    publish_one(rctx, client)
    row = reply(rctx, i)
    assert (row["status"], row["failure"]) == ("failed", failure) and row["error"].startswith(reason)
    assert tg.sent == [] and rctx.db["incidents"].get(i)["first_reply_at"] is None


def test_too_many_requests_waits_for_retry_after_then_publishes(rctx, tg, client):
    i, _ = tg_incident(rctx, tg)
    act(rctx, i, "acknowledge", "moderator", text="Передали.")
    tg.inject("sendMessage", "error", 429, extra={"retry_after": 30})
    publish_one(rctx, client)
    row = reply(rctx, i)
    assert (row["status"], row["failure"]) == ("pending", "rate_limited")
    assert "Too Many Requests" in row["error"]
    assert row["not_before"] == iso(rctx.clock.now() + timedelta(seconds=30))
    assert publish_one(rctx, client) is False  # not before 30 s
    rctx.clock.advance(timedelta(seconds=31))
    assert publish_one(rctx, client) is True
    assert reply(rctx, i)["status"] == "published" and len(tg.sent) == 1


def test_vk_flood_control_is_retried_by_itself_and_gives_up_after_five_attempts(rctx, vk, client):
    i, _, _ = vk_comment_incident(rctx, vk)
    act(rctx, i, "acknowledge", "moderator", text="Передали.")
    vk.inject("wall.createComment", "error", 9, times=None)
    for _ in range(5):
        rctx.clock.advance(timedelta(hours=1))
        assert publish_one(rctx, client)
    row = reply(rctx, i)
    assert row["status"] == "failed" and row["error"].startswith("gave up after 5 attempts: VK error 9")


def test_a_network_error_before_sending_is_retried_later(rctx, vk, client):
    i, _, _ = vk_comment_incident(rctx, vk)
    act(rctx, i, "acknowledge", "moderator", text="Передали.")
    ctx = replace(rctx, settings=replace(rctx.settings, environ={
        **rctx.settings.environ, "TSUR_VK_API_URL": "http://127.0.0.1:9/method"}))
    publish_one(ctx, client)
    row = reply(rctx, i)
    assert (row["status"], row["failure"]) == ("pending", "network") and row["not_before"]


def test_a_moderator_retries_a_failed_reply_and_only_then_it_counts(rctx, vk, client):
    i, post, _ = vk_comment_incident(rctx, vk)
    act(rctx, i, "acknowledge", "moderator", text="Передали.")
    vk.close_comments(DZR_WALL, post["id"])
    publish_one(rctx, client)
    row = reply(rctx, i)
    with pytest.raises(ReplyError, match="подтвердить публикацию можно только"):
        confirm_published(rctx, i, row["id"], "moderator")
    vk.posts[DZR_WALL][post["id"]]["comments"]["can_post"] = 1  # the community reopened them
    rctx.clock.advance(timedelta(minutes=20))
    retry(rctx, i, row["id"], "moderator")
    assert reply(rctx, i)["status"] == "pending"
    publish_one(rctx, client)
    assert reply(rctx, i)["status"] == "published" and len(vk.created_comments) == 1
    assert rctx.db["incidents"].get(i)["first_reply_at"] == iso(rctx.clock.now())
    assert events(rctx, i) == ["reply_failed", "reply_retry", "reply_published"]
    with pytest.raises(ReplyError, match="снова отправляют только"):
        retry(rctx, i, row["id"], "moderator")


def test_missing_account_or_token_fails_with_what_to_set(rctx, vk, client):
    watched = vk.post(-100002, "Подслушано: на Гайдара 12 нет воды")
    a = incident_for(rctx, "vk:-100002", f"-100002_{watched['id']}", "vk_post", org="adm-arz")
    b, _, _ = vk_comment_incident(rctx, vk)
    ctx = replace(rctx, settings=replace(rctx.settings, environ={
        k: v for k, v in rctx.settings.environ.items() if k != "TSUR_VK_TOKEN_ADM_DZR"}))
    for i in (a, b):
        act(ctx, i, "acknowledge", "moderator", text="Передали.")
    run_once(ctx, client)
    first, second = reply(ctx, a), reply(ctx, b)
    assert first["failure"] == "no_account" and "vk_token_env" in first["error"]
    assert second["failure"] == "no_token" and "TSUR_VK_TOKEN_ADM_DZR не задана" in second["error"]
    assert vk.created_comments == []


def test_a_token_named_in_the_admin_pages_is_used(rctx, vk, client):
    """The organisation row (edited at /admin/organisations) names the variable."""
    s = replace(rctx.settings, organisations=tuple(replace(o, vk_token_env=None)
                                                   for o in rctx.settings.organisations),
                environ={**rctx.settings.environ, "DZR_FROM_ADMIN": VK_TOKEN})
    ctx = replace(rctx, settings=s)
    ctx.db.execute("UPDATE organisations SET vk_token_env = 'DZR_FROM_ADMIN' WHERE key = 'adm-dzr'")
    i, _, _ = vk_comment_incident(ctx, vk)
    act(ctx, i, "acknowledge", "moderator", text="Передали.")
    publish_one(ctx, client)
    assert reply(ctx, i)["status"] == "published"


def test_a_deleted_resident_message_is_not_answered(rctx, vk, client):
    i, _, _ = vk_comment_incident(rctx, vk)
    act(rctx, i, "acknowledge", "moderator", text="Передали.")
    rctx.db.execute("UPDATE posts SET deleted_at = ? WHERE id = (SELECT post_id FROM incidents"
                    " WHERE id = ?)", [iso(rctx.clock.now()), i])
    publish_one(rctx, client)
    assert reply(rctx, i)["failure"] == "deleted" and vk.calls("wall.createComment") == []


# --- nothing is published twice ----------------------------------------------------------


def test_a_claimed_reply_is_never_handed_out_again(rctx, vk, client):
    from monitor.incidents import outbox

    i, _, _ = vk_comment_incident(rctx, vk)
    act(rctx, i, "acknowledge", "moderator", text="Передали.")
    row = reply(rctx, i)
    assert outbox.claim(rctx.db, row["id"], rctx.clock.now())  # another publisher has it
    assert publish_one(rctx, client) is False
    assert vk.created_comments == []


def test_vk_timeout_after_sending_is_unknown_and_a_retry_cannot_duplicate(rctx, vk):
    i, post, _ = vk_comment_incident(rctx, vk)
    act(rctx, i, "acknowledge", "moderator", text="Передали.")
    vk.inject("wall.createComment", "slow", 1.0)
    with httpx.Client(timeout=0.3) as impatient:
        publish_one(rctx, impatient)
    row = reply(rctx, i)
    assert (row["status"], row["failure"]) == ("unknown", "unknown")
    assert "no answer from VK after sending" in row["error"]
    assert rctx.db["incidents"].get(i)["first_reply_at"] is None
    wait_for(lambda: len(vk.created_comments) == 1)  # it did arrive
    with httpx.Client(timeout=5) as client:
        assert run_once(rctx, client).handled == 0  # never resent by itself
        retry(rctx, i, row["id"], "moderator")
        run_once(rctx, client)
    assert reply(rctx, i)["status"] == "published"
    mine = [c for c in vk.comments[DZR_WALL].values() if c["from_id"] == -DZR_GROUP]
    assert len(mine) == 1  # the same guid: VK gave back the comment made the first time


def test_telegram_timeout_is_unknown_and_a_moderator_confirms_it(rctx, tg):
    i, _ = tg_incident(rctx, tg)
    act(rctx, i, "acknowledge", "moderator", text="Передали.")
    tg.inject("sendMessage", "slow", 1.0)
    with httpx.Client(timeout=0.3) as impatient:
        publish_one(rctx, impatient)
    wait_for(lambda: len(tg.sent) == 1)
    with httpx.Client(timeout=5) as client:
        run_once(rctx, client)
    assert len(tg.sent) == 1 and reply(rctx, i)["status"] == "unknown"
    sent_at = reply(rctx, i)["claimed_at"]
    rctx.clock.advance(timedelta(minutes=30))
    confirm_published(rctx, i, reply(rctx, i)["id"], "moderator")
    assert reply(rctx, i)["status"] == "published"
    assert rctx.db["incidents"].get(i)["first_reply_at"] == sent_at
    assert events(rctx, i) == ["reply_unknown", "reply_confirmed"]


def test_a_dropped_connection_is_unknown_not_resent(rctx, tg, client):
    i, _ = tg_incident(rctx, tg)
    act(rctx, i, "acknowledge", "moderator", text="Передали.")
    tg.inject("sendMessage", "drop")
    run_once(rctx, client)
    run_once(rctx, client)
    assert reply(rctx, i)["status"] == "unknown" and len(tg.calls("sendMessage")) == 1


def test_a_reply_left_sending_by_a_dead_publisher_becomes_unknown(rctx, vk):
    from monitor.incidents import outbox

    i, _, _ = vk_comment_incident(rctx, vk)
    act(rctx, i, "acknowledge", "moderator", text="Передали.")
    outbox.claim(rctx.db, reply(rctx, i)["id"], rctx.clock.now())
    assert sweep_stuck(rctx) == 0
    rctx.clock.advance(timedelta(minutes=11))
    assert sweep_stuck(rctx) == 1
    row = reply(rctx, i)
    assert row["status"] == "unknown" and "stopped while sending" in row["error"]


# --- the worker and the command --------------------------------------------------------


def test_the_worker_publishes_waiting_replies(rctx, vk, tg, client):
    a, _, _ = vk_comment_incident(rctx, vk)
    b, _ = tg_incident(rctx, tg)
    for i in (a, b):
        act(rctx, i, "acknowledge", "moderator", text="Передали.")
    tally = worker_pass(rctx, client)
    assert tally.replies == 2 and len(vk.created_comments) == 1 and len(tg.sent) == 1
    assert "2 replies handled" in str(tally)


def test_a_notification_and_a_reply_leave_the_one_outbox_through_the_one_telegram_sender(
        rctx, tg, client):
    from monitor.incidents.outbox import queue_notification

    moderators = -1009000000001
    i, message_id = tg_incident(rctx, tg)
    act(rctx, i, "acknowledge", "moderator", text="Передали.")
    note = queue_notification(rctx.db, moderators, "Новый инцидент", rctx.clock.now(),
                              incident_id=i)
    queued = {r["id"]: r["audience"] for r in rctx.db["outbox"].rows_where("incident_id = ?", [i])}
    assert sorted(queued.values()) == ["resident", "staff"] and queued[note] == "staff"
    tally = worker_pass(rctx, client)
    assert (tally.notifications, tally.replies) == (1, 1)
    sent = {int(m["chat_id"]): m for m in tg.sent}
    assert sorted(sent) == sorted([moderators, TG_CHAT]) and len(tg.calls("sendMessage")) == 2
    assert sent[moderators]["text"] == "Новый инцидент"
    assert json.loads(sent[TG_CHAT]["reply_parameters"])["message_id"] == message_id
    states = {r["audience"]: (r["status"], r["attempts"])
              for r in rctx.db["outbox"].rows_where("incident_id = ?", [i])}
    assert states == {"staff": ("sent", 1), "resident": ("published", 1)}
    with pytest.raises(ReplyError, match=f"нет ответа № {note}"):  # a notification is no reply
        retry(rctx, i, note, "moderator")


def test_replies_send_once_list_and_retry_commands(tmp_path, runner, vk, tg, clock):
    from monitor.demo import DEMO_CONFIG
    from monitor.settings import load_settings

    config = tmp_path / "tsur.toml"
    config.write_text(DEMO_CONFIG.read_text(encoding="utf-8").replace(
        'vk_group_id = 100003', 'vk_group_id = 100003\nvk_token_env = "TSUR_VK_TOKEN_ADM_DZR"'),
        encoding="utf-8")
    env = {**environ(vk, tg), "TSUR_DB": str(tmp_path / "r.db")}
    settings = load_settings(config, environ=env)
    db = open_db(settings.database)
    sync_from_settings(db, settings, clock.now())
    ctx = Context(db, settings, clock, None)
    ok, _, _ = vk_comment_incident(ctx, vk)
    bad, post, _ = vk_comment_incident(ctx, vk)
    vk.close_comments(DZR_WALL, post["id"])
    for i in (ok, bad):
        act(ctx, i, "acknowledge", "moderator", text="Передали.")
    failed_id = reply(ctx, bad)["id"]
    db.close()
    result = runner.invoke(cli, ["--config", str(config), "replies", "send", "--once"], env=env)
    assert result.exit_code == 0, result.output
    assert "1 replies published, 1 failed" in result.output
    listed = runner.invoke(cli, ["--config", str(config), "replies", "list"], env=env)
    assert f"#{failed_id}" in listed.output and "VK error 212" in listed.output
    again = runner.invoke(cli, ["--config", str(config), "replies", "retry", str(failed_id)], env=env)
    assert again.exit_code == 0 and "queued" in again.output
    missing = runner.invoke(cli, ["--config", str(config), "replies", "retry", "999"], env=env)
    assert missing.exit_code != 0 and "does not exist" in missing.output


# --- canned answers ----------------------------------------------------------------------


def test_every_topic_has_a_canned_answer_in_russian(settings):
    from nlp.labels import TOPICS

    answers = load(settings)
    assert set(answers) == set(TOPICS)
    assert all(1 <= len(items) <= 2 and "Здравствуйте" in items[0].text
               for items in answers.values())


@pytest.mark.parametrize("text, address", [
    ("Третий день нет горячей воды на Гайдара 12", "Гайдара, 12"),
    ("Яма на Петрищева 18 в Дзержинске, опасно", "Петрищева, 18"),
    ("Во дворе на улице Гагарина 3 к Кстово прорвало трубу", "ул. Гагарина, 3"),
    ("Подъезд на Петрищева 18в не убирают", "Петрищева, 18в"),
    ("яма на ул. Ленина, 5 уже месяц", "ул. Ленина, 5"),
    ("течёт крыша, дом 5 по ул. Чкалова", "дом 5 по ул. Чкалова"),
    ("Автобус 101 опять не пришёл", None),
])
def test_the_address_is_taken_from_the_residents_words(text, address):
    assert address_in(text) == address


def test_canned_answer_is_filled_with_the_place_or_left_visibly_blank(settings):
    canned = for_topic(settings, "housing")[0]
    text = fill(canned, {"id": 7, "text": "Нет воды на Гайдара 12", "municipality": "Дзержинск",
                         "organisation_name": "Администрация г. Дзержинска"})
    assert "Гайдара, 12 (Дзержинск)" in text and "№ 7" in text and "{" not in text
    garbled = fill(canned, {"id": 7, "text": "Яма на Петрищева 18 в Дзержинске",
                            "municipality": "Дзержинск"})
    assert "по адресу: Петрищева, 18 (Дзержинск)" in garbled
    blank = fill(canned, {"id": 7, "text": "Нет воды {address}", "municipality": None})
    assert "[адрес] ([муниципалитет])" in blank


def test_a_canned_file_with_an_unknown_placeholder_is_refused(settings, tmp_path):
    (tmp_path / "replies").mkdir()
    (tmp_path / "replies" / "canned.toml").write_text(
        '[[housing]]\ntitle = "x"\ntext = "Здравствуйте, {street}!"\n', encoding="utf-8")
    with pytest.raises(CannedError, match="unknown placeholder street"):
        load(replace(settings, data_dir=tmp_path))
