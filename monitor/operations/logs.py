"""The services' logs: one JSON object a line (`--log-format json`) or a short text line,
and never a secret or a session id, whoever logs.

Every record passes a filter that masks the values of the secret environment variables
(tokens, keys, passwords; whatever their names, as long as the name says so) and the
shapes secrets take in URLs and headers (a bot token in a Bot API path, an
access_token parameter, a session cookie). Libraries that log full request URLs at INFO
(httpx) are kept to warnings.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from datetime import UTC, datetime

FORMATS = ("text", "json")
MASK = "***"
SECRET_NAME = re.compile(r"TOKEN|SECRET|KEY|PASSWORD|CONFIRMATION", re.I)
PATTERNS = (
    (re.compile(r"(/bot)\d+:[\w-]+"), rf"\1{MASK}"),  # https://api.telegram.org/bot<token>/…
    (re.compile(r"((?:access_token|token|secret|password)=)[^&\s\"']+", re.I), rf"\1{MASK}"),
    (re.compile(r"(tsur_session=)[^;\s\"']+"), rf"\1{MASK}"),
    (re.compile(r"((?:X-Telegram-Bot-Api-Secret-Token|Authorization|Cookie)[\"']?\s*[:=]\s*[\"']?)"
                r"[^\s\"',}]+", re.I), rf"\1{MASK}"),
)
QUIET = ("httpx", "httpcore", "aiogram.event", "urllib3", "pymorphy3")

log = logging.getLogger("tsur")
_state = {"format": "text"}


def configure(fmt: str = "text", environ: dict | None = None, level: int = logging.INFO) -> None:
    """Send every logger's records to stderr in `fmt`, secrets masked."""
    _state["format"] = fmt
    handler = StderrHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(Redactor(environ))
    root = logging.getLogger()
    root.handlers[:] = [h for h in root.handlers if not isinstance(h, StderrHandler)] + [handler]
    root.setLevel(level)
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in ("tsur", "tsur.collect", "uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


def json_mode() -> bool:
    return _state["format"] == "json"


def event(name: str, level: int = logging.INFO, logger: logging.Logger = log, **fields) -> None:
    """One log record: an event name and its fields."""
    logger.log(level, name, extra={"fields": fields})


class StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a record comes (a test runner swaps it)."""

    def __init__(self):
        super().__init__()

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


class Redactor(logging.Filter):
    """Masks secret values in the message, its arguments, its fields and its traceback."""

    def __init__(self, environ: dict | None = None):
        super().__init__()
        environ = os.environ if environ is None else environ
        self.values = sorted({v for k, v in environ.items()
                              if SECRET_NAME.search(k) and v and len(v) >= 6}, key=len, reverse=True)

    def mask(self, text: str) -> str:
        for value in self.values:
            text = text.replace(value, MASK)
        for pattern, replacement in PATTERNS:
            text = pattern.sub(replacement, text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.mask(record.getMessage())
        record.args = None
        if getattr(record, "fields", None):
            record.fields = json.loads(self.mask(json.dumps(record.fields, ensure_ascii=False,
                                                            default=str)))
        if record.exc_info:
            record.exc_text = self.mask(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, event and its fields."""

    def format(self, record: logging.LogRecord) -> str:
        data = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                "level": record.levelname.lower(), "logger": record.name,
                "event": record.getMessage(), **getattr(record, "fields", {})}
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            data["exception"] = record.exc_text
        return json.dumps(data, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """`time level event key=value …` for a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(f"{k}={json.dumps(v, ensure_ascii=False, default=str)}"
                          for k, v in getattr(record, "fields", {}).items() if v is not None)
        line = f"{self.formatTime(record, '%H:%M:%S')} {record.levelname.lower():7} " \
               f"{record.getMessage()} {fields}".rstrip()
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        elif record.exc_text:
            line += "\n" + record.exc_text
        return line
