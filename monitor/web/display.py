"""Names and formats for pages where the stored value is a code: model versions as their
date, channels and label names in Russian. Jinja globals (see app.templates)."""

from __future__ import annotations

import re

from monitor.titles import CHANNEL_TITLES, LABEL_NAME_TITLES

_VERSION_DATE = re.compile(r"(20\d\d)(\d\d)(\d\d)(?:\.(\d+))?")


def model_date(version: str | None) -> str:
    """«20261207.4» (or «kind=20261207.4,topic=…») → «от 07.12.2026»; the newest date wins."""
    found = sorted(_VERSION_DATE.findall(version or ""), reverse=True)
    if not found:
        return "без даты" if version else "—"
    year, month, day, _ = found[0]
    return f"от {day}.{month}.{year}"


def channel_title(channel: str | None) -> str:
    return CHANNEL_TITLES.get(channel or "", "сообщение")


def label_title(name: str | None) -> str:
    return LABEL_NAME_TITLES.get(name or "", "—")


GLOBALS = {"model_date": model_date, "channel_title": channel_title, "label_title": label_title}
