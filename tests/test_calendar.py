"""Region calendar: the official production calendar and deadline arithmetic at the edges."""

from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest

from monitor.incidents.calendar import CHECKED_YEARS, RegionCalendar, WorkingHours

MSK = timezone(timedelta(hours=3))  # Europe/Moscow, region 52
YEKT = timezone(timedelta(hours=5))  # Asia/Yekaterinburg, region 86
H = timedelta(hours=1)


@pytest.fixture(scope="module")
def msk():
    return RegionCalendar("Europe/Moscow")


@pytest.fixture(scope="module")
def yekt():
    return RegionCalendar("Asia/Yekaterinburg")


def m(*args):
    """A moment in Moscow time."""
    return datetime(*args, tzinfo=MSK)


def days(year, month=None):
    d = date(year, month or 1, 1)
    while d.year == year and (month is None or d.month == month):
        yield d
        d += timedelta(days=1)


# --- the official production calendar (five-day week) -------------------------------

OFFICIAL_WORKING_DAYS = {
    2025: (17, 20, 21, 22, 18, 19, 23, 21, 22, 23, 19, 22),
    2026: (15, 19, 21, 22, 19, 21, 23, 21, 22, 22, 20, 22),
}
OFFICIAL_SHORT_DAYS = {
    2025: {date(2025, 3, 7), date(2025, 4, 30), date(2025, 6, 11), date(2025, 11, 1)},
    2026: {date(2026, 4, 30), date(2026, 5, 8), date(2026, 6, 11), date(2026, 11, 3)},
}


def test_checked_years():
    assert CHECKED_YEARS == (2025, 2026, 2027)


@pytest.mark.parametrize("year", sorted(OFFICIAL_WORKING_DAYS))
def test_working_days_per_month(msk, year):
    per_month = tuple(sum(map(msk.is_working_day, days(year, month))) for month in range(1, 13))
    assert per_month == OFFICIAL_WORKING_DAYS[year]
    assert sum(per_month) == 247


@pytest.mark.parametrize("year", sorted(OFFICIAL_SHORT_DAYS))
def test_pre_holiday_days_and_hour_norm(msk, year):
    short = {d for d in days(year) if msk.is_pre_holiday(d)}
    assert short == OFFICIAL_SHORT_DAYS[year]
    norm = sum(8 - msk.is_pre_holiday(d) for d in days(year) if msk.is_working_day(d))
    assert norm == 1972  # hours at a 40-hour week


@pytest.mark.parametrize("year", CHECKED_YEARS)
def test_new_year_holidays(msk, year):
    assert not any(msk.is_working_day(date(year, 1, d)) for d in range(1, 9))


def test_new_year_2026_and_the_moved_holiday(msk):
    # 2026-01-03 (Sat, a holiday) moved to Fri 01-09: a day off, not a working Saturday.
    assert not msk.is_working_day(date(2026, 1, 3))
    assert not msk.is_working_day(date(2026, 1, 9))
    assert not msk.is_working_day(date(2025, 12, 31))
    assert msk.is_working_day(date(2026, 1, 12))


def test_november_2025_transfer(msk):
    assert msk.is_working_day(date(2025, 11, 1))  # Saturday
    assert not msk.is_working_day(date(2025, 11, 3))  # Monday
    assert not msk.is_working_day(date(2025, 11, 4))


@pytest.mark.parametrize(
    "day",
    [
        date(2027, 2, 23),
        date(2027, 3, 8),
        date(2027, 5, 3),
        date(2027, 5, 10),
        date(2027, 6, 14),
        date(2027, 11, 4),
    ],
)
def test_2027_holidays_fixed_by_law(msk, day):
    # Art. 112: a holiday on a weekend moves to the next working day (May 1, 9, June 12).
    assert not msk.is_working_day(day)


@pytest.mark.parametrize(
    "day, hours",
    [
        (date(2025, 3, 7), (time(9), time(15, 45))),  # Friday before Sat 8 March
        (date(2025, 4, 30), (time(9), time(17))),
        (date(2025, 11, 1), (time(9), time(17))),  # working Saturday, Monday hours
        (date(2026, 5, 8), (time(9), time(15, 45))),  # Friday before Sat 9 May
        (date(2025, 5, 7), (time(9), time(18))),  # before a transferred day off: full
        (date(2025, 12, 30), (time(9), time(18))),
        (date(2026, 2, 20), (time(9), time(16, 45))),  # Friday before Mon 23 Feb: full
        (date(2025, 10, 18), None),  # ordinary Saturday
    ],
)
def test_working_intervals(msk, day, hours):
    expected = [] if hours is None else [tuple(datetime.combine(day, t, tzinfo=MSK) for t in hours)]
    assert msk.working_intervals(day) == expected
    for s, e in msk.working_intervals(day):
        assert s.tzinfo is UTC and e.tzinfo is UTC


# --- deadline arithmetic ------------------------------------------------------------

WORKING_CASES = [
    # Friday evening after hours -> Monday morning
    (m(2025, 10, 17, 19, 0), 1 * H, m(2025, 10, 20, 10, 0)),
    # 8 working hours from Friday 15:00: 1h45 on Friday, 6h15 on Monday
    (m(2025, 10, 17, 15, 0), 8 * H, m(2025, 10, 20, 15, 15)),
    # across the New Year holidays: 31 Dec 2025 to 11 Jan 2026 are days off
    (m(2025, 12, 30, 17, 0), 4 * H, m(2026, 1, 12, 12, 0)),
    # into the transferred working Saturday 2025-11-01 (09:00-17:00, shortened)
    (m(2025, 10, 31, 16, 0), 2 * H, m(2025, 11, 1, 10, 15)),
    # out of it, over 2-4 November
    (m(2025, 11, 1, 16, 30), 1 * H, m(2025, 11, 5, 9, 30)),
    # the pre-holiday day ends at 17:00, then 1-4 May are off
    (m(2025, 4, 30, 16, 30), 1 * H, m(2025, 5, 5, 9, 30)),
    # seven working days of 9 hours from a Monday morning (Friday is 7h45)
    (m(2025, 10, 20, 9, 0), 63 * H, m(2025, 10, 29, 10, 15)),
    # zero duration outside hours: the next working moment
    (m(2025, 10, 18, 12, 0), timedelta(0), m(2025, 10, 20, 9, 0)),
]


@pytest.mark.parametrize("start, duration, expected", WORKING_CASES)
def test_add_working_time(msk, start, duration, expected):
    due = msk.add_working_time(start, duration)
    assert due == expected
    assert due.tzinfo is UTC


@pytest.mark.parametrize("start, duration, expected", WORKING_CASES)
def test_working_time_between_inverts_add(msk, start, duration, expected):
    assert msk.working_time_between(start, expected) == duration
    assert msk.working_time_between(expected, start) == -duration


def test_same_instant_different_regions(msk, yekt):
    instant = datetime(2025, 10, 20, 13, 30, tzinfo=UTC)  # 16:30 MSK, 18:30 YEKT
    assert msk.add_working_time(instant, H) == m(2025, 10, 20, 17, 30)
    assert yekt.add_working_time(instant, H) == datetime(2025, 10, 21, 10, 0, tzinfo=YEKT)


PAUSE_CASES = [
    # paused from Friday noon to Monday 11:00: 2h on Friday, 6h from Monday 11:00
    (
        m(2025, 10, 17, 10, 0),
        8 * H,
        [(m(2025, 10, 17, 12), m(2025, 10, 20, 11))],
        m(2025, 10, 20, 17, 0),
    ),
    # a pause that began before the start and overlapping pauses
    (
        m(2025, 10, 20, 9, 0),
        2 * H,
        [
            (m(2025, 10, 19, 0), m(2025, 10, 20, 10)),
            (m(2025, 10, 20, 9, 30), m(2025, 10, 20, 10, 30)),
        ],
        m(2025, 10, 20, 12, 30),
    ),
    # still paused: no deadline
    (m(2025, 10, 17, 10, 0), 8 * H, [(m(2025, 10, 17, 12), None)], None),
    # paused only after the deadline had passed: the deadline stands
    (m(2025, 10, 17, 10, 0), 8 * H, [(m(2025, 10, 20, 16), None)], m(2025, 10, 20, 10, 15)),
]


@pytest.mark.parametrize("start, duration, pauses, expected", PAUSE_CASES)
def test_add_working_time_with_pauses(msk, start, duration, pauses, expected):
    assert msk.add_working_time(start, duration, pauses) == expected
    if expected is not None:
        assert msk.working_time_between(start, expected, pauses) == duration


CALENDAR_CASES = [
    (m(2025, 10, 17, 22, 0), 4 * H, [], m(2025, 10, 18, 2, 0)),
    (
        m(2025, 10, 17, 22, 0),
        4 * H,
        [(m(2025, 10, 17, 23), m(2025, 10, 18, 1, 30))],
        m(2025, 10, 18, 4, 30),
    ),
    (m(2025, 10, 17, 22, 0), 4 * H, [(m(2025, 10, 17, 23), None)], None),
    (m(2025, 10, 17, 22, 0), 1 * H, [(m(2025, 10, 17, 23), None)], m(2025, 10, 17, 23, 0)),
]


@pytest.mark.parametrize("start, duration, pauses, expected", CALENDAR_CASES)
def test_add_calendar_time(msk, start, duration, pauses, expected):
    assert msk.add_calendar_time(start, duration, pauses) == expected


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.add_working_time(datetime(2025, 10, 17, 15), H),
        lambda c: c.add_calendar_time(datetime(2025, 10, 17, 15), H),
        lambda c: c.working_time_between(m(2025, 10, 17, 15), datetime(2025, 10, 20)),
        lambda c: c.add_working_time(m(2025, 10, 17, 15), H, [(datetime(2025, 10, 17), None)]),
    ],
)
def test_naive_datetime_rejected(msk, call):
    with pytest.raises(ValueError, match="timezone-aware"):
        call(msk)


def test_negative_duration_rejected(msk):
    with pytest.raises(ValueError, match="negative"):
        msk.add_working_time(m(2025, 10, 17, 15), -H)


def test_walks_day_by_day():
    class Counting(RegionCalendar):
        calls = 0

        def working_intervals(self, day):
            Counting.calls += 1
            return super().working_intervals(day)

    cal = Counting("Europe/Moscow")
    assert cal.add_working_time(m(2025, 12, 25, 9), 63 * H) is not None
    assert Counting.calls < 40  # about a day per call, New Year included


def test_overrides_and_custom_hours():
    regional = date(2025, 10, 14)  # a Tuesday made a regional holiday
    sunday = date(2025, 10, 19)
    cal = RegionCalendar(
        "Asia/Yekaterinburg",
        hours=WorkingHours({d: (time(8), time(17)) for d in range(1, 6)}),
        extra_holidays=[regional],
        extra_working_days=[sunday],
    )
    assert not cal.is_working_day(regional)
    assert cal.working_intervals(date(2025, 10, 13)) == [  # the day before: an hour shorter
        (datetime(2025, 10, 13, 3, tzinfo=UTC), datetime(2025, 10, 13, 11, tzinfo=UTC))
    ]
    assert cal.is_working_day(sunday)
    assert cal.working_intervals(sunday) == [
        (datetime(2025, 10, 19, 3, tzinfo=UTC), datetime(2025, 10, 19, 12, tzinfo=UTC))
    ]
    with pytest.raises(ValueError, match="both"):
        RegionCalendar("Europe/Moscow", extra_holidays=[sunday], extra_working_days=[sunday])
    with pytest.raises(ValueError, match="time zone"):
        RegionCalendar("Mars/Olympus")
    with pytest.raises(ValueError, match="not before"):
        WorkingHours({1: (time(18), time(9))})


def test_working_hours_are_frozen():
    hours = WorkingHours()
    assert hours == WorkingHours() and hash(hours) == hash(WorkingHours())
    with pytest.raises(TypeError):
        hours.week[6] = (time(9), time(18))
