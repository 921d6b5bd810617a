"""The demo's platforms: one loopback server that answers as VK's, Telegram's, MAX's and
Одноклассники's APIs.

The demo's publisher sends approved replies here instead of to vk.ru, api.telegram.org,
the MAX Bot API and api.ok.ru ([demo.sandbox] of data/demo/tsur.toml), in the wire
format the senders of monitor.replies speak:
- VK `wall.createComment` (form fields, `{"response": {"comment_id": …}}`, a repeated
  `guid` gives back the same comment);
- Telegram Bot API `sendMessage` (JSON, `{"ok": true, "result": {"message_id": …}}`);
- MAX `POST /messages?chat_id=…` or `?user_id=…` (the token in `Authorization`, JSON
  `{"text", "link": {"type": "reply", "mid"}}`, `{"message": {"body": {"mid"}, …}}`;
  a dialog's chat is the user's id plus 10⁹, as in the demo's stream);
- OK `fb.do` `discussions.addDiscussionComment` (form fields signed with the
  application's secret key, `{"id": …}`) and the group Bot API `POST
  graph/me/messages/<chat>` (`{"success": true, "message_id": …}`).
So a reply goes out, comes back accepted with its id (and a link where the platform
gives one: a private MAX chat or dialog has none) and shows as published, and nothing
leaves the machine. GET / lists what was published. MAX and OK have no idempotency
key: a repeated request is a second message, as on the platforms.

Tokens and keys are made up at start and handed to the demo's settings only; an unknown
one is refused as the platforms refuse it (VK error 5, Telegram and MAX 401, OK errors
101, 104 and 102).
"""

from __future__ import annotations

import json
import secrets
import socket
import threading
import time
import tomllib
from dataclasses import replace
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl

from monitor.collectors.ok.signature import session_secret, signature
from monitor.replies import max_bot
from monitor.replies.publisher import KEYS
from monitor.replies.targets import BOT_TOKEN, MAX_TOKEN, OK_GROUP_TOKEN, OK_TOKEN
from monitor.settings import Settings

POLL_INTERVAL = 0.05  # seconds between serve_forever polls: a stopped sandbox ends at once
ACCOUNTS = (BOT_TOKEN, MAX_TOKEN, OK_TOKEN, OK_GROUP_TOKEN)  # the ЦУР's own, beside the orgs'
MAX_BOT_ID = 777000
MAX_DIALOG = 10**9  # a dialog's chat id: the user's id plus this, as in the demo's stream
OK_KEY, OK_SECRET = KEYS["ok"]


class Sandbox:
    """VK, Telegram, MAX and OK on 127.0.0.1; `published` is the ledger of accepted replies."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.host, self.port = host, port
        self.published: list[dict] = []
        self.tokens: dict[str, str] = {}  # token -> the env var it stands for
        self.ok_application = (f"SANDBOX{secrets.token_hex(4).upper()}", secrets.token_hex(12))
        self._guids: dict[str, int] = {}
        self._next_id = 5000
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # --- what the demo's settings need ---------------------------------------------------

    @property
    def address(self) -> str:
        return f"http://{self.host}:{self.port}"

    def environ(self, settings) -> dict[str, str]:
        """API URLs pointing here and a made-up token for every account the publisher may
        use: each organisation's VK community and Telegram bot, the ЦУР's Telegram and MAX
        bots, the OK group's session and Bot API token, and the OK application's keys."""
        names = set(ACCOUNTS)
        for org in settings.organisations:
            names |= {org.vk_token_env, getattr(org, "telegram_token_env", None)} - {None}
        env = {"TSUR_VK_API_URL": f"{self.address}/vk/method",
               "TSUR_TELEGRAM_API_URL": f"{self.address}/telegram",
               "TSUR_MAX_API_URL": f"{self.address}/max", "TSUR_OK_API_URL": f"{self.address}/ok",
               OK_KEY: self.ok_application[0], OK_SECRET: self.ok_application[1]}
        for name in sorted(names):
            token = f"sandbox-{secrets.token_hex(8)}"
            self.tokens[token] = name
            env[name] = token
        return env

    # --- the server -----------------------------------------------------------------------

    def start(self) -> Sandbox:
        sandbox = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive: the publisher's client reuses it

            def setup(self):
                super().setup()
                # Headers and body leave at once, not 40 ms apart (Nagle and delayed ACK).
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_POST(self):  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8")
                status, answer = sandbox.answer(self.path, body, self.headers)
                self._send(status, json.dumps(answer, ensure_ascii=False), "application/json")

            def do_GET(self):  # noqa: N802
                self._send(200, sandbox.page(), "text/html; charset=utf-8")

            def _send(self, status: int, text: str, content_type: str) -> None:
                data = text.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):  # the demo's console stays readable
                pass

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": POLL_INTERVAL},
                         name="demo-sandbox", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # --- the platforms --------------------------------------------------------------------

    def answer(self, path: str, body: str, headers) -> tuple[int, dict]:
        """(HTTP status, JSON answer) for one POST; `headers` as received (a mapping)."""
        path, _, query = path.partition("?")
        query = dict(parse_qsl(query))
        try:
            params = (json.loads(body or "{}") if "json" in (headers.get("Content-Type") or "")
                      else dict(parse_qsl(body)))
        except ValueError:
            params = None
        if not isinstance(params, dict):
            return 400, {"error": "the body is not a JSON object"}
        if path.startswith("/vk/method/"):
            return 200, self._vk(path.rsplit("/", 1)[-1], params)
        if path.startswith("/telegram/bot") and "/" in path[len("/telegram/bot"):]:
            token, _, method = path[len("/telegram/bot"):].partition("/")
            return self._telegram(token, method, params)
        if path == "/max/messages":
            return self._max(headers.get("Authorization"), query, params)
        if path == "/ok/fb.do":
            return 200, self._ok(params)
        if path.startswith("/ok/graph/me/messages/"):
            return 200, self._ok_chat(path.rsplit("/", 1)[-1], query.get("access_token"), params)
        return 404, {"error": "not found"}

    def _vk(self, method: str, params: dict) -> dict:
        if params.get("access_token") not in self.tokens:
            return {"error": {"error_code": 5, "error_msg": "User authorization failed: "
                              "invalid access_token (4).", "request_params": []}}
        if method != "wall.createComment":
            return {"error": {"error_code": 3, "error_msg": "Unknown method passed",
                              "request_params": []}}
        with self._lock:
            guid = params.get("guid")
            if guid and guid in self._guids:  # the same reply again: the same comment
                return {"response": {"comment_id": self._guids[guid], "parents_stack": []}}
            comment_id = self._take_id()
            if guid:
                self._guids[guid] = comment_id
            self._record("VK", comment_id, f"wall{params.get('owner_id')}_{params.get('post_id')}",
                         params.get("message", ""), f"club{params.get('from_group')}")
        stack = [int(params["reply_to_comment"])] if params.get("reply_to_comment") else []
        return {"response": {"comment_id": comment_id, "parents_stack": stack}}

    def _telegram(self, token: str, method: str, params: dict) -> tuple[int, dict]:
        if token not in self.tokens:
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        if method != "sendMessage":
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        chat_id = int(params.get("chat_id"))
        with self._lock:
            message_id = self._take_id()
            self._record("Telegram", message_id, f"chat {chat_id}", params.get("text", ""), "bot")
        return 200, {"ok": True, "result": {
            "message_id": message_id, "date": int(time.time()), "text": params.get("text", ""),
            "chat": {"id": chat_id, "type": "supergroup" if chat_id < 0 else "private"}}}

    def _max(self, token: str | None, query: dict, body: dict) -> tuple[int, dict]:
        if token is None or self.tokens.get(token) != MAX_TOKEN:
            return 401, {"code": "verify.token", "message": "Invalid access_token"}
        text = body.get("text")
        if not isinstance(text, str) or not text or len(text) > max_bot.MAX_TEXT:
            return 400, {"code": "bad.request",
                         "message": f"text: must be 1 to {max_bot.MAX_TEXT} characters"}
        try:
            user = int(query["user_id"]) if query.get("user_id") else None
            chat_id = user + MAX_DIALOG if user is not None else int(query["chat_id"])
        except (KeyError, ValueError):
            return 400, {"code": "bad.request", "message": "chat_id or user_id is required"}
        link = body.get("link") if isinstance(body.get("link"), dict) else {}
        where = f"dialog {user}" if user is not None else f"chat {chat_id}"
        if link.get("type") == "reply" and link.get("mid"):
            where += f", reply to {link['mid']}"
        with self._lock:
            seq = self._take_id()
            self._record("MAX", f"mid.{seq:016x}", where, text, "bot")
        message = {"sender": {"user_id": MAX_BOT_ID, "first_name": "ЦУР", "is_bot": True},
                   "recipient": {"chat_id": chat_id,
                                 "chat_type": "dialog" if user is not None else "chat"},
                   "timestamp": int(time.time() * 1000),
                   "body": {"mid": f"mid.{seq:016x}", "seq": seq, "text": text}}
        if link.get("mid"):
            message["link"] = {"type": "reply", "chat_id": chat_id,
                               "message": {"mid": str(link["mid"])}}
        return 200, {"message": message}

    def _ok(self, params: dict) -> dict:
        key, secret = self.ok_application
        token = params.get("access_token") or ""
        if params.get("application_key") != key:
            return _ok_error(101, "PARAM_API_KEY : Application key is invalid")
        if params.get("sig") != signature(params, session_secret(token, secret)):
            return _ok_error(104, "PARAM_SIGNATURE : Invalid signature")
        if self.tokens.get(token) != OK_TOKEN:
            return _ok_error(102, "PARAM_SESSION_EXPIRED : Session expired")
        if params.get("method") != "discussions.addDiscussionComment":
            return _ok_error(3, f"METHOD : Method {params.get('method')} does not exist")
        topic, text = params.get("entityId"), params.get("comment")
        if params.get("entityType") != "GROUP_TOPIC" or not topic or not text:
            return _ok_error(100, "PARAM : entityId, entityType or comment")
        reply = params.get("reply_to_comment_id")
        with self._lock:
            comment_id = str(self._take_id())
            self._record("Одноклассники", comment_id, f"topic {topic}" + (f", reply to {reply}" if reply else ""),
                         text, "group" if params.get("as_admin") == "true" else "user")
        return {"id": comment_id}

    def _ok_chat(self, chat: str, token: str | None, body: dict) -> dict:
        if token is None or self.tokens.get(token) != OK_GROUP_TOKEN:
            return _ok_error(102, "PARAM_SESSION_EXPIRED : Session expired")
        recipient, message = body.get("recipient"), body.get("message")
        text = message.get("text") if isinstance(message, dict) else None
        if not isinstance(recipient, dict) or recipient.get("chat_id") != chat or not text:
            return _ok_error(100, "PARAM : recipient or message")
        with self._lock:
            mid = f"mid:{chat.partition(':')[2]}.{self._take_id():x}"
            self._record("Одноклассники", mid, f"chat {chat}", str(text), "group")
        return {"success": True, "message_id": mid}

    def _take_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _record(self, platform: str, external_id, where: str, text: str, account: str) -> None:
        """One accepted reply in the ledger, with the id the platform answered."""
        self.published.append({"platform": platform, "id": str(external_id), "where": where,
                               "text": text, "account": account, "at": time.time()})

    def page(self) -> str:
        items = "".join(f"<li><b>{escape(p['platform'])}</b> {escape(p['where'])} "
                        f"№ {escape(p['id'])} ({escape(p['account'])}): {escape(p['text'])}</li>"
                        for p in reversed(self.published))
        return ("<!doctype html><meta charset=utf-8><title>Песочница площадок</title>"
                f"<h1>Опубликовано в песочнице: {len(self.published)}</h1><ul>{items}</ul>")


def _ok_error(code: int, message: str) -> dict:
    """OK's refusal: HTTP 200 with the error in the body."""
    return {"error_code": code, "error_msg": message, "error_data": None}


def configure(settings: Settings, sandbox: Sandbox) -> Settings:
    """The demo's settings with the publisher pointed at the sandbox: its URLs, a token
    for every account, and a token variable for each organisation's VK community."""
    organisations = tuple(
        replace(o, vk_token_env=o.vk_token_env or "TSUR_VK_TOKEN_" + o.key.upper().replace("-", "_"))
        if o.vk_group_id else o for o in settings.organisations)
    settings = replace(settings, organisations=organisations)
    return replace(settings, environ={**settings.environ, **sandbox.environ(settings)})


def from_config(path: Path | None) -> Sandbox | None:
    """The sandbox [demo.sandbox] of a tsur.toml asks for (None: the file asks for none,
    and the publisher talks to the real platforms)."""
    if not path or not Path(path).exists():
        return None
    raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    wanted = raw.get("demo", {}).get("sandbox")
    if not wanted:
        return None
    return Sandbox(wanted.get("host", "127.0.0.1"), int(wanted.get("port", 0)))
