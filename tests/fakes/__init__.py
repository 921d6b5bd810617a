"""Loopback fakes of the platforms: real HTTP servers on 127.0.0.1.

Tests reach them the way production reaches VK and Telegram (through
TSUR_VK_API_URL / TSUR_TELEGRAM_API_URL), never by mocking tsur's own functions.
Each fake keeps a ledger of what it served and takes injected faults.

This module holds what both fakes share: the threaded server and the faults.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

FAULT_KINDS = ("error", "status", "slow", "drop", "malformed")


POLL_INTERVAL = 0.05  # seconds between serve_forever polls: a stopped fake ends at once


@dataclass
class Fault:
    """One injected misbehaviour: `times` answers to `method` (None: until cleared).

    kinds: "error" (a platform error, `value` = code), "status" (HTTP status `value`
    with an HTML body, as a proxy in front of the API would answer), "slow" (sleep
    `value` seconds, then answer normally), "drop" (close the connection without an
    answer), "malformed" (answer 200 with a body that is not JSON).
    `match` narrows it to calls whose parameters include these values.
    """

    method: str
    kind: str
    value: Any = None
    times: int | None = 1
    match: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)

    def applies(self, method: str, params: dict) -> bool:
        if self.method not in ("*", method):
            return False
        return all(str(params.get(k)) == str(v) for k, v in self.match.items())


@dataclass
class Answer:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict = field(default_factory=dict)  # extra response headers (Retry-After)


def json_answer(data: Any, status: int = 200) -> Answer:
    """JSON in UTF-8; a string holding a lone surrogate (hostile tests) goes out as a
    \\uXXXX escape, as the platforms send one."""
    text = json.dumps(data, ensure_ascii=False)
    try:
        return Answer(status, text.encode("utf-8"))
    except UnicodeEncodeError:
        return Answer(status, json.dumps(data).encode("ascii"))


class LoopbackServer:
    """A ThreadingHTTPServer on 127.0.0.1:<free port> running in a daemon thread.

    Subclasses implement `route(http_method, path, params) -> Answer`.
    """

    name = "fake"

    def __init__(self):
        self.faults: list[Fault] = []
        self.ledger: list[dict] = []  # one entry per request answered (or dropped)
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------

    def start(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                self._serve("GET")

            def do_POST(self):
                self._serve("POST")

            def _serve(self, verb):
                url = urlsplit(self.path)
                params = dict(parse_qsl(url.query, keep_blank_values=True))
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                params.update(parse_body(self.headers.get("Content-Type", ""), body))
                answer = fake.handle(verb, url.path, params, dict(self.headers))
                if answer is None:  # dropped connection
                    self.close_connection = True
                    with contextlib.suppress(OSError):
                        self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.content_type)
                self.send_header("Content-Length", str(len(answer.body)))
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(answer.body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        # A short poll: shutdown() waits for the loop to notice, and hundreds of tests stop a fake.
        self._thread = threading.Thread(target=self._server.serve_forever, name=self.name,
                                        kwargs={"poll_interval": POLL_INTERVAL}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server:
            with self.changed:
                self.changed.notify_all()
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def address(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # --- faults ----------------------------------------------------------------------

    def inject(self, method: str, kind: str, value: Any = None, *, times: int | None = 1,
               extra: dict | None = None, **match) -> Fault:
        """Make the next `times` calls of `method` ("*" for any) misbehave."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {FAULT_KINDS}")
        fault = Fault(method, kind, value, times, match, extra or {})
        with self.lock:
            self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def take_fault(self, method: str, params: dict) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.applies(method, params):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self.faults.remove(fault)
                    return fault
        return None

    def handle(self, verb: str, path: str, params: dict, headers: dict) -> Answer | None:
        method = self.method_of(path)
        fault = self.take_fault(method, params) if method else None
        entry = {"method": method, "path": path, "params": params, "fault": None, "served": []}
        if fault is not None:
            entry["fault"] = (fault.kind, fault.value)
            if fault.kind == "slow":
                time.sleep(float(fault.value))
            elif fault.kind == "drop":
                self._record(entry)
                return None
            elif fault.kind == "malformed":
                self._record(entry)
                return Answer(200, b'{"response": {"items": [ <html>502 Bad Gateway', "application/json")
            elif fault.kind == "status":
                self._record(entry)
                return Answer(int(fault.value), b"<html><body>Bad Gateway</body></html>", "text/html")
            elif fault.kind == "error":
                self._record(entry)
                return self.error_answer(method, params, fault)
        answer = self.route(verb, path, params, headers, entry)
        self._record(entry)
        return answer

    def _record(self, entry: dict) -> None:
        with self.lock:
            self.ledger.append(entry)

    def calls(self, method: str | None = None) -> list[dict]:
        with self.lock:
            return [e for e in self.ledger if method is None or e["method"] == method]

    # --- for subclasses --------------------------------------------------------------

    def method_of(self, path: str) -> str | None:
        raise NotImplementedError

    def route(self, verb, path, params, headers, entry) -> Answer:
        raise NotImplementedError

    def error_answer(self, method: str, params: dict, fault: Fault) -> Answer:
        raise NotImplementedError


def parse_body(content_type: str, body: bytes) -> dict:
    """Form, JSON or multipart bodies, as vk_api (requests) and aiogram (aiohttp) send."""
    if not body:
        return {}
    if content_type.startswith("application/json"):
        data = json.loads(body.decode("utf-8"))
        return {k: v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}
    if content_type.startswith("multipart/form-data"):
        from email.parser import BytesParser
        from email.policy import HTTP

        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
        fields = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            fields[name] = part.get_payload(decode=True).decode("utf-8")
        return fields
    return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
