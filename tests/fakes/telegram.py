"""A loopback Telegram Bot API for tests: getUpdates with offsets, sendMessage, webhooks.

    fake = FakeTelegram().start()
    fake.channel_post(-1001000000007, "Нет света на Ленина")
    fake.message(-1001000000008, "Яма у школы", from_id=5001)
    env = {"TSUR_TELEGRAM_API_URL": fake.url, "TSUR_TELEGRAM_BOT_TOKEN": fake.token}
    ...
    fake.sent  # every sendMessage, as the parameters received

Answers follow the Bot API: {"ok": true, "result": …} or {"ok": false, "error_code",
"description", "parameters"?}. getUpdates forgets every update below `offset`
(confirmation) and returns the rest, waiting up to `timeout` (capped) for new ones.
`fake.inject("getUpdates", "error", 429, extra={"retry_after": 1})` answers Too Many
Requests; "status", "slow", "drop" and "malformed" faults work as for the VK fake.
"""

from __future__ import annotations

import json
import time

from . import Answer, Fault, LoopbackServer, json_answer

DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was kicked from the channel chat",
    409: "Conflict: can't use getUpdates method while webhook is active; "
         "use deleteWebhook to delete the webhook first",
    429: "Too Many Requests: retry after {retry_after}",
    500: "Internal Server Error",
}
MAX_TEXT = 4096


class FakeTelegram(LoopbackServer):
    name = "fake-telegram"
    LONG_POLL_CAP = 2.0

    def __init__(self, token: str = "123456:TEST-token", username: str = "tsur_test_bot",
                 now=lambda: int(time.time())):
        super().__init__()
        self.token = token
        self.bot_id = int(token.split(":")[0])
        self.username = username
        self.now = now
        self.revoked = False
        self.pending: list[dict] = []  # updates not yet confirmed
        self.next_update_id = 500_000_000
        self.next_message_id: dict[int, int] = {}
        self.sent: list[dict] = []
        self.webhook: dict | None = None
        self.deleted_messages: set[tuple[int, int]] = set()  # (chat id, message id)

    @property
    def url(self) -> str:
        """What TSUR_TELEGRAM_API_URL should be."""
        return self.address

    def start(self):
        return super().start()

    # --- updates to deliver -----------------------------------------------------------

    def queue(self, kind: str, payload: dict, update_id: int | None = None) -> dict:
        """Queue an update of `kind` (channel_post, message, …); a given id may repeat."""
        with self.changed:
            if update_id is None:
                self.next_update_id += 1
                update_id = self.next_update_id
            update = {"update_id": update_id, kind: payload}
            self.pending.append(update)
            self.changed.notify_all()
            return update

    def channel_post(self, chat_id: int, text: str, *, title: str = "Канал",
                     username: str | None = None) -> dict:
        chat = {"id": chat_id, "type": "channel", "title": title}
        if username:
            chat["username"] = username
        return self.queue("channel_post", self._message(chat, text, sender_chat=chat))

    def message(self, chat_id: int, text: str, *, from_id: int = 5001, title: str = "Чат",
                reply_to: int | None = None, first_name: str = "Ольга") -> dict:
        chat = {"id": chat_id, "type": "supergroup", "title": title}
        payload = self._message(chat, text, sender=self._user(from_id, first_name))
        if reply_to is not None:
            payload["reply_to_message"] = {"message_id": reply_to, "date": self.now(), "chat": chat}
        return self.queue("message", payload)

    def private(self, user_id: int, text: str, *, first_name: str = "Иван") -> dict:
        chat = {"id": user_id, "type": "private", "first_name": first_name}
        return self.queue("message", self._message(chat, text, sender=self._user(user_id, first_name)))

    def edit(self, update: dict, text: str) -> dict:
        """The edited_* update for a message queued earlier."""
        kind = next(k for k in update if k != "update_id")
        payload = dict(update[kind], text=text, edit_date=self.now())
        return self.queue(f"edited_{kind}", payload)

    def delete_message(self, chat_id: int, message_id: int) -> None:
        """The message is gone: replies to it get «message to be replied not found»."""
        with self.lock:
            self.deleted_messages.add((int(chat_id), int(message_id)))

    def _replied_exists(self, chat_id: int, params: dict) -> bool:
        reply = params.get("reply_parameters")
        reply = json.loads(reply) if isinstance(reply, str) else (reply or {})
        target = reply.get("message_id") or params.get("reply_to_message_id")
        if not target or reply.get("allow_sending_without_reply"):
            return True
        target = int(target)
        return (chat_id, target) not in self.deleted_messages and \
            0 < target <= self.next_message_id.get(chat_id, 100)

    def _message(self, chat: dict, text: str, sender: dict | None = None,
                 sender_chat: dict | None = None) -> dict:
        message_id = self.next_message_id.get(chat["id"], 100) + 1
        self.next_message_id[chat["id"]] = message_id
        message = {"message_id": message_id, "date": self.now(), "chat": chat, "text": text}
        if sender:
            message["from"] = sender
        if sender_chat:
            message["sender_chat"] = sender_chat
        return message

    @staticmethod
    def _user(user_id: int, first_name: str) -> dict:
        return {"id": user_id, "is_bot": False, "first_name": first_name}

    def served_ids(self) -> list[int]:
        """update_id of every update handed out by getUpdates, repeats included."""
        with self.lock:
            return [item for entry in self.ledger for item in entry["served"]]

    # --- HTTP ---------------------------------------------------------------------------

    def method_of(self, path: str) -> str | None:
        parts = path.strip("/").split("/")
        if len(parts) == 2 and parts[0].startswith("bot"):
            return parts[1]
        return None

    def error_answer(self, method: str, params: dict, fault: Fault) -> Answer:
        return self._error(int(fault.value), **fault.extra)

    def _error(self, code: int, description: str | None = None, **parameters) -> Answer:
        body = {"ok": False, "error_code": code,
                "description": description or DESCRIPTIONS.get(code, "Error").format(**parameters)}
        if parameters:
            body["parameters"] = parameters
        return json_answer(body, status=code)

    def route(self, verb, path, params, headers, entry) -> Answer:
        method = self.method_of(path)
        if method is None:
            return self._error(404, "Not Found")
        token = path.strip("/").split("/")[0][3:]
        if token != self.token or self.revoked:
            return self._error(401)
        handler = getattr(self, f"_{method}", None)
        if handler is None:
            return self._error(404, "Not Found: method not found")
        return handler(params, entry)

    def _ok(self, result) -> Answer:
        return json_answer({"ok": True, "result": result})

    def _getMe(self, params, entry):  # noqa: N802 (Bot API method names)
        return self._ok({"id": self.bot_id, "is_bot": True, "first_name": "ЦУР",
                         "username": self.username, "can_join_groups": True,
                         "can_read_all_group_messages": True, "supports_inline_queries": False})

    def _getUpdates(self, params, entry):  # noqa: N802
        if self.webhook:
            return self._error(409)
        offset = int(params.get("offset") or 0)
        limit = min(int(params.get("limit") or 100), 100)
        allowed = json.loads(params["allowed_updates"]) if params.get("allowed_updates") else None
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), self.LONG_POLL_CAP)
        with self.changed:
            if offset:
                self.pending = [u for u in self.pending if u["update_id"] >= offset]
            while True:
                ready = [u for u in self.pending
                         if not allowed or any(k in allowed for k in u if k != "update_id")]
                remaining = deadline - time.monotonic()
                if ready or remaining <= 0 or self._server is None:
                    break
                self.changed.wait(remaining)
            ready = ready[:limit]
            entry["served"].extend(u["update_id"] for u in ready)
            return self._ok(ready)

    def _sendMessage(self, params, entry):  # noqa: N802
        text = params.get("text", "")
        if not text:
            return self._error(400, "Bad Request: message text is empty")
        if len(text) > MAX_TEXT:
            return self._error(400, "Bad Request: message is too long")
        chat_id = int(params["chat_id"])
        with self.lock:
            if not self._replied_exists(chat_id, params):
                return self._error(400, "Bad Request: message to be replied not found")
            self.sent.append(dict(params))
            chat = {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"}
            message = self._message(chat, text, sender={"id": self.bot_id, "is_bot": True,
                                                        "first_name": "ЦУР"})
        return self._ok(message)

    def _setWebhook(self, params, entry):  # noqa: N802
        with self.lock:
            self.webhook = dict(params)
        return self._ok(True)

    def _deleteWebhook(self, params, entry):  # noqa: N802
        with self.lock:
            self.webhook = None
            if params.get("drop_pending_updates") in ("true", "True", "1"):
                self.pending.clear()
        return self._ok(True)

    def _getWebhookInfo(self, params, entry):  # noqa: N802
        return self._ok({"url": (self.webhook or {}).get("url", ""), "has_custom_certificate": False,
                         "pending_update_count": len(self.pending)})
