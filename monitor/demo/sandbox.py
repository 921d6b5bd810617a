"""The demo's platforms: one loopback server that answers as VK's and Telegram's APIs.

The demo's publisher sends approved replies here instead of to vk.ru and
api.telegram.org ([demo.sandbox] of data/demo/tsur.toml): the same wire format —
`wall.createComment` (form fields, `{"response": {"comment_id": …}}`, a repeated `guid`
gives back the same comment) and Bot API `sendMessage` (JSON, `{"ok": true, "result":
{"message_id": …}}`) — so a reply goes out, comes back accepted with a link and shows as
published, and nothing leaves the machine. GET / lists what was published.

Tokens are made up at start and handed to the demo's settings only; an unknown token
is refused as the platforms refuse it (VK error 5, Telegram 401).
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

from monitor.settings import Settings

POLL_INTERVAL = 0.05  # seconds between serve_forever polls: a stopped sandbox ends at once
BOT_TOKEN_ENV = "TSUR_TELEGRAM_BOT_TOKEN"


class Sandbox:
    """VK and Telegram on 127.0.0.1; `published` is the ledger of accepted replies."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.host, self.port = host, port
        self.published: list[dict] = []
        self.tokens: dict[str, str] = {}  # token -> the env var it stands for
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
        use: each organisation's VK community and Telegram bot, and the ЦУР's bot."""
        names = {BOT_TOKEN_ENV}
        for org in settings.organisations:
            names |= {org.vk_token_env, getattr(org, "telegram_token_env", None)} - {None}
        env = {"TSUR_VK_API_URL": f"{self.address}/vk/method",
               "TSUR_TELEGRAM_API_URL": f"{self.address}/telegram"}
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
                status, answer = sandbox.answer(self.path, body,
                                                self.headers.get("Content-Type") or "")
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

    def answer(self, path: str, body: str, content_type: str) -> tuple[int, dict]:
        if path.startswith("/vk/method/"):
            return 200, self._vk(path.rsplit("/", 1)[-1], dict(parse_qsl(body)))
        if path.startswith("/telegram/bot") and "/" in path[len("/telegram/bot"):]:
            token, _, method = path[len("/telegram/bot"):].partition("/")
            params = json.loads(body or "{}") if "json" in content_type else dict(parse_qsl(body))
            return self._telegram(token, method, params)
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
            self._record("VK", f"wall{params.get('owner_id')}_{params.get('post_id')}",
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
            self._record("Telegram", f"chat {chat_id}", params.get("text", ""), "bot")
        return 200, {"ok": True, "result": {
            "message_id": message_id, "date": int(time.time()), "text": params.get("text", ""),
            "chat": {"id": chat_id, "type": "supergroup" if chat_id < 0 else "private"}}}

    def _take_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _record(self, platform: str, where: str, text: str, account: str) -> None:
        self.published.append({"platform": platform, "where": where, "text": text,
                               "account": account, "at": time.time()})

    def page(self) -> str:
        items = "".join(f"<li><b>{escape(p['platform'])}</b> {escape(p['where'])} "
                        f"({escape(p['account'])}): {escape(p['text'])}</li>"
                        for p in reversed(self.published))
        return ("<!doctype html><meta charset=utf-8><title>Песочница площадок</title>"
                f"<h1>Опубликовано в песочнице: {len(self.published)}</h1><ul>{items}</ul>")


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
