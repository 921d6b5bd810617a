"""The region's working calendar: zone, weekly hours, the Russian production calendar.

Deadlines of non-critical incidents run on working hours, so this module answers
"when has this much working time elapsed" in the region's own zone. It is pure: it
reads the holidays package and the arguments, never the clock; all results are UTC.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from types import MappingProxyType
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

__all__ = ["CHECKED_YEARS", "DEFAULT_HOURS", "RegionCalendar", "WorkingHours"]

# Years whose holidays.RU data the tests compare with the official production calendar.
# 2025 and 2026 are checked in full (working days per month, shortened days); for 2027
# only the holidays fixed by law are checked (see tests/test_calendar.py).
CHECKED_YEARS = (2025, 2026, 2027)

Span = tuple[datetime, datetime]
Pause = tuple[datetime, datetime | None]

ONE_DAY = timedelta(days=1)
_FAR = datetime.max.replace(tzinfo=UTC)  # the end of an open pause
_IDLE_LIMIT = 400  # days without working time before we call the hours broken
_SUBSTITUTED = re.compile(r"substituted from (\d{2})/(\d{2})/(\d{4})")


def _default_week() -> dict[int, tuple[time, time] | None]:
    day, friday = (time(9), time(18)), (time(9), time(16, 45))
    return {1: day, 2: day, 3: day, 4: day, 5: friday, 6: None, 7: None}


@dataclass(frozen=True)
class WorkingHours:
    """Local opening hours per ISO weekday (1 = Monday), None for a day off.

    `pre_holiday_cut` shortens the working day before a holiday (Labour Code art. 95);
    a transferred working day (a working Saturday) keeps the hours of
    `transferred_weekday`, the Monday whose day off it pays for.
    """

    week: Mapping[int, tuple[time, time] | None] = field(default_factory=_default_week, hash=False)
    pre_holiday_cut: timedelta = timedelta(hours=1)
    transferred_weekday: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "week", MappingProxyType(dict(self.week)))  # frozen means frozen
        if set(self.week) - set(range(1, 8)):
            raise ValueError(f"week keys must be ISO weekdays 1-7, got {sorted(self.week)}")
        for wd, span in self.week.items():
            if span is not None and not span[0] < span[1]:
                raise ValueError(f"weekday {wd}: start {span[0]} is not before end {span[1]}")
        if self.pre_holiday_cut < timedelta(0):
            raise ValueError("pre_holiday_cut must not be negative")

    def span(self, iso_weekday: int) -> tuple[time, time] | None:
        return self.week.get(iso_weekday)


DEFAULT_HOURS = WorkingHours()


class _Year(NamedTuple):
    off: frozenset[date]  # every day off holidays.RU lists, transfers included
    holidays: frozenset[date]  # non-working holidays of art. 112 (no transfers)
    moved_from: frozenset[date]  # "from" dates of transferred days off


@lru_cache(maxsize=32)
def _russian_year(year: int) -> _Year:
    """Read one year of holidays.RU; transfers are told apart by their English labels."""
    off, statutory, moved_from = set(), set(), set()
    for day, names in holidays.RU(years=year, language="en_US").items():
        off.add(day)
        for name in names.split("; "):
            if m := _SUBSTITUTED.search(name):
                moved_from.add(date(int(m[3]), int(m[1]), int(m[2])))
            elif "(observed)" not in name:
                statutory.add(day)
    return _Year(frozenset(off), frozenset(statutory), frozenset(moved_from))


def _aware(value: datetime, name: str) -> datetime:
    """Naive datetimes are refused: tsur stores UTC and a guess would shift deadlines."""
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
    return value.astimezone(UTC)


def _pauses(pauses: Iterable[Pause], since: datetime) -> list[Span]:
    """Sorted, merged pauses in UTC clipped to `since`; an open pause ends at _FAR."""
    spans = []
    for i, (begin, end) in enumerate(pauses):
        b = max(_aware(begin, f"pauses[{i}][0]"), since)
        e = _FAR if end is None else _aware(end, f"pauses[{i}][1]")
        if e > b:
            spans.append((b, e))
    merged: list[Span] = []
    for b, e in sorted(spans):
        if merged and b <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((b, e))
    return merged


def _subtract(spans: Iterable[Span], pauses: list[Span]) -> Iterator[Span]:
    """Free time: `spans` minus `pauses`; stops for good once an open pause has begun."""
    open_from = pauses[-1][0] if pauses and pauses[-1][1] == _FAR else None
    i = 0
    for s, e in spans:
        if open_from is not None and s >= open_from:
            return
        while i < len(pauses) and pauses[i][1] <= s:
            i += 1
        j = i
        while s < e:
            if j < len(pauses) and pauses[j][0] < e:
                if pauses[j][0] > s:
                    yield s, pauses[j][0]
                s = max(s, pauses[j][1])
                j += 1
            else:
                yield s, e
                break


def _consume(free: Iterable[Span], duration: timedelta) -> datetime | None:
    left = duration
    for s, e in free:
        if e - s >= left:
            return s + left
        left -= e - s
    return None


class RegionCalendar:
    """Russian production calendar and working hours in one region's time zone."""

    def __init__(
        self,
        tz: str,
        hours: WorkingHours = DEFAULT_HOURS,
        extra_holidays: Iterable[date] = (),
        extra_working_days: Iterable[date] = (),
    ) -> None:
        try:
            self.tz = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {tz!r}") from exc
        self.hours = hours
        self.extra_holidays = frozenset(extra_holidays)
        self.extra_working_days = frozenset(extra_working_days)
        if both := self.extra_holidays & self.extra_working_days:
            raise ValueError(f"days both extra holidays and working days: {sorted(both)}")

    def __repr__(self) -> str:
        return f"RegionCalendar({self.tz.key!r})"

    def _is_holiday(self, d: date) -> bool:
        """A non-working holiday (law or region), the kind that shortens the day before."""
        if d in self.extra_working_days:
            return False
        return d in self.extra_holidays or d in _russian_year(d.year).holidays

    def _is_transferred_working(self, d: date) -> bool:
        """A day off moved elsewhere, e.g. Sat 2025-11-01 -> Mon 2025-11-03. When the
        "from" date is a holiday itself (2026-01-03 -> 01-09) the holiday moved instead."""
        moved = any(d in _russian_year(y).moved_from for y in (d.year, d.year + 1, d.year - 1))
        return moved and d not in _russian_year(d.year).off

    def is_working_day(self, d: date) -> bool:
        if d in self.extra_working_days:
            return True
        if d in self.extra_holidays or d in _russian_year(d.year).off:
            return False
        return self._is_transferred_working(d) or self.hours.span(d.isoweekday()) is not None

    def is_pre_holiday(self, d: date) -> bool:
        """Art. 95: a working day right before a holiday is shorter. Like Mintrud, a working
        Saturday also is when its next working day comes after a holiday (2025-11-01), but
        a Friday before a Monday holiday is not (2026-02-20)."""
        if not self.is_working_day(d):
            return False
        if self._is_holiday(d + ONE_DAY):
            return True
        if self.hours.span(d.isoweekday()) is not None:
            return False
        nxt = d + ONE_DAY
        for _ in range(31):
            if self.is_working_day(nxt):
                return False
            if self._is_holiday(nxt):
                return True
            nxt += ONE_DAY
        return False

    def working_intervals(self, day: date) -> list[Span]:
        """The day's working time as (start, end) in UTC; empty on a day off."""
        if not self.is_working_day(day):
            return []
        span = self.hours.span(day.isoweekday()) or self.hours.span(self.hours.transferred_weekday)
        if span is None:
            return []
        start = datetime.combine(day, span[0], tzinfo=self.tz)
        end = datetime.combine(day, span[1], tzinfo=self.tz)
        if self.is_pre_holiday(day):
            end -= self.hours.pre_holiday_cut
        if end <= start:
            return []
        return [(start.astimezone(UTC), end.astimezone(UTC))]

    def _working_spans(self, since: datetime, until: datetime | None = None) -> Iterator[Span]:
        """Working spans from `since` on, walking whole days (never minute by minute)."""
        day = since.astimezone(self.tz).date()
        idle = 0
        while until is None or datetime.combine(day, time(), tzinfo=self.tz) < until:
            spans = self.working_intervals(day)
            for s, e in spans:
                if e > since:
                    yield max(s, since), e
            idle = 0 if spans else idle + 1
            if until is None and idle > _IDLE_LIMIT:
                raise ValueError(f"{self!r}: no working time for {_IDLE_LIMIT} days")
            day += ONE_DAY

    def add_working_time(
        self, start: datetime, duration: timedelta, pauses: Iterable[Pause] = ()
    ) -> datetime | None:
        """When `duration` of working time, minus pauses, has elapsed after `start` (UTC).

        None while an open pause (end None) holds the clock before the time is up.
        """
        since = _aware(start, "start")
        if duration < timedelta(0):
            raise ValueError(f"duration must not be negative, got {duration}")
        free = _subtract(self._working_spans(since), _pauses(pauses, since))
        return _consume(free, duration)

    def working_time_between(
        self, a: datetime, b: datetime, pauses: Iterable[Pause] = ()
    ) -> timedelta:
        """Working time from `a` to `b` minus pauses; negative when `b` is before `a`."""
        a, b = _aware(a, "a"), _aware(b, "b")
        if b < a:
            return -self.working_time_between(b, a, pauses)
        total = timedelta(0)
        for s, e in _subtract(self._working_spans(a, until=b), _pauses(pauses, a)):
            if s >= b:
                break
            total += min(e, b) - s
        return total

    def add_calendar_time(
        self, start: datetime, duration: timedelta, pauses: Iterable[Pause] = ()
    ) -> datetime | None:
        """Clock time minus pauses, for incidents that run round the clock (critical)."""
        since = _aware(start, "start")
        if duration < timedelta(0):
            raise ValueError(f"duration must not be negative, got {duration}")
        return _consume(_subtract([(since, _FAR)], _pauses(pauses, since)), duration)
