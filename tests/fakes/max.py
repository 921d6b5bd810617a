"""A loopback MAX Bot API for tests: GET /updates with a marker, POST /messages, webhooks.

    fake = FakeMax().start()
    fake.chat_message(-70001, "Нет света на Ленина", title="Дом 5: жители")
    fake.dialog(9001, "Яма у школы")
    env = {"TSUR_MAX_API_URL": fake.url, "TSUR_MAX_BOT_TOKEN": fake.token}
    ...
    fake.sent  # every POST /messages, as (query, body) received

Written from the public schema (dev.max.ru, the OpenAPI schema of the Bot API 0.0.33):
the token in the `Authorization` header (no "Bearer"); answers are the object itself,
errors carry HTTP status and {"code", "message"}; times in milliseconds; a message is
{sender, recipient{chat_id, chat_type}, timestamp, body{mid, seq, text}, link?, url?};
updates are {update_type, timestamp, …}; `GET /updates` → {updates, marker}.
Where the documentation is silent the fake guesses, and says so:
- GUESS: the marker is the sequence number of the next update; passing it confirms
  (forgets) every update below it, and a call without a marker returns every update
  not yet confirmed (the schema says so; the Russian page says "only the last one").
- GUESS: a 429 may carry `Retry-After`; the fake sends it when the fault gives one.
- GUESS: a reply to a message that is gone answers 404 {"code": "not.found"}.
- GUESS: while a webhook subscription exists, GET /updates answers 405.
"""

from __future__ import annotations

import itertools
import json
import threading
import time

from . import Answer, Fault, LoopbackServer, json_answer

MAX_TEXT = 4000
ERRORS = {400: "bad.request", 401: "verify.token", 403: "chat.denied", 404: "not.found",
          405: "method.not.allowed", 429: "too.many.requests", 500: "internal.error",
          503: "service.unavailable"}


class FakeMax(LoopbackServer):
    name = "fake-max"
    LONG_POLL_CAP = 2.0

    def __init__(self, token: str = "max-test-token", bot_id: int = 777000,
                 now=lambda: int(time.time())):
        super().__init__()
        self.token, self.bot_id, self.now = token, bot_id, now
        self.revoked = False
        self.pending: list[dict] = []  # updates not yet confirmed, each with its "seq"
        self.seq = itertools.count(1)
        self.mids = itertools.count(100_000)
        self.messages: dict[str, dict] = {}  # mid → message, as the API shows it
        self.removed: set[str] = set()
        self.titles: dict[int, str] = {}
        self.sent: list[tuple[dict, dict]] = []
        self.subscriptions: list[dict] = []
        self.served: list[int] = []  # seq of every update handed out, repeats included
        self.ledger_lock = threading.Lock()

    @property
    def url(self) -> str:
        """What TSUR_MAX_API_URL should be."""
        return self.address

    # --- what residents do ----------------------------------------------------------------

    def queue_raw(self, update) -> None:
        """Anything at all as the next update, delivered whatever types were asked for
        (hostile tests)."""
        with self.changed:
            self.pending.append({"seq": next(self.seq), "update": update, "raw": True})
            self.changed.notify_all()

    def queue(self, update: dict) -> dict:
        with self.changed:
            update = {**update, "timestamp": update.get("timestamp") or self.now() * 1000}
            self.pending.append({"seq": next(self.seq), "update": update})
            self.changed.notify_all()
        return update

    def _message(self, chat_id: int, chat_type: str, text: str, user_id: int,
                 first_name: str, reply_to: str | None = None, public: str | None = None,
                 is_bot: bool = False) -> dict:
        mid = f"mid.{next(self.mids):016x}"
        message = {
            "sender": {"user_id": user_id, "first_name": first_name, "is_bot": is_bot},
            "recipient": {"chat_id": chat_id, "chat_type": chat_type},
            "timestamp": self.now() * 1000,
            "body": {"mid": mid, "seq": len(self.messages) + 1, "text": text},
        }
        if public:
            message["url"] = f"https://max.ru/{public}/{mid}"
        if reply_to:
            message["link"] = {"type": "reply", "chat_id": chat_id,
                               "message": dict(self.messages[reply_to]["body"])}
        with self.lock:
            self.messages[mid] = message
        return message

    def chat_message(self, chat_id: int, text: str, *, user_id: int = 5001,
                     first_name: str = "Ольга", title: str = "Чат дома",
                     reply_to: str | None = None, public: str | None = None) -> dict:
        self.titles.setdefault(chat_id, title)
        message = self._message(chat_id, "chat", text, user_id, first_name, reply_to, public)
        self.queue({"update_type": "message_created", "message": message})
        return message

    def dialog(self, user_id: int, text: str, *, first_name: str = "Иван") -> dict:
        message = self._message(user_id + 10**9, "dialog", text, user_id, first_name)
        self.queue({"update_type": "message_created", "message": message,
                    "user_locale": "ru-RU"})
        return message

    def edit(self, message: dict, text: str) -> dict:
        edited = json.loads(json.dumps(message))
        edited["body"]["text"] = text
        with self.lock:
            self.messages[message["body"]["mid"]] = edited
        self.queue({"update_type": "message_edited", "message": edited})
        return edited

    def remove(self, message: dict, by: int = 5001) -> None:
        mid = message["body"]["mid"]
        with self.lock:
            self.removed.add(mid)
        self.queue({"update_type": "message_removed", "message_id": mid,
                    "chat_id": message["recipient"]["chat_id"], "user_id": by})

    def live_ids(self, *, dialogs: bool = True) -> set[str]:
        """`<chat_id>_<mid>` of every residents' message not removed."""
        with self.lock:
            return {f"{m['recipient']['chat_id']}_{mid}" for mid, m in self.messages.items()
                    if mid not in self.removed and not m["sender"]["is_bot"]
                    and (dialogs or m["recipient"]["chat_type"] != "dialog")}

    # --- HTTP -------------------------------------------------------------------------

    def method_of(self, path: str) -> str | None:
        parts = path.strip("/").split("/")
        return parts[0] or None

    def error_answer(self, method: str, params: dict, fault: Fault) -> Answer:
        status = int(fault.value)
        answer = self._error(status, fault.extra.get("message"))
        if fault.extra.get("retry_after") is not None:
            answer.headers = {"Retry-After": str(fault.extra["retry_after"])}
        return answer

    @staticmethod
    def _error(status: int, message: str | None = None) -> Answer:
        return json_answer({"code": ERRORS.get(status, "error"),
                            "message": message or ERRORS.get(status, "error")}, status=status)

    def route(self, verb, path, params, headers, entry) -> Answer:
        token = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
        if token != self.token or self.revoked:
            return self._error(401, "Invalid access_token")
        method = self.method_of(path)
        if verb == "GET" and method == "updates":
            return self._updates(params, entry)
        if verb == "GET" and method == "chats":
            chat_id = int(path.strip("/").split("/")[1])
            if chat_id not in self.titles:
                return self._error(404, "Chat not found")
            return json_answer({"chat_id": chat_id, "type": "chat", "status": "active",
                                "title": self.titles[chat_id], "last_event_time": 0,
                                "participants_count": 12, "is_public": False})
        if verb == "POST" and method == "messages":
            return self._send(params, entry)
        if verb == "POST" and method == "subscriptions":
            with self.lock:
                self.subscriptions = [{**params, "time": self.now() * 1000}]
            return json_answer({"success": True})
        if verb == "GET" and method == "me":
            return json_answer({"user_id": self.bot_id, "first_name": "ЦУР", "is_bot": True,
                                "username": "cur_test_bot"})
        return self._error(404, f"Path {path} not found")

    def _updates(self, params, entry) -> Answer:
        if self.subscriptions:
            return self._error(405, "Long polling is not available while a webhook is set")
        limit = min(int(params.get("limit") or 100), 1000)
        wanted = set(filter(None, (params.get("types") or "").split(",")))
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), self.LONG_POLL_CAP)
        with self.changed:
            if params.get("marker"):
                marker = int(params["marker"])
                self.pending = [u for u in self.pending if u["seq"] >= marker]
            while True:
                ready = [u for u in self.pending
                         if not wanted or u.get("raw") or u["update"]["update_type"] in wanted]
                remaining = deadline - time.monotonic()
                if ready or remaining <= 0 or self._server is None:
                    break
                self.changed.wait(remaining)
            ready = ready[:limit]
            self.served += [u["seq"] for u in ready]
            entry["served"] += [u["seq"] for u in ready]
            marker = ready[-1]["seq"] + 1 if ready else (
                self.pending[0]["seq"] if self.pending else None)
            return json_answer({"updates": [u["update"] for u in ready], "marker": marker})

    def _send(self, params, entry) -> Answer:
        body = {k: params[k] for k in ("text", "link", "notify", "format") if k in params}
        text = body.get("text") or ""
        if not text:
            return self._error(400, "text: must not be empty")
        if len(text) > MAX_TEXT:
            return self._error(400, f"text: length must be less than {MAX_TEXT}")
        chat_id = int(params.get("chat_id") or 0)
        link = json.loads(body["link"]) if body.get("link") else {}
        with self.lock:
            if link.get("mid") and (link["mid"] in self.removed or link["mid"] not in self.messages):
                return self._error(404, "Message to reply not found")
            query = {k: v for k, v in params.items() if k not in body}
            self.sent.append((query, {**body, "link": link}))
        chat_type = "dialog" if chat_id > 10**9 else "chat"
        message = self._message(chat_id, chat_type, text, self.bot_id, "ЦУР", is_bot=True)
        if link.get("mid"):
            message["link"] = {"type": "reply", "chat_id": chat_id,
                               "message": dict(self.messages[link["mid"]]["body"])}
        return json_answer({"message": message})
