"""One injectable clock: every operation reads time here once, tests freeze it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """An aware UTC datetime."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    """A clock that moves only when told to (tests, replay)."""

    def __init__(self, at: datetime):
        self.at = as_utc(at)

    def now(self) -> datetime:
        return self.at

    def set(self, at: datetime) -> None:
        self.at = as_utc(at)

    def advance(self, delta: timedelta) -> datetime:
        self.at += delta
        return self.at


def as_utc(moment: datetime) -> datetime:
    """Refuse naive datetimes: a time without a zone is a bug waiting for DST."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: a time zone is required")
    return moment.astimezone(UTC)


def parse_time(text: str) -> datetime:
    """Parse an ISO 8601 timestamp with an offset into aware UTC."""
    return as_utc(datetime.fromisoformat(text.replace("Z", "+00:00")))


def iso(moment: datetime | None) -> str | None:
    """The storage form of a moment: ISO 8601 in UTC."""
    return None if moment is None else as_utc(moment).isoformat()
