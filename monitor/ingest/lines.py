"""JSON Lines in from outside, one record at a time: a bad line costs only itself.

Files given to `tsur replay` and `tsur classify` are hostile input: invalid UTF-8, JSON
nested a thousand deep, lone surrogates (`"\\ud800"`), numbers where text belongs. Each
line is read, decoded and parsed on its own; a bad one is reported with its number and
the reason, and the rest goes on. Text keeps every character it can: a lone surrogate,
which no encoder can write, becomes U+FFFD instead of dropping the message.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

_SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT = "\ufffd"


@dataclass(frozen=True)
class BadLine:
    line: int
    error: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.error}"


def without_surrogates(value):
    """The value with every lone surrogate in its strings (keys too) replaced by U+FFFD."""
    if isinstance(value, str):
        return _SURROGATE.sub(REPLACEMENT, value)
    if isinstance(value, dict):
        return {without_surrogates(k): without_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_surrogates(v) for v in value]
    return value


def records(lines: Iterable[bytes]) -> Iterator[tuple[int, dict | BadLine]]:
    """(line number, the JSON object or why the line is bad) per non-empty line."""
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            yield number, BadLine(number, f"not UTF-8 (byte {error.start + 1} of the line)")
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as error:
            yield number, BadLine(number, f"not valid JSON ({error.msg} at column {error.colno})")
            continue
        except RecursionError:
            yield number, BadLine(number, "JSON nested too deeply")
            continue
        if not isinstance(record, dict):
            yield number, BadLine(number, "expected a JSON object")
            continue
        yield number, without_surrogates(record)


def text_field(record: dict, name: str, *, required: bool = False) -> str | None:
    """A field that holds text: a string, or a number (ids arrive as numbers too)."""
    value = record.get(name)
    if value is None or value == "":
        if required:
            raise ValueError(f"missing field {name}")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"{name} must be text, not {type(value).__name__}")
    return str(value)
