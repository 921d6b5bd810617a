"""Report values as a Russian office reads them: titles instead of stored keys, local
times as ДД.ММ.ГГГГ ЧЧ:ММ, days on chart axes as «4 дек», decimal commas.

The report tables keep the stored values (the JSON export and the dashboard's own logic
use them); the CSV and XLSX writers and the chart axes pass them through here. A column
says what its values are with a kind (`Table.kinds`): one of KINDS, or a grouping of
monitor.reports.metrics (the `group` column of a response-time table).
"""

from __future__ import annotations

from datetime import date, datetime

from monitor.titles import (
    CHANNEL_TITLES,
    KIND_TITLES,
    MEASURE_TITLES,
    STATUS_TITLES,
    TOPIC_TITLES,
    URGENCY_TITLES,
)

MONTHS_SHORT = ("янв", "фев", "мар", "апр", "мая", "июн", "июл", "авг", "сен", "окт", "ноя",
                "дек")
MONTHS = ("январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь",
          "октябрь", "ноябрь", "декабрь")
TITLES = {"topic": TOPIC_TITLES, "kind": KIND_TITLES, "urgency": URGENCY_TITLES,
          "status": STATUS_TITLES, "channel": CHANNEL_TITLES, "measure": MEASURE_TITLES}
KINDS = (*TITLES, "municipality", "moment", "day", "week", "month")


def short_day(value: str) -> str:
    """«2026-12-04» → «4 дек» (chart axes)."""
    day = date.fromisoformat(value)
    return f"{day.day} {MONTHS_SHORT[day.month - 1]}"


def week_start(value: str) -> date:
    """The Monday of a week as SQLite's %Y-W%W writes it («2026-W48»)."""
    return datetime.strptime(f"{value}-1", "%Y-W%W-%w").date()


def period(by: str, value: str, short: bool = False) -> str:
    """A day, week or month of a report for people; `short` for a chart axis."""
    if by == "day":
        return short_day(value) if short else date.fromisoformat(value).strftime("%d.%m.%Y")
    if by == "week":
        monday = week_start(value)
        return f"с {short_day(monday.isoformat())}" if short else \
            f"неделя с {monday.strftime('%d.%m.%Y')}"
    if by == "month":
        year, month = (int(part) for part in value.split("-"))
        return f"{MONTHS_SHORT[month - 1]} {year}" if short else f"{MONTHS[month - 1]} {year}"
    return value


def moment(value: str) -> str:
    """A stored local time with its offset → «04.12.2026 09:15» (no seconds, no offset)."""
    return datetime.fromisoformat(value).strftime("%d.%m.%Y %H:%M")


def value(kind: str | None, raw, municipalities: dict[str, str]):
    """One cell for people: a title for a key, a Russian date for a time; numbers and
    free text as they are (None: an empty cell)."""
    if raw is None or kind is None or not isinstance(raw, str):
        return raw
    if kind in TITLES:
        return TITLES[kind].get(raw, raw)
    if kind == "municipality":
        return municipalities.get(raw, raw)
    if kind == "moment":
        return moment(raw)
    if kind in ("day", "week", "month"):
        return period(kind, raw)
    return raw
