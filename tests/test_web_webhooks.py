"""Webhooks under hostile input: the secret and the size are checked before the body is
read, no answer reveals which communities are configured, and no body, however made,
gets a 500 or costs a valid event."""

from __future__ import annotations

import asyncio
import copy
import json
import random

import pytest
from fastapi.testclient import TestClient

from monitor.catalog.organisations import sync_from_settings
from monitor.collectors.runner import vk_events
from monitor.context import Context
from monitor.demo import DEMO_CONFIG
from monitor.settings import load_settings
from monitor.store import open_db
from monitor.web.app import create_app

SECRETS = {"TSUR_VK_CALLBACK_SECRET": "cb-secret", "TSUR_VK_CALLBACK_CONFIRMATION": "a1b2c3d4",
           "TSUR_TELEGRAM_WEBHOOK_SECRET": "tg-secret", "TSUR_MAX_WEBHOOK_SECRET": "max-secret",
           "TSUR_OK_WEBHOOK_SECRET": "ok-secret"}
VK_GROUP = 100001  # a community of the demo configuration
TG = {"X-Telegram-Bot-Api-Secret-Token": "tg-secret"}
MAX = {"X-Max-Bot-Api-Secret": "max-secret"}
OK_PATH = "/ok/webhook/ok-secret"


@pytest.fixture
def hook_ctx(tmp_path, clock):
    settings = load_settings(DEMO_CONFIG, environ={"TSUR_DB": str(tmp_path / "tsur.db"), **SECRETS})
    db = open_db(settings.database)
    sync_from_settings(db, settings, clock.now())
    yield Context(db, settings, clock)
    db.close()


@pytest.fixture
def app(hook_ctx):
    return create_app(hook_ctx, secret_key="k")


@pytest.fixture
def client(app):
    return TestClient(app, raise_server_exceptions=False)


def inbox(ctx, platform) -> list[dict]:
    return [dict(r, payload=json.loads(r["payload"]))
            for r in ctx.db["callback_inbox"].rows_where("platform = ?", [platform])]


def vk_event(event_id, text="Яма у дома 5", **extra) -> dict:
    return {"type": "wall_reply_new", "group_id": VK_GROUP, "event_id": event_id, "v": "5.199",
            "secret": "cb-secret", "object": {"id": 5, "post_id": 4814, "post_owner_id": -VK_GROUP,
                                              "from_id": 42, "date": 1794812400, "text": text},
            **extra}


def tg_update(update_id, text="Не горят фонари") -> dict:
    return {"update_id": update_id, "message": {
        "message_id": update_id, "date": 1794812400, "text": text,
        "chat": {"id": -1001, "type": "supergroup", "title": "Чат"},
        "from": {"id": 5001, "is_bot": False, "first_name": "Ольга"}}}


def max_update(n, text="Нет воды") -> dict:
    return {"update_type": "message_created", "timestamp": 1794812400000 + n,
            "message": {"body": {"mid": f"mid.{n}", "text": text},
                        "recipient": {"chat_id": -7001}, "sender": {"user_id": 9}}}


def ok_message(n, text="Снег не убран") -> dict:
    return {"webhookType": "MESSAGE_CREATED", "recipient": {"chat_id": "chat:1"},
            "sender": {"user_id": "user:9", "name": "Пётр"},
            "message": {"mid": f"mid.{n}", "text": text}, "timestamp": 1794812400000 + n}


# --- the body is not read before the secret and the size are checked ----------------------


def post_raw(app, path, headers: dict, chunks, declared: int | None = None) -> tuple[int, int]:
    """POST straight to the ASGI app, the body pulled chunk by chunk as a server would
    pull it off the socket: (status, how many chunks the app asked for)."""
    pulled = 0
    messages: list[dict] = []

    async def receive():
        nonlocal pulled
        chunk = next(chunks, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        pulled += 1
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message):
        messages.append(message)

    raw_headers = [(k.lower().encode("latin-1"), v.encode("latin-1") if isinstance(v, str) else v)
                   for k, v in headers.items()]
    if declared is not None:
        raw_headers.append((b"content-length", str(declared).encode()))
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
             "root_path": "", "headers": [(b"content-type", b"application/json"), *raw_headers],
             "client": ("127.0.0.1", 50000), "server": ("testserver", 80)}
    asyncio.run(app(scope, receive, send))
    return messages[0]["status"], pulled


def huge_body(megabytes=300):
    """300 MB in 64 KiB chunks, made only as they are pulled."""
    piece = b"[" * 65536
    return (piece for _ in range(megabytes * 16))


@pytest.mark.parametrize("path", ["/telegram/webhook", "/max/webhook", "/ok/webhook/wrong"])
def test_a_huge_post_without_the_secret_is_refused_before_its_body_is_read(app, path):
    status, pulled = post_raw(app, path, {}, huge_body(), declared=300_000_000)
    assert status in (403, 404) and pulled == 0


@pytest.mark.parametrize("path, headers", [("/vk/callback", {}), ("/telegram/webhook", TG),
                                           ("/max/webhook", MAX), (OK_PATH, {})])
def test_a_huge_post_is_refused_by_its_declared_size_unread(app, path, headers):
    status, pulled = post_raw(app, path, headers, huge_body(), declared=300_000_000)
    assert (status, pulled) == (413, 0)


@pytest.mark.parametrize("path, headers", [("/vk/callback", {}), ("/telegram/webhook", TG)])
def test_a_huge_post_of_undeclared_size_is_cut_off_after_the_limit(app, path, headers):
    status, pulled = post_raw(app, path, headers, huge_body())  # chunked: no Content-Length
    assert status == 413 and pulled <= 17  # 1 MB is 16 chunks of 64 KiB, not 4,800


def test_an_unknown_community_and_a_wrong_secret_get_one_answer(client):
    answers = [client.post("/vk/callback", json=body) for body in (
        vk_event("e1", secret="wrong"), vk_event("e1", group_id=999_999),
        {"type": "confirmation", "group_id": 999_999},
        {"type": "confirmation", "group_id": VK_GROUP, "secret": "wrong"})]
    assert {(a.status_code, a.text) for a in answers} == {(answers[0].status_code, answers[0].text)}
    assert answers[0].status_code == 403 and "999999" not in answers[0].text
    confirm = client.post("/vk/callback", json={"type": "confirmation", "group_id": VK_GROUP})
    assert confirm.text == "a1b2c3d4"


# --- hostile bodies: a clear 4xx, never a 500 ---------------------------------------------


def test_a_non_ascii_secret_is_refused_not_a_server_error(app, client):
    assert client.post("/vk/callback", json=vk_event("e1", secret="пароль")).status_code == 403
    assert client.post("/vk/callback", json=vk_event("e1", secret=["cb-secret"])).status_code == 403
    assert client.post("/ok/webhook/пароль", json=ok_message(1)).status_code == 404
    for path in ("/telegram/webhook", "/max/webhook"):
        header = "X-Telegram-Bot-Api-Secret-Token" if "telegram" in path else "X-Max-Bot-Api-Secret"
        status, _ = post_raw(app, path, {header: "пароль".encode()}, iter([b"{}"]))
        assert status == 403


@pytest.mark.parametrize("path, headers", [("/vk/callback", {}), ("/telegram/webhook", TG),
                                           ("/max/webhook", MAX), (OK_PATH, {})])
def test_deeply_nested_json_is_a_bad_request(client, path, headers):
    for body in (b"[" * 100_000, b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
                 json.dumps({"update_id": 1, "type": "x", "secret": "cb-secret", "group_id": VK_GROUP,
                             "o": "DEEP"}).replace('"DEEP"', "[" * 500 + "]" * 500).encode()):
        assert client.post(path, content=body, headers=headers).status_code == 400


@pytest.mark.parametrize("field, value", [("group_id", 2**64), ("group_id", 10**30),
                                          ("group_id", True), ("event_id", ["e"]),
                                          ("event_id", {"id": 1}), ("group_id", "9" * 5000),
                                          ("object", [1]), ("object", "text")])
def test_a_vk_event_with_an_impossible_id_is_refused(client, hook_ctx, field, value):
    answer = client.post("/vk/callback", json={**vk_event("e1"), field: value})
    assert 400 <= answer.status_code < 500 and not inbox(hook_ctx, "vk")


def test_a_telegram_update_with_an_id_beyond_64_bits_is_refused(client, hook_ctx):
    for update_id in (2**64, -(2**63) - 1, 1.5, "1e3", None):
        answer = client.post("/telegram/webhook", json=tg_update(update_id), headers=TG)
        assert answer.status_code == 400
    assert not inbox(hook_ctx, "telegram")


def test_a_signed_event_with_a_lone_surrogate_is_stored_with_it_replaced(client, hook_ctx):
    vk = json.dumps(vk_event("e\ud800", text="Яма \ud800 у дома"))  # "\ud800" escapes
    assert client.post("/vk/callback", content=vk).text == "ok"
    tg = json.dumps(tg_update(7, text="Фонари \udfff"))
    assert client.post("/telegram/webhook", content=tg, headers=TG).status_code == 200
    assert client.post("/max/webhook", content=json.dumps(max_update(1, "\ud83d!")),
                       headers=MAX).status_code == 200
    assert client.post(OK_PATH, content=json.dumps(ok_message(1, "\udc00"))).status_code == 200
    [vk_row] = inbox(hook_ctx, "vk")
    assert vk_row["event_id"] == "e\ufffd"
    assert vk_row["payload"]["object"]["text"] == "Яма \ufffd у дома"
    assert inbox(hook_ctx, "telegram")[0]["payload"]["message"]["text"] == "Фонари \ufffd"
    assert inbox(hook_ctx, "max")[0]["payload"]["message"]["body"]["text"] == "\ufffd!"
    assert inbox(hook_ctx, "ok")[0]["payload"]["message"]["text"] == "\ufffd"


# --- fuzz: a thousand generated hostile requests per webhook ----------------------------


TEXTS = ["Яма на Гайдара", "<script>alert(1)</script>", "\u202eотчёт\u202c", "\x00\x01\x1f",
         "\ud800", "\udfff хвост", "😀" * 50, "a" * 20_000, "'; DROP TABLE posts; --", "",
         "=cmd|' /C calc'!A0", "\\u0000", "%s%n", "\ufeff"]
JUNK = [None, True, 0, -1, 2**63, 2**64, 10**30, -(2**70), 1.5e308, "", "x" * 300, [], {},
        [1, [2, [3]]], {"a": {"b": None}}, "\ud800", "١٢٣"]


def mutate(rng: random.Random, record: dict) -> dict:
    """The record with one or more fields replaced by something no platform sends."""
    record = json.loads(json.dumps(record))
    for _ in range(rng.randint(1, 3)):
        node = record
        path = []
        while isinstance(node, dict) and node and rng.random() < 0.6:
            key = rng.choice(list(node))
            path.append(key)
            if not isinstance(node[key], dict):
                break
            node = node[key]
        target = record
        for key in path[:-1]:
            target = target[key]
        if path:
            target[path[-1]] = copy.deepcopy(rng.choice(JUNK))
        else:
            record[rng.choice(["extra", "\ud800", ""])] = copy.deepcopy(rng.choice(JUNK))
    return record


def hostile_bodies(rng: random.Random, valid: dict) -> bytes:
    """Raw bytes of one hostile request body built around a valid record."""
    choice = rng.randrange(9)
    text = json.dumps(valid)  # ensure_ascii: lone surrogates travel as "\ud800" escapes
    if choice == 0:
        return text[: rng.randrange(len(text))].encode()  # cut short
    if choice == 1:
        return json.dumps(rng.choice(JUNK)).encode()  # not an object
    if choice == 2:
        return b"\xff\xfe" + text.encode()  # not UTF-8
    if choice == 3:
        return ("[" * rng.randint(1_000, 100_000)).encode()
    if choice == 4:
        return json.dumps(mutate(rng, valid)).encode()
    if choice == 5:
        return text.encode("utf-16")
    if choice == 6:
        return text.replace('"', "'").encode()
    if choice == 7:
        return b""
    return (text + "," + text).encode()


PLATFORMS = {
    "vk": ("/vk/callback", {}, lambda n, text: vk_event(f"fz{n}", text)),
    "telegram": ("/telegram/webhook", TG, lambda n, text: tg_update(10_000 + n, text)),
    "max": ("/max/webhook", MAX, lambda n, text: max_update(n, text)),
    "ok": (OK_PATH, {}, lambda n, text: ok_message(n, text)),
}


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_fuzzed_webhook_requests_never_fail_and_never_lose_a_valid_event(client, hook_ctx,
                                                                          platform):
    path, headers, make = PLATFORMS[platform]
    rng = random.Random(f"webhook-{platform}")
    valid_texts, statuses = {}, {}
    for n in range(1_200):
        text = rng.choice(TEXTS) + f" №{n}"
        record = make(n, text)
        if n % 3 == 0:  # every third request is a valid event with hostile text
            body, sent_headers = json.dumps(record).encode(), headers
            valid_texts[n] = text.replace("\ud800", "\ufffd").replace("\udfff", "\ufffd")
        elif n % 3 == 1:  # a hostile body with the right secret
            body, sent_headers = hostile_bodies(rng, record), headers
        else:  # anything at all, with a wrong or missing secret
            body = hostile_bodies(rng, record) if rng.random() < 0.5 else json.dumps(record).encode()
            sent_headers = {k: rng.choice(["", "x", "пароль", v + " "]).encode() for k, v in headers.items()}
            if platform == "vk":
                wrong = dict(record, secret=rng.choice(["", "x", "пароль", None, 1, ["cb-secret"]]))
                body = json.dumps(wrong).encode()
        target = path if platform != "ok" or n % 3 != 2 else "/ok/webhook/" + rng.choice(
            ["x", "ok-secret ", "ok-secre", "%FF", "пароль"])
        answer = client.post(target, content=body, headers=sent_headers)
        statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1
        assert answer.status_code < 500, (n, body[:200], answer.text[:200])
        if n % 3 == 0:
            assert answer.status_code == 200, (n, answer.text)
    print(platform, "answers:", dict(sorted(statuses.items())))
    stored = inbox(hook_ctx, platform)
    texts = {_text(platform, row["payload"]) for row in stored}
    assert set(valid_texts.values()) <= texts, "a valid event was lost"
    if platform == "vk":  # and `tsur collect` reads every stored event without stopping
        posts, _, _ = asyncio.run(vk_events([row["payload"] for row in stored]))
        assert set(valid_texts.values()) <= {post.text for post in posts}


def _text(platform: str, payload: dict):
    if platform == "vk":
        node = payload.get("object")
    elif platform == "max":
        node = (payload.get("message") or {}).get("body") if isinstance(payload.get("message"), dict) else None
    else:
        node = payload.get("message")
    return node.get("text") if isinstance(node, dict) else None
