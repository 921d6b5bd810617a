"""Canned answers per topic (data/replies/canned.toml), filled with the incident's place.

An official starts a draft from one of them: {address} is the street and house found
in the resident's message, {municipality}, {organisation} and {incident} come from the
incident. A placeholder that cannot be filled stays visible («[адрес]») so that the
official notices and writes it in.
"""

from __future__ import annotations

import re
import string
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from nlp.labels import TOPICS
from nlp.streets import first_address

PLACEHOLDERS = {"address": "[адрес]", "municipality": "[муниципалитет]",
                "organisation": "[организация]", "incident": "[номер]"}


class CannedError(Exception):
    """The canned answers file cannot be used; the message says what to fix."""


@dataclass(frozen=True)
class Canned:
    key: str  # <topic>-<n>, stable for links
    topic: str
    title: str
    text: str


def path_of(settings) -> Path:
    return settings.data_dir / "replies" / "canned.toml"


@lru_cache(maxsize=8)
def _load(path: Path, mtime: float) -> dict[str, list[Canned]]:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise CannedError(f"{path}: {error}") from None
    out: dict[str, list[Canned]] = {}
    for topic, items in raw.items():
        if topic not in TOPICS:
            raise CannedError(f"{path}: unknown topic {topic!r}; expected one of {', '.join(TOPICS)}")
        if not isinstance(items, list):
            raise CannedError(f"{path}: {topic} must be an array of tables ([[{topic}]])")
        for n, item in enumerate(items, 1):
            title, text = item.get("title"), item.get("text")
            if not isinstance(title, str) or not isinstance(text, str) or not text.strip():
                raise CannedError(f"{path}: {topic} #{n} needs a title and a text")
            unknown = {f for _, f, _, _ in string.Formatter().parse(text) if f} - set(PLACEHOLDERS)
            if unknown:
                raise CannedError(f"{path}: {topic} #{n}: unknown placeholder "
                                  f"{', '.join(sorted(unknown))}; known: {', '.join(PLACEHOLDERS)}")
            out.setdefault(topic, []).append(Canned(f"{topic}-{n}", topic, title, text.strip()))
    return out


def load(settings) -> dict[str, list[Canned]]:
    """Every canned answer by topic; an absent file means none."""
    path = path_of(settings)
    if not path.exists():
        return {}
    return _load(path, path.stat().st_mtime)


def for_topic(settings, topic: str) -> list[Canned]:
    answers = load(settings)
    return answers.get(topic, []) + (answers.get("other", []) if topic != "other" else [])


# One-letter words that follow a house number: «Петрищева 18 в Дзержинске» is house 18,
# not 18в; a letter written apart and followed by a word is read as this word, not a letter.
SHORT_WORDS = frozenset("вксуоиа")


def address_in(text: str) -> str | None:
    """The first street and house named in the text, fit to quote: «Петрищева, 18»."""
    text = text or ""
    found = first_address(text)
    if not found:
        return None
    start = text.find(found)
    head, _, last = found.rpartition(" ")
    after = text[start + len(found):start + len(found) + 2] if start >= 0 else ""
    if head and last.lower() in SHORT_WORDS and after[:1] == " " and after[1:].isalpha():
        found = head  # «18 в» + «Дзержинске»: the preposition, not a letter of the house
    found = re.sub(r"^(?:на|по|у|около|возле|напротив)\s+", "", found, flags=re.IGNORECASE)
    found = re.sub(r"^улиц\w*", "ул.", re.sub(r"^проспект\w*", "пр-т", found))  # «улице» → «ул.»
    return re.sub(r"(?<![\w-])([А-ЯЁ][а-яё-]+)\s+(\d)", r"\1, \2", found)  # «Петрищева 18» → «Петрищева, 18»


def fill(canned: Canned, incident: dict) -> str:
    values = dict(PLACEHOLDERS)
    address = address_in(incident.get("text") or "")
    values.update({k: v for k, v in {
        "address": address, "municipality": incident.get("municipality"),
        "organisation": incident.get("organisation_name"),
        "incident": f"№ {incident['id']}" if incident.get("id") else None}.items() if v})
    return canned.text.format_map(values)
